"""Supervised distillation: :class:`LossMatchingDistiller` and :class:`DistilledRegressor`.

The model families whose losses are matched -- linear regressors of ``(x, y)``
(``_linear``) and regressors linear in random Fourier features (``_rbf``) -- each
give the distiller their standardised training moments and a table of solvers.
"""

from ._compose import DistilledRegressor
from ._distiller import LossMatchingDistiller

__all__ = ["DistilledRegressor", "LossMatchingDistiller"]
