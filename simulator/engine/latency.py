"""Latency of simulated requests: where each request of a window went and how long it took, and
percentiles weighted by the requests each simulated one stands for."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from simulator import units
from simulator.scenario import LatencyTarget, RequestClass, Scenario
from simulator.usage import LatencySummary, SloShortfall
from simulator.workload import STANDARD_NORMAL

IN_HOUSE, API, REJECTED, DEFERRED = 0, 1, 2, 3  # DEFERRED: moved to an off-peak window


@dataclass
class WindowResult:
    """Per-request outcome of one window (requests that arrived after warm-up)."""

    cls: np.ndarray
    path: np.ndarray
    ttft_s: np.ndarray
    tpot_s: np.ndarray
    e2e_s: np.ndarray
    gpu_seconds: float = 0.0
    output_tokens_in_house: float = 0.0
    saturation_tok_per_s_seconds: float = 0.0
    """Replica-seconds times each replica's saturation output rate: the denominator of utilisation."""
    waiting_requests_mean: float = 0.0
    """Requests waiting in-house, averaged over the window's control ticks."""
    replicas_end: int = 0

    def kept(self, mask: np.ndarray) -> WindowResult:
        """The requests of `mask` with the window's totals: a sample that stands for all of them."""
        return dataclasses.replace(
            self,
            cls=self.cls[mask],
            path=self.path[mask],
            ttft_s=self.ttft_s[mask],
            tpot_s=self.tpot_s[mask],
            e2e_s=self.e2e_s[mask],
        )


PERCENTILES = (50.0, 95.0, 99.0)
Z_95 = STANDARD_NORMAL.inv_cdf(0.975)


def effective_count(weights: np.ndarray, counts: np.ndarray | None = None) -> float:
    """Kish's effective sample size of weighted requests, (sum w)^2 / sum w^2, given one weight a
    request or, with `counts`, one a group of that many requests."""
    total = float(weights.sum() if counts is None else counts @ weights)
    squares = float(np.square(weights).sum() if counts is None else counts @ np.square(weights))
    return total * total / squares if total > 0 else 0.0


Weighted = list[tuple[np.ndarray, float]]
"""Values in groups that share one weight: requests carry one per window and class."""


def percentiles_with_error(groups: Weighted) -> tuple[list[float], list[float]]:
    """PERCENTILES of weighted values and the half-width of each one's 95% interval: the values at the
    ranks q +- z sqrt(q (1 - q) / n) of the n effective requests (the order-statistic interval)."""
    counts = np.array([np.count_nonzero(~np.isnan(v)) for v, _ in groups], dtype=float)
    n = effective_count(np.array([w for _, w in groups], dtype=float), counts)
    qs = [q / 100 for q in PERCENTILES]
    spread = [Z_95 * math.sqrt(q * (1 - q) / n) if n else 0.0 for q in qs]
    bounds = [(100 * max(q - d, 0.0), 100 * min(q + d, 1.0)) for q, d in zip(qs, spread, strict=True)]
    got = weighted_percentiles(groups, (*PERCENTILES, *(x for pair in bounds for x in pair)))
    k = len(PERCENTILES)
    return got[:k], [(got[k + 2 * i + 1] - got[k + 2 * i]) / 2 for i in range(k)]


def weighted_percentiles(groups: Weighted, qs: tuple[float, ...]) -> list[float]:
    """The qs-th percentiles (0-100) of weighted values (inverted CDF): for each q, the smallest value
    whose weight at or below it reaches q% of the whole. Each group is sorted apart and the weight at
    or below a value is its count there times the group's weight, found by bisection over all values:
    a plain sort, several times faster than sorting the values with their weights."""
    parts = [(np.sort(v[~np.isnan(v)]), w) for v, w in groups]
    values = np.sort(np.concatenate([v for v, _ in parts])) if parts else np.empty(0)
    if len(values) == 0:
        return [math.nan] * len(qs)
    target = np.asarray(qs) / 100 * sum(len(v) * w for v, w in parts)
    lo, hi = np.zeros(len(qs), dtype=np.int64), np.full(len(qs), len(values) - 1)
    while (lo < hi).any():
        mid = (lo + hi) // 2
        at_or_below = sum(w * np.searchsorted(v, values[mid], side="right") for v, w in parts)
        reached = at_or_below >= target
        hi, lo = np.where(reached, mid, hi), np.where(reached, lo, mid + 1)
    return [float(v) for v in values[lo]]


def within_targets(target: LatencyTarget, ttft_s: np.ndarray, tpot_s: np.ndarray) -> np.ndarray:
    """Requests within their TTFT and TPOT targets; one with no time per token (a single token) meets that one."""
    within_tpot = np.isnan(tpot_s) | (tpot_s <= units.ms_to_seconds(target.tpot_ms))
    return (ttft_s <= units.ms_to_seconds(target.ttft_ms)) & within_tpot


def slo_shortfalls(scenario: Scenario, attainment: dict[str, float]) -> list[SloShortfall]:
    """Each class whose share of requests within its targets is below its floor."""
    out = []
    for c in scenario.workload.classes:
        share, floor = attainment.get(c.name), scenario.min_attainment(c)
        if share is not None and share < floor:
            out.append(SloShortfall(c.name, share, c.latency.ttft_ms, c.latency.tpot_ms, floor))
    return out


def summarise(
    classes: list[RequestClass], windows: list[tuple[WindowResult, np.ndarray]]
) -> tuple[dict[str, LatencySummary], float]:
    """Latency percentiles and SLO attainment per class, and attainment over all classes, of windows
    whose requests each stand for a share of the requests their window carries per class
    (`(window, requests it carries by class)`)."""
    cls, ttft, tpot, e2e, weight, rejected, per_class = [], [], [], [], [], [], []
    for w, carried in windows:
        offered = w.path != DEFERRED  # rejected requests count, as misses
        counts = np.bincount(w.cls[offered], minlength=len(classes)).astype(float)
        per_request = np.divide(carried, counts, out=np.zeros_like(counts), where=counts > 0)
        cls.append(w.cls[offered])
        ttft.append(w.ttft_s[offered])
        tpot.append(w.tpot_s[offered])
        e2e.append(w.e2e_s[offered])
        weight.append(per_request[w.cls[offered]])
        rejected.append(w.path[offered] == REJECTED)
        per_class.append(per_request)
    c, ttft_s, tpot_s, wt, dropped = (np.concatenate(x) for x in (cls, ttft, tpot, weight, rejected))
    out: dict[str, LatencySummary] = {}
    met_weight = 0.0
    for k, rc in enumerate(classes):
        mine = c == k
        if not mine.any():
            continue
        w = wt[mine]
        ok = ~dropped[mine] & within_targets(rc.latency, ttft_s[mine], tpot_s[mine])
        met_weight += float(w[ok].sum())
        errors: dict[str, float] = {}
        figures: dict[str, list[float]] = {}
        in_window = [window_cls == k for window_cls in cls]
        for name, x in (("ttft", ttft), ("tpot", tpot), ("e2e", e2e)):
            groups = [(v[m], float(p[k])) for v, m, p in zip(x, in_window, per_class, strict=True) if m.any()]
            values, half_widths = percentiles_with_error(groups)
            figures[name] = [units.seconds_to_ms(v) for v in values]
            for q, h in zip(PERCENTILES, half_widths, strict=True):
                errors[f"{name}_p{q:.0f}_ms"] = units.seconds_to_ms(h)
        ttft_ms, tpot_ms, e2e_ms = figures["ttft"], figures["tpot"], figures["e2e"]
        attained = float(w[ok].sum() / w.sum())
        n = effective_count(w)
        errors["slo_attainment"] = Z_95 * math.sqrt(attained * (1 - attained) / n) if n else 0.0
        out[rc.name] = LatencySummary(
            ttft_p50_ms=ttft_ms[0],
            ttft_p95_ms=ttft_ms[1],
            ttft_p99_ms=ttft_ms[2],
            tpot_p50_ms=tpot_ms[0],
            tpot_p95_ms=tpot_ms[1],
            tpot_p99_ms=tpot_ms[2],
            e2e_p50_ms=e2e_ms[0],
            e2e_p95_ms=e2e_ms[1],
            e2e_p99_ms=e2e_ms[2],
            slo_attainment=attained,
            error_95=errors,
        )
    return out, met_weight / float(wt.sum()) if wt.sum() else math.nan
