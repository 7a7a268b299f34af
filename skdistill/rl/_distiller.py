"""BellmanDistiller: distil offline-RL transitions by matching Bellman losses."""

import warnings
from numbers import Integral, Real

import numpy as np

from .._core.random_models import auto_n_models, seed_sequence
from .._core.sklearn_private import Interval, StrOptions, _fit_context
from ..base import BaseDistiller
from ._allocation import allocate_transitions
from ._certify import certify_transitions
from ._reweight import shortfall_message
from ._solvers import (
    _SOLVERS,
    BellmanProblem,
    SolverOptions,
    SolverRandom,
)
from ._transitions import CellLayout, Transitions, check_transitions

# solver="select": at most this many predictors with n_predictors="auto" (herding
# costs O(pool k) per selected row).
_MAX_SELECT_PREDICTORS = 128


class BellmanDistiller(BaseDistiller):
    """Distil offline-RL transitions by matching Bellman losses of random Q-predictors.

    Transitions ``(s, a, r, s', terminal)`` with a finite action set are
    split into (action, terminal) cells; the synthetic set keeps every cell's
    share of the training weight (``sample_weight_`` restores the exact shares
    after rounding), its actions and terminal flags, and chooses states,
    rewards and next states so that Bellman losses of random linear
    Q-predictors agree with the training set's:

    - ``features="decomposable"``, ``solver="exact"`` (default):
      ``Q(s, a) = w . s + b[a]``. The Bellman loss of every such predictor is a
      quadratic form in the first and second moments of ``(s, r, s')`` per
      cell, so matching each cell's mean and covariance exactly (the
      closed-form construction of :class:`LossMatchingDistiller`, per cell)
      matches every decomposable Bellman loss, for every reward scale, exactly.
      ``loss_gap_`` certifies it. A cell needs ``min(cell size, 2 d + 2)``
      synthetic transitions for this, so small cells (terminals) get at least
      that many, with correspondingly smaller weights.
    - ``solver="lbfgs"``: the paper's Algorithm 2. ``n_predictors`` random
      predictors ``(W_j, lam_j)`` -- per-action linear ``Q(s, a) = W_j[a] .
      [s, 1]`` for ``features="per_action"`` -- and their training Bellman
      losses (computed in blocks of predictors, in parallel over ``n_jobs``
      threads); the synthetic states, rewards and next states minimise the
      squared loss mismatch by L-BFGS, with subgradients through the max over
      next actions, started from the exact decomposable solution or a random
      stratified subset (``init``).
    - ``solver="select"``: no transition is moved. In every cell, real
      transitions are chosen one at a time (herding) so that the mean of their
      relative Bellman losses tracks the cell's, for ``n_predictors`` random
      predictors (candidates: the cell's transitions, or a random pool of 20
      per transition to choose in large cells); all chosen transitions of a
      cell get the same weight. Next states stay the successors of their
      states.
    - ``solver="reweight"``: no transition is moved either. In every cell,
      real transitions (drawn in proportion to their weights, and exchanged
      for better ones where needed) get the non-negative calibration weights
      closest to uniform that give the cell the training mean and covariance
      of ``(s, r, s')``, of ``(s, r)`` in a terminal cell: every decomposable
      Bellman loss is matched exactly, as with ``"exact"``, by real
      transitions. A cell of at most twice its ``D = (q + 1) (q + 2) / 2``
      constraints (``q`` its columns) is taken whole, a larger one needs
      ``D + 1`` transitions; below that, a warning names the size needed.

    A linear Q-learner on decomposable features sees the full data's Bellman
    losses exactly, and per-action linear ones approximately; this does not
    carry over to tree-based Fitted-Q Iteration, for which a random subset
    stratified by (action, terminal)
    (:func:`skdistill.baselines.stratified_subset`) is often the better choice,
    as measured by ``benchmarks/bench_rl.py`` (see the README's benchmarks).
    ``"exact"`` and ``"lbfgs"`` move ``s`` and ``s'`` independently, so a
    synthetic ``s'`` is no longer the successor of ``(s, a)``.

    Parameters
    ----------
    n_synthetic : int, default=100
        Number of synthetic transitions.
    gamma : float, default=0.99
        Discount factor in [0, 1).
    features : {"decomposable", "per_action"}, default="decomposable"
        Family of linear Q-predictors whose Bellman losses are matched. With
        ``solver="select"``, ``"per_action"`` is the better choice: herding on
        decomposable losses (second moments only) matches them closely by
        choosing unrepresentative transitions.
    solver : {"exact", "lbfgs", "select", "reweight"}, default="exact"
        Closed-form per-cell moment matching (decomposable features only), the
        paper's L-BFGS loss matching, loss matching by selecting real
        transitions, or exact decomposable moment matching by weighting real
        transitions.
    n_predictors : "auto" or int, default="auto"
        Random predictors ``k`` for ``"lbfgs"`` and ``"select"``. ``"auto"`` is
        ``ceil(p (p + 1) / 2 * max(2, ln p))`` for ``p`` predictor parameters
        (``n_actions (d + 1) + 1`` per-action, ``d + n_actions + 1``
        decomposable), as for :class:`LossMatchingDistiller`, at most 128 for
        ``"select"`` (whose cost is ``O(k)`` per candidate and chosen row); the
        paper used 20.
    init : {"auto", "exact", "subset"}, default="auto"
        Start of ``solver="lbfgs"``: the exact decomposable solution, or a
        random stratified subset; ``"auto"`` takes the exact solution when every
        cell has enough synthetic rows for it.
    keep_terminals : bool, default=False
        Give every terminal cell all its transitions (which ``"exact"``,
        ``"select"`` and ``"reweight"`` then return unchanged, and ``"lbfgs"``
        starts from), instead of a proportional share. Terminal transitions are
        rare and Fitted-Q Iteration needs them; ``n_synthetic`` must leave at
        least one transition for every non-terminal cell.
    max_iter : int, default=300
        Maximum L-BFGS iterations.
    tol : float, default=0.0
        L-BFGS stops when the objective falls by less than ``tol`` (relative)
        in a step or the projected gradient is below ``tol``.
    random_state : int, RandomState instance or None, default=None
        Seeds the start subsets (candidate pools for ``"select"``), the
        predictors and the held-out check. The result depends on it alone,
        not on ``n_jobs``.
    n_jobs : int, default=None
        Threads (joblib) for the predictors' training losses. The moment passes
        over the transitions use the threads BLAS has, like ``X.T @ X``.
    verbose : int, default=0
        Verbosity: ``1`` prints L-BFGS progress at least every few seconds and
        a summary, ``3`` every step.

    Attributes
    ----------
    transitions_ : Transitions
        The synthetic transitions (as returned by ``fit_resample``).
    sample_weight_ : ndarray of shape (n_synthetic,)
        Synthetic weights: a cell's training weight over its synthetic rows,
        so the weights sum to the training weight and restore the cells'
        proportions exactly.
    classes_ : ndarray of shape (n_actions,)
        The action labels seen during fit.
    cell_counts_ : dict
        Synthetic transitions per ``(action label, terminal)`` cell.
    loss_gap_ : float
        Certificate for every decomposable linear Q-predictor and reward scale:
        ``eps = max |L_syn / L_train - 1|`` over their Bellman losses, computed
        from the transitions returned (after the cast to the input's dtype) as
        ``||M^{-1/2} (M_syn - M) M^{-1/2}||_2`` for the second moments ``M`` of
        ``(s, onehot(a), r, (1 - t) s', 1 - t)``. Every such predictor's loss on
        the synthetic set is within ``1 +- eps`` of its training loss, whatever
        the solver; ``"exact"`` makes it rounding-level. Per-action predictors
        are not covered: ``heldout_loss_gap_`` samples them.
    heldout_loss_gap_ : float
        Largest relative Bellman-loss error ``|L_syn - L_train| / L_train`` on
        200 fresh random predictors of the ``features`` family.
    predictors_ : tuple (W, lam)
        The matched predictors (``"lbfgs"``, ``"select"``) or the held-out
        ones (``"exact"``), in standardised coordinates.
    n_predictors_ : int
        Number of predictors matched (0 for ``"exact"``).
    support_ : ndarray of shape (n_synthetic,) or None
        ``"select"``, ``"reweight"``: indices of the chosen training
        transitions, cell by cell; ``None`` for the solvers that move
        transitions.
    n_iter_ : int
        L-BFGS iterations (0 for ``"exact"``).
    n_samples_seen_ : int
        Number of training transitions.
    n_features_in_ : int
        Number of observation features.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the observation features, when observations is a DataFrame.

    See Also
    --------
    FittedQIteration : Learn a policy from (distilled) transitions.
    LossMatchingDistiller : The supervised counterpart.

    References
    ----------
    .. [1] Gupta, Saket, Raghuveer, "Algorithmic Guarantees for Distilling
       Supervised and Offline RL Datasets", ICLR 2026.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill import BellmanDistiller
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(2000, 3))
    >>> a = rng.integers(0, 2, size=2000)
    >>> s_next = s + 0.1 * (2 * a[:, None] - 1)
    >>> r = -np.abs(s_next[:, 0])
    >>> done = np.abs(s_next[:, 0]) > 2.5
    >>> distiller = BellmanDistiller(n_synthetic=50, gamma=0.9, random_state=0)
    >>> syn = distiller.fit_resample(s, a, r, s_next, done)
    >>> syn.observations.shape, sorted(distiller.cell_counts_.values())
    ((50, 3), [8, 8, 17, 17])
    >>> bool(distiller.loss_gap_ < 1e-10)
    True
    """

    _parameter_constraints: dict = {
        **BaseDistiller._parameter_constraints,
        "gamma": [Interval(Real, 0, 1, closed="left")],
        "features": [StrOptions({"decomposable", "per_action"})],
        "solver": [StrOptions({"exact", "lbfgs", "select", "reweight"})],
        "n_predictors": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"auto", "exact", "subset"})],
        "keep_terminals": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_synthetic=100,
        *,
        gamma=0.99,
        features="decomposable",
        solver="exact",
        n_predictors="auto",
        init="auto",
        keep_terminals=False,
        max_iter=300,
        tol=0.0,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.n_synthetic = n_synthetic
        self.gamma = gamma
        self.features = features
        self.solver = solver
        self.n_predictors = n_predictors
        self.init = init
        self.keep_terminals = keep_terminals
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(
        self,
        observations,
        actions=None,
        rewards=None,
        next_observations=None,
        terminals=None,
        sample_weight=None,
    ):
        """Distil a transition set; the result is in ``transitions_``.

        Parameters are those of :meth:`fit_resample`.

        Returns
        -------
        self : object
            The fitted distiller.
        """
        self.fit_resample(
            observations, actions, rewards, next_observations, terminals, sample_weight
        )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(
        self,
        observations,
        actions=None,
        rewards=None,
        next_observations=None,
        terminals=None,
        sample_weight=None,
    ):
        """Distil a transition set and return the synthetic transitions.

        Parameters
        ----------
        observations : array-like of shape (n_samples, n_features) or mapping
            States; or a mapping with the keys ``observations``, ``actions``,
            ``rewards``, ``next_observations`` and optionally ``terminals`` (as
            in D4RL datasets), in which case the other arrays are not passed.
        actions : array-like of shape (n_samples,)
            Integer action labels (a finite action set).
        rewards : array-like of shape (n_samples,)
            Rewards of the transitions.
        next_observations : array-like of shape (n_samples, n_features)
            States the transitions lead to.
        terminals : array-like of shape (n_samples,), default=None
            True (or 1) where the episode ended: no bootstrap from the next
            state. ``None`` means no transition is terminal. Time-limit
            truncations are not terminal.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the transitions.

        Returns
        -------
        transitions : Transitions
            The synthetic ``observations`` and ``next_observations`` (in the
            input's float dtype), ``actions`` (training labels), ``rewards``,
            ``terminals`` (bool) and ``sample_weight``.
        """
        S, a, r, S2, t, sw, classes = check_transitions(
            self, observations, actions, rewards, next_observations, terminals, sample_weight
        )
        if self.solver == "exact" and self.features != "decomposable":
            raise ValueError(
                f"solver='exact' matches decomposable predictors only; features="
                f"{self.features!r} has no closed form: use solver='lbfgs'."
            )
        w = np.ones(len(S)) if sw is None else sw
        cells = CellLayout.from_transitions(a, t, w)
        self._check_n_synthetic(
            int(cells.sizes.sum()), what="transitions", weighted=sw is not None
        )
        counts, exact_start = allocate_transitions(
            cells, self.n_synthetic, S.shape[1], self.solver, self.init, self.keep_terminals
        )
        problem = BellmanProblem.from_transitions(
            S, a, r, S2, t, w, cells,
            gamma=self.gamma, features=self.features, n_actions=len(classes),
        )
        random, check_seed = self._random_streams()
        options = SolverOptions(
            self._n_predictors(len(classes), S.shape[1]), exact_start,
            self.max_iter, self.tol, self.verbose, self.n_jobs,
        )
        solution = _SOLVERS[self.solver](problem, counts, random, options)
        self._store(solution, classes, cells, counts, S.dtype)
        certificate = certify_transitions(
            problem, (S, a, r, S2, t, w), self.transitions_, classes, check_seed, self.n_jobs
        )
        self.loss_gap_, self.heldout_loss_gap_ = certificate[:2]
        if self.predictors_ is None:
            self.predictors_ = certificate.predictors
        if solution.calibrated is False:
            warnings.warn(
                shortfall_message(cells, S.shape[1], self.n_synthetic, self.loss_gap_),
                UserWarning,
            )
        self.n_samples_seen_ = len(S)
        return self.transitions_

    def _random_streams(self):
        """The solver's random streams and the held-out check's seed.

        The order of the four children of the seed is part of the reproducibility
        contract: start subsets, exact completion, predictors, check.
        """
        subset, completion, predictors, check = seed_sequence(self.random_state).spawn(4)
        streams = SolverRandom(
            np.random.default_rng(subset), np.random.default_rng(completion), predictors
        )
        return streams, check

    def _n_predictors(self, n_actions, n_features):
        """Random predictors to match: ``n_predictors``, or the ``"auto"`` number."""
        if self.n_predictors != "auto":
            return self.n_predictors
        if self.features == "per_action":
            k = auto_n_models(n_actions * (n_features + 1) + 1)
        else:
            k = auto_n_models(n_features + n_actions + 1)
        return min(k, _MAX_SELECT_PREDICTORS) if self.solver == "select" else k

    def _store(self, solution, classes, cells, counts, dtype):
        """The fitted attributes of a solution."""
        d = (solution.Z.shape[1] - 1) // 2
        self.predictors_ = solution.predictors
        self.n_iter_ = solution.n_iter
        self.n_predictors_ = 0 if solution.predictors is None else len(solution.predictors[1])
        self.support_ = solution.support
        self.classes_ = classes
        self.cell_counts_ = {
            (classes[action].item(), bool(terminal)): int(count)
            for action, terminal, count in zip(cells.actions, cells.terminals, counts)
        }
        self.sample_weight_ = solution.w
        self.transitions_ = Transitions(
            observations=solution.Z[:, :d].astype(dtype),
            actions=classes[solution.a],
            rewards=solution.Z[:, d].copy(),
            next_observations=solution.Z[:, d + 1 :].astype(dtype),
            terminals=solution.t,
            sample_weight=solution.w,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
