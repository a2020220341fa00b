"""Step-time model of a continuous-batching server.

One engine step runs the prefill tokens admitted to it and one decode token for every running
sequence:

    t_step = b0 + b_experts * hit(tokens) + b_prefill * prefill_tokens + b_attn * prefill_pairs
             + b_decode * decode_seqs + b_kv * kv_tokens

`b0` reads the weights every token needs, `b_experts` all routed experts of a mixture-of-experts
model, of which a step with n tokens touches hit(n) = 1 - (1 - k/E)^n (0 for dense models), `b_kv`
reads one cached token of one sequence, `b_prefill` and `b_decode` are the linear layers' FLOPs per
token, and `b_attn` the causal-attention FLOPs per (prompt token, earlier token) pair. Memory and
compute time are added, not overlapped, which matches tuned servers better than the pure roofline
maximum. Coefficients come from a roofline of the GPU and model shape at stated efficiencies
(`perf_source: roofline-estimate`) or from a fit to measured step times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from simulator import catalog, units
from simulator.catalog import Gpu, OpenModel, Precision
from simulator.perf.fit import Fitted

PERF_SOURCE_ROOFLINE = "roofline-estimate"
POWERS_OF_TWO_PER_NODE = (1, 2, 4, 8)
KvCacheDtype = Literal["auto", "fp16", "bf16", "fp8"]
# Bytes of one cached K or V element. "auto" is the model's 16-bit type whatever the weights' precision:
# vLLM, SGLang and llama.cpp keep it so unless told otherwise (vLLM's --kv-cache-dtype fp8).
KV_CACHE_BYTES: dict[str, float] = {"auto": 2.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0}
# Serving limits of a continuous-batching server when an option does not set its own.
DEFAULT_MAX_BATCH = 256
DEFAULT_CHUNK_TOKENS = 2048


@dataclass(frozen=True)
class StepModel:
    """Seconds per engine step, and the KV cache a replica holds."""

    b0_s: float
    b_experts_s: float
    expert_share: float
    """Experts per token over experts (k/E); 0 for dense models."""
    b_prefill_s: float
    b_attn_s: float
    b_decode_s: float
    b_kv_s: float
    kv_capacity_tokens: float
    gpus_per_replica: int
    source: str

    def fixed_s(self, tokens_in_step: float | np.ndarray) -> float | np.ndarray:
        """Weight reads of a step that runs `tokens_in_step` tokens (prefill plus decode)."""
        return self.b0_s + self.b_experts_s * (1 - (1 - self.expert_share) ** np.asarray(tokens_in_step))

    def step_s(self, prefill_tokens: float, prefill_pairs: float, decode_seqs: float, kv_tokens: float) -> float:
        return float(
            self.fixed_s(prefill_tokens + decode_seqs)
            + self.b_prefill_s * prefill_tokens
            + self.b_attn_s * prefill_pairs
            + self.b_decode_s * decode_seqs
            + self.b_kv_s * kv_tokens
        )

    def decode_step_s(self, batch: np.ndarray, context_tokens: float) -> np.ndarray:
        """One decode-only step of `batch` sequences holding `context_tokens` each on average."""
        batch = np.asarray(batch, dtype=float)
        return self.fixed_s(batch) + (self.b_decode_s + self.b_kv_s * context_tokens) * batch

    def prefill_s(self, tokens: float, pairs: float) -> float:
        """Prefill seconds of `tokens` new prompt tokens with `pairs` attention pairs, excluding b0."""
        return self.b_prefill_s * tokens + self.b_attn_s * pairs


def prefill_pairs(prompt_tokens: float | np.ndarray, cached_tokens: float | np.ndarray) -> float | np.ndarray:
    """Causal attention pairs of the uncached part of a prompt (each new token sees all before it)."""
    return (np.square(prompt_tokens) - np.square(cached_tokens)) / 2


def weight_bytes(model: OpenModel, precision: Precision) -> float:
    return model.total_params_b * units.PARAMS_PER_BILLION * units.BYTES_PER_PARAM[precision]


def kv_bytes_per_token(model: OpenModel, kv_cache_dtype: KvCacheDtype) -> float:
    return model.kv_elements_per_token * KV_CACHE_BYTES[kv_cache_dtype]


def kv_capacity_tokens(
    model: OpenModel,
    gpu: Gpu,
    precision: Precision,
    gpus: int,
    usable_share: float,
    kv_cache_dtype: KvCacheDtype = "auto",
) -> float:
    """Tokens the KV cache holds: the usable share of the replica's memory (GiB) less the weights."""
    usable = gpus * gpu.spec.memory_gib * units.BYTES_PER_GIB * usable_share
    return max(usable - weight_bytes(model, precision), 0.0) / kv_bytes_per_token(model, kv_cache_dtype)


def roofline(
    model: OpenModel,
    gpu: Gpu,
    precision: Precision,
    gpus: int,
    decode_bandwidth_efficiency: float,
    prefill_compute_efficiency: float,
    usable_memory_share: float,
    kv_cache_dtype: KvCacheDtype = "auto",
) -> StepModel:
    """Coefficients from peak bandwidth and FLOP/s scaled by efficiencies (an estimate).

    For MoE models the shared weights are read every step and each routed expert when a token of
    the step is sent to it; compute uses active parameters.
    """
    bandwidth = gpus * gpu.spec.memory_bandwidth_gb_per_s * units.BYTES_PER_GB * decode_bandwidth_efficiency
    flops = gpus * gpu.compute_tflops(precision) * units.FLOPS_PER_TFLOPS * prefill_compute_efficiency
    per_token_flops = 2 * model.active_params_b * units.PARAMS_PER_BILLION
    # Causal attention: QK^T and AV, 2 FLOPs each per (query, key) pair, per head dimension and layer.
    per_pair_flops = 4 * model.layers * model.attention_heads * model.head_dim
    share = model.experts_per_token / model.experts if model.experts and model.experts_per_token else 0.0
    expert_params = (model.total_params_b - model.active_params_b) / (1 - share) if share else 0.0
    bytes_per_param = units.BYTES_PER_PARAM[precision]
    return StepModel(
        b0_s=(model.total_params_b - expert_params) * units.PARAMS_PER_BILLION * bytes_per_param / bandwidth,
        b_experts_s=expert_params * units.PARAMS_PER_BILLION * bytes_per_param / bandwidth,
        expert_share=share,
        b_prefill_s=per_token_flops / flops,
        b_attn_s=per_pair_flops / flops,
        b_decode_s=per_token_flops / flops,
        b_kv_s=kv_bytes_per_token(model, kv_cache_dtype) / bandwidth,
        kv_capacity_tokens=kv_capacity_tokens(model, gpu, precision, gpus, usable_memory_share, kv_cache_dtype),
        gpus_per_replica=gpus,
        source=PERF_SOURCE_ROOFLINE,
    )


def efficiency(name: str, given: float | None) -> float:
    """An option's own efficiency or memory share, else the catalogue default of that name."""
    return given if given is not None else catalog.owner_defaults()[name].value


def measured(
    fitted: Fitted,
    model: OpenModel,
    gpu: Gpu,
    precision: Precision,
    gpus: int,
    usable_memory_share: float,
    kv_cache_dtype: KvCacheDtype = "auto",
) -> StepModel:
    """Step times from a measured file's fit; the KV cache still comes from the GPU's memory."""
    f = fitted.fit
    return StepModel(
        b0_s=f.b0_s,
        b_experts_s=0.0,
        expert_share=0.0,
        b_prefill_s=f.b_prefill_s,
        b_attn_s=0.0,
        b_decode_s=f.b_decode_s,
        b_kv_s=f.b_kv_s,
        kv_capacity_tokens=kv_capacity_tokens(model, gpu, precision, gpus, usable_memory_share, kv_cache_dtype),
        gpus_per_replica=gpus,
        source=fitted.label,
    )


def step_model(
    model: OpenModel,
    gpu: Gpu,
    precision: Precision,
    gpus: int,
    fitted: Fitted | None = None,
    decode_bandwidth_efficiency: float | None = None,
    prefill_compute_efficiency: float | None = None,
    usable_memory_share: float | None = None,
    kv_cache_dtype: KvCacheDtype = "auto",
) -> StepModel:
    """One replica's step model: fitted to a measured file when one is given, else the roofline at the
    given efficiencies (catalogue defaults for those left out)."""
    usable = efficiency("usable_memory_share", usable_memory_share)
    if fitted is not None:
        return measured(fitted, model, gpu, precision, gpus, usable, kv_cache_dtype)
    return roofline(
        model,
        gpu,
        precision,
        gpus,
        efficiency("decode_bandwidth_efficiency", decode_bandwidth_efficiency),
        efficiency("prefill_compute_efficiency", prefill_compute_efficiency),
        usable,
        kv_cache_dtype,
    )
