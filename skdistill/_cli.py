"""The ``skdistill`` command line.

``skdistill distill`` distils a table file (CSV, Parquet or ``.npz``) into a
smaller one, ``skdistill demo`` and ``skdistill rl-demo`` show what distillation
does on bundled data and on CartPole. User mistakes are reported as one line on
stderr with exit code 2, never as a traceback.
"""

import argparse
import contextlib
import os
import sys
import time
import warnings

from . import _io


def _demo(args):
    """Distil the diabetes data at several sizes and compare test MSE."""
    import numpy as np
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import train_test_split

    from ._distiller import LossMatchingDistiller

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=args.seed
    )
    n, d = X_train.shape

    def test_mse(X_fit, y_fit):
        model = LinearRegression().fit(X_fit, y_fit)
        return mean_squared_error(y_test, model.predict(X_test))

    full = test_mse(X_train, y_train)
    print(
        f"skdistill demo: diabetes, {n} training rows x {d} features, "
        f"{len(y_test)} test rows; LinearRegression test MSE"
    )
    header = (
        f"{'m':>5} {'exact':>10} {'lbfgs':>10} {'random':>10} {'full':>10}"
        f" {'gap exact':>10} {'gap lbfgs':>10}"
    )
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(args.seed)
    for m in args.sizes:
        row = {}
        for solver in ("exact", "lbfgs"):
            distiller = LossMatchingDistiller(m, solver=solver, random_state=args.seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                X_syn, y_syn = distiller.fit_resample(X_train, y_train)
            row[solver] = (test_mse(X_syn, y_syn), distiller.loss_gap_)
        idx = rng.choice(n, size=m, replace=False)
        random = test_mse(X_train[idx], y_train[idx])
        print(
            f"{m:>5} {row['exact'][0]:>10.2f} {row['lbfgs'][0]:>10.2f} {random:>10.2f}"
            f" {full:>10.2f} {row['exact'][1]:>10.1e} {row['lbfgs'][1]:>10.1e}"
        )
    print(
        "gap = certified relative worst-case loss gap over all linear models "
        "(||M_syn - M_train||_2 / ||M_train||_2)."
    )
    return 0


class _Progress:
    """Timestamped progress lines on stderr when ``--verbose`` is given."""

    def __init__(self, command, verbose):
        self.command = command
        self.verbose = verbose
        self.start = time.perf_counter()

    def __call__(self, message):
        if self.verbose:
            elapsed = time.perf_counter() - self.start
            print(f"skdistill {self.command}: [{elapsed:7.1f}s] {message}", file=sys.stderr)

    def warn(self, message):
        print(f"skdistill {self.command}: warning: {_one_line(message)}", file=sys.stderr)


def _name_list(names, limit=12):
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _plan_columns(names, targets, weight, path):
    """``(features, targets)`` in input order, after checking the names given."""
    repeated = sorted({t for t in targets if targets.count(t) > 1})
    if repeated:
        raise CommandError(f"--target given more than once for {_name_list(repeated)}")
    asked = list(targets) + ([] if weight is None else [weight])
    missing = [name for name in asked if name not in names]
    if missing:
        what = "column" if len(missing) == 1 else "columns"
        raise CommandError(
            f"no {what} {_name_list(missing)} in {path}; its columns are {_name_list(names)}"
        )
    if weight is not None and weight in targets:
        raise CommandError(f"column {weight!r} cannot be both a target and the sample weight")
    if "sample_weight" in names and weight != "sample_weight":
        raise CommandError(
            f"{path} already has a column 'sample_weight', the name of the output's weight "
            "column: pass --sample-weight sample_weight to use it as row weights, or rename it"
        )
    features = [n for n in names if n not in targets and n != weight]
    if not features:
        raise CommandError(f"{path} has no feature columns besides the target(s)")
    return features, [n for n in names if n in targets]


_NUMERIC_HINT = "; encode {it} as numbers first, or pass --one-hot"


def _is_numeric(column):
    return column.dtype.kind in "biuf"


def _check_numeric(names, columns, what, hint):
    bad = [name for name, col in zip(names, columns) if not _is_numeric(col)]
    if bad:
        kind = "column is" if len(bad) == 1 else "columns are"
        hint = hint.format(it="it" if len(bad) == 1 else "them")
        raise CommandError(f"{what} {kind} not numeric: {_name_list(bad)}{hint}")


def _as_float(names, columns):
    """Float64 matrix of numeric columns, refusing NaN and infinity by column name."""
    import numpy as np

    matrix = np.empty((len(columns[0]) if columns else 0, len(columns)))
    for j, col in enumerate(columns):
        matrix[:, j] = col
    finite = np.isfinite(matrix)
    if not finite.all():
        bad = [names[j] for j in np.flatnonzero(~finite.all(axis=0))]
        rows = int(np.count_nonzero(~finite.all(axis=1)))
        raise CommandError(
            f"missing or infinite values in {rows} row(s), in column(s) {_name_list(bad)}; "
            "drop or impute them first"
        )
    return matrix


def _one_hot(names, columns, features):
    """``(names, columns, features)`` with non-numeric features as ``COL_VALUE`` indicators."""
    import numpy as np

    out_names, out_columns, out_features = [], [], []
    for name, col in zip(names, columns):
        if name not in features or _is_numeric(col):
            out_names.append(name)
            out_columns.append(col)
            if name in features:
                out_features.append(name)
            continue
        values = np.asarray(col, dtype=object)
        missing = np.array([v is None or (isinstance(v, float) and v != v) for v in values])
        if missing.any():
            raise CommandError(
                f"column {name!r} has {int(missing.sum())} missing value(s); one-hot encoding "
                "needs a value in every row"
            )
        values = values.astype(str)
        for category in np.unique(values):
            new = f"{name}_{category}"
            if new in names or new in out_names:
                raise CommandError(
                    f"one-hot column {new!r} would clash with an existing column name"
                )
            out_names.append(new)
            out_columns.append((values == category).astype(np.float64))
            out_features.append(new)
    return out_names, out_columns, out_features


def _make_distiller(args):
    from ._distiller import LossMatchingDistiller

    distiller = LossMatchingDistiller(
        args.n_synthetic,
        solver=args.solver,
        random_state=args.seed,
        n_jobs=args.n_jobs,
        verbose=max(0, args.verbose),
    )
    if args.kernel != "linear":
        if "kernel" not in distiller.get_params():
            raise CommandError(
                f"--kernel {args.kernel} needs a version of skdistill with kernel support"
            )
        distiller.set_params(kernel=args.kernel)
    return distiller


def _lookahead(iterable):
    """Yield ``(item, is_last)`` pairs."""
    iterator = iter(iterable)
    try:
        item = next(iterator)
    except StopIteration:
        return
    for following in iterator:
        yield item, False
        item = following
    yield item, True


@contextlib.contextmanager
def _distiller_output():
    """Send the distiller's prints to stderr and record its warnings."""
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("always")
        yield caught


def _fit_stream(distiller, args, fmt, columns, features, targets, progress):
    """``partial_fit`` over row blocks of the file; returns the number of rows read."""
    final_params = distiller.get_params()
    # Every partial_fit refreshes the synthetic set from the merged moments and the
    # reservoir alone, so the optimiser's effort is only worth spending on the last one.
    cheap = {"max_iter": 1} if "max_iter" in final_params else {}
    n_rows = 0
    weight = args.sample_weight
    blocks = _io.iter_table(args.input, fmt, args.chunk_size, columns)
    for block, is_last in _lookahead(blocks):
        by_name = dict(zip(columns, block))
        feature_cols = [by_name[n] for n in features]
        target_cols = [by_name[n] for n in targets]
        _check_numeric(features, feature_cols, "feature", _NUMERIC_HINT)
        _check_numeric(targets, target_cols, "target", "")
        X = _as_float(features, feature_cols)
        Y = _as_float(targets, target_cols)
        w = None
        if weight is not None:
            _check_numeric([weight], [by_name[weight]], "sample weight", "")
            w = _as_float([weight], [by_name[weight]])[:, 0]
        n_rows += X.shape[0]
        distiller.set_params(**(final_params if is_last else cheap))
        if is_last:
            progress(f"read {n_rows:,} rows; distilling (solver {args.solver})")
        with _distiller_output() as caught:
            distiller.partial_fit(X, Y[:, 0] if Y.shape[1] == 1 else Y, sample_weight=w)
        if is_last:
            for warning in caught:
                progress.warn(warning.message)
        else:
            progress(f"read {n_rows:,} rows")
    return n_rows


def _distill(args):
    """Distil a table file into a smaller weighted one."""
    import numpy as np

    progress = _Progress("distill", args.verbose)
    if args.n_synthetic < 1:
        raise CommandError(f"--n-synthetic must be at least 1, got {args.n_synthetic}")
    if args.chunk_size < 1:
        raise CommandError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    in_fmt = _io.table_format(args.input, "input")
    out_fmt = _io.table_format(args.output, "output")
    if out_fmt == "parquet":
        _io.import_pyarrow_parquet("writing Parquet")  # fail before the work, not after
    if not os.path.exists(args.input):
        raise CommandError(f"input file not found: {args.input}")
    if os.path.isdir(args.input):
        raise CommandError(f"input is a directory, not a file: {args.input}")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        raise CommandError(f"the output directory {out_dir} does not exist")
    if os.path.abspath(args.output) == os.path.abspath(args.input):
        raise CommandError("the output file is the input file; write it somewhere else")
    names = _io.read_header(args.input, in_fmt)
    features, targets = _plan_columns(names, args.target, args.sample_weight, args.input)
    distiller = _make_distiller(args)
    layout = None
    # partial_fit streams kernel="linear" only: the rbf feature map is fitted on all rows.
    stream = (
        in_fmt != "npz"
        and not args.one_hot
        and args.kernel == "linear"
        and hasattr(distiller, "partial_fit")
    )
    if stream:
        used = [n for n in names if n in features or n in targets or n == args.sample_weight]
        progress(f"streaming {args.input} in chunks of {args.chunk_size:,} rows")
        n_rows = _fit_stream(distiller, args, in_fmt, used, features, targets, progress)
        if not hasattr(distiller, "X_synthetic_"):
            raise CommandError(
                f"--n-synthetic {args.n_synthetic} exceeds the number of rows with positive "
                f"weight in {args.input} ({n_rows} rows)"
            )
    else:
        progress(f"reading {args.input}")
        names, columns, layout = _io.read_table(args.input, in_fmt)
        if args.one_hot:
            names, columns, features = _one_hot(names, columns, features)
        by_name = dict(zip(names, columns))
        _check_numeric(features, [by_name[n] for n in features], "feature", _NUMERIC_HINT)
        _check_numeric(targets, [by_name[n] for n in targets], "target", "")
        X = _as_float(features, [by_name[n] for n in features])
        Y = _as_float(targets, [by_name[n] for n in targets])
        w = None
        if args.sample_weight is not None:
            weight_col = [by_name[args.sample_weight]]
            _check_numeric([args.sample_weight], weight_col, "sample weight", "")
            w = _as_float([args.sample_weight], weight_col)[:, 0]
        n_rows = X.shape[0]
        if args.n_synthetic > n_rows:
            raise CommandError(
                f"--n-synthetic {args.n_synthetic} exceeds the number of rows in "
                f"{args.input} ({n_rows})"
            )
        progress(f"read {n_rows:,} rows; distilling (solver {args.solver})")
        with _distiller_output() as caught:
            distiller.fit(X, Y[:, 0] if Y.shape[1] == 1 else Y, sample_weight=w)
        for warning in caught:
            progress.warn(warning.message)

    Y_syn = distiller.y_synthetic_.reshape(args.n_synthetic, -1)
    synthetic = dict(zip(features, distiller.X_synthetic_.T))
    synthetic.update(zip(targets, Y_syn.T))
    out_names = [n for n in names if n in synthetic] + ["sample_weight"]
    values = np.column_stack([synthetic[n] for n in out_names[:-1]] + [distiller.sample_weight_])
    layout = layout if in_fmt == "npz" else None
    _io.write_table(args.output, out_fmt, out_names, values, layout=layout)
    progress(f"wrote {args.output}")

    print(
        f"distilled {n_rows:,} rows to {args.n_synthetic} (features: {len(features)}, "
        f"targets: {len(targets)}, kernel {args.kernel}, solver {distiller.solver_}) "
        f"-> {args.output}"
    )
    if args.kernel == "linear":
        print(
            f"certified loss gap: {distiller.loss_gap_:.3g} (relative worst-case loss gap "
            "over all linear models); held-out random models: "
            f"{distiller.heldout_loss_gap_:.3g}"
        )
    else:
        print(
            f"certified loss gap: {distiller.loss_gap_:.3g} (relative worst-case loss gap "
            f"over all models linear in the random features and x); linear models alone: "
            f"{distiller.linear_loss_gap_:.3g}; held-out random models: "
            f"{distiller.heldout_loss_gap_:.3g}"
        )
    return 0


def _cartpole_heuristic(observation):
    """Push the cart towards where the pole falls (alone it balances for all 500 steps)."""
    return int(observation[2] + 0.5 * observation[3] > 0)


def _rl_demo(args):
    """CartPole: collect, distil, Fitted-Q Iteration, returns table."""
    try:
        import gymnasium  # noqa: F401
    except ImportError:
        raise CommandError(
            "rl-demo needs gymnasium, the optional 'rl' extra: pip install 'skdistill[rl]'"
        ) from None
    import numpy as np
    from sklearn.ensemble import ExtraTreesRegressor

    from ._bellman import BellmanDistiller
    from ._fqi import FittedQIteration
    from ._gym import collect_transitions, evaluate_policy
    from .baselines import stratified_subset

    for name in ("n_transitions", "n_seeds", "episodes", "n_iterations"):
        if getattr(args, name) < 1:
            raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
    too_big = [m for m in args.sizes if not 1 <= m <= args.n_transitions]
    if too_big:
        raise CommandError(
            f"--sizes must lie between 1 and --n-transitions ({args.n_transitions}); got {too_big}"
        )
    progress = _Progress("rl-demo", args.verbose)
    gamma, epsilon = 0.99, 0.4
    data = collect_transitions(
        "CartPole-v1",
        args.n_transitions,
        policy=_cartpole_heuristic,
        epsilon=epsilon,
        seed=args.seed,
    )
    progress(f"collected {args.n_transitions:,} transitions")
    eval_seed = 10_000 + args.seed

    def fqi_return(transitions, seed, sample_weight=None):
        fqi = FittedQIteration(
            ExtraTreesRegressor(n_estimators=30, min_samples_leaf=2),
            gamma=gamma,
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
        return float(evaluate_policy("CartPole-v1", fqi, args.episodes, seed=eval_seed).mean())

    full = fqi_return(data, args.seed)
    progress(f"full data: return {full:.1f}")
    rows = []
    for m in args.sizes:
        distilled, stratified = [], []
        for s in range(args.n_seeds):
            seed = args.seed + s
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                syn = BellmanDistiller(m, gamma=gamma, random_state=seed).fit_resample(data)
            distilled.append(fqi_return(syn._asdict(), seed, syn.sample_weight))
            index, weight = stratified_subset(
                data["actions"], data["terminals"], m, random_state=seed
            )
            subset = {key: value[index] for key, value in data.items()}
            stratified.append(fqi_return(subset, seed, weight))
            progress(f"m={m} seed {seed}: distilled {distilled[-1]:.1f}, "
                     f"stratified {stratified[-1]:.1f}")
        rows.append((m, np.array(distilled), np.array(stratified)))

    def cell(values):
        se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
        return f"{values.mean():7.1f} ± {se:5.1f}"

    print(
        f"skdistill rl-demo: CartPole-v1, {args.n_transitions:,} transitions from an "
        f"epsilon-greedy heuristic (epsilon {epsilon}); Fitted-Q Iteration (ExtraTrees, "
        f"{args.n_iterations} iterations, gamma {gamma}); greedy return over "
        f"{args.episodes} episodes, mean ± s.e. over {args.n_seeds} seed(s)"
    )
    header = f"{'m':>6}  {'distilled':>15}  {'stratified subset':>17}  {'full data':>9}"
    print(header)
    print("-" * len(header))
    for m, distilled, stratified in rows:
        print(f"{m:>6}  {cell(distilled):>15}  {cell(stratified):>17}  {full:>9.1f}")
    print(
        "distilled = BellmanDistiller (defaults); stratified subset = random transitions "
        "drawn per (action, terminal) cell in the data's proportions. The maximum return "
        "is 500."
    )
    return 0


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skdistill",
        description="Distil regression and offline-RL datasets by loss matching.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="distil scikit-learn's diabetes data and compare")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[20, 50, 100],
        help="synthetic set sizes (default 20 50 100)",
    )
    demo.set_defaults(func=_demo)

    distill = sub.add_parser(
        "distill",
        help="distil a CSV, Parquet or .npz table into a small weighted one",
        description=(
            "Distil the rows of a table into N_SYNTHETIC synthetic rows on which linear "
            "models train as on the whole table. Every column that is not a target "
            "(or the weight column) is a feature. The output has the input's feature and "
            "target columns, in the input's order, and a sample_weight column. CSV and "
            "Parquet input is read in chunks of --chunk-size rows, so it need not fit in "
            "memory (with --one-hot or --kernel rbf the whole file is read)."
        ),
    )
    distill.add_argument("input", metavar="INPUT", help="table to distil (.csv, .parquet, .npz)")
    distill.add_argument(
        "--target",
        "-t",
        action="append",
        required=True,
        metavar="COL",
        help="target column; repeat for several targets",
    )
    distill.add_argument(
        "--n-synthetic", "-m", type=int, required=True, metavar="M", help="synthetic rows"
    )
    distill.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="OUTPUT",
        help="file to write (.csv, .parquet, .npz)",
    )
    distill.add_argument(
        "--kernel",
        choices=["linear", "rbf"],
        default="linear",
        help="random models to match: linear (exact for linear learners, default) or "
        "rbf (random Fourier features, for nonlinear learners)",
    )
    distill.add_argument(
        "--solver",
        choices=["exact", "lbfgs"],
        default="exact",
        help="closed-form moment matching (default) or the paper's L-BFGS loss matching",
    )
    distill.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    distill.add_argument(
        "--sample-weight",
        metavar="COL",
        default=None,
        help="column of non-negative row weights (not a feature, not written out)",
    )
    distill.add_argument(
        "--one-hot",
        action="store_true",
        help="one-hot encode non-numeric feature columns (as COL_VALUE columns) instead "
        "of refusing them",
    )
    distill.add_argument(
        "--chunk-size",
        type=int,
        default=100_000,
        metavar="ROWS",
        help="rows per chunk when streaming CSV or Parquet input (default 100000)",
    )
    distill.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        metavar="N",
        help="threads for the random regressors (the data pass uses BLAS's threads)",
    )
    distill.add_argument(
        "--verbose",
        "-v",
        action="count",
        default=0,
        help="progress on stderr; twice (-vv) also prints every optimiser step",
    )
    distill.set_defaults(func=_distill)

    rl_demo = sub.add_parser(
        "rl-demo",
        help="CartPole: collect, distil, Fitted-Q Iteration, returns table (needs skdistill[rl])",
        description=(
            "Collect CartPole-v1 transitions with an epsilon-greedy heuristic policy, distil "
            "them with BellmanDistiller, and compare the greedy returns of Fitted-Q "
            "Iteration (ExtraTrees) trained on the distilled set, on a random subset of the "
            "same size stratified by (action, terminal), and on all transitions. Needs "
            "gymnasium: pip install 'skdistill[rl]'."
        ),
    )
    rl_demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    rl_demo.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[200, 1000],
        help="distilled set sizes (default 200 1000)",
    )
    rl_demo.add_argument(
        "--n-transitions",
        type=int,
        default=10_000,
        help="transitions to collect (default 10000)",
    )
    rl_demo.add_argument(
        "--n-seeds",
        type=int,
        default=3,
        help="distillation and subset seeds per size (default 3)",
    )
    rl_demo.add_argument(
        "--episodes", type=int, default=10, help="evaluation episodes per policy (default 10)"
    )
    rl_demo.add_argument(
        "--n-iterations", type=int, default=30, help="Fitted-Q iterations (default 30)"
    )
    rl_demo.add_argument("--verbose", "-v", action="count", default=0, help="progress on stderr")
    rl_demo.set_defaults(func=_rl_demo)
    return parser


class CommandError(Exception):
    """A user mistake reported as one line and exit code 2."""


def _one_line(message):
    return " ".join(str(message).split())


def main(argv=None):
    """Run the command line; returns the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the error
        return exc.code
    try:
        return args.func(args)
    except BrokenPipeError:  # e.g. `skdistill demo | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (CommandError, ValueError, OSError) as exc:
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            exc = f"{exc.strerror}: {exc.filename}"
        print(f"skdistill {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"skdistill {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
