"""The step model against the calibration set: each published point simulated, and each engine's costs
fitted to its `fit` points.

A point is played as its source ran it, on the engine profile of its engine (NIM serves these models
through TensorRT-LLM), with its release generation's own host and cache-read costs where it ran an older
runtime than the profile's, and with the server settings the source states (KV-cache type, vLLM's
max_num_seqs and gpu_memory_utilization). Offline and static-batch runs queue
every request at t = 0 on each replica (replicas = GPUs / tensor-parallel size) and count output
tokens over the makespan, TPOT as the median request's; runs at a request rate send the published
number of prompts (else 600 s) to one replica per tensor-parallel group; runs at a concurrency keep
that many clients per replica, started together, each waiting for its answer before sending the next. A run on
a dataset sends requests drawn from the lengths the set gives it (`datasets`). Points on a dataset the set does
not describe, other layouts (attention data parallel) and FP4 are left out, with the reason.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import zlib
from collections.abc import Callable, Iterable
from typing import get_args

import numpy as np
from scipy.optimize import least_squares

from simulator import catalog, units
from simulator.analysis.capacity import Arrivals, RequestsFor, load_point, run_load
from simulator.catalog import CalibrationDataset, CalibrationPoint, EngineName, Precision
from simulator.catalog.engines import FittedCosts, GenerationCosts, profiles
from simulator.engine.replica import Replica, Requests
from simulator.perf.serving import KvCacheDtype, Policy, Serving, serving
from simulator.perf.step import StepModel, expert_width, step_model

OFFLINE_REQUESTS = 3000  # per replica, where the source gives no count: several full batches
RATE_DURATION_S = 600.0
CACHE_BLOCK_TOKENS = 16  # vLLM's default KV-cache block: prefix caching reuses whole blocks
CLOSED_LOOP_ROUNDS = 8  # requests per client in a concurrency run, where the source gives no count
METRICS = ("output_tok_per_s", "ttft_p50_ms", "tpot_p50_ms", "ttft_mean_ms", "itl_mean_ms")
TTFT_METRICS = ("ttft_p50_ms", "ttft_mean_ms")
ENGINE_OF = {"nim": "tensorrt-llm"}
# Errors beyond about 20% weigh less than their square: a few published points come from engine
# versions or set-ups far from the rest, and must not pull every other point off.
LOSS_SCALE = 0.2
KNEE_TTFT_FACTOR = 3.0
MIN_MODELS_TO_FIT = 2
# Fit points an engine needs for each cost it fits: a handful of runs drives costs to their bounds.
MIN_POINTS_PER_COST = 4
# Bounds of each fitted cost: physical shares (copy kernels reach about 90% of an HBM datasheet's
# bandwidth, no more), and overheads no tuned engine exceeds.
BOUNDS = {
    "decode_bandwidth_efficiency": (0.15, 0.9),
    "kv_bandwidth_efficiency": (0.15, 0.9),
    "lone_sequence_kv_efficiency": (0.02, 0.9),
    "prefill_compute_efficiency": (0.1, 1.0),
    "expert_half_width": (0.0, 20000.0),
    "step_overhead_ms": (0.0, 30.0),
    "request_overhead_ms": (0.0, 300.0),
    "allreduce_latency_us": (0.0, 100.0),
    "sequence_overhead_us": (0.0, 300.0),
    "overlap_sharpness": (1.0, 16.0),
}
# What the runs of an engine's older runtime (a release generation) pay in place of the profile's, each fitted
# as "<generation>/<cost>": host work a step and a running sequence (where its runs streamed), and the attention
# kernels' cache reads.
GENERATION_COSTS = ("step_overhead_ms", "sequence_overhead_us", "kv_bandwidth_efficiency")


# Where a fit starts the costs a profile leaves unset: experts of a small model's width at half the share,
# the cache read at the weights' share, a lone sequence's at a fifth of the GPU.
START = {"expert_half_width": 512.0, "kv_bandwidth_efficiency": 0.6, "lone_sequence_kv_efficiency": 0.2}
# A second start, a tuned server's typical costs: the simulated steps are discrete, so the fit's
# objective is rugged and a descent from one start can stop in a worse hollow; the lower end is kept.
TUNED_START = {
    "decode_bandwidth_efficiency": 0.8,
    "kv_bandwidth_efficiency": 0.8,
    "lone_sequence_kv_efficiency": 0.5,
    "prefill_compute_efficiency": 0.8,
    "step_overhead_ms": 1.0,
    "request_overhead_ms": 10.0,
    "allreduce_latency_us": 20.0,
    "sequence_overhead_us": 50.0,
    "overlap_sharpness": 1.0,
}


def _cost(name: str) -> str:
    """The cost a fitted name stands for: "vllm-v0/step_overhead_ms" is a step overhead."""
    return name.rpartition("/")[2]


def engine_of(p: CalibrationPoint) -> EngineName:
    return ENGINE_OF.get(p.engine, p.engine)  # type: ignore[return-value]


def why_left_out(p: CalibrationPoint) -> str | None:
    if p.catalogue_model is None:
        return "no catalogue shape"
    if p.precision not in get_args(Precision):
        return f"{p.precision} is not a precision the model knows"
    if p.parallelism is not None:
        return f"{p.parallelism} layout"
    if (p.input_tokens is None or p.output_tokens is None) and p.dataset is None:
        return "lengths vary (a dataset the set does not describe)"
    if p.dataset is not None and p.load.offline:
        return "every prompt of a dataset at once (the longest answers, whose spread is unpublished, set its end)"
    if all(getattr(p, m) is None for m in METRICS):
        return "no throughput or latency published"
    if point_step(p, point_serving(p)).kv_capacity_tokens < longest_request(p):
        return "one request does not fit"
    return None


def dataset_of(p: CalibrationPoint) -> CalibrationDataset:
    """The lengths a point's run drew from: its dataset's, at the run's own means where it gives them."""
    assert p.dataset is not None
    return catalog.calibration().datasets[p.dataset].stretched(p.input_tokens_mean, p.output_tokens_mean)


def longest_request(p: CalibrationPoint) -> float:
    """Prompt and output tokens of the point's longest request."""
    if p.input_tokens is not None and p.output_tokens is not None:
        return p.input_tokens + p.output_tokens
    d = dataset_of(p)
    longest = float(d.input.quantile(np.array(1.0)) + d.output.quantile(np.array(1.0)))
    return min(longest, d.max_total_tokens or math.inf)


def mean_output_tokens(p: CalibrationPoint) -> float:
    return p.output_tokens if p.output_tokens is not None else dataset_of(p).output.mean()


def _precision(p: CalibrationPoint) -> Precision:
    return "fp16" if p.precision == "bf16" else p.precision  # type: ignore[return-value]


def _experts(p: CalibrationPoint) -> bool:
    return bool(expert_width(catalog.model(str(p.catalogue_model))))


def point_step(p: CalibrationPoint, limits: Serving) -> StepModel:
    """The step model of the point's run: its model on its GPUs under `limits`, with its release's cache reads."""
    assert p.catalogue_model
    model, gpu = catalog.model(p.catalogue_model), catalog.gpu(p.gpu)
    step = step_model(model, gpu, _precision(p), p.tensor_parallel or 1, limits)
    generation = catalog.calibration().generations.get(p.generation or "")
    if generation is not None and generation.cache_read_per_query_head:
        # One thread block per query head: a grouped-query model's cached heads are read once per query head.
        group = model.attention_heads / model.kv_heads
        step = dataclasses.replace(step, b_kv_s=step.b_kv_s * group, b_scan_s=step.b_scan_s * group)
    return step


def point_serving(p: CalibrationPoint, costs: dict[str, float] | None = None) -> Serving:
    """The point's engine on its GPU, with the server settings its source states or its engine version
    defaults to (KV-cache type, most sequences, memory share, scheduling, token budget) and `costs`
    (fitted names) in place of the profile's; a run that streamed nothing pays no per-sequence host work."""
    stated_kv = p.kv_cache_dtype or ""
    kv = "fp8" if stated_kv.startswith("fp8") else stated_kv if stated_kv in get_args(KvCacheDtype) else None
    stated = p.other_metrics or {}
    max_seqs, memory = stated.get("max_num_seqs"), stated.get("gpu_memory_utilization")
    budget, scheduling = stated.get("max_num_batched_tokens"), stated.get("scheduling")
    engine = engine_of(p)
    update = {n: v for n, v in (costs or {}).items() if "/" not in n}
    if p.generation is not None:
        generation_costs = {_cost(n): v for n, v in (costs or {}).items() if n.startswith(f"{p.generation}/")}
        fitted = catalog.engine_fit().engines.get(engine)
        if not generation_costs and fitted is not None and p.generation in fitted.generations:
            generation_costs = fitted.generations[p.generation].model_dump(exclude_none=True)
        update.update(generation_costs)
    if not p.streamed:
        update["sequence_overhead_us"] = 0.0
    own = catalog.engines()[engine].costs.model_copy(update=update) if update else None
    return serving(
        catalog.gpu(p.gpu),
        _precision(p),
        engine,
        scheduling=scheduling if scheduling in get_args(Policy) else None,  # type: ignore[arg-type]
        max_batch=int(max_seqs) if isinstance(max_seqs, float) else None,
        chunk_tokens=int(budget) if isinstance(budget, float) else None,
        kv_cache_dtype=kv,  # type: ignore[arg-type]
        usable_memory_share=memory if isinstance(memory, float) else None,
        costs=own,
    )


def requests_of(p: CalibrationPoint) -> RequestsFor:
    """The requests a point's run sent: of its fixed lengths, or drawn from its dataset's lengths (the
    same draw on every call: seeded by the point's name); their prompts cached where the run's were."""
    if p.input_tokens is not None and p.output_tokens is not None:
        isl, osl = p.input_tokens, p.output_tokens

        def lengths(n: int) -> tuple[np.ndarray, np.ndarray]:
            return np.full(n, isl), np.full(n, osl)

    else:
        dataset = dataset_of(p)

        def lengths(n: int) -> tuple[np.ndarray, np.ndarray]:
            return dataset.draw(n, np.random.default_rng(zlib.crc32(p.id.encode())))

    def requests(arrival_s: np.ndarray) -> Requests:
        prompt, output = lengths(len(arrival_s))
        # A cached prompt still computes its last token, and the partial block it ends in.
        cached = (prompt - 1) // CACHE_BLOCK_TOKENS * CACHE_BLOCK_TOKENS if p.prompts_cached else np.zeros_like(prompt)
        return Requests(arrival_s, prompt, cached, output)

    return requests


def simulate(p: CalibrationPoint, costs: dict[str, float] | None = None) -> dict[str, float]:
    """Simulated figures of a point that is not left out (see `why_left_out`)."""
    replicas = max(1, p.gpus // (p.tensor_parallel or 1))
    limits = point_serving(p, costs)
    step = point_step(p, limits)
    sent = requests_of(p)
    load = p.load
    if load.offline or load.max_batch is not None:
        n = load.max_batch or (math.ceil(load.num_prompts / replicas) if load.num_prompts else OFFLINE_REQUESTS)
        batch = load.max_batch or limits.max_batch
        r = sent(np.zeros(n))
        replica = Replica(step, r, limits.scheduling, batch, max(limits.chunk_tokens, batch))
        for i in range(n):
            replica.submit(i, 0.0)
        replica.run_to_completion()
        # TTFT of a burst is its queue (above any knee); TPOT is the batch's step time.
        tpot = (r.done_s - r.first_token_s) / np.maximum(r.output_tokens - 1, 1)
        return {
            "output_tok_per_s": replicas * float(r.output_tokens.sum()) / float(np.max(r.done_s)),
            "tpot_p50_ms": units.seconds_to_ms(float(np.median(tpot))),
        }
    if load.concurrency is not None:
        clients = max(1, load.concurrency // replicas)
        n = math.ceil(load.num_prompts / replicas) if load.num_prompts else CLOSED_LOOP_ROUNDS * clients
        run = run_load(step, 0.0, sent, Arrivals(num_prompts=n, concurrency=clients), limits)
        ttft, tpot = run.ttft_s, run.tpot_s
        return {
            "output_tok_per_s": replicas * run.output_tok_per_s,
            "ttft_p50_ms": units.seconds_to_ms(float(np.median(ttft))),
            "tpot_p50_ms": units.seconds_to_ms(float(np.median(tpot))),
            "ttft_mean_ms": units.seconds_to_ms(float(np.mean(ttft))),
            "itl_mean_ms": units.seconds_to_ms(float(np.mean(tpot))),
        }
    assert load.rate_rps is not None
    prompts = math.ceil(load.num_prompts / replicas) if load.num_prompts else None
    arrivals = Arrivals(num_prompts=prompts) if prompts else Arrivals(duration_s=RATE_DURATION_S)
    point = load_point(step, load.rate_rps / replicas, sent, arrivals, limits)
    return {
        "output_tok_per_s": point.output_tok_per_s * replicas,
        "ttft_p50_ms": point.ttft_p50_ms,
        "tpot_p50_ms": point.tpot_p50_ms,
    }


def below_knee(p: CalibrationPoint) -> bool:
    """Before the queue builds: the published TTFT within `KNEE_TTFT_FACTOR` of the lowest its configuration
    (engine, GPUs, model, precision, lengths) publishes at any load, at a rate the server kept up with
    (published output within 10% of what was sent)."""
    ttft = p.ttft_p50_ms or p.ttft_mean_ms
    if ttft is None:
        return False
    load = p.load
    sent = load.rate_rps * mean_output_tokens(p) if load.rate_rps is not None else None
    if sent is not None and p.output_tok_per_s is not None and p.output_tok_per_s < 0.9 * sent:
        return False
    return ttft <= KNEE_TTFT_FACTOR * _lowest_ttft_ms()[_configuration(p)]


def _configuration(p: CalibrationPoint) -> tuple[object, ...]:
    return (
        p.engine,
        p.engine_version,
        p.gpu,
        p.gpus,
        p.tensor_parallel,
        p.model,
        p.precision,
        p.input_tokens,
        p.output_tokens,
        p.dataset,
    )


@functools.cache
def _lowest_ttft_ms() -> dict[tuple[object, ...], float]:
    lowest: dict[tuple[object, ...], float] = {}
    for p in catalog.calibration().points:
        ttft = p.ttft_p50_ms or p.ttft_mean_ms
        if ttft is not None:
            key = _configuration(p)
            lowest[key] = min(lowest.get(key, math.inf), ttft)
    return lowest


def _load_kind(p: CalibrationPoint) -> str:
    load = p.load
    return "offline" if load.offline else "batch" if load.max_batch else "clients" if load.concurrency else "rate"


def _load_level(p: CalibrationPoint) -> float:
    load = p.load
    return math.inf if load.offline else float(load.max_batch or load.concurrency or load.rate_rps or 0)


@functools.cache
def _loads() -> dict[tuple[object, ...], list[float]]:
    """Every load each configuration publishes, per kind of run, in order."""
    levels: dict[tuple[object, ...], list[float]] = {}
    for p in catalog.calibration().points:
        levels.setdefault((*_configuration(p), _load_kind(p)), []).append(_load_level(p))
    return {key: sorted(v) for key, v in levels.items()}


def _loads_of(p: CalibrationPoint) -> list[float]:
    return _loads()[(*_configuration(p), _load_kind(p))]


def lightest(p: CalibrationPoint) -> bool:
    """The lightest load its configuration publishes in its kind of run (one client, the lowest rate)."""
    return _load_level(p) == _loads_of(p)[0]


def at_saturation(p: CalibrationPoint) -> bool:
    """The heaviest load its configuration publishes in its kind of run (every request at once, the
    largest batch, most clients or highest rate): the throughput a serving benchmark reports as the
    server's."""
    return _load_level(p) == _loads_of(p)[-1]


def judged(p: CalibrationPoint, metric: str) -> str | None:
    """The issue-level figure a published metric stands for, or None: saturation throughput, TPOT p50
    (NIM publishes the mean inter-token latency, which at fixed lengths is the median request's TPOT
    within a few percent), TTFT p50 below the knee (or its mean)."""
    if metric == "output_tok_per_s":
        return "saturation throughput" if at_saturation(p) else None
    if metric in ("tpot_p50_ms", "itl_mean_ms"):
        return "TPOT p50"
    return "TTFT p50 below the knee" if metric in TTFT_METRICS else None


def compared(p: CalibrationPoint, got: dict[str, float]) -> Iterable[tuple[str, float, float]]:
    """(metric, published, simulated) of each metric the source gives; TTFT only below the knee."""
    for metric, value in got.items():
        reference = getattr(p, metric)
        if reference is None or (metric in TTFT_METRICS and not below_knee(p)):
            continue
        yield metric, reference, value


def usable(split: str, engine: EngineName | None = None) -> list[CalibrationPoint]:
    return [
        p
        for p in catalog.calibration().points
        if p.split == split and why_left_out(p) is None and (engine is None or engine_of(p) == engine)
    ]


def fit_engine(engine: EngineName, progress: Callable[[str], None] = lambda _: None) -> FittedCosts | None:
    """Robust least squares on log(simulated / published) over the engine's fit points; None when they
    cover fewer than two models (one model's quirks are not an engine's costs) or number fewer than
    four for each cost fitted.

    Free: the bandwidth and FLOP/s shares, the step overhead, the overhead per running sequence and
    the sharpness of the reads' and FLOPs' overlap; the request overhead where the points include TTFT;
    the all-reduce latency where they include tensor-parallel runs; the routed experts' half width
    where they cover two mixtures of experts (one model's kernels are not an engine's); the own costs
    (`GENERATION_COSTS`) of each older runtime whose runs they include. TTFT is fitted at each
    configuration's lightest load only, where it is the prompt's steps and the request overhead: the
    queueing heavier loads add is what the simulation plays, so there it is judged, never fitted.
    """
    points = usable("fit", engine)
    if len({p.catalogue_model for p in points}) < MIN_MODELS_TO_FIT:
        return None
    names = ["decode_bandwidth_efficiency", "kv_bandwidth_efficiency", "lone_sequence_kv_efficiency"]
    names += ["prefill_compute_efficiency"]
    names += ["step_overhead_ms", "sequence_overhead_us", "overlap_sharpness"]
    if any(below_knee(p) for p in points):  # below the knee implies a published TTFT
        names.append("request_overhead_ms")
    if any((p.tensor_parallel or 1) > 1 for p in points):
        names.append("allreduce_latency_us")
    if len({p.catalogue_model for p in points if _experts(p)}) >= MIN_MODELS_TO_FIT:
        names.append("expert_half_width")
    generations = sorted({p.generation for p in points if p.generation is not None})
    streamed = {p.generation for p in points if p.streamed}  # a run that streams nothing shows no per-sequence work
    names += [
        f"{g}/{cost}"
        for g in generations
        for cost in GENERATION_COSTS
        if cost != "sequence_overhead_us" or g in streamed
    ]
    if len(points) < MIN_POINTS_PER_COST * len(names):
        return None
    # From the profile's own estimate and a tuned server's, never from the last fit: a refit of the same points
    # gives the same costs.
    profile = profiles()[engine].costs
    kinds = [_cost(n) for n in names]
    lower, upper = (np.array(side) for side in zip(*(BOUNDS[k] for k in kinds), strict=True))
    starts = [
        np.clip([given.get(k) or START.get(k, 0.0) for k in kinds], lower, upper)
        for given in (profile.model_dump(), TUNED_START)
    ]

    def residuals(x: np.ndarray) -> np.ndarray:
        costs = dict(zip(names, x.tolist(), strict=True))
        out = [
            math.log(value / reference)
            for p in points
            for metric, reference, value in compared(p, simulate(p, costs))
            if metric not in TTFT_METRICS or lightest(p)
        ]
        progress(f"{engine}: " + ", ".join(f"{n} {v:.4g}" for n, v in costs.items()))
        return np.array(out)

    ends = [
        least_squares(
            residuals,
            start,
            bounds=(lower, upper),
            diff_step=0.02,
            x_scale="jac",
            loss="soft_l1",
            f_scale=LOSS_SCALE,
            max_nfev=60,
        )
        for start in starts
    ]
    result = min(ends, key=lambda end: end.cost)
    # Four significant figures, none below a millionth of the unit: a cost pinned at zero reads 0.
    fitted = dict(zip(names, (round(float(f"{v:.4g}"), 6) for v in result.x), strict=True))
    count = len(points)
    return FittedCosts(
        **{n: v for n, v in fitted.items() if "/" not in n},
        generations={
            g: GenerationCosts(**{cost: fitted[f"{g}/{cost}"] for cost in GENERATION_COSTS if f"{g}/{cost}" in fitted})
            for g in generations
        },
        points=count,
        source=f"fit to the {count} fit points of calibration.yaml v{catalog.calibration().version} "
        f"({', '.join(names)} free): benchmarks/fidelity.py --fit",
    )
