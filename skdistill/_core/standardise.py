"""The standardiser: the one map from rows to the coordinates the solvers work in.

Solvers and certificates work on standardised rows, where every column has unit
spread, so that "unit-norm model" and "nearest point set" weigh every column alike.
Columns are centred at the training mean, or only scaled (to unit root mean square)
where centring would change the model family: every column without an intercept,
the reward of a Bellman loss. A column with no spread keeps the scale 1.

The whitener goes one step further for the linear loss matching: on top of the
standardiser it rotates and scales the rows so that their training covariance
(second moment without an intercept) is the identity on the data's numerical
range, where the loss matching is perfectly conditioned (the docs' guarantees page).
"""

from typing import NamedTuple

import numpy as np
from scipy import linalg

from .moments import second_moment_matrix


def column_scale(variance):
    """``sqrt(variance)``, clipped at 0, with 1 for columns of no spread."""
    scale = np.sqrt(np.clip(variance, 0.0, None))
    scale[scale == 0] = 1.0
    return scale


def homogenise(Z):
    """Rows ``[z, 1]``: the trailing 1 that carries an intercept."""
    return np.hstack([Z, np.ones((Z.shape[0], 1))])


class Standardiser(NamedTuple):
    """The affine map ``z -> (z - shift) / scale`` and its inverse.

    Attributes
    ----------
    shift : ndarray of shape (q,)
    scale : ndarray of shape (q,)
    """

    shift: np.ndarray
    scale: np.ndarray

    def transform(self, Z):
        """Standardised rows ``(Z - shift) / scale``."""
        return (Z - self.shift) / self.scale

    def inverse_transform(self, Zs):
        """Rows in the original units, ``Zs * scale + shift``."""
        return Zs * self.scale + self.shift

    def second_moment(self, moments, fit_intercept=True):
        """Second-moment matrix of the standardised rows ``((z - shift) / scale[, 1])``."""
        mean = (moments.mean - self.shift) / self.scale
        cov = moments.covariance / np.outer(self.scale, self.scale)
        return second_moment_matrix(mean, cov, fit_intercept)

    def take(self, index):
        """The standardiser of the columns ``index`` alone."""
        return Standardiser(self.shift[index], self.scale[index])


def stack(*parts):
    """One standardiser for side-by-side columns, from one per block of columns."""
    return Standardiser(
        np.concatenate([p.shift for p in parts]), np.concatenate([p.scale for p in parts])
    )


def identity(n_columns):
    """The standardiser that leaves ``n_columns`` columns as they are."""
    return Standardiser(np.zeros(n_columns), np.ones(n_columns))


def standardiser(moments, centre=True):
    """The standardiser of rows with the given training moments.

    Parameters
    ----------
    moments : Moments
        Training moments of the rows.
    centre : bool or ndarray of bool, shape (q,)
        Columns to centre at their mean and scale to unit variance; the others are
        only scaled, to unit root mean square. ``True`` for models with an
        intercept, ``False`` for homogeneous ones.
    """
    centre = np.broadcast_to(np.asarray(centre, dtype=bool), moments.mean.shape)
    shift = np.where(centre, moments.mean, 0.0)
    variance = np.diag(moments.covariance) + np.where(centre, 0.0, moments.mean**2)
    return Standardiser(shift, column_scale(variance))


class Whitener(NamedTuple):
    """The map ``z -> S^{+1/2} (z - shift) / scale`` and its inverse on the range of S.

    On standardised rows ``(z - shift) / scale`` with second moment (or covariance)
    ``S = basis diag(root^2) basis^T`` on its numerical range, the whitened rows have
    as second moment the projector onto that range: every direction the data spans
    counts alike. The symmetric root ``S^{+1/2}`` depends on ``S`` alone, not on
    the signs or the rotation of its eigenvectors within a repeated eigenvalue, so
    moments equal to rounding (``fit`` and ``partial_fit`` over the same rows) give
    whitened coordinates equal to rounding. :meth:`inverse_transform` drops what
    lies outside the range, putting it at the training value (zero in standardised
    units), which keeps rows in the data's affine hull.

    Attributes
    ----------
    shift : ndarray of shape (q,)
        The standardiser's shift: the training mean, or zeros without an intercept.
    scale : ndarray of shape (q,)
        The standardiser's column scale.
    basis : ndarray of shape (q, r)
        Orthonormal eigenvectors of the standardised ``S`` spanning its range.
    root : ndarray of shape (r,)
        Square roots of their eigenvalues.
    """

    shift: np.ndarray
    scale: np.ndarray
    basis: np.ndarray
    root: np.ndarray

    @property
    def rank(self):
        """Dimension ``r`` of the range: what the whitened rows span."""
        return self.root.shape[0]

    @property
    def inverse_root(self):
        """``S^{+1/2}``, shape (q, q)."""
        return (self.basis / self.root) @ self.basis.T

    @property
    def projector(self):
        """The projector onto the range, the whitened training second moment."""
        return self.basis @ self.basis.T

    def transform(self, Z):
        """Whitened rows, shape (m, q), in the range."""
        return ((Z - self.shift) / self.scale) @ self.inverse_root

    def inverse_transform(self, W):
        """Rows in the original units, shape (m, q), from whitened rows ``W`` (m, q)."""
        return (W @ ((self.basis * self.root) @ self.basis.T)) * self.scale + self.shift

    def second_moment(self, moments, fit_intercept=True):
        """Second-moment matrix of the whitened rows ``(transform(z)[, 1])``.

        The projector onto the range (with a trailing 1) for the training moments,
        to rounding.
        """
        T = self.inverse_root / self.scale
        mean = T @ (moments.mean - self.shift)
        cov = T @ moments.covariance @ T.T
        return second_moment_matrix(mean, cov, fit_intercept)

    def standardise_models(self, V):
        """Models ``V`` (k, q[+1]) of whitened rows as models of standardised rows.

        Returns the ``U`` (k, q[+1]) with ``U . ((z - shift) / scale[, 1]) =
        V . (transform(z)[, 1])`` for every row ``z``: the same predictions, in the
        standardiser's coordinates. Trailing columns past ``q`` (the intercept)
        are kept as they are.
        """
        q = self.basis.shape[0]
        return np.hstack([V[:, :q] @ self.inverse_root, V[:, q:]])


# Relative size of the rounding in a second moment summed in float64 over many rows
# (blocks of tens of thousands of rows, merged chunk by chunk): eigenvalues below
# it times the largest are rounding, and the directions they belong to are null.
RESOLUTION = 1e4 * np.finfo(np.float64).eps


def numerical_range(values, top=None):
    """Which eigenvalues of a symmetric PSD matrix are resolved: above RESOLUTION times the top.

    Below that an eigenvalue is rounding, whatever its sign; the one rule for the
    range of a covariance (closed-form match, whitening) and of a training moment
    (certificate). ``top`` defaults to the largest of ``values``.
    """
    top = values.max(initial=0.0) if top is None else top
    return values > top * RESOLUTION


def whitener(moments, fit_intercept=True, rtol=None):
    """The whitener of rows with the given training moments.

    Parameters
    ----------
    moments : Moments
        Training moments of the rows.
    fit_intercept : bool, default=True
        Whiten the covariance of the rows centred at their mean (models with an
        intercept), or their uncentred second moment (homogeneous models).
    rtol : float or None, default=None
        Eigenvalues of the column-standardised matrix ``S`` up to ``rtol`` times
        the largest eigenvalue of the homogenised second moment (``S`` with a
        trailing 1 with an intercept) are dropped with their directions; no
        float64 data resolves them. Standardising first makes the cut-off
        independent of the columns' units. ``None`` uses :data:`RESOLUTION`.

    Returns
    -------
    Whitener
        With the shift and scale of ``standardiser(moments, fit_intercept)``.
    """
    base = standardiser(moments, fit_intercept)
    # The standardised rows' covariance, or their second moment: shift is mean or 0.
    S = base.second_moment(moments, fit_intercept=False)
    eigval, eigvec = linalg.eigh((S + S.T) / 2)
    top = np.max(eigval, initial=float(fit_intercept))
    keep = numerical_range(eigval, top) if rtol is None else eigval > rtol * top
    keep &= eigval > 0
    return Whitener(base.shift, base.scale, eigvec[:, keep], np.sqrt(eigval[keep]))
