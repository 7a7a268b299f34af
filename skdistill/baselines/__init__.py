"""Baselines that distillation is compared against.

These are not distillers: they select real rows at random, with no loss
matching and no certificate. They live in the package because the examples and
benchmarks compare :class:`~skdistill.LossMatchingDistiller` with them, and
because they share its sampler protocol, so that either can be used wherever
the other is (for instance as the ``distiller`` of
:class:`~skdistill.DistilledRegressor`).

- :class:`LeverageScoreSampler`: rows drawn with probability proportional to
  their statistical leverage and reweighted by the inverse probability, the
  randomised least-squares baseline of Drineas, Mahoney and Muthukrishnan
  (2006) and Ma, Mahoney and Yu (2015).
- :func:`leverage_scores`: the leverage of every row (the diagonal of the hat
  matrix), computed in one chunked pass plus one more for the scores.
- :func:`stratified_subset`: for offline RL, real transitions drawn at random
  per (action, terminal) cell and weighted to keep the cells' proportions, the
  baseline :class:`~skdistill.BellmanDistiller` is measured against.
"""

from ._leverage import LeverageScoreSampler, leverage_scores
from ._stratified import stratified_subset

__all__ = ["LeverageScoreSampler", "leverage_scores", "stratified_subset"]
