"""``skdistill demo``: distil scikit-learn's diabetes data at several sizes.

For each size, the test MSE of ``LinearRegression`` trained on the distilled
rows (closed-form and L-BFGS solvers) is printed next to a random subset of the
same size and the full training set, with the certified loss gaps.
"""

from .console import Progress, ignoring_user_warnings


def add_parser(subparsers):
    """Add the ``demo`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser("demo", help="distil scikit-learn's diabetes data and compare")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[20, 50, 100],
        help="synthetic set sizes (default 20 50 100)",
    )
    parser.add_argument(
        "--verbose", "-v", action="count", default=0, help="progress on stderr, a line per step"
    )
    parser.set_defaults(func=run)


def run(args):
    """Distil the diabetes data at several sizes and compare test MSE."""
    import numpy as np
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import train_test_split

    from skdistill import LossMatchingDistiller

    progress = Progress("demo", args.verbose)
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
            with ignoring_user_warnings():
                X_syn, y_syn = distiller.fit_resample(X_train, y_train)
            row[solver] = (test_mse(X_syn, y_syn), distiller.loss_gap_)
            progress(f"m={m}: distilled with solver={solver!r}, gap {distiller.loss_gap_:.1e}")
        idx = rng.choice(n, size=m, replace=False)
        random = test_mse(X_train[idx], y_train[idx])
        print(
            f"{m:>5} {row['exact'][0]:>10.2f} {row['lbfgs'][0]:>10.2f} {random:>10.2f}"
            f" {full:>10.2f} {row['exact'][1]:>10.1e} {row['lbfgs'][1]:>10.1e}"
        )
    print(
        "gap = the certificate loss_gap_: every linear model's loss on the distilled rows "
        "(weighted by sample_weight_) is within a factor 1 ± gap of its loss on the training "
        "rows, so the model fitted on them has a training loss at most (1 + gap) / (1 - gap) "
        "times the best."
    )
    return 0
