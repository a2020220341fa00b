"""Today's step-time model against the published serving measurements of the calibration set.

Method: each point of `simulator/catalog/data/calibration.yaml` whose model has a catalogue shape,
whose prompt and output lengths are fixed and whose precision the model knows is played on the
roofline step model at the catalogue's default efficiencies and serving limits, with the KV cache's
type where the source states it (else the model's 16 bits, the engines' default). Offline and static-
batch runs: every request queued at t = 0 on each replica (replicas = GPUs / tensor-parallel size),
output tokens per second over the makespan. Runs at a request rate: Poisson arrivals for 600 s on
one replica per tensor-parallel group (`capacity`; the published count of prompts where given, else
600 s), TTFT and TPOT medians. Points without fixed
lengths (datasets such as ShareGPT), closed-loop (concurrency) runs and FP4 are listed as left out.

Prints each point (reference, simulated, error) and the mean absolute percentage error per metric
and split. No constant is tuned here: the fit split is for engine profiles to be fitted on, the
validate split only judges. Run: python benchmarks/fidelity.py
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict
from typing import get_args

import numpy as np

from simulator import catalog
from simulator.analysis.capacity import Arrivals, capacity
from simulator.catalog import CalibrationPoint, Precision
from simulator.engine.replica import Replica, Requests
from simulator.perf.step import DEFAULT_CHUNK_TOKENS, DEFAULT_MAX_BATCH, KvCacheDtype, StepModel, step_model

OFFLINE_REQUESTS = 2000  # per replica: enough to keep a full batch running for most of the makespan
RATE_DURATION_S = 600.0


def offline_tok_per_s(p: CalibrationPoint, step: StepModel, batch_limit: int, requests: int) -> float:
    """Output tokens per second of the whole configuration with every request queued at t = 0."""
    assert p.input_tokens and p.output_tokens
    r = Requests(
        np.zeros(requests),
        np.full(requests, p.input_tokens),
        np.zeros(requests, dtype=np.int64),
        np.full(requests, p.output_tokens),
    )
    replica = Replica(step, r, "chunked_prefill", batch_limit, max(DEFAULT_CHUNK_TOKENS, batch_limit))
    for i in range(requests):
        replica.submit(i, 0.0)
    replica.run_to_completion()
    replicas = p.gpus // step.gpus_per_replica
    return replicas * requests * p.output_tokens / float(np.nanmax(r.done_s))


def simulate(p: CalibrationPoint) -> dict[str, float] | str:
    """Simulated figures of a point, or why it is left out."""
    if p.catalogue_model is None:
        return "no catalogue shape"
    if p.precision not in get_args(Precision):
        return f"{p.precision} is not a precision the model knows"
    if p.parallelism is not None:
        return f"{p.parallelism} layout"
    if p.input_tokens is None or p.output_tokens is None:
        return "lengths vary (a dataset)"
    tp = p.tensor_parallel or 1
    precision: Precision = "fp16" if p.precision == "bf16" else p.precision  # type: ignore[assignment]
    # The KV cache's type where the source states it, else the engines' default (the model's 16 bits).
    kv: KvCacheDtype = "fp8" if (p.kv_cache_dtype or "").startswith("fp8") else "auto"
    step = step_model(catalog.model(p.catalogue_model), catalog.gpu(p.gpu), precision, tp, kv_cache_dtype=kv)
    if step.kv_capacity_tokens < p.input_tokens + p.output_tokens:
        return "one request does not fit"
    load = p.load
    if load.offline:
        return {"output_tok_per_s": offline_tok_per_s(p, step, DEFAULT_MAX_BATCH, OFFLINE_REQUESTS)}
    if load.max_batch is not None:
        return {"output_tok_per_s": offline_tok_per_s(p, step, load.max_batch, load.max_batch)}
    if load.rate_rps is not None:
        replicas = p.gpus // tp
        result = capacity(
            p.catalogue_model,
            p.gpu,
            [load.rate_rps / replicas],
            p.input_tokens,
            p.output_tokens,
            tp,
            precision,
            Arrivals(num_prompts=load.num_prompts) if load.num_prompts else Arrivals(duration_s=RATE_DURATION_S),
            kv_cache_dtype=kv,
        )
        point = result.points[0]
        return {
            "output_tok_per_s": point.output_tok_per_s * replicas,
            "ttft_p50_ms": point.ttft_p50_ms,
            "tpot_p50_ms": point.tpot_p50_ms,
        }
    return "closed loop (concurrency) is not simulated yet"


def main() -> None:
    errors: dict[tuple[str, str], list[float]] = defaultdict(list)
    left_out: dict[str, int] = defaultdict(int)
    print("| point | split | metric | published | simulated | error |")
    print("|---|---|---|---|---|---|")
    for p in catalog.calibration().points:
        got = simulate(p)
        if isinstance(got, str):
            left_out[got] += 1
            continue
        for metric, value in got.items():
            reference = getattr(p, metric)
            if reference is None:
                continue
            error = value / reference - 1
            errors[metric, p.split].append(abs(error))
            print(f"| {p.id} | {p.split} | {metric} | {reference:,.1f} | {value:,.1f} | {error:+.0%} |", flush=True)
        print(f"{p.id} done", file=sys.stderr, flush=True)
    print()
    print("| metric | split | points | mean absolute error |")
    print("|---|---|---|---|")
    for (metric, split), values in sorted(errors.items()):
        print(f"| {metric} | {split} | {len(values)} | {statistics.mean(values):.0%} |")
    print()
    print("Left out: " + "; ".join(f"{why} ({n})" for why, n in sorted(left_out.items())))


if __name__ == "__main__":
    main()
