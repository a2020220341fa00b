"""The measured format: one JSON file per probe run, versioned, written atomically.

A file holds where it was measured (hardware fingerprint), with what (backend and version), on which
model (name, shape, precision, file hash, and whether the weights were a random-weight proxy of the
real shape), the sweep points with their percentiles and raw samples, and the noise seen while
measuring. perf owns the format; the probe and the importers write it, `perf.fit` reads it.

Version 2 names percentiles as every other result does (`ttft_p50_ms`); version 1 files
(`ttft_ms_p50`) are read and upgraded on load.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulator.errors import InputError
from simulator.files import read_text, write_atomic

SCHEMA_VERSION: Literal[2] = 2


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GpuInfo(_Record):
    name: str
    memory_gb: float
    driver: str | None = None


class Hardware(_Record):
    cpu_model: str
    cpu_cores: int
    memory_gb: float
    gpus: list[GpuInfo] = []
    platform: str

    def machine(self) -> str:
        """The machine in words: its GPUs, else its CPU."""
        return f"{len(self.gpus)} x {self.gpus[0].name}" if self.gpus else self.cpu_model


class Backend(_Record):
    name: str
    version: str


class ModelInfo(_Record):
    name: str
    catalogue_name: str | None = None
    """The catalogue model whose shape this is, when there is one."""
    precision: str
    parameters: float | None = None
    file_sha256: str | None = None
    proxy: bool = False
    """Random weights of the real shape: speed matches, outputs are meaningless."""


class Point(_Record):
    """One sweep point: a batch of parallel sequences (in-process) or a concurrency or rate (server)."""

    batch: int | None = None
    concurrency: int | None = None
    rate_rps: float | None = None
    prompt_tokens: float
    gen_tokens: float
    prefill_tok_per_s: float | None = None
    decode_tok_per_s: float | None = None
    """Output tokens per second summed over the batch."""
    decode_step_ms: float | None = None
    """Median time of one decode step of the whole batch."""
    ttft_p50_ms: float | None = None
    ttft_p90_ms: float | None = None
    ttft_p95_ms: float | None = None
    ttft_p99_ms: float | None = None
    tpot_p50_ms: float | None = None
    tpot_p90_ms: float | None = None
    tpot_p95_ms: float | None = None
    tpot_p99_ms: float | None = None
    itl_p50_ms: float | None = None
    itl_p90_ms: float | None = None
    itl_p99_ms: float | None = None
    e2e_p50_ms: float | None = None
    e2e_p90_ms: float | None = None
    e2e_p95_ms: float | None = None
    e2e_p99_ms: float | None = None
    output_tok_per_s: float | None = None
    total_tok_per_s: float | None = None
    errors: int = 0
    samples: dict[str, list[float]] = {}
    """Raw samples behind the medians and percentiles, by name and unit."""
    other_cpu_share: float | None = None
    noisy: bool = False
    cold_start: bool = False
    """The prefill time includes the device's first run (kernels loaded, caches cold): shown, not fitted."""


class Measured(_Record):
    schema_version: Literal[2] = SCHEMA_VERSION
    kind: Literal["llamacpp", "openai", "llama-bench", "llama-batched-bench", "vllm-bench-serve", "guidellm"]
    created: dt.datetime
    hardware: Hardware
    backend: Backend
    model: ModelInfo
    settings: dict[str, float | int | str | bool | None] = {}
    points: list[Point] = Field(min_length=1)
    partial: bool = False
    """A fault stopped the sweep; the points before it are kept."""
    fault: str | None = None


def json_schema() -> dict[str, object]:
    schema = Measured.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"rent-or-own measured file, schema_version {SCHEMA_VERSION}"
    return schema


def save(measured: Measured, path: Path) -> None:
    write_atomic(path, measured.model_dump_json(indent=2, exclude_none=True) + "\n")


def load(path: str | Path) -> Measured:
    path = Path(path)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise InputError(str(path), f"line {e.lineno}", f"not JSON: {e.msg}", "re-run the probe") from None
    try:
        return Measured.model_validate(upgraded(data))
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        raise InputError(
            str(path), where, first["msg"], f"a measured file of schema_version {SCHEMA_VERSION}"
        ) from None


# Version 1 spelled percentiles metric-unit-percentile; version 2 metric-percentile-unit.
_V1_PERCENTILES = {
    f"{metric}_ms_p{p}": f"{metric}_p{p}_ms" for metric in ("ttft", "tpot", "itl", "e2e") for p in (50, 90, 95, 99)
}


def upgraded(data: Any) -> Any:
    """A version 1 file's data as version 2 (percentile names); anything else as it is."""
    if not isinstance(data, dict) or data.get("schema_version") != 1 or not isinstance(data.get("points"), list):
        return data
    points = [
        {_V1_PERCENTILES.get(k, k): v for k, v in p.items()} if isinstance(p, dict) else p for p in data["points"]
    ]
    return {**data, "schema_version": SCHEMA_VERSION, "points": points}
