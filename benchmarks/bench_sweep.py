"""Monte Carlo of 1,000 samples of a bundled scenario with the fluid engine, on each executor.

Target: under 30 s on 2 local processes. Run: python benchmarks/bench_sweep.py
"""

from __future__ import annotations

import time
from pathlib import Path

from machine import header

from simulator.analysis import sweep
from simulator.analysis.executors import make_executor
from simulator.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "support-assistant.yaml"
SAMPLES = 1000


def main() -> None:
    header(
        f"Monte Carlo of {SAMPLES} samples of {SCENARIO.stem}, fluid engine, wall time on each executor.",
        "under 30 s on 2 local processes.",
    )
    scenario = load_scenario(SCENARIO)
    timings = {}
    for kind in ("serial", "process", "dask"):
        executor, close = make_executor(kind, workers=2)
        try:
            start = time.perf_counter()
            sweep.monte_carlo(scenario, str(SCENARIO), SAMPLES, executor)
            timings[kind] = time.perf_counter() - start
        finally:
            close()
    print(f"| executor ({SAMPLES} samples of {SCENARIO.stem}) | wall time (s) | speed-up over serial |")
    print("|---|---|---|")
    for kind, label in (
        ("serial", "this process"),
        ("process", "2 local processes"),
        ("dask", "Dask LocalCluster, 2 workers"),
    ):
        print(f"| {label} | {timings[kind]:.1f} | {timings['serial'] / timings[kind]:.2f}x |")


if __name__ == "__main__":
    main()
