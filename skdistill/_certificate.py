"""Certificates: how far a synthetic set's linear losses can be from the training set's.

The loss of a linear model ``v`` on a row set is ``v^T M v`` with ``M`` the
second-moment matrix of the homogenised rows, so the worst gap over unit-norm
models is the spectral norm ``||M_syn - M_train||_2``. Both matrices are taken in
the training set's standardised coordinates, where unit norm treats every column
alike.
"""

import numpy as np
from scipy import linalg

from ._moments import second_moment_matrix


def standardiser(moments, fit_intercept=True):
    """``(shift, scale)`` that standardise rows using the training moments.

    With an intercept, rows are centred and scaled to unit variance; without one
    only scaled (to unit root mean square), since centring would change the
    homogeneous model family.
    """
    cov = moments.covariance
    if fit_intercept:
        shift = moments.mean
        var = np.diag(cov)
    else:
        shift = np.zeros_like(moments.mean)
        var = np.diag(cov) + moments.mean**2
    scale = np.sqrt(np.clip(var, 0.0, None))
    scale[scale == 0] = 1.0
    return shift, scale


def standardised_second_moment(moments, shift, scale, fit_intercept=True):
    """Second-moment matrix of ``((z - shift) / scale, 1)`` from raw moments."""
    mean = (moments.mean - shift) / scale
    cov = moments.covariance / np.outer(scale, scale)
    return second_moment_matrix(mean, cov, fit_intercept)


def loss_gap(M_syn, M_train):
    """Relative worst-case loss gap ``||M_syn - M_train||_2 / ||M_train||_2``.

    Both matrices are symmetric, so the norms are the largest absolute
    eigenvalues, which ``eigvalsh`` finds in half the time of an SVD.
    """
    gap = np.abs(linalg.eigvalsh(M_syn - M_train)).max()
    return float(gap / np.abs(linalg.eigvalsh(M_train)).max())


def model_losses(V, M):
    """Losses ``v_j^T M v_j`` of the models in the rows of V, in O(k q^2)."""
    return np.einsum("jq,jq->j", V @ M, V)


def heldout_loss_gap(V, M_syn, M_train):
    """Largest relative loss error ``|v^T (M_syn - M_train) v| / v^T M_train v`` over V."""
    train = model_losses(V, M_train)
    diff = model_losses(V, M_syn - M_train)
    return float(np.max(np.abs(diff) / np.maximum(train, np.finfo(float).tiny)))
