"""Offline RL: greedy returns of Fitted-Q Iteration on distilled vs subsampled transitions.

For each environment (CartPole-v1, Acrobot-v1; MountainCar-v0 on request) and each
offline collection (``--collections``: epsilon-greedy heuristic behaviour policies,
``epsilon:seed``), the benchmark collects ``--n-transitions`` transitions, then for
every size ``m`` and seed trains Fitted-Q Iteration with every learner
(``--learners``: ``trees:N:LEAF`` for ExtraTrees with N trees and
``min_samples_leaf=LEAF``, ``mlp`` for the neural configuration below) on

* ``plain``: a uniformly random subset of m transitions (the paper's D_rand);
* ``stratified``: a random subset drawn per (action, terminal) cell in the data's
  proportions, weighted to keep the proportions exactly (baseline 1);
* ``terminals``: the same, keeping every terminal transition
  (``stratified_subset(keep_terminals=True)``; baseline 2, the stronger);
* ``exact``: ``BellmanDistiller`` defaults (decomposable features, exact per-cell
  moments: every decomposable linear Bellman loss matched, transitions moved);
* ``lbfgs``: ``BellmanDistiller(features="per_action", solver="lbfgs",
  n_predictors=20)``, the paper's Algorithm 2 with its k = 20;
* ``select``: real transitions chosen per cell by herding on per-action losses;
* ``reweight``: ``BellmanDistiller(solver="reweight")``: real transitions per cell
  with calibration weights matching every decomposable linear Bellman loss;
* ``reweight_terminals``, ``exact_terminals``: the same with ``keep_terminals=True``;

and on the full data (``--full-seeds`` FQI seeds, the paper's D_train). Returns are
means over ``--episodes`` seeded evaluation episodes (the same episode seeds for
every method at a given seed). Normalised return: 0 is the worst possible return
(0 for CartPole, -500 for Acrobot, -200 for MountainCar), 1 the mean return of
FQI with the same learner on the full collection (or the best possible return, where
that learner failed on the full collection). A paired difference against a
baseline uses the same seed (subset seed, learner seed, episode seeds); its
standard error is over seeds.

Printed: one table per (learner, collection) with a row per (environment, m,
method): mean return +- s.e., normalised return, paired normalised differences
to both baselines +- s.e., the largest relative error of per-action linear
Bellman losses on 200 held-out random predictors (what the distillers optimise),
and distillation seconds. Then the pooled paired difference of every method
against each baseline over the environments and m >= ``--pool-min-m``, per
(learner, collection) and overall, with the verdict (> 2 s.e.). ``--save``
writes the raw returns as JSON; ``--load`` re-prints the tables from such a file.

Usage: ``nice python benchmarks/bench_rl.py [--quick] [--envs CartPole-v1,Acrobot-v1]
[--collections 0.5:0,0.3:1] [--learners trees:50:5,trees:25:10] [--n-transitions 20000]
[--sizes 1000,2000] [--seeds 10] [--episodes 10] [--iterations 50] [--full-seeds 2]
[--methods ...] [--n-jobs 2] [--save results.json] [--load results.json]``
"""

import argparse
import json
import time
import warnings
from functools import partial

import numpy as np
from joblib import Parallel, delayed
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import BellmanDistiller, FittedQIteration, collect_transitions, evaluate_policy
from skdistill.baselines import stratified_subset
from skdistill.rl._bellman import bellman_losses, draw_predictors

GAMMA = 0.99
KEYS = ("observations", "actions", "rewards", "next_observations", "terminals")
BASELINES = ("plain", "stratified", "terminals")  # those run are reported against


def _cartpole(observation):
    return int(observation[2] + 0.5 * observation[3] > 0)


def _acrobot(observation):
    return 2 if observation[5] > 0 else 0


def _mountaincar(observation):
    return 2 if observation[1] > 0 else 0


# Behaviour policy, worst return, FQI iterations (None: --iterations), best return.
ENVIRONMENTS = {
    "CartPole-v1": (_cartpole, 0.0, None, 500.0),
    "Acrobot-v1": (_acrobot, -500.0, None, 0.0),
    "MountainCar-v0": (_mountaincar, -200.0, 150, 0.0),
}


# --------------------------------------------------------------------- subsets


def plain(data, m, seed):
    rng = np.random.default_rng(seed)
    index = rng.choice(len(data["rewards"]), size=m, replace=False)
    return {key: data[key][index] for key in KEYS} | {"sample_weight": None}


def stratified(data, m, seed, keep_terminals=False):
    index, weight = stratified_subset(
        data["actions"], data["terminals"], m, keep_terminals=keep_terminals, random_state=seed
    )
    return {key: data[key][index] for key in KEYS} | {"sample_weight": weight}


def distilled(data, m, seed, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        syn = BellmanDistiller(m, gamma=GAMMA, random_state=seed, **params).fit_resample(
            {key: data[key] for key in KEYS}
        )
    return syn._asdict()


METHODS = {
    "plain": plain,
    "stratified": stratified,
    "terminals": partial(stratified, keep_terminals=True),
    "exact": partial(distilled),
    "exact_terminals": partial(distilled, keep_terminals=True),
    "lbfgs": partial(distilled, features="per_action", solver="lbfgs", n_predictors=20),
    "select": partial(distilled, features="per_action", solver="select"),
    "reweight": partial(distilled, solver="reweight"),
    "reweight_terminals": partial(distilled, solver="reweight", keep_terminals=True),
}


# ----------------------------------------------------------------- FQI + returns


def make_fqi(learner, iterations, seed, n, d):
    """FittedQIteration for a learner spec (``trees:N:LEAF`` or ``mlp``) on ``n``
    transitions of ``d``-dimensional states."""
    kind, *numbers = learner.split(":")
    if kind == "trees":
        trees, leaf = (int(x) for x in numbers)
        forest = ExtraTreesRegressor(
            n_estimators=trees, min_samples_leaf=leaf, n_jobs=1, random_state=seed
        )
        return FittedQIteration(forest, gamma=GAMMA, n_iterations=iterations, random_state=seed)
    if kind == "mlp":
        return neural_fqi(iterations, seed, n, d)
    raise ValueError(f"unknown learner {learner!r}")


def neural_fqi(iterations, seed, n, d):
    """The two-layer network of the paper's setting, configured so that FQI works.

    The ``d`` state columns standardised and the action's one-hot columns left as
    0/1 (standardising them too made the greedy policy on the full Acrobot
    collection choose "no torque" at rest, a fixed point, for 2 of 2 network seeds,
    against 1 of 5 with 0/1 columns), targets standardised at every iteration
    (``target_scaling="standard"``, which survives warm starts), tanh, weight decay
    1.5 (1e-4 lets the Q-values diverge), about 240 Adam steps of 256 per
    iteration, warm-started, with scikit-learn's no-improvement stop disabled
    (the loss record carries over between warm starts and stopped it after ~10
    epochs).
    """
    mlp = MLPRegressor(
        hidden_layer_sizes=(64, 64), activation="tanh", learning_rate_init=1e-3,
        batch_size=256, alpha=1.5, max_iter=max(1, min(30, round(60_000 / n))),
        warm_start=True, early_stopping=False, tol=0.0, n_iter_no_change=10**6,
        random_state=seed,
    )
    states = ColumnTransformer(
        [("states", StandardScaler(), slice(0, d))], remainder="passthrough"
    )
    return FittedQIteration(
        make_pipeline(states, mlp), gamma=GAMMA, n_iterations=iterations,
        warm_start=True, target_scaling="standard",
    )


def fit_fqi(transitions, learner, iterations, seed):
    n, d = transitions["observations"].shape
    fqi = make_fqi(learner, iterations, seed, n, d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # MLP: a few epochs per iteration
        return fqi.fit(
            *(transitions[key] for key in KEYS), sample_weight=transitions.get("sample_weight")
        )


def _greedy(fqi):
    """The greedy policy; for forests, sums the trees directly (no joblib per step)."""
    forest = fqi.estimator_
    if not isinstance(forest, ExtraTreesRegressor):
        return fqi.predict
    trees = [tree.tree_ for tree in forest.estimators_]
    n_actions = len(fqi.classes_)

    def policy(obs):
        n, d = obs.shape
        X = np.zeros((n * n_actions, d + n_actions), dtype=np.float32)
        X[:, :d] = np.repeat(obs, n_actions, axis=0)
        X[np.arange(n * n_actions), d + np.tile(np.arange(n_actions), n)] = 1.0
        q = sum(tree.predict(X)[:, 0] for tree in trees) / len(trees)
        return fqi.classes_[q.reshape(n, n_actions).argmax(axis=1)]

    return policy


def greedy_return(fqi, env_id, n_episodes, seed):
    return float(evaluate_policy(env_id, _greedy(fqi), n_episodes, seed=10_000 * seed).mean())


# -------------------------------------------------------------- loss context


class LossCheck:
    """Held-out per-action linear Bellman losses of the full data (standardised)."""

    def __init__(self, data, n_predictors=200, seed=12345):
        S = data["observations"].astype(np.float64)
        self.shift, self.scale = S.mean(0), S.std(0) + 1e-12
        self.rscale = np.sqrt(np.mean(data["rewards"] ** 2)) or 1.0
        self.classes = np.unique(data["actions"])
        self.W, self.lam = draw_predictors(
            np.random.default_rng(seed), n_predictors, "per_action", len(self.classes), S.shape[1]
        )
        self.train = self.losses(data)

    def losses(self, tr):
        a = np.searchsorted(self.classes, tr["actions"])
        return bellman_losses(
            self.W,
            self.lam,
            (np.asarray(tr["observations"], float) - self.shift) / self.scale,
            a,
            np.asarray(tr["rewards"], float) / self.rscale,
            (np.asarray(tr["next_observations"], float) - self.shift) / self.scale,
            np.asarray(tr["terminals"], bool),
            GAMMA,
            tr.get("sample_weight"),
        )

    def error(self, tr):
        return float(np.max(np.abs(self.losses(tr) - self.train) / self.train))


# ------------------------------------------------------------------------ run


def run_cell(key, data, m, seed, args, check, iterations):
    """All methods and learners at one (environment, collection, m, seed)."""
    out = []
    for name in args.methods:
        start = time.perf_counter()
        transitions = METHODS[name](data, m, seed)
        seconds = time.perf_counter() - start
        error = check.error(transitions)
        for learner in args.learners:
            fqi = fit_fqi(transitions, learner, iterations, seed)
            value = greedy_return(fqi, key[0], args.episodes, seed)
            out.append([*key, m, name, learner, seed, value, error, seconds])
    return out


def full_return(key, data, seed, learner, iterations, args):
    fqi = fit_fqi(data | {"sample_weight": None}, learner, iterations, seed)
    return [*key, learner, seed, greedy_return(fqi, key[0], args.episodes, seed)]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny smoke run")
    p.add_argument("--envs", default="CartPole-v1,Acrobot-v1")
    p.add_argument("--collections", default="0.5:0,0.3:1", help="epsilon:seed,...")
    p.add_argument("--learners", default="trees:50:5,trees:25:10")
    p.add_argument("--n-transitions", type=int, default=20_000)
    p.add_argument("--sizes", default="1000,2000")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--iterations", type=int, default=50, help="FQI iterations (MountainCar: 150)")
    p.add_argument("--full-seeds", type=int, default=2)
    p.add_argument("--methods", default="stratified,terminals,exact,reweight,reweight_terminals")
    p.add_argument("--pool-min-m", type=int, default=1000)
    p.add_argument("--n-jobs", type=int, default=1, help="processes over (env, m, seed)")
    p.add_argument("--save", help="write the raw returns here (JSON)")
    p.add_argument("--load", help="print the tables of a --save file instead of running")
    args = p.parse_args(argv)
    if args.quick:
        args.n_transitions, args.sizes, args.seeds, args.episodes = 2000, "200,300", 2, 2
        args.iterations, args.full_seeds, args.collections = 5, 1, "0.5:0"
        args.learners = "trees:10:5"
    args.envs = args.envs.split(",")
    args.collections = [
        (float(eps), int(seed)) for eps, seed in (c.split(":") for c in args.collections.split(","))
    ]
    args.learners = args.learners.split(",")
    args.sizes = [int(m) for m in args.sizes.split(",")]
    args.methods = args.methods.split(",")
    return args


def collect(args):
    """The offline collections, their loss checks and FQI iterations."""
    datasets, checks, iterations = {}, {}, {}
    for env_id in args.envs:
        policy, _, iters, _ = ENVIRONMENTS[env_id]
        for epsilon, seed in args.collections:
            key = (env_id, epsilon, seed)
            data = collect_transitions(
                env_id, args.n_transitions, policy=policy, epsilon=epsilon, seed=seed
            )
            datasets[key], checks[key] = data, LossCheck(data)
            iterations[key] = iters if iters and not args.quick else args.iterations
            print(
                f"{env_id} (epsilon {epsilon}, seed {seed}): {args.n_transitions} transitions, "
                f"{int(data['terminals'].sum())} terminal, {int(data['timeouts'].sum())} "
                f"time-outs, actions {np.bincount(data['actions']).tolist()}",
                flush=True,
            )
    return datasets, checks, iterations


def run(args):
    datasets, checks, iterations = collect(args)
    start = time.perf_counter()
    parallel = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")
    full = list(
        parallel(
            delayed(full_return)(key, datasets[key], seed, learner, iterations[key], args)
            for key in datasets
            for learner in args.learners
            for seed in range(args.full_seeds)
        )
    )
    print(f"full data done [{time.perf_counter() - start:.0f} s]", flush=True)
    rows = []
    for out in parallel(
        delayed(run_cell)(key, datasets[key], m, seed, args, checks[key], iterations[key])
        for key in datasets
        for m in args.sizes
        for seed in range(args.seeds)
    ):
        rows.extend(out)
        env_id, eps, cseed, m, _, _, seed = out[0][:7]
        print(
            f"  {env_id} eps={eps} m={m} seed={seed}: "
            + ", ".join(f"{r[4]}/{r[5]} {r[7]:.0f}" for r in out)
            + f"  [{time.perf_counter() - start:.0f} s]",
            flush=True,
        )
    return {"full": full, "rows": rows, "args": vars(args) | {"collections": args.collections}}


def mean_se(values):
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
    return values.mean(), se


def verdict(values):
    mean, se = mean_se(values)
    word = "wins" if mean > 2 * se else "loses" if mean < -2 * se else "tie"
    return f"{mean:+.3f} ± {se:.3f} ({mean / se if se > 0 else float('nan'):+.1f} s.e., {word})"


def report(results, pool_min_m):
    full = {}
    for env_id, eps, cseed, learner, _, value in results["full"]:
        full.setdefault((env_id, eps, cseed, learner), []).append(value)
    returns, extra = {}, {}

    def scale(env_id, eps, cseed, learner):
        """Full-data return above the worst; the range of returns where FQI failed on it."""
        worst, best = ENVIRONMENTS[env_id][1], ENVIRONMENTS[env_id][3]
        above = np.mean(full[(env_id, eps, cseed, learner)]) - worst
        return above if above > 0.05 * (best - worst) else best - worst

    for env_id, eps, cseed, m, name, learner, seed, value, error, seconds in results["rows"]:
        norm = (value - ENVIRONMENTS[env_id][1]) / scale(env_id, eps, cseed, learner)
        returns[(env_id, eps, cseed, m, name, learner, seed)] = (value, norm)
        extra.setdefault((env_id, eps, cseed, m, name), []).append((error, seconds))
    envs = sorted({k[0] for k in returns})
    collections = sorted({k[1:3] for k in returns})
    sizes = sorted({k[3] for k in returns})
    methods = list(dict.fromkeys(k[4] for k in returns))
    learners = list(dict.fromkeys(k[5] for k in returns))
    seeds = sorted({k[6] for k in returns})
    baselines = [b for b in BASELINES if b in methods]
    pooled = {}

    def paired(env_id, c, m, name, learner, base):
        return [
            returns[(env_id, *c, m, name, learner, s)][1]
            - returns[(env_id, *c, m, base, learner, s)][1]
            for s in seeds
        ]

    for learner in learners:
        for c in collections:
            print(f"\nFQI with {learner}, collection epsilon {c[0]} seed {c[1]}: {len(seeds)} "
                  "seeds; normalised 0 worst, 1 full data "
                  "(the best return, where FQI failed on the full data)")
            header = (f"{'environment':<14}{'m':>6}  {'method':<19}{'return':>16}{'norm':>7}"
                      + "".join(f"{'vs ' + b:>18}" for b in baselines)
                      + f"{'loss err':>10}{'secs':>6}")
            print(header + "\n" + "-" * len(header))
            for env_id in envs:
                values = full[(env_id, *c, learner)]
                print(f"{env_id:<14}{'full':>6}  {'full data':<19}{np.mean(values):>9.1f}"
                      f"{'':>7}{1.0:>7.2f}")
                for m in sizes:
                    for name in methods:
                        ret = [returns[(env_id, *c, m, name, learner, s)] for s in seeds]
                        r_mean, r_se = mean_se([v for v, _ in ret])
                        line = (f"{env_id:<14}{m:>6}  {name:<19}{r_mean:>9.1f} ± {r_se:<5.1f}"
                                f"{np.mean([n for _, n in ret]):>7.2f}")
                        for base in baselines:
                            d = paired(env_id, c, m, name, learner, base)
                            if m >= pool_min_m:
                                pooled.setdefault((name, base, learner, c), []).extend(d)
                            d_mean, d_se = mean_se(d)
                            line += f"{'' if name == base else f'{d_mean:+.3f} ± {d_se:.3f}':>18}"
                        err, secs = np.mean(extra[(env_id, *c, m, name)], axis=0)
                        print(line + f"{err:>10.3f}{secs:>6.1f}")
    print(f"\nPooled paired normalised difference ({', '.join(envs)}; m >= {pool_min_m}; "
          f"{len(seeds)} seeds), per (learner, collection) and over all:")
    for base in baselines:
        for name in methods:
            if name in baselines:
                continue
            parts = [pooled.get((name, base, ln, c), []) for ln in learners for c in collections]
            if not all(parts):
                continue
            wins = sum(np.mean(p) > 2 * mean_se(p)[1] for p in parts)
            print(f"  {name} vs {base}: all {verdict(np.concatenate(parts))}; "
                  f"wins in {wins} of {len(parts)} (learner, collection) pairs")
            for (ln, c), p in zip([(ln, c) for ln in learners for c in collections], parts):
                print(f"      {ln}, epsilon {c[0]} seed {c[1]}: {verdict(p)}")


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    if args.load:
        with open(args.load) as f:
            results = json.load(f)
    else:
        results = run(args)
        if args.save:
            with open(args.save, "w") as f:
                json.dump(results, f)
    report(results, args.pool_min_m)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
