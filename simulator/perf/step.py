"""Step-time model of a continuous-batching server.

One engine step runs the prefill tokens admitted to it and one decode token for every running
sequence. With p prompt tokens (attending to `pairs` earlier tokens), d decoding sequences holding
K cached tokens, and n = p + d:

    weights   = b0 + b_experts * hit(n)
    linear    = b_prefill * p + b_decode * d
    attention = b_kv * K + b_scan * K / d + b_attn * pairs
    t_step    = overhead + smax_s(weights, linear) + attention + b_comm * n + b_seq * d

`b0` reads the weights every token needs, `b_experts` all routed experts of a mixture-of-experts
model, of which a step with n tokens touches hit(n) = 1 - (1 - k/E)^n (0 for dense models), `b_kv`
reads one cached token of one sequence (at the attention kernels' share of bandwidth) and
`b_scan` one cached token of a step's mean sequence at the share one sequence's few thread blocks
reach: a step of a few long sequences reads its cache far below peak, a step of many nearly at the
kernels' share; `b_prefill` and `b_decode` are the linear layers' FLOPs per
token and `b_attn` the causal-attention FLOPs per (prompt token, earlier token) pair. A routed
expert's matrix products are small (its intermediate width split over the replica's GPUs, only the
share of a step's tokens routed to it): at width w a GPU they run at w / (w + w_half) of the dense
layers' FLOP/s, w_half the engine's `expert_half_width`, fitted. A linear layer's kernel streams its
weights while the tensor cores multiply, so within it the two overlap and the slower sets the pace,
though not fully near the ridge point, where a kernel reaches neither peak: smax_s(x, y) = (x^s +
y^s)^(1/s) is the smooth maximum of sharpness s (the engine's `overlap_sharpness`, fitted; s = 1
adds the two, a large s is the plain maximum). Attention is a kernel of its own after each layer's
projections, reading the cached keys and values of every decoding sequence and computing the
prompts' pairs, so its time adds to the linear layers' rather than hiding under them.
`overhead` is the engine's fixed cost of a step (scheduling, sampling, kernel launches) plus, on a
tensor-parallel replica, the latency of its two all-reduces per layer; `b_comm` is the all-reduces'
bytes per token over the GPUs' link, and `b_seq` what each running sequence adds to a step beyond
its FLOPs and KV reads: the engine's host work for it (batch bookkeeping, sampling, detokenising,
streaming), which no precision or GPU shortens, and attention time where the engine's kernels spend
more than the reads (llama.cpp without flash attention). Each request also waits `request_s`
(tokenising, HTTP) before its first token.

Coefficients come from a roofline of the GPU and model shape at the engine's efficiencies
(`perf_source: roofline-estimate`) or from a fit to measured step times, whose terms add up as
they were fitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator import units
from simulator.catalog import Gpu, OpenModel, Precision
from simulator.errors import InputError
from simulator.perf.fit import Fitted
from simulator.perf.serving import KvCacheDtype, Serving

PERF_SOURCE_ROOFLINE = "roofline-estimate"
POWERS_OF_TWO_PER_NODE = (1, 2, 4, 8)
# Bytes of one cached K or V element. "auto" is the model's 16-bit type whatever the weights' precision:
# vLLM, SGLang and llama.cpp keep it so unless told otherwise (vLLM's --kv-cache-dtype fp8).
KV_CACHE_BYTES: dict[str, float] = {"auto": 2.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0}
ACTIVATION_BYTES = 2.0  # tensor-parallel all-reduces move 16-bit activations, whatever the weights
ALLREDUCES_PER_LAYER = 2  # after attention and after the MLP (Megatron-style tensor parallelism)


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
    overhead_s: float = 0.0
    """Per step: the engine's fixed cost and the tensor-parallel all-reduces' latency."""
    b_comm_s: float = 0.0
    b_seq_s: float = 0.0
    request_s: float = 0.0
    b_scan_s: float = 0.0
    """Per cached token of the step's mean decoding sequence."""
    overlap_sharpness: float = 1.0
    """s of the smooth maximum of the linear layers' weight reads and FLOPs: the engine's on the roofline;
    1 (they add) for a measured fit, as it was fitted."""

    def fixed_s(self, tokens_in_step: float | np.ndarray) -> float | np.ndarray:
        """Weight reads of a step that runs `tokens_in_step` tokens (prefill plus decode)."""
        return self.b0_s + self.b_experts_s * (1 - (1 - self.expert_share) ** np.asarray(tokens_in_step))

    def step_s(self, prefill_tokens: float, prefill_pairs: float, decode_seqs: float, kv_tokens: float) -> float:
        tokens = prefill_tokens + decode_seqs
        weights = float(self.fixed_s(tokens))
        linear = self.b_prefill_s * prefill_tokens + self.b_decode_s * decode_seqs
        layers = smooth_max(weights, linear, self.overlap_sharpness)
        attention = self.b_kv_s * kv_tokens + self.b_attn_s * prefill_pairs
        if decode_seqs:
            attention += self.b_scan_s * kv_tokens / decode_seqs
        return self.overhead_s + layers + attention + self.b_comm_s * tokens + self.b_seq_s * decode_seqs

    def decode_step_s(self, batch: np.ndarray, context_tokens: float) -> np.ndarray:
        """One decode-only step of `batch` sequences holding `context_tokens` each on average."""
        batch = np.asarray(batch, dtype=float)
        weights, linear = self.fixed_s(batch), self.b_decode_s * batch
        layers = smooth_max(weights, linear, self.overlap_sharpness)
        per_sequence = (self.b_kv_s * context_tokens + self.b_comm_s + self.b_seq_s) * batch
        return self.overhead_s + layers + per_sequence + self.b_scan_s * context_tokens

    def prefill_s(self, tokens: float, pairs: float) -> float:
        """Replica time a prompt of `tokens` new tokens with `pairs` attention pairs adds to the steps it
        joins: its FLOPs and all-reduce bytes (the weights are read for the step anyway)."""
        return (self.b_prefill_s + self.b_comm_s) * tokens + self.b_attn_s * pairs

    def ttft_alone_s(self, tokens: float, pairs: float) -> float:
        """Time to first token of a prompt on an idle replica: one step that runs it, and the request's overhead."""
        return self.request_s + self.step_s(tokens, pairs, 0, 0)


def smooth_max(x: Any, y: Any, k: float) -> Any:
    """(x^k + y^k)^(1/k) of non-negative times, scaled by the larger so that no power underflows."""
    top = np.maximum(x, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(top > 0, np.minimum(x, y) / top, 0.0)
    out = top * (1 + ratio**k) ** (1 / k)
    return float(out) if np.ndim(out) == 0 else out


def prefill_pairs(prompt_tokens: float | np.ndarray, cached_tokens: float | np.ndarray) -> float | np.ndarray:
    """Causal attention pairs of the uncached part of a prompt (each new token sees all before it)."""
    return (np.square(prompt_tokens) - np.square(cached_tokens)) / 2


def routed_experts(model: OpenModel) -> tuple[float, float]:
    """Experts per token over experts (k/E), and the billions of parameters in all routed experts: a
    token leaves (1 - k/E) of them unread, the model's total less its active parameters. (0, 0) for a
    dense model."""
    if not model.experts or not model.experts_per_token:
        return 0.0, 0.0
    share = model.experts_per_token / model.experts
    return share, (model.total_params_b - model.active_params_b) / (1 - share)


def expert_width(model: OpenModel) -> float:
    """Intermediate size of one routed expert (0 for a dense model): its parameters over experts x layers x
    3 matrices (gate, up, down) of hidden size x width; a model whose first layers are dense reads a
    little narrower."""
    if not model.experts:
        return 0.0
    _share, expert_params_b = routed_experts(model)
    return expert_params_b * units.PARAMS_PER_BILLION / (model.experts * model.layers * 3 * model.hidden_size)


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


def allreduce_s_per_token(model: OpenModel, gpu: Gpu, gpus: int) -> float:
    """Link time of one token's all-reduces on a tensor-parallel replica: a ring all-reduce sends and
    receives 2 (g - 1) / g of the activations per GPU, twice per layer."""
    if gpus == 1:
        return 0.0
    link = tensor_parallel_link(gpu, gpus)
    per_allreduce = 2 * (gpus - 1) / gpus * model.hidden_size * ACTIVATION_BYTES
    return ALLREDUCES_PER_LAYER * model.layers * per_allreduce / (link * units.BYTES_PER_GB)


def tensor_parallel_link(gpu: Gpu, gpus: int) -> float:
    """GB/s each way between the GPUs of a replica; a device without a link serves on one GPU only."""
    if gpu.interconnect is None:
        raise InputError("", "gpus_per_replica", f"{gpu.name} has no GPU-to-GPU link for {gpus}", "use 1")
    return gpu.interconnect.gb_per_s


@dataclass(frozen=True)
class EngineTerms:
    """The engine's share of a replica's step model."""

    overhead_s: float
    """Step overhead with the latency of the tensor-parallel all-reduces."""
    b_comm_s: float
    b_seq_s: float
    request_s: float

    @classmethod
    def of(cls, model: OpenModel, gpu: Gpu, gpus: int, serving: Serving) -> EngineTerms:
        allreduces = ALLREDUCES_PER_LAYER * model.layers if gpus > 1 else 0
        return cls(
            overhead_s=serving.step_overhead_s + allreduces * serving.allreduce_latency_s,
            b_comm_s=allreduce_s_per_token(model, gpu, gpus),
            b_seq_s=model.layers * serving.attention_per_sequence_layer_s + serving.sequence_overhead_s,
            request_s=serving.request_overhead_s,
        )


def roofline(model: OpenModel, gpu: Gpu, precision: Precision, gpus: int, serving: Serving) -> StepModel:
    """Coefficients from peak bandwidth and the GPU's matrix-product FLOP/s scaled by the engine's
    efficiencies (an estimate).

    For MoE models the shared weights are read every step and each routed expert when a token of
    the step is sent to it; compute uses active parameters.
    """
    peak = gpus * gpu.spec.memory_bandwidth_gb_per_s * units.BYTES_PER_GB
    bandwidth = peak * serving.decode_bandwidth_efficiency
    flops = gpus * gpu.matmul_tflops(precision) * units.FLOPS_PER_TFLOPS * serving.prefill_compute_efficiency
    # Causal attention: QK^T and AV, 2 FLOPs each per (query, key) pair, per head dimension and layer.
    per_pair_flops = 4 * model.layers * model.attention_heads * model.head_dim
    share, expert_params = routed_experts(model)
    # A token's FLOPs: 2 per active parameter, those of its routed experts at their own rate.
    routed_params = expert_params * share * units.PARAMS_PER_BILLION
    dense_params = model.active_params_b * units.PARAMS_PER_BILLION - routed_params
    width = expert_width(model) / gpus
    expert_flops = flops * width / (width + serving.expert_half_width) if width else flops
    per_token_s = 2 * (dense_params / flops + routed_params / expert_flops)
    bytes_per_param = units.BYTES_PER_PARAM[precision]
    kv, lone = serving.kv_cache_dtype, serving.lone_sequence_kv_efficiency
    terms = EngineTerms.of(model, gpu, gpus, serving)
    return StepModel(
        b0_s=(model.total_params_b - expert_params) * units.PARAMS_PER_BILLION * bytes_per_param / bandwidth,
        b_experts_s=expert_params * units.PARAMS_PER_BILLION * bytes_per_param / bandwidth,
        expert_share=share,
        b_prefill_s=per_token_s,
        b_attn_s=per_pair_flops / flops,
        b_decode_s=per_token_s,
        b_kv_s=kv_bytes_per_token(model, kv) / (peak * serving.kv_bandwidth_efficiency),
        b_scan_s=kv_bytes_per_token(model, kv) / (peak * lone) if lone else 0.0,
        kv_capacity_tokens=kv_capacity_tokens(model, gpu, precision, gpus, serving.usable_memory_share, kv),
        gpus_per_replica=gpus,
        source=PERF_SOURCE_ROOFLINE,
        overhead_s=terms.overhead_s,
        b_comm_s=terms.b_comm_s,
        b_seq_s=terms.b_seq_s,
        request_s=terms.request_s,
        overlap_sharpness=serving.overlap_sharpness,
    )


def measured(
    fitted: Fitted, model: OpenModel, gpu: Gpu, precision: Precision, gpus: int, serving: Serving
) -> StepModel:
    """Step times from a measured file's fit (its terms add, as fitted, and hold the engine's step costs);
    the KV cache still comes from the GPU's memory and the request overhead from the engine."""
    f = fitted.fit
    kv = serving.kv_cache_dtype
    return StepModel(
        b0_s=f.b0_s,
        b_experts_s=0.0,
        expert_share=0.0,
        b_prefill_s=f.b_prefill_s,
        b_attn_s=0.0,
        b_decode_s=f.b_decode_s,
        b_kv_s=f.b_kv_s,
        kv_capacity_tokens=kv_capacity_tokens(model, gpu, precision, gpus, serving.usable_memory_share, kv),
        gpus_per_replica=gpus,
        source=fitted.label,
        request_s=serving.request_overhead_s,
    )


def step_model(
    model: OpenModel, gpu: Gpu, precision: Precision, gpus: int, serving: Serving, fitted: Fitted | None = None
) -> StepModel:
    """One replica's step model: fitted to a measured file when one is given, else the roofline."""
    if fitted is not None:
        return measured(fitted, model, gpu, precision, gpus, serving)
    return roofline(model, gpu, precision, gpus, serving)
