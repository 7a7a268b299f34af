"""LossMatchingDistiller: exactness for linear models, the paper's solver, API and input checks."""

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from skdistill import LossMatchingDistiller
from skdistill._core.certificate import rounding_level


def _regression(seed, n=300, d=4, t=1, scale=1.0, loc=0.0):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + loc) * scale
    coef = rng.normal(size=(d, t))
    Y = X @ coef + rng.normal(size=(n, t)) * scale + loc
    return X, (Y.ravel() if t == 1 else Y)


def _assert_same_model(full, small, rtol=1e-7):
    scale = np.abs(full.coef_).max() + 1e-12
    np.testing.assert_allclose(small.coef_ / scale, full.coef_ / scale, atol=rtol)
    np.testing.assert_allclose(small.intercept_, full.intercept_, rtol=rtol, atol=rtol * scale)


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(30, 300),
    d=st.integers(1, 6),
    t=st.integers(1, 3),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
    loc=st.sampled_from([0.0, 5.0, -100.0]),
    extra=st.integers(0, 15),
)
def test_exact_linear_models_equal_full_data(seed, n, d, t, scale, loc, extra):
    X, y = _regression(seed, n=n, d=d, t=t, scale=scale, loc=loc)
    m = min(n, d + t + 1 + extra)
    distiller = LossMatchingDistiller(m, random_state=seed)
    X_syn, y_syn = distiller.fit_resample(X, y)
    assert X_syn.shape == (m, d) and y_syn.shape == (m,) + y.shape[1:]
    # rounding level: float64 storage of columns of mean -100 and spread 1e-3 is exact
    # to eps * 1e5 in their deviations, so the gap is allowed that much
    level = rounding_level(np.c_[X, y].mean(0), np.c_[X, y].std(0), np.float64)
    assert distiller.loss_gap_ < max(1e-9, level)
    _assert_same_model(LinearRegression().fit(X, y), LinearRegression().fit(X_syn, y_syn))
    alpha = 0.1 * scale
    _assert_same_model(
        Ridge(alpha=alpha).fit(X, y),
        Ridge(alpha=alpha).fit(X_syn, y_syn, sample_weight=distiller.sample_weight_),
    )
    if t == 1:
        for model in (
            Lasso(alpha=0.01 * scale, tol=1e-12, max_iter=100_000),
            ElasticNet(alpha=0.01 * scale, l1_ratio=0.5, tol=1e-12, max_iter=100_000),
        ):
            _assert_same_model(
                model.fit(X, y), type(model)(**model.get_params()).fit(X_syn, y_syn), rtol=1e-5
            )


@given(seed=st.integers(0, 2**16), d=st.integers(1, 5))
def test_exact_without_intercept(seed, d):
    X, y = _regression(seed, d=d, loc=3.0)
    distiller = LossMatchingDistiller(d + 1, fit_intercept=False, random_state=seed)
    X_syn, y_syn = distiller.fit_resample(X, y)
    _assert_same_model(
        LinearRegression(fit_intercept=False).fit(X, y),
        LinearRegression(fit_intercept=False).fit(X_syn, y_syn),
    )


def test_sample_weight_equals_weighted_full_fit():
    X, y = _regression(0, n=400, d=3)
    w = np.random.default_rng(0).uniform(0, 4, size=400)
    w[:50] = 0.0
    distiller = LossMatchingDistiller(10, random_state=0).fit(X, y, sample_weight=w)
    full = Ridge(alpha=2.0).fit(X, y, sample_weight=w)
    small = Ridge(alpha=2.0).fit(
        distiller.X_synthetic_, distiller.y_synthetic_, sample_weight=distiller.sample_weight_
    )
    _assert_same_model(full, small)
    np.testing.assert_allclose(distiller.sample_weight_, np.full(10, w.sum() / 10))
    # Integer weights are repetitions.
    reps = np.random.default_rng(1).integers(0, 3, size=400)
    d1 = LossMatchingDistiller(10, random_state=0).fit(X, y, sample_weight=reps)
    _assert_same_model(
        LinearRegression().fit(np.repeat(X, reps, axis=0), np.repeat(y, reps)),
        LinearRegression().fit(d1.X_synthetic_, d1.y_synthetic_),
    )


def test_sparse_input_gives_same_models():
    X, y = _regression(1, n=300, d=5)
    X[np.abs(X) < 0.8] = 0.0
    dense = LossMatchingDistiller(12, random_state=0).fit(X, y)
    for fmt in (sparse.csr_matrix, sparse.csc_matrix):
        sp = LossMatchingDistiller(12, random_state=0).fit(fmt(X), y)
        assert isinstance(sp.X_synthetic_, np.ndarray)
        np.testing.assert_allclose(sp.X_synthetic_, dense.X_synthetic_, rtol=1e-8, atol=1e-10)


def test_float32_in_float32_out():
    X, y = _regression(2, n=200, d=3)
    X_syn, y_syn = LossMatchingDistiller(10, random_state=0).fit_resample(
        X.astype(np.float32), y.astype(np.float32)
    )
    assert X_syn.dtype == np.float32 and y_syn.dtype == np.float32
    full = LinearRegression().fit(X.astype(np.float32), y.astype(np.float32))
    small = LinearRegression().fit(X_syn, y_syn)
    np.testing.assert_allclose(small.coef_, full.coef_, rtol=1e-3, atol=1e-3)
    X_syn, _ = LossMatchingDistiller(10, random_state=0).fit_resample(X.astype(int), y)
    assert X_syn.dtype == np.float64


def test_pandas_in_pandas_out():
    pd = pytest.importorskip("pandas")
    X, y = _regression(3, n=100, d=3, t=2)
    X_df = pd.DataFrame(X, columns=["a", "b", "c"])
    distiller = LossMatchingDistiller(10, random_state=0)
    X_syn, y_syn = distiller.fit_resample(X_df, pd.DataFrame(y, columns=["u", "v"]))
    assert list(X_syn.columns) == ["a", "b", "c"] and list(y_syn.columns) == ["u", "v"]
    assert list(distiller.feature_names_in_) == ["a", "b", "c"]
    _, y_ser = LossMatchingDistiller(10, random_state=0).fit_resample(
        X_df, pd.Series(y[:, 0], name="u")
    )
    assert isinstance(y_ser, pd.Series) and y_ser.name == "u"


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_lbfgs_auto_matches_held_out_regressors(fit_intercept):
    X, y = _regression(4, n=500, d=4, t=2)
    distiller = LossMatchingDistiller(
        12, solver="lbfgs", fit_intercept=fit_intercept, random_state=0
    )
    distiller.fit(X, y)
    p = 6 + fit_intercept
    assert distiller.n_regressors_ >= p * (p + 1) // 2
    assert distiller.regressors_.shape == (distiller.n_regressors_, p)
    assert distiller.loss_gap_ < 1e-8
    assert distiller.heldout_loss_gap_ < 1e-7
    _assert_same_model(
        LinearRegression(fit_intercept=fit_intercept).fit(X, y),
        LinearRegression(fit_intercept=fit_intercept).fit(
            distiller.X_synthetic_, distiller.y_synthetic_
        ),
        rtol=1e-5,
    )


def test_lbfgs_too_few_regressors_cannot_pin_moments():
    X, y = _regression(5, n=500, d=6)
    few = LossMatchingDistiller(20, solver="lbfgs", n_regressors=10, random_state=0).fit(X, y)
    assert few.n_regressors_ == 10
    assert few.loss_gap_ > 1e-3  # 10 < p(p+1)/2 = 36 losses leave M underdetermined
    assert few.heldout_loss_gap_ > 1e-3


def _real_datasets():
    X, y = load_diabetes(return_X_y=True)
    yield "diabetes", X, y
    X = load_wine().data
    yield "wine", np.delete(X, 12, axis=1), X[:, 12]  # proline from the other measurements
    X = load_breast_cancer().data
    yield "breast_cancer", np.delete(X, 0, axis=1), X[:, 0]  # mean radius from the rest


@pytest.mark.parametrize(
    "name, X, y", list(_real_datasets()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_real_data_test_mse(name, X, y):
    """LinearRegression on the distilled set has the full-data test MSE (issue 2's bar)."""
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    full = mean_squared_error(y_te, LinearRegression().fit(X_tr, y_tr).predict(X_te))
    q = X.shape[1] + 1
    for m in (20, 50, 100):
        if m < q + 1 or m > len(y_tr):
            continue
        for solver, rtol in (("exact", 1e-4), ("lbfgs", 1e-2)):
            X_syn, y_syn = LossMatchingDistiller(m, solver=solver, random_state=0).fit_resample(
                X_tr, y_tr
            )
            mse = mean_squared_error(y_te, LinearRegression().fit(X_syn, y_syn).predict(X_te))
            assert mse == pytest.approx(full, rel=rtol), (name, m, solver)


def test_too_few_rows_falls_back_with_warning():
    X, y = _regression(6, n=200, d=5)
    with pytest.warns(UserWarning, match=r"needs n_synthetic >= 7.*certified relative loss gap"):
        distiller = LossMatchingDistiller(4, random_state=0).fit(X, y)
    assert distiller.solver_ == "lbfgs"
    # Fewer rows than dimensions leave some model with zero loss on the synthetic
    # set and not on the training data: no certificate below 1 exists.
    assert distiller.loss_gap_ >= 1
    assert 0 < distiller.heldout_loss_gap_ < 1


@pytest.mark.parametrize("solver", ["exact", "lbfgs"])
def test_same_random_state_any_n_jobs(solver):
    X, y = _regression(7, n=3000, d=5)
    a = LossMatchingDistiller(10, solver=solver, random_state=3, n_jobs=1, chunk_size=500).fit(X, y)
    b = LossMatchingDistiller(10, solver=solver, random_state=3, n_jobs=2, chunk_size=500).fit(X, y)
    np.testing.assert_array_equal(a.X_synthetic_, b.X_synthetic_)
    np.testing.assert_array_equal(a.y_synthetic_, b.y_synthetic_)
    np.testing.assert_array_equal(a.regressors_, b.regressors_)
    c = LossMatchingDistiller(10, solver=solver, random_state=4).fit(X, y)
    assert not np.allclose(a.X_synthetic_, c.X_synthetic_)


def test_pickle_round_trip():
    X, y = _regression(8)
    distiller = LossMatchingDistiller(10, random_state=0).fit(X, y)
    clone = pickle.loads(pickle.dumps(distiller))
    np.testing.assert_array_equal(clone.X_synthetic_, distiller.X_synthetic_)
    assert clone.loss_gap_ == distiller.loss_gap_
    np.testing.assert_array_equal(clone.fit_resample(X, y)[0], distiller.fit_resample(X, y)[0])


@pytest.mark.parametrize(
    "params, X, y, match",
    [
        ({}, np.array([[1.0, np.nan], [2, 3], [3, 4]]), np.ones(3), "NaN"),
        ({}, np.array([[1.0, np.inf], [2, 3], [3, 4]]), np.ones(3), "infinity"),
        ({}, np.ones((3, 2)), np.array([1.0, np.nan, 2]), "NaN"),
        ({}, np.ones((3, 2)), np.ones(4), "inconsistent numbers of samples"),
        ({}, np.ones(5), np.ones(5), "Expected 2D array"),
        ({}, np.ones((0, 2)), np.ones(0), "0 sample"),
        ({"n_synthetic": 10}, np.ones((5, 2)), np.ones(5), "exceeds the number of samples"),
        ({"n_synthetic": 0}, np.ones((5, 2)), np.ones(5), "n_synthetic"),
        ({"solver": "newton"}, np.ones((5, 2)), np.ones(5), "solver"),
        ({"n_regressors": -3}, np.ones((5, 2)), np.ones(5), "n_regressors"),
    ],
)
def test_bad_input(params, X, y, match):
    with pytest.raises(ValueError, match=match):
        LossMatchingDistiller(**{"n_synthetic": 2, **params}).fit(X, y)


def test_bad_sample_weight():
    X, y = _regression(9, n=20, d=2)
    with pytest.raises(ValueError, match="Negative values in data"):
        LossMatchingDistiller(5).fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="positive sample_weight"):
        LossMatchingDistiller(5).fit(X, y, sample_weight=np.r_[np.ones(3), np.zeros(17)])


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LossMatchingDistiller().get_synthetic()
