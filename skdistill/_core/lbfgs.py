"""The paper's Algorithm 1: match the losses of random linear regressors by L-BFGS.

Rows are standardised and homogenised (a trailing 1 when fitting an intercept).
For regressors ``v_j`` (rows of V) with training losses ``l_j = v_j^T M_train v_j``
the objective over the synthetic rows ``Z`` (m x p, last column fixed to 1 with an
intercept) is

    f(Z) = (1 / k) sum_j e_j^2,    e_j = v_j^T (Z^T Z / m) v_j - l_j,

with gradient ``(4 / (k m)) Z V^T diag(e) V``: O(k p^2 + m p^2) per step and
nothing that depends on the number of training rows.
"""

import numpy as np
from scipy.optimize import minimize

from .certificate import model_losses
from .standardise import homogenise
from .threads import single_threaded_blas


def loss_matching_objective(z, V, targets, shape, fit_intercept=True):
    """Objective and gradient of Algorithm 1 at the flattened free rows ``z``.

    Parameters
    ----------
    z : ndarray of shape (m * q,)
        Synthetic rows (standardised, without the homogenising 1), flattened.
    V : ndarray of shape (k, p)
        Regressors, ``p = q + fit_intercept``.
    targets : ndarray of shape (k,)
        Training losses of the regressors.
    shape : tuple (m, q)
    fit_intercept : bool

    Returns
    -------
    f : float
    grad : ndarray of shape (m * q,)
    """
    m, q = shape
    Z = z.reshape(m, q)
    Zh = homogenise(Z) if fit_intercept else Z
    e = model_losses(V, Zh.T @ Zh / m) - targets
    k = V.shape[0]
    G = V.T @ (V * e[:, None])
    grad = (4.0 / (k * m)) * (Zh @ G)
    return float(e @ e) / k, grad[:, :q].ravel()


def solve_loss_matching(Z0, V, targets, *, fit_intercept=True, max_iter=2000, tol=0.0, verbose=0):
    """Minimise Algorithm 1's objective from ``Z0`` with L-BFGS-B.

    Returns
    -------
    Z : ndarray of shape (m, q)
    result : scipy.optimize.OptimizeResult
    """
    return minimize_lbfgs(
        loss_matching_objective,
        Z0,
        args=(V, targets, Z0.shape, fit_intercept),
        max_iter=max_iter,
        tol=tol,
        verbose=verbose,
    )


def minimize_lbfgs(fun, x0, args=(), *, max_iter, tol, verbose=0, label="L-BFGS"):
    """The L-BFGS-B run shared by every moving-point solver: rows in, rows out.

    ``fun(x, *args)`` returns the objective and its gradient at the flattened
    rows ``x``, starting from the rows ``x0``. ``tol`` bounds both
    the relative decrease and the projected gradient (0 runs to machine
    precision or ``max_iter``); BLAS is limited to one thread, the matrices being
    small. ``verbose > 1`` prints the objective at every iteration, ``verbose``
    a summary.

    Returns
    -------
    X : ndarray of the shape of ``x0``
        The rows L-BFGS ended at.
    result : scipy.optimize.OptimizeResult
    """
    callback = None
    if verbose > 1:

        def callback(intermediate_result):
            print(f"{label}: objective {intermediate_result.fun:.6g}")

    with single_threaded_blas():
        result = minimize(
            fun,
            np.ascontiguousarray(x0, dtype=np.float64).ravel(),
            args=args,
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={"maxiter": max_iter, "ftol": tol, "gtol": tol, "maxcor": 30},
        )
    if verbose:
        print(f"{label}: {result.nit} iterations, objective {result.fun:.3e} ({result.message})")
    return result.x.reshape(np.shape(x0)), result
