"""Random-feature loss matching (kernel="rbf"): the maths against naive references,
and the distiller's rbf path."""

import itertools

import numpy as np
import pytest
from scipy import linalg, sparse
from sklearn.datasets import make_friedman1
from sklearn.linear_model import LinearRegression

from skdistill import LossMatchingDistiller
from skdistill._core.certificate import model_losses
from skdistill._core.lbfgs import minimize_lbfgs
from skdistill._core.moments import moments_of_rows, sub_moments
from skdistill._sources.features import feature_moments, feature_shift
from skdistill.supervised._rbf import expected_mismatch, rbf_objective
from skdistill.supervised._rbf.family import STALL_WINDOW
from skdistill.supervised._rbf.features import (
    lift,
    make_feature_map,
    median_heuristic_gamma,
    standardised_rbf_weights,
)
from skdistill.supervised._rbf.objective import matching_problem


def _friedman(n=300, seed=0):
    X, y = make_friedman1(n, n_features=5, noise=0.5, random_state=seed)
    return X, y


def _problem(rng, d=3, t=1, D=40, n=200, fit_intercept=True):
    W = rng.normal(size=(d, D))
    b = rng.uniform(0, 2 * np.pi, D)
    A = rng.normal(size=(n, d + t))
    U, _ = lift(A, W, b, fit_intercept)
    return W, b, U.T @ U / n


def _sampled_problem(rng, M, W, b, shape, fit_intercept, sampled, **kwargs):
    V = targets = None
    if sampled:
        V = rng.normal(size=(60, M.shape[0])) / np.sqrt(M.shape[0])
        targets = model_losses(V, M)
    return matching_problem(shape, W, b, M, V, targets, fit_intercept, **kwargs)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sampled", [False, True])
def test_objective_gradient_matches_finite_differences(fit_intercept, sampled):
    rng = np.random.default_rng(0)
    m, q = 7, 4
    W, b, M = _problem(rng, fit_intercept=fit_intercept)
    problem = _sampled_problem(rng, M, W, b, (m, q), fit_intercept, sampled)
    z = rng.normal(size=m * q)
    f, grad = rbf_objective(z, problem)
    assert f > 0
    h = 1e-6
    numeric = np.array(
        [
            (rbf_objective(z + h * e, problem)[0] - rbf_objective(z - h * e, problem)[0])
            / (2 * h)
            for e in np.eye(m * q)
        ]
    )
    atol = 1e-7 * np.abs(numeric).max()
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sampled", [False, True])
def test_objective_equals_the_mismatch_of_the_moments(fit_intercept, sampled):
    # The objective never forms Delta = M_syn - M_train; compare with a naive one that does.
    rng = np.random.default_rng(5)
    m, q = 9, 4
    W, b, M = _problem(rng, D=30, fit_intercept=fit_intercept)
    problem = _sampled_problem(rng, M, W, b, (m, q), fit_intercept, sampled)
    z = rng.normal(size=m * q)
    U, _ = lift(z.reshape(m, q), W, b, fit_intercept)
    Delta = U.T @ U / m - M
    if sampled:
        e = model_losses(problem.V, Delta)
        naive = float(e @ e) / float(problem.targets @ problem.targets)
    else:
        naive = expected_mismatch(Delta) / expected_mismatch(M)
    f, grad = rbf_objective(z, problem)
    assert f == pytest.approx(naive, rel=1e-10)
    # Threads share fixed row blocks, and float32 phases move f by rounding only.
    f2, grad2 = rbf_objective(z, problem._replace(n_threads=2))
    assert f2 == f and np.array_equal(grad2, grad)
    f32, grad32 = rbf_objective(z, problem._replace(phase_dtype=np.float32))
    assert f32 == pytest.approx(f, rel=1e-5)
    np.testing.assert_allclose(grad32, grad, rtol=1e-3, atol=1e-5 * np.abs(grad).max())


def test_objective_is_the_relative_expected_loss_mismatch():
    # E[(v^T Delta v)^2] over v ~ N(0, I/p), relative to the same for Delta = M_train.
    rng = np.random.default_rng(1)
    m, q = 6, 4
    W, b, M = _problem(rng, D=8)
    z = rng.normal(size=m * q)
    f, _ = rbf_objective(z, matching_problem((m, q), W, b, M))
    U, _ = lift(z.reshape(m, q), W, b)
    Delta = U.T @ U / m - M
    V = rng.normal(size=(400_000, M.shape[0])) / np.sqrt(M.shape[0])
    monte_carlo = np.mean(model_losses(V, Delta) ** 2) / np.mean(
        model_losses(V, M) ** 2
    )
    assert f == pytest.approx(monte_carlo, rel=0.02)
    assert f == pytest.approx(expected_mismatch(Delta) / expected_mismatch(M))


def test_lbfgs_stops_when_the_objective_stalls():
    # f(x) = 1 + 1 / (1 + |x|^2) never reaches its infimum: only the stall rule ends it.
    def fun(x):
        s = 1.0 + x @ x
        return 1.0 + 1.0 / s, -2.0 * x / s**2

    x0 = np.full(3, 0.5)
    _, result = minimize_lbfgs(fun, x0, max_iter=10_000, tol=0.0, stall=(20, 1e-3))
    assert 20 < result.nit < 10_000 and "LOWERED THE OBJECTIVE BY LESS" in result.message
    _, free = minimize_lbfgs(fun, x0, max_iter=300, tol=0.0)
    assert free.nit == 300 or free.nit > result.nit


def test_lift_reproduces_the_fitted_feature_map():
    rng = np.random.default_rng(2)
    X = rng.normal(loc=[3.0, -1.0, 10.0], scale=[1.0, 5.0, 0.1], size=(50, 3))
    feature_map, gamma = make_feature_map(X[:30], None, 16, random_state=0)
    pilot = feature_map[0].transform(X[:30])
    assert gamma == pytest.approx(median_heuristic_gamma(pilot))
    shift, scale = X.mean(axis=0) + 0.5, X.std(axis=0) * 2.0
    W, b = standardised_rbf_weights(feature_map, shift, scale)
    U, _ = lift((X - shift) / scale, W, b, fit_intercept=False)
    np.testing.assert_allclose(U[:, :16], feature_map.transform(X), atol=1e-12)
    np.testing.assert_allclose(U[:, 16:], (X - shift) / scale)


def test_median_heuristic_against_naive_pairs():
    X = np.random.default_rng(3).normal(size=(25, 4))
    squared = [np.sum((a - b) ** 2) for a, b in itertools.combinations(X, 2)]
    assert median_heuristic_gamma(X) == pytest.approx(1.0 / np.median(squared))
    with pytest.raises(ValueError, match="pass gamma explicitly"):
        median_heuristic_gamma(np.ones((10, 2)))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_feature_moments_match_naive(weighted, as_sparse):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(230, 3)) * [1.0, 100.0, 0.01] + [0.0, 1e4, 5.0]
    Y = rng.normal(size=(230, 2))
    w = rng.uniform(0, 3, size=230) if weighted else None
    feature_map, _ = make_feature_map(X[:50], 0.5, 24, random_state=0)
    naive = moments_of_rows(np.hstack([feature_map.transform(X), X, Y]), w)
    X_in = sparse.csr_matrix(X) if as_sparse else X
    shift = feature_shift(X_in, Y, feature_map.transform)
    got = feature_moments(
        X_in, Y, w, feature_map.transform, shift, chunk_size=37, n_threads=2
    )
    assert got.weight_sum == pytest.approx(naive.weight_sum)
    np.testing.assert_allclose(got.mean + shift, naive.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.comoment, naive.comoment, rtol=1e-9, atol=1e-9)
    lin = sub_moments(got, 24)
    naive_cov = np.cov(np.hstack([X, Y]).T, aweights=w, bias=True)
    np.testing.assert_allclose(lin.covariance, naive_cov)


def _feature_gap(distiller, X, y, X_syn, y_syn, multiplicative=False):
    """Feature-space gap of a row set, from a naive full-data computation.

    The relative spectral gap ``||M_syn - M||_2 / ||M||_2`` measures how close a
    set comes; ``multiplicative`` gives the certificate, ``max |v^T M_syn v / v^T M v
    - 1|``, from the generalised eigenvalues.
    """
    D = distiller.n_components
    train = np.hstack([distiller.feature_map_.transform(X), X, y[:, None]])
    syn = np.hstack([distiller.feature_map_.transform(X_syn), X_syn, y_syn[:, None]])
    mu, sd = train[:, D:].mean(axis=0), train[:, D:].std(axis=0)

    def second_moment(U):
        U = np.hstack([U[:, :D], (U[:, D:] - mu) / sd, np.ones((len(U), 1))])
        return U.T @ U / len(U)

    M_syn, M_train = second_moment(syn), second_moment(train)
    if multiplicative:
        return np.abs(linalg.eigh(M_syn, M_train, eigvals_only=True) - 1).max()
    return np.linalg.norm(M_syn - M_train, 2) / np.linalg.norm(M_train, 2)


@pytest.mark.parametrize("solver", ["exact", "lbfgs"])
def test_rbf_gap_shrinks_from_random_subsets(solver):
    X, y = _friedman()
    m = 30
    distiller = LossMatchingDistiller(
        m, kernel="rbf", n_components=64, solver=solver, max_iter=300, random_state=0
    )
    X_syn, y_syn = distiller.fit_resample(X, y)
    assert distiller.solver_ == solver
    gap = _feature_gap(distiller, X, y, X_syn, y_syn)
    certificate = _feature_gap(distiller, X, y, X_syn, y_syn, multiplicative=True)
    # 30 rows cannot match 76 feature-space dimensions: some model has no loss on them.
    assert distiller.loss_gap_ == pytest.approx(certificate, rel=1e-4) and certificate >= 1
    rng = np.random.default_rng(0)
    subset_gaps = [
        _feature_gap(distiller, X, y, X[idx], y[idx])
        for idx in (rng.choice(len(X), m, replace=False) for _ in range(5))
    ]
    assert gap < min(subset_gaps) / 5
    assert 0 <= distiller.heldout_loss_gap_
    assert distiller.n_iter_ > 10
    if solver == "exact":
        assert distiller.linear_loss_gap_ < 1e-10
    else:
        assert distiller.linear_loss_gap_ < 0.1


def test_rbf_exact_keeps_linear_models_exact():
    X, y = _friedman()
    distiller = LossMatchingDistiller(
        25, kernel="rbf", n_components=32, max_iter=50, random_state=1
    )
    X_syn, y_syn = distiller.fit_resample(X, y)
    full = LinearRegression().fit(X, y)
    small = LinearRegression().fit(X_syn, y_syn)
    np.testing.assert_allclose(small.coef_, full.coef_, rtol=1e-7, atol=1e-9)
    assert distiller.gamma_ > 0
    assert distiller.feature_map_[-1].n_components == 32


def test_rbf_is_deterministic_across_n_jobs():
    X, y = _friedman(500)
    results = []
    for n_jobs in (1, 2):
        distiller = LossMatchingDistiller(
            20,
            kernel="rbf",
            n_components=48,
            max_iter=60,
            chunk_size=64,
            random_state=3,
            n_jobs=n_jobs,
        )
        results.append(distiller.fit_resample(X, y) + (distiller.loss_gap_,))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    other = LossMatchingDistiller(
        20, kernel="rbf", n_components=48, max_iter=60, chunk_size=64, random_state=4
    ).fit_resample(X, y)
    assert not np.allclose(other[0], results[0][0])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"gamma": 0.0}, "'gamma' parameter"),
        ({"gamma": -1.0}, "'gamma' parameter"),
        ({"gamma": np.inf}, "'gamma' parameter"),
        ({"gamma": np.nan}, "'gamma' parameter"),
        ({"gamma": "scale"}, "'gamma' parameter"),
        ({"n_components": 0}, "'n_components' parameter"),
        ({"n_components": 2.5}, "'n_components' parameter"),
        ({"kernel": "poly"}, "'kernel' parameter"),
    ],
)
def test_bad_rbf_parameters_raise(params, match):
    X, y = _friedman(50)
    distiller = LossMatchingDistiller(10, **{"kernel": "rbf", **params})
    with pytest.raises(ValueError, match=match):
        distiller.fit(X, y)


def test_rbf_constant_features_need_an_explicit_gamma():
    X = np.ones((40, 3))
    y = np.arange(40.0)
    with pytest.raises(ValueError, match="pass gamma explicitly"):
        LossMatchingDistiller(10, kernel="rbf").fit(X, y)
    distiller = LossMatchingDistiller(
        10, kernel="rbf", gamma=1.0, n_components=16, max_iter=5
    )
    distiller.fit(X, y)
    assert distiller.gamma_ == 1.0


def test_rbf_keeps_pandas_containers_and_float32():
    pd = pytest.importorskip("pandas")
    X, y = _friedman(120)
    X_df = pd.DataFrame(X.astype(np.float32), columns=[f"f{i}" for i in range(5)])
    y_s = pd.Series(y.astype(np.float32), name="target")
    distiller = LossMatchingDistiller(
        15, kernel="rbf", n_components=16, max_iter=20, random_state=0
    )
    X_syn, y_syn = distiller.fit_resample(X_df, y_s)
    assert isinstance(X_syn, pd.DataFrame) and list(X_syn.columns) == list(X_df.columns)
    assert isinstance(y_syn, pd.Series) and y_syn.name == "target"
    assert (X_syn.dtypes == np.float32).all() and y_syn.dtype == np.float32
    assert list(distiller.feature_names_in_) == list(X_df.columns)


def test_rbf_sampled_regressors_and_multioutput():
    X, y = _friedman(150)
    Y = np.column_stack([y, -y + X[:, 0]])
    distiller = LossMatchingDistiller(
        12, kernel="rbf", n_components=16, n_regressors=300, max_iter=30, random_state=0
    )
    X_syn, Y_syn = distiller.fit_resample(X, Y)
    assert Y_syn.shape == (12, 2)
    assert distiller.n_regressors_ == 300
    assert distiller.regressors_.shape == (300, 16 + 5 + 2 + 1)


def test_rbf_warns_when_too_few_rows_for_the_exact_linear_match():
    X, y = _friedman(100)
    distiller = LossMatchingDistiller(
        4, kernel="rbf", n_components=16, max_iter=20, random_state=0
    )
    with pytest.warns(UserWarning, match="exact match of the linear moments"):
        distiller.fit(X, y)
    assert distiller.solver_ == "lbfgs"


def test_rbf_sparse_input_matches_dense():
    X, y = _friedman(150)
    X[X < 0.3] = 0.0
    kwargs = dict(kernel="rbf", n_components=16, max_iter=15, random_state=0)
    dense = LossMatchingDistiller(10, **kwargs).fit_resample(X, y)
    from_sparse = LossMatchingDistiller(10, **kwargs).fit_resample(
        sparse.csr_matrix(X), y
    )
    np.testing.assert_allclose(from_sparse[0], dense[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(from_sparse[1], dense[1], rtol=1e-6, atol=1e-8)


def test_linear_kernel_reports_the_linear_certificate_too():
    X, y = _friedman(100)
    distiller = LossMatchingDistiller(
        10, kernel="rbf", n_components=16, max_iter=5, random_state=0
    ).fit(X, y)
    assert hasattr(distiller, "feature_map_")
    distiller.set_params(kernel="linear").fit(X, y)
    assert distiller.linear_loss_gap_ == distiller.loss_gap_ < 1e-10
    assert not hasattr(distiller, "feature_map_") and not hasattr(distiller, "gamma_")


def test_verbose_reports_the_feature_pass_and_the_solve_in_few_lines(capsys, monkeypatch):
    import skdistill._sources.features as features

    monkeypatch.setattr(features, "PROGRESS_SECONDS", 0.0)  # a line per chunk
    X, y = _friedman(600)
    LossMatchingDistiller(
        10, kernel="rbf", n_components=16, max_iter=40, chunk_size=100, verbose=1,
        random_state=0,
    ).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    passes = [line for line in lines if line.startswith("feature pass:")]
    assert len(passes) == 6 and passes[-1].startswith("feature pass: 600 of 600 rows (100%)")
    assert lines[-1].startswith("L-BFGS through the features: ") and len(lines) < 20


def test_rbf_stops_when_the_objective_stalls():
    X, y = _friedman(400)
    distiller = LossMatchingDistiller(
        20, kernel="rbf", n_components=32, max_iter=5000, random_state=0
    ).fit(X, y)
    assert STALL_WINDOW < distiller.n_iter_ < 5000
