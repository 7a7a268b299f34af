"""
=====================================================
Offline RL: policy return against distilled set size
=====================================================

Offline reinforcement learning learns a policy from a fixed set of transitions
``(s, a, r, s', terminal)``. This example collects CartPole-v1 transitions with
an epsilon-greedy heuristic policy, keeps ``m`` of them (or makes ``m``
synthetic ones), learns a Q-function from them with Fitted-Q Iteration
(:class:`~skdistill.FittedQIteration` over extremely randomised trees) and plays
the greedy policy:

* **distilled** -- :class:`~skdistill.BellmanDistiller` with its defaults
  (``solver="exact"``): ``m`` synthetic transitions on which every decomposable
  linear Q-predictor has the full data's Bellman loss, weighted so that every
  (action, terminal) cell keeps its share;
* **stratified subset** (:func:`~skdistill.baselines.stratified_subset`) -- ``m``
  real transitions drawn at random per (action, terminal) cell, in the data's
  proportions and weighted to keep them exactly;
  terminals are about 1% of the data or less and Fitted-Q Iteration needs them, so this
  is a much stronger baseline than
* **random subset** -- ``m`` real transitions drawn uniformly;
* **full data** -- every transition.

Returns are averaged over the same seeded evaluation episodes for every policy
(500 is the most CartPole gives) and over several seeds of the subsets, the
distiller and the trees. The differences between methods at a given ``m`` are of
the order of the seed-to-seed spread: the bands show it. The distiller's
guarantee is about the Bellman losses of linear Q-predictors, which it matches;
whether that makes tree-based FQI learn a better policy than a stratified subset
is an empirical question this figure answers for CartPole only. The
benchmark over two environments and 10 seeds (``benchmarks/bench_rl.py``, on the
documentation's benchmarks page) found the stratified subset better from 1,000
transitions on, and recommends it for nonlinear Q-learners.

``gymnasium`` is needed (``pip install skdistill[rl]``). Run
``python plot_rl_distillation.py [--quick] [--output FILE.png]``; the figure goes
to ``--output``, by default ``rl_distillation.png`` in the working directory.
``--quick`` runs a tiny configuration. The full-size figure of the documentation
is ``examples/figures/rl_distillation.png``, made by ``python
examples/plot_rl_distillation.py --output examples/figures/rl_distillation.png``.
"""

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import ExtraTreesRegressor

from skdistill import BellmanDistiller, FittedQIteration, collect_transitions, evaluate_policy
from skdistill.baselines import stratified_subset

# The committed full-size figures, which a --quick run must not replace.
FIGURES = (
    Path(__file__).resolve().parent / "figures" if "__file__" in globals() else None
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="CartPole return against distilled set size.")
    parser.add_argument("--quick", action="store_true", help="tiny run, for smoke tests")
    parser.add_argument(
        "--output", type=Path, default=Path("rl_distillation.png"),
        help="PNG to write (default: rl_distillation.png in the working directory)",
    )
    # parse_known_args: sphinx-gallery and notebooks pass arguments of their own.
    args = parser.parse_known_args(argv)[0]
    if args.quick and args.output.resolve().parent == FIGURES:
        parser.error(f"--quick would overwrite the full-size figures in {FIGURES}")
    return args


args = parse_args()
if args.quick:
    n_transitions, sizes, n_seeds, n_episodes, n_iterations = 600, [50, 100], 1, 2, 3
else:
    n_transitions, sizes, n_seeds, n_episodes, n_iterations = (
        10_000, [100, 300, 1000, 3000], 5, 10, 30
    )
gamma = 0.99

# %%
# Collect transitions
# -------------------
# A heuristic that pushes the cart towards where the pole is falling (alone it
# balances the pole for all 500 steps), with 40% random actions, gives varied
# states; episodes are long, so terminal transitions are rare (about 40 in
# 10,000).


def heuristic(observation):
    return int(observation[2] + 0.5 * observation[3] > 0)


data = collect_transitions(
    "CartPole-v1", n_transitions, policy=heuristic, epsilon=0.4, seed=0
)
print(
    f"{n_transitions} transitions, {data['terminals'].sum()} terminal, "
    f"actions {np.bincount(data['actions'])}"
)

# %%
# Fitted-Q Iteration and greedy returns
# -------------------------------------
# The evaluation episodes run side by side, so that the Q-function is queried
# once per time step for all of them.


def fqi_return(observations, actions, rewards, next_observations, terminals, seed, weight=None):
    fqi = FittedQIteration(
        ExtraTreesRegressor(n_estimators=30, min_samples_leaf=2),
        gamma=gamma,
        n_iterations=n_iterations,
        random_state=seed,
    )
    fqi.fit(observations, actions, rewards, next_observations, terminals, sample_weight=weight)
    return evaluate_policy("CartPole-v1", fqi, n_episodes, seed=1000).mean()


columns = ["observations", "actions", "rewards", "next_observations", "terminals"]


def subset(index):
    return [data[key][index] for key in columns]


# %%
# Every method, size and seed
# ---------------------------

start = time.perf_counter()
full = np.mean([fqi_return(*subset(slice(None)), seed=s) for s in range(min(n_seeds, 3))])
print(f"full data: mean return {full:.1f}")
methods = ['distilled (BellmanDistiller, solver="exact")', "stratified subset", "random subset"]
returns = {method: np.empty((n_seeds, len(sizes))) for method in methods}
for j, m in enumerate(sizes):
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            syn = BellmanDistiller(m, gamma=gamma, random_state=seed).fit_resample(data)
        returns[methods[0]][seed, j] = fqi_return(
            syn.observations, syn.actions, syn.rewards, syn.next_observations,
            syn.terminals, seed, weight=syn.sample_weight,
        )
        index, weight = stratified_subset(
            data["actions"], data["terminals"], m, random_state=seed
        )
        returns["stratified subset"][seed, j] = fqi_return(*subset(index), seed, weight=weight)
        index = rng.choice(n_transitions, size=m, replace=False)
        returns["random subset"][seed, j] = fqi_return(*subset(index), seed)
    print(
        f"m = {m:>5}: "
        + ", ".join(f"{method} {returns[method][:, j].mean():6.1f}" for method in methods)
        + f"   ({time.perf_counter() - start:.0f} s)"
    )

# %%
# Plot
# ----
# Lines are means over the seeds, bands one standard error either side.

fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
ax.axhline(full, color="k", ls=":", lw=1.2, label=f"full data ({n_transitions:,} transitions)")
styles = [dict(marker="o", lw=2), dict(marker="s"), dict(marker="^", ls="--")]
for method, style in zip(methods, styles):
    values = returns[method]
    mean = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / np.sqrt(n_seeds) if n_seeds > 1 else np.zeros(len(sizes))
    line, = ax.plot(sizes, mean, label=method, **style)
    ax.fill_between(sizes, mean - se, mean + se, color=line.get_color(), alpha=0.15, lw=0)
ax.set_xscale("log")
ax.set_xticks(sizes, [str(s) for s in sizes])
ax.minorticks_off()
ax.set_ylim(0, 510)
ax.set_xlabel("transitions Fitted-Q Iteration is trained on (m)")
ax.set_ylabel(f"greedy return (mean of {n_episodes} episodes)")
spread = "bands: ± 1 standard error over the seeds" if n_seeds > 1 else "one seed: no bands"
ax.set_title(f"CartPole-v1, ExtraTrees FQI ({n_seeds} seeds)\nlines: means; {spread}", fontsize=10)
ax.legend(loc="lower right", fontsize=8)
ax.grid(True, alpha=0.3)

args.output.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(args.output, dpi=90)
print(f"saved {args.output}")
