"""The paper's Algorithm 1 objective and its gradient; restarts; the full-rank start."""

import numpy as np
import pytest
from scipy.optimize import OptimizeResult, check_grad, minimize

from skdistill._core import lbfgs
from skdistill._core.lbfgs import full_rank_start, loss_matching_objective, minimize_lbfgs


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loss_matching_gradient(fit_intercept):
    rng = np.random.default_rng(10)
    m, q = 7, 3
    p = q + fit_intercept
    V = rng.normal(size=(30, p))
    targets = rng.uniform(0.5, 2.0, size=30)
    z = rng.normal(size=m * q)

    def f(z):
        return loss_matching_objective(z, V, targets, (m, q), fit_intercept)[0]

    def g(z):
        return loss_matching_objective(z, V, targets, (m, q), fit_intercept)[1]

    assert check_grad(f, g, z) < 1e-6 * max(1.0, np.linalg.norm(g(z)))


def test_loss_matching_objective_naive():
    rng = np.random.default_rng(11)
    m, q = 5, 2
    V = rng.normal(size=(9, q + 1))
    targets = rng.uniform(size=9)
    Z = rng.normal(size=(m, q))
    Zh = np.hstack([Z, np.ones((m, 1))])
    naive = np.mean([(np.mean((Zh @ v) ** 2) - t) ** 2 for v, t in zip(V, targets)])
    f, _ = loss_matching_objective(Z.ravel(), V, targets, (m, q), True)
    assert f == pytest.approx(naive, rel=1e-12)


def _quadratic(x):
    return float(x @ x), 2.0 * x


def _abnormal_first(monkeypatch, nit=7, fun=None):
    """Make the first L-BFGS run end abnormally after ``nit`` steps; record every call."""
    calls = []

    def fake(fun_, x0, args=(), **kwargs):
        calls.append(kwargs["options"]["maxiter"])
        if len(calls) == 1:
            x = 0.5 * x0 if nit else x0
            return OptimizeResult(
                x=x, fun=fun_(x)[0] if fun is None else fun, status=2, nit=nit, nfev=nit + 3,
                njev=nit + 3, message="ABNORMAL_TERMINATION_IN_LNSRCH",
            )
        return minimize(fun_, x0, args=args, **kwargs)

    monkeypatch.setattr(lbfgs, "minimize", fake)
    return calls


def test_restart_after_abnormal_end(monkeypatch, capsys):
    calls = _abnormal_first(monkeypatch)
    x0 = np.arange(1.0, 7.0).reshape(2, 3)
    X, result = minimize_lbfgs(_quadratic, x0, max_iter=50, tol=0.0, verbose=1)
    assert calls[0] == 50 and calls[1] == 43  # the iterations left
    assert result.n_restarts == 1 and result.nit > 7
    expected = minimize(_quadratic, 0.5 * x0.ravel(), jac=True, method="L-BFGS-B",
                        options={"maxiter": 43, "ftol": 0.0, "gtol": 0.0, "maxcor": 30})
    assert result.nit == 7 + expected.nit
    assert result.nfev == 10 + expected.nfev
    np.testing.assert_allclose(X, expected.x.reshape(2, 3))
    out = capsys.readouterr().out
    assert "restarting with a fresh memory (43 iterations left)" in out
    assert f"{result.nit} iterations, 1 restarts" in out


def test_no_restart_without_progress_or_when_disabled(monkeypatch):
    calls = _abnormal_first(monkeypatch, nit=0)
    x0 = np.ones(4)
    X, result = minimize_lbfgs(_quadratic, x0, max_iter=50, tol=0.0)
    assert len(calls) == 1 and result.nit == 0 and result.n_restarts == 0
    np.testing.assert_array_equal(X, x0)
    calls = _abnormal_first(monkeypatch)
    _, result = minimize_lbfgs(_quadratic, x0, max_iter=50, tol=0.0, max_restarts=0)
    assert len(calls) == 1 and result.nit == 7 and result.status == 2


def test_restarts_are_bounded(monkeypatch):
    calls = []

    def always_abnormal(fun_, x0, args=(), **kwargs):
        calls.append(kwargs["options"]["maxiter"])
        x = 0.9 * x0
        return OptimizeResult(x=x, fun=fun_(x)[0], status=2, nit=2, nfev=3, njev=3, message="")

    monkeypatch.setattr(lbfgs, "minimize", always_abnormal)
    _, result = minimize_lbfgs(_quadratic, np.ones(3), max_iter=100, tol=0.0)
    assert len(calls) == lbfgs.MAX_RESTARTS + 1 and calls == [100, 98, 96, 94][: len(calls)]
    assert result.nit == 2 * len(calls) and result.n_restarts == lbfgs.MAX_RESTARTS
    _, result = minimize_lbfgs(_quadratic, np.ones(3), max_iter=4, tol=0.0)
    assert result.nit == 4 and result.n_restarts == 1  # no iterations left after two runs


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_full_rank_start_fills_flat_directions(fit_intercept):
    rng = np.random.default_rng(3)
    W = rng.normal(size=(9, 4))
    W[:, 2] = W[:, 0] - 2.0 * W[:, 1] + (0.7 if fit_intercept else 0.0)
    few = rng.normal(size=(3, 4))  # too few rows to span: left as they are
    np.testing.assert_array_equal(full_rank_start(few, fit_intercept), few)
    full = rng.normal(size=(9, 4))
    np.testing.assert_array_equal(full_rank_start(full, fit_intercept, 0), full)
    completed = full_rank_start(W, fit_intercept, 0)
    A = completed - completed.mean(axis=0) if fit_intercept else completed
    assert np.linalg.matrix_rank(A) == 4
    # Only the flat direction moves, and the mean stays.
    flat = np.array([1.0, -2.0, -1.0, 0.0])
    moved = completed - W
    np.testing.assert_allclose(moved - np.outer(moved @ flat, flat) / (flat @ flat), 0, atol=1e-12)
    if fit_intercept:
        np.testing.assert_allclose(completed.mean(axis=0), W.mean(axis=0), atol=1e-12)


def test_blocked_objective_does_not_depend_on_threads(monkeypatch):
    monkeypatch.setattr(lbfgs, "MODEL_BLOCK", 7)
    rng = np.random.default_rng(12)
    m, q = 6, 3
    V = rng.normal(size=(40, q + 1))
    targets = rng.uniform(0.5, 2.0, size=40)
    z = rng.normal(size=m * q)
    whole = loss_matching_objective(z, V, targets, (m, q), True)
    one, two = (loss_matching_objective(z, V, targets, (m, q), True, n) for n in (1, 3))
    assert one[0] == two[0]
    np.testing.assert_array_equal(one[1], two[1])
    assert one[0] == pytest.approx(whole[0], rel=1e-12)
    np.testing.assert_allclose(one[1], whole[1], rtol=1e-12, atol=1e-15)


def test_verbose_progress_is_throttled(monkeypatch, capsys):
    from skdistill._core import lbfgs

    def quadratic(x):
        return float(x @ x), 2 * x

    x0 = np.arange(1.0, 30.0)
    monkeypatch.setattr(lbfgs, "PROGRESS_SECONDS", 1e9)  # only the summary
    minimize_lbfgs(quadratic, x0, max_iter=50, tol=0.0, verbose=1, label="test")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("test:") and "iterations" in lines[0]
    monkeypatch.setattr(lbfgs, "PROGRESS_SECONDS", 0.0)  # a line at every iteration
    _, result = minimize_lbfgs(quadratic, x0, max_iter=50, tol=0.0, verbose=1, label="test")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == result.nit + 1 and "iteration 1, objective" in lines[0]
