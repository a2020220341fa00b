"""From a scenario to the answer: costs per option, the cheapest, break-even volumes and payback.

`run` is the one entry point the CLI, the dashboard and batch jobs share. Its result is a typed
summary whose field names are the JSON contract.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from importlib.metadata import version

import numpy as np
from pydantic import BaseModel

from simulator import catalog, privacy, units
from simulator.catalog.api_prices import GENAI_PRICES_VERSION
from simulator.economics import AMORTISED, CASH, Assumption, Economics, OptionCosts
from simulator.engine import TOKEN_KINDS, LatencySummary, OptionUsage
from simulator.engine.des import DesEngine
from simulator.engine.fluid import FluidEngine
from simulator.scenario import SENSITIVITY_LEVELS, ApiOption, HybridOption, Scenario, SelfHostOption, site_of

VIEWS = (CASH, AMORTISED)
# Break-even is searched from 1e-6 to 1e6 times the scenario's base load (`workload.scale` 1), four
# grid points a decade. The grid does not move with today's scale, so neither does the answer.
SCALE_SEARCH_DECADES = (-6.0, 6.0)
SCALE_GRID_POINTS = 49
SCALE_RELATIVE_TOLERANCE = 1e-7


class Tokens(BaseModel):
    input: float
    cached_input: float
    output: float


class QualityFigure(BaseModel):
    benchmark: str
    score: float
    source: str
    as_of: dt.date


class CriterionResult(BaseModel):
    criterion: str
    score: float
    weight: float
    reason: str


class OptionResult(BaseModel):
    name: str
    kind: str
    total_cost_usd: float
    """Cash cost over the horizon, undiscounted, with owned hardware's resale value credited at the end."""
    npv_cost_usd: float
    amortised_cost_usd: float
    monthly_cost_usd: list[float]
    cost_by_category_usd: dict[str, float]
    usd_per_mtok: float | None
    tokens: Tokens
    api_share: float | None
    feasible: bool
    infeasible_reasons: list[str]
    replicas_peak: int | None = None
    replicas_peak_by_month: list[int] | None = None
    """Most replicas up at once in each month."""
    utilisation_by_month: list[float] | None = None
    """Busy over held GPU-hours in each month."""
    api_share_by_month: list[float] | None = None
    """Hybrids: share of each month's requests sent to the API."""
    gpus_per_replica: int | None = None
    gpus_peak: float | None = None
    gpu_hours: float | None = None
    utilisation: float | None = None
    decode_batch: int | None = None
    replica_output_tok_per_s: float | None = None
    perf_source: str | None = None
    quality: QualityFigure | None = None
    latency: dict[str, LatencySummary] | None = None
    """Per class, from the des engine (null with the fluid engine)."""
    slo_attainment: float | None = None
    """Share of requests within their class's TTFT and TPOT targets (rejected ones count as misses)."""
    rejected_requests: float | None = None
    queue_mean: float | None = None
    privacy_score: float
    """Weighted privacy and control score, 0-100."""
    privacy_criteria: list[CriterionResult]
    compliant: dict[str, bool]
    """Per class: does this option meet the class's privacy requirements?"""
    compliance_reasons: list[str]
    sensitive_tokens_leaving_boundary: dict[str, float]
    """Tokens over the horizon, by sensitivity level, that reach someone outside the company."""


class BreakEven(BaseModel):
    option: str
    versus: str
    scale: float | None
    """`workload.scale` at which the two horizon costs are equal; null when never in 1e-6..1e6 (the search span)."""
    tokens_per_month: float | None
    payback_month: int | None
    """First month (from 1) in which the option's cumulative cash cost, before resale, is at or below the API's."""


class LedgerRow(BaseModel):
    option: str
    month: int
    """From 1."""
    category: str
    usd: float
    view: str
    """cash or amortised."""


class RunResult(BaseModel):
    scenario: str
    horizon_months: int
    price_date: dt.date
    seed: int
    engine: str
    break_even_engine: str
    """Break-even searches run many evaluations, so they always use the fluid engine."""
    workload_scale: float
    tokens_per_month: float
    cheapest_option: str | None
    """Cheapest feasible option, privacy requirements aside."""
    cheapest_compliant_option: str | None
    """Cheapest feasible option that meets every class's privacy requirements."""
    cost_of_privacy_usd: float | None
    cost_of_privacy_monthly_usd: list[float] | None
    options: list[OptionResult]
    break_even: list[BreakEven]
    assumptions: list[Assumption]
    versions: dict[str, str]


def with_scale(scenario: Scenario, scale: float) -> Scenario:
    return scenario.model_copy(update={"workload": scenario.workload.model_copy(update={"scale": scale})})


def _quality(scenario: Scenario, option: ApiOption | SelfHostOption | HybridOption) -> QualityFigure | None:
    if isinstance(option, HybridOption):
        parts = [_quality(scenario, scenario.option(n)) for n in (option.self_host, option.api)]
        known = [q for q in parts if q is not None]
        return min(known, key=lambda q: q.score) if len(known) == 2 else None
    if isinstance(option, SelfHostOption):
        q = catalog.model(option.model).quality
    else:
        q = catalog.api_quality().get((option.provider, option.model))
    return QualityFigure(benchmark=q.benchmark, score=q.score, source=q.source, as_of=q.as_of) if q else None


def _quality_reasons(scenario: Scenario, quality: QualityFigure | None) -> list[str]:
    floor = scenario.quality_floor
    if floor is None or quality is None or not quality.benchmark.startswith(floor.benchmark):
        return []
    if quality.score >= floor.min_score:
        return []
    return [f"{quality.benchmark} score {quality.score:g} is below the floor of {floor.min_score:g}"]


def _discount(scenario: Scenario, months: int) -> np.ndarray:
    r = units.yearly_to_monthly_rate(scenario.economics.discount_rate_per_year)
    return (1 + r) ** -np.arange(1, months + 1)


def _compliance(
    scenario: Scenario, option: ApiOption | SelfHostOption | HybridOption, usage: OptionUsage
) -> dict[str, list[str]]:
    """Per class, the privacy requirements each path it takes breaks."""
    out = {}
    for c in scenario.workload.classes:
        if isinstance(option, HybridOption):
            parts = [(scenario.option(option.self_host), "in_house"), (scenario.option(option.api), "api")]
            used = [o for o, path in parts if usage.class_tokens[path].get(c.name, 0.0) > 0]
        else:
            used = [option]
        out[c.name] = [r for o in used for r in privacy.class_violations(scenario, o, c.name)]  # type: ignore[arg-type]
    return out


def _leaving_boundary(
    scenario: Scenario, option: ApiOption | SelfHostOption | HybridOption, usage: OptionUsage
) -> dict[str, float]:
    level = {c.name: c.sensitivity for c in scenario.workload.classes}
    own = scenario.option(option.self_host) if isinstance(option, HybridOption) else option
    paths = ["api"]
    if isinstance(own, SelfHostOption) and catalog.terms().sites[site_of(own)].leaves_boundary:
        paths.append("in_house")
    out = dict.fromkeys(SENSITIVITY_LEVELS, 0.0)
    for path in paths:
        for cls, tokens in usage.class_tokens[path].items():
            out[level[cls]] += tokens
    return out


def _option_result(scenario: Scenario, usage: OptionUsage, costs: OptionCosts) -> OptionResult:
    option = scenario.option(usage.name)
    weights = scenario.privacy.weight_table()
    criteria = privacy.scores(scenario, option, usage.class_tokens)
    compliance = _compliance(scenario, option, usage)
    monthly = costs.monthly(CASH)
    tokens = {k: float(usage.tokens[k].sum()) for k in TOKEN_KINDS}
    total_tokens = sum(tokens.values())
    total = float(monthly.sum())
    quality = _quality(scenario, option)
    reasons = usage.infeasible_reasons + _quality_reasons(scenario, quality)
    result = OptionResult(
        name=usage.name,
        kind=usage.kind,
        total_cost_usd=total,
        npv_cost_usd=float(monthly @ _discount(scenario, usage.months)),
        amortised_cost_usd=costs.total("amortised"),
        monthly_cost_usd=[float(x) for x in monthly],
        cost_by_category_usd={k: float(v.sum()) for k, v in costs.cash.items()},
        usd_per_mtok=total / units.tokens_to_mtok(total_tokens) if total_tokens else None,
        tokens=Tokens(**tokens),
        api_share=(
            float(usage.api_requests.sum() / usage.requests.sum())
            if usage.kind == "hybrid"
            and usage.requests is not None
            and usage.requests.sum() > 0
            and usage.api_requests is not None
            else None
        ),
        feasible=not reasons,
        infeasible_reasons=reasons,
        quality=quality,
        privacy_score=privacy.weighted_total(criteria, weights),
        privacy_criteria=[
            CriterionResult(criterion=c.criterion, score=c.score, weight=weights[c.criterion], reason=c.reason)
            for c in criteria
        ],
        compliant={c: not r for c, r in compliance.items()},
        compliance_reasons=[f"class {c!r}: {reason}" for c, rs in compliance.items() for reason in rs],
        sensitive_tokens_leaving_boundary=_leaving_boundary(scenario, option, usage),
    )
    if result.api_share is not None:
        assert usage.api_requests is not None and usage.requests is not None
        result.api_share_by_month = [
            float(a / n) if n else 0.0 for a, n in zip(usage.api_requests, usage.requests, strict=True)
        ]
    if usage.latency is not None:
        result.latency = usage.latency
        result.slo_attainment = usage.slo_attainment
        result.rejected_requests = usage.rejected_requests
        result.queue_mean = usage.queue_mean
    if usage.fleet is not None:
        f = usage.fleet
        result.replicas_peak = int(f.replicas_peak.max())
        result.replicas_peak_by_month = [int(r) for r in f.replicas_peak]
        result.utilisation_by_month = [
            float(b / h) if h else 0.0 for b, h in zip(f.busy_gpu_hours, f.gpu_hours, strict=True)
        ]
        result.gpus_per_replica = f.gpus_per_replica
        result.gpus_peak = float(f.gpus_held.max())
        result.gpu_hours = float(f.gpu_hours.sum())
        result.utilisation = (
            usage.utilisation
            if usage.utilisation is not None
            else float(f.busy_gpu_hours.sum() / f.gpu_hours.sum())
            if f.gpu_hours.sum()
            else 0.0
        )
        result.decode_batch = f.batch
        result.replica_output_tok_per_s = f.capacity_tok_per_s
        result.perf_source = f.perf_source
    elif usage.kind == "self_host":
        result.perf_source = "none: the model does not fit"
    return result


ENGINES: dict[str, type[FluidEngine] | type[DesEngine]] = {"fluid": FluidEngine, "des": DesEngine}


class Evaluator:
    """Horizon costs of options at any volume; what break-even searches call many times."""

    def __init__(self, scenario: Scenario, engine: str = "fluid") -> None:
        self.scenario = scenario
        self.engine = ENGINES[engine]
        self.economics = Economics(scenario)  # independent of volume, so its price tables are reused

    def costs(self, names: list[str], scale: float) -> dict[str, tuple[OptionUsage, OptionCosts]]:
        scaled = with_scale(self.scenario, scale)
        engine = self.engine(scaled)
        out = {}
        for name in names:
            usage = engine.option_usage(scaled.option(name))
            out[name] = usage, self.economics.costs(usage)
        return out

    def gap(self, option: str, versus: str) -> Callable[[float], float]:
        def f(scale: float) -> float:
            c = self.costs([option, versus], scale)
            return c[option][1].total() - c[versus][1].total()

        return f


def break_even_scale(gap: Callable[[float], float]) -> float | None:
    """Smallest `workload.scale` at which `gap` (option minus API) reaches zero, by grid and bisection.

    Self-hosted cost is a step function of volume (whole replicas), so the search brackets the
    first sign change on a log grid and bisects it; at a step the result is the step's edge.
    """
    grid = np.logspace(*SCALE_SEARCH_DECADES, SCALE_GRID_POINTS)
    previous = None
    for s in grid:
        if gap(s) <= 0:
            if previous is None:
                return 0.0 if gap(grid[0] / 10) <= 0 else float(s)
            lo, hi = previous, float(s)
            while hi / lo - 1 > SCALE_RELATIVE_TOLERANCE:
                mid = math.sqrt(lo * hi)
                lo, hi = (lo, mid) if gap(mid) <= 0 else (mid, hi)
            return hi
        previous = float(s)
    return None


@functools.lru_cache(maxsize=256)
def _break_even_at_base(base_json: str, option: str, versus: str) -> float | None:
    return break_even_scale(Evaluator(Scenario.model_validate_json(base_json)).gap(option, versus))


def break_even_of(scenario: Scenario, option: str, versus: str) -> float | None:
    """`break_even_scale` of `option` against `versus`, shared by every volume of the same scenario.

    Only `workload.scale` differs between a volume sweep's runs or a dashboard's volume moves, and
    the search does not depend on it, so they all reuse one search.
    """
    return _break_even_at_base(with_scale(scenario, 1.0).model_dump_json(), option, versus)


def payback_month(option: OptionCosts, api: OptionCosts) -> int | None:
    """First month (from 1) when the option's cumulative cash cost, resale excluded, is at or below the API's."""
    own = np.cumsum(option.monthly(CASH) - option.cash.get("residual_value", 0))
    other = np.cumsum(api.monthly(CASH) - api.cash.get("residual_value", 0))
    hits = np.nonzero(own <= other)[0]
    return int(hits[0]) + 1 if len(hits) else None


def run(scenario: Scenario, engine: str | None = None) -> RunResult:
    """Evaluate every option with `engine` (default: the scenario's `simulation.engine`)."""
    return run_with_ledger(scenario, engine)[0]


def run_with_ledger(scenario: Scenario, engine: str | None = None) -> tuple[RunResult, list[LedgerRow]]:
    """`run`, and the cost ledger behind it in long form, both views."""
    engine = engine or scenario.simulation.engine
    names = [o.name for o in scenario.options]
    evaluated = Evaluator(scenario, engine).costs(names, scenario.workload.scale)
    results = [_option_result(scenario, usage, costs) for usage, costs in evaluated.values()]
    feasible = [r for r in results if r.feasible]
    cheapest = min(feasible, key=lambda r: r.total_cost_usd).name if feasible else None
    compliant = [r for r in feasible if all(r.compliant.values())]
    cheapest_compliant = min(compliant, key=lambda r: r.total_cost_usd).name if compliant else None
    privacy_monthly = None
    if cheapest is not None and cheapest_compliant is not None:
        privacy_monthly = [
            float(x) for x in evaluated[cheapest_compliant][1].monthly(CASH) - evaluated[cheapest][1].monthly(CASH)
        ]
    apis = [r for r in feasible if r.kind == "api"]
    cheapest_api = min(apis, key=lambda r: r.total_cost_usd).name if apis else None

    months = scenario.economics.horizon_months
    tokens_per_month = float(FluidEngine(scenario).offered_tokens().mean())
    today = scenario.workload.scale
    break_even = []
    if cheapest_api is not None:
        for r in results:
            if r.kind == "api" or not r.feasible:
                continue
            scale = break_even_of(scenario, r.name, cheapest_api)
            break_even.append(
                BreakEven(
                    option=r.name,
                    versus=cheapest_api,
                    scale=scale,
                    tokens_per_month=None if scale is None else tokens_per_month * scale / today,
                    payback_month=payback_month(evaluated[r.name][1], evaluated[cheapest_api][1]),
                )
            )
    assumptions = [a for _, costs in evaluated.values() for a in costs.assumptions]
    result = RunResult(
        scenario=scenario.name,
        horizon_months=months,
        price_date=scenario.economics.price_date,
        seed=scenario.seed,
        engine=engine,
        break_even_engine=FluidEngine.name,
        workload_scale=today,
        tokens_per_month=tokens_per_month,
        cheapest_option=cheapest,
        cheapest_compliant_option=cheapest_compliant,
        cost_of_privacy_usd=None if privacy_monthly is None else float(sum(privacy_monthly)),
        cost_of_privacy_monthly_usd=privacy_monthly,
        options=results,
        break_even=break_even,
        assumptions=assumptions,
        versions={"rent_or_own": version("rent-or-own"), "genai_prices": GENAI_PRICES_VERSION},
    )
    ledger = [
        LedgerRow(option=o, month=m, category=c, usd=u, view=view)
        for _, costs in evaluated.values()
        for view in VIEWS
        for o, m, c, u in costs.rows(view)
    ]
    return result, ledger
