"""What every benchmark prints above its figures: the machine it ran on, the method and the target,
so a figure copied anywhere carries them."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from simulator.engine import replica


def machine() -> str:
    """The CPU model, its cores, the Python that ran the benchmark and whether the engine's hot path ran
    compiled (setup.py)."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        model = names[0] if names else model
    build = "Python" if (replica.__file__ or "").endswith(".py") else "compiled by mypyc"
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, engine {build}"


def header(method: str, target: str) -> None:
    """The three lines above a benchmark's tables (Markdown: each ends with a line break)."""
    print(f"Machine: {machine()}.  \nMethod: {method}  \nTarget: {target}\n")
