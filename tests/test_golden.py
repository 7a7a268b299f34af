"""Golden outputs: every estimator and solver, for fixed seeds, against recorded results.

The files in ``tests/golden/`` were recorded from the code before the package was
restructured (issue 11) and must keep passing through any move of code: the seed spawn
order is part of the reproducibility contract. Run ``python tests/test_golden.py`` to
record them again, only when a change of results is intended and said in the commit.

On the machine that recorded them the outputs agree bit for bit
(``SKDISTILL_GOLDEN_EXACT=1`` checks that); by default they are compared to rounding,
since another CPU's BLAS kernels sum in another order. L-BFGS cases get a looser
tolerance: a trajectory of tens of steps amplifies a last-digit difference.
"""

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_diabetes

GOLDEN = Path(__file__).parent / "golden"
EXACT = os.environ.get("SKDISTILL_GOLDEN_EXACT") == "1"


def _regression(seed, n=400, d=5, t=1, loc=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + loc
    Y = X @ rng.normal(size=(d, t)) + rng.normal(size=(n, t)) + loc
    return X, (Y.ravel() if t == 1 else Y)


def _transitions(seed, n=1500, d=3):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, d))
    a = rng.integers(0, 3, size=n)
    s_next = s + 0.1 * (a[:, None] - 1) + 0.05 * rng.normal(size=(n, d))
    r = -np.abs(s_next[:, 0])
    done = np.abs(s_next[:, 0]) > 2.0
    w = rng.uniform(0.5, 2.0, size=n)
    return s, a, r, s_next, done, w


def _distiller_outputs(distiller, result=None):
    out = {
        "X_synthetic": distiller.X_synthetic_,
        "y_synthetic": distiller.y_synthetic_,
        "sample_weight": distiller.sample_weight_,
        "loss_gap": np.float64(distiller.loss_gap_),
        "linear_loss_gap": np.float64(distiller.linear_loss_gap_),
        "heldout_loss_gap": np.float64(distiller.heldout_loss_gap_),
        "regressors": distiller.regressors_,
        "n_iter": np.int64(distiller.n_iter_),
        "n_regressors": np.int64(distiller.n_regressors_),
        "solver": np.str_(distiller.solver_),
    }
    if result is not None:
        out["returned_X"], out["returned_y"] = (np.asarray(r) for r in result)
    return out


def _lmd(data, fit_kwargs=None, **params):
    from skdistill import LossMatchingDistiller

    X, y = data
    distiller = LossMatchingDistiller(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = distiller.fit_resample(X, y, **(fit_kwargs or {}))
    return _distiller_outputs(distiller, result)


def _diabetes():
    return load_diabetes(return_X_y=True)


def case_exact_diabetes():
    return _lmd(_diabetes(), n_synthetic=20, random_state=0)


def case_exact_no_intercept():
    return _lmd(_regression(1, loc=3.0), n_synthetic=15, fit_intercept=False, random_state=1)


def case_exact_weighted_multi_target():
    X, Y = _regression(2, t=3)
    w = np.random.default_rng(2).uniform(0.0, 3.0, size=X.shape[0])
    return _lmd((X, Y), {"sample_weight": w}, n_synthetic=25, random_state=2)


def case_exact_sparse():
    X, y = _regression(3)
    X[np.abs(X) < 1.0] = 0.0
    return _lmd((sparse.csr_matrix(X), y), n_synthetic=12, random_state=3)


def case_exact_float32():
    X, y = _regression(4, loc=10.0)
    return _lmd((X.astype(np.float32), y.astype(np.float32)), n_synthetic=10, random_state=4)


def case_exact_chunked():
    X, y = _regression(5, n=3000, loc=1e4)
    return _lmd((X, y), n_synthetic=30, chunk_size=256, random_state=5)


def case_lbfgs_diabetes():
    return _lmd(
        _diabetes(), n_synthetic=20, solver="lbfgs", sampling="standardised", max_iter=60,
        random_state=6,
    )


def case_lbfgs_fallback():
    return _lmd(
        _regression(7), n_synthetic=4, sampling="standardised", max_iter=60, random_state=7
    )


def case_lbfgs_whitened():
    # One-hot columns with a rare category: a rank-deficient covariance.
    X, y = _regression(24, d=3)
    category = np.random.default_rng(24).choice(3, size=X.shape[0], p=[0.6, 0.38, 0.02])
    X = np.hstack([X, np.eye(3)[category]])
    return _lmd((X, y + category), n_synthetic=10, solver="lbfgs", max_iter=60, random_state=24)


def case_lbfgs_fixed_k_no_intercept():
    return _lmd(
        _regression(8, d=3),
        n_synthetic=10,
        solver="lbfgs",
        sampling="standardised",
        n_regressors=40,
        fit_intercept=False,
        max_iter=60,
        random_state=8,
    )


def case_rbf_exact():
    out = _lmd(
        _diabetes(), n_synthetic=25, kernel="rbf", n_components=48, max_iter=40, random_state=9
    )
    return out


def case_rbf_lbfgs_sampled():
    X, y = _regression(10, n=600, d=3)
    w = np.random.default_rng(10).uniform(0.1, 1.0, size=600)
    return _lmd(
        (X, y),
        {"sample_weight": w},
        n_synthetic=15,
        kernel="rbf",
        solver="lbfgs",
        n_components=32,
        n_regressors=300,
        gamma=0.3,
        max_iter=40,
        random_state=10,
    )


def case_rbf_fallback():
    return _lmd(
        _regression(11, d=3), n_synthetic=4, kernel="rbf", n_components=16, max_iter=30,
        random_state=11,
    )


def case_partial_fit():
    from skdistill import LossMatchingDistiller

    X, y = _regression(12, n=2000, loc=-50.0)
    w = np.random.default_rng(12).uniform(0.0, 2.0, size=2000)
    distiller = LossMatchingDistiller(n_synthetic=20, random_state=12)
    for rows in np.array_split(np.arange(2000), 5):
        distiller.partial_fit(X[rows], y[rows], sample_weight=w[rows])
    return _distiller_outputs(distiller)


def case_partial_fit_lbfgs():
    from skdistill import LossMatchingDistiller

    X, y = _regression(13, n=1000, d=3)
    distiller = LossMatchingDistiller(
        n_synthetic=12, solver="lbfgs", sampling="standardised", max_iter=40, random_state=13
    )
    for rows in np.array_split(np.arange(1000), 3):
        distiller.partial_fit(X[rows], y[rows])
    return _distiller_outputs(distiller)


def case_dask():
    da = pytest.importorskip("dask.array")
    import dask

    from skdistill import LossMatchingDistiller

    X, y = _regression(14, n=2000)
    w = np.random.default_rng(14).uniform(0.5, 1.5, size=2000)
    distiller = LossMatchingDistiller(n_synthetic=15, random_state=14)
    with dask.config.set(scheduler="synchronous"):
        distiller.fit(da.from_array(X, chunks=(300, -1)), da.from_array(y, chunks=300),
                      sample_weight=da.from_array(w, chunks=300))
    return _distiller_outputs(distiller)


def case_distilled_regressor():
    from sklearn.linear_model import Ridge

    from skdistill import DistilledRegressor, LossMatchingDistiller

    X, y = _diabetes()
    model = DistilledRegressor(Ridge(alpha=0.5), LossMatchingDistiller(30, random_state=15))
    model.fit(X, y)
    return {"predict": model.predict(X[:50]), "coef": model.estimator_.coef_}


def case_leverage():
    from skdistill.baselines import LeverageScoreSampler, leverage_scores

    X, y = _regression(16)
    sampler = LeverageScoreSampler(40, uniform_fraction=0.2, random_state=16)
    X_s, y_s = sampler.fit_resample(X, y)
    return {
        "X": X_s,
        "y": y_s,
        "weight": sampler.sample_weight_,
        "indices": sampler.sample_indices_,
        "scores": leverage_scores(X, fit_intercept=False),
    }


def case_stratified():
    from skdistill.baselines import stratified_subset

    _, a, _, _, done, _ = _transitions(17)
    index, weight = stratified_subset(a, done, 100, random_state=17)
    return {"index": index, "weight": weight}


def _bellman(fit_weight=True, **params):
    from skdistill import BellmanDistiller

    s, a, r, s_next, done, w = _transitions(params.get("random_state", 0))
    distiller = BellmanDistiller(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        syn = distiller.fit_resample(s, a, r, s_next, done, w if fit_weight else None)
    out = {f"transitions_{k}": np.asarray(v) for k, v in syn._asdict().items()}
    out.update(
        sample_weight=distiller.sample_weight_,
        loss_gap=np.float64(distiller.loss_gap_),
        heldout_loss_gap=np.float64(distiller.heldout_loss_gap_),
        predictors_W=distiller.predictors_[0],
        predictors_lam=distiller.predictors_[1],
        n_iter=np.int64(distiller.n_iter_),
        n_predictors=np.int64(distiller.n_predictors_),
        cell_counts=np.array([f"{k}:{v}" for k, v in sorted(distiller.cell_counts_.items())]),
    )
    if distiller.support_ is not None:
        out["support"] = distiller.support_
    return out


def case_bellman_exact():
    return _bellman(n_synthetic=120, gamma=0.9, random_state=18)


def case_bellman_exact_unweighted():
    return _bellman(fit_weight=False, n_synthetic=80, gamma=0.95, random_state=19)


def case_bellman_lbfgs_per_action():
    return _bellman(
        n_synthetic=90, gamma=0.9, features="per_action", solver="lbfgs", n_predictors=20,
        max_iter=30, random_state=20,
    )


def case_bellman_lbfgs_subset_init():
    return _bellman(
        n_synthetic=40, gamma=0.9, solver="lbfgs", init="subset", max_iter=30, random_state=21
    )


def case_bellman_select():
    return _bellman(
        n_synthetic=60, gamma=0.9, features="per_action", solver="select", n_predictors=24,
        random_state=22,
    )


def case_fqi():
    from sklearn.ensemble import ExtraTreesRegressor

    from skdistill import FittedQIteration

    s, a, r, s_next, done, w = _transitions(23, n=400)
    fqi = FittedQIteration(
        ExtraTreesRegressor(n_estimators=5, min_samples_leaf=3), gamma=0.9, n_iterations=5,
        random_state=23,
    ).fit(s, a, r, s_next, done, sample_weight=w)
    return {"q_values": fqi.q_values(s[:40]), "predict": fqi.predict(s[:40])}


CASES = {name[5:]: func for name, func in sorted(globals().items()) if name.startswith("case_")}
# L-BFGS runs amplify a last-digit difference over their steps.
LOOSE = {name for name in CASES if "lbfgs" in name or "rbf" in name or "fallback" in name}
# Rows that are one of many exact solutions, reached along a path that rounding steers
# (an L-BFGS run; a cell whose matching leaves directions free): OpenBLAS's kernels for
# another CPU (AVX2 against AVX-512) reach another solution with the same certificate
# (measured: rows 3% and 28% apart, every gap equal to 1e-12). Their rows are not
# compared; their certificates, weights, shapes and dtypes are.
FREE_ROWS = {
    "bellman_exact_unweighted": {"transitions_rewards", "transitions_next_observations"},
    "lbfgs_whitened": {"X_synthetic", "y_synthetic", "returned_X", "returned_y"},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    expected = np.load(GOLDEN / f"{name}.npz", allow_pickle=False)
    actual = CASES[name]()
    assert sorted(actual) == sorted(expected.files)
    rtol = 1e-6 if name in LOOSE else 1e-10
    for key in expected.files:
        want, got = expected[key], np.asarray(actual[key])
        assert got.shape == want.shape and got.dtype == want.dtype, key
        if not EXACT and key in FREE_ROWS.get(name, ()):
            continue
        if not EXACT and name in LOOSE and key == "n_iter":
            # Where L-BFGS stops moves with the rounding too (59 against 55 seen).
            assert abs(int(got) - int(want)) <= max(2, 0.1 * int(want)), (got, want)
        elif EXACT or want.dtype.kind not in "fc":
            np.testing.assert_array_equal(got, want, err_msg=key)
        elif key.endswith("loss_gap"):
            # Gaps at rounding level (1e-15) are all rounding; compare them absolutely.
            np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12, err_msg=key)
        else:
            atol = rtol * max(1.0, float(np.max(np.abs(want), initial=0.0)))
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=key)


if __name__ == "__main__":
    GOLDEN.mkdir(exist_ok=True)
    for name in sys.argv[1:] or sorted(CASES):
        np.savez(GOLDEN / f"{name}.npz", **CASES[name]())
        print("recorded", name)
