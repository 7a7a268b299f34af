"""``skdistill rl-demo``: a tiny run, its table and progress, and the message without gymnasium."""

import re
import sys

import pytest

from skdistill._cli import main, rl_demo

TINY = ["rl-demo", "--n-transitions", "600", "--sizes", "60", "--episodes", "2",
        "--n-iterations", "3"]


def test_rl_demo_without_gymnasium(monkeypatch, error_line):
    monkeypatch.setitem(sys.modules, "gymnasium", None)
    assert main(["rl-demo"]) == 2
    line = error_line()
    assert "gymnasium" in line and "pip install 'skdistill[rl]'" in line


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--n-seeds", "0"], "--n-seeds must be at least 1"),
        (["--n-transitions", "50", "--sizes", "60"], "--sizes must lie between 1 and"),
    ],
)
def test_rl_demo_bad_arguments(argv, expected, error_line):
    pytest.importorskip("gymnasium")
    assert main(["rl-demo", *argv]) == 2
    line = error_line()
    assert line.startswith("skdistill rl-demo: error: ") and expected in line


def _row(out, m):
    return next(line for line in out.splitlines() if line.split()[:1] == [str(m)])


def test_rl_demo_tiny(capsys):
    pytest.importorskip("gymnasium")
    assert main([*TINY, "--n-seeds", "2"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("skdistill rl-demo: running")
    numbers = [float(tok) for tok in _row(out, 60).replace("±", " ").split()]
    # m, distilled ± se, stratified ± se, paired difference ± se, full data
    assert len(numbers) == 8
    distilled, stratified, difference, full = numbers[1], numbers[3], numbers[5], numbers[7]
    assert all(1 <= v <= 500 for v in (distilled, stratified, full))
    assert difference == pytest.approx(distilled - stratified, abs=0.11)
    assert "mean ± standard error over 2 seeds" in out


def test_rl_demo_without_verbose_says_once_that_it_runs(capsys):
    pytest.importorskip("gymnasium")
    assert main([*TINY, "--n-seeds", "1"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "-v shows progress" in err[0]


def test_rl_demo_one_seed_has_no_standard_error(capsys):
    pytest.importorskip("gymnasium")
    assert main([*TINY, "--n-seeds", "1"]) == 0
    out = capsys.readouterr().out
    assert "±" not in _row(out, 60)
    assert "± 0.0" not in out and "one seed, so no standard error" in out
    assert len(_row(out, 60).split()) == 5


def test_rl_demo_recommends_what_the_docs_recommend(capsys):
    pytest.importorskip("gymnasium")
    assert main([*TINY, "--n-seeds", "1"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "nonlinear Q-learner" in out and "1,000 or more transitions" in out
    assert "stratified subset (skdistill.baselines.stratified_subset)" in out
    assert 'linear Q-learner (w . s + b[a]), BellmanDistiller(solver="exact")' in out


def test_rl_demo_verbose_reports_every_step(capsys):
    pytest.importorskip("gymnasium")
    assert main([*TINY, "--n-seeds", "1", "-v"]) == 0
    err = capsys.readouterr().err.splitlines()
    stamps = [float(re.match(r"skdistill rl-demo: \[\s*([\d.]+)s\]", line)[1]) for line in err]
    assert len(stamps) == len(err) >= 6
    assert any("full data: return" in line for line in err)
    assert any("m=60 seed 0: stratified" in line for line in err)


def test_ticker_prints_at_most_one_tick_per_interval(monkeypatch):
    lines = []
    clock = iter([0.0, 0.5, 1.0, 2.5, 2.6, 5.0, 5.1])
    monkeypatch.setattr(rl_demo.time, "perf_counter", lambda: next(clock))
    ticker = rl_demo._Ticker(lines.append, every=2.0)  # last = 0.0
    for step in range(3):  # at 0.5, 1.0: too soon; at 2.5: printed (last = 2.6)
        ticker.tick(f"step {step}")
    ticker.tick("step 3")  # at 5.0: printed (last = 5.1)
    assert lines == ["step 2", "step 3"]


def test_rl_demo_reports_inside_fitted_q_iteration(monkeypatch, capsys):
    pytest.importorskip("gymnasium")
    monkeypatch.setattr(rl_demo._Ticker, "tick", rl_demo._Ticker.__call__)  # every tick prints
    assert main([*TINY, "--n-seeds", "1", "-v"]) == 0
    err = capsys.readouterr().err
    for step in ("1/3", "2/3", "3/3"):
        assert f"full data: Fitted-Q iteration {step}" in err
        assert f"m=60 seed 0, stratified: Fitted-Q iteration {step}" in err
