"""From the columns of a table to the arrays a distiller fits: ``X``, ``y`` and weights.

Which column is a feature, a target or the weight (:func:`plan_columns`), the
optional one-hot encoding of non-numeric features (:func:`one_hot`), and the
numeric and finiteness checks that name the offending columns
(:func:`matrices`). Every mistake is a :class:`~skdistill._cli.console.CommandError`.
"""

import math

from .console import CommandError

_NUMERIC_HINT = "; encode {it} as numbers first, or pass --one-hot"


def _name_list(names, limit=12):
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def plan_columns(names, targets, weight, path):
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


def matrices(by_name, features, targets, weight):
    """``(X, y, sample_weight)`` from columns by name; ``y`` is 1-D for one target.

    Text columns are refused before missing values, features before targets.
    """
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
    return X, Y[:, 0] if Y.shape[1] == 1 else Y, w


def one_hot(names, columns, features):
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
        missing = np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values])
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
