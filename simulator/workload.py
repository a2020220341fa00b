"""Workload shape as numbers: token-length moments and tails, and the hourly request-rate grid.

Everything here is exact and deterministic: lognormal moments and tail sums come in closed form,
histograms are summed. Tier boundaries follow genai-prices: a tier applies when the request's
input tokens are strictly above its start.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from simulator import units
from simulator.scenario import (
    Z_95,
    FixedTokens,
    HistogramTokens,
    LognormalTokens,
    RequestClass,
    Workload,
)

HOURS_PER_WEEK = units.HOURS_PER_DAY * units.DAYS_PER_WEEK


@dataclass(frozen=True)
class TokenStats:
    """The moments and tails of a token-length distribution that pricing and capacity need."""

    spec: FixedTokens | LognormalTokens | HistogramTokens

    @property
    def _lognormal(self) -> tuple[float, float]:
        assert isinstance(self.spec, LognormalTokens)
        d = math.log(self.spec.p95 / self.spec.mean)
        sigma = Z_95 - math.sqrt(Z_95**2 - 2 * d)
        return math.log(self.spec.mean) - sigma**2 / 2, sigma

    def _points(self) -> tuple[np.ndarray, np.ndarray]:
        spec = self.spec
        if isinstance(spec, FixedTokens):
            return np.array([float(spec.tokens)]), np.array([1.0])
        assert isinstance(spec, HistogramTokens)
        w = np.asarray(spec.weights, dtype=float)
        return np.asarray(spec.tokens, dtype=float), w / w.sum()

    def mean(self) -> float:
        if isinstance(self.spec, LognormalTokens):
            return self.spec.mean
        x, p = self._points()
        return float(x @ p)

    def second_moment(self) -> float:
        if isinstance(self.spec, LognormalTokens):
            mu, s = self._lognormal
            return math.exp(2 * mu + 2 * s**2)
        x, p = self._points()
        return float((x * x) @ p)

    def prob_above(self, t: float) -> float:
        """P(X > t)."""
        if isinstance(self.spec, LognormalTokens):
            mu, s = self._lognormal
            return normal_cdf((mu - math.log(t)) / s) if t > 0 else 1.0
        x, p = self._points()
        return float(p[x > t].sum())

    def mean_above(self, t: float) -> float:
        """E[X * 1{X > t}]: the part of the mean contributed by values above t."""
        if isinstance(self.spec, LognormalTokens):
            mu, s = self._lognormal
            return self.spec.mean * normal_cdf((mu + s**2 - math.log(t)) / s) if t > 0 else self.spec.mean
        x, p = self._points()
        above = x > t
        return float(x[above] @ p[above])

    def quantile(self, q: float) -> float:
        if isinstance(self.spec, LognormalTokens):
            mu, s = self._lognormal
            return math.exp(mu + s * STANDARD_NORMAL.inv_cdf(q))
        x, p = self._points()
        order = np.argsort(x)
        cdf = np.cumsum(p[order])
        return float(x[order][min(int(np.searchsorted(cdf, q - 1e-12)), len(x) - 1)])


STANDARD_NORMAL = NormalDist()


def normal_cdf(z: float) -> float:
    """P(Z <= z) for a standard normal Z, through erfc, which keeps the far lower tail's precision."""
    return 0.5 * math.erfc(-z / math.sqrt(2))


def normalised(weights: list[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.mean()


def hour_of_week_shape(workload: Workload) -> np.ndarray:
    """Relative rate for each of the week's 168 local hours (Monday 00:00 first), mean 1 (read-only)."""
    return _hour_of_week_shape(tuple(workload.weekly_weights), tuple(workload.daily_profile))


@functools.lru_cache(maxsize=64)
def _hour_of_week_shape(weekly: tuple[float, ...], daily: tuple[float, ...]) -> np.ndarray:
    # Every class of every volume a search tries shares it: made once.
    shape = np.outer(normalised(list(weekly)), normalised(list(daily))).ravel()
    shape.flags.writeable = False
    return shape


def burst_volume_factor(workload: Workload) -> float:
    """Extra volume that bursts add on top of the hourly rate, as a multiplier."""
    return 1.0 + sum(
        (b.multiplier - 1) * b.duration_minutes * b.per_day / units.MINUTES_PER_DAY for b in workload.bursts
    )


def burst_peak_factor(workload: Workload) -> float:
    """How far above the hour's rate the worst burst goes; fixed fleets are sized to cover it."""
    return max((b.multiplier for b in workload.bursts), default=1.0)


def growth_factors(workload: Workload, horizon_months: int) -> np.ndarray:
    """Each month's volume relative to the first (read-only)."""
    return _growth_factors(workload.monthly_growth, horizon_months)


@functools.lru_cache(maxsize=64)
def _growth_factors(monthly_growth: float, horizon_months: int) -> np.ndarray:
    # Every class of every volume a search tries shares it: made once.
    factors = (1.0 + monthly_growth) ** np.arange(horizon_months)
    factors.flags.writeable = False
    return factors


def class_rate_grid(workload: Workload, cls: RequestClass, horizon_months: int, flat: bool = False) -> np.ndarray:
    """Requests per second of one class for each month and hour of the week: shape (months, 168).

    `flat` spreads the class evenly over the week (work deferred to whenever capacity is free).
    """
    base_rps = units.per_day_to_per_second(cls.requests_per_day) * workload.scale * burst_volume_factor(workload)
    shape = np.ones(HOURS_PER_WEEK) if flat else hour_of_week_shape(workload)
    return np.outer(growth_factors(workload, horizon_months) * base_rps, shape)


SECONDS_PER_WEEK_SLOT_PER_MONTH = units.SECONDS_PER_MONTH / HOURS_PER_WEEK
"""Seconds that one hour-of-the-week slot covers in an average month."""


def offered_tokens(workload: Workload, horizon_months: int) -> np.ndarray:
    """Tokens (input, cached and output, reasoning included) the workload offers each month."""
    total = np.zeros(horizon_months)
    for c in workload.classes:
        per_request = TokenStats(c.input_tokens).mean() + (
            TokenStats(c.output_tokens).mean() + c.reasoning_tokens_per_request
        )
        total = (
            total
            + class_rate_grid(workload, c, horizon_months).sum(axis=1) * SECONDS_PER_WEEK_SLOT_PER_MONTH * per_request
        )
    return total


def requests_by_local_hour(rate_grid: np.ndarray) -> np.ndarray:
    """Requests per month in each local hour of the day: shape (months, 24)."""
    months = rate_grid.shape[0]
    per_slot = rate_grid * SECONDS_PER_WEEK_SLOT_PER_MONTH
    return per_slot.reshape(months, units.DAYS_PER_WEEK, units.HOURS_PER_DAY).sum(axis=1)


# --- request frames for the discrete-event engine -------------------------------------------------


@dataclass
class Frame:
    """Requests of one simulated window, sorted by arrival; shared by every option (common random numbers)."""

    class_names: list[str]
    arrival_s: np.ndarray
    cls: np.ndarray
    prompt_tokens: np.ndarray
    cached_tokens: np.ndarray
    output_tokens: np.ndarray
    """Visible plus reasoning tokens: everything the server generates."""
    reasoning_tokens: np.ndarray
    provider_z: np.ndarray
    """(requests, 2) standard normal draws of how far an API's TTFT and time per token stray from
    their medians for this request, shared by every API option (common random numbers)."""

    def __len__(self) -> int:
        return len(self.arrival_s)

    def subset(self, mask: np.ndarray) -> Frame:
        return Frame(
            self.class_names,
            self.arrival_s[mask],
            self.cls[mask],
            self.prompt_tokens[mask],
            self.cached_tokens[mask],
            self.output_tokens[mask],
            self.reasoning_tokens[mask],
            self.provider_z[mask],
        )


def _draw_tokens(spec: FixedTokens | LognormalTokens | HistogramTokens, n: int, rng: np.random.Generator) -> np.ndarray:
    if isinstance(spec, FixedTokens):
        return np.full(n, spec.tokens, dtype=np.int64)
    if isinstance(spec, LognormalTokens):
        mu, sigma = TokenStats(spec)._lognormal
        return np.maximum(1, np.rint(rng.lognormal(mu, sigma, n))).astype(np.int64)
    w = np.asarray(spec.weights, dtype=float)
    return rng.choice(np.asarray(spec.tokens, dtype=np.int64), size=n, p=w / w.sum())


def gamma_arrivals(rate: float, burstiness: float, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` arrival times at `rate`: Gamma gaps of shape `burstiness` and mean 1 / rate, as
    `vllm bench serve --burstiness` draws them (1 is Poisson; below 1 burstier, above 1 more even)."""
    return np.cumsum(rng.gamma(burstiness, 1 / (rate * burstiness), count))


def arrivals_at(
    rates_per_s: np.ndarray, slot_s: float, rng: np.random.Generator, burstiness: float = 1.0
) -> np.ndarray:
    """Arrival times of a process whose rate is constant within each slot, sorted.

    Poisson (`burstiness` 1), exactly: the count is Poisson with the integrated rate, and the times
    are the inverse of the cumulative rate at sorted uniform points (the order statistics of a
    Poisson process given its count). Otherwise a renewal process with Gamma gaps of that shape in
    operational time (the cumulative rate), mapped back through the same inverse: the rate is kept
    and only the clustering changes.
    """
    cumulative = np.concatenate([[0.0], np.cumsum(rates_per_s * slot_s)])
    total = cumulative[-1]
    if burstiness == 1.0:
        points = np.sort(rng.uniform(0.0, total, rng.poisson(total)))
    else:
        points = gamma_arrivals(1.0, burstiness, int(total + 10 * math.sqrt(total / burstiness + 1)) + 10, rng)
        while len(points) and points[-1] < total:  # rare: more arrivals than drawn
            points = np.concatenate([points, points[-1] + gamma_arrivals(1.0, burstiness, len(points), rng)])
        points = points[points < total]
    knots = slot_s * np.arange(len(rates_per_s) + 1)
    return np.interp(points, cumulative, knots)


def generate_frame(
    workload: Workload, rates_per_s: dict[str, np.ndarray], slot_s: float, seed: int, key: tuple[int, ...]
) -> Frame:
    """Requests for a window whose classes arrive at `rates_per_s` (per slot of `slot_s` seconds).

    The rates include the volume that bursts add (as the rate grid does); bursts are drawn here as
    explicit spikes, so the base rate is divided by the burst volume factor first. Each class and
    stream has its own seeded generator, keyed by `key` (month, window) and class index.
    """
    names = [c.name for c in workload.classes]
    duration_s = slot_s * len(next(iter(rates_per_s.values())))
    burst_factor = burst_volume_factor(workload)
    parts = []
    for k, c in enumerate(workload.classes):
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed, spawn_key=(*key, k)).spawn(4)]
        base = rates_per_s[c.name] / burst_factor
        arrivals = [arrivals_at(base, slot_s, streams[0], c.burstiness)]
        for b in workload.bursts:
            starts = streams[1].uniform(
                0, duration_s, streams[1].poisson(b.per_day * duration_s / units.SECONDS_PER_DAY)
            )
            length_s = units.minutes_to_seconds(b.duration_minutes)
            for start in starts:
                slot = min(int(start // slot_s), len(base) - 1)
                extra = streams[1].poisson((b.multiplier - 1) * base[slot] * length_s)
                arrivals.append(np.minimum(start + streams[1].uniform(0, length_s, extra), duration_s))
        t = np.concatenate(arrivals)
        n = len(t)
        rng = streams[2]
        prompt = _draw_tokens(c.input_tokens, n, rng)
        reasoning = np.full(n, round(c.reasoning_tokens_per_request), dtype=np.int64)
        parts.append(
            (
                t,
                np.full(n, k, dtype=np.int16),
                prompt,
                np.minimum(np.rint(prompt * c.cached_input_share).astype(np.int64), prompt - 1),
                _draw_tokens(c.output_tokens, n, rng) + reasoning,
                reasoning,
                streams[3].standard_normal((n, 2)),
            )
        )
    t, cls, prompt, cached, output, reasoning, z = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.argsort(t, kind="stable")
    return Frame(names, t[order], cls[order], prompt[order], cached[order], output[order], reasoning[order], z[order])
