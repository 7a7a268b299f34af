"""skdistill: distil regression and offline-RL datasets by loss matching."""

from ._bellman import BellmanDistiller, Transitions
from ._distiller import LossMatchingDistiller
from ._fqi import FittedQIteration
from ._gym import collect_transitions, evaluate_policy
from ._meta import DistilledRegressor

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
