"""The `workload:` section: classes of requests, their token lengths and latency targets, and the
load's daily and weekly shape, growth and bursts."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from simulator import catalog, units
from simulator.errors import suggest
from simulator.scenario.base import MAX_ITEMS, MAX_TOKENS, MAX_WEIGHT, Section, Sensitivity, check_unique

# --- token-length distributions ---------------------------------------------------------------


class FixedTokens(Section):
    kind: Literal["fixed"] = Field(
        default="fixed", description="Every request has the same length.", examples=["fixed"]
    )
    tokens: int = Field(le=MAX_TOKENS, gt=0, description="Every request has exactly this many tokens.", examples=[512])

    def scaled(self, factor: float) -> FixedTokens:
        """Lengths `factor` times as long, in whole tokens."""
        return self.model_copy(update={"tokens": max(1, round(self.tokens * factor))})


class LognormalTokens(Section):
    kind: Literal["lognormal"] = Field(
        default="lognormal", description="Lognormal lengths given by mean and p95.", examples=["lognormal"]
    )
    mean: float = Field(le=MAX_TOKENS, gt=0, description="Mean tokens per request.", examples=[800])
    p95: float = Field(
        le=MAX_TOKENS, gt=0, description="95th-percentile tokens per request (above the mean).", examples=[2400]
    )

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


class HistogramTokens(Section):
    kind: Literal["histogram"] = Field(
        default="histogram", description="Lengths drawn from a histogram.", examples=["histogram"]
    )
    tokens: list[Annotated[int, Field(gt=0, le=MAX_TOKENS)]] = Field(
        min_length=1, description="Token counts of the histogram's bars.", examples=[[256, 1024, 8192]]
    )
    weights: list[Annotated[float, Field(ge=0, le=MAX_WEIGHT)]] = Field(
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


class LatencyTarget(Section):
    ttft_ms: float = Field(
        le=units.MS_PER_DAY, gt=0, description="Time to first token at the percentile, milliseconds.", examples=[800]
    )
    tpot_ms: float = Field(
        le=units.MS_PER_DAY, gt=0, description="Time per output token at the percentile, milliseconds.", examples=[50]
    )
    e2e_ms: float | None = Field(
        le=units.MS_PER_DAY,
        default=None,
        gt=0,
        description="End-to-end latency at the percentile, milliseconds: reported beside the DES's percentiles; "
        "the recommendation judges TTFT and TPOT.",
        examples=[30000],
    )
    percentile: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="Percentile the targets hold at: that share of the class's requests must be within them "
        "for an option to be recommended (default: slo.min_attainment).",
        examples=[95, 99],
    )


def _preset_latency(value: Any) -> Any:
    if isinstance(value, str):
        presets = catalog.latency_presets()
        if value not in presets:
            raise ValueError(f"unknown latency preset {value!r}; {suggest(value, presets)}")
        p = presets[value]
        return {"ttft_ms": p.ttft_ms, "tpot_ms": p.tpot_ms, "e2e_ms": p.e2e_ms}
    return value


class RequestClass(Section):
    name: str = Field(description="Name of the class of requests.", examples=["chat"])
    requests_per_day: float = Field(
        le=1e11,
        gt=0,
        description="Average requests per day in the first month, before `workload.scale`.",
        examples=[20000],
    )
    input_tokens: TokenDistribution = Field(
        description="Prompt tokens per request: an integer, or a fixed, lognormal or histogram distribution.",
        examples=[{"kind": "lognormal", "mean": 1200, "p95": 3500}],
    )
    output_tokens: TokenDistribution = Field(
        description="Visible output tokens per request.", examples=[{"kind": "lognormal", "mean": 300, "p95": 900}]
    )
    reasoning_tokens_per_request: float = Field(
        le=MAX_TOKENS,
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
        default="interactive",  # resolved by the preset validator
        validate_default=True,
        description="A preset (instant, conversational, interactive, deferred, batch) or explicit targets.",
        examples=["conversational", {"ttft_ms": 800, "tpot_ms": 50}],
    )
    batchable: bool = Field(
        default=False, description="Can wait for a batch API or off-peak GPU time.", examples=[False]
    )
    burstiness: float = Field(
        default=1,
        gt=0,
        le=100,
        description="Shape of the Gamma gaps between arrivals (DES): 1 is Poisson, below 1 burstier, above 1 more "
        "even, as vllm bench serve --burstiness.",
        examples=[1, 0.5],
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


class Burst(Section):
    multiplier: float = Field(
        le=1000, gt=1, description="Load during a burst, as a multiple of the hour's rate.", examples=[3]
    )
    duration_minutes: float = Field(gt=0, le=60, description="Length of one burst, minutes.", examples=[10])
    per_day: float = Field(le=1440, gt=0, description="Bursts per day.", examples=[2])


class Workload(Section):
    classes: list[RequestClass] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="Classes of requests.",
        examples=[[{"name": "chat", "requests_per_day": 20000, "input_tokens": 1200, "output_tokens": 300}]],
    )
    daily_profile: Annotated[list[Annotated[float, Field(ge=0, le=MAX_WEIGHT)]], BeforeValidator(_preset_profile)] = (
        Field(
            default="flat",  # resolved by the preset validator
            validate_default=True,
            min_length=24,
            max_length=24,
            description="24 hourly weights in local time, or a preset: flat, business_hours, consumer_evening, "
            "overnight_batch.",
            examples=["business_hours"],
        )
    )
    weekly_weights: list[Annotated[float, Field(ge=0, le=MAX_WEIGHT)]] = Field(
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
        max_length=MAX_ITEMS,
        description="Short spikes above the hourly rate.",
        examples=[[{"multiplier": 3, "duration_minutes": 10, "per_day": 2}]],
    )
    scale: float = Field(
        le=1e6,
        default=1,
        gt=0,
        description="Multiplier on every class's request rate (the volume knob).",
        examples=[1, 10],
    )
    utc_offset_hours: float = Field(
        default=0, ge=-12, le=14, description="Offset of the daily profile's local time from UTC.", examples=[-5]
    )

    @field_validator("utc_offset_hours")
    @classmethod
    def _quarter_hours(cls, hours: float) -> float:
        # Every time zone is a whole number of quarter hours from UTC.
        if not (hours * 4).is_integer():
            raise ValueError(f"{hours} is not a whole number of quarter hours; time zones are, e.g. -5 or 5.5")
        return hours

    @field_validator("daily_profile", "weekly_weights")
    @classmethod
    def _not_all_zero(cls, weights: list[float]) -> list[float]:
        if sum(weights) <= 0:
            raise ValueError("weights must not all be zero; give at least one positive weight")
        return weights

    @field_validator("classes")
    @classmethod
    def _unique_class_names(cls, classes: list[RequestClass]) -> list[RequestClass]:
        check_unique([c.name for c in classes], "class")
        return classes
