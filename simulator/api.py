"""The Python API, for notebooks and scripts: the same calls the command line and the dashboard make.

    from simulator import api

    result = api.run("scenarios/support-assistant.yaml", engine="fluid", set=["workload.scale=2"])
    result.summary.cheapest_compliant_option     # the typed answer (the JSON contract)
    result.to_pandas("options")                  # a DataFrame per view
    result.figures.cumulative_costs()            # plotly figures, as the reports draw them
    api.sweep("scenarios/support-assistant.yaml", {"workload.scale": [0.5, 1, 2]})

Bad input raises `simulator.errors.InputError`, whose message is the CLI's one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from simulator.analysis.executors import SerialExecutor
from simulator.analysis.results import LedgerRow, RunResult
from simulator.analysis.run import run_with_ledger
from simulator.analysis.sweep import grid
from simulator.scenario import Scenario, load_scenario, scenario_from_dict, scenario_from_text, vary
from simulator.scenario.overrides import parse_set

if TYPE_CHECKING:  # pandas and plotly load only when a view or a figure is asked for
    import pandas as pd
    import plotly.graph_objects as go

Source = Scenario | str | Path | Mapping[str, Any]
View = Literal["options", "monthly", "ledger", "break_even", "latency", "privacy"]
VIEWS: tuple[View, ...] = ("options", "monthly", "ledger", "break_even", "latency", "privacy")


def load(source: Source, set: Sequence[str] = ()) -> Scenario:
    """A validated scenario from a file path, YAML text (a string of more than one line), a dict, or a
    scenario (a copy with `set` applied); `set` holds `field=value` overrides exactly as `--set` takes them."""
    if isinstance(source, Scenario):
        return vary(source, [_assignment(s) for s in set]) if set else source
    if isinstance(source, Mapping):
        scenario = scenario_from_dict(dict(source))
        return load(scenario, set)
    if isinstance(source, Path) or "\n" not in source:
        return load_scenario(source, set)
    return scenario_from_text(source, "<text>", set)


def _assignment(text: str) -> tuple[str, Any]:
    _, value = parse_set(text)
    return text.partition("=")[0], value


def run(
    source: Source,
    engine: str | None = None,
    set: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> Result:
    """Cost every option and recommend one, with `engine` (default: the scenario's `simulation.engine`)."""
    scenario = load(source, set)
    summary, ledger = run_with_ledger(scenario, engine, progress)
    return Result(scenario, summary, ledger)


def sweep(source: Source, params: Mapping[str, Sequence[float]], executor: Executor | None = None) -> pd.DataFrame:
    """Every combination of `params` (field paths, as for `set`, to values), costed with the fluid
    engine: one row each, with the values, every option's horizon cost in USD and the cheapest option
    meeting the latency targets."""
    import pandas as pd

    scenario = load(source)
    points = grid(scenario, scenario.name, [(f, list(v)) for f, v in params.items()], executor or SerialExecutor())
    return pd.DataFrame(
        [
            {
                **p.values,
                **{f"{name} (USD)": usd for name, usd in p.total_cost_usd.items()},
                "cheapest": p.cheapest_option,
            }
            for p in points
        ]
    )


def _suffixed(values: Mapping[str, float], suffix: str) -> dict[str, float]:
    return {f"{name}{suffix}": value for name, value in values.items()}


@dataclass(frozen=True)
class Result:
    """One run: the scenario it ran, the typed answer and the cost ledger behind it."""

    scenario: Scenario
    summary: RunResult
    ledger: list[LedgerRow]

    @cached_property
    def figures(self) -> Figures:
        return Figures(self)

    def to_pandas(self, view: View = "options") -> pd.DataFrame:
        """A table of the run: `options` (one row each, the answer's columns), `monthly` (cash cost per
        option and month), `ledger` (long form, both views), `break_even`, `latency` (per option and
        class, DES) or `privacy` (per option and criterion)."""
        import pandas as pd

        r = self.summary
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}; one of {', '.join(VIEWS)}")
        if view == "options":
            rows: list[dict[str, Any]] = [
                {
                    "option": o.name,
                    "kind": o.kind,
                    "total_cost_usd": o.total_cost_usd,
                    "npv_cost_usd": o.npv_cost_usd,
                    "usd_per_mtok": o.usd_per_mtok,
                    "feasible": o.feasible,
                    "meets_targets": o.meets_targets,
                    "compliant": all(o.compliant.values()),
                    "recommended": o.name == r.cheapest_compliant_option,
                    "privacy_score": o.privacy_score,
                    "gpus_peak": o.gpus_peak,
                    "perf_source": o.perf_source,
                }
                for o in r.options
            ]
        elif view == "monthly":
            rows = [
                {"month": m + 1, **{o.name: o.monthly_cost_usd[m] for o in r.options}} for m in range(r.horizon_months)
            ]
        elif view == "ledger":
            rows = [row.model_dump() for row in self.ledger]
        elif view == "break_even":
            rows = [b.model_dump() for b in r.break_even]
        elif view == "latency":
            rows = [
                {"option": o.name, "class": c, **v.model_dump()}
                for o in r.options
                for c, v in (o.latency or {}).items()
            ]
        else:
            rows = [{"option": o.name, **c.model_dump()} for o in r.options for c in o.privacy_criteria]
        return pd.DataFrame(rows)


class Figures:
    """The run's plotly figures, drawn as the dashboard and the reports draw them."""

    def __init__(self, result: Result) -> None:
        self._result = result

    def cumulative_costs(self) -> go.Figure:
        return _figures().cumulative_costs(self._result.summary)

    def monthly_costs(self) -> go.Figure:
        return _figures().monthly_costs(self._result.summary, self._result.ledger)

    def cost_versus_volume(self) -> go.Figure:
        from simulator.report.data import volume_points

        scenario = self._result.scenario
        return _figures().cost_versus_volume(self._result.summary, volume_points(scenario, scenario.name))

    def privacy(self) -> go.Figure:
        return _figures().privacy(self._result.summary)

    def latency(self) -> go.Figure | None:
        """p95 TTFT per class and option with each target marked (DES runs; None with fluid)."""
        return _figures().latency(self._result.summary)

    def capacity(self) -> go.Figure | None:
        return _figures().capacity(self._result.summary)


def _figures() -> Any:
    """The figures module, imported when a figure is first asked for: plotly takes a second to load."""
    from simulator.report import figures

    return figures
