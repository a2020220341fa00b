"""Regenerate the README's benchmark figures from the benchmarks themselves.

Each figure block in README.md sits between a marker naming the command that prints it and a
closing marker:

    <!-- bench: bench_fluid.py -->
    ...whatever the command printed last time...
    <!-- /bench -->

This runs each command (`python benchmarks/<command>`, from the repository root) and puts what it
printed between the markers, so the tables are never typed by hand. The prose around them stays as
written. With names (`bench_fluid.py fidelity.py`), only the blocks whose command starts with one
of them are run. Progress goes to stderr; README.md is rewritten once, atomically, at the end.

Run: python benchmarks/readme.py [NAME ...]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from simulator.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- bench: (?P<command>[^>]+?) -->\n)(?P<body>.*?)(<!-- /bench -->)", re.DOTALL)


def run(command: str) -> str:
    """What `python benchmarks/<command>` prints, stripped of trailing blank lines."""
    script, *args = command.split()
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmarks/{command} failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout.rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only the blocks whose command starts with one of these")
    names = parser.parse_args().names
    text = README.read_text()
    commands = [m["command"] for m in BLOCK.finditer(text)]
    chosen = [c for c in commands if not names or any(c.startswith(n) for n in names)]
    if not chosen:
        raise SystemExit(f"no README block runs {' or '.join(names)}; the blocks run: {', '.join(commands)}")
    printed: dict[str, str] = {}
    for command in chosen:
        start = time.perf_counter()
        print(f"running benchmarks/{command} ...", file=sys.stderr, flush=True)
        printed[command] = run(command)
        print(f"  done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    def replace(m: re.Match[str]) -> str:
        body = printed.get(m["command"], m["body"])
        return f"{m.group(1)}{body}{m.group(4)}"

    # Read again: the README may have been edited while the benchmarks ran.
    write_atomic(README, BLOCK.sub(replace, README.read_text()))
    print(f"README.md: {len(printed)} block(s) regenerated", file=sys.stderr)


if __name__ == "__main__":
    main()
