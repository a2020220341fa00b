"""Wall time of the fluid engine and of break-even searches on the bundled scenarios, of a whole run
as a scenario's first (nothing simulated or searched before it), and of a whole run after a move of
prices (a dashboard's price, rate or currency input).

Targets: a whole run, break-even searches included, under 50 ms; one break-even search under
0.5 s. Run: python benchmarks/bench_fluid.py (prints a Markdown table).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from machine import header

from simulator.analysis import evaluate
from simulator.analysis.break_even import _break_even_at_base, break_even_scale
from simulator.analysis.evaluate import Evaluator
from simulator.analysis.run import run
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 7


def median_seconds(fn, repeats: int = REPEATS) -> float:
    fn()  # warm caches (catalogue files, price tables), as a long-lived process has them
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def simulated_afresh(fn):
    """`fn` with no usage simulated and no break-even searched before it, as on a scenario's first run."""

    def afresh():
        evaluate._usages.clear()
        evaluate._plans.clear()
        evaluate._evaluator_at_base.cache_clear()
        _break_even_at_base.cache_clear()
        return fn()

    return afresh


def moved_prices(scenario, k: int):
    """The scenario with its API prices moved by k%, as the dashboard's price input makes it."""
    economics = scenario.economics.model_copy(update={"api_price_multiplier": 1 + k / 100})
    return scenario.model_copy(update={"economics": economics})


def main() -> None:
    header(
        f"the engine and economics of every option, and each break-even search, timed in-process, median of "
        f"{REPEATS} warm runs (3 for a search), usages simulated afresh; a whole run (break-evens included) with "
        "nothing simulated or searched before it; then a whole run after the API price multiplier moved, each repeat "
        "to a new value, usages reused.",
        "a whole run, break-even searches included, under 50 ms; a break-even search under 0.5 s.",
    )
    print(
        "| scenario | options | engine + economics, all options (ms) | break-even searches | slowest search (ms) "
        "| whole run, first (ms) | whole run after a price move (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path)
        names = [o.name for o in scenario.options]
        engine_s = median_seconds(simulated_afresh(lambda s=scenario, n=names: Evaluator(s).costs(n, s.workload.scale)))
        pairs = [(b.option, b.versus) for b in run(scenario).break_even]
        searches = [
            median_seconds(simulated_afresh(lambda o=o, v=v, s=scenario: break_even_scale(*Evaluator(s).gap(o, v))), 3)
            for o, v in pairs
        ]
        slowest = f"{max(searches) * 1e3:.0f}" if searches else "-"
        first_s = median_seconds(simulated_afresh(lambda s=scenario: run(s, "fluid")))
        moves = iter(range(1, 100))
        moved_s = median_seconds(lambda s=scenario, moves=moves: run(moved_prices(s, next(moves))))
        print(
            f"| {path.stem} | {len(names)} | {engine_s * 1e3:.1f} | {len(pairs)} | {slowest} | {first_s * 1e3:.0f} "
            f"| {moved_s * 1e3:.0f} |",
            flush=True,
        )
        print(f"{path.stem} done", file=sys.stderr, flush=True)  # the whole table takes several seconds


if __name__ == "__main__":
    main()
