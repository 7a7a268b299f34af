"""The solvers of skdistill.rl._solvers, arrays in and arrays out, against naive references."""

import numpy as np
import pytest

from skdistill._core.allocation import allocate_cells
from skdistill._core.herding import herd
from skdistill.rl._solvers import (
    _SOLVERS,
    BellmanProblem,
    SolverOptions,
    SolverRandom,
    random_predictors,
    solve_exact,
    solve_lbfgs,
    solve_select,
)
from skdistill.rl._transitions import CellLayout


def _problem(make_transitions, seed=0, n=240, features="decomposable", weighted=True):
    S, a, r, S2, t = make_transitions(seed, n=n, d=2, p_terminal=0.1)
    w = np.random.default_rng(seed).uniform(0.5, 2.0, size=n) if weighted else np.ones(n)
    cells = CellLayout.from_transitions(a, t, w)
    problem = BellmanProblem.from_transitions(
        S, a, r, S2, t, w, cells, gamma=0.9, features=features, n_actions=3
    )
    return problem


def _random(seed=0):
    seeds = np.random.SeedSequence(seed).spawn(3)
    return SolverRandom(np.random.default_rng(seeds[0]), np.random.default_rng(seeds[1]), seeds[2])


def _weighted_moments(Z, w):
    mean = np.average(Z, axis=0, weights=w)
    return mean, np.cov(Z, rowvar=False, aweights=w, bias=True)


def test_problem_standardises_states_and_scales_rewards(make_transitions):
    problem = _problem(make_transitions)
    Z, w, d = problem.Z, problem.w, problem.n_features
    mean = np.average(Z, axis=0, weights=w)
    std = np.sqrt(np.average((Z - mean) ** 2, axis=0, weights=w))
    rms = np.sqrt(np.average(Z[:, d] ** 2, weights=w))
    np.testing.assert_allclose(problem.Zs[:, :d], (Z[:, :d] - mean[:d]) / std[:d])
    np.testing.assert_allclose(problem.Zs[:, d], Z[:, d] / rms)
    np.testing.assert_allclose(problem.Zs[:, d + 1 :], (Z[:, d + 1 :] - mean[:d]) / std[:d])


@pytest.mark.parametrize("per_cell", [False, True])
def test_random_predictors_losses_match_naive_loop(make_transitions, naive_loss, per_cell):
    problem = _problem(make_transitions, n=60, features="per_action")
    W, lam, losses = random_predictors(problem, 5, np.random.SeedSequence(1), per_cell=per_cell)
    d = problem.n_features
    Zs, a, t, w = problem.Zs, problem.a, problem.t, problem.w
    groups = problem.cells.rows if per_cell else [np.arange(len(Zs))]
    naive = np.array(
        [
            [
                naive_loss(
                    W[j], lam[j], Zs[g, :d], a[g], Zs[g, d], Zs[g, d + 1 :], t[g], 0.9, w[g]
                )
                for g in groups
            ]
            for j in range(5)
        ]
    )
    np.testing.assert_allclose(losses, naive if per_cell else naive[:, 0], rtol=1e-10)


def test_solve_exact_matches_every_cells_moments(make_transitions):
    problem = _problem(make_transitions)
    cells = problem.cells
    counts = allocate_cells(cells.weights, 60, np.minimum(cells.sizes, 6), cells.sizes)
    solution = solve_exact(problem, counts, _random(), SolverOptions())
    a_syn, t_syn = cells.repeat(counts)
    np.testing.assert_array_equal(solution.a, a_syn)
    np.testing.assert_array_equal(solution.t, t_syn)
    assert solution.support is None and solution.predictors is None and solution.n_iter == 0
    start = 0
    for rows, count, weight in zip(cells.rows, counts, cells.weights):
        part = slice(start, start + count)
        start += count
        assert solution.w[part].sum() == pytest.approx(weight)
        for got, want in zip(
            _weighted_moments(solution.Z[part], solution.w[part]),
            _weighted_moments(problem.Z[rows], problem.w[rows]),
        ):
            np.testing.assert_allclose(got, want, atol=1e-9)


def test_solve_select_herds_naive_relative_losses(make_transitions, naive_loss):
    problem = _problem(make_transitions, n=60, features="per_action")
    cells = problem.cells
    counts = allocate_cells(cells.weights, 12, np.ones_like(cells.sizes), cells.sizes)
    options = SolverOptions(n_predictors=4)
    solution = solve_select(problem, counts, _random(), options)
    W, lam = solution.predictors
    np.testing.assert_array_equal(solution.Z, problem.Z[solution.support])
    d, Zs = problem.n_features, problem.Zs
    start = 0
    for rows, count, weight in zip(cells.rows, counts, cells.weights):
        chosen = solution.support[start : start + count]
        np.testing.assert_allclose(solution.w[start : start + count], weight / count)
        start += count
        # Every row is a candidate here (no pool): herding on each row's squared
        # residual over the cell's weighted loss, for every predictor.
        assert len(rows) <= 20 * count
        relative = np.array(
            [
                [
                    naive_loss(
                        W[j], lam[j], Zs[[i], :d], problem.a[[i]], Zs[[i], d],
                        Zs[[i], d + 1 :], problem.t[[i]], 0.9, np.ones(1),
                    )
                    for j in range(4)
                ]
                for i in rows
            ]
        )
        relative /= np.average(relative, axis=0, weights=problem.w[rows])
        reference = rows[herd(relative, count, np.ones(4))]
        np.testing.assert_array_equal(np.sort(chosen), np.sort(reference))


@pytest.mark.parametrize("exact_start", [True, False])
def test_solve_lbfgs_lowers_the_naive_mismatch_of_its_start(
    make_transitions, naive_loss, exact_start
):
    problem = _problem(make_transitions, features="per_action")
    cells = problem.cells
    minimum = np.minimum(cells.sizes, 6) if exact_start else np.ones_like(cells.sizes)
    counts = allocate_cells(cells.weights, 40, minimum, cells.sizes)
    start = _SOLVERS["lbfgs"](problem, counts, _random(), SolverOptions(8, exact_start, 1))
    solution = solve_lbfgs(problem, counts, _random(), SolverOptions(8, exact_start, 50))
    W, lam = solution.predictors
    targets = random_predictors(problem, 8, _random().predictors)[2]
    d = problem.n_features

    def mismatch(sol):
        Zs = problem.standardiser.transform(sol.Z)
        losses = [
            naive_loss(W[j], lam[j], Zs[:, :d], sol.a, Zs[:, d], Zs[:, d + 1 :], sol.t, 0.9, sol.w)
            for j in range(8)
        ]
        return np.mean((np.array(losses) - targets) ** 2)

    for x, y in zip(start[1:4], solution[1:4]):
        np.testing.assert_array_equal(x, y)
    assert solution.n_iter > 1 and solution.support is None
    assert mismatch(solution) < 0.5 * mismatch(start)


def test_solvers_share_one_signature():
    assert set(_SOLVERS) == {"exact", "lbfgs", "select", "reweight"}
