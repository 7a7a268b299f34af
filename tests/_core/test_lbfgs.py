"""The paper's Algorithm 1 objective and its gradient."""


import numpy as np
import pytest
from scipy.optimize import check_grad

from skdistill._core.lbfgs import loss_matching_objective


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
