"""``skdistill distill``: distil a table file into a smaller weighted one.

CSV and Parquet input is streamed through ``LossMatchingDistiller.partial_fit``
in chunks; ``.npz`` input and ``--one-hot`` read the whole
file and call ``fit``. The output has the input's feature and target columns,
in the input's order, and a ``sample_weight`` column. It is never the input
(by name or through a link), and it is written to a temporary file renamed into
place once complete, so a failure leaves any previous output as it was.
"""

import contextlib
import os
import sys
import warnings

from . import tables
from .columns import matrices, one_hot, plan_columns
from .console import CommandError, Progress

_DESCRIPTION = (
    "Distil the rows of a table into N_SYNTHETIC synthetic rows on which linear "
    "models train as on the whole table. Every column that is not a target "
    "(or the weight column) is a feature. The output has the input's feature and "
    "target columns, in the input's order, and a sample_weight column. CSV and "
    "Parquet input is read in chunks of --chunk-size rows, so it need not fit in "
    "memory (with --one-hot the whole file is read)."
)


def add_parser(subparsers):
    """Add the ``distill`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "distill",
        help="distil a CSV, Parquet or .npz table into a small weighted one",
        description=_DESCRIPTION,
    )
    parser.add_argument("input", metavar="INPUT", help="table to distil (.csv, .parquet, .npz)")
    parser.add_argument(
        "--target",
        "-t",
        action="append",
        required=True,
        metavar="COL",
        help="target column; repeat for several targets",
    )
    parser.add_argument(
        "--n-synthetic", "-m", type=int, required=True, metavar="M", help="synthetic rows"
    )
    parser.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="OUTPUT",
        help="file to write (.csv, .parquet, .npz)",
    )
    _add_options(parser)
    parser.set_defaults(func=run)


def _add_options(parser):
    parser.add_argument(
        "--kernel",
        choices=["linear", "rbf"],
        default="linear",
        help="random models to match: linear (exact for linear learners, default) or "
        "rbf (random Fourier features, for nonlinear learners)",
    )
    parser.add_argument(
        "--solver",
        choices=["exact", "lbfgs", "reweight"],
        default="exact",
        help="closed-form moment matching (default), the paper's L-BFGS loss matching, or "
        "reweight: input rows unchanged, with weights that match the moments (linear kernel)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--sample-weight",
        metavar="COL",
        default=None,
        help="column of non-negative row weights (not a feature, not written out)",
    )
    parser.add_argument(
        "--one-hot",
        action="store_true",
        help="one-hot encode non-numeric feature columns (as COL_VALUE columns) instead "
        "of refusing them",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=100_000,
        metavar="ROWS",
        help="rows per chunk when streaming CSV or Parquet input (default 100000)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        metavar="N",
        help="threads for the random regressors (the data pass uses BLAS's threads)",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="count",
        default=0,
        help="progress on stderr, a line every few seconds at least; -vvv: every optimiser step",
    )


def run(args):
    """Distil ``args.input`` into ``args.output``; returns the exit code 0."""
    progress = Progress("distill", args.verbose)
    in_fmt, out_fmt = _check_arguments(args)
    names = tables.read_header(args.input, in_fmt)
    features, targets = plan_columns(names, args.target, args.sample_weight, args.input)
    distiller = _make_distiller(args)
    layout = None
    stream = in_fmt != "npz" and not args.one_hot and hasattr(distiller, "partial_fit")
    if stream:
        n_rows = _fit_stream(distiller, args, in_fmt, names, features, targets, progress)
    else:
        names, features, n_rows, layout = _fit_whole(
            distiller, args, in_fmt, features, targets, progress
        )
    _write(distiller, args, out_fmt, names, features, targets, layout)
    progress(f"wrote {args.output}")
    _report(distiller, args, n_rows, features, targets)
    return 0


def _check_arguments(args):
    """``(input format, output format)``, after the checks that need no reading."""
    if args.n_synthetic < 1:
        raise CommandError(f"--n-synthetic must be at least 1, got {args.n_synthetic}")
    if args.chunk_size < 1:
        raise CommandError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    in_fmt = tables.table_format(args.input, "input")
    out_fmt = tables.table_format(args.output, "output")
    if out_fmt == "parquet":
        tables.import_pyarrow_parquet("writing Parquet")  # fail before the work, not after
    if not os.path.exists(args.input):
        raise CommandError(f"input file not found: {args.input}")
    if os.path.isdir(args.input):
        raise CommandError(f"input is a directory, not a file: {args.input}")
    tables.check_output_directory(args.output)
    _check_not_input(args.input, args.output)
    return in_fmt, out_fmt


def _check_not_input(input_path, output_path):
    """Refuse an output that is the input, by name or through a symbolic or hard link."""
    same = os.path.abspath(output_path) == os.path.abspath(input_path)
    if not same and os.path.exists(output_path):
        same = os.path.samefile(output_path, input_path)
    if same:
        raise CommandError(
            f"the output file {output_path} is the input file {input_path} (the same "
            "file, by name or through a link); write it somewhere else"
        )
    if os.path.isdir(output_path):
        raise CommandError(f"the output {output_path} is a directory, not a file")


def _make_distiller(args):
    from skdistill import LossMatchingDistiller

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


def _too_few_rows(args, n_rows, weighted):
    """The error for ``--n-synthetic`` above the rows (with positive weight) read."""
    if weighted:
        rows = f"rows with positive weight in {args.input} ({n_rows} rows)"
    else:
        rows = f"rows in {args.input} ({n_rows})"
    return CommandError(f"--n-synthetic {args.n_synthetic} exceeds the number of {rows}")


@contextlib.contextmanager
def _distiller_output(progress, report=True):
    """Send the distiller's prints to stderr and its warnings to ``progress.warn``.

    With ``report=False`` the warnings are dropped.
    """
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("always")
        yield
    if report:
        for warning in caught:
            progress.warn(warning.message)


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


def _fit_stream(distiller, args, fmt, names, features, targets, progress):
    """``partial_fit`` over row blocks of the file; returns the number of rows read."""
    weight = args.sample_weight
    used = [n for n in names if n in features or n in targets or n == weight]
    progress(f"streaming {args.input} in chunks of {args.chunk_size:,} rows")
    final_params = distiller.get_params()
    # Every partial_fit refreshes the synthetic set from the merged moments and the
    # reservoir alone, so the optimiser's effort is only worth spending on the last one.
    cheap = {"max_iter": 1} if "max_iter" in final_params else {}
    n_rows = 0
    blocks = tables.iter_table(args.input, fmt, args.chunk_size, used)
    for block, is_last in _lookahead(blocks):
        X, y, w = matrices(dict(zip(used, block)), features, targets, weight)
        n_rows += X.shape[0]
        distiller.set_params(**(final_params if is_last else cheap))
        if is_last:
            progress(f"read {n_rows:,} rows; distilling (solver {args.solver})")
        with _distiller_output(progress, report=is_last):
            distiller.partial_fit(X, y, sample_weight=w)
        if not is_last:
            progress(f"read {n_rows:,} rows")
    if not hasattr(distiller, "X_synthetic_"):
        raise _too_few_rows(args, n_rows, weighted=True)
    return n_rows


def _fit_whole(distiller, args, fmt, features, targets, progress):
    """``fit`` on the whole file; returns ``(names, features, n_rows, npz layout)``."""
    progress(f"reading {args.input}")
    names, columns, layout = tables.read_table(args.input, fmt)
    if args.one_hot:
        names, columns, features = one_hot(names, columns, features)
    X, y, w = matrices(dict(zip(names, columns)), features, targets, args.sample_weight)
    n_rows = X.shape[0]
    if args.n_synthetic > n_rows:
        raise _too_few_rows(args, n_rows, weighted=False)
    progress(f"read {n_rows:,} rows; distilling (solver {args.solver})")
    with _distiller_output(progress):
        distiller.fit(X, y, sample_weight=w)
    return names, features, n_rows, layout


def _write(distiller, args, fmt, names, features, targets, layout):
    """Write the synthetic rows in the input's column order, then ``sample_weight``."""
    import numpy as np

    Y_syn = distiller.y_synthetic_.reshape(args.n_synthetic, -1)
    synthetic = dict(zip(features, distiller.X_synthetic_.T))
    synthetic.update(zip(targets, Y_syn.T))
    out_names = [n for n in names if n in synthetic] + ["sample_weight"]
    values = np.column_stack([synthetic[n] for n in out_names[:-1]] + [distiller.sample_weight_])
    tables.write_table(args.output, fmt, out_names, values, layout=layout)


def _report(distiller, args, n_rows, features, targets):
    print(
        f"distilled {n_rows:,} rows to {args.n_synthetic} (features: {len(features)}, "
        f"targets: {len(targets)}, kernel {args.kernel}, solver {distiller.solver_}) "
        f"-> {args.output}"
    )
    if args.kernel == "linear":
        print(
            f"certified loss gap: {distiller.loss_gap_:.3g} (every linear model's loss on the "
            "output is within a factor 1 ± that of its loss on the input); held-out random "
            f"models: {distiller.heldout_loss_gap_:.3g}"
        )
    else:
        print(
            f"certified loss gap: {distiller.loss_gap_:.3g} (over all models linear in the "
            f"random features and x, as a factor on the loss); linear models alone: "
            f"{distiller.linear_loss_gap_:.3g}; held-out random models: "
            f"{distiller.heldout_loss_gap_:.3g}"
        )
