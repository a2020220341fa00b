"""What can one replica serve? Poisson load at a list of rates against one simulated replica."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from simulator import catalog, units
from simulator.catalog import Precision
from simulator.engine.fleet import FleetSettings, simulate_fleet
from simulator.engine.replica import Policy, Requests
from simulator.errors import InputError
from simulator.perf.fit import load_fitted
from simulator.perf.step import DEFAULT_MAX_BATCH, StepModel, step_model

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


def _point(
    step: StepModel,
    rate: float,
    input_tokens: int,
    output_tokens: int,
    duration_s: float,
    seed: int,
    scheduling: Policy,
    max_batch: int,
) -> CapacityPoint:
    rng = np.random.default_rng([seed, round(rate * RATE_SEED_RESOLUTION)])
    arrivals = np.cumsum(rng.exponential(1 / rate, max(int(rate * duration_s * 1.5), 10)))
    arrivals = arrivals[arrivals < duration_s]
    measured = arrivals >= WARMUP_SHARE * duration_s
    if not measured.any():
        raise InputError(
            "capacity",
            "--duration-s",
            f"no request arrives in the {duration_s * (1 - WARMUP_SHARE):g} s measured at {rate:g} requests/s",
            "raise --duration-s or the rate",
        )
    n = len(arrivals)
    r = Requests(arrivals, np.full(n, input_tokens), np.zeros(n, dtype=np.int64), np.full(n, output_tokens))
    simulate_fleet(step, r, np.ones(n, dtype=bool), FleetSettings(1, scheduling, max_batch), end_s=duration_s)
    ttft = r.first_token_s[measured] - arrivals[measured]
    e2e = r.done_s[measured] - arrivals[measured]
    tpot = (e2e - ttft) / max(output_tokens - 1, 1)
    window = duration_s * (1 - WARMUP_SHARE)
    finished = (r.done_s >= WARMUP_SHARE * duration_s) & (r.done_s < duration_s)
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
    duration_s: float = 600.0,
    slo_ttft_p95_ms: float | None = None,
    slo_tpot_p95_ms: float | None = None,
    seed: int = 0,
    scheduling: Policy = "chunked_prefill",
    max_batch: int = DEFAULT_MAX_BATCH,
    measured_file: str | None = None,
) -> CapacityResult:
    m, g = catalog.model(model, "--model"), catalog.gpu(gpu, "--gpu")
    fitted = load_fitted(measured_file, m.name, g.name) if measured_file is not None else None
    step = step_model(m, g, precision, gpus_per_replica, fitted)
    if step.kv_capacity_tokens < input_tokens + output_tokens:
        raise InputError(
            "capacity",
            "--gpus-per-replica",
            f"{model} at {precision} does not fit one "
            f"{input_tokens + output_tokens}-token request on {gpus_per_replica} x {gpu}",
            "use more GPUs per replica or a smaller precision",
        )

    def run(rate: float) -> CapacityPoint:
        return _point(step, rate, input_tokens, output_tokens, duration_s, seed, scheduling, max_batch)

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
