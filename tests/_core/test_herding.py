"""Herding against a naive greedy choice and random subsets."""

import numpy as np

from skdistill._core.herding import herd


def test_herd_matches_greedy_reference_and_beats_random_subsets():
    rng = np.random.default_rng(13)
    F = rng.exponential(size=(400, 6))
    chosen = herd(F, 40)
    # Naive greedy: recompute the error of every candidate at every step.
    reference, target = [], F.mean(axis=0)
    for _ in range(40):
        errors = [
            np.inf if i in reference else np.sum((F[reference + [i]].mean(0) - target) ** 2)
            for i in range(400)
        ]
        reference.append(int(np.argmin(errors)))
    assert chosen.tolist() == reference
    herd_error = np.linalg.norm(F[chosen].mean(0) - target)
    random_error = np.mean(
        [np.linalg.norm(F[rng.choice(400, 40, replace=False)].mean(0) - target) for _ in range(50)]
    )
    assert herd_error < 0.2 * random_error
