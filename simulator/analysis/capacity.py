"""What can one replica serve? Load at a list of rates against one simulated replica, like a serving benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from simulator import catalog, units
from simulator.catalog import Precision
from simulator.engine.fleet import FleetSettings, simulate_fleet
from simulator.engine.replica import Policy, Requests
from simulator.errors import InputError
from simulator.perf.fit import load_fitted
from simulator.perf.step import DEFAULT_CHUNK_TOKENS, DEFAULT_MAX_BATCH, KvCacheDtype, StepModel, step_model
from simulator.workload import gamma_arrivals

WARMUP_SHARE = 0.1  # the first tenth of each run fills the batch and is not measured
REFINE_STEPS = 6
RATE_SEED_RESOLUTION = 1e6  # rates that differ by a micro-request per second get their own stream


class CapacityPoint(BaseModel):
    rate_rps: float
    achieved_rps: float
    output_tok_per_s: float
    ttft_p50_ms: float
    ttft_p95_ms: float
    tpot_p50_ms: float
    tpot_p95_ms: float
    e2e_p95_ms: float


class CapacityResult(BaseModel):
    model: str
    gpu: str
    gpus_per_replica: int
    precision: str
    perf_source: str
    input_tokens: int
    output_tokens: int
    points: list[CapacityPoint]
    max_rate_rps_within_slo: float | None
    """Highest rate whose p95 TTFT and TPOT meet the targets (refined between the tested rates); null when
    no rate does or no target is given."""


@dataclass(frozen=True)
class Arrivals:
    """How requests reach the replica: at each rate for `duration_s`, or a fixed `num_prompts` that all
    complete (percentiles over every one, as `vllm bench serve` reports), with Gamma gaps of shape
    `burstiness` (1 is Poisson)."""

    duration_s: float = 600.0
    num_prompts: int | None = None
    burstiness: float = 1.0
    seed: int = 0


@dataclass(frozen=True)
class Limits:
    """The serving engine's scheduling and batch limits."""

    scheduling: Policy = "chunked_prefill"
    max_batch: int = DEFAULT_MAX_BATCH
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS


def _point(
    step: StepModel, rate: float, input_tokens: int, output_tokens: int, arrivals: Arrivals, limits: Limits
) -> CapacityPoint:
    rng = np.random.default_rng([arrivals.seed, round(rate * RATE_SEED_RESOLUTION)])
    fixed = arrivals.num_prompts is not None
    if arrivals.num_prompts is not None:
        arrival_s = gamma_arrivals(rate, arrivals.burstiness, arrivals.num_prompts, rng)
        end_s, count_from_s = float(arrival_s[-1]), 0.0
    else:
        end_s = arrivals.duration_s
        arrival_s = gamma_arrivals(rate, arrivals.burstiness, max(int(rate * end_s * 1.5), 10), rng)
        arrival_s = arrival_s[arrival_s < end_s]
        count_from_s = WARMUP_SHARE * end_s
    measured = arrival_s >= count_from_s
    if not measured.any():
        raise InputError(
            "capacity",
            "--duration-s",
            f"no request arrives in the {end_s - count_from_s:g} s measured at {rate:g} requests/s",
            "raise --duration-s or the rate",
        )
    n = len(arrival_s)
    r = Requests(arrival_s, np.full(n, input_tokens), np.zeros(n, dtype=np.int64), np.full(n, output_tokens))
    settings = FleetSettings(1, limits.scheduling, limits.max_batch, limits.chunk_tokens)
    simulate_fleet(step, r, np.ones(n, dtype=bool), settings, end_s=end_s)
    ttft = r.first_token_s[measured] - arrival_s[measured]
    e2e = r.done_s[measured] - arrival_s[measured]
    tpot = (e2e - ttft) / max(output_tokens - 1, 1)
    if fixed:  # every request completes: throughput over the whole run, first arrival to last answer
        window = float(np.max(r.done_s))
        finished = np.ones(n, dtype=bool)
    else:
        window = end_s - count_from_s
        finished = (r.done_s >= count_from_s) & (r.done_s < end_s)
    ms = units.seconds_to_ms
    return CapacityPoint(
        rate_rps=rate,
        achieved_rps=float(finished.sum() / window),
        output_tok_per_s=float(finished.sum() * output_tokens / window),
        ttft_p50_ms=ms(float(np.percentile(ttft, 50))),
        ttft_p95_ms=ms(float(np.percentile(ttft, 95))),
        tpot_p50_ms=ms(float(np.percentile(tpot, 50))),
        tpot_p95_ms=ms(float(np.percentile(tpot, 95))),
        e2e_p95_ms=ms(float(np.percentile(e2e, 95))),
    )


def capacity(
    model: str,
    gpu: str,
    rates_rps: list[float],
    input_tokens: int,
    output_tokens: int,
    gpus_per_replica: int = 1,
    precision: Precision = "fp16",
    arrivals: Arrivals = Arrivals(),
    limits: Limits = Limits(),
    slo_ttft_p95_ms: float | None = None,
    slo_tpot_p95_ms: float | None = None,
    measured_file: str | None = None,
    kv_cache_dtype: KvCacheDtype = "auto",
) -> CapacityResult:
    m, g = catalog.model(model, "--model"), catalog.gpu(gpu, "--gpu")
    fitted = load_fitted(measured_file, m.name, g.name) if measured_file is not None else None
    step = step_model(m, g, precision, gpus_per_replica, fitted, kv_cache_dtype=kv_cache_dtype)
    if step.kv_capacity_tokens < input_tokens + output_tokens:
        raise InputError(
            "capacity",
            "--gpus-per-replica",
            f"{model} at {precision} does not fit one "
            f"{input_tokens + output_tokens}-token request on {gpus_per_replica} x {gpu}",
            "use more GPUs per replica or a smaller precision",
        )

    def run(rate: float) -> CapacityPoint:
        return _point(step, rate, input_tokens, output_tokens, arrivals, limits)

    def within(p: CapacityPoint) -> bool:
        return (slo_ttft_p95_ms is None or p.ttft_p95_ms <= slo_ttft_p95_ms) and (
            slo_tpot_p95_ms is None or p.tpot_p95_ms <= slo_tpot_p95_ms
        )

    points = [run(rate) for rate in sorted(rates_rps)]
    best = None
    if slo_ttft_p95_ms is not None or slo_tpot_p95_ms is not None:
        passing = [p.rate_rps for p in points if within(p)]
        failing = [p.rate_rps for p in points if not within(p) and (not passing or p.rate_rps > max(passing))]
        if passing:
            lo, best = max(passing), max(passing)
            if failing:
                hi = min(failing)
                for _ in range(REFINE_STEPS):
                    mid = (lo + hi) / 2
                    lo, hi = (mid, hi) if within(run(mid)) else (lo, mid)
                best = lo
    return CapacityResult(
        model=model,
        gpu=gpu,
        gpus_per_replica=gpus_per_replica,
        precision=precision,
        perf_source=step.source,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        points=points,
        max_rate_rps_within_slo=best,
    )
