"""The typed answer of a run: per option, break-even, ledger rows. Its field names are the JSON contract."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterable

from pydantic import BaseModel

from simulator.economics.ledger import Assumption
from simulator.errors import InternalError
from simulator.units import Currency
from simulator.usage import LatencySummary


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
    hardware_unit: str | None = None
    """What `gpus_peak` counts: "GPU", or "CPU server" for CPU inference."""
    gpu_hours: float | None = None
    utilisation: float | None = None
    decode_batch: int | None = None
    replica_output_tok_per_s: float | None = None
    perf_source: str | None = None
    quality: QualityFigure | None = None
    latency: dict[str, LatencySummary] | None = None
    """Per class, from the des engine (null with the fluid engine)."""
    slo_attainment: float | None = None
    """Share of requests within their class's TTFT and TPOT targets (rejected ones count as misses; des)."""
    class_attainment: dict[str, float]
    """Per class, the share of its requests within its latency targets: every class with the des engine;
    with fluid, the classes an API serves (in-house requests count as within: the fleet is planned to them)."""
    meets_targets: bool
    """Every class's share within its targets is at least its floor (`slo.min_attainment`)."""
    slo_reasons: list[str]
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


class ClassTarget(BaseModel):
    """A class's latency targets and the share of its requests that must be within them."""

    ttft_ms: float
    tpot_ms: float
    min_attainment: float


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
    """Cheapest feasible option that meets every latency target, privacy requirements aside."""
    cheapest_compliant_option: str | None
    """Cheapest feasible option that meets every latency target and every class's privacy requirements:
    the recommendation."""
    cheapest_relaxed_option: str | None
    """Cheapest feasible option if latency targets are relaxed (privacy requirements aside)."""
    cost_of_privacy_usd: float | None
    cost_of_privacy_monthly_usd: list[float] | None
    latency_targets: dict[str, ClassTarget]
    """Per class, the targets every option's latency is judged against."""
    options: list[OptionResult]
    break_even: list[BreakEven]
    assumptions: list[Assumption]
    currency: Currency
    """What money is shown and exported in; every `_usd` figure stays in USD."""
    versions: dict[str, str]


def ledger_csv(rows: list[LedgerRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(LedgerRow.model_fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.model_dump())
    return out.getvalue()


def json_text(document: BaseModel | dict[str, object] | list[object]) -> str:
    """A result as JSON; a non-finite number in it is a bug, reported where it is, never written as null."""
    data = document.model_dump(mode="json") if isinstance(document, BaseModel) else document
    where = _non_finite(data, "")
    if where is not None:
        raise InternalError(f"a result holds a non-finite number at {where or 'the top'}")
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _non_finite(value: object, path: str) -> str | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        items: Iterable[tuple[object, object]] = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite(item, f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]")
        if found is not None:
            return found
    return None
