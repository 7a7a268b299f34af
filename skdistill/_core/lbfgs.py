"""The paper's Algorithm 1: match the losses of random linear regressors by L-BFGS.

Rows are standardised and homogenised (a trailing 1 when fitting an intercept).
For regressors ``v_j`` (rows of V) with training losses ``l_j = v_j^T M_train v_j``
the objective over the synthetic rows ``Z`` (m x p, last column fixed to 1 with an
intercept) is

    f(Z) = (1 / k) sum_j e_j^2,    e_j = v_j^T (Z^T Z / m) v_j - l_j,

with gradient ``(4 / (k m)) Z V^T diag(e) V``: O(k p^2 + m p^2) per step and
nothing that depends on the number of training rows.
"""

import time

import numpy as np
from scipy import linalg
from scipy.optimize import minimize
from sklearn.utils import gen_batches

from .certificate import model_losses
from .standardise import homogenise
from .threads import single_threaded_blas, thread_map

# Restarts of L-BFGS after an abnormal end of its line search, at most.
MAX_RESTARTS = 3
# Regressors per block of the objective: a few MiB of V, to stay in cache.
MODEL_BLOCK = 4096


def loss_matching_objective(z, V, targets, shape, fit_intercept=True, n_threads=None):
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
    n_threads : int or None, default=None
        None computes over all regressors at once. An int splits them into
        blocks of ``MODEL_BLOCK`` (cache-sized; fixed, so the sums do not depend on
        the threads) shared by ``n_threads`` threads.

    Returns
    -------
    f : float
    grad : ndarray of shape (m * q,)
    """
    m, q = shape
    Z = z.reshape(m, q)
    Zh = homogenise(Z) if fit_intercept else Z
    M = Zh.T @ Zh / m

    def block(rows):
        Vb = V[rows]
        e = model_losses(Vb, M) - targets[rows]
        return float(e @ e), Vb.T @ (Vb * e[:, None])

    k = V.shape[0]
    if n_threads is None:
        f, G = block(slice(None))
    else:
        parts = thread_map(block, list(gen_batches(k, MODEL_BLOCK)), n_threads)
        f, G = sum(part[0] for part in parts), sum(part[1] for part in parts)
    grad = (4.0 / (k * m)) * (Zh @ G)
    return f / k, grad[:, :q].ravel()


def full_rank_start(W, fit_intercept=True, random_state=None):
    """Start rows ``W`` (m, r) completed to full rank with random directions.

    A start set that is flat in some direction (a random subset missing a rare
    category) sits on a saddle of Algorithm 1's objective: the loss along that
    direction has no first-order change and L-BFGS ends there. Each such
    direction (of the rows centred, with an intercept) gets a random unit-spread
    component orthogonal to the rows' others and to the ones vector; other rows
    are left as they are, and a full-rank ``W`` is returned unchanged.

    Returns
    -------
    W : ndarray of shape (m, r)
    """
    m, r = W.shape
    if m - fit_intercept < r:  # too few rows to span every direction at all
        return W
    A = W - W.mean(axis=0) if fit_intercept else W
    U, s, Vt = linalg.svd(A, full_matrices=False)
    flat = s <= max(m, r) * np.finfo(np.float64).eps * max(s.max(initial=0.0), 1.0)
    if not flat.any():
        return W
    keep = np.hstack([np.full((m, int(fit_intercept)), 1.0 / np.sqrt(m)), U[:, ~flat]])
    G = np.random.default_rng(random_state).standard_normal((m, int(flat.sum())))
    for _ in range(2):  # project twice: one Gram-Schmidt pass is not enough in floats
        G -= keep @ (keep.T @ G)
    Q, _ = linalg.qr(G, mode="economic")
    return W + np.sqrt(m) * Q @ Vt[flat]


def solve_loss_matching(
    Z0,
    V,
    targets,
    *,
    fit_intercept=True,
    max_iter=2000,
    tol=0.0,
    verbose=0,
    max_restarts=MAX_RESTARTS,
    n_threads=None,
):
    """Minimise Algorithm 1's objective from ``Z0`` with L-BFGS-B (:func:`minimize_lbfgs`).

    ``n_threads`` is that of :func:`loss_matching_objective`.

    Returns
    -------
    Z : ndarray of shape (m, q)
    result : scipy.optimize.OptimizeResult
    """
    return minimize_lbfgs(
        loss_matching_objective,
        Z0,
        args=(V, targets, Z0.shape, fit_intercept, n_threads),
        max_iter=max_iter,
        tol=tol,
        verbose=verbose,
        max_restarts=max_restarts,
    )


def minimize_lbfgs(
    fun,
    x0,
    args=(),
    *,
    max_iter,
    tol,
    verbose=0,
    label="L-BFGS",
    max_restarts=MAX_RESTARTS,
    stall=None,
):
    """The L-BFGS-B run shared by every moving-point solver: rows in, rows out.

    ``fun(x, *args)`` returns the objective and its gradient at the flattened
    rows ``x``, starting from the rows ``x0``. ``tol`` bounds both
    the relative decrease and the projected gradient (0 runs to machine
    precision or ``max_iter``); BLAS is limited to one thread, the matrices being
    small. ``verbose`` prints the iteration and the objective at most every
    ``PROGRESS_SECONDS`` (every iteration with ``verbose > 2``) and a summary.

    ``stall=(window, rtol)`` also stops the run once ``window`` iterations have
    lowered the objective by less than ``rtol`` times its value, for an objective
    that cannot reach 0 and improves ever more slowly; ``None`` (the default)
    never does.

    When the line search ends abnormally (an outdated curvature memory can stop
    L-BFGS far from the optimum), the run restarts from the point reached with a
    fresh memory and the iterations left, as long as the run just ended lowered
    the objective, at most ``max_restarts`` times (0: a single run).

    Returns
    -------
    X : ndarray of the shape of ``x0``
        The rows L-BFGS ended at.
    result : scipy.optimize.OptimizeResult
        The last run's result, with ``nit``, ``nfev`` and ``njev`` summed over all
        runs and ``n_restarts`` the number of restarts.
    """
    callback = _callback(label, verbose, stall)
    x = np.ascontiguousarray(x0, dtype=np.float64).ravel()
    totals = {"nit": 0, "nfev": 0, "njev": 0}
    previous = np.inf
    with single_threaded_blas():
        for n_restarts in range(max_restarts + 1):
            result = _run_lbfgs(fun, x, args, max_iter - totals["nit"], tol, callback)
            for key in totals:
                totals[key] += int(result.get(key, 0))
            x = result.x
            improved, previous = result.fun < previous and result.nit > 0, result.fun
            if getattr(callback, "stalled", False):
                result.message = (
                    f"STOP: {stall[0]} ITERATIONS LOWERED THE OBJECTIVE BY LESS THAN "
                    f"{stall[1]:g} OF IT"
                )
                break
            if result.status != 2 or totals["nit"] >= max_iter or not improved:
                break
            if n_restarts < max_restarts and verbose:
                print(
                    f"{label}: line search ended abnormally after {totals['nit']} "
                    f"iterations at objective {result.fun:.3e}; restarting with a fresh "
                    f"memory ({max_iter - totals['nit']} iterations left)"
                )
    result.update(totals, n_restarts=n_restarts)
    if verbose:
        restarts = f", {n_restarts} restarts" if n_restarts else ""
        print(
            f"{label}: {result.nit} iterations{restarts}, objective {result.fun:.3e} "
            f"({result.message})"
        )
    return result.x.reshape(np.shape(x0)), result


# Longest silence of a verbose L-BFGS run, in seconds.
PROGRESS_SECONDS = 2.0


def _progress(label, verbose):
    """An L-BFGS callback printing the objective, at most every PROGRESS_SECONDS."""
    state = {"iteration": 0, "last": time.perf_counter()}

    def callback(intermediate_result):
        state["iteration"] += 1
        now = time.perf_counter()
        if verbose > 2 or now - state["last"] >= PROGRESS_SECONDS:
            state["last"] = now
            print(
                f"{label}: iteration {state['iteration']}, objective "
                f"{intermediate_result.fun:.6g}",
                flush=True,
            )

    return callback


def _callback(label, verbose, stall):
    """The run's L-BFGS callback: progress (:func:`_progress`), the stall rule, both or none.

    With ``stall=(window, rtol)`` it raises ``StopIteration`` (which ends scipy's
    run) once the objective is above ``(1 - rtol)`` times its value ``window``
    iterations before, and sets its attribute ``stalled``.
    """
    progress = _progress(label, verbose) if verbose else None
    if stall is None:
        return progress
    window, rtol = stall
    history = []

    def callback(intermediate_result):
        if progress is not None:
            progress(intermediate_result)
        history.append(float(intermediate_result.fun))
        if len(history) > window and history[-1] > (1.0 - rtol) * history[-1 - window]:
            callback.stalled = True
            raise StopIteration

    callback.stalled = False
    return callback


def _run_lbfgs(fun, x, args, max_iter, tol, callback):
    """One scipy L-BFGS-B run of at most ``max_iter`` iterations from ``x``."""
    return minimize(
        fun,
        x,
        args=args,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={"maxiter": max_iter, "ftol": tol, "gtol": tol, "maxcor": 30},
    )
