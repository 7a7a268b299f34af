"""Offline reinforcement learning: distil transition sets, and learn and test policies.

:class:`BellmanDistiller` distils transitions ``(s, a, r, s', terminal)`` by matching
the Bellman losses of random linear Q-predictors, :class:`FittedQIteration` learns a
policy from (distilled) transitions with any scikit-learn regressor, and
:func:`collect_transitions` and :func:`evaluate_policy` collect datasets from and run
policies in gymnasium environments.
"""

from ._distiller import BellmanDistiller
from ._fqi import FittedQIteration
from ._gym import collect_transitions, evaluate_policy
from ._transitions import Transitions

__all__ = [
    "BellmanDistiller",
    "FittedQIteration",
    "Transitions",
    "collect_transitions",
    "evaluate_policy",
]
