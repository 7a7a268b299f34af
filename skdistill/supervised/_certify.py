"""The certifier of a supervised synthetic set, from the rows as the user receives them.

Independent of the solver: it casts the rows to the dtypes they are returned in,
recomputes their weighted second moment in the family's coordinates, compares it
with the training one (:func:`~skdistill._core.certificate.certify`), and warns
where an exact match was due but the certificate is above rounding level.
"""

import warnings

import numpy as np

from .._core.certificate import certify, multiplicative_gap, rounding_level
from .._core.standardise import RESOLUTION


def as_returned(Z, n_features, dtypes):
    """The rows ``[X, Y]`` as the user receives them: each part cast to its dtype."""
    x_dtype, y_dtype = dtypes
    return np.hstack(
        [Z[:, :n_features].astype(x_dtype), Z[:, n_features:].astype(y_dtype)]
    ).astype(np.float64)


def warn_if_inexact(gap, solver, n_iter, moments, dtypes):
    """Warn where an exact match was due but the certificate is above rounding level."""
    spread = np.sqrt(np.clip(np.diag(moments.covariance), 0.0, None))
    tol = max(rounding_level(moments.mean, spread, dtype) for dtype in dtypes)
    if gap <= tol:
        return
    if solver == "lbfgs":
        why = (
            f"L-BFGS stopped after {n_iter} iterations short of it; use solver='exact', "
            "or raise max_iter"
        )
    else:
        why = (
            "the rounding of the returned dtype or an ill-conditioned training covariance "
            "limits it"
        )
    warnings.warn(
        f"The synthetic set does not match the training losses exactly: every linear "
        f"model's loss on it is only certified within a factor 1 +- {gap:.3g} of its "
        f"training loss, where solver={solver!r} should reach rounding level "
        f"({tol:.1g}); {why}.",
        UserWarning,
    )


def certify_rows(family, Z, sample_weight, V_check):
    """The :class:`~skdistill._core.certificate.Certificate` of rows ``Z`` of a family.

    For homogeneous models (``family.centred``) the uncentred second moment
    ``covariance + mean mean^T`` loses, in float64, the spread of columns whose
    means are large, and a gap computed from it could understate the truth. The
    gap over the models with an intercept, which contain the homogeneous ones, is
    an upper bound computed from centred moments; the direct gap, plus its
    rounding error (``eps`` times the condition number), is used instead where
    it is smaller and float64 resolves every direction of the uncentred moment.
    """
    M_syn = family.second_moment(Z, sample_weight)
    certificate = certify(M_syn, family.M_train, V_check, family.linear_block)
    if family.centred is not None:
        centred = family.centred
        gap = multiplicative_gap(centred.second_moment(Z, sample_weight), centred.M_train)
        values = np.linalg.eigvalsh(family.M_train)
        condition = values.max() / values.min() if values.min() > 0 else np.inf
        if condition * RESOLUTION < 1:
            rounding = 10 * len(values) * np.finfo(np.float64).eps * condition
            gap = min(gap, certificate.loss_gap + rounding)
        certificate = certificate._replace(loss_gap=gap, linear_loss_gap=gap)
    return certificate
