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
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulator.errors import InputError
from simulator.files import read_text, write_atomic

SCHEMA_VERSION: Literal[2] = 2


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# Every figure is finite, positive where a time or a rate must be, and below what no machine reaches:
# a file whose numbers could not have been measured is refused on load and never written.
Ms = Annotated[float, Field(gt=0, le=1e10)]
PerSecond = Annotated[float, Field(gt=0, le=1e12)]
Tokens = Annotated[float, Field(ge=0, le=1e8)]
Count = Annotated[int, Field(ge=1, le=10_000_000)]


class GpuInfo(_Record):
    name: str
    memory_gb: float = Field(ge=0, le=1e6)
    driver: str | None = None


class Hardware(_Record):
    cpu_model: str
    cpu_cores: int = Field(ge=0, le=100_000)
    memory_gb: float = Field(ge=0, le=1e9)
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
    parameters: float | None = Field(default=None, gt=0, le=1e14)
    file_sha256: str | None = None
    proxy: bool = False
    """Random weights of the real shape: speed matches, outputs are meaningless."""


class Point(_Record):
    """One sweep point: a batch of parallel sequences (in-process) or a concurrency or rate (server)."""

    batch: Count | None = None
    concurrency: Count | None = None
    rate_rps: PerSecond | None = None
    prompt_tokens: Tokens = Field(gt=0)
    """Every point sends a prompt: its tokens on average."""
    gen_tokens: Tokens
    prefill_tok_per_s: PerSecond | None = None
    decode_tok_per_s: PerSecond | None = None
    """Output tokens per second summed over the batch."""
    decode_step_ms: Ms | None = None
    """Median time of one decode step of the whole batch."""
    ttft_p50_ms: Ms | None = None
    ttft_p90_ms: Ms | None = None
    ttft_p95_ms: Ms | None = None
    ttft_p99_ms: Ms | None = None
    tpot_p50_ms: Ms | None = None
    tpot_p90_ms: Ms | None = None
    tpot_p95_ms: Ms | None = None
    tpot_p99_ms: Ms | None = None
    itl_p50_ms: Ms | None = None
    itl_p90_ms: Ms | None = None
    itl_p99_ms: Ms | None = None
    e2e_p50_ms: Ms | None = None
    e2e_p90_ms: Ms | None = None
    e2e_p95_ms: Ms | None = None
    e2e_p99_ms: Ms | None = None
    output_tok_per_s: PerSecond | None = None
    total_tok_per_s: PerSecond | None = None
    errors: int = Field(default=0, ge=0, le=10_000_000)
    samples: dict[str, list[Annotated[float, Field(ge=0, le=1e12)]]] = {}
    """Raw samples behind the medians and percentiles, by name and unit."""
    other_cpu_share: float | None = Field(default=None, ge=0, le=1)
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
    except RecursionError:
        raise InputError(str(path), "", "nested too deeply to be a measured file", "re-run the probe") from None
    try:
        return Measured.model_validate(upgraded(data))
    except ValidationError as e:
        raise invalid(str(path), e, f"a measured file of schema_version {SCHEMA_VERSION}") from None


def invalid(source: str, error: ValidationError, fix: str) -> InputError:
    """The first of a validation error's problems as one line, with the input it refused."""
    first = error.errors(include_url=False)[0]
    where = ".".join(str(x) for x in first["loc"])
    got = f", got {first['input']!r}" if not isinstance(first.get("input"), dict | list) else ""
    return InputError(source, where, f"{first['msg']}{got}", fix)


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
