"""Certificates: how far a synthetic set's linear losses can be from the training set's.

The loss of a linear model ``v`` on a row set is ``v^T M v`` with ``M`` the
second-moment matrix of the homogenised rows, so the worst gap over unit-norm
models is the spectral norm ``||M_syn - M_train||_2``. Both matrices are taken in
the training set's standardised coordinates, where unit norm treats every column
alike.
"""

from typing import NamedTuple

import numpy as np
from scipy import linalg


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
        :func:`loss_gap` over every model of the family.
    linear_loss_gap : float
        :func:`loss_gap` over the linear models of ``(x, y)`` alone.
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
    block = (linear_block, linear_block)
    return Certificate(
        loss_gap(M_syn, M_train),
        loss_gap(M_syn[block], M_train[block]),
        heldout_loss_gap(V_check, M_syn, M_train),
    )
