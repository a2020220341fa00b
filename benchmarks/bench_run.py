"""Wall time of `rent-or-own run` on each bundled scenario, as a whole command, with each engine.

Method: `python -m simulator run SCENARIO --engine E --json` in a fresh process, the median of
`--repeats` runs after one warm-up (which also fills the price cache, as a user's first run does).
Each `--tree` names a checkout whose `simulator` package is timed (default: this one); with several,
their runs alternate, so a drifting machine slows them alike. Prints a Markdown table.

Run: python benchmarks/bench_run.py [--tree DIR ...] [--repeats N]
The README's "before" column: git worktree add /tmp/before a7ba961, then --tree /tmp/before --tree .
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import header

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("des", "fluid")


def once(tree: Path, scenario: str, engine: str) -> float:
    """One run of a tree on its own copy of the scenario (and of the measured files it names)."""
    # Bytecode is written as on a user's machine, even where the environment turns it off.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": str(tree)}
    path = tree / "scenarios" / f"{scenario}.yaml"
    command = [sys.executable, "-m", "simulator", "run", str(path), "--engine", engine, "--json"]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tree)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", type=Path, help="a checkout to time (default: this one)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    trees = [t.resolve() for t in args.tree or [ROOT]]
    scenarios = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    header(
        f"`python -m simulator run SCENARIO --engine E --json` in a fresh process that may write bytecode, median of "
        f"{args.repeats} runs after a warm-up that also fills the price cache, trees alternating.",
        "a fluid run as a command under 0.5 s; a 36-month DES run under 10 s.",
    )
    head = " | ".join(f"{e} (s) {t.name}" for e in ENGINES for t in trees)
    print(f"| scenario | {head} |")
    print("|---|" + "---|" * (len(ENGINES) * len(trees)))
    for scenario in scenarios:
        cells = []
        for engine in ENGINES:
            times: dict[Path, list[float]] = {t: [] for t in trees}
            for t in trees:
                once(t, scenario, engine)  # warm-up: bytecode and page cache
            for _ in range(args.repeats):
                for t in trees:
                    times[t].append(once(t, scenario, engine))
            cells += [f"{statistics.median(times[t]):.2f}" for t in trees]
            print(f"{scenario} {engine} done", file=sys.stderr, flush=True)
        print(f"| {scenario} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
