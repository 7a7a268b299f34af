"""Certificates that cannot flatter: every reported loss_gap_ against an independent reference.

The reference recomputes the multiplicative gap from the raw training data and the rows
and weights the user received, in extended precision (``np.longdouble``) up to the final
generalised eigenproblem, with none of the package's code. A reported certificate may be
larger than the reference (it is a bound computed in float64) but never smaller beyond
rounding; inputs that float64 cannot square are refused with a message instead.
"""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import linalg, sparse
from sklearn.linear_model import LinearRegression

from skdistill import BellmanDistiller, LossMatchingDistiller


def _second_moment(Z, w, mu, sd, fit_intercept):
    Z = (np.asarray(Z, dtype=np.longdouble) - mu) / sd
    if fit_intercept:
        Z = np.hstack([Z, np.ones((len(Z), 1), dtype=np.longdouble)])
    w = np.asarray(w, dtype=np.longdouble)
    return (Z * (w / w.sum())[:, None]).T @ Z


def rounding_floor(Z_train, dtype=np.float64):
    """What storing the training data in ``dtype`` alone makes uncertain in a gap.

    A value is stored to ``eps |x|``: a column of mean ``mu`` and spread ``sigma``
    carries ``eps |mu| / sigma`` of relative error in its deviations, which no
    synthetic set (and no float64 computation of the training moments) removes.
    """
    Z = np.asarray(Z_train, dtype=np.float64)
    sd = Z.std(axis=0)
    ratio = np.abs(Z.mean(axis=0)) / np.where(sd > 0, sd, np.inf)
    return 1e-9 + 10 * np.finfo(dtype).eps * (1 + ratio.max())


def reference_gap(Z_train, w_train, Z_syn, w_syn, fit_intercept=True, *, condition=False):
    """``max_v |v^T M_syn v / v^T M v - 1|`` in extended precision, on M's range.

    With ``condition``, also the condition number of ``M`` (on its range): float64
    determines the gap of an ill-conditioned ``M`` only to about ``eps`` times it,
    whoever computes it.
    """
    Z = np.asarray(Z_train, dtype=np.longdouble)
    w = np.asarray(w_train, dtype=np.longdouble)
    mu = (w @ Z) / w.sum()
    if not fit_intercept:
        mu = np.zeros_like(mu)
    sd = np.sqrt((w @ (Z - mu) ** 2) / w.sum())
    sd[sd == 0] = 1
    M = _second_moment(Z_train, w_train, mu, sd, fit_intercept)
    D = (_second_moment(Z_syn, w_syn, mu, sd, fit_intercept) - M).astype(np.float64)
    values, vectors = linalg.eigh(M.astype(np.float64))
    live = values > values.max() * len(values) * np.finfo(np.float64).eps
    root = vectors[:, live] / np.sqrt(values[live])
    gap = float(np.abs(linalg.eigvalsh(root.T @ D @ root)).max())
    return (gap, values.max() / values[live].min()) if condition else gap


def _returned(distiller):
    Y = distiller.y_synthetic_.reshape(len(distiller.X_synthetic_), -1)
    return np.hstack([distiller.X_synthetic_.astype(np.float64), Y.astype(np.float64)])


def _assert_not_flattering(reported, reference, floor=1e-9):
    assert reported >= reference * (1 - 1e-6) - floor, (reported, reference, floor)


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**16),
    d=st.integers(1, 5),
    scale=st.sampled_from([1e-100, 1e-3, 1.0, 1e4, 1e100]),
    loc=st.sampled_from([0.0, 1e6, 1e8]),
    kind=st.sampled_from(["dense", "sparse", "float32", "weighted", "chunked"]),
    solver=st.sampled_from(["exact", "lbfgs"]),
    fit_intercept=st.booleans(),
)
def test_reported_certificate_is_never_below_the_reference(
    seed, d, scale, loc, kind, solver, fit_intercept
):
    assume(kind != "float32" or 1e-3 <= scale <= 1e4)  # float32 holds neither 1e-100 nor 1e100
    rng = np.random.default_rng(seed)
    n = 400
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * scale
    X[rng.random((n, d)) < 0.4] = 0.0
    X[:, 0] += loc * scale  # a column with a large mean relative to its spread
    y = (X @ rng.normal(size=d) + rng.normal(size=n) * scale) + loc * scale
    w = rng.uniform(0.0, 2.0, size=n) if kind == "weighted" else np.ones(n)
    distiller = LossMatchingDistiller(
        d + 4, solver=solver, max_iter=20, fit_intercept=fit_intercept, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if kind == "chunked":
            for rows in np.array_split(np.arange(n), 3):
                distiller.partial_fit(X[rows], y[rows])
        else:
            X_in = {"sparse": sparse.csr_matrix(X), "float32": X.astype(np.float32)}.get(kind, X)
            y_in = y.astype(np.float32) if kind == "float32" else y
            distiller.fit(X_in, y_in, sample_weight=w if kind == "weighted" else None)
    if kind == "float32":
        X, y = X.astype(np.float32), y.astype(np.float32)
    Z = np.column_stack([X, y])
    reference, condition = reference_gap(
        Z, w, _returned(distiller), distiller.sample_weight_, fit_intercept, condition=True
    )
    floor = rounding_floor(Z, np.float32 if kind == "float32" else np.float64)
    floor = max(floor, 10 * np.finfo(np.float64).eps * condition)
    _assert_not_flattering(distiller.loss_gap_, reference, floor)
    _assert_not_flattering(distiller.linear_loss_gap_, reference, floor)


def test_sparse_large_means_are_exact_and_honestly_certified():
    rng = np.random.default_rng(0)
    n, d = 3000, 4
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.3)
    X[:, 1] += 1e6
    y = X @ [1.0, 0.5, -2.0, 0.0] + 1e8 + rng.normal(size=n)
    distiller = LossMatchingDistiller(20, random_state=0).fit(sparse.csr_matrix(X), y)
    full = LinearRegression().fit(X, y)
    small = LinearRegression().fit(distiller.X_synthetic_, distiller.y_synthetic_)
    np.testing.assert_allclose(small.coef_, full.coef_, rtol=1e-6, atol=1e-6)
    # y around 1e8 is stored to 1.5e-8, a relative 1e-8 of its spread: the limit.
    assert np.var(distiller.y_synthetic_) == pytest.approx(np.var(y), rel=1e-7)
    Z = np.column_stack([X, y])
    reference = reference_gap(Z, np.ones(n), _returned(distiller), np.ones(20))
    assert reference < 1e-6 and distiller.loss_gap_ < 1e-6
    _assert_not_flattering(distiller.loss_gap_, reference, rounding_floor(Z))


def test_float32_output_is_certified_after_the_cast():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 3)).astype(np.float32) + 100
    y = (X @ [1.0, 2.0, 3.0] + rng.normal(size=2000)).astype(np.float32)
    distiller = LossMatchingDistiller(10, random_state=0).fit(X, y)
    assert distiller.X_synthetic_.dtype == np.float32
    reference = reference_gap(
        np.column_stack([X, y]), np.ones(2000), _returned(distiller), np.ones(10)
    )
    assert reference > 1e-10  # float32 rows cannot match float64 moments to 1e-15
    assert distiller.loss_gap_ == pytest.approx(reference, rel=1e-3)


@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("magnitude", [1e-300, 1e-160, 1e300])
def test_values_float64_cannot_square_are_refused(where, magnitude):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(200, 3)), rng.normal(size=200)
    if where == "X":
        X[:, 1] *= magnitude
    else:
        y = y * magnitude
    name = "column 1" if where == "X" else "y"
    with pytest.raises(ValueError, match=f"{name}.*(too (small|large) to square|overflow)"):
        LossMatchingDistiller(10, random_state=0).fit(X, y)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_tiny_values_are_refused_by_every_path(kernel):
    X = np.random.default_rng(3).normal(size=(300, 2)) * 1e-300
    y = np.random.default_rng(4).normal(size=300)
    with pytest.raises(ValueError, match="column 0 of X .* too small to square"):
        LossMatchingDistiller(10, kernel=kernel, n_components=8, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="too small to square"):
        LossMatchingDistiller(10).partial_fit(X, y)


def test_lbfgs_that_stops_short_says_so():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 4))
    y = X @ [1.0, -1.0, 2.0, 0.5] + rng.normal(size=500)
    with pytest.warns(UserWarning, match="does not match the training losses exactly"):
        LossMatchingDistiller(12, solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LossMatchingDistiller(12, random_state=0).fit(X, y)  # exact: no warning


def _transitions(seed, n=1200, scale=1.0, reward_scale=1.0):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, 2)) * scale
    a = rng.integers(0, 2, size=n)
    s_next = s + 0.1 * scale * (2 * a[:, None] - 1) + 0.01 * scale * rng.normal(size=(n, 2))
    r = -np.abs(s_next[:, 0]) / scale * reward_scale
    done = np.abs(s_next[:, 0]) > 2.0 * scale
    return s, a, r, s_next, done


def _decomposable(s, a, r, s_next, done, n_actions=2):
    onehot = np.eye(n_actions)[a]
    live = (~np.asarray(done)).astype(float)
    return np.column_stack([s, onehot, r, s_next * live[:, None], live])


@pytest.mark.parametrize("solver", ["exact", "lbfgs", "select"])
def test_bellman_certificate_is_the_decomposable_gap_of_what_is_returned(solver):
    s, a, r, s_next, done = _transitions(6)
    params = {"max_iter": 10, "n_predictors": 20} if solver != "exact" else {}
    distiller = BellmanDistiller(100, gamma=0.9, solver=solver, random_state=0, **params)
    syn = distiller.fit_resample(s, a, r, s_next, done)
    reference = reference_gap(
        _decomposable(s, a, r, s_next, done),
        np.ones(len(s)),
        _decomposable(
            syn.observations, syn.actions, syn.rewards, syn.next_observations, syn.terminals
        ),
        syn.sample_weight,
        fit_intercept=False,
    )
    _assert_not_flattering(distiller.loss_gap_, reference)
    if solver == "exact":
        assert distiller.loss_gap_ < 1e-8
    if solver == "select":
        assert distiller.loss_gap_ > 1e-6  # real transitions, not an exact match


@pytest.mark.parametrize("where", ["observations", "rewards"])
@pytest.mark.parametrize("magnitude", [1e-300, 1e300])
def test_bellman_refuses_what_float64_cannot_square(where, magnitude):
    kwargs = {"scale": magnitude} if where == "observations" else {"reward_scale": magnitude}
    with pytest.raises(ValueError, match="too (small|large) to square in float64|overflow"):
        BellmanDistiller(50, gamma=0.9, random_state=0).fit(*_transitions(7, **kwargs))
