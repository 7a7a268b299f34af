"""``skdistill rl-demo``: distil CartPole transitions and compare Fitted-Q Iteration returns.

Transitions collected with an epsilon-greedy heuristic are distilled with
``BellmanDistiller``; the greedy return of Fitted-Q Iteration (ExtraTrees)
trained on the distilled set is compared with a random subset of the same size
stratified by (action, terminal) and with all transitions. Needs gymnasium.
"""

from .console import CommandError, Progress, ignoring_user_warnings

_ENV = "CartPole-v1"
_GAMMA = 0.99
_EPSILON = 0.4

_DESCRIPTION = (
    "Collect CartPole-v1 transitions with an epsilon-greedy heuristic policy, distil "
    "them with BellmanDistiller, and compare the greedy returns of Fitted-Q "
    "Iteration (ExtraTrees) trained on the distilled set, on a random subset of the "
    "same size stratified by (action, terminal), and on all transitions. Needs "
    "gymnasium: pip install 'skdistill[rl]'."
)


def add_parser(subparsers):
    """Add the ``rl-demo`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "rl-demo",
        help="CartPole: collect, distil, Fitted-Q Iteration, returns table (needs skdistill[rl])",
        description=_DESCRIPTION,
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[200, 1000],
        help="distilled set sizes (default 200 1000)",
    )
    parser.add_argument(
        "--n-transitions",
        type=int,
        default=10_000,
        help="transitions to collect (default 10000)",
    )
    parser.add_argument(
        "--n-seeds",
        type=int,
        default=3,
        help="distillation and subset seeds per size (default 3)",
    )
    parser.add_argument(
        "--episodes", type=int, default=10, help="evaluation episodes per policy (default 10)"
    )
    parser.add_argument(
        "--n-iterations", type=int, default=30, help="Fitted-Q iterations (default 30)"
    )
    parser.add_argument("--verbose", "-v", action="count", default=0, help="progress on stderr")
    parser.set_defaults(func=run)


def run(args):
    """CartPole: collect, distil, Fitted-Q Iteration, returns table."""
    from skdistill import collect_transitions

    _check_arguments(args)
    progress = Progress("rl-demo", args.verbose)
    data = collect_transitions(
        _ENV, args.n_transitions, policy=_cartpole_heuristic, epsilon=_EPSILON, seed=args.seed
    )
    progress(f"collected {args.n_transitions:,} transitions")
    full = _fqi_return(data, args, args.seed)
    progress(f"full data: return {full:.1f}")
    rows = [(m, *_returns_at_size(data, m, args, progress)) for m in args.sizes]
    _print_table(rows, full, args)
    return 0


def _check_arguments(args):
    try:
        import gymnasium  # noqa: F401
    except ImportError:
        raise CommandError(
            "rl-demo needs gymnasium, the optional 'rl' extra: pip install 'skdistill[rl]'"
        ) from None
    for name in ("n_transitions", "n_seeds", "episodes", "n_iterations"):
        if getattr(args, name) < 1:
            raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
    too_big = [m for m in args.sizes if not 1 <= m <= args.n_transitions]
    if too_big:
        raise CommandError(
            f"--sizes must lie between 1 and --n-transitions ({args.n_transitions}); got {too_big}"
        )


def _cartpole_heuristic(observation):
    """Push the cart towards where the pole falls (alone it balances for all 500 steps)."""
    return int(observation[2] + 0.5 * observation[3] > 0)


def _fqi_return(transitions, args, seed, sample_weight=None):
    """Mean greedy return of Fitted-Q Iteration trained on ``transitions``."""
    from sklearn.ensemble import ExtraTreesRegressor

    from skdistill import FittedQIteration, evaluate_policy

    fqi = FittedQIteration(
        ExtraTreesRegressor(n_estimators=30, min_samples_leaf=2),
        gamma=_GAMMA,
        n_iterations=args.n_iterations,
        random_state=seed,
    )
    fqi.fit(
        transitions["observations"],
        transitions["actions"],
        transitions["rewards"],
        transitions["next_observations"],
        transitions["terminals"],
        sample_weight=sample_weight,
    )
    eval_seed = 10_000 + args.seed
    return float(evaluate_policy(_ENV, fqi, args.episodes, seed=eval_seed).mean())


def _returns_at_size(data, m, args, progress):
    """Returns after distilling to ``m`` transitions and after a stratified subset, per seed."""
    import numpy as np

    from skdistill import BellmanDistiller
    from skdistill.baselines import stratified_subset

    distilled, stratified = [], []
    for s in range(args.n_seeds):
        seed = args.seed + s
        with ignoring_user_warnings():
            syn = BellmanDistiller(m, gamma=_GAMMA, random_state=seed).fit_resample(data)
        distilled.append(_fqi_return(syn._asdict(), args, seed, syn.sample_weight))
        index, weight = stratified_subset(data["actions"], data["terminals"], m, random_state=seed)
        subset = {key: value[index] for key, value in data.items()}
        stratified.append(_fqi_return(subset, args, seed, weight))
        progress(
            f"m={m} seed {seed}: distilled {distilled[-1]:.1f}, stratified {stratified[-1]:.1f}"
        )
    return np.array(distilled), np.array(stratified)


def _cell(values):
    """``mean ± standard error`` of the returns of one size."""
    import numpy as np

    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{values.mean():7.1f} ± {se:5.1f}"


def _print_table(rows, full, args):
    print(
        f"skdistill rl-demo: CartPole-v1, {args.n_transitions:,} transitions from an "
        f"epsilon-greedy heuristic (epsilon {_EPSILON}); Fitted-Q Iteration (ExtraTrees, "
        f"{args.n_iterations} iterations, gamma {_GAMMA}); greedy return over "
        f"{args.episodes} episodes, mean ± s.e. over {args.n_seeds} seed(s)"
    )
    header = f"{'m':>6}  {'distilled':>15}  {'stratified subset':>17}  {'full data':>9}"
    print(header)
    print("-" * len(header))
    for m, distilled, stratified in rows:
        print(f"{m:>6}  {_cell(distilled):>15}  {_cell(stratified):>17}  {full:>9.1f}")
    print(
        "distilled = BellmanDistiller (defaults); stratified subset = random transitions "
        "drawn per (action, terminal) cell in the data's proportions. The maximum return "
        "is 500."
    )
