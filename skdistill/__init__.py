"""skdistill: distil regression and offline-RL datasets by loss matching."""

from ._distiller import LossMatchingDistiller
from ._meta import DistilledRegressor

__version__ = "0.1.0"

__all__ = ["DistilledRegressor", "LossMatchingDistiller", "__version__"]
