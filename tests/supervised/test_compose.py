"""Composition: DistilledRegressor, scikit-learn and imbalanced-learn pipelines, searches."""

import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.stats import randint
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledRegressor, LossMatchingDistiller

N_SAMPLES, N_FEATURES = 240, 5
# Predictions of exactly moment-matched sets agree with the full data to rounding.
RTOL, ATOL = 1e-9, 1e-9


def make_data(seed=0, n_targets=None):
    rng = np.random.default_rng(seed)
    scale = np.array([1.0, 10.0, 0.1, 3.0, 1.0])
    shift = np.array([5.0, -2.0, 0.0, 100.0, 1.0])
    X = rng.normal(size=(N_SAMPLES, N_FEATURES)) * scale + shift
    coef_shape = (N_FEATURES,) if n_targets is None else (N_FEATURES, n_targets)
    noise_shape = (N_SAMPLES,) if n_targets is None else (N_SAMPLES, n_targets)
    y = (X - shift) / scale @ rng.normal(size=coef_shape) + 3.0 + rng.normal(size=noise_shape)
    return X, y


def distilled(estimator, n_synthetic=30, **kwargs):
    return DistilledRegressor(
        estimator, LossMatchingDistiller(n_synthetic, random_state=0, **kwargs)
    )


class RowCountingRegressor(RegressorMixin, BaseEstimator):
    """Least squares that records how many rows it is fitted on and asked to predict."""

    def fit(self, X, y):
        self.model_ = LinearRegression().fit(X, y)
        self.n_fit_rows_ = X.shape[0]
        self.n_predict_rows_ = []
        return self

    def predict(self, X):
        self.n_predict_rows_.append(X.shape[0])
        return self.model_.predict(X)


class DenseOnlyRegressor(RegressorMixin, BaseEstimator):
    """A regressor whose tags say it takes no sparse input."""

    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.zeros(X.shape[0])


# --------------------------------------------------------------------------- #
# DistilledRegressor on its own                                                #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "estimator",
    [LinearRegression(), Ridge(alpha=3.0), Lasso(alpha=0.05, tol=1e-12, max_iter=100_000)],
    ids=["ols", "ridge", "lasso"],
)
def test_last_step_of_pipeline_matches_full_data(estimator):
    X, y = make_data()
    composed = make_pipeline(StandardScaler(), distilled(estimator)).fit(X, y)
    full = make_pipeline(StandardScaler(), clone(estimator)).fit(X, y)
    assert_allclose(composed.predict(X), full.predict(X), rtol=RTOL, atol=ATOL)
    assert_allclose(composed[-1].estimator_.coef_, full[-1].coef_, rtol=1e-8, atol=1e-10)
    # R^2 on held-out rows delegates to the fitted estimator.
    X_test, y_test = make_data(seed=1)
    assert composed.score(X_test, y_test) == pytest.approx(full.score(X_test, y_test), rel=1e-10)


def test_multi_output_matches_full_data():
    X, Y = make_data(n_targets=2)
    model = distilled(Ridge(alpha=2.0)).fit(X, Y)
    full = Ridge(alpha=2.0).fit(X, Y)
    assert model.predict(X).shape == (N_SAMPLES, 2)
    assert_allclose(model.predict(X), full.predict(X), rtol=RTOL, atol=1e-8)


def test_fitted_attributes_and_weights_passed_to_estimator():
    X, y = make_data()
    distiller = LossMatchingDistiller(30, random_state=0)
    model = DistilledRegressor(Ridge(alpha=1.0), distiller).fit(X, y)
    assert model.distiller_ is not distiller and not hasattr(distiller, "X_synthetic_")
    assert model.distiller_.X_synthetic_.shape == (30, N_FEATURES)
    assert model.estimator_ is not model.estimator
    assert model.n_features_in_ == N_FEATURES
    assert not hasattr(model, "feature_names_in_")
    # The estimator saw the synthetic rows with their weights: an unweighted fit on
    # 30 rows would shrink 8 times as hard as Ridge(alpha=1) on the 240 rows.
    assert_allclose(model.distiller_.sample_weight_, N_SAMPLES / 30)
    assert_allclose(model.estimator_.coef_, Ridge(alpha=1.0).fit(X, y).coef_, rtol=1e-8)
    unweighted = Ridge(alpha=1.0).fit(model.distiller_.X_synthetic_, model.distiller_.y_synthetic_)
    assert not np.allclose(unweighted.coef_, model.estimator_.coef_, rtol=1e-3)


def test_estimator_without_sample_weight_is_fitted_on_synthetic_rows():
    X, y = make_data()
    model = distilled(KNeighborsRegressor(n_neighbors=3), n_synthetic=25).fit(X, y)
    assert model.estimator_.n_samples_fit_ == 25
    assert model.predict(X[:7]).shape == (7,)


def test_default_distiller():
    X, y = make_data()
    model = DistilledRegressor(LinearRegression()).fit(X, y)
    assert isinstance(model.distiller_, LossMatchingDistiller)
    assert model.distiller_.get_params() == LossMatchingDistiller().get_params()
    assert model.distiller is None
    assert_allclose(model.predict(X), LinearRegression().fit(X, y).predict(X), rtol=RTOL)


def test_user_sample_weight_reaches_distiller():
    X, y = make_data()
    w = np.random.default_rng(3).uniform(0.2, 3.0, N_SAMPLES)
    model = distilled(LinearRegression()).fit(X, y, sample_weight=w)
    assert model.distiller_.sample_weight_.sum() == pytest.approx(w.sum(), rel=1e-12)
    full = LinearRegression().fit(X, y, sample_weight=w)
    assert_allclose(model.predict(X), full.predict(X), rtol=RTOL, atol=ATOL)


def test_too_many_synthetic_rows_is_the_distillers_error():
    X, y = make_data()
    with pytest.raises(ValueError, match="n_synthetic=500 exceeds the number of samples"):
        distilled(LinearRegression(), n_synthetic=500).fit(X, y)


def test_nested_parameters_and_clone():
    model = distilled(Ridge(alpha=1.0))
    params = model.get_params()
    assert params["distiller__n_synthetic"] == 30
    assert params["estimator__alpha"] == 1.0
    model.set_params(distiller__n_synthetic=12, estimator__alpha=5.0)
    assert model.distiller.n_synthetic == 12 and model.estimator.alpha == 5.0
    X, y = make_data()
    model.fit(X, y)
    copy = clone(model)
    assert not hasattr(copy, "estimator_")
    assert copy.get_params()["distiller__n_synthetic"] == 12
    assert copy.distiller is not model.distiller


def test_invalid_parameters_are_rejected():
    X, y = make_data()
    with pytest.raises(ValueError, match="'estimator' parameter"):
        DistilledRegressor("ridge").fit(X, y)
    with pytest.raises(ValueError, match="'distiller' parameter"):
        DistilledRegressor(Ridge(), StandardScaler()).fit(X, y)
    with pytest.raises(ValueError, match="n_synthetic"):
        distilled(Ridge(), n_synthetic=0).fit(X, y)


class UntaggedRegressor:
    """A third-party regressor with fit and predict but no scikit-learn tags."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        self.model_ = LinearRegression().fit(X, y)
        return self

    def predict(self, X):
        return self.model_.predict(X)


@pytest.mark.parametrize(
    "classifier",
    [LogisticRegression(), make_pipeline(StandardScaler(), LogisticRegression())],
    ids=["logistic", "pipeline"],
)
def test_classifier_is_refused_with_a_clear_message(classifier):
    # It used to fail inside LogisticRegression.fit: "Unknown label type: continuous".
    X, y = make_data()
    expected = "DistilledRegressor needs a regressor as estimator, got the classifier"
    with pytest.raises(ValueError, match=expected):
        distilled(classifier).fit(X, y)


@pytest.mark.parametrize(
    "estimator",
    [make_pipeline(StandardScaler(), LinearRegression()), UntaggedRegressor()],
    ids=["pipeline", "untagged"],
)
def test_regressor_pipelines_and_untagged_regressors_are_accepted(estimator):
    X, y = make_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn may warn that tags are missing
        model = distilled(estimator).fit(X, y)
        predictions = model.predict(X)
    assert_allclose(predictions, LinearRegression().fit(X, y).predict(X), rtol=1e-7, atol=1e-7)


def test_pandas_input_and_set_output_upstream():
    pd = pytest.importorskip("pandas")
    X, y = make_data()
    columns = [f"f{i}" for i in range(N_FEATURES)]
    X_df = pd.DataFrame(X, columns=columns)
    pipe = make_pipeline(StandardScaler(), distilled(Ridge())).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe.fit(X_df, pd.Series(y, name="target"))
        y_pred = pipe.predict(X_df)
    assert_array_equal(pipe[-1].feature_names_in_, columns)
    full = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    assert_allclose(y_pred, full.predict(X), rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match="feature names"):
        pipe[-1].predict(X_df.rename(columns={"f0": "other"}))


def test_sparse_input_follows_estimator_and_distiller():
    X, y = make_data()
    X_sparse = sparse.csr_array(X)
    model = distilled(Ridge()).fit(X_sparse, y)
    assert_allclose(model.predict(X_sparse), Ridge().fit(X, y).predict(X), rtol=1e-8)
    assert DistilledRegressor(Ridge()).__sklearn_tags__().input_tags.sparse
    assert not DistilledRegressor(DenseOnlyRegressor()).__sklearn_tags__().input_tags.sparse
    with pytest.raises(TypeError, match="[Ss]parse"):
        DistilledRegressor(DenseOnlyRegressor(), LossMatchingDistiller(30)).fit(X_sparse, y)


# --------------------------------------------------------------------------- #
# scikit-learn Pipeline, searches and cross-validation                         #
# --------------------------------------------------------------------------- #


def test_sklearn_pipeline_rejects_distiller_as_intermediate_step():
    X, y = make_data()
    pipe = make_pipeline(StandardScaler(), LossMatchingDistiller(30), Ridge())
    with pytest.raises(TypeError, match="intermediate steps should be transformers"):
        pipe.fit(X, y)


@pytest.mark.filterwarnings("ignore:An exact moment match needs:UserWarning")
def test_grid_search_finds_and_refits():
    X, y = make_data()
    cv = KFold(5, shuffle=True, random_state=0)
    alphas = [0.1, 30.0, 3000.0]
    search = GridSearchCV(
        make_pipeline(StandardScaler(), distilled(Ridge())),
        {
            "distilledregressor__distiller__n_synthetic": [3, 20, 60],
            "distilledregressor__estimator__alpha": alphas,
        },
        cv=cv,
    ).fit(X, y)
    reference = GridSearchCV(
        make_pipeline(StandardScaler(), Ridge()), {"ridge__alpha": alphas}, cv=cv
    ).fit(X, y)

    results = search.cv_results_
    n_synthetic = results["param_distilledregressor__distiller__n_synthetic"]
    alpha = results["param_distilledregressor__estimator__alpha"]
    reference_score = dict(zip(alphas, reference.cv_results_["mean_test_score"]))
    # Every exactly matched candidate scores what Ridge scores on the full folds...
    for i in np.flatnonzero(n_synthetic >= N_FEATURES + 2):
        assert results["mean_test_score"][i] == pytest.approx(
            reference_score[alpha[i]], rel=1e-10
        )
    # ... 3 rows cannot carry the 5-feature covariance, and score worse.
    for i in np.flatnonzero(n_synthetic == 3):
        assert results["mean_test_score"][i] < reference_score[alpha[i]] - 1e-3

    best = search.best_params_
    assert best["distilledregressor__estimator__alpha"] == reference.best_params_["ridge__alpha"]
    assert best["distilledregressor__distiller__n_synthetic"] in (20, 60)
    assert search.best_score_ == pytest.approx(reference.best_score_, rel=1e-10)
    refitted = search.best_estimator_[-1]
    assert refitted.distiller_.n_synthetic == best["distilledregressor__distiller__n_synthetic"]
    assert refitted.distiller_.n_samples_seen_ == N_SAMPLES
    assert_allclose(search.predict(X), reference.predict(X), rtol=RTOL, atol=ATOL)


def test_randomized_search_and_cross_val_score():
    X, y = make_data()
    cv = KFold(4, shuffle=True, random_state=1)
    pipe = make_pipeline(StandardScaler(), distilled(Ridge(alpha=5.0)))
    reference = cross_val_score(make_pipeline(StandardScaler(), Ridge(alpha=5.0)), X, y, cv=cv)
    assert_allclose(cross_val_score(pipe, X, y, cv=cv), reference, rtol=1e-10)

    search = RandomizedSearchCV(
        pipe,
        {"distilledregressor__distiller__n_synthetic": randint(10, 100)},
        n_iter=3,
        cv=cv,
        random_state=0,
    ).fit(X, y)
    sampled = search.cv_results_["param_distilledregressor__distiller__n_synthetic"]
    assert len(set(sampled)) > 1
    assert_allclose(search.cv_results_["mean_test_score"], reference.mean(), rtol=1e-10)


def test_pickled_sklearn_pipeline_predicts_identically():
    X, y = make_data()
    pipe = make_pipeline(StandardScaler(), distilled(Ridge())).fit(X, y)
    restored = pickle.loads(pickle.dumps(pipe))
    assert_array_equal(restored.predict(X), pipe.predict(X))
    assert_array_equal(
        restored[-1].distiller_.X_synthetic_, pipe[-1].distiller_.X_synthetic_
    )


def test_metadata_routing_sklearn_pipeline():
    X, y = make_data()
    w = np.random.default_rng(5).uniform(0.2, 3.0, N_SAMPLES)
    full = make_pipeline(StandardScaler(), LinearRegression()).fit(
        X, y, linearregression__sample_weight=w
    )
    # Without routing, the step__parameter form.
    pipe = make_pipeline(StandardScaler(), distilled(LinearRegression()))
    pipe.fit(X, y, distilledregressor__sample_weight=w)
    assert pipe[-1].distiller_.sample_weight_.sum() == pytest.approx(w.sum(), rel=1e-12)
    assert_allclose(pipe.predict(X), full.predict(X), rtol=RTOL, atol=ATOL)

    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            distilled(LinearRegression()).set_fit_request(sample_weight=True),
        )
        pipe.fit(X, y, sample_weight=w)
        assert pipe[-1].distiller_.sample_weight_.sum() == pytest.approx(w.sum(), rel=1e-12)
        assert_allclose(pipe.predict(X), full.predict(X), rtol=RTOL, atol=ATOL)

        # Routed through cross-validation too: each fold's weights reach its distiller
        # (and, requested, the weighted R^2 of score).
        pipe[-1].set_score_request(sample_weight=True)
        reference = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            LinearRegression().set_fit_request(sample_weight=True).set_score_request(
                sample_weight=True
            ),
        )
        cv = KFold(4, shuffle=True, random_state=0)
        got = cross_validate(pipe, X, y, cv=cv, params={"sample_weight": w})["test_score"]
        want = cross_validate(reference, X, y, cv=cv, params={"sample_weight": w})["test_score"]
        assert np.isfinite(got).all()
        assert_allclose(got, want, rtol=1e-10)

        # Not requested: scikit-learn's own error, nothing dropped silently.
        unrequested = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False), distilled(LinearRegression())
        )
        with pytest.raises(ValueError, match="sample_weight"):
            unrequested.fit(X, y, sample_weight=w)


# --------------------------------------------------------------------------- #
# imbalanced-learn Pipeline: the distiller as a literal step                   #
# --------------------------------------------------------------------------- #


def test_imblearn_pipeline_resamples_only_in_fit():
    imblearn_pipeline = pytest.importorskip("imblearn.pipeline")
    X, y = make_data()
    pipe = imblearn_pipeline.make_pipeline(
        StandardScaler(), LossMatchingDistiller(50, random_state=0), RowCountingRegressor()
    ).fit(X, y)
    final = pipe[-1]
    assert final.n_fit_rows_ == 50
    assert pipe[1].n_samples_seen_ == N_SAMPLES
    X_test, y_test = make_data(seed=1)
    y_pred = pipe.predict(X_test[:37])
    assert y_pred.shape == (37,)
    assert final.n_predict_rows_ == [37]
    full = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    assert_allclose(y_pred, full.predict(X_test[:37]), rtol=RTOL, atol=ATOL)
    # score is predict + R^2: no resampling either.
    assert pipe.score(X_test, y_test) == pytest.approx(full.score(X_test, y_test), rel=1e-10)
    assert final.n_predict_rows_ == [37, N_SAMPLES]


def test_imblearn_pipeline_ridge_needs_rescaled_alpha():
    imblearn_pipeline = pytest.importorskip("imblearn.pipeline")
    X, y = make_data()
    alpha, m = 10.0, 50
    full = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(X, y)
    # Samplers return no weights: the final step fits the m rows unweighted, so the
    # full-data penalty is alpha * m / n_samples on the synthetic rows.
    pipe = imblearn_pipeline.make_pipeline(
        StandardScaler(),
        LossMatchingDistiller(m, random_state=0),
        Ridge(alpha=alpha * m / N_SAMPLES),
    ).fit(X, y)
    assert_allclose(pipe.predict(X), full.predict(X), rtol=RTOL, atol=ATOL)
    naive = imblearn_pipeline.make_pipeline(
        StandardScaler(), LossMatchingDistiller(m, random_state=0), Ridge(alpha=alpha)
    ).fit(X, y)
    assert not np.allclose(naive.predict(X), full.predict(X), rtol=1e-4)


def test_imblearn_pipeline_in_grid_search_and_pickle():
    imblearn_pipeline = pytest.importorskip("imblearn.pipeline")
    X, y = make_data()
    cv = KFold(4, shuffle=True, random_state=0)
    pipe = imblearn_pipeline.make_pipeline(
        StandardScaler(), LossMatchingDistiller(30, random_state=0), LinearRegression()
    )
    search = GridSearchCV(pipe, {"lossmatchingdistiller__n_synthetic": [10, 40]}, cv=cv).fit(X, y)
    reference = cross_val_score(make_pipeline(StandardScaler(), LinearRegression()), X, y, cv=cv)
    assert_allclose(search.cv_results_["mean_test_score"], reference.mean(), rtol=1e-10)
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    assert_array_equal(restored.predict(X), search.best_estimator_.predict(X))


def test_imblearn_pipeline_metadata_routing():
    imblearn_pipeline = pytest.importorskip("imblearn.pipeline")
    X, y = make_data()
    w = np.random.default_rng(7).uniform(0.2, 3.0, N_SAMPLES)
    full = make_pipeline(StandardScaler(), LinearRegression()).fit(
        X, y, linearregression__sample_weight=w
    )
    with sklearn.config_context(enable_metadata_routing=True):
        # imblearn routes the pipeline's fit to both fit and fit_resample of a sampler.
        distiller = (
            LossMatchingDistiller(50, random_state=0)
            .set_fit_request(sample_weight=True)
            .set_fit_resample_request(sample_weight=True)
        )
        pipe = imblearn_pipeline.make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            distiller,
            # The final step fits the synthetic rows: the caller's weights do not apply.
            LinearRegression().set_fit_request(sample_weight=False),
        )
        pipe.fit(X, y, sample_weight=w)
        assert pipe[1].sample_weight_.sum() == pytest.approx(w.sum(), rel=1e-12)
        assert_allclose(pipe.predict(X), full.predict(X), rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------- #
# The example runs                                                             #
# --------------------------------------------------------------------------- #


def test_pipeline_grid_search_example_runs(tmp_path):
    pytest.importorskip("matplotlib")
    script = Path(__file__).resolve().parents[2] / "examples" / "plot_pipeline_grid_search.py"
    output = tmp_path / "figure.png"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(script), "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert output.stat().st_size > 10_000
    assert "best: LossMatchingDistiller" in done.stdout
