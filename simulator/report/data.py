"""Everything a report shows, gathered once: the run, its ledger, costs across volumes and, when the
scenario has uncertain inputs, Monte Carlo bands and a tornado."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.analysis import sweep
from simulator.analysis.executors import SerialExecutor
from simulator.analysis.results import LedgerRow, RunResult
from simulator.analysis.run import run_with_ledger
from simulator.scenario import Scenario

VOLUME_SPAN = (0.1, 100.0)  # cost-versus-volume chart, as multiples of today's volume
VOLUME_POINTS = 13
REPORT_SAMPLES = 200


@dataclass
class ReportData:
    result: RunResult
    ledger: list[LedgerRow]
    volume: list[sweep.GridPoint]
    monte_carlo: sweep.MonteCarlo | None
    tornado: tuple[dict[str, float], list[sweep.TornadoBar]] | None


def volume_points(scenario: Scenario, source: str) -> list[sweep.GridPoint]:
    """Every option's cost at multiples of today's volume, for the cost-versus-volume chart."""
    scales = (scenario.workload.scale * np.geomspace(*VOLUME_SPAN, VOLUME_POINTS)).tolist()
    return sweep.grid(scenario, source, [("workload.scale", scales)], SerialExecutor())


def uncertainty(
    scenario: Scenario, source: str, samples: int = REPORT_SAMPLES
) -> tuple[sweep.MonteCarlo, tuple[dict[str, float], list[sweep.TornadoBar]]]:
    """Monte Carlo over the scenario's uncertain inputs, and the tornado between their P10 and P90."""
    serial = SerialExecutor()
    mc = sweep.monte_carlo(scenario, source, samples, serial)
    values = sweep.draw(scenario.uncertainty, samples, scenario.seed)
    bounds = [
        (u.field, float(np.percentile(values[:, k], 10)), float(np.percentile(values[:, k], 90)))
        for k, u in enumerate(scenario.uncertainty)
    ]
    return mc, sweep.tornado(scenario, source, bounds, serial)


def gather(
    scenario: Scenario,
    source: str,
    engine: str | None = None,
    ran: tuple[RunResult, list[LedgerRow]] | None = None,
) -> ReportData:
    """Everything a report shows; `ran` reuses a run already made (batch runs)."""
    result, ledger = ran or run_with_ledger(scenario, engine)
    mc, tornado = uncertainty(scenario, source) if scenario.uncertainty else (None, None)
    return ReportData(result, ledger, volume_points(scenario, source), mc, tornado)
