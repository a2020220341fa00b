"""The scenario as a whole: its workload and options, and the economics, privacy, simulation and
uncertainty sections around them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator import catalog, units
from simulator.errors import suggest
from simulator.scenario.base import MAX_ITEMS, Section, Sensitivity, check_unique
from simulator.scenario.options import ApiOption, HybridOption, Option, SelfHostOption
from simulator.scenario.traffic import RequestClass, Workload

# --- economics, overrides, scenario -----------------------------------------------------------


class ExchangeRate(Section):
    per_usd: float = Field(gt=0, le=1e6, description="Units of `currency` one US dollar buys.", examples=[150.0])
    as_of: dt.date = Field(description="Date of the rate.", examples=["2026-11-01"])
    source: str = Field(min_length=1, description="Where the rate comes from.", examples=["treasury rate 2026-11"])


class Economics(Section):
    horizon_months: int = Field(default=36, ge=1, le=120, description="Months compared.", examples=[36])
    price_date: dt.date = Field(description="Date that pins every catalogue price.", examples=["2026-11-01"])
    discount_rate_per_year: float = Field(
        default=0.08, ge=0, lt=1, description="Discount rate for NPV and cost of capital.", examples=[0.08]
    )
    api_price_multiplier: float = Field(
        le=100,
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
    currency: str = Field(
        default="USD",
        pattern=r"^[A-Z]{3}$",
        description="ISO code of the currency money is shown and exported in; sums are computed in USD and "
        "converted at the ECB's reference rate of the price date (or `exchange_rate`).",
        examples=["JPY"],
    )
    exchange_rate: ExchangeRate | None = Field(
        default=None,
        description="A rate of your own in place of the ECB's (a treasury or contract rate).",
        examples=[{"per_usd": 150.0, "as_of": "2026-11-01", "source": "treasury rate 2026-11"}],
    )


class ApiPriceOverride(Section):
    provider: str = Field(description="Provider id.", examples=["openai"])
    model: str = Field(
        description="Model name; may be new (a fine-tuned model, a negotiated deal).", examples=["gpt-4o"]
    )
    input_usd_per_mtok: float = Field(le=100_000, ge=0, description="Input price.", examples=[2.5])
    cached_input_usd_per_mtok: float | None = Field(
        le=100_000, default=None, ge=0, description="Cache-read price.", examples=[1.25]
    )
    cache_write_usd_per_mtok: float | None = Field(
        le=100_000, default=None, ge=0, description="Cache-write price.", examples=[3.75]
    )
    output_usd_per_mtok: float = Field(le=100_000, ge=0, description="Output price.", examples=[10])
    batch_discount: float = Field(
        default=0, ge=0, lt=1, description="Share off every price for batch requests.", examples=[0.5]
    )
    context_tokens: int | None = Field(
        le=100_000_000, default=None, gt=0, description="Context window.", examples=[128000]
    )
    effective_date: dt.date = Field(description="Date from which the price applies.", examples=["2026-01-01"])
    source: str = Field(description="Where the price comes from.", examples=["contract 2026-01"])


class QualityFloor(Section):
    benchmark: str = Field(description="Benchmark name (prefix match).", examples=["MMLU-Pro"])
    min_score: float = Field(le=100, description="Options scoring below are not good enough.", examples=[65])


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


class Requirement(Section):
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


class Privacy(Section):
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
        table = dict(catalog.terms().default_weights.values)
        table.update({str(k): v for k, v in self.weights.items()})
        return table

    @model_validator(mode="after")
    def _some_weight(self) -> Privacy:
        if sum(self.weight_table().values()) <= 0:
            raise ValueError("the criteria weights are all zero; give at least one a positive weight")
        return self


class Simulation(Section):
    engine: Literal["fluid", "des"] = Field(
        default="des",
        description="fluid: analytic and instant; des: SimPy discrete-event simulation.",
        examples=["des"],
    )
    mode: Literal["sampled", "exact"] = Field(
        default="sampled",
        description=(
            "sampled: each sampled month's hours stand behind one window per load level; exact: each sampled "
            "month is played request by request, every hour in order, a day at a time (DES)."
        ),
        examples=["exact"],
    )
    window_minutes: float = Field(
        le=1440, default=15, gt=0, description="Length of each simulated window after warm-up (DES).", examples=[30]
    )
    warmup_minutes: float = Field(
        le=1440, default=5, ge=0, description="Warm-up before each window (DES).", examples=[10]
    )
    load_bins: int = Field(
        default=3, ge=1, le=24, description="Load levels of the week's hours, one window each (DES).", examples=[4]
    )
    sampled_months: int = Field(
        le=120,
        default=4,
        ge=1,
        description="Months simulated (first, last, evenly between); others interpolated (DES).",
        examples=[6],
    )
    max_simulated_replicas: int = Field(
        le=10_000,
        default=32,
        ge=1,
        description=(
            "Largest fleet simulated replica by replica; a bigger one is simulated as a slice of this many "
            "replicas (more if the slice would carry under 10,000 of a window's requests) serving the same "
            "share of the requests, and scaled back up (DES)."
        ),
        examples=[32],
    )
    max_window_requests: int = Field(
        default=100_000,
        ge=1_000,
        le=5_000_000,
        description=(
            "Most requests a simulated window plays: past it, a window simulates a seeded sample of its "
            "requests on the same share of the fleet and scales the totals back, so the DES's time and memory "
            "stop growing with volume; latency figures carry their sampling error (DES)."
        ),
        examples=[100_000],
    )


class Slo(Section):
    min_attainment: float = Field(
        default=0.95,
        gt=0,
        le=1,
        description="Share of each class's requests that must be within its TTFT and TPOT targets for an option "
        "to be recommended; a class's `latency.percentile` sets its own.",
        examples=[0.95, 0.9],
    )


_PARAMETERS = {
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sd_log"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
}


class UncertainInput(Section):
    field: str = Field(
        description="Dotted path of the input, as for --set (lists by index or [name]).",
        examples=["economics.api_price_decline_per_year", "options[llama].rent.usd_per_gpu_hour"],
    )
    distribution: Literal["normal", "lognormal", "uniform", "triangular"] = Field(
        description="normal (mean, sd), lognormal (median, sd_log), uniform (low, high), triangular (low, mode, high).",
        examples=["triangular"],
    )
    mean: float | None = Field(le=1e12, default=None, description="normal: mean.", examples=[0.3])
    sd: float | None = Field(le=1e12, default=None, gt=0, description="normal: standard deviation.", examples=[0.1])
    median: float | None = Field(le=1e12, default=None, gt=0, description="lognormal: median.", examples=[1.0])
    sd_log: float | None = Field(
        le=10, default=None, gt=0, description="lognormal: sd of the logarithm.", examples=[0.3]
    )
    low: float | None = Field(
        le=1e12, default=None, description="uniform and triangular: lowest value.", examples=[0.1]
    )
    mode: float | None = Field(le=1e12, default=None, description="triangular: most likely value.", examples=[0.3])
    high: float | None = Field(
        le=1e12, default=None, description="uniform and triangular: highest value.", examples=[0.5]
    )

    @model_validator(mode="after")
    def _parameters_given(self) -> UncertainInput:
        need = _PARAMETERS[self.distribution]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"{self.distribution} needs {', '.join(need)}; add {', '.join(missing)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g}); swap them")
        if self.distribution == "triangular":
            p = self.parameters()
            if not p["low"] <= p["mode"] <= p["high"]:
                raise ValueError(f"mode ({p['mode']:g}) must lie between low and high; move it")
        return self

    def parameters(self) -> dict[str, float]:
        """The distribution's parameters by name (the validator makes sure each is given)."""
        return {n: float(getattr(self, n)) for n in _PARAMETERS[self.distribution]}

    def central(self) -> float:
        """A value the draws centre on: the mean, median or mode, or the middle of a uniform range."""
        p = self.parameters()
        if self.distribution == "uniform":
            return (p["low"] + p["high"]) / 2
        return p[{"normal": "mean", "lognormal": "median", "triangular": "mode"}[self.distribution]]


class Scenario(Section):
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
        max_length=MAX_ITEMS,
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
        max_length=MAX_ITEMS,
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
    slo: Slo = Field(
        default_factory=Slo,
        description="How often latency targets must be met for an option to be recommended.",
        examples=[{"min_attainment": 0.95}],
    )
    simulation: Simulation = Field(
        default_factory=Simulation,
        description="Which engine runs the scenario and how the DES samples the horizon.",
        examples=[{"engine": "des", "window_minutes": 30}],
    )
    seed: int = Field(le=2**63 - 1, default=0, ge=0, description="Seed of every random stream.", examples=[7])

    @field_validator("options")
    @classmethod
    def _unique_option_names(cls, options: list[Option]) -> list[Option]:
        check_unique([o.name for o in options], "option")
        return options

    @model_validator(mode="after")
    def _options_refer_to_options(self) -> Scenario:
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

    def fleet_of(self, option: ApiOption | SelfHostOption | HybridOption) -> SelfHostOption | None:
        """The self-hosted option whose fleet `option` runs: itself, a hybrid's in-house half, or none."""
        if isinstance(option, HybridOption):
            own = self.option(option.self_host)
            assert isinstance(own, SelfHostOption)  # the validator checks what a hybrid names
            return own
        return option if isinstance(option, SelfHostOption) else None

    def currency(self) -> units.Currency:
        """The currency money is shown in, at the scenario's own rate or the ECB's of the price date."""
        e = self.economics
        if e.exchange_rate is not None:
            x = e.exchange_rate
            return units.Currency(e.currency, x.per_usd, x.as_of, x.source)
        from simulator.catalog.currency import exchange_rate  # the ECB table loads only when needed

        return exchange_rate(e.currency, e.price_date)

    def min_attainment(self, cls: RequestClass) -> float:
        """Share of a class's requests that must be within its latency targets."""
        p = cls.latency.percentile
        return units.percent_to_share(p) if p is not None else self.slo.min_attainment
