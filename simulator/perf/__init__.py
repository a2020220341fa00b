"""Step-time model of a continuous-batching server, from a roofline of the GPU and model shape.

    t_step(b) = max(bytes moved / (GPUs x bandwidth x efficiency), FLOPs / (GPUs x FLOP/s x efficiency))

Decode reads the weights once a step (for MoE, the experts the batch touches) and each sequence's
KV cache; prefill is FLOP-bound. The efficiencies are estimates and every result says so
(`perf_source`); measured step times replace them when a probe file is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import catalog, units
from simulator.catalog import Gpu, OpenModel, Precision

PERF_SOURCE_ROOFLINE = "roofline-estimate"
POWERS_OF_TWO_PER_NODE = (1, 2, 4, 8)
KV_BYTES = {"fp8": 1.0}  # KV cache is fp16 unless the model is served in fp8
KV_BYTES_DEFAULT = 2.0


@dataclass(frozen=True)
class ReplicaPerf:
    model: OpenModel
    gpu: Gpu
    precision: Precision
    gpus_per_replica: int
    decode_bandwidth_efficiency: float
    prefill_compute_efficiency: float
    usable_memory_share: float

    @property
    def weight_bytes(self) -> float:
        return self.model.total_params_b * units.PARAMS_PER_BILLION * units.BYTES_PER_PARAM[self.precision]

    @property
    def kv_bytes_per_token(self) -> float:
        return self.model.kv_elements_per_token * KV_BYTES.get(self.precision, KV_BYTES_DEFAULT)

    @property
    def kv_capacity_tokens(self) -> float:
        usable = self.gpus_per_replica * self.gpu.spec.memory_gb * units.BYTES_PER_GB * self.usable_memory_share
        return max(usable - self.weight_bytes, 0.0) / self.kv_bytes_per_token

    @property
    def _bandwidth_bytes_per_s(self) -> float:
        bw = self.gpu.spec.memory_bandwidth_gb_per_s * units.BYTES_PER_GB
        return self.gpus_per_replica * bw * self.decode_bandwidth_efficiency

    @property
    def _flops_per_s(self) -> float:
        peak = self.gpu.compute_tflops(self.precision) * units.FLOPS_PER_TFLOPS
        return self.gpus_per_replica * peak * self.prefill_compute_efficiency

    def weight_bytes_touched(self, batch: np.ndarray) -> np.ndarray:
        """Weight bytes one decode step reads: all of a dense model; for MoE, the experts hit."""
        m = self.model
        if not m.experts or not m.experts_per_token:
            return np.full_like(batch, self.weight_bytes, dtype=float)
        share = m.experts_per_token / m.experts
        expert_params = (m.total_params_b - m.active_params_b) / (1 - share)
        shared_params = m.total_params_b - expert_params
        touched = 1 - (1 - share) ** batch
        params = (shared_params + expert_params * touched) * units.PARAMS_PER_BILLION
        return params * units.BYTES_PER_PARAM[self.precision]

    def decode_step_s(self, batch: np.ndarray, context_tokens: float) -> np.ndarray:
        """Seconds for one decode step of `batch` sequences of `context_tokens` average context."""
        batch = np.asarray(batch, dtype=float)
        bytes_moved = self.weight_bytes_touched(batch) + batch * context_tokens * self.kv_bytes_per_token
        flops = 2 * self.model.active_params_b * units.PARAMS_PER_BILLION * batch
        return np.maximum(bytes_moved / self._bandwidth_bytes_per_s, flops / self._flops_per_s)

    def prefill_s(self, mean_tokens: float, mean_sq_tokens: float) -> float:
        """Expected prefill seconds for prompts with these first and second moments.

        Linear layers cost 2 FLOPs per active parameter per token; causal attention adds
        2 x layers x n^2 x heads x head_dim (scores and values, half the square).
        """
        m = self.model
        linear = 2 * m.active_params_b * units.PARAMS_PER_BILLION * mean_tokens
        attention = 2 * m.layers * mean_sq_tokens * m.attention_heads * m.head_dim
        return (linear + attention) / self._flops_per_s


def fits(
    model: OpenModel, gpu: Gpu, precision: Precision, gpus: int, usable_memory_share: float, context_tokens: float
) -> bool:
    perf = ReplicaPerf(model, gpu, precision, gpus, 1.0, 1.0, usable_memory_share)
    return perf.kv_capacity_tokens >= context_tokens


def default_efficiency(name: str, value: float | None) -> float:
    return value if value is not None else catalog.owner_defaults()[name].value
