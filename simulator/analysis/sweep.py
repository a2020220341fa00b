"""Sweeps over inputs: a grid, one-at-a-time sensitivity (tornado), and Monte Carlo.

Every variant is the scenario with some fields set (as `--set` would) and is costed with the fluid
engine. Work is cut into chunks and handed to any `concurrent.futures.Executor`: local processes
by default, a Dask cluster (`distributed.Client.get_executor()`), or the calling process. Samples
are drawn up front from the scenario's seed, so results are identical whichever executor ran them;
every option sees the same samples (common random numbers).
"""

from __future__ import annotations

import itertools
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

import numpy as np
from pydantic import BaseModel

from simulator.analysis.evaluate import Evaluator
from simulator.economics.ledger import CASH
from simulator.errors import InputError
from simulator.scenario import Scenario, UncertainInput, vary

CHUNK = 25  # variants per task: enough to amortise a task's start, small enough to spread the work
Assignment = tuple[str, Any]


Costs = dict[str, tuple[list[float], bool]]
"""Per option: monthly cash cost and whether it may be recommended (feasible and within its latency targets)."""


def _cost_chunk(scenario: Scenario, source: str, variants: list[list[Assignment]]) -> list[Costs]:
    """Monthly cash cost and eligibility of every option, for each variant."""
    out = []
    for assignments in variants:
        varied = vary(scenario, assignments, source)
        costs = Evaluator(varied, "fluid").costs([o.name for o in varied.options], varied.workload.scale)
        out.append({name: (c.monthly(CASH).tolist(), u.eligible) for name, (u, c) in costs.items()})
    return out


def cost_variants(
    scenario: Scenario, source: str, variants: list[list[Assignment]], executor: Executor | None = None
) -> list[Costs]:
    pool = executor or ProcessPoolExecutor()
    try:
        chunks = [variants[i : i + CHUNK] for i in range(0, len(variants), CHUNK)]
        futures = [pool.submit(_cost_chunk, scenario, source, chunk) for chunk in chunks]
        return [row for f in futures for row in f.result()]
    finally:
        if executor is None:
            pool.shutdown()


def parse_param(spec: str) -> tuple[str, list[float]]:
    """`field=low:high:lin|log:count` or `field=v1,v2,...`."""
    field, sep, values = spec.partition("=")
    if not sep or not field:
        raise InputError(
            "--param", spec, "expected FIELD=LOW:HIGH:lin|log:COUNT or FIELD=V1,V2", "e.g. workload.scale=0.1:10:log:20"
        )
    try:
        if ":" in values:
            low, high, kind, count = values.split(":")
            lo, hi, n = float(low), float(high), int(count)
            if n < 1:
                raise ValueError
            if kind == "log":
                if lo <= 0 or hi <= 0:
                    raise ValueError
                return field, np.geomspace(lo, hi, n).tolist()
            if kind != "lin":
                raise ValueError
            return field, np.linspace(lo, hi, n).tolist()
        return field, [float(v) for v in values.split(",")]
    except ValueError:
        raise InputError(
            "--param",
            spec,
            "could not read the values",
            "write LOW:HIGH:lin|log:COUNT (COUNT at least 1, log needs positive bounds) or V1,V2",
        ) from None


class GridPoint(BaseModel):
    values: dict[str, float]
    total_cost_usd: dict[str, float]
    cheapest_option: str | None


def grid(
    scenario: Scenario, source: str, params: list[tuple[str, list[float]]], executor: Executor | None = None
) -> list[GridPoint]:
    combos = list(itertools.product(*[[(f, v) for v in vs] for f, vs in params]))
    rows = cost_variants(scenario, source, [list(c) for c in combos], executor)
    points = []
    for combo, row in zip(combos, rows, strict=True):
        totals = {name: float(sum(monthly)) for name, (monthly, _) in row.items()}
        eligible = {n: t for n, t in totals.items() if row[n][1]}
        points.append(
            GridPoint(
                values=dict(combo),
                total_cost_usd=totals,
                cheapest_option=min(eligible, key=eligible.__getitem__) if eligible else None,
            )
        )
    return points


class TornadoBar(BaseModel):
    field: str
    low: float
    high: float
    total_cost_usd_at_low: dict[str, float]
    total_cost_usd_at_high: dict[str, float]


def tornado(
    scenario: Scenario, source: str, fields: list[tuple[str, float, float]], executor: Executor | None = None
) -> tuple[dict[str, float], list[TornadoBar]]:
    """Each field alone at its low and high value; bars sorted by the widest swing of any option."""
    variants: list[list[Assignment]] = [[]] + [[(f, v)] for f, lo, hi in fields for v in (lo, hi)]
    rows = cost_variants(scenario, source, variants, executor)
    totals = [{n: float(sum(m)) for n, (m, _) in row.items()} for row in rows]
    bars = [
        TornadoBar(
            field=f, low=lo, high=hi, total_cost_usd_at_low=totals[1 + 2 * k], total_cost_usd_at_high=totals[2 + 2 * k]
        )
        for k, (f, lo, hi) in enumerate(fields)
    ]
    bars.sort(key=lambda b: -max(abs(b.total_cost_usd_at_high[n] - b.total_cost_usd_at_low[n]) for n in totals[0]))
    return totals[0], bars


def draw(inputs: list[UncertainInput], samples: int, seed: int) -> np.ndarray:
    """Samples of every uncertain input: shape (samples, inputs); one seeded stream per input."""
    out = np.empty((samples, len(inputs)))
    for k, (u, ss) in enumerate(
        zip(inputs, np.random.SeedSequence(seed, spawn_key=(7919,)).spawn(len(inputs)), strict=True)
    ):
        rng = np.random.default_rng(ss)
        p = u.parameters()
        if u.distribution == "normal":
            out[:, k] = rng.normal(p["mean"], p["sd"], samples)
        elif u.distribution == "lognormal":
            out[:, k] = p["median"] * np.exp(rng.normal(0.0, p["sd_log"], samples))
        elif u.distribution == "uniform":
            out[:, k] = rng.uniform(p["low"], p["high"], samples)
        else:
            out[:, k] = rng.triangular(p["low"], p["mode"], p["high"], samples)
    return out


class MonteCarlo(BaseModel):
    samples: int
    options: list[str]
    p10_monthly_usd: dict[str, list[float]]
    p50_monthly_usd: dict[str, list[float]]
    p90_monthly_usd: dict[str, list[float]]
    p10_total_usd: dict[str, float]
    p50_total_usd: dict[str, float]
    p90_total_usd: dict[str, float]
    prob_cheapest_by_month: dict[str, list[float]]
    """Share of samples in which the option's cumulative cost to that month is the lowest of those that are
    feasible and meet their latency targets."""


def _check_draws(scenario: Scenario, source: str, fields: list[str], values: np.ndarray) -> None:
    """Fail before any work is sent if an input's lowest or highest draw is outside its field's range."""
    for k, field in enumerate(fields):
        for value in (float(values[:, k].min()), float(values[:, k].max())):
            try:
                vary(scenario, [(field, value)], source)
            except InputError as e:
                raise InputError(
                    source,
                    f"uncertainty[{k}]",
                    f"a draw of {value:g} for {field}: {e.problem}",
                    "narrow the distribution to the field's range; uniform and triangular ones are bounded",
                ) from None


def monte_carlo(scenario: Scenario, source: str, samples: int, executor: Executor | None = None) -> MonteCarlo:
    if not scenario.uncertainty:
        raise InputError(source, "uncertainty", "no uncertain inputs", "add an uncertainty section to the scenario")
    values = draw(scenario.uncertainty, samples, scenario.seed)
    fields = [u.field for u in scenario.uncertainty]
    _check_draws(scenario, source, fields, values)
    rows = cost_variants(scenario, source, [list(zip(fields, map(float, v), strict=True)) for v in values], executor)
    names = list(rows[0])
    monthly = {n: np.array([row[n][0] for row in rows]) for n in names}  # (samples, months)
    eligible = {n: np.array([row[n][1] for row in rows]) for n in names}
    cumulative = np.stack([np.where(eligible[n][:, None], np.cumsum(monthly[n], axis=1), np.inf) for n in names])
    winner = np.argmin(cumulative, axis=0)  # (samples, months)
    none = ~np.isfinite(cumulative.min(axis=0))

    def q(p: float) -> dict[str, list[float]]:
        return {n: np.percentile(monthly[n], p, axis=0).tolist() for n in names}

    def qt(p: float) -> dict[str, float]:
        return {n: float(np.percentile(monthly[n].sum(axis=1), p)) for n in names}

    return MonteCarlo(
        samples=samples,
        options=names,
        p10_monthly_usd=q(10),
        p50_monthly_usd=q(50),
        p90_monthly_usd=q(90),
        p10_total_usd=qt(10),
        p50_total_usd=qt(50),
        p90_total_usd=qt(90),
        prob_cheapest_by_month={n: ((winner == k) & ~none).mean(axis=0).tolist() for k, n in enumerate(names)},
    )
