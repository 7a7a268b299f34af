"""What the solvers of a model family share: their options and what they return."""

from typing import NamedTuple

import numpy as np


class SolverOptions(NamedTuple):
    """The estimator's parameters that the solvers read."""

    n_regressors: object
    sampling: str
    max_iter: int
    tol: float
    n_jobs: object
    verbose: int
    n_threads: int = 1  # the BLAS thread budget of the caller, for BLAS-like solver passes
    n_synthetic: int | None = None  # rows to return, for a solver that chooses among Z0


class Solution(NamedTuple):
    """What a solver returns: the synthetic rows and how they were found.

    Attributes
    ----------
    Z : ndarray of shape (m, q)
        Synthetic rows ``(x, y)``, in the training units.
    n_iter : int
        L-BFGS iterations (0 for a closed form).
    regressors : ndarray of shape (k, p) or None
        The random regressors matched, or None when none were sampled.
    sampled_dims : int
        Dimension of the coordinates the regressors were drawn in (the rank of
        the training rows when whitened), which their number must pin down.
    sample_weight : ndarray of shape (m,) or None
        Weights of the rows, for a solver that weighs real rows
        (``"reweight"``); None for the solvers that move rows, whose rows weigh
        alike.
    calibrated : bool or None
        For ``"reweight"``: whether the weights meet the moment constraints.
    """

    Z: np.ndarray
    n_iter: int = 0
    regressors: np.ndarray = None
    sampled_dims: int = 0
    sample_weight: np.ndarray = None
    calibrated: bool = None

    @property
    def n_regressors(self):
        """Number of regressors matched."""
        return 0 if self.regressors is None else self.regressors.shape[0]
