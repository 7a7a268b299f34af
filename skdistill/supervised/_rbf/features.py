"""The random-feature map of ``kernel="rbf"``: fitted on a pilot sample, then fixed.

``phi`` is scikit-learn's ``StandardScaler -> RBFSampler`` pipeline (random Fourier
features ``sqrt(2 / D) cos(x_s W + b)`` of the kernel ``exp(-gamma ||x_s - x_s'||^2)``
on standardised features ``x_s``), with ``gamma`` by default from the median
heuristic. The solvers see it through :func:`standardised_rbf_weights` and
:func:`lift`, which give the features and their phases as functions of the
standardised synthetic rows.
"""

import numpy as np
from sklearn.kernel_approximation import RBFSampler
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..._core.moments import moments_of_rows
from ..._core.standardise import homogenise
from ..._core.validation import check_squarable_moments

# Rows used to estimate the kernel's input scaling and the median-heuristic gamma.
N_PILOT = 1000


def median_heuristic_gamma(X):
    """``gamma = 1 / median_{i<j} ||x_i - x_j||^2`` over the rows of ``X``.

    The RBF kernel ``exp(-gamma ||x - x'||^2)`` then equals ``exp(-1)`` at the
    median squared distance between rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.supervised._rbf.features import median_heuristic_gamma
    >>> median_heuristic_gamma(np.array([[0.0], [1.0], [3.0]]))
    0.25
    """
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] < 2:
        raise ValueError("The median heuristic for gamma needs at least 2 rows.")
    D2 = euclidean_distances(X, squared=True)
    median = float(np.median(D2[np.triu_indices_from(D2, k=1)]))
    if not median > 0:
        raise ValueError(
            "The median squared distance between training rows is 0 (most sampled rows "
            "are identical), so the median heuristic cannot choose gamma; pass gamma "
            "explicitly."
        )
    return 1.0 / median


def make_feature_map(X_pilot, gamma, n_components, random_state):
    """Fitted ``StandardScaler -> RBFSampler`` pipeline, fitted on the rows ``X_pilot``.

    ``gamma=None`` applies :func:`median_heuristic_gamma` to the standardised
    pilot rows. Returns ``(feature_map, gamma)``.
    """
    X_pilot = np.asarray(X_pilot, dtype=np.float64)
    if gamma is None:
        gamma = median_heuristic_gamma(StandardScaler().fit_transform(X_pilot))
    feature_map = make_pipeline(
        StandardScaler(),
        RBFSampler(gamma=gamma, n_components=n_components, random_state=random_state),
    )
    return feature_map.fit(X_pilot), float(gamma)


def fit_feature_map(pilot, seed, *, n_features, gamma, n_components, feature_names=None):
    """The feature map of a stream, fitted on its pilot rows ``[X, Y]`` (a summary's hook).

    The pilot's columns are first checked to square in float64 (the training
    side's moments need it), then :func:`make_feature_map` is fitted on its
    ``X``, the sampler seeded from ``seed``. The pilot rows are not kept.
    """
    check_squarable_moments(moments_of_rows(pilot), pilot, n_features, feature_names)
    if gamma is None and pilot.shape[0] < 2:
        raise ValueError(
            "kernel='rbf' fits its feature map on a sample of the first rows it is given "
            "(the first chunk with rows of positive weight, for partial_fit), and the "
            f"median heuristic for gamma needs at least 2 of them; got {pilot.shape[0]}. "
            "Pass a larger first chunk, or gamma explicitly."
        )
    random_state = int(seed.generate_state(1)[0])
    feature_map, _ = make_feature_map(pilot[:, :n_features], gamma, n_components, random_state)
    return feature_map


def standardised_rbf_weights(feature_map, shift, scale):
    """Weights ``(W, b)`` of ``phi`` as a function of standardised ``x_s``.

    ``phi(x) = sqrt(2 / D) cos(x_s W + b)`` for ``x = x_s * scale + shift``: the
    pipeline's scaler and the sampler's ``random_weights_`` and ``random_offset_``
    folded into one affine map.
    """
    scaler, sampler = feature_map[0], feature_map[-1]
    weights = np.asarray(sampler.random_weights_, dtype=np.float64)
    W = (scale / scaler.scale_)[:, None] * weights
    b = sampler.random_offset_ + ((shift - scaler.mean_) / scaler.scale_) @ weights
    return W, b


def lift(Zs, W, b, fit_intercept=True):
    """Rows ``u = (phi(x_s), x_s, y_s[, 1])`` and the phase matrix ``x_s W + b``."""
    d, n_components = W.shape
    theta = Zs[:, :d] @ W + b
    U = np.hstack([np.sqrt(2.0 / n_components) * np.cos(theta), Zs])
    return (homogenise(U) if fit_intercept else U), theta
