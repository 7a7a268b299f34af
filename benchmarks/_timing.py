"""Interleaved, warmed-up timing for the benchmarks: medians and ranges over rounds.

A benchmark on a shared machine must not let a burst of a neighbour's load land on one
side of a ratio only. :func:`interleave` therefore runs every callable once as a
warm-up, then ``rounds`` rounds in which every callable runs once, the order reversed
from one round to the next (A B C, C B A, A B C, ...), so that over each pair of
rounds every callable has the same mean position and a slow spell is shared. A
ratio is the median of the per-round ratios (each round's ``f / ref``, both measured
close together), given with its range over
the rounds; a time is the median of its rounds with their range. A call too short to
time once (under ``min_time``, 0.05 s by default) runs several times in a row in each
round, and its round's time is their mean.

Each round calls the callables afresh (nothing is cached by this module). A callable
that must time only part of its work returns :class:`Timed` (its own seconds, its
result and any named sub-timings); otherwise its wall time is used.

The module sits beside the scripts in ``benchmarks/``; each script puts its own
directory first on ``sys.path`` before importing it, so ``python benchmarks/bench_X.py``
works from any directory (Python also does this for a script run by path).
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Timed:
    """What a callable returns to report its own time instead of its wall time.

    ``parts`` holds further per-call quantities (seconds of a sub-step, or the whole
    pass's time when ``seconds`` is only part of it), summarised like the times.
    """

    seconds: float
    value: Any = None
    parts: dict = field(default_factory=dict)


@dataclass
class Summary:
    """Median and range of a quantity over interleaved rounds."""

    median: float
    low: float
    high: float
    rounds: int

    @classmethod
    def of(cls, values):
        values = np.asarray(values, dtype=float)
        return cls(float(np.median(values)), float(values.min()), float(values.max()), len(values))

    def seconds(self, fmt=".3f"):
        """``"0.123 s (0.120-0.131)"``."""
        return f"{self.median:{fmt}} s ({self.low:{fmt}}-{self.high:{fmt}})"

    def ratio(self, label="ratio", fmt=".2f", unit=""):
        """``"ratio 0.74 (0.70-0.81, median of 7 interleaved rounds)"``."""
        return (
            f"{label} {self.median:{fmt}}{unit} ({self.low:{fmt}}-{self.high:{fmt}}{unit}, "
            f"median of {self.rounds} interleaved rounds)"
        )


def ratio_of(numerators, denominators):
    """Summary of the per-round ratios ``numerators[i] / denominators[i]``."""
    numerators, denominators = np.asarray(numerators, float), np.asarray(denominators, float)
    if numerators.shape != denominators.shape:
        raise ValueError("a ratio needs one numerator and one denominator per round")
    return Summary.of(numerators / denominators)


@dataclass
class Timings:
    """Per-round seconds (and parts) of every callable, from :func:`interleave`."""

    seconds: dict  # name -> array of seconds, one per round
    parts: dict  # name -> {part -> array, one per round}
    values: dict  # name -> the result of its last round
    rounds: int
    calls: dict  # name -> calls per round (more than 1 for calls under ``min_time``)

    def __getitem__(self, name):
        """Per-round seconds of ``name`` (an array), to combine before :func:`ratio_of`."""
        return self.seconds[name]

    def part(self, name, part):
        return self.parts[name][part]

    def time(self, name):
        return Summary.of(self.seconds[name])

    def ratio(self, numerator, denominator):
        """Median and range of the per-round ``numerator / denominator``."""
        return ratio_of(self.seconds[numerator], self.seconds[denominator])


def _call(func):
    start = time.perf_counter()
    out = func()
    elapsed = time.perf_counter() - start
    if isinstance(out, Timed):
        return out
    return Timed(elapsed, out)


def _call_n(func, number):
    """``number`` calls of ``func`` in a row: per-call seconds and parts, last value."""
    outs = [_call(func) for _ in range(number)]
    parts = {key: sum(o.parts[key] for o in outs) / number for key in outs[0].parts}
    return Timed(sum(o.seconds for o in outs) / number, outs[-1].value, parts)


def interleave(
    callables: Mapping[str, Callable[[], Any]],
    rounds: int,
    *,
    warmup: int = 1,
    min_time: float = 0.05,
    check: Callable[[int, dict], None] | None = None,
) -> Timings:
    """Time ``callables`` (name -> no-argument callable) in interleaved rounds.

    ``warmup`` (>= 1) untimed runs of each first, in the order of the first round;
    then ``rounds`` rounds, each running every callable, forward in even rounds and
    backward in odd ones. A callable whose warm-up took less than ``min_time``
    seconds runs several times in a row within each round (as many as make up
    ``min_time``, at most 100) and its round's time is the mean of those calls, so
    that a time of a few milliseconds is not one timer reading. ``check(round,
    values)``, if given, sees each round's results (``name -> value``), e.g. to
    assert two variants agree.
    """
    if rounds < 1 or warmup < 1:
        raise ValueError(f"rounds and warmup must be >= 1, got {rounds} and {warmup}")
    names = list(callables)
    warm = {name: 0.0 for name in names}
    for _ in range(warmup):
        for name in names:
            warm[name] = _call(callables[name]).seconds
    number = {
        name: int(min(100, max(1, np.ceil(min_time / max(warm[name], 1e-9))))) for name in names
    }
    seconds = {name: [] for name in names}
    parts = {name: {} for name in names}
    values = {}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        round_values = {}
        for name in order:
            out = _call_n(callables[name], number[name])
            seconds[name].append(out.seconds)
            for key, value in out.parts.items():
                parts[name].setdefault(key, []).append(value)
            round_values[name] = out.value
        if check is not None:
            check(r, round_values)
        values = round_values
    return Timings(
        {name: np.asarray(ts) for name, ts in seconds.items()},
        {name: {k: np.asarray(v) for k, v in ps.items()} for name, ps in parts.items()},
        values,
        rounds,
        number,
    )

