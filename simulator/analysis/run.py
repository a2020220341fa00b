"""From a scenario to the answer: costs per option, the cheapest, break-even volumes and payback.

`run` is the one entry point the CLI, the dashboard and batch jobs share. Its result is a typed
summary whose field names are the JSON contract.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version

import numpy as np

from simulator import catalog, privacy, units
from simulator.analysis.break_even import break_even_of, payback_month
from simulator.analysis.evaluate import AtBase, evaluator_at_base
from simulator.analysis.results import (
    BreakEven,
    ClassTarget,
    CriterionResult,
    LedgerRow,
    OptionResult,
    QualityFigure,
    RunResult,
    Tokens,
)
from simulator.catalog.api_prices import GENAI_PRICES_VERSION
from simulator.economics.ledger import CASH, VIEWS, Assumption, OptionCosts
from simulator.engine.fluid import FluidEngine
from simulator.i18n import _
from simulator.scenario import SENSITIVITY_LEVELS, ApiOption, HybridOption, Scenario, SelfHostOption, site_of
from simulator.usage import TOKEN_KINDS, OptionUsage
from simulator.workload import offered_tokens

RENT_OR_OWN_VERSION = version("rent-or-own")  # read once: the installed metadata takes milliseconds to find


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
    return [
        _("{benchmark} score {score} is below the floor of {floor}").format(
            benchmark=quality.benchmark, score=f"{quality.score:g}", floor=f"{floor.min_score:g}"
        )
    ]


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
    own = scenario.fleet_of(option)
    paths = ["api"]
    if own is not None and catalog.terms().sites[site_of(own)].leaves_boundary:
        paths.append("in_house")
    out: dict[str, float] = dict.fromkeys(SENSITIVITY_LEVELS, 0.0)
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
        class_attainment=usage.class_attainment,
        meets_targets=not usage.slo_shortfalls,
        slo_reasons=[s.reason() for s in usage.slo_shortfalls],
        quality=quality,
        privacy_score=privacy.weighted_total(criteria, weights),
        privacy_criteria=[
            CriterionResult(criterion=c.criterion, score=c.score, weight=weights[c.criterion], reason=c.reason)
            for c in criteria
        ],
        compliant={c: not r for c, r in compliance.items()},
        compliance_reasons=[
            _("class {name}: {reason}").format(name=repr(c), reason=reason)
            for c, rs in compliance.items()
            for reason in rs
        ],
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
        own = scenario.fleet_of(option)
        assert own is not None  # only a self-hosted fleet has one
        result.hardware_unit = "CPU server" if catalog.gpu(own.gpu).cpu_cores else "GPU"
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
        result.perf_source = _("none: the model does not fit")
    return result


def _cheapest(results: list[OptionResult]) -> str | None:
    return min(results, key=lambda r: r.total_cost_usd).name if results else None


def run(scenario: Scenario, engine: str | None = None, progress: Callable[[str], None] | None = None) -> RunResult:
    """Evaluate every option with `engine` (default: the scenario's `simulation.engine`); `progress` hears
    of each step (an option simulated, a break-even searched) as it starts."""
    return _run(scenario, engine, progress)[0]


def run_with_ledger(
    scenario: Scenario, engine: str | None = None, progress: Callable[[str], None] | None = None
) -> tuple[RunResult, list[LedgerRow]]:
    """`run`, and the cost ledger behind it in long form, both views."""
    result, costs = _run(scenario, engine, progress)
    ledger = [
        LedgerRow(option=o, month=m, category=c, usd=u, view=view)
        for option in costs
        for view in VIEWS
        for o, m, c, u in option.rows(view)
    ]
    return result, ledger


def _run(
    scenario: Scenario, engine: str | None, progress: Callable[[str], None] | None
) -> tuple[RunResult, list[OptionCosts]]:
    engine = engine or scenario.simulation.engine
    names = [o.name for o in scenario.options]
    base = AtBase(scenario)  # what the run and its break-even searches rest on, whatever the volume
    evaluated = evaluator_at_base(base, engine).costs(names, scenario.workload.scale, progress)
    results = [_option_result(scenario, usage, costs) for usage, costs in evaluated.values()]
    feasible = [r for r in results if r.feasible]
    eligible = [r for r in feasible if r.meets_targets]
    cheapest = _cheapest(eligible)
    cheapest_compliant = _cheapest([r for r in eligible if all(r.compliant.values())])
    privacy_monthly = None
    if cheapest is not None and cheapest_compliant is not None:
        privacy_monthly = [
            float(x) for x in evaluated[cheapest_compliant][1].monthly(CASH) - evaluated[cheapest][1].monthly(CASH)
        ]
    # Break-evens are against the cheapest API that meets the targets, else the cheapest feasible one.
    cheapest_api = _cheapest([r for r in eligible if r.kind == "api"]) or _cheapest(
        [r for r in feasible if r.kind == "api"]
    )

    months = scenario.economics.horizon_months
    tokens_per_month = float(offered_tokens(scenario.workload, months).mean())
    today = scenario.workload.scale
    break_even = []
    if cheapest_api is not None:
        for r in results:
            if r.kind == "api" or not r.feasible:
                continue
            if progress is not None:
                progress(_("break-even of {option}").format(option=r.name))
            scale = break_even_of(base, r.name, cheapest_api)
            break_even.append(
                BreakEven(
                    option=r.name,
                    versus=cheapest_api,
                    scale=scale,
                    tokens_per_month=None if scale is None else tokens_per_month * scale / today,
                    payback_month=payback_month(evaluated[r.name][1], evaluated[cheapest_api][1]),
                )
            )
    assumptions = [a for _usage, costs in evaluated.values() for a in costs.assumptions]
    currency = scenario.currency()
    if currency.code != "USD":
        assumptions += [
            Assumption(
                option=o.name,
                item=_("exchange rate (money shown)"),
                value=currency.per_usd,
                unit=_("{code} per USD").format(code=currency.code),
                source=currency.source,
                as_of=currency.as_of.isoformat(),
            )
            for o in scenario.options
        ]
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
        cheapest_relaxed_option=_cheapest(feasible),
        cost_of_privacy_usd=None if privacy_monthly is None else float(sum(privacy_monthly)),
        cost_of_privacy_monthly_usd=privacy_monthly,
        latency_targets={
            c.name: ClassTarget(
                ttft_ms=c.latency.ttft_ms, tpot_ms=c.latency.tpot_ms, min_attainment=scenario.min_attainment(c)
            )
            for c in scenario.workload.classes
        },
        options=results,
        break_even=break_even,
        assumptions=assumptions,
        currency=currency,
        versions={"rent_or_own": RENT_OR_OWN_VERSION, "genai_prices": GENAI_PRICES_VERSION},
    )
    return result, [costs for _usage, costs in evaluated.values()]
