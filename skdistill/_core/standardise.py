"""The standardiser: the one map from rows to the coordinates the solvers work in.

Solvers and certificates work on standardised rows, where every column has unit
spread, so that "unit-norm model" and "nearest point set" weigh every column alike.
Columns are centred at the training mean, or only scaled (to unit root mean square)
where centring would change the model family: every column without an intercept,
the reward of a Bellman loss. A column with no spread keeps the scale 1.
"""

from typing import NamedTuple

import numpy as np

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
