"""Ridge regression from moments against a naive reference on the rows themselves."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

from skdistill._core.moments import moments_of_rows
from skdistill._core.ridge import RELATIVE_PENALTIES, ridge_from_moments


def naive_gcv_ridge(X, Y, w, penalties):
    """GCV-chosen ridge written on the rows: weighted standardisation, hat matrix."""
    w = w / w.sum()
    mean_x, mean_y = w @ X, w @ Y
    scale = np.sqrt(w @ (X - mean_x) ** 2)
    Xs, Yc = (X - mean_x) / scale, Y - mean_y
    n = X.shape[0]
    best = None
    for penalty in sorted(penalties, reverse=True):
        A = Xs.T @ (w[:, None] * Xs) + penalty * np.eye(X.shape[1])
        coef = np.linalg.solve(A, Xs.T @ (w[:, None] * Yc))
        rss = float(np.sum(w[:, None] * (Yc - Xs @ coef) ** 2))
        hat = Xs @ np.linalg.solve(A, (w[:, None] * Xs).T)
        df = float(np.trace(hat)) + 1.0
        gcv = rss / (1.0 - df / n) ** 2
        if best is None or gcv < best[0]:
            best = (gcv, penalty, coef)
    _, penalty, coef = best
    return (lambda rows: mean_y + ((rows - mean_x) / scale) @ coef), penalty


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(30, 120),
    p=st.integers(1, 6),
    t=st.integers(1, 2),
    noise=st.floats(0.01, 3.0),
    weighted=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_matches_the_naive_reference(n, p, t, noise, weighted, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 10.0, p) + rng.normal(0, 5, p)
    Y = X @ rng.normal(size=(p, t)) + noise * rng.normal(size=(n, t))
    w = rng.uniform(0.2, 3.0, n) if weighted else np.ones(n)
    predict, penalty = ridge_from_moments(moments_of_rows(np.hstack([X, Y]), w), p, n)
    reference, expected = naive_gcv_ridge(X, Y, w, RELATIVE_PENALTIES)
    assert penalty == expected
    scale = max(1.0, float(np.abs(Y).max()))
    np.testing.assert_allclose(predict(X), reference(X), atol=1e-7 * scale)


def test_is_scikit_learns_ridge_at_the_chosen_penalty():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4)) * [1.0, 10.0, 0.1, 3.0]
    y = np.sin(X[:, 0]) + 0.1 * X[:, 1] + 0.5 * rng.normal(size=300)
    predict, penalty = ridge_from_moments(moments_of_rows(np.column_stack([X, y])), 4, 300)
    scale = X.std(axis=0)
    # sklearn's Ridge minimises ||r||^2 + alpha ||coef||^2: alpha = n * penalty.
    ridge = Ridge(alpha=300 * penalty).fit((X - X.mean(axis=0)) / scale, y)
    np.testing.assert_allclose(
        predict(X)[:, 0], ridge.predict((X - X.mean(axis=0)) / scale), atol=1e-10
    )


def test_constant_inputs_are_left_out_and_noise_raises_the_penalty():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.normal(size=200), np.full(200, 4.0), rng.normal(size=200)])
    clean = X[:, 0] - X[:, 2]
    _, quiet = ridge_from_moments(moments_of_rows(np.column_stack([X, clean])), 3, 200)
    predict, noisy = ridge_from_moments(
        moments_of_rows(np.column_stack([X, clean + 5 * rng.normal(size=200)])), 3, 200
    )
    assert np.isfinite(predict(X)).all()
    assert noisy > quiet


def test_too_few_rows_for_any_penalty_keeps_the_largest():
    X = np.random.default_rng(3).normal(size=(3, 5))
    y = X.sum(axis=1)
    predict, penalty = ridge_from_moments(moments_of_rows(np.column_stack([X, y])), 5, 1)
    assert penalty == RELATIVE_PENALTIES.max()
    assert np.isfinite(predict(X)).all()
