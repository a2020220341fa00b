"""What can one replica serve? Load at a list of rates against one simulated replica, like a serving benchmark."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from simulator import catalog, units
from simulator.catalog import Precision
from simulator.engine.fleet import FleetSettings, simulate_fleet
from simulator.engine.replica import Replica, Requests
from simulator.errors import InputError
from simulator.perf.fit import load_fitted
from simulator.perf.serving import Serving, serving
from simulator.perf.step import StepModel, step_model
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
    engine: str
    max_batch: int
    chunk_tokens: int
    kv_cache_dtype: str
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
    `burstiness` (1 is Poisson). With `concurrency`, that many clients each send their next request when
    the last one is answered (a closed loop; `num_prompts` in all, the rate unused)."""

    duration_s: float = 600.0
    num_prompts: int | None = None
    burstiness: float = 1.0
    seed: int = 0
    concurrency: int | None = None


def _arrivals(rate: float, arrivals: Arrivals) -> tuple[np.ndarray, float, float]:
    """Arrival times, the end of the run and the start of what is measured."""
    rng = np.random.default_rng([arrivals.seed, round(rate * RATE_SEED_RESOLUTION)])
    if arrivals.num_prompts is not None:
        arrival_s = gamma_arrivals(rate, arrivals.burstiness, arrivals.num_prompts, rng)
        return arrival_s, float(arrival_s[-1]), 0.0
    end_s = arrivals.duration_s
    arrival_s = gamma_arrivals(rate, arrivals.burstiness, max(int(rate * end_s * 1.5), 10), rng)
    arrival_s = arrival_s[arrival_s < end_s]
    count_from_s = WARMUP_SHARE * end_s
    if not (arrival_s >= count_from_s).any():
        raise InputError(
            "capacity",
            "--duration-s",
            f"no request arrives in the {end_s - count_from_s:g} s measured at {rate:g} requests/s",
            "raise --duration-s or the rate",
        )
    return arrival_s, end_s, count_from_s


def closed_loop(step: StepModel, requests: Requests, clients: int, limits: Serving) -> None:
    """Serve `requests` in order from `clients` clients that each wait for an answer before sending again.

    The clients start together, as serving benchmarks start them (`vllm bench serve
    --max-concurrency`, GenAI-Perf's concurrency mode, `probe openai --concurrency`): requests of one
    length then finish in the same step and come back together, so each round's prompts are run
    together, as a real server runs them.
    """
    replica = Replica(step, requests, limits.scheduling, limits.max_batch, limits.chunk_tokens)
    n = len(requests.arrival_s)
    sent = min(clients, n)
    for i in range(sent):
        requests.arrival_s[i] = 0.0
        replica.submit(i, 0.0)
    done = 0
    while replica.advance_one():
        finished = int(np.count_nonzero(~np.isnan(requests.done_s[:sent])))
        for i in range(sent, min(sent + finished - done, n)):
            requests.arrival_s[i] = replica.now
            replica.submit(i, replica.now)
        sent, done = min(sent + finished - done, n), finished


RequestsFor = Callable[[np.ndarray], Requests]
"""The requests a run sends at the given arrival times: their prompt and output lengths."""


def fixed_lengths(input_tokens: int, output_tokens: int) -> RequestsFor:
    return lambda arrival_s: Requests.alike(arrival_s, input_tokens, output_tokens)


@dataclass(frozen=True)
class LoadRun:
    """One replica's run as a serving benchmark counts it: every request it sent, those measured (past
    the warm-up) and those its throughput counts over `window_s`."""

    requests: Requests
    measured: np.ndarray
    finished: np.ndarray
    window_s: float

    @property
    def ttft_s(self) -> np.ndarray:
        r, m = self.requests, self.measured
        return r.first_token_s[m] - r.arrival_s[m]

    @property
    def e2e_s(self) -> np.ndarray:
        r, m = self.requests, self.measured
        return r.done_s[m] - r.arrival_s[m]

    @property
    def tpot_s(self) -> np.ndarray:
        """Each request's time after its first token over its output tokens less one."""
        return (self.e2e_s - self.ttft_s) / np.maximum(self.requests.output_tokens[self.measured] - 1, 1)

    @property
    def output_tok_per_s(self) -> float:
        return float(self.requests.output_tokens[self.finished].sum() / self.window_s)


def run_load(step: StepModel, rate: float, sent: RequestsFor, arrivals: Arrivals, limits: Serving) -> LoadRun:
    """One replica at one rate (or `arrivals.concurrency` clients), every request's times kept."""
    if arrivals.concurrency is not None:
        r = sent(np.zeros(arrivals.num_prompts or arrivals.concurrency))
        closed_loop(step, r, arrivals.concurrency, limits)
        everyone = np.ones(len(r.arrival_s), dtype=bool)
        return LoadRun(r, everyone, everyone, float(np.max(r.done_s)))
    arrival_s, end_s, count_from_s = _arrivals(rate, arrivals)
    r = sent(arrival_s)
    settings = FleetSettings(1, limits.scheduling, limits.max_batch, limits.chunk_tokens)
    simulate_fleet(step, r, np.ones(len(arrival_s), dtype=bool), settings, end_s=end_s)
    measured = arrival_s >= count_from_s
    if arrivals.num_prompts is not None:  # every request completes: first arrival to last answer
        return LoadRun(r, measured, np.ones(len(arrival_s), dtype=bool), float(np.max(r.done_s)))
    return LoadRun(r, measured, (r.done_s >= count_from_s) & (r.done_s < end_s), end_s - count_from_s)


def load_point(step: StepModel, rate: float, sent: RequestsFor, arrivals: Arrivals, limits: Serving) -> CapacityPoint:
    """One replica at one rate (or `arrivals.concurrency` clients), measured as a serving benchmark
    measures it."""
    run = run_load(step, rate, sent, arrivals, limits)
    ttft, tpot, e2e = run.ttft_s, run.tpot_s, run.e2e_s
    ms = units.seconds_to_ms
    return CapacityPoint(
        rate_rps=rate,
        achieved_rps=float(run.finished.sum() / run.window_s),
        output_tok_per_s=run.output_tok_per_s,
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
    limits: Serving | None = None,
    slo_ttft_p95_ms: float | None = None,
    slo_tpot_p95_ms: float | None = None,
    measured_file: str | None = None,
) -> CapacityResult:
    """Load one replica at each rate; `limits` is the engine serving it (vLLM's defaults when left out)."""
    m, g = catalog.model(model, "--model"), catalog.gpu(gpu, "--gpu")
    if gpus_per_replica > 1 and g.interconnect is None:
        raise InputError("capacity", "--gpus-per-replica", f"{gpu} has no GPU-to-GPU link", "use 1")
    limits = limits or serving(g, precision)
    fitted = load_fitted(measured_file, m.name, g.name) if measured_file is not None else None
    step = step_model(m, g, precision, gpus_per_replica, limits, fitted)
    if step.kv_capacity_tokens < input_tokens + output_tokens:
        raise InputError(
            "capacity",
            "--gpus-per-replica",
            f"{model} at {precision} does not fit one "
            f"{input_tokens + output_tokens}-token request on {gpus_per_replica} x {gpu}",
            "use more GPUs per replica or a smaller precision",
        )

    def run(rate: float) -> CapacityPoint:
        return load_point(step, rate, fixed_lengths(input_tokens, output_tokens), arrivals, limits)

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
        engine=limits.engine,
        max_batch=limits.max_batch,
        chunk_tokens=limits.chunk_tokens,
        kv_cache_dtype=limits.kv_cache_dtype,
        perf_source=step.source,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        points=points,
        max_rate_rps_within_slo=best,
    )
