"""skdistill: distil regression and offline-RL datasets by loss matching."""

from .rl import (
    BellmanDistiller,
    FittedQIteration,
    Transitions,
    collect_transitions,
    evaluate_policy,
)
from .supervised import DistilledRegressor, LossMatchingDistiller

__version__ = "0.1.0"

__all__ = [
    "BellmanDistiller",
    "DistilledRegressor",
    "FittedQIteration",
    "LossMatchingDistiller",
    "Transitions",
    "__version__",
    "collect_transitions",
    "evaluate_policy",
]
