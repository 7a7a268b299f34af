"""Certificates: how far a synthetic set's linear losses can be from the training set's.

The loss of a linear model ``v`` on a row set is ``v^T M v`` with ``M`` the
second-moment matrix of the homogenised rows. The certificate is multiplicative:

    eps = max_v |v^T M_syn v / v^T M_train v - 1|
        = || M_train^{-1/2} (M_syn - M_train) M_train^{-1/2} ||_2,

so every linear model's loss on the synthetic set is within a factor ``1 +- eps`` of
its loss on the training set, and the model fitted on the synthetic set has a
training loss at most ``(1 + eps) / (1 - eps)`` times the best one (for
``eps < 1``). The ratio does not depend on the coordinates; the matrices are taken
in the training set's standardised ones, where they are best conditioned.
"""

from typing import NamedTuple

import numpy as np
from scipy import linalg

from .standardise import RESOLUTION, numerical_range


def multiplicative_gap(M_syn, M_train):
    """``max_v |v^T M_syn v / v^T M_train v - 1|``, the multiplicative loss gap.

    ``M_train`` may be singular: the ratio is taken over models of positive
    training loss, and it is infinite if some model has zero training loss but a
    positive synthetic one (``M_syn`` does not vanish on the null space of
    ``M_train``). Directions whose training loss is below
    :data:`~skdistill._core.standardise.RESOLUTION` times the largest count as null: a
    second moment summed in float64 over many rows does not resolve them (an
    exactly collinear column is null, not a direction of rounding-size loss).

    Parameters
    ----------
    M_syn, M_train : ndarray of shape (p, p)
        Symmetric positive semi-definite second-moment matrices.

    Returns
    -------
    eps : float
    """
    values, vectors = linalg.eigh(M_train)
    top = values.max(initial=0.0)
    if not top > 0:
        return 0.0 if not np.abs(M_syn).max(initial=0.0) > 0 else np.inf
    cutoff = top * RESOLUTION
    live = numerical_range(values)
    null = vectors[:, ~live]
    if null.size and np.abs(linalg.eigvalsh(null.T @ M_syn @ null)).max() > cutoff:
        return np.inf
    root = vectors[:, live] / np.sqrt(values[live])
    return float(np.abs(linalg.eigvalsh(root.T @ (M_syn - M_train) @ root)).max())


def rounding_level(mean, spread, dtype):
    """The certificate below which a set stored in ``dtype`` cannot be told from exact.

    A value ``x`` is stored to ``eps |x|``, so a column of mean ``mu`` and spread
    ``sigma`` carries a relative error of ``eps |mu| / sigma`` in its deviations:
    the threshold is that, with a margin, over the columns, and at least
    ``sqrt(eps)``.
    """
    eps = np.finfo(dtype).eps
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(spread > 0, np.abs(mean) / spread, 0.0)
    return float(max(np.sqrt(eps), 100 * eps * (1.0 + ratio.max(initial=0.0))))


def model_losses(V, M):
    """Losses ``v_j^T M v_j`` of the models in the rows of V, in O(k q^2)."""
    return np.einsum("jq,jq->j", V @ M, V)


def relative_error(difference, reference):
    """Largest ``|difference| / reference`` over models (losses ``reference`` >= 0)."""
    return float(np.max(np.abs(difference) / np.maximum(reference, np.finfo(float).tiny)))


def heldout_loss_gap(V, M_syn, M_train):
    """Largest relative loss error ``|v^T (M_syn - M_train) v| / v^T M_train v`` over V."""
    return relative_error(model_losses(V, M_syn - M_train), model_losses(V, M_train))


class Certificate(NamedTuple):
    """How far a synthetic set's losses are from the training set's.

    Attributes
    ----------
    loss_gap : float
        :func:`multiplicative_gap` over every model of the family.
    linear_loss_gap : float
        :func:`multiplicative_gap` over the linear models of ``(x, y)`` alone.
    heldout_loss_gap : float
        :func:`heldout_loss_gap` on fresh random models.
    """

    loss_gap: float
    linear_loss_gap: float
    heldout_loss_gap: float


def certify(M_syn, M_train, V_check, linear_block=slice(None)):
    """The certificate of a synthetic set from its second moment and the training one.

    ``linear_block`` indexes the coordinates of the linear models within the
    family's (all of them for a linear family).
    """
    gap = multiplicative_gap(M_syn, M_train)
    if linear_block != slice(None):
        block = (linear_block, linear_block)
        linear_gap = multiplicative_gap(M_syn[block], M_train[block])
    else:  # a linear family: its models are the linear ones
        linear_gap = gap
    return Certificate(gap, linear_gap, heldout_loss_gap(V_check, M_syn, M_train))
