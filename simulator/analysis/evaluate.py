"""Costs of a scenario's options at any volume, with either engine; what runs and searches call."""

from __future__ import annotations

from collections.abc import Callable

from simulator.economics.costs import Economics
from simulator.economics.ledger import OptionCosts
from simulator.engine.des import DesEngine
from simulator.engine.fluid import FluidEngine
from simulator.engine.plan import ReplicaPlans
from simulator.i18n import _
from simulator.perf.fit import Fitted, load_fitted
from simulator.scenario import ApiOption, Scenario, SelfHostOption
from simulator.usage import OptionUsage


def with_scale(scenario: Scenario, scale: float) -> Scenario:
    return scenario.model_copy(update={"workload": scenario.workload.model_copy(update={"scale": scale})})


def measured_fits(scenario: Scenario) -> dict[str, Fitted]:
    """The fit of each self-hosted option's measured file, by option name (read once, before any engine runs)."""
    return {
        o.name: load_fitted(o.perf.measured, o.model, o.gpu)
        for o in scenario.options
        if isinstance(o, SelfHostOption) and o.perf.measured is not None
    }


ENGINES: dict[str, type[FluidEngine] | type[DesEngine]] = {"fluid": FluidEngine, "des": DesEngine}


class Evaluator:
    """Horizon costs of options at any volume; what break-even searches call many times."""

    def __init__(self, scenario: Scenario, engine: str = "fluid") -> None:
        self.scenario = scenario
        self.engine = ENGINES[engine]
        # None of these depends on volume: price tables, measured fits and replica plans are made once
        # for every scale.
        self.economics = Economics(scenario)
        self.fits = measured_fits(scenario)
        self.shapes: ReplicaPlans = {}

    def costs(
        self, names: list[str], scale: float, progress: Callable[[str], None] | None = None
    ) -> dict[str, tuple[OptionUsage, OptionCosts]]:
        """Usage and costs of each named option at `scale`; `progress` hears of each option as it starts."""
        scaled = with_scale(self.scenario, scale)
        engine = self.engine(scaled, self.fits, self.shapes)
        out = {}
        for name in names:
            if progress is not None:
                progress(_("simulating {option}").format(option=name))
            usage = engine.option_usage(scaled.option(name))
            out[name] = usage, self.economics.costs(usage)
        return out

    def gap(self, option: str, versus: str) -> Callable[[float], float]:
        """`option`'s horizon cost minus `versus`'s, at any scale."""
        if isinstance(self.scenario.option(versus), ApiOption):
            # An API's bill is affine in volume (prices per request, fine-tuning per month), so two
            # runs give it at every scale a search tries.
            one, two = (self.costs([versus], s)[versus][1].total() for s in (1.0, 2.0))

            def against_api(scale: float) -> float:
                return self.costs([option], scale)[option][1].total() - (2 * one - two + (two - one) * scale)

            return against_api

        def f(scale: float) -> float:
            c = self.costs([option, versus], scale)
            return c[option][1].total() - c[versus][1].total()

        return f
