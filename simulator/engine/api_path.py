"""The API path: per-minute rate limits (queue or reject) and the provider's published latency,
each request's lognormal about the published medians."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator import catalog, units
from simulator.catalog import ApiLatency
from simulator.scenario import ApiOption, LatencyTarget
from simulator.workload import normal_cdf

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(96)


@dataclass
class ApiPathResult:
    start_s: np.ndarray
    rejected: np.ndarray


def token_bucket(
    arrival_s: np.ndarray, tokens: np.ndarray, rpm: int | None, tpm: int | None, reject: bool, share: float = 1.0
) -> ApiPathResult:
    """When each request may go out under per-minute request and token limits (FIFO).

    Each limit is a bucket that holds a minute's allowance and refills continuously. A request
    that finds a bucket short either waits for it to refill (queue) or is dropped (reject); one
    larger than a whole minute's token allowance is always dropped. `share`: the requests are
    that share of the traffic (a slice), so they get that share of each bucket.
    """
    n = len(arrival_s)
    start = arrival_s.astype(float).copy()
    rejected = np.zeros(n, dtype=bool)
    if rpm is None and tpm is None:
        return ApiPathResult(start, rejected)
    limits = [(float(rpm), np.ones(n)) if rpm else None, (float(tpm), tokens.astype(float)) if tpm else None]
    # (a minute's allowance, what each request takes, this slice's bucket size, refill per second)
    buckets = [
        (cap, need, cap * share, cap * share / units.SECONDS_PER_MINUTE) for cap, need in (x for x in limits if x)
    ]
    level = [size for _, _, size, _ in buckets]
    last = float(arrival_s[0]) if n else 0.0
    free_at = 0.0  # FIFO: nobody overtakes a queued request
    for i in range(n):
        t = max(float(arrival_s[i]), free_at)
        for k, (_, _, size, rate) in enumerate(buckets):
            level[k] = min(size, level[k] + (t - last) * rate)
        last = t
        wait = 0.0
        too_big = False
        for k, (cap, need, _, rate) in enumerate(buckets):
            if need[i] > cap:
                too_big = True
            wait = max(wait, (need[i] - level[k]) / rate)
        if too_big or (wait > 0 and reject):
            rejected[i] = True
            continue
        if wait > 0:
            t += wait
            for k, (_, _, size, rate) in enumerate(buckets):
                level[k] = min(size, level[k] + wait * rate)
            last = t
        for k, (_, need, _, _) in enumerate(buckets):
            level[k] -= need[i]
        start[i] = t
        free_at = t
    return ApiPathResult(start, rejected)


@dataclass
class ApiTimes:
    """Latency of the requests sent to an API in a window; rejected ones have none (NaN)."""

    ttft_s: np.ndarray
    e2e_s: np.ndarray
    rejected: np.ndarray


def provider_times(latency: ApiLatency, z: np.ndarray, reasoning_tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each request's time to first token once sent (hidden reasoning included) and time per output
    token, seconds: lognormal about the published medians, `z` (requests, 2) standard normal draws."""
    assert latency.spread is not None
    tpot_s = np.exp(z[:, 1] * latency.spread.tpot_sd_log) / latency.output_tok_per_s
    first_s = units.ms_to_seconds(latency.ttft_ms) * np.exp(z[:, 0] * latency.spread.ttft_sd_log)
    return first_s + reasoning_tokens * tpot_s, tpot_s


def api_attainment(latency: ApiLatency, target: LatencyTarget, reasoning_tokens: float) -> float:
    """Share of requests within `target` as `provider_times` draws them, nothing waiting on a rate limit.

    With R reasoning tokens, TTFT is F + R * t for the first-token time F and time per token t, each
    lognormal: the share is the integral over t <= the TPOT target of P(F <= TTFT target - R * t).
    """
    assert latency.spread is not None
    sf, st = latency.spread.ttft_sd_log, latency.spread.tpot_sd_log
    first_s = units.ms_to_seconds(latency.ttft_ms)
    tpot_s = 1 / latency.output_tok_per_s
    ttft_max_s, tpot_max_s = units.ms_to_seconds(target.ttft_ms), units.ms_to_seconds(target.tpot_ms)
    upper = math.log(tpot_max_s / tpot_s) / st  # z of t at the TPOT target
    if reasoning_tokens == 0:
        return normal_cdf(upper) * normal_cdf(math.log(ttft_max_s / first_s) / sf)
    upper = min(upper, math.log(ttft_max_s / (reasoning_tokens * tpot_s)) / st)  # reasoning alone uses the TTFT

    lower = -10.0  # beyond ten sd there is nothing left to count
    if upper <= lower:
        return 0.0
    # Gauss-Legendre over [lower, upper]: the integrand is smooth there, the kink being cut off above.
    half = (upper - lower) / 2
    z = half * _NODES + (upper + lower) / 2
    left_s = ttft_max_s - reasoning_tokens * tpot_s * np.exp(st * z)
    within = [normal_cdf(x) for x in (np.log(left_s / first_s) / sf).tolist()]
    density = np.exp(-z * z / 2) / math.sqrt(2 * math.pi) * np.array(within)
    return float(half * density @ _WEIGHTS)


def api_times(
    api: ApiOption,
    arrival_s: np.ndarray,
    prompt_tokens: np.ndarray,
    output_tokens: np.ndarray,
    reasoning_tokens: np.ndarray,
    provider_z: np.ndarray,
    share: float,
) -> ApiTimes:
    """Requests (in arrival order) sent to `api` by a `share` of the traffic: rate limits, then the
    provider's time to first token and per output token (`provider_times`)."""
    latency = catalog.api_latency(api.provider, api.model)
    gate = token_bucket(
        arrival_s,
        prompt_tokens + output_tokens,
        api.rate_limit_rpm,
        api.rate_limit_tpm,
        api.on_rate_limit == "reject",
        share,
    )
    first_s, tpot_s = provider_times(latency, provider_z, reasoning_tokens)
    ttft = gate.start_s - arrival_s + first_s
    e2e = ttft + np.maximum(output_tokens - reasoning_tokens - 1, 0) * tpot_s
    ttft[gate.rejected] = np.nan
    e2e[gate.rejected] = np.nan
    return ApiTimes(ttft, e2e, gate.rejected)
