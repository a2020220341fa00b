"""What an engine hands to the economics for each option: requests and tokens by path, the GPU
fleet and its hours, and latency. Engines model dynamics only; the economics turns usage into dollars.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel

from simulator import i18n
from simulator.i18n import _

TOKEN_KINDS = ("input", "cached_input", "output")


@dataclass
class ApiUsage:
    """Requests sent to one API option, per class, month and local hour of the day (months, 24)."""

    option: str
    standard: dict[str, np.ndarray] = field(default_factory=dict)
    batch: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class PerfTerm:
    """One number a replica's speed rests on, with its provenance: the economics lists it as an assumption."""

    item: str
    value: float
    unit: str
    source: str
    as_of: str


@dataclass
class FleetUsage:
    """GPUs of one self-hosted option, per month."""

    option: str
    gpus_per_replica: int
    replicas_peak: np.ndarray
    """Most replicas up at once in the month."""
    gpus_held: np.ndarray
    """GPUs owned (buy) or reserved (fixed rentals) in the month; peak GPUs up for autoscaled rentals."""
    gpu_hours: np.ndarray
    """GPU-hours held: rented (spot interruptions are added when billed) or powered (buy)."""
    busy_gpu_hours: np.ndarray
    """GPU-hours spent serving, at the roofline's pace: the basis of power draw and utilisation."""
    capacity_tok_per_s: float
    """Output tokens per second one replica sustains at the chosen batch."""
    batch: int
    perf_source: str
    perf_terms: list[PerfTerm] = field(default_factory=list)


@dataclass(frozen=True)
class SloShortfall:
    """A class whose share of requests within its latency targets is below the share it requires; put
    into words only where shown, since a break-even search costs an option at dozens of volumes."""

    cls: str
    share: float
    ttft_ms: float
    tpot_ms: float
    floor: float

    def reason(self) -> str:
        return _(
            "class {name}: {share} of requests within {ttft} ms TTFT and {tpot} ms TPOT, below the {floor} required"
        ).format(
            name=repr(self.cls),
            share=i18n.percent(self.share, 1),
            ttft=i18n.number(self.ttft_ms),
            tpot=i18n.number(self.tpot_ms),
            floor=i18n.percent(self.floor),
        )


class LatencySummary(BaseModel):
    """Latency of one class over the horizon, milliseconds, and the share of requests within its targets."""

    ttft_p50_ms: float
    ttft_p95_ms: float
    ttft_p99_ms: float
    tpot_p50_ms: float
    tpot_p95_ms: float
    tpot_p99_ms: float
    e2e_p50_ms: float
    e2e_p95_ms: float
    e2e_p99_ms: float
    slo_attainment: float
    error_95: dict[str, float] = {}
    """Half-width of each figure's 95% confidence interval from the requests simulated (percentiles:
    order statistics; attainment: binomial), with their weights' effective count: how far a sampled
    window's answer may sit from the whole window's."""


@dataclass
class OptionUsage:
    name: str
    kind: str
    months: int
    api: ApiUsage | None = None
    fleet: FleetUsage | None = None
    tokens: dict[str, np.ndarray] = field(default_factory=dict)
    """Tokens served per month by kind (input excludes cache reads; output includes reasoning)."""
    api_requests: np.ndarray | None = None
    requests: np.ndarray | None = None
    class_tokens: dict[str, dict[str, float]] = field(default_factory=lambda: {"api": {}, "in_house": {}})
    """Tokens served over the horizon by path ("api", "in_house") and class."""
    infeasible_reasons: list[str] = field(default_factory=list)
    latency: dict[str, LatencySummary] | None = None
    """Per class; only an engine that simulates requests (des) fills it."""
    slo_attainment: float | None = None
    class_attainment: dict[str, float] = field(default_factory=dict)
    """Per class, the share of its requests within its latency targets: every class with the des
    engine; with fluid, classes with API traffic (in-house requests count as within, the fleet being
    planned to the targets)."""
    slo_shortfalls: list[SloShortfall] = field(default_factory=list)
    """Classes whose share within targets is below the scenario's floor."""
    utilisation: float | None = None
    """In-house output tokens over what the replicas could produce at saturation."""
    rejected_requests: float = 0.0
    queue_mean: float | None = None
    """Requests waiting in-house, averaged over the simulated windows."""

    @property
    def feasible(self) -> bool:
        return not self.infeasible_reasons

    @property
    def eligible(self) -> bool:
        """Feasible and within every class's latency targets often enough to be recommended."""
        return self.feasible and not self.slo_shortfalls
