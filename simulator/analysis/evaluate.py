"""Costs of a scenario's options at any volume, with either engine; what runs and searches call."""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from simulator import i18n
from simulator.economics.costs import Economics
from simulator.economics.ledger import OptionCosts
from simulator.engine.fluid import FluidEngine
from simulator.engine.plan import ReplicaPlans
from simulator.i18n import _
from simulator.perf.fit import Fitted, load_fitted
from simulator.scenario import ApiOption, Scenario, SelfHostOption
from simulator.usage import OptionUsage

if TYPE_CHECKING:
    from simulator.engine.des import DesEngine


def with_scale(scenario: Scenario, scale: float) -> Scenario:
    return scenario.model_copy(update={"workload": scenario.workload.model_copy(update={"scale": scale})})


# Usages already simulated, by what they rest on: a move of a price, a rate or the currency costs
# the options again without simulating them again (about 16 KB an entry).
USAGE_CACHE_ENTRIES = 2048
_usages: OrderedDict[tuple[str, str, str, float, str], OptionUsage] = OrderedDict()
_lock = threading.Lock()  # guards this module's caches (the dashboard runs sessions in threads)


# Replica plans by what they rest on and the language of their reasons: a scenario's runs at every
# volume and price, and its break-even searches, plan each replica shape once.
PLAN_CACHE_ENTRIES = 64
_plans: OrderedDict[tuple[str, str], ReplicaPlans] = OrderedDict()


def _replica_plans(scenario: Scenario, inputs: str) -> ReplicaPlans:
    key = (inputs, i18n.language())
    with _lock:
        plans = _plans.get(key)
        if plans is None:
            plans = _plans[key] = ReplicaPlans(scenario)
            if len(_plans) > PLAN_CACHE_ENTRIES:
                _plans.popitem(last=False)
        _plans.move_to_end(key)
    return plans


def engine_inputs(scenario: Scenario) -> str:
    """What an engine's usage rests on, as JSON: the scenario less its prices, money settings and
    running costs, which engines never read (they model dynamics; the economics turns usage into
    dollars), at scale 1."""
    data = with_scale(scenario, 1.0).model_dump(mode="json")
    e = data["economics"]
    data["economics"] = {"horizon_months": e["horizon_months"], "price_date": e["price_date"]}
    for o in data["options"]:
        if o["kind"] == "self_host":
            o.pop("operations", None)
            if o.get("rent"):
                o["rent"].pop("usd_per_gpu_hour", None)
            if o.get("buy"):
                o["buy"] = {"purchase": o["buy"]["purchase"]}
    return json.dumps(data, sort_keys=True)


def measured_fits(scenario: Scenario) -> dict[str, Fitted]:
    """The fit of each self-hosted option's measured file, by option name (read once, before any engine runs)."""
    return {
        o.name: load_fitted(o.perf.measured, o.model, o.gpu)
        for o in scenario.options
        if isinstance(o, SelfHostOption) and o.perf.measured is not None
    }


def engine_class(name: str) -> type[FluidEngine] | type[DesEngine]:
    """The engine called `name`; the discrete-event one (and SimPy) loads only when a run asks for it."""
    if name == "fluid":
        return FluidEngine
    if name == "des":
        from simulator.engine.des import DesEngine

        return DesEngine
    raise ValueError(f"no engine is called {name!r}; the engines are fluid and des")


def _within(progress: Callable[[str], None] | None, option: str) -> Callable[[str], None] | None:
    """`progress` told of the steps inside one option's simulation."""
    if progress is None:
        return None
    return lambda step: progress(_("simulating {option}: {step}").format(option=option, step=step))


class Evaluator:
    """Horizon costs of options at any volume; what break-even searches call many times."""

    def __init__(self, scenario: Scenario, engine: str = "fluid") -> None:
        self.scenario = scenario
        self.engine = engine_class(engine)
        # None of these depends on volume: price tables, measured fits and replica plans are made once
        # for every scale.
        self.engine_name = engine
        self.economics = Economics(scenario)
        self.fits = measured_fits(scenario)
        self.inputs = engine_inputs(scenario)
        self.shapes = _replica_plans(scenario, self.inputs)

    def costs(
        self, names: list[str], scale: float, progress: Callable[[str], None] | None = None
    ) -> dict[str, tuple[OptionUsage, OptionCosts]]:
        """Usage and costs of each named option at `scale`; `progress` hears of each option as it starts."""
        scaled = with_scale(self.scenario, scale)
        engine: FluidEngine | DesEngine | None = None
        out = {}
        for name in names:
            if progress is not None:
                progress(_("simulating {option}").format(option=name))
            # Usage holds the core's reasons in words, so the language is part of what it rests on.
            key = (self.inputs, self.engine_name, name, scale, i18n.language())
            with _lock:
                usage = _usages.get(key)
                if usage is not None:
                    _usages.move_to_end(key)
            if usage is None:
                engine = engine or self.engine(scaled, self.fits, self.shapes)
                usage = engine.option_usage(scaled.option(name), _within(progress, name))
                with _lock:
                    _usages[key] = usage
                    if len(_usages) > USAGE_CACHE_ENTRIES:
                        _usages.popitem(last=False)
            out[name] = usage, self.economics.costs(usage)
        return out

    def gap(self, option: str, versus: str) -> Gap:
        """`option`'s horizon cost minus `versus`'s at any scale, with a floor under it against an API."""
        if isinstance(self.scenario.option(versus), ApiOption):
            # An API's bill is affine in volume (prices per request, fine-tuning per month), so two
            # runs give it at every scale a search tries.
            one, two = (self.costs([versus], s)[versus][1].total() for s in (1.0, 2.0))

            def api(scale: float) -> float:
                return 2 * one - two + (two - one) * scale

            def against_api(scale: float) -> float:
                return self.costs([option], scale)[option][1].total() - api(scale)

            # What the option costs at any volume (a hair less, for the order sums are taken in).
            fixed = (1 - 1e-9) * self.costs([option], 1.0)[option][1].volume_free_usd()
            return Gap(against_api, lambda scale: fixed - api(scale))

        def f(scale: float) -> float:
            c = self.costs([option, versus], scale)
            return c[option][1].total() - c[versus][1].total()

        return Gap(f, None)


class Gap(NamedTuple):
    """One option's horizon cost minus another's at a scale (`at`), and where known a cheap value it
    never goes below (`floor`): `break_even_scale`'s arguments."""

    at: Callable[[float], float]
    floor: Callable[[float], float] | None


class AtBase:
    """A scenario at scale 1 in USD, equal to another when their JSON is: a cache key that keeps the typed
    copy. What engines and economics compute rests on neither today's volume nor the currency money is
    shown in (converted afterwards), so every volume and currency of a scenario shares it."""

    def __init__(self, scenario: Scenario) -> None:
        in_usd = scenario.economics.model_copy(update={"currency": "USD", "exchange_rate": None})
        self.scenario = with_scale(scenario, 1.0).model_copy(update={"economics": in_usd})
        self.json = self.scenario.model_dump_json()

    def __hash__(self) -> int:
        return hash(self.json)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AtBase) and other.json == self.json


def evaluator_at_base(base: AtBase, engine: str = "fluid") -> Evaluator:
    """One evaluator for a scenario's runs at every volume and currency and its break-even searches, so its
    price tables and measured fits are made once (per language: the usages' reasons are in words)."""
    return _evaluator_at_base(base, engine, i18n.language())


@functools.lru_cache(maxsize=16)
def _evaluator_at_base(base: AtBase, engine: str, language: str) -> Evaluator:
    return Evaluator(base.scenario, engine)
