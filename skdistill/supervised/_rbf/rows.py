"""Real rows for ``kernel="rbf"``: herded training rows with non-negative weights.

The rows ``z_i`` lifted to ``u_i = (phi(x_s), x_s, y_s[, 1])`` and weighted by
fractions ``t_i`` have the expected squared loss mismatch (see :mod:`.objective`)

    ``2 ||sum_i t_i u_i u_i^T - M||_F^2 + (sum_i t_i ||u_i||^2 - tr M)^2``,

a quadratic ``t^T H t - 2 g^T t + c`` with ``H = 2 (K o K) + s s^T``,
``K = U U^T``, ``s = diag K`` and ``g = 2 diag(U M U^T) + tr(M) s``: the random-feature
loss gap as a kernel discrepancy under the meta-kernel ``2 k(u, u')^2 + k(u, u)
k(u', u')`` (DESIGN.md section 7). Real rows are chosen and weighted in five
steps, none of which moves a row:

1. the candidates are the reservoir's pool of ``10 m + 1000`` rows drawn from every
   chunk; of them, the half whose labels lie closest to the random-feature ridge
   regression of ``y`` on ``(phi(x), x)`` (:func:`label_residuals`, fitted to the
   training moments) are kept: rows with less label noise, which every learner
   measured gains from (the benchmarks page);
2. kernel herding of the joint distribution of ``(x, 2 y)`` (an RBF kernel on the
   standardised rows) picks ``m`` of those, tracking the mean of the whole pool.
   (Herding under the meta-kernel itself was measured too: it matches the moments
   better but picks extreme rows, and tree ensembles and SVR trained on them did
   worse than on random rows.)
3. non-negative least squares on the quadratic above gives them the weights of
   least mismatch, tied to uniform by a chi-square term (:data:`PROXIMITY`);
4. calibration (:func:`~skdistill._core.reweight.calibrate`) from those weights makes
   the mean and covariance of ``(x, y)`` exact where the rows allow it (rows of less
   label noise have less variance of ``y`` than the training rows, so it often
   cannot: ``linear_loss_gap_`` says how far);
5. of the calibrated, the least-mismatch and uniform weights, the first of least
   certified gap (the ``loss_gap_`` of the certifier) is kept: weights that fit the
   mismatch on average can still raise the worst case, in directions of little
   training loss.
"""

import numpy as np
from scipy import linalg, optimize
from sklearn.kernel_approximation import RBFSampler

from ..._core.certificate import multiplicative_gap
from ..._core.herding import herd
from ..._core.reweight import calibrate
from ..._core.ridge import ridge_from_moments
from .._family import Solution
from .features import lift, median_heuristic_gamma
from .objective import expected_mismatch

# Weight of the chi-square proximity to uniform weights, relative to the mismatch of
# the empty set (``expected_mismatch(M_train)``): it keeps the weights near uniform.
# (On the benchmark's datasets, 2 seeds, m = 100 and 300, the RF/HGB median ratio to a
# random subset was 0.944 with 0.1, 0.954 with 1e-3 and 0.934 with uniform weights:
# the weights neither helped trees nor, at this strength, cost them much.)
PROXIMITY = 0.1
# Random Fourier features of the joint kernel that herding tracks the mean of.
N_HERDING_FEATURES = 1024
# Smallest base weight, as a fraction of uniform, that calibration starts from.
FLOOR = 1e-3
# Fraction of the candidates, those of least label residual, that herding chooses from.
QUIET_FRACTION = 0.5


def meta_quadratic(U, M_train):
    """``(H, g, c)`` of the mismatch ``t^T H t - 2 g^T t + c`` of the lifted rows ``U``.

    Parameters
    ----------
    U : ndarray of shape (n, p)
        Lifted rows ``u_i``.
    M_train : ndarray of shape (p, p)

    Returns
    -------
    H : ndarray of shape (n, n)
    g : ndarray of shape (n,)
    c : float
        ``expected_mismatch(M_train)``, the value at ``t = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.supervised._rbf.objective import expected_mismatch
    >>> from skdistill.supervised._rbf.rows import meta_quadratic
    >>> U = np.random.default_rng(0).normal(size=(5, 3))
    >>> M, t = np.eye(3), np.full(5, 0.2)
    >>> H, g, c = meta_quadratic(U, M)
    >>> value = t @ H @ t - 2 * g @ t + c
    >>> bool(np.isclose(value, expected_mismatch((U.T * t) @ U - M)))
    True
    """
    K = U @ U.T
    s = np.diag(K).copy()
    H = 2.0 * K * K + np.outer(s, s)
    g = 2.0 * np.einsum("ij,ij->i", U @ M_train, U) + float(np.trace(M_train)) * s
    return H, g, expected_mismatch(M_train)


def herding_features(pool, y_start, seed):
    """Random Fourier features of the joint distribution of the standardised ``(x, 2 y)``.

    The kernel is ``exp(-gamma ||(x_s, 2 y_s) - (x_s', 2 y_s')||^2)`` on the pool's
    own standardisation, ``gamma`` from the median heuristic over the pool,
    :data:`N_HERDING_FEATURES` features of scikit-learn's ``RBFSampler``.

    Parameters
    ----------
    pool : ndarray of shape (n, q)
        Rows ``(x, y)``.
    y_start : int
        Index of the first target column.
    seed : numpy.random.SeedSequence
    """
    scale = pool.std(axis=0)
    S = (pool - pool.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    S[:, y_start:] *= 2.0
    sampler = RBFSampler(
        gamma=median_heuristic_gamma(S),
        n_components=N_HERDING_FEATURES,
        random_state=int(seed.generate_state(1)[0]),
    )
    return sampler.fit_transform(S)


def least_mismatch_weights(H, g, c):
    """Fractions ``t >= 0`` summing to 1 of least mismatch, near uniform.

    Minimises ``t^T H t - 2 g^T t + rho^2 sum_i (t_i - 1 / m)^2 m`` with ``rho^2 =
    PROXIMITY c`` and a heavily weighted row for ``sum_i t_i = 1``, as a
    non-negative least-squares problem (``H = R^T R`` from its eigenvectors), then
    rescales ``t`` to sum to 1 exactly.
    """
    m = H.shape[0]
    values, vectors = linalg.eigh(H)
    keep = values > values.max(initial=0.0) * m * np.finfo(np.float64).eps
    root = np.sqrt(values[keep])
    R = root[:, None] * vectors[:, keep].T
    target = (vectors[:, keep].T @ g) / root
    rho = np.sqrt(PROXIMITY * c * m)
    big = 1e3 * np.sqrt(max(c, np.finfo(float).tiny))
    lhs = np.vstack([R, rho * np.eye(m), big * np.ones((1, m))])
    rhs = np.concatenate([target, np.full(m, rho / m), [big]])
    t, _ = optimize.nnls(lhs, rhs, maxiter=50 * lhs.shape[1])
    if not t.sum() > 0:
        return np.full(m, 1.0 / m)
    return t / t.sum()


def label_residuals(family, rows):
    """How far each row's label lies from the random-feature ridge regression of ``y``.

    The regression of ``y`` on ``(phi(x), x)`` is fitted to the training moments
    (:func:`~skdistill._core.ridge.ridge_from_moments`, penalty by generalised
    cross-validation): it uses every training row, not only the candidates. The
    residual of a row is the norm of its label's deviation from the fit, each
    target in units of its standard deviation.

    Parameters
    ----------
    family : RBFFamily
    rows : ndarray of shape (k, q)
        Rows ``(x, y)``.

    Returns
    -------
    ndarray of shape (k,)
    """
    d, n_components = family.W.shape
    predict, _ = ridge_from_moments(family.moments, n_components + d, family.n_rows)
    lifted = np.hstack([family.feature_map.transform(rows[:, :d]), rows[:, :d]])
    spread = np.sqrt(np.diag(family.linear.covariance)[d:])
    deviation = (rows[:, d:] - predict(lifted)) / np.where(spread > 0, spread, 1.0)
    return np.sqrt(np.sum(deviation**2, axis=1))


def quiet_rows(residuals, m):
    """Indices, in order, of the ``QUIET_FRACTION`` of rows (at least ``m``) of least residual."""
    keep = min(len(residuals), max(m, int(np.ceil(QUIET_FRACTION * len(residuals)))))
    return np.sort(np.argsort(residuals, kind="stable")[:keep])


def solve_reweight(family, Z0, model_seed, solver_seeds, options):
    """Herded real rows with the non-negative weights of least feature-space mismatch.

    ``Z0`` is the reservoir's pool (:func:`~skdistill.supervised._rbf.rbf_summary`).
    Every row returned is one of its rows, unchanged; the weights sum to the
    training weight. Three weightings of the herded rows are
    certified (``multiplicative_gap``, the certifier's ``loss_gap_``): the
    calibrated one, which also matches the mean and covariance of ``(x, y)``
    exactly (where non-negative weights of the rows can), the least-mismatch one,
    and uniform weights; the first of least gap is returned, so the weights never
    certify worse than uniform weights of the same rows. ``calibrated`` is True
    for the calibrated weights, else None: the linear part is then approximate,
    as ``linear_loss_gap_`` reports, and no warning is given.
    """
    m = Z0.shape[0] if options.n_synthetic is None else options.n_synthetic
    F = herding_features(Z0, family.W.shape[0], solver_seeds[0])
    quiet = quiet_rows(label_residuals(family, Z0), m)
    chosen = np.sort(quiet[herd(F[quiet], m, target=F.mean(axis=0))])
    Z = Z0[chosen].copy()
    U, _ = lift(family.standardiser.transform(Z), family.W, family.b, family.fit_intercept)
    t = least_mismatch_weights(*meta_quadratic(U, family.M_train))
    weight_sum = family.moments.weight_sum
    base = weight_sum * np.maximum(t, FLOOR / m)
    result = calibrate(Z, base, family.linear, family.fit_intercept)
    candidates = [(weight_sum * t, None), (np.full(m, weight_sum / m), None)]
    if result.met:
        candidates.insert(0, (result.weights, True))
    gaps = [multiplicative_gap(family.second_moment(Z, w), family.M_train) for w, _ in candidates]
    weights, calibrated = candidates[int(np.argmin(gaps))]  # the first of least gap
    return Solution(Z, sample_weight=weights, calibrated=calibrated)
