"""The scenario: one strict pydantic model per YAML section, and `load_scenario`, the only way in.

Units live in field names. Catalogue references (GPUs, open models, API models) are checked
after the schema, so that a typo gets a 'did you mean' instead of a silent default.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simulator import catalog
from simulator.catalog import Precision, RentalTier, Site
from simulator.errors import InputError, suggest
from simulator.files import read_text

Sensitivity = Literal["public", "internal", "confidential", "regulated"]
SENSITIVITY_LEVELS: tuple[Sensitivity, ...] = ("public", "internal", "confidential", "regulated")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


# --- token-length distributions ---------------------------------------------------------------


class FixedTokens(_Section):
    kind: Literal["fixed"] = Field(
        default="fixed", description="Every request has the same length.", examples=["fixed"]
    )
    tokens: int = Field(gt=0, description="Every request has exactly this many tokens.", examples=[512])

    def scaled(self, factor: float) -> FixedTokens:
        """Lengths `factor` times as long, in whole tokens."""
        return self.model_copy(update={"tokens": max(1, round(self.tokens * factor))})


class LognormalTokens(_Section):
    kind: Literal["lognormal"] = Field(
        default="lognormal", description="Lognormal lengths given by mean and p95.", examples=["lognormal"]
    )
    mean: float = Field(gt=0, description="Mean tokens per request.", examples=[800])
    p95: float = Field(gt=0, description="95th-percentile tokens per request (above the mean).", examples=[2400])

    def scaled(self, factor: float) -> LognormalTokens:
        """Lengths `factor` times as long: the same shape, stretched."""
        return self.model_copy(update={"mean": self.mean * factor, "p95": self.p95 * factor})

    @model_validator(mode="after")
    def _p95_fits_a_lognormal(self) -> LognormalTokens:
        # A lognormal's p95/mean ratio is at most exp(z95**2 / 2), about 3.87.
        if self.p95 <= self.mean:
            raise ValueError(f"p95 ({self.p95:g}) must be above mean ({self.mean:g}); raise p95 or use kind: fixed")
        if math.log(self.p95 / self.mean) > LOGNORMAL_MAX_LOG_RATIO:
            raise ValueError(
                f"p95/mean = {self.p95 / self.mean:.2f} is more skewed than any lognormal allows "
                "(at most 3.87); use kind: histogram"
            )
        return self


Z_95 = 1.6448536269514722
LOGNORMAL_MAX_LOG_RATIO = Z_95**2 / 2


class HistogramTokens(_Section):
    kind: Literal["histogram"] = Field(
        default="histogram", description="Lengths drawn from a histogram.", examples=["histogram"]
    )
    tokens: list[Annotated[int, Field(gt=0)]] = Field(
        min_length=1, description="Token counts of the histogram's bars.", examples=[[256, 1024, 8192]]
    )
    weights: list[Annotated[float, Field(ge=0)]] = Field(
        min_length=1, description="Relative share of requests at each token count.", examples=[[0.6, 0.3, 0.1]]
    )

    def scaled(self, factor: float) -> HistogramTokens:
        """Lengths `factor` times as long, in whole tokens; the weights stay."""
        return self.model_copy(update={"tokens": [max(1, round(t * factor)) for t in self.tokens]})

    @model_validator(mode="after")
    def _same_length(self) -> HistogramTokens:
        if len(self.tokens) != len(self.weights):
            raise ValueError(
                f"tokens has {len(self.tokens)} entries but weights has {len(self.weights)}; give one weight per count"
            )
        if sum(self.weights) <= 0:
            raise ValueError("weights must not all be zero; give at least one positive weight")
        return self


def _int_is_fixed(value: Any) -> Any:
    return {"kind": "fixed", "tokens": value} if isinstance(value, int) and not isinstance(value, bool) else value


TokenDistribution = Annotated[
    FixedTokens | LognormalTokens | HistogramTokens,
    Field(discriminator="kind"),
    BeforeValidator(_int_is_fixed),
]


# --- workload ---------------------------------------------------------------------------------


class LatencyTarget(_Section):
    ttft_ms: float = Field(gt=0, description="Time to first token at the percentile, milliseconds.", examples=[800])
    tpot_ms: float = Field(gt=0, description="Time per output token at the percentile, milliseconds.", examples=[50])
    e2e_ms: float | None = Field(
        default=None, gt=0, description="End-to-end latency at the percentile, milliseconds.", examples=[30000]
    )
    percentile: float = Field(default=95, gt=0, lt=100, description="Percentile the targets apply to.", examples=[95])


def _preset_latency(value: Any) -> Any:
    if isinstance(value, str):
        presets = catalog.latency_presets()
        if value not in presets:
            raise ValueError(f"unknown latency preset {value!r}; {suggest(value, presets)}")
        p = presets[value]
        return {"ttft_ms": p.ttft_ms, "tpot_ms": p.tpot_ms, "e2e_ms": p.e2e_ms, "percentile": 95}
    return value


class RequestClass(_Section):
    name: str = Field(description="Name of the class of requests.", examples=["chat"])
    requests_per_day: float = Field(
        gt=0, description="Average requests per day in the first month, before `workload.scale`.", examples=[20000]
    )
    input_tokens: TokenDistribution = Field(
        description="Prompt tokens per request: an integer, or a fixed, lognormal or histogram distribution.",
        examples=[{"kind": "lognormal", "mean": 1200, "p95": 3500}],
    )
    output_tokens: TokenDistribution = Field(
        description="Visible output tokens per request.", examples=[{"kind": "lognormal", "mean": 300, "p95": 900}]
    )
    reasoning_tokens_per_request: float = Field(
        default=0,
        ge=0,
        description="Hidden reasoning tokens per request: generated and billed as output.",
        examples=[0, 2000],
    )
    cached_input_share: float = Field(
        default=0, ge=0, le=1, description="Share of input tokens read from a prompt cache.", examples=[0.5]
    )
    cache_write_share: float = Field(
        default=0, ge=0, le=1, description="Share of input tokens written to the API's prompt cache.", examples=[0.05]
    )
    sensitivity: Sensitivity = Field(
        default="internal", description="How sensitive the data is.", examples=["internal"]
    )
    latency: Annotated[LatencyTarget, BeforeValidator(_preset_latency)] = Field(
        default="interactive",  # type: ignore[assignment]  # resolved by the preset validator
        validate_default=True,
        description="A preset (instant, conversational, interactive, deferred, batch) or explicit targets.",
        examples=["conversational", {"ttft_ms": 800, "tpot_ms": 50}],
    )
    batchable: bool = Field(
        default=False, description="Can wait for a batch API or off-peak GPU time.", examples=[False]
    )

    @model_validator(mode="after")
    def _shares_fit(self) -> RequestClass:
        if self.cached_input_share + self.cache_write_share > 1:
            raise ValueError("cached_input_share + cache_write_share must be at most 1; lower one of them")
        return self


def _preset_profile(value: Any) -> Any:
    if isinstance(value, str):
        profiles = catalog.daily_profiles()
        if value not in profiles:
            raise ValueError(f"unknown daily profile {value!r}; {suggest(value, profiles)}")
        return profiles[value].weights
    return value


class Burst(_Section):
    multiplier: float = Field(gt=1, description="Load during a burst, as a multiple of the hour's rate.", examples=[3])
    duration_minutes: float = Field(gt=0, le=60, description="Length of one burst, minutes.", examples=[10])
    per_day: float = Field(gt=0, description="Bursts per day.", examples=[2])


class Workload(_Section):
    classes: list[RequestClass] = Field(
        min_length=1,
        description="Classes of requests.",
        examples=[[{"name": "chat", "requests_per_day": 20000, "input_tokens": 1200, "output_tokens": 300}]],
    )
    daily_profile: Annotated[list[Annotated[float, Field(ge=0)]], BeforeValidator(_preset_profile)] = Field(
        default="flat",  # type: ignore[assignment]  # resolved by the preset validator
        validate_default=True,
        min_length=24,
        max_length=24,
        description="24 hourly weights in local time, or a preset: flat, business_hours, consumer_evening, "
        "overnight_batch.",
        examples=["business_hours"],
    )
    weekly_weights: list[Annotated[float, Field(ge=0)]] = Field(
        default=[1.0] * 7,
        min_length=7,
        max_length=7,
        description="Relative load Monday to Sunday.",
        examples=[[1, 1, 1, 1, 1, 0.4, 0.3]],
    )
    monthly_growth: float = Field(
        default=0,
        gt=-1,
        le=1,
        description="Compound growth of the request rate per month (0.05 = 5%; at most 1, doubling every month).",
        examples=[0.03],
    )
    bursts: list[Burst] = Field(
        default=[],
        description="Short spikes above the hourly rate.",
        examples=[[{"multiplier": 3, "duration_minutes": 10, "per_day": 2}]],
    )
    scale: float = Field(
        default=1, gt=0, description="Multiplier on every class's request rate (the volume knob).", examples=[1, 10]
    )
    utc_offset_hours: float = Field(
        default=0, ge=-12, le=14, description="Offset of the daily profile's local time from UTC.", examples=[-5]
    )

    @field_validator("daily_profile", "weekly_weights")
    @classmethod
    def _not_all_zero(cls, weights: list[float]) -> list[float]:
        if sum(weights) <= 0:
            raise ValueError("weights must not all be zero; give at least one positive weight")
        return weights

    @model_validator(mode="after")
    def _unique_class_names(self) -> Workload:
        _check_unique([c.name for c in self.classes], "class")
        return self


# --- options ----------------------------------------------------------------------------------


class ApiFineTuning(_Section):
    training_usd_per_mtok: float = Field(ge=0, description="Training price, USD per million tokens.", examples=[25])
    training_mtok_per_run: float = Field(ge=0, description="Million training tokens per run.", examples=[20])
    runs_per_year: float = Field(ge=0, description="Training runs per year.", examples=[4])


class ApiOption(_Section):
    name: str = Field(description="Name of the option.", examples=["gpt-4o"])
    kind: Literal["api"] = Field(description="Pay an API per token.", examples=["api"])
    provider: str = Field(description="Provider id as genai-prices names it.", examples=["openai"])
    model: str = Field(description="Model as genai-prices names it.", examples=["gpt-4o"])
    use_batch_api: bool = Field(
        default=True, description="Send batchable classes through the provider's batch API.", examples=[True]
    )
    terms: str | None = Field(
        default=None,
        description="Provider terms entry (`rent-or-own catalog terms`); the provider's own when left out.",
        examples=["google-vertex", "aws-bedrock"],
    )
    zero_retention: bool = Field(
        default=False, description="You have a zero-data-retention agreement with the provider.", examples=[True]
    )
    region: str | None = Field(
        default=None, description="Processing region you pinned, one of the terms' regions.", examples=["eu"]
    )
    rate_limit_rpm: int | None = Field(
        default=None, gt=0, description="Requests per minute your account may send (DES engine).", examples=[10000]
    )
    rate_limit_tpm: int | None = Field(
        default=None, gt=0, description="Input plus output tokens per minute (DES engine).", examples=[30000000]
    )
    on_rate_limit: Literal["queue", "reject"] = Field(
        default="queue", description="Wait for the limit to refill, or drop the request.", examples=["reject"]
    )
    fine_tuning: ApiFineTuning | None = Field(
        default=None,
        description="Fine-tuning runs; price the tuned model with an `api_prices` entry.",
        examples=[{"training_usd_per_mtok": 25, "training_mtok_per_run": 20, "runs_per_year": 4}],
    )


class RentTerms(_Section):
    tier: RentalTier = Field(
        default="on_demand", description="on_demand, reserved_1y, reserved_3y or spot.", examples=["reserved_1y"]
    )
    usd_per_gpu_hour: float | None = Field(
        default=None, gt=0, description="Rental price; the catalogue's for the tier when left out.", examples=[2.2]
    )
    autoscale: bool = Field(
        default=True,
        description="Follow the hourly load (on-demand and spot); reserved capacity is always paid 24/7.",
        examples=[True],
    )
    max_replicas: int | None = Field(
        default=None, ge=1, description="Most replicas the autoscaler may run (DES engine).", examples=[16]
    )
    startup_s: float = Field(
        default=300,
        ge=0,
        description="Seconds from asking for a replica to serving (node, image, weights).",
        examples=[180],
    )
    scale_up_queue_per_replica: float = Field(
        default=4, gt=0, description="Waiting requests per replica that make the autoscaler add one.", examples=[4]
    )
    scale_up_ttft_ms: float | None = Field(
        default=None,
        gt=0,
        description="Predicted TTFT of a new request that makes the autoscaler add a replica.",
        examples=[1000],
    )
    spot_interruption_overhead: float | None = Field(
        default=None, ge=0, lt=1, description="Extra GPU-hours lost to preemptions (spot only).", examples=[0.1]
    )


class BuyTerms(_Section):
    gpu_purchase_usd: float | None = Field(default=None, gt=0, description="Price per GPU.", examples=[27500])
    server_usd_per_gpu: float | None = Field(
        default=None, ge=0, description="Server, network and chassis share per GPU.", examples=[10000]
    )
    depreciation_years: float | None = Field(default=None, ge=1, description="Depreciation life.", examples=[4])
    residual_value_share: float | None = Field(
        default=None, ge=0, lt=1, description="Resale value at the end of depreciation, share of cost.", examples=[0.1]
    )
    purchase: Literal["as_needed", "upfront"] = Field(
        default="as_needed",
        description="Buy GPUs in the month they are first needed, or the horizon's peak fleet in month 1.",
        examples=["upfront"],
    )
    usd_per_kwh: float | None = Field(default=None, ge=0, description="Electricity price.", examples=[0.12])
    pue: float | None = Field(default=None, ge=1, description="Power usage effectiveness of the site.", examples=[1.3])
    hosting_usd_per_kw_month: float | None = Field(
        default=None,
        ge=0,
        description="Colocation or rack price per provisioned kW; 0 on own premises.",
        examples=[150],
    )
    server_power_w_per_gpu: float | None = Field(
        default=None, ge=0, description="Host power (CPUs, fans, NICs) per GPU, watts.", examples=[400]
    )


class Operations(_Section):
    staff_fte: float | None = Field(default=None, ge=0, description="Engineers running the fleet.", examples=[0.5])
    usd_per_fte_year: float | None = Field(
        default=None, ge=0, description="Loaded cost of one engineer.", examples=[250000]
    )
    software_usd_per_gpu_month: float | None = Field(
        default=None, ge=0, description="Licences and support per GPU.", examples=[0]
    )
    setup_engineer_months: float | None = Field(
        default=None, ge=0, description="One-time engineering to stand the service up.", examples=[2]
    )


class SelfHostFineTuning(_Section):
    gpu_hours_per_run: float = Field(ge=0, description="GPU-hours per training run.", examples=[64])
    runs_per_year: float = Field(ge=0, description="Training runs per year.", examples=[4])
    usd_per_gpu_hour: float | None = Field(
        default=None,
        gt=0,
        description="Price of training GPU-hours; the GPU's on-demand rate when left out.",
        examples=[2.99],
    )


class PerfSettings(_Section):
    target_utilisation: float = Field(
        default=0.7, gt=0, le=1, description="Share of a replica's capacity planned to be busy at peak.", examples=[0.7]
    )
    max_batch: int = Field(default=256, ge=1, description="Most sequences decoded together.", examples=[256])
    scheduling: Literal["chunked_prefill", "prefill_first"] = Field(
        default="chunked_prefill",
        description="Mix prompt chunks into decode steps, or run admitted prompts in a step of their own.",
        examples=["prefill_first"],
    )
    chunk_tokens: int = Field(
        default=2048,
        ge=64,
        description=(
            "Tokens per step under chunked prefill (max_num_batched_tokens), at least max_batch; servers default "
            "to 2,048-16,384, and chunks under 64 tokens would only slow the simulation."
        ),
        examples=[2048],
    )
    decode_bandwidth_efficiency: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Share of peak memory bandwidth reached in decode (estimate).",
        examples=[0.6],
    )
    prefill_compute_efficiency: float | None = Field(
        default=None, gt=0, le=1, description="Share of peak FLOP/s reached in prefill (estimate).", examples=[0.5]
    )
    usable_memory_share: float | None = Field(
        default=None, gt=0, le=1, description="Share of GPU memory for weights and KV cache.", examples=[0.9]
    )
    measured: str | None = Field(
        default=None,
        description="A probe's measured file (relative to the scenario) to fit step times to, instead of the roofline.",
        examples=["../measured/tinyllama-q4_0-cpu.json"],
    )

    @model_validator(mode="after")
    def _chunk_holds_the_batch(self) -> PerfSettings:
        # Every running sequence takes one token of a chunked step's budget; vLLM refuses a smaller budget too.
        if self.scheduling == "chunked_prefill" and self.chunk_tokens < self.max_batch:
            raise ValueError(
                f"chunk_tokens ({self.chunk_tokens}) is below max_batch ({self.max_batch}); "
                "raise chunk_tokens or lower max_batch"
            )
        return self


class SelfHostOption(_Section):
    name: str = Field(description="Name of the option.", examples=["llama-70b-on-h100"])
    kind: Literal["self_host"] = Field(description="Serve an open-weight model on GPUs.", examples=["self_host"])
    model: str = Field(description="Open-weight model from the catalogue.", examples=["llama-3.3-70b-instruct"])
    precision: Precision = Field(default="fp16", description="Weight precision.", examples=["fp8"])
    gpu: str = Field(description="GPU from the catalogue.", examples=["h100-sxm"])
    gpus_per_replica: int | None = Field(
        default=None,
        ge=1,
        description="Tensor-parallel GPUs per replica; smallest power of two that fits if left out.",
        examples=[2],
    )
    procurement: Literal["rent", "buy"] = Field(description="Rent GPU-hours or buy the GPUs.", examples=["rent"])
    min_replicas: int = Field(default=1, ge=0, description="Replicas kept up at all times.", examples=[1])
    site: Site | None = Field(
        default=None,
        description="Where it runs: own_premises, colocation or cloud_gpu (rent: cloud_gpu, buy: colocation).",
        examples=["own_premises"],
    )
    region: str | None = Field(default=None, description="Region the GPUs are in.", examples=["eu"])
    provider_baa: bool = Field(
        default=False, description="A cloud GPU provider has signed a HIPAA BAA with you.", examples=[True]
    )
    rent: RentTerms = Field(
        default_factory=RentTerms,
        description="Rental terms (procurement: rent).",
        examples=[{"tier": "reserved_1y"}, {"tier": "on_demand", "autoscale": True}],
    )
    buy: BuyTerms = Field(
        default_factory=BuyTerms,
        description="Purchase and facility terms (procurement: buy).",
        examples=[{"purchase": "upfront", "hosting_usd_per_kw_month": 0, "usd_per_kwh": 0.1}],
    )
    operations: Operations = Field(
        default_factory=Operations, description="Staff, software and set-up.", examples=[{"staff_fte": 0.5}]
    )
    fine_tuning: SelfHostFineTuning | None = Field(
        default=None, description="Fine-tuning runs.", examples=[{"gpu_hours_per_run": 64, "runs_per_year": 4}]
    )
    perf: PerfSettings = Field(
        default_factory=PerfSettings,
        description="Serving-performance settings.",
        examples=[{"target_utilisation": 0.6, "max_batch": 128}],
    )


class HybridOption(_Section):
    name: str = Field(description="Name of the option.", examples=["in-house-sensitive"])
    kind: Literal["hybrid"] = Field(
        description="Route classes between a self_host and an api option.", examples=["hybrid"]
    )
    self_host: str = Field(description="Name of a self_host option that serves in-house traffic.", examples=["llama"])
    api: str = Field(description="Name of an api option that serves the rest.", examples=["gpt-4o"])
    in_house_sensitivity: list[Sensitivity] = Field(
        default=["confidential", "regulated"],
        description="Sensitivity levels always served in-house.",
        examples=[["regulated"]],
    )
    in_house_classes: list[str] = Field(default=[], description="Classes always served in-house.", examples=[["rag"]])
    baseline_quantile: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="In-house fleet also covers this quantile of the other classes' hourly load; the rest "
        "overflows to the API (0: only pinned classes in-house).",
        examples=[0.5],
    )
    overflow_queue_per_replica: float = Field(
        default=4,
        gt=0,
        description="Waiting requests per in-house replica above which other classes go to the API (DES engine).",
        examples=[4],
    )
    overflow_ttft_ms: float | None = Field(
        default=None,
        gt=0,
        description="Predicted in-house TTFT above which other classes go to the API.",
        examples=[2000],
    )
    defer_batchable: bool = Field(
        default=True, description="Run batchable classes on spare in-house capacity off-peak.", examples=[True]
    )


Option = Annotated[ApiOption | SelfHostOption | HybridOption, Field(discriminator="kind")]


# --- economics, overrides, scenario -----------------------------------------------------------


class Economics(_Section):
    horizon_months: int = Field(default=36, ge=1, le=120, description="Months compared.", examples=[36])
    price_date: dt.date = Field(description="Date that pins every catalogue price.", examples=["2026-11-01"])
    discount_rate_per_year: float = Field(
        default=0.08, ge=0, lt=1, description="Discount rate for NPV and cost of capital.", examples=[0.08]
    )
    api_price_multiplier: float = Field(
        default=1,
        gt=0,
        description="Multiple of the listed API token prices actually paid (0.8 = a negotiated 20% discount).",
        examples=[0.8],
    )
    api_price_decline_per_year: float = Field(
        default=0, ge=0, lt=1, description="Yearly fall of API token prices (0.3 = 30% a year).", examples=[0.3]
    )
    gpu_rental_price_decline_per_year: float = Field(
        default=0, ge=0, lt=1, description="Yearly fall of GPU rental prices.", examples=[0.15]
    )
    currency: Literal["USD"] = Field(default="USD", description="Money is USD.", examples=["USD"])


class ApiPriceOverride(_Section):
    provider: str = Field(description="Provider id.", examples=["openai"])
    model: str = Field(
        description="Model name; may be new (a fine-tuned model, a negotiated deal).", examples=["gpt-4o"]
    )
    input_usd_per_mtok: float = Field(ge=0, description="Input price.", examples=[2.5])
    cached_input_usd_per_mtok: float | None = Field(
        default=None, ge=0, description="Cache-read price.", examples=[1.25]
    )
    cache_write_usd_per_mtok: float | None = Field(
        default=None, ge=0, description="Cache-write price.", examples=[3.75]
    )
    output_usd_per_mtok: float = Field(ge=0, description="Output price.", examples=[10])
    batch_discount: float = Field(
        default=0, ge=0, lt=1, description="Share off every price for batch requests.", examples=[0.5]
    )
    context_tokens: int | None = Field(default=None, gt=0, description="Context window.", examples=[128000])
    effective_date: dt.date = Field(description="Date from which the price applies.", examples=["2026-01-01"])
    source: str = Field(description="Where the price comes from.", examples=["contract 2026-01"])


class QualityFloor(_Section):
    benchmark: str = Field(description="Benchmark name (prefix match).", examples=["MMLU-Pro"])
    min_score: float = Field(description="Options scoring below are not good enough.", examples=[65])


Criterion = Literal[
    "data_boundary",
    "retention",
    "training_use",
    "residency",
    "certifications",
    "model_control",
    "reproducibility",
    "customisation",
    "lock_in",
    "operational_burden",
]


class Requirement(_Section):
    stays_in_boundary: bool = Field(
        default=False, description="Never leaves the company's boundary (own premises or colocation).", examples=[True]
    )
    zero_retention: bool = Field(
        default=False, description="A provider that sees it keeps nothing (zero data retention).", examples=[True]
    )
    no_training_use: bool = Field(default=False, description="No provider may train on it.", examples=[True])
    regions: list[str] | None = Field(default=None, description="Processed only in these regions.", examples=[["eu"]])
    hipaa_baa: bool = Field(default=False, description="Processor has signed a HIPAA BAA.", examples=[True])
    gdpr_dpa: bool = Field(default=False, description="Processor offers a GDPR DPA.", examples=[True])
    certifications: list[Literal["soc2", "iso27001"]] = Field(
        default=[], description="Attestations a processor must hold.", examples=[["soc2"]]
    )


DEFAULT_REQUIREMENTS: dict[Sensitivity, Requirement] = {
    "public": Requirement(),
    "internal": Requirement(no_training_use=True),
    "confidential": Requirement(no_training_use=True, zero_retention=True),
    "regulated": Requirement(stays_in_boundary=True),
}


class Privacy(_Section):
    requirements: dict[Sensitivity, Requirement] = Field(
        default={},
        description="Hard requirements per sensitivity level; levels left out keep the defaults "
        "(internal: no training use; confidential: also zero retention; regulated: stays in the boundary).",
        examples=[{"confidential": {"zero_retention": True, "regions": ["eu"]}}],
    )
    weights: dict[Criterion, Annotated[float, Field(ge=0)]] = Field(
        default={},
        description="Weights (0 and up) of the privacy and control criteria; criteria left out keep the defaults.",
        examples=[{"data_boundary": 5, "operational_burden": 1}],
    )

    def requirement(self, level: Sensitivity) -> Requirement:
        return self.requirements.get(level, DEFAULT_REQUIREMENTS[level])

    def weight_table(self) -> dict[str, float]:
        return {**catalog.terms().default_weights.values, **self.weights}

    @model_validator(mode="after")
    def _some_weight(self) -> Privacy:
        if sum(self.weight_table().values()) <= 0:
            raise ValueError("the criteria weights are all zero; give at least one a positive weight")
        return self


class Simulation(_Section):
    engine: Literal["fluid", "des"] = Field(
        default="des",
        description="fluid: analytic and instant; des: SimPy discrete-event simulation.",
        examples=["des"],
    )
    window_minutes: float = Field(
        default=15, gt=0, description="Length of each simulated window after warm-up (DES).", examples=[30]
    )
    warmup_minutes: float = Field(default=5, ge=0, description="Warm-up before each window (DES).", examples=[10])
    load_bins: int = Field(
        default=3, ge=1, le=24, description="Load levels of the week's hours, one window each (DES).", examples=[4]
    )
    sampled_months: int = Field(
        default=4,
        ge=1,
        description="Months simulated (first, last, evenly between); others interpolated (DES).",
        examples=[6],
    )
    max_simulated_replicas: int = Field(
        default=32,
        ge=1,
        description=(
            "Largest fleet simulated replica by replica; a bigger one is simulated as a slice of this many "
            "replicas (more if the slice would carry under 10,000 of a window's requests) serving the same "
            "share of the requests, and scaled back up (DES)."
        ),
        examples=[32],
    )


class UncertainInput(_Section):
    field: str = Field(
        description="Dotted path of the input, as for --set (lists by index or [name]).",
        examples=["economics.api_price_decline_per_year", "options[llama].rent.usd_per_gpu_hour"],
    )
    distribution: Literal["normal", "lognormal", "uniform", "triangular"] = Field(
        description="normal (mean, sd), lognormal (median, sd_log), uniform (low, high), triangular (low, mode, high).",
        examples=["triangular"],
    )
    mean: float | None = Field(default=None, description="normal: mean.", examples=[0.3])
    sd: float | None = Field(default=None, gt=0, description="normal: standard deviation.", examples=[0.1])
    median: float | None = Field(default=None, gt=0, description="lognormal: median.", examples=[1.0])
    sd_log: float | None = Field(default=None, gt=0, description="lognormal: sd of the logarithm.", examples=[0.3])
    low: float | None = Field(default=None, description="uniform and triangular: lowest value.", examples=[0.1])
    mode: float | None = Field(default=None, description="triangular: most likely value.", examples=[0.3])
    high: float | None = Field(default=None, description="uniform and triangular: highest value.", examples=[0.5])

    @model_validator(mode="after")
    def _parameters_given(self) -> UncertainInput:
        need = {
            "normal": ("mean", "sd"),
            "lognormal": ("median", "sd_log"),
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
        }[self.distribution]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"{self.distribution} needs {', '.join(need)}; add {', '.join(missing)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g}); swap them")
        if self.distribution == "triangular" and not self.low <= self.mode <= self.high:  # type: ignore[operator]
            raise ValueError(f"mode ({self.mode:g}) must lie between low and high; move it")
        return self


class Scenario(_Section):
    name: str = Field(description="Short name of the scenario.", examples=["support-assistant"])
    description: str = Field(
        default="", description="The story behind the numbers.", examples=["Support bot, 400k answers a day."]
    )
    workload: Workload = Field(
        description="The request load.",
        examples=[
            {
                "classes": [{"name": "chat", "requests_per_day": 20000, "input_tokens": 1200, "output_tokens": 300}],
                "daily_profile": "business_hours",
            }
        ],
    )
    options: list[Option] = Field(
        min_length=1,
        description="The options to compare.",
        examples=[[{"name": "gpt-4o", "kind": "api", "provider": "openai", "model": "gpt-4o"}]],
    )
    economics: Economics = Field(
        description="Horizon, price date and money settings.",
        examples=[{"horizon_months": 36, "price_date": "2026-11-01"}],
    )
    api_prices: list[ApiPriceOverride] = Field(
        default=[],
        description="Overrides of and additions to API prices.",
        examples=[
            [
                {
                    "provider": "openai",
                    "model": "gpt-4o",
                    "input_usd_per_mtok": 2,
                    "output_usd_per_mtok": 8,
                    "effective_date": "2026-01-01",
                    "source": "negotiated contract",
                }
            ]
        ],
    )
    quality_floor: QualityFloor | None = Field(
        default=None,
        description="Minimum benchmark score an option needs.",
        examples=[{"benchmark": "MMLU-Pro", "min_score": 65}],
    )
    privacy: Privacy = Field(
        default_factory=Privacy,
        description="Requirements per sensitivity level and weights of the privacy and control criteria.",
        examples=[{"requirements": {"regulated": {"stays_in_boundary": True}}}],
    )
    uncertainty: list[UncertainInput] = Field(
        default=[],
        description="Uncertain inputs for Monte Carlo (`sweep --samples N`).",
        examples=[
            [
                {
                    "field": "economics.api_price_decline_per_year",
                    "distribution": "triangular",
                    "low": 0.1,
                    "mode": 0.3,
                    "high": 0.6,
                }
            ]
        ],
    )
    simulation: Simulation = Field(
        default_factory=Simulation,
        description="Which engine runs the scenario and how the DES samples the horizon.",
        examples=[{"engine": "des", "window_minutes": 30}],
    )
    seed: int = Field(default=0, ge=0, description="Seed of every random stream.", examples=[7])

    @model_validator(mode="after")
    def _options_refer_to_options(self) -> Scenario:
        names = [o.name for o in self.options]
        _check_unique(names, "option")
        by_name = {o.name: o for o in self.options}
        class_names = {c.name for c in self.workload.classes}
        for o in self.options:
            if isinstance(o, HybridOption):
                for ref, kind in ((o.self_host, "self_host"), (o.api, "api")):
                    target = by_name.get(ref)
                    if target is None or target.kind != kind:
                        candidates = [n for n, x in by_name.items() if x.kind == kind]
                        raise ValueError(f"hybrid {o.name!r}: no {kind} option {ref!r}; {suggest(ref, candidates)}")
                for c in o.in_house_classes:
                    if c not in class_names:
                        raise ValueError(f"hybrid {o.name!r}: no class {c!r}; {suggest(c, class_names)}")
        return self

    def option(self, name: str) -> ApiOption | SelfHostOption | HybridOption:
        return next(o for o in self.options if o.name == name)


def _check_unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ValueError(f"two {what}s are named {n!r}; rename one, names must be unique")
        seen.add(n)


# --- loading ----------------------------------------------------------------------------------

_UNION_TAGS = {"fixed", "lognormal", "histogram", "api", "self_host", "hybrid"}


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS or "[" in part:
            continue  # discriminator tags and validator wrappers are not fields
        else:
            out += ("." if out else "") + part
    return out


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for model in _Section.__subclasses__():
        names.update(model.model_fields)
    return names


def _fix_for(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        return "remove it, or " + suggest(str(error["loc"][-1]), _all_field_names())
    if kind == "missing":
        return "add it"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return "change the value"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected', '')}"
    if kind == "union_tag_invalid":
        return f"use kind: {ctx.get('expected_tags', '')}"
    if kind.endswith("_parsing") or kind.endswith("_type"):
        return "write a value of that type"
    return "see `rent-or-own schema`"


def _from_validation_error(source: str, err: ValidationError) -> InputError:
    first = err.errors(include_url=False)[0]
    field = _field_path(first["loc"]) or "(top level)"
    if first["type"] == "value_error":
        # Our validators name the value themselves and give the fix after "; ".
        problem, _, fix = first["msg"].removeprefix("Value error, ").partition("; ")
        return InputError(source, field, problem, fix)
    problem = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
    if first["type"] not in ("missing", "extra_forbidden") and not isinstance(first.get("input"), dict | list):
        problem += f", got {first['input']!r}"
    return InputError(source, field, problem, _fix_for(first))


def parse_set(assignment: str) -> tuple[list[str | int], Any]:
    """Split `a.b[0].c=value` into a path and a YAML-typed value."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key:
        raise InputError("--set", assignment, "expected KEY=VALUE", "write e.g. --set workload.scale=2")
    # `[...]` holds an index or a name that may contain dots: options[gpt-4.1-mini].model
    parts = [bracketed or dotted for dotted, bracketed in re.findall(r"([^.\[\]]+)|\[([^\]]+)\]", key)]
    path: list[str | int] = [int(p) if p.isdigit() else p for p in parts]
    return path, yaml.safe_load(raw) if raw else ""


def apply_override(data: dict[str, Any], path: list[str | int], value: Any, label: str) -> None:
    """Set `value` at `path`; lists are indexed by position or by an item's `name`."""
    node: Any = data
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        where = ".".join(str(p) for p in path[: depth + 1])
        if isinstance(node, list):
            if isinstance(part, str):
                matches = [i for i, item in enumerate(node) if isinstance(item, dict) and item.get("name") == part]
                if not matches:
                    names = [item.get("name", "") for item in node if isinstance(item, dict)]
                    raise InputError("--set", label, f"no item named {part!r} at {where}", suggest(part, names))
                part = matches[0]
            if not 0 <= part < len(node):
                raise InputError("--set", label, f"index {part} is out of range at {where}", f"{len(node)} items")
        elif isinstance(node, dict):
            if not last and part not in node:
                if part in _all_field_names():
                    node[part] = {}
                else:
                    raise InputError("--set", label, f"no field {part!r}", suggest(str(part), _all_field_names()))
        else:
            raise InputError("--set", label, f"{where} is a value, not a section", "shorten the path")
        if last:
            node[part] = value
        else:
            node = node[part]


def _resolve_measured(scenario: Scenario, base: Path) -> Scenario:
    """Make measured-file paths absolute (relative to the scenario) and check they load, fit and match the option."""
    from simulator.probe.measured import fit, load_for

    options = list(scenario.options)
    for i, o in enumerate(options):
        if isinstance(o, SelfHostOption) and o.perf.measured is not None:
            path = (base / o.perf.measured).resolve()
            try:
                fit(load_for(path, o.model, o.gpu))
            except InputError as e:
                raise InputError("", f"options[{i}].perf.measured", f"{e.where}: {e.problem}", e.fix) from None
            options[i] = o.model_copy(update={"perf": o.perf.model_copy(update={"measured": str(path)})})
    return scenario.model_copy(update={"options": options})


def _check_catalogue_references(scenario: Scenario) -> None:
    from simulator.catalog.api_prices import check_api_model

    for i, o in enumerate(scenario.options):
        if isinstance(o, SelfHostOption):
            catalog.model(o.model, f"options[{i}].model")
            gpu = catalog.gpu(o.gpu, f"options[{i}].gpu")
            if o.procurement == "buy" and o.buy.gpu_purchase_usd is None and gpu.purchase_usd is None:
                raise InputError(
                    "",
                    f"options[{i}].buy.gpu_purchase_usd",
                    f"the catalogue has no purchase price for {gpu.name}",
                    "set buy.gpu_purchase_usd",
                )
        elif isinstance(o, ApiOption):
            check_api_model(o.provider, o.model, scenario.api_prices, f"options[{i}]")
            _check_terms(o, f"options[{i}]")


def api_terms(option: ApiOption) -> catalog.ApiTerms | None:
    """The terms an API option runs under: its named entry, else its provider's, else none known."""
    t = catalog.terms()
    return t.api(option.terms) if option.terms else t.for_provider(option.provider)


def site_of(option: SelfHostOption) -> Site:
    return option.site or ("cloud_gpu" if option.procurement == "rent" else "colocation")


def _check_terms(option: ApiOption, where: str) -> None:
    names = [t.name for t in catalog.terms().apis]
    if option.terms and option.terms not in names:
        raise InputError("", f"{where}.terms", f"unknown terms {option.terms!r}", suggest(option.terms, names))
    terms = api_terms(option)
    if option.zero_retention and (terms is None or terms.zero_retention_available.value is not True):
        offered = terms.display_name if terms else f"provider {option.provider!r}"
        raise InputError(
            "",
            f"{where}.zero_retention",
            f"{offered} publishes no zero-retention offer",
            "set zero_retention: false or choose other terms",
        )
    if option.region is not None:
        regions = terms.regions.value if terms and isinstance(terms.regions.value, list) else []
        if option.region not in regions:
            raise InputError(
                "",
                f"{where}.region",
                f"region {option.region!r} is not offered",
                f"choose one of {', '.join(regions) or 'none published'}",
            )


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read, override (`a.b.c=value`), validate and check a scenario file; raise `InputError`."""
    path = Path(path)
    return scenario_from_text(read_text(path), str(path), overrides)


def scenario_from_text(text: str, source: str, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """A scenario from YAML text; `source` names it in errors and anchors relative measured-file paths."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark else "(syntax)"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(source, line, f"YAML syntax error: {problem}", "fix the YAML at that line") from None
    if not isinstance(data, dict):
        raise InputError(source, "(top level)", "expected a mapping of sections", "start with `name:` and `workload:`")
    for assignment in overrides:
        keys, value = parse_set(assignment)
        apply_override(data, keys, value, assignment.partition("=")[0])
    scenario = scenario_from_dict(data, source)
    _check_uncertainty(scenario, data, source)
    return scenario


def _check_uncertainty(scenario: Scenario, data: dict[str, Any], source: str) -> None:
    """Each uncertain field must be a field that takes a number: try its central value."""
    for i, u in enumerate(scenario.uncertainty):
        central = {"normal": u.mean, "lognormal": u.median, "uniform": None, "triangular": u.mode}[u.distribution]
        value = central if central is not None else (u.low + u.high) / 2  # type: ignore[operator]
        trial = copy.deepcopy(data)
        try:
            keys, _ = parse_set(f"{u.field}=0")
            apply_override(trial, keys, value, u.field)
            Scenario.model_validate(trial)
        except (InputError, ValidationError) as e:
            problem = e.problem if isinstance(e, InputError) else _from_validation_error(source, e).problem
            raise InputError(
                source, f"uncertainty[{i}].field", f"{u.field}: {problem}", "name a numeric field, as for --set"
            ) from None


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        raise _from_validation_error(source, e) from None
    try:
        _check_catalogue_references(scenario)
        scenario = _resolve_measured(scenario, Path(source).parent)
    except InputError as e:
        raise e.at(source) from None
    return scenario


def json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "rent-or-own scenario"
    return schema
