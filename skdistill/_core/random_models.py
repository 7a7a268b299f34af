"""Random-model sampling, written once for every distiller.

Random models are drawn in fixed-size blocks, each from its own child of one
``numpy.random.SeedSequence``. The blocks are fixed by the number of models alone,
so the models (and anything computed from them block by block, such as their
training losses) depend on the seed only, never on ``n_jobs``.
"""

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils import check_random_state

# Models per block; part of the reproducibility contract, do not tie to n_jobs.
_BLOCK = 256


def seed_sequence(random_state):
    """A ``SeedSequence`` determined by a scikit-learn ``random_state``.

    An int seeds it directly; a ``RandomState`` (or ``None``) draws the entropy
    from it, so a fitted estimator with an int ``random_state`` is reproducible.
    """
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, (int, np.integer)):
        return np.random.SeedSequence(int(random_state))
    rng = check_random_state(random_state)
    return np.random.SeedSequence(int(rng.randint(np.iinfo(np.int32).max)))


def map_random_blocks(func, n_models, seed, *, n_jobs=None, block=_BLOCK):
    """Apply ``func(rng, n)`` to consecutive blocks of ``n_models`` random models.

    Parameters
    ----------
    func : callable
        ``func(rng, n)`` draws ``n`` models with the ``numpy.random.Generator``
        ``rng`` and returns an array (or a tuple of arrays) with ``n`` rows.
    n_models : int
        Total number of models.
    seed : numpy.random.SeedSequence
        Root seed; block ``b`` uses child ``b`` of ``seed.spawn``.
    n_jobs : int, default=None
        Threads over blocks (numpy's generators and BLAS release the GIL).

    Returns
    -------
    ndarray or tuple of ndarray
        The blocks' results stacked along the first axis, in block order.
    """
    sizes = [min(block, n_models - start) for start in range(0, n_models, block)]
    children = seed.spawn(len(sizes))
    tasks = (
        delayed(func)(np.random.default_rng(child), size)
        for child, size in zip(children, sizes)
    )
    if n_jobs in (None, 1) or len(sizes) <= 1:
        results = [task[0](*task[1], **task[2]) for task in tasks]
    else:
        results = Parallel(n_jobs=n_jobs, prefer="threads")(tasks)
    if not results:
        raise ValueError("n_models must be at least 1.")
    if isinstance(results[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*results))
    return np.concatenate(results)


def sample_gaussian_models(n_models, n_dims, seed, *, n_jobs=None):
    """Regressors ``v ~ N(0, I / n_dims)``, shape (n_models, n_dims).

    This is the sampling distribution of the paper's Algorithm 1.
    """
    scale = 1.0 / np.sqrt(n_dims)

    def draw(rng, n):
        return rng.standard_normal((n, n_dims)) * scale

    return map_random_blocks(draw, n_models, seed, n_jobs=n_jobs)


def auto_n_models(n_dims):
    """``ceil(p (p + 1) / 2 * max(2, ln p))`` models for a p-dimensional linear family.

    ``p (p + 1) / 2`` is the paper's lower bound (the dimension of the symmetric
    p x p matrices the losses must pin down) and ``O(p^2 log p)`` suffices; the
    factor of at least 2 is the margin measured to give full-data accuracy.
    """
    p = int(n_dims)
    return int(np.ceil(p * (p + 1) / 2 * max(2.0, np.log(p))))
