"""How an engine serves on a GPU: its profile's defaults with an option's own settings in their place."""

from __future__ import annotations

from dataclasses import dataclass

from simulator import catalog, units
from simulator.catalog import EngineCosts, EngineName, Gpu, Precision
from simulator.catalog.engines import KvCacheDtype as KvCacheDtype
from simulator.catalog.engines import Policy as Policy

DEFAULT_ENGINE: EngineName = "vllm"


@dataclass(frozen=True)
class Serving:
    """An engine's scheduling limits and step costs for one GPU and weight precision."""

    engine: EngineName
    scheduling: Policy
    max_batch: int
    chunk_tokens: int
    kv_cache_dtype: KvCacheDtype
    usable_memory_share: float
    decode_bandwidth_efficiency: float
    kv_bandwidth_efficiency: float
    lone_sequence_kv_efficiency: float | None
    prefill_compute_efficiency: float
    expert_half_width: float
    """Width on one GPU at which routed experts' matrix products reach half the dense share (0: all of it)."""
    step_overhead_s: float
    request_overhead_s: float
    allreduce_latency_s: float
    attention_per_sequence_layer_s: float
    sequence_overhead_s: float
    overlap_sharpness: float
    limits_source: str
    """Where the batch limits, KV-cache type and memory share come from (the engine's code at a version)."""
    limits_as_of: str
    costs_source: str
    """Where the efficiencies and overheads come from (the fit to the calibration set, or the profile's own)."""
    costs_as_of: str


def serving(
    gpu: Gpu,
    precision: Precision,
    engine: EngineName = DEFAULT_ENGINE,
    *,
    scheduling: Policy | None = None,
    max_batch: int | None = None,
    chunk_tokens: int | None = None,
    kv_cache_dtype: KvCacheDtype | None = None,
    usable_memory_share: float | None = None,
    decode_bandwidth_efficiency: float | None = None,
    prefill_compute_efficiency: float | None = None,
    costs: EngineCosts | None = None,
) -> Serving:
    """The engine's defaults for this GPU, each replaced by the setting given.

    `costs` stands in for the profile's step costs (a fit in progress). A step's token budget is at
    least its batch (every running sequence decodes a token in it): a batch given alone raises the
    engine's budget to it, and a budget given alone caps the engine's batch.
    """
    p = catalog.engine(engine)
    limits = p.limits_for(gpu.name, gpu.spec.memory_gib)
    batch = max_batch if max_batch is not None else min(limits.max_batch, chunk_tokens or limits.max_batch)
    costs = costs or p.costs
    default_kv = p.kv_cache_dtype_fp8_weights if precision == "fp8" else p.kv_cache_dtype
    return Serving(
        engine=p.name,
        scheduling=scheduling or p.scheduling,
        max_batch=batch,
        chunk_tokens=chunk_tokens if chunk_tokens is not None else max(limits.chunk_tokens, batch),
        kv_cache_dtype=kv_cache_dtype or default_kv,
        usable_memory_share=usable_memory_share or p.usable_memory_share,
        decode_bandwidth_efficiency=decode_bandwidth_efficiency or costs.decode_bandwidth_efficiency,
        kv_bandwidth_efficiency=costs.kv_bandwidth_efficiency
        or decode_bandwidth_efficiency
        or costs.decode_bandwidth_efficiency,
        lone_sequence_kv_efficiency=costs.lone_sequence_kv_efficiency,
        prefill_compute_efficiency=prefill_compute_efficiency or costs.prefill_compute_efficiency,
        expert_half_width=costs.expert_half_width or 0.0,
        step_overhead_s=units.ms_to_seconds(costs.step_overhead_ms),
        request_overhead_s=units.ms_to_seconds(costs.request_overhead_ms),
        allreduce_latency_s=units.us_to_seconds(costs.allreduce_latency_us),
        attention_per_sequence_layer_s=units.us_to_seconds(costs.attention_per_sequence_layer_us),
        sequence_overhead_s=units.us_to_seconds(costs.sequence_overhead_us),
        overlap_sharpness=costs.overlap_sharpness,
        limits_source=f"{p.display_name} {p.version}: {p.source}",
        limits_as_of=p.as_of.isoformat(),
        costs_source=costs.source,
        costs_as_of=costs.as_of.isoformat(),
    )
