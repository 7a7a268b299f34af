"""skdistill: distil regression and offline-RL datasets by loss matching."""

import importlib

__version__ = "0.1.0"

# Public name -> the subpackage defining it. The estimators (and NumPy,
# SciPy, scikit-learn below them) are imported on first use (PEP 562), so
# that ``skdistill --help`` and ``skdistill --version`` start quickly.
_LAZY = {
    "BellmanDistiller": ".rl",
    "FittedQIteration": ".rl",
    "Transitions": ".rl",
    "collect_transitions": ".rl",
    "evaluate_policy": ".rl",
    "DistilledRegressor": ".supervised",
    "LossMatchingDistiller": ".supervised",
}

__all__ = sorted([*_LAZY, "__version__"])


# Public subpackages, imported on first attribute access like the names above.
_SUBMODULES = ("base", "baselines", "datasets", "rl", "supervised")


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted([*__all__, *_SUBMODULES])
