"""Step-time coefficients fitted to a measured file, and the file set against its device's roofline.

`load_fitted` is how a scenario or a capacity run gets a file's fit: read, checked against the
option's model and device, and fitted once per file version in a process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from simulator import catalog, units
from simulator.errors import InputError
from simulator.perf.measured import Measured, load

CONTEXT_SPREAD_TO_FIT_KV = 0.25  # contexts must differ by a quarter of their mean to separate b_kv
# Sweeps that drive llama.cpp's batches directly (its lone-sequence path is a different kernel).
IN_PROCESS_LLAMA_CPP = ("llamacpp", "llama-batched-bench")


class Fit(BaseModel):
    """Step-time coefficients fitted to a measured file, and how well they reproduce it."""

    b0_s: float
    b_prefill_s: float
    b_decode_s: float
    b_kv_s: float
    residuals_ms: list[float]
    """Measured minus fitted step time at every decode point, in file order."""
    max_relative_error: float
    """Largest |residual| / measured over the points the fit used."""
    points_used: int
    left_out: list[int]
    """Batch sizes shown but not fitted (llama.cpp's single-sequence path; see `fit`)."""


def decode_points(measured: Measured) -> list[tuple[int, float, float]]:
    """(sequences decoded together, step time in ms, mean context in tokens) of each point with a decode step."""
    points = []
    for p in measured.points:
        batch = p.batch or p.concurrency
        step_ms = p.decode_step_ms if p.decode_step_ms is not None else p.tpot_p50_ms
        if batch and step_ms:
            points.append((batch, step_ms, p.prompt_tokens + p.gen_tokens / 2))
    return points


def fit(measured: Measured) -> Fit:
    """Least-squares fit of t_step = b0 + (b_decode + b_kv * context) * batch to decode steps.

    In-process sweeps give the decode step time at each batch size directly; server sweeps give
    TPOT at each concurrency, which is the step time of a batch that size. With one context length
    `b_kv * context` cannot be told apart from `b_decode`, so `b_kv` is 0 and `b_decode` carries it.
    The prefill coefficient is the measured prefill time per prompt token beyond `b0`.

    llama.cpp runs a lone sequence through matrix-vector kernels that are faster per token than its
    batched path, so for its batch sweeps (the probe's own, llama-batched-bench) with at least two
    larger batches the batch-1 point is shown but not fitted; the simulator then treats a lone
    request at the batched pace (slower, so on the safe side). A prefill timed cold is not fitted.
    """
    rows, times = [], []
    for batch, step_ms, context in decode_points(measured):
        rows.append((1.0, batch, batch * context))
        times.append(units.ms_to_seconds(step_ms))
    if len(rows) < 2:
        raise InputError("", "points", f"{len(rows)} decode point(s) to fit", "sweep at least two batch sizes")
    a_all, y_all = np.array(rows), np.array(times)
    batched = a_all[:, 1] >= 2
    in_process = measured.kind in IN_PROCESS_LLAMA_CPP
    use = batched if in_process and batched.sum() >= 2 else np.ones(len(rows), dtype=bool)
    a, y = a_all[use], y_all[use]
    contexts = a[:, 2] / a[:, 1]
    b_kv = 0.0
    if np.ptp(contexts) > CONTEXT_SPREAD_TO_FIT_KV * contexts.mean():
        coef, *_ = np.linalg.lstsq(a, y, rcond=None)
        b0, b_decode, b_kv = (float(x) for x in coef)
    if b_kv <= 0:  # one context length (or too little spread to tell): b_decode carries the KV reads
        coef, *_ = np.linalg.lstsq(a[:, :2], y, rcond=None)
        b0, b_decode, b_kv = float(coef[0]), float(coef[1]), 0.0
    b0 = max(b0, 0.0)
    predicted = b0 + a_all[:, 1] * b_decode + a_all[:, 2] * b_kv
    # Prefill seconds per prompt token beyond b0: from prefill speeds, else from a lone request's TTFT.
    per_token = [
        1 / p.prefill_tok_per_s - b0 / p.prompt_tokens
        for p in measured.points
        if p.prefill_tok_per_s and not p.cold_start
    ] or [
        (units.ms_to_seconds(p.ttft_p50_ms) - b0) / p.prompt_tokens
        for p in measured.points
        if p.ttft_p50_ms and (p.concurrency or p.batch) == 1
    ]
    b_prefill = max(float(np.median(per_token)), 0.0) if per_token else 0.0
    residuals = y_all - predicted
    return Fit(
        b0_s=b0,
        b_prefill_s=b_prefill,
        b_decode_s=b_decode,
        b_kv_s=b_kv,
        residuals_ms=[units.seconds_to_ms(float(x)) for x in residuals],
        max_relative_error=float(np.max(np.abs(residuals[use]) / y_all[use])),
        points_used=int(use.sum()),
        left_out=[int(b) for b in a_all[~use, 1]],
    )


class RooflineCheck(BaseModel):
    """A measured file against the peak memory bandwidth and FLOP/s of the device it ran on."""

    device: str
    gpus: int
    weight_gb: float
    weights_read_s: float
    """Reading every weight once at peak bandwidth: the fastest a decode step can be."""
    token_compute_s: float
    """Two FLOPs per parameter for one token at peak FLOP/s."""
    decode_bandwidth_efficiency: float
    """Weight-read time at peak over the measured step of the smallest batch: the share of peak bandwidth reached."""
    prefill_compute_efficiency: float | None
    """Compute time at peak over the fitted prefill time per token: the share of peak FLOP/s reached."""

    def step_ms(self, batch: float) -> float:
        """The roofline: a decode step is bound by reading the weights or by the batch's FLOPs."""
        return units.seconds_to_ms(max(self.weights_read_s, batch * self.token_compute_s))


def recognised_device(measured: Measured) -> catalog.Gpu | None:
    """The catalogue device the file's fingerprint names: its GPU by NVML name, or a CPU class by cores."""
    return catalog.device_for([g.name for g in measured.hardware.gpus], measured.hardware.cpu_cores)


def load_for(path: str | Path, model: str, device: str) -> Measured:
    """A measured file that may stand for `model` on the catalogue `device`: one that names another
    catalogue model, or ran on another recognised device, is refused (files that name neither pass)."""
    measured = load(path)
    named, ran_on = measured.model.catalogue_name, recognised_device(measured)
    fix = "measure this model on this device, or leave the file out for the roofline"
    if named is not None and named != model:
        raise InputError(str(path), "", f"it measured {named}, not {model}", fix)
    if ran_on is not None and ran_on.name != device:
        raise InputError(str(path), "", f"it ran on {ran_on.name}, not {device}", fix)
    return measured


def against_roofline(measured: Measured, fitted: Fit, device: catalog.Gpu | None = None) -> RooflineCheck | None:
    """How close the measurements come to the device's roofline; None when the device or format is unknown.

    The device is `device`, or else the recognised one; every GPU in the fingerprint counts.
    """
    device = device or recognised_device(measured)
    per_param = units.bytes_per_param(measured.model.precision)
    if device is None or per_param is None or not measured.model.parameters:
        return None
    gpus = max(1, len(measured.hardware.gpus))
    params = measured.model.parameters
    bandwidth = gpus * device.spec.memory_bandwidth_gb_per_s * units.BYTES_PER_GB
    precision = measured.model.precision if measured.model.precision in units.BYTES_PER_PARAM else "fp16"
    flops = gpus * device.compute_tflops(precision) * units.FLOPS_PER_TFLOPS  # type: ignore[arg-type]
    weight_bytes = params * per_param
    read_s, token_s = weight_bytes / bandwidth, 2 * params / flops
    _, smallest_ms, _ = min(decode_points(measured))
    return RooflineCheck(
        device=device.name,
        gpus=gpus,
        weight_gb=weight_bytes / units.BYTES_PER_GB,
        weights_read_s=read_s,
        token_compute_s=token_s,
        decode_bandwidth_efficiency=read_s / units.ms_to_seconds(smallest_ms),
        prefill_compute_efficiency=token_s / fitted.b_prefill_s if fitted.b_prefill_s > 0 else None,
    )


@dataclass(frozen=True)
class Fitted:
    """A measured file's fit, with the words that say where it came from."""

    fit: Fit
    label: str


def load_fitted(path: str | Path, model: str, device: str) -> Fitted:
    """The fit of the measured file at `path` for `model` on `device`; read and fitted once per file version."""
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError:
        stat = None  # `load` names the file and the fix
    return _load_fitted(resolved, (stat.st_mtime_ns, stat.st_size) if stat else None, model, device)


@functools.lru_cache(maxsize=64)
def _load_fitted(path: Path, version: tuple[int, int] | None, model: str, device: str) -> Fitted:
    measured = load_for(path, model, device)
    proxy = ", random-weight proxy" if measured.model.proxy else ""
    label = (
        f"measured: {path.name} ({measured.backend.name} {measured.backend.version}, {measured.model.precision}{proxy})"
    )
    return Fitted(fit(measured), label)
