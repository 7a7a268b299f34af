"""Certificates of the transitions a Bellman distiller returns, whatever its solver."""

from typing import NamedTuple

import numpy as np

from .._core.certificate import relative_error
from ._bellman import decomposable_loss_gap, pack_rows
from ._solvers import random_predictors, transition_losses

# Held-out random predictors for ``heldout_loss_gap_``.
N_CHECK = 200


class TransitionCertificate(NamedTuple):
    """Loss gaps of returned transitions.

    Attributes
    ----------
    loss_gap : float
        Multiplicative gap over every decomposable linear Q-predictor.
    heldout_loss_gap : float
        Largest relative Bellman-loss error on :data:`N_CHECK` fresh predictors.
    predictors : tuple (W, lam)
        The held-out predictors, in standardised coordinates.
    """

    loss_gap: float
    heldout_loss_gap: float
    predictors: tuple


def certify_transitions(problem, train, returned, classes, check_seed, n_jobs=None):
    """Certify the transitions ``returned`` (as the user receives them) against ``train``.

    Parameters
    ----------
    problem : BellmanProblem
        The training transitions, standardised for the predictors.
    train : tuple (S, a, r, S2, t, w)
        The training transitions, ``a`` as action indices.
    returned : Transitions
        The synthetic transitions, with action labels among ``classes``.
    classes : ndarray
        The action labels.
    check_seed : numpy.random.SeedSequence
        Seeds the held-out predictors.
    n_jobs : int or None
        Threads for the predictors' training losses.

    Returns
    -------
    TransitionCertificate
    """
    W, lam, L_train = random_predictors(problem, N_CHECK, check_seed, n_jobs=n_jobs)
    Z = pack_rows(returned.observations, returned.rewards, returned.next_observations)
    a = np.searchsorted(classes, returned.actions)
    t, w = returned.terminals, returned.sample_weight
    L_syn = transition_losses(problem, W, lam, problem.standardiser.transform(Z), a, t, w)
    return TransitionCertificate(
        decomposable_loss_gap(train, (Z, a, t, w), problem.n_actions),
        relative_error(L_syn - L_train, L_train),
        (W, lam),
    )
