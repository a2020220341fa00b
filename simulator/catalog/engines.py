"""Serving-engine profiles (engines.yaml) and the costs fitted to the calibration set (engine_fit.yaml)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Literal

from pydantic import Field, TypeAdapter

from simulator.catalog.base import Data, read
from simulator.errors import InputError

EngineName = Literal["vllm", "sglang", "tensorrt-llm", "llama.cpp"]
Policy = Literal["prefill_first", "chunked_prefill"]
KvCacheDtype = Literal["auto", "fp16", "bf16", "fp8"]
ENGINE_FIT_FILE = "engine_fit.yaml"


class EngineLimits(Data):
    """One rule of an engine's default limits; the first rule whose conditions a GPU meets applies."""

    min_memory_gib: float = 0.0
    max_memory_gib: float | None = None
    """The rule applies below this much GPU memory."""
    except_gpus: list[str] = Field(default_factory=list)
    max_batch: int = Field(ge=1)
    chunk_tokens: int = Field(ge=1)
    """Prompt and decode tokens one step may run (vLLM's max_num_batched_tokens)."""


class EngineCosts(Data):
    """The step model's engine terms."""

    decode_bandwidth_efficiency: float = Field(gt=0, le=1)
    """Share of the GPU's peak bandwidth the engine reaches streaming weights."""
    prefill_compute_efficiency: float = Field(gt=0, le=1)
    """Share of the GPU's matrix-product FLOP/s (`Gpu.matmul`) the engine's linear layers and attention reach."""
    expert_half_width: float | None = Field(default=None, ge=0, le=1e6)
    """Width on one GPU (an expert's intermediate size over the replica's GPUs) at which a mixture of
    experts' routed expert matrix products reach half the dense layers' share of FLOP/s: many small
    matrix products, narrower on more GPUs; None: they reach all of it."""
    step_overhead_ms: float = Field(ge=0, le=1000)
    """Per step, whatever it runs: scheduling, sampling, kernel launches."""
    request_overhead_ms: float = Field(ge=0, le=10_000)
    """Per request, added to its TTFT and end-to-end latency: tokenising, HTTP, detokenising."""
    allreduce_latency_us: float = Field(ge=0, le=10_000)
    """Fixed time of one all-reduce between tensor-parallel GPUs (two per layer per step)."""
    kv_bandwidth_efficiency: float | None = Field(default=None, gt=0, le=1)
    """Share of the GPU's peak bandwidth the attention kernels reach reading a step's cached keys and
    values; None: the weights' share."""
    lone_sequence_kv_efficiency: float | None = Field(default=None, gt=0, le=1)
    """Share of peak bandwidth at which one sequence's cached keys and values are read: the few thread
    blocks its heads and splits give it leave most of the GPU idle, so a step's attention lasts at least
    its mean sequence's read at this share; None: no such floor."""
    attention_per_sequence_layer_us: float = Field(ge=0, le=10_000)
    """Attention time per decoding sequence and layer beyond its KV reads (llama.cpp without flash attention)."""
    sequence_overhead_us: float = Field(ge=0, le=10_000)
    """Per running sequence per step, whatever the model: batch bookkeeping, sampling, detokenising, streaming."""
    overlap_sharpness: float = Field(ge=1, le=64)
    """s of the smooth maximum (x^s + y^s)^(1/s) of a step's weight reads and linear FLOPs: 1 adds them,
    64 is within 1.1% of the plain maximum."""
    source: str
    as_of: dt.date


class EngineProfile(Data):
    name: EngineName
    display_name: str
    version: str
    scheduling: Policy
    limits: list[EngineLimits] = Field(min_length=1)
    kv_cache_dtype: KvCacheDtype
    kv_cache_dtype_fp8_weights: KvCacheDtype
    usable_memory_share: float = Field(gt=0, le=1)
    source: str
    as_of: dt.date
    costs: EngineCosts
    fit_from: EngineName | None = None
    """Without a fit of its own, the engine whose fitted costs it shares (the same attention kernels)."""

    def limits_for(self, gpu_name: str, memory_gib: float) -> EngineLimits:
        for rule in self.limits:
            if (
                memory_gib >= rule.min_memory_gib
                and (rule.max_memory_gib is None or memory_gib < rule.max_memory_gib)
                and gpu_name not in rule.except_gpus
            ):
                return rule
        return self.limits[-1]


# What a fit records beside an engine's costs: its size and source, and its older runtimes' costs.
FIT_ONLY = {"points", "source", "generations"}


class GenerationCosts(Data):
    """What the runs of one of an engine's older runtimes (the calibration set's `generations`) pay in place
    of the profile's: their host work a step and a running sequence, and their attention kernels' share of
    bandwidth for the cache. Fitted beside the profile's costs; no estimate uses them."""

    step_overhead_ms: float = Field(ge=0, le=1000)
    sequence_overhead_us: float | None = Field(default=None, ge=0, le=10_000)
    """Fitted only where a run of the generation streamed its tokens."""
    kv_bandwidth_efficiency: float = Field(gt=0, le=1)


class FittedCosts(Data):
    decode_bandwidth_efficiency: float = Field(gt=0, le=1)
    prefill_compute_efficiency: float = Field(gt=0, le=1)
    expert_half_width: float | None = Field(default=None, ge=0, le=1e6)
    """Fitted only where the engine's fit points include mixtures of experts."""
    step_overhead_ms: float = Field(ge=0, le=1000)
    request_overhead_ms: float | None = Field(default=None, ge=0, le=10_000)
    """Fitted only where the engine's fit points include TTFT."""
    allreduce_latency_us: float | None = Field(default=None, ge=0, le=10_000)
    """Fitted only where the engine's fit points include tensor-parallel runs."""
    sequence_overhead_us: float | None = Field(default=None, ge=0, le=10_000)
    overlap_sharpness: float | None = Field(default=None, ge=1, le=64)
    kv_bandwidth_efficiency: float | None = Field(default=None, gt=0, le=1)
    lone_sequence_kv_efficiency: float | None = Field(default=None, gt=0, le=1)
    generations: dict[str, GenerationCosts] = Field(default_factory=dict)
    points: int = Field(ge=1)
    source: str


class EngineFit(Data):
    calibration_version: int
    as_of: dt.date
    engines: dict[EngineName, FittedCosts]


@cache
def engine_fit() -> EngineFit:
    return EngineFit.model_validate(read(ENGINE_FIT_FILE))


@cache
def profiles() -> dict[str, EngineProfile]:
    """Each profile as engines.yaml has it, with its own costs (where a fit starts)."""
    return {p.name: p for p in TypeAdapter(list[EngineProfile]).validate_python(read("engines.yaml"))}


@cache
def engines() -> dict[str, EngineProfile]:
    """Each profile with the fitted costs in place of its own where the calibration set fitted them."""
    fit = engine_fit()
    out: dict[str, EngineProfile] = {}
    for p in profiles().values():
        f = fit.engines.get(p.name) or (fit.engines.get(p.fit_from) if p.fit_from else None)
        if f is not None:
            fitted = f.model_dump(exclude=FIT_ONLY, exclude_none=True)
            costs = p.costs.model_copy(update={**fitted, "source": f.source, "as_of": fit.as_of})
            p = p.model_copy(update={"costs": costs})
        out[p.name] = p
    return out


def engine(name: str, field: str = "perf.engine") -> EngineProfile:
    try:
        return engines()[name]
    except KeyError:
        raise InputError("", field, f"unknown engine {name!r}", f"use one of {', '.join(engines())}") from None
