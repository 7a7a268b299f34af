"""Offline RL: greedy returns of Fitted-Q Iteration on distilled vs subsampled data.

For each environment (CartPole-v1, Acrobot-v1; MountainCar-v0 on request) the
benchmark collects ``--n-transitions`` transitions with an epsilon-greedy
heuristic policy, then for every size ``m`` and seed trains ExtraTrees FQI on

* ``plain``: a uniformly random subset of m transitions;
* ``stratified``: a random subset drawn per (action, terminal) cell in the
  data's proportions, weighted to keep the proportions exactly -- the baseline;
* ``exact``: ``BellmanDistiller`` defaults (decomposable features, exact
  per-cell moments: every decomposable linear Bellman loss matched exactly);
* ``lbfgs``: ``BellmanDistiller(features="per_action", solver="lbfgs")``, the
  paper's Algorithm 2 (``--lbfgs-predictors`` predictors, ``--lbfgs-iter``
  L-BFGS iterations);
* ``select``: ``BellmanDistiller(features="per_action", solver="select")``, real
  transitions chosen per cell by herding on the Bellman losses of random
  per-action linear Q-predictors, equal weights within a cell;

and on the full data (``--full-seeds`` FQI seeds, cached per environment).
Returns are means over ``--episodes`` seeded evaluation episodes (the same
episode seeds for every method at a given seed). Normalised return: 0 is the
worst possible return (0 for CartPole, -500 for Acrobot, -200 for MountainCar),
1 the mean return of FQI on the full data. The paired difference of a method
against ``stratified`` uses the same seed (subset seed, tree seed and episode
seeds); its standard error is over seeds.

Printed: one table row per (environment, m, method) with mean return +- s.e.,
normalised return, paired normalised difference to ``stratified`` +- s.e.,
the largest relative error of per-action linear Bellman losses on 200 held-out
random predictors (context: what the distillers optimise), and distillation
seconds; then the pooled paired difference of every method against
``stratified`` over the environments and m >= ``--pool-min-m`` (the issue's
target: > 2 s.e.).

Usage: ``nice python benchmarks/bench_rl.py [--quick] [--envs CartPole-v1,Acrobot-v1]
[--n-transitions 20000] [--sizes 200,1000,2000] [--seeds 10] [--episodes 10]
[--iterations 50] [--trees 50] [--leaf 5] [--full-seeds 3] [--methods ...] [--mlp]
[--n-jobs 1]``
"""

import argparse
import time
import warnings
from functools import partial

import numpy as np
from joblib import Parallel, delayed
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from skdistill import BellmanDistiller, FittedQIteration, collect_transitions, evaluate_policy
from skdistill.baselines import stratified_subset
from skdistill.rl._bellman import bellman_losses, draw_predictors

GAMMA = 0.99
KEYS = ("observations", "actions", "rewards", "next_observations", "terminals")


def _cartpole(observation):
    return int(observation[2] + 0.5 * observation[3] > 0)


def _acrobot(observation):
    return 2 if observation[5] > 0 else 0


def _mountaincar(observation):
    return 2 if observation[1] > 0 else 0


# Heuristic behaviour policy, epsilon, worst possible return, FQI iterations.
ENVIRONMENTS = {
    "CartPole-v1": (_cartpole, 0.5, 0.0, None),
    "Acrobot-v1": (_acrobot, 0.5, -500.0, None),
    "MountainCar-v0": (_mountaincar, 0.5, -200.0, 150),
}


# --------------------------------------------------------------------- subsets


def plain(data, m, seed):
    rng = np.random.default_rng(seed)
    index = rng.choice(len(data["rewards"]), size=m, replace=False)
    return {key: data[key][index] for key in KEYS} | {"sample_weight": None}


def stratified(data, m, seed):
    index, weight = stratified_subset(data["actions"], data["terminals"], m, random_state=seed)
    return {key: data[key][index] for key in KEYS} | {"sample_weight": weight}


def distilled(data, m, seed, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        syn = BellmanDistiller(m, gamma=GAMMA, random_state=seed, **params).fit_resample(
            {key: data[key] for key in KEYS}
        )
    return syn._asdict()


def method_table(args):
    return {
        "plain": plain,
        "stratified": stratified,
        "exact": partial(distilled),
        "lbfgs": partial(
            distilled,
            features="per_action",
            solver="lbfgs",
            n_predictors=args.lbfgs_predictors,
            max_iter=args.lbfgs_iter,
        ),
        "select": partial(distilled, features="per_action", solver="select"),
    }


# ----------------------------------------------------------------- FQI + returns


def _regressor(kind, args, seed):
    if kind == "trees":
        return ExtraTreesRegressor(
            n_estimators=args.trees, min_samples_leaf=args.leaf, n_jobs=1, random_state=seed
        )
    return MLPRegressor(
        hidden_layer_sizes=(64, 64), max_iter=50, warm_start=True, random_state=seed
    )


def fit_fqi(transitions, kind, iterations, args, seed):
    weight = transitions.get("sample_weight")
    fqi = FittedQIteration(
        _regressor(kind, args, seed),
        gamma=GAMMA,
        n_iterations=iterations,
        warm_start=kind == "mlp",
        random_state=seed if kind == "trees" else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # MLP: a few epochs per iteration
        return fqi.fit(*(transitions[key] for key in KEYS), sample_weight=weight)


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


def run_cell(env_id, data, m, seed, methods, table, kinds, iterations, args, check):
    """All methods at one (environment, m, seed): returns, loss errors, seconds."""
    out = {}
    for name in methods:
        start = time.perf_counter()
        transitions = table[name](data, m, seed)
        seconds = time.perf_counter() - start
        error = check.error(transitions)
        for kind in kinds:
            fqi = fit_fqi(transitions, kind, iterations, args, seed)
            out[(name, kind)] = (greedy_return(fqi, env_id, args.episodes, seed), error, seconds)
    return env_id, m, seed, out


def full_return(env_id, data, seed, kind, iterations, args):
    fqi = fit_fqi(data | {"sample_weight": None}, kind, iterations, args, seed)
    return env_id, kind, greedy_return(fqi, env_id, args.episodes, seed)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny smoke run")
    p.add_argument("--envs", default="CartPole-v1,Acrobot-v1")
    p.add_argument("--n-transitions", type=int, default=20_000)
    p.add_argument("--sizes", default="200,1000,2000")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--iterations", type=int, default=50, help="FQI iterations (MountainCar: 150)")
    p.add_argument("--trees", type=int, default=50)
    p.add_argument("--leaf", type=int, default=5, help="min_samples_leaf of the trees")
    p.add_argument("--full-seeds", type=int, default=3)
    p.add_argument("--methods", default="plain,stratified,exact,lbfgs,select")
    p.add_argument("--lbfgs-predictors", type=int, default=50)
    p.add_argument("--lbfgs-iter", type=int, default=100)
    p.add_argument("--mlp", action="store_true", help="add the (secondary) MLP FQI column")
    p.add_argument("--pool-min-m", type=int, default=1000)
    p.add_argument("--n-jobs", type=int, default=1, help="processes over (env, m, seed)")
    args = p.parse_args(argv)
    if args.quick:
        args.n_transitions, args.sizes, args.seeds, args.episodes = 2000, "100,200", 2, 2
        args.iterations, args.trees, args.full_seeds = 5, 10, 1
        args.lbfgs_predictors, args.lbfgs_iter = 20, 20
    return args


def main(argv=None):
    args = parse_args(argv)
    envs = args.envs.split(",")
    sizes = [int(m) for m in args.sizes.split(",")]
    methods = args.methods.split(",")
    kinds = ["trees", "mlp"] if args.mlp else ["trees"]
    table = method_table(args)
    start = time.perf_counter()

    datasets, checks, iterations = {}, {}, {}
    for env_id in envs:
        policy, epsilon, _, iters = ENVIRONMENTS[env_id]
        datasets[env_id] = collect_transitions(
            env_id, args.n_transitions, policy=policy, epsilon=epsilon, seed=0
        )
        checks[env_id] = LossCheck(datasets[env_id])
        iterations[env_id] = iters if iters and not args.quick else args.iterations
        d = datasets[env_id]
        print(
            f"{env_id}: {args.n_transitions} transitions, {int(d['terminals'].sum())} terminal, "
            f"{int(d['timeouts'].sum())} time-outs, actions {np.bincount(d['actions']).tolist()}",
            flush=True,
        )

    parallel = Parallel(n_jobs=args.n_jobs, return_as="generator")
    full = {}
    for env_id, kind, value in parallel(
        delayed(full_return)(env_id, datasets[env_id], seed, kind, iterations[env_id], args)
        for env_id in envs
        for kind in kinds
        for seed in range(args.full_seeds)
    ):
        full.setdefault((env_id, kind), []).append(value)
    for (env_id, kind), values in full.items():
        print(f"{env_id} full data ({kind}): returns {np.round(values, 1).tolist()}", flush=True)
    print(f"[{time.perf_counter() - start:.0f} s]", flush=True)

    results = {}
    for env_id, m, seed, out in parallel(
        delayed(run_cell)(
            env_id, datasets[env_id], m, seed, methods, table, kinds, iterations[env_id], args,
            checks[env_id],
        )
        for env_id in envs
        for m in sizes
        for seed in range(args.seeds)
    ):
        for (name, kind), value in out.items():
            results.setdefault((env_id, m, name, kind), {})[seed] = value
        print(
            f"  {env_id} m={m} seed={seed}: "
            + ", ".join(f"{name} {value[0]:.0f}" for (name, _), value in out.items())
            + f"  [{time.perf_counter() - start:.0f} s]",
            flush=True,
        )
    print(f"[{time.perf_counter() - start:.0f} s]\n", flush=True)

    def normalised(env_id, kind, value):
        worst = ENVIRONMENTS[env_id][2]
        with np.errstate(divide="ignore", invalid="ignore"):
                return (value - worst) / (np.mean(full[(env_id, kind)]) - worst)

    def mean_se(values):
        values = np.asarray(values, dtype=float)
        se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
        return values.mean(), se

    for kind in kinds:
        print(
            f"FQI with {kind} ({args.trees} trees, min_samples_leaf={args.leaf}) "
            if kind == "trees" else "FQI with a warm-started 64x64 MLP ",
            end="",
        )
        print(f"{args.seeds} seeds x {args.episodes} episodes; normalised: 0 worst, 1 full data")
        header = (
            f"{'environment':<15}{'m':>6}  {'method':<11}{'return':>16}{'norm':>7}"
            f"{'diff vs strat':>17}{'loss err':>10}{'secs':>7}"
        )
        print(header)
        print("-" * len(header))
        pooled = {name: [] for name in methods}
        for env_id in envs:
            mean_full = np.mean(full[(env_id, kind)])
            print(f"{env_id:<15}{'full':>6}  {'full data':<11}{mean_full:>16.1f}{1.0:>7.2f}")
            for m in sizes:
                base = results.get((env_id, m, "stratified", kind))
                for name in methods:
                    cell = results[(env_id, m, name, kind)]
                    seeds = sorted(cell)
                    ret = [cell[s][0] for s in seeds]
                    r_mean, r_se = mean_se(ret)
                    norm = np.mean([normalised(env_id, kind, v) for v in ret])
                    diff = ""
                    if base is not None:
                        d = [
                            normalised(env_id, kind, cell[s][0])
                            - normalised(env_id, kind, base[s][0])
                            for s in seeds
                        ]
                        if m >= args.pool_min_m:
                            pooled[name].extend(d)
                        if name != "stratified":
                            d_mean, d_se = mean_se(d)
                            diff = f"{d_mean:+.3f} ± {d_se:.3f}"
                    err = np.mean([cell[s][1] for s in seeds])
                    secs = np.mean([cell[s][2] for s in seeds])
                    print(
                        f"{env_id:<15}{m:>6}  {name:<11}{r_mean:>9.1f} ± {r_se:<5.1f}{norm:>7.2f}"
                        f"{diff:>17}{err:>10.3f}{secs:>7.1f}"
                    )
        if "stratified" in methods:
            print(
                f"\nPooled paired normalised difference vs stratified "
                f"({', '.join(envs)}; m >= {args.pool_min_m}; {args.seeds} seeds):"
            )
            for name in methods:
                if name == "stratified" or not pooled[name]:
                    continue
                d_mean, d_se = mean_se(pooled[name])
                verdict = "wins" if d_mean > 2 * d_se else "loses" if d_mean < -2 * d_se else "tie"
                print(
                    f"  {name:<11}{d_mean:+.3f} ± {d_se:.3f}  (n = {len(pooled[name])}, "
                    f"{d_mean / d_se if d_se > 0 else float('nan'):+.1f} s.e.: {verdict})"
                )
        print()
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
