"""Ridge regression from moments alone, its penalty chosen by generalised cross-validation."""

import numpy as np

# Penalties tried, relative to the mean variance of the standardised inputs (1).
RELATIVE_PENALTIES = np.logspace(-6, 2, 17)


def ridge_from_moments(moments, n_inputs, n_rows, penalties=RELATIVE_PENALTIES):
    """Ridge regression of the trailing columns on the first ``n_inputs``, from moments.

    The inputs are standardised (unit weighted variance; constant columns are left
    out) and the targets centred, as for scikit-learn's ``Ridge`` after a
    ``StandardScaler``. The penalty minimises the generalised cross-validation
    criterion ``(RSS / n) / (1 - df / n)^2`` (Golub, Heath and Wahba, 1979), ``n``
    the number of rows (not the weight sum, which need not count anything),
    ``df`` the effective number of parameters (the intercept included), ``RSS``
    summed over the targets; everything follows from one eigendecomposition of
    the inputs' covariance.

    Parameters
    ----------
    moments : Moments
        Weighted moments of ``[inputs, targets]``.
    n_inputs : int
    n_rows : int
        Rows the moments were computed from.
    penalties : array-like, default=RELATIVE_PENALTIES

    Returns
    -------
    predict : callable
        ``predict(rows)`` gives the fitted targets of the inputs ``rows[:, :n_inputs]``,
        shape ``(k, n_targets)``.
    penalty : float
        The penalty chosen.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill._core.moments import moments_of_rows
    >>> from skdistill._core.ridge import ridge_from_moments
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 3.0
    >>> predict, penalty = ridge_from_moments(moments_of_rows(np.column_stack([X, y])), 3, 200)
    >>> bool(np.allclose(predict(X[:5]), y[:5, None], atol=1e-4))
    True
    """
    n = float(n_rows)
    covariance = moments.comoment / moments.weight_sum
    scale = np.sqrt(np.diag(covariance)[:n_inputs])
    live = scale > 1e-12 * max(1.0, float(scale.max(initial=0.0)))
    inputs = np.flatnonzero(live)
    S = covariance[np.ix_(inputs, inputs)] / np.outer(scale[live], scale[live])
    B = covariance[inputs, n_inputs:] / scale[live][:, None]
    target_variance = float(np.trace(covariance[n_inputs:, n_inputs:]))
    values, vectors = np.linalg.eigh(S)
    values = np.maximum(values, 0.0)
    projected = vectors.T @ B
    energy = np.sum(projected**2, axis=1)
    best = None
    # From the largest penalty down, so that a tie (all infinite: df >= n) keeps it.
    for penalty in np.sort(np.asarray(penalties, dtype=np.float64))[::-1]:
        shrink = values / (values + penalty)
        # RSS / n = tr Var(y) - 2 b^T w + w^T S w, with w = (S + penalty I)^-1 b.
        rss = target_variance - float(energy @ ((2.0 - shrink) / (values + penalty)))
        df = float(shrink.sum()) + 1.0
        gcv = max(rss, 0.0) / (1.0 - df / n) ** 2 if df < n else np.inf
        if best is None or gcv < best[0]:
            best = (gcv, penalty)
    penalty = best[1]
    W = vectors @ (projected / (values + penalty)[:, None])
    mean = moments.mean

    def predict(rows):
        Xs = (np.asarray(rows, dtype=np.float64)[:, inputs] - mean[inputs]) / scale[live]
        return mean[n_inputs:] + Xs @ W

    return predict, float(penalty)
