"""The `options:` section: frontier APIs, self-hosted open-weight models, and hybrids of the two."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulator import catalog, units
from simulator.catalog import EngineName, Precision, RentalTier, Site
from simulator.perf.serving import DEFAULT_ENGINE, KvCacheDtype, Policy
from simulator.scenario.base import Section, Sensitivity

# --- options ----------------------------------------------------------------------------------


class ApiFineTuning(Section):
    training_usd_per_mtok: float = Field(
        le=100_000, ge=0, description="Training price, USD per million tokens.", examples=[25]
    )
    training_mtok_per_run: float = Field(le=1e9, ge=0, description="Million training tokens per run.", examples=[20])
    runs_per_year: float = Field(le=8760, ge=0, description="Training runs per year.", examples=[4])


class ApiOption(Section):
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
        le=1e12,
        default=None,
        gt=0,
        description="Requests per minute your account may send (DES engine).",
        examples=[10000],
    )
    rate_limit_tpm: int | None = Field(
        le=1e15,
        default=None,
        gt=0,
        description="Input plus output tokens per minute (DES engine).",
        examples=[30000000],
    )
    on_rate_limit: Literal["queue", "reject"] = Field(
        default="queue", description="Wait for the limit to refill, or drop the request.", examples=["reject"]
    )
    fine_tuning: ApiFineTuning | None = Field(
        default=None,
        description="Fine-tuning runs; price the tuned model with an `api_prices` entry.",
        examples=[{"training_usd_per_mtok": 25, "training_mtok_per_run": 20, "runs_per_year": 4}],
    )


class RentTerms(Section):
    tier: RentalTier = Field(
        default="on_demand", description="on_demand, reserved_1y, reserved_3y or spot.", examples=["reserved_1y"]
    )
    usd_per_gpu_hour: float | None = Field(
        le=1000,
        default=None,
        gt=0,
        description="Rental price; the catalogue's for the tier when left out.",
        examples=[2.2],
    )
    autoscale: bool = Field(
        default=True,
        description="Follow the hourly load (on-demand and spot); reserved capacity is always paid 24/7.",
        examples=[True],
    )
    max_replicas: int | None = Field(
        le=100_000, default=None, ge=1, description="Most replicas the autoscaler may run (DES engine).", examples=[16]
    )
    startup_s: float = Field(
        le=86_400,
        default=300,
        ge=0,
        description="Seconds from asking for a replica to serving (node, image, weights).",
        examples=[180],
    )
    scale_up_queue_per_replica: float = Field(
        le=1e6,
        default=4,
        gt=0,
        description="Waiting requests per replica that make the autoscaler add one.",
        examples=[4],
    )
    scale_up_ttft_ms: float | None = Field(
        le=units.MS_PER_DAY,
        default=None,
        gt=0,
        description="Predicted TTFT of a new request that makes the autoscaler add a replica.",
        examples=[1000],
    )
    spot_interruption_overhead: float | None = Field(
        default=None, ge=0, lt=1, description="Extra GPU-hours lost to preemptions (spot only).", examples=[0.1]
    )


class BuyTerms(Section):
    gpu_purchase_usd: float | None = Field(
        le=10_000_000, default=None, gt=0, description="Price per GPU.", examples=[27500]
    )
    server_usd_per_gpu: float | None = Field(
        le=10_000_000, default=None, ge=0, description="Server, network and chassis share per GPU.", examples=[10000]
    )
    depreciation_years: float | None = Field(le=50, default=None, ge=1, description="Depreciation life.", examples=[4])
    residual_value_share: float | None = Field(
        default=None, ge=0, lt=1, description="Resale value at the end of depreciation, share of cost.", examples=[0.1]
    )
    purchase: Literal["as_needed", "upfront"] = Field(
        default="as_needed",
        description="Buy GPUs in the month they are first needed, or the horizon's peak fleet in month 1.",
        examples=["upfront"],
    )
    usd_per_kwh: float | None = Field(le=100, default=None, ge=0, description="Electricity price.", examples=[0.12])
    pue: float | None = Field(
        le=10, default=None, ge=1, description="Power usage effectiveness of the site.", examples=[1.3]
    )
    hosting_usd_per_kw_month: float | None = Field(
        le=100_000,
        default=None,
        ge=0,
        description="Colocation or rack price per provisioned kW; 0 on own premises.",
        examples=[150],
    )
    server_power_w_per_gpu: float | None = Field(
        le=100_000, default=None, ge=0, description="Host power (CPUs, fans, NICs) per GPU, watts.", examples=[400]
    )


class Operations(Section):
    staff_fte: float | None = Field(
        le=10_000, default=None, ge=0, description="Engineers running the fleet.", examples=[0.5]
    )
    usd_per_fte_year: float | None = Field(
        le=10_000_000, default=None, ge=0, description="Loaded cost of one engineer.", examples=[250000]
    )
    software_usd_per_gpu_month: float | None = Field(
        le=1e6, default=None, ge=0, description="Licences and support per GPU.", examples=[0]
    )
    setup_engineer_months: float | None = Field(
        le=10_000, default=None, ge=0, description="One-time engineering to stand the service up.", examples=[2]
    )


class SelfHostFineTuning(Section):
    gpu_hours_per_run: float = Field(le=1e9, ge=0, description="GPU-hours per training run.", examples=[64])
    runs_per_year: float = Field(le=8760, ge=0, description="Training runs per year.", examples=[4])
    usd_per_gpu_hour: float | None = Field(
        le=1000,
        default=None,
        gt=0,
        description="Price of training GPU-hours; the GPU's on-demand rate when left out.",
        examples=[2.99],
    )


class PerfSettings(Section):
    target_utilisation: float = Field(
        default=0.7, gt=0, le=1, description="Share of a replica's capacity planned to be busy at peak.", examples=[0.7]
    )
    engine: EngineName = Field(
        default=DEFAULT_ENGINE,
        description=(
            "Serving engine: its profile sets the batch limits, the KV-cache type, scheduling and step costs "
            "left out here (vllm, sglang, tensorrt-llm, llama.cpp)."
        ),
        examples=["sglang"],
    )
    max_batch: int | None = Field(
        le=100_000,
        default=None,
        ge=1,
        description="Most sequences decoded together; the engine's default for the GPU when left out.",
        examples=[256],
    )
    scheduling: Policy | None = Field(
        default=None,
        description=(
            "Mix prompt chunks into decode steps, or run admitted prompts in a step of their own; "
            "the engine's when left out."
        ),
        examples=["prefill_first"],
    )
    chunk_tokens: int | None = Field(
        le=10_000_000,
        default=None,
        ge=64,
        description=(
            "Tokens per step under chunked prefill (max_num_batched_tokens), at least max_batch; the engine's "
            "default for the GPU when left out (2,048-16,384), and chunks under 64 tokens would only slow the "
            "simulation."
        ),
        examples=[2048],
    )
    decode_bandwidth_efficiency: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Share of peak memory bandwidth reached in decode; the engine's fitted share when left out.",
        examples=[0.6],
    )
    prefill_compute_efficiency: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description=(
            "Share of the GPU's matrix-product FLOP/s (the catalogue's `matmul`) reached in prefill; the engine's "
            "fitted share when left out."
        ),
        examples=[0.5],
    )
    kv_cache_dtype: KvCacheDtype | None = Field(
        default=None,
        description="Type of the KV cache: auto keeps the model's 16-bit type whatever the weights' precision, as "
        "vLLM, SGLang and llama.cpp do unless told otherwise; fp8 halves it (vLLM's --kv-cache-dtype fp8). The "
        "engine's default when left out.",
        examples=["auto", "fp8"],
    )
    usable_memory_share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Share of GPU memory for weights and KV cache; the engine's default when left out.",
        examples=[0.9],
    )
    measured: str | None = Field(
        default=None,
        description="A probe's measured file (relative to the scenario) to fit step times to, instead of the roofline.",
        examples=["../measured/tinyllama-q4_0-cpu.json"],
    )

    @model_validator(mode="after")
    def _chunk_holds_the_batch(self) -> PerfSettings:
        # Every running sequence takes one token of a chunked step's budget; vLLM refuses a smaller budget too.
        # A batch given alone raises the engine's budget with it (perf.serving).
        if self.chunk_tokens is not None and self.max_batch is not None and self.chunk_tokens < self.max_batch:
            raise ValueError(
                f"chunk_tokens ({self.chunk_tokens}) is below max_batch ({self.max_batch}); "
                "raise chunk_tokens or lower max_batch"
            )
        return self


class SelfHostOption(Section):
    name: str = Field(description="Name of the option.", examples=["llama-70b-on-h100"])
    kind: Literal["self_host"] = Field(description="Serve an open-weight model on GPUs.", examples=["self_host"])
    model: str = Field(description="Open-weight model from the catalogue.", examples=["llama-3.3-70b-instruct"])
    precision: Precision = Field(default="fp16", description="Weight precision.", examples=["fp8"])
    gpu: str = Field(description="GPU from the catalogue.", examples=["h100-sxm"])
    gpus_per_replica: int | None = Field(
        le=64,
        default=None,
        ge=1,
        description="Tensor-parallel GPUs per replica; smallest power of two that fits if left out.",
        examples=[2],
    )
    procurement: Literal["rent", "buy"] = Field(description="Rent GPU-hours or buy the GPUs.", examples=["rent"])
    min_replicas: int = Field(le=100_000, default=1, ge=0, description="Replicas kept up at all times.", examples=[1])
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


class HybridOption(Section):
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
        le=1e6,
        default=4,
        gt=0,
        description="Waiting requests per in-house replica above which other classes go to the API (DES engine).",
        examples=[4],
    )
    overflow_ttft_ms: float | None = Field(
        le=units.MS_PER_DAY,
        default=None,
        gt=0,
        description="Predicted in-house TTFT above which other classes go to the API.",
        examples=[2000],
    )
    defer_batchable: bool = Field(
        default=True, description="Run batchable classes on spare in-house capacity off-peak.", examples=[True]
    )


Option = Annotated[ApiOption | SelfHostOption | HybridOption, Field(discriminator="kind")]


def api_terms(option: ApiOption) -> catalog.ApiTerms | None:
    """The terms an API option runs under: its named entry, else its provider's, else none known."""
    t = catalog.terms()
    return t.api(option.terms) if option.terms else t.for_provider(option.provider)


def site_of(option: SelfHostOption) -> Site:
    return option.site or ("cloud_gpu" if option.procurement == "rent" else "colocation")
