"""Bundled, dated catalogues: GPUs, open-weight models, owner-cost defaults and API quality.

Every number carries `source` and `as_of`. The files are validated once, on first use.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from itertools import pairwise
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, TypeAdapter, model_validator

from simulator.catalog.base import Data, read
from simulator.catalog.engines import EngineCosts as EngineCosts
from simulator.catalog.engines import EngineName as EngineName
from simulator.catalog.engines import EngineProfile as EngineProfile
from simulator.catalog.engines import engine as engine
from simulator.catalog.engines import engine_fit as engine_fit
from simulator.catalog.engines import engines as engines
from simulator.errors import InputError, suggest

RentalTier = Literal["on_demand", "reserved_1y", "reserved_3y", "spot"]
Precision = Literal["fp16", "bf16", "fp8", "int8", "int4"]


class Sourced(Data):
    value: float
    source: str
    as_of: dt.date


class GpuSpec(Data):
    memory_gib: float = Field(gt=0)
    """Device memory: the vendors' "80 GB" of HBM are binary gigabytes (NVML reports 79.6 GiB of an H100's)."""
    memory_bandwidth_gb_per_s: float = Field(gt=0)
    dense_tflops: dict[str, float] = Field(description="Dense tensor TFLOP/s by precision (fp16, fp8, int8).")
    tdp_w: float = Field(gt=0)
    source: str
    as_of: dt.date


class Interconnect(Data):
    kind: str
    gb_per_s: float = Field(gt=0)
    """Bandwidth to the other GPUs of a node, each way (datasheets quote both directions summed)."""
    source: str
    as_of: dt.date


class MatmulTflops(Data):
    """The most TFLOP/s a large matrix product reaches on the GPU, by precision (fp16, fp8, int8): what
    a step's FLOPs run at before the engine's share. Datasheet peaks assume clocks no kernel holds."""

    tflops: dict[str, float]
    source: str
    as_of: dt.date


class Gpu(Data):
    name: str
    display_name: str
    nvml_names: list[str] = Field(default_factory=list)
    """Names NVML (nvidia-smi) reports for this GPU: how a measured file's hardware is recognised."""
    cpu_cores: int | None = None
    """CPU classes only: the cores a machine of this class has."""
    spec: GpuSpec
    matmul: MatmulTflops
    interconnect: Interconnect | None = None
    idle_w: Sourced
    purchase_usd: Sourced | None = None
    rental_usd_per_gpu_hour: dict[RentalTier, Sourced]

    def compute_tflops(self, precision: Precision) -> float:
        """The datasheet's dense TFLOP/s for matrix work at `precision`; weight-only formats compute in fp16."""
        return _by_precision(self.spec.dense_tflops, precision)

    def matmul_tflops(self, precision: Precision) -> float:
        """The TFLOP/s a matrix product reaches at `precision` (`matmul`), as `compute_tflops` picks its figure."""
        return _by_precision(self.matmul.tflops, precision)


def _by_precision(tflops: dict[str, float], precision: Precision) -> float:
    key = {"bf16": "fp16", "int4": "fp16"}.get(precision, precision)
    return tflops.get(key, tflops["fp16"])


class Quality(Data):
    benchmark: str
    score: float
    source: str
    as_of: dt.date


class OpenModel(Data):
    name: str
    display_name: str
    family: str
    variant: Literal["base", "instruct", "reasoning", "domain-fine-tune"]
    total_params_b: float = Field(gt=0)
    active_params_b: float = Field(gt=0)
    layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    attention_heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    kv_elements_per_token_layer: int | None = None
    ffn_hidden_size: int | None = None
    vocab_size: int | None = None
    experts: int | None = None
    experts_per_token: int | None = None
    context_tokens: int = Field(gt=0)
    licence: str
    source: str
    as_of: dt.date
    quality: Quality | None = None

    @property
    def kv_elements_per_token(self) -> int:
        """Cached K and V elements per token, over all layers."""
        per_layer = self.kv_elements_per_token_layer or 2 * self.kv_heads * self.head_dim
        return per_layer * self.layers


class ApiQuality(Quality):
    provider: str
    model: str


@cache
def gpus() -> dict[str, Gpu]:
    return {g.name: g for g in TypeAdapter(list[Gpu]).validate_python(read("gpus.yaml"))}


@cache
def models() -> dict[str, OpenModel]:
    return {m.name: m for m in TypeAdapter(list[OpenModel]).validate_python(read("models.yaml"))}


@cache
def owner_defaults() -> dict[str, Sourced]:
    return TypeAdapter(dict[str, Sourced]).validate_python(read("owner_defaults.yaml"))


@cache
def api_quality() -> dict[tuple[str, str], ApiQuality]:
    entries = TypeAdapter(list[ApiQuality]).validate_python(read("api_quality.yaml"))
    return {(q.provider, q.model): q for q in entries}


def gpu(name: str, field: str = "gpu") -> Gpu:
    try:
        return gpus()[name]
    except KeyError:
        raise InputError("", field, f"unknown GPU {name!r}", suggest(name, gpus())) from None


def device_for(gpu_names: list[str], cpu_cores: int) -> Gpu | None:
    """The catalogue device a measured machine is: its first GPU by NVML name, or a CPU class by cores."""
    for g in gpus().values():
        if gpu_names and gpu_names[0] in g.nvml_names:
            return g
        if not gpu_names and g.cpu_cores == cpu_cores:
            return g
    return None


def model(name: str, field: str = "model") -> OpenModel:
    try:
        return models()[name]
    except KeyError:
        raise InputError("", field, f"unknown model {name!r}", suggest(name, models())) from None


class LatencyPreset(Data):
    ttft_ms: float
    tpot_ms: float
    e2e_ms: float
    source: str
    as_of: dt.date


class DailyProfile(Data):
    weights: list[float] = Field(min_length=24, max_length=24)
    source: str
    as_of: dt.date


@cache
def latency_presets() -> dict[str, LatencyPreset]:
    return TypeAdapter(dict[str, LatencyPreset]).validate_python(read("latency_presets.yaml"))


@cache
def daily_profiles() -> dict[str, DailyProfile]:
    return TypeAdapter(dict[str, DailyProfile]).validate_python(read("daily_profiles.yaml"))


Site = Literal["own_premises", "colocation", "cloud_gpu"]


class Fact(Data):
    """A published term; `value` None means not published or not verified."""

    value: bool | int | list[str] | None
    source: str
    as_of: dt.date


class ApiTerms(Data):
    name: str
    display_name: str
    genai_prices_provider: str | None
    retention_days: Fact
    zero_retention_available: Fact
    trains_on_api_data_by_default: Fact
    regions: Fact
    residency_options: Fact
    hipaa_baa: Fact
    gdpr_dpa: Fact
    soc2: Fact
    iso27001: Fact
    deprecation_notice_days: Fact


class SiteTerms(Data):
    leaves_boundary: bool
    operated_by: str
    source: str
    as_of: dt.date


class DefaultWeights(Data):
    source: str
    as_of: dt.date
    values: dict[str, float]


class Terms(Data):
    apis: list[ApiTerms]
    sites: dict[Site, SiteTerms]
    default_weights: DefaultWeights

    def api(self, name: str) -> ApiTerms | None:
        return next((t for t in self.apis if t.name == name), None)

    def for_provider(self, provider_id: str) -> ApiTerms | None:
        return next((t for t in self.apis if t.genai_prices_provider == provider_id), None)


@cache
def terms() -> Terms:
    return Terms.model_validate(read("provider_terms.yaml"))


class ApiLatencySpread(Data):
    """How much one request's latency strays from the median: the sd of its logarithm (lognormal)."""

    ttft_sd_log: float = Field(gt=0, le=3)
    tpot_sd_log: float = Field(gt=0, le=3)
    source: str
    as_of: dt.date


class ApiLatency(Data):
    ttft_ms: float = Field(gt=0)
    """Median time to first token."""
    output_tok_per_s: float = Field(gt=0)
    """Median output speed of one request."""
    source: str
    as_of: dt.date
    spread: ApiLatencySpread | None = None
    """The model's own published spread; the table's default where none is published."""


class ApiLatencyEntry(ApiLatency):
    provider: str
    model: str


class ApiLatencyTable(Data):
    default: ApiLatency
    spread: ApiLatencySpread
    models: list[ApiLatencyEntry]


@cache
def api_latency_table() -> ApiLatencyTable:
    return ApiLatencyTable.model_validate(read("api_latency.yaml"))


@cache
def api_latency(provider: str, model: str) -> ApiLatency:
    """Published latency of an API model (by exact name, else the longest listed prefix), else the
    default; its spread is always set, from the table's where the model has none of its own."""
    table = api_latency_table()
    matches = [m for m in table.models if m.provider == provider and model.startswith(m.model)]
    found = max(matches, key=lambda m: len(m.model), default=table.default)
    return found if found.spread is not None else found.model_copy(update={"spread": table.spread})


class CalibrationLoad(Data):
    """How a published run loaded its server: all requests at once, a rate, clients, or a static batch."""

    offline: bool = False
    rate_rps: float | None = Field(default=None, gt=0)
    concurrency: int | None = Field(default=None, ge=1)
    max_batch: int | None = Field(default=None, ge=1)
    num_prompts: int | None = Field(default=None, ge=1)


Split = Literal["fit", "validate", "apart"]


class ReleaseGeneration(Data):
    """Releases of an engine that ran another runtime than its profile's current one (its own scheduler and
    attention kernels): their runs pay host and cache-read costs fitted beside the profile's, which no
    estimate uses."""

    engine: EngineName
    releases: str
    cache_read_per_query_head: bool = False
    """Its decode kernel gives each query head a thread block of its own, with no grouped-query kernel: a model
    whose query heads share a cached head reads that head once for each of them."""
    source: str
    as_of: dt.date


class CalibrationPoint(Data):
    """One published serving measurement, with where it was read."""

    id: str
    engine: Literal["vllm", "sglang", "tensorrt-llm", "llama.cpp", "nim"]
    engine_version: str | None = None
    generation: str | None = None
    """The set's `generations` entry its release belongs to; none for the runtime its engine's profile is."""
    gpu: str
    gpus: int = Field(ge=1)
    """GPUs of the whole configuration (replicas times tensor-parallel size)."""
    tensor_parallel: int | None = Field(default=None, ge=1)
    parallelism: str | None = None
    """A layout other than tensor parallelism (attention data parallel with expert parallel: DEP8)."""
    model: str
    catalogue_model: str | None = None
    precision: Literal["fp16", "bf16", "fp8", "fp4"]
    kv_cache_dtype: str | None = None
    input_tokens: int | None = Field(default=None, ge=1)
    output_tokens: int | None = Field(default=None, ge=1)
    """Fixed lengths of a synthetic run; none for a run on a dataset of varying lengths (`dataset`)."""
    dataset: str | None = None
    """The set's `datasets` entry whose lengths a run without fixed lengths drew its requests from."""
    input_tokens_mean: float | None = Field(default=None, gt=0)
    output_tokens_mean: float | None = Field(default=None, gt=0)
    """A dataset run's own mean lengths (its printed totals over its requests): the dataset's shapes are
    stretched to them, as a sample of a few hundred requests strays from the whole set's means."""
    prompts_cached: bool = False
    """The server held the run's prompts in its prefix cache already (an earlier run of the same prompts on a
    server with prefix caching on): each prompt's whole cache blocks are read, not computed."""
    load: CalibrationLoad
    output_tok_per_s: float | None = Field(default=None, gt=0)
    ttft_p50_ms: float | None = Field(default=None, gt=0)
    tpot_p50_ms: float | None = Field(default=None, gt=0)
    itl_p50_ms: float | None = Field(default=None, gt=0)
    ttft_mean_ms: float | None = Field(default=None, gt=0)
    """Where a source publishes means instead of medians (GenAI-Perf)."""
    itl_mean_ms: float | None = Field(default=None, gt=0)
    ttft_p90_ms: float | None = Field(default=None, gt=0)
    ttft_p99_ms: float | None = Field(default=None, gt=0)
    tpot_p90_ms: float | None = Field(default=None, gt=0)
    tpot_p99_ms: float | None = Field(default=None, gt=0)
    other_metrics: dict[str, float | str] | None = None
    streamed: bool = True
    """Tokens went out through a server that detokenises and streams them; false for benchmark tools
    that return token ids (trtllm-bench, gptSessionBenchmark), whose sequences cost no such host work."""
    source: str
    as_of: dt.date
    as_of_note: str | None = None
    quote: str
    notes: str | None = None
    split: Split
    """Fit points may tune the step-time model; validate points only judge it; points held apart neither tune
    it nor count toward its targets: runs their own source contradicts (`notes` say how), judged on rows of
    their own."""


class TokenQuantiles(Data):
    """A length distribution by its published quantiles: `tokens[i]` at cumulative share `shares[i]`
    (from 0 to 1), linear in between."""

    kind: Literal["quantiles"]
    shares: list[float] = Field(min_length=2)
    tokens: list[float] = Field(min_length=2)

    @model_validator(mode="after")
    def _increasing(self) -> TokenQuantiles:
        if len(self.shares) != len(self.tokens):
            raise ValueError("shares and tokens must pair up")
        if self.shares[0] != 0 or self.shares[-1] != 1 or any(b <= a for a, b in pairwise(self.shares)):
            raise ValueError("shares must rise from 0 to 1")
        if self.tokens[0] < 1 or any(b < a for a, b in pairwise(self.tokens)):
            raise ValueError("tokens must be at least 1 and never fall")
        return self

    def mean(self) -> float:
        """The mean of the piecewise-uniform distribution the quantiles describe."""
        return sum((b - a) * (x + y) / 2 for (a, x), (b, y) in pairwise(zip(self.shares, self.tokens, strict=True)))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.interp(u, self.shares, self.tokens)

    def stretched(self, mean: float) -> TokenQuantiles:
        """The same shape at another mean."""
        factor = mean / self.mean()
        return self.model_copy(update={"tokens": [max(1.0, t * factor) for t in self.tokens]})


class TokenExponential(Data):
    """Where a source gives only a mean: the distribution of most entropy with that mean above a minimum,
    the minimum plus an exponential (no shape assumed beyond the mean)."""

    kind: Literal["exponential"]
    mean_tokens: float = Field(gt=1)
    min_tokens: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _above_minimum(self) -> TokenExponential:
        if self.mean_tokens <= self.min_tokens:
            raise ValueError("mean_tokens must be above min_tokens")
        return self

    def mean(self) -> float:
        return self.mean_tokens

    def quantile(self, u: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):  # unbounded: the quantile at 1 is infinite
            return self.min_tokens - (self.mean_tokens - self.min_tokens) * np.log1p(-u)

    def stretched(self, mean: float) -> TokenExponential:
        """The same minimum at another mean."""
        return self.model_copy(update={"mean_tokens": mean})


TokenLengths = Annotated[TokenQuantiles | TokenExponential, Field(discriminator="kind")]


class CalibrationDataset(Data):
    """The lengths of the requests a benchmark draws from a dataset, as its sampler keeps them."""

    input: TokenLengths
    output: TokenLengths
    max_total_tokens: int | None = Field(default=None, ge=2)
    """The sampler drops a request whose prompt and output are longer together."""
    source: str
    as_of: dt.date
    quote: str
    notes: str | None = None

    def stretched(self, input_mean: float | None, output_mean: float | None) -> CalibrationDataset:
        """The lengths at a run's own means, where it gives them."""
        return self.model_copy(
            update={
                "input": self.input.stretched(input_mean) if input_mean else self.input,
                "output": self.output.stretched(output_mean) if output_mean else self.output,
            }
        )

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """`n` (prompt, output) lengths, independent draws from the two distributions, a pair the sampler
        would drop drawn again."""
        prompt, output = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        left = np.arange(n)
        while len(left):
            u = rng.random((2, len(left)))
            prompt[left] = np.rint(self.input.quantile(u[0]))
            output[left] = np.rint(self.output.quantile(u[1]))
            total = prompt[left] + output[left]
            left = left[total > self.max_total_tokens] if self.max_total_tokens else left[:0]
        return prompt, output


class CalibrationSet(Data):
    version: Literal[12]
    generations: dict[str, ReleaseGeneration] = Field(default_factory=dict)
    datasets: dict[str, CalibrationDataset] = Field(default_factory=dict)
    points: list[CalibrationPoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_known(self) -> CalibrationSet:
        for p in self.points:
            if p.dataset is not None and p.dataset not in self.datasets:
                raise ValueError(f"{p.id}: unknown dataset {p.dataset!r}; add it under datasets")
            if p.generation is not None and p.generation not in self.generations:
                raise ValueError(f"{p.id}: unknown generation {p.generation!r}; add it under generations")
        return self


@cache
def calibration() -> CalibrationSet:
    """Published serving measurements the step-time model is fitted on (half) and judged against (the rest)."""
    return CalibrationSet.model_validate(read("calibration.yaml"))
