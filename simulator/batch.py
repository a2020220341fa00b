"""Many scenarios at once: each in its own process, its outputs in its own folder.

A scenario that fails is reported by name with its one-line error; the others still complete. Each
scenario's folder is named from its file's stem, made safe; two scenarios whose stems collide get
distinct folders (-2, -3 ... in the order given), which the summary names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from simulator import api, i18n
from simulator.analysis.results import json_text, ledger_csv
from simulator.errors import InputError
from simulator.files import write_atomic
from simulator.scenario import load_scenario


@dataclass(frozen=True)
class Outcome:
    path: str
    error: str | None = None
    folder: str | None = None
    cheapest_option: str | None = None
    cheapest_compliant_option: str | None = None
    cost_of_privacy_usd: float | None = None
    cheapest_total_usd: float | None = None


def folder_names(paths: list[str]) -> list[str]:
    """A distinct folder name per scenario: its file's stem with anything but letters, digits, '.', '_' and
    '-' replaced and no leading dots (so never '..'), then -2, -3 ... where an earlier one took it."""
    names: list[str] = []
    for path in paths:
        base = re.sub(r"[^A-Za-z0-9._-]", "-", Path(path).stem).lstrip(".") or "scenario"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}-{n}"
        names.append(name)
    return names


def run_one(
    path: str,
    folder: Path,
    engine: str | None,
    overrides: tuple[str, ...],
    formats: tuple[str, ...] = (),
    language: str = i18n.SOURCE_LANGUAGE,
) -> Outcome:
    """Run one scenario file and write `<folder>/summary.json`, `ledger.csv` and any reports (in `language`)."""
    try:
        ran = api.run(load_scenario(path, overrides), engine)
        scenario, result, ledger = ran.scenario, ran.summary, ran.ledger
        write_atomic(folder / "summary.json", json_text(result) + "\n")
        write_atomic(folder / "ledger.csv", ledger_csv(ledger))
        if formats:
            # plotly and xlsxwriter (the `reports` extra) load only when reports are asked for
            from simulator.report.data import gather
            from simulator.report.write import write

            with i18n.using(language):
                write(gather(scenario, path, engine, (result, ledger)), folder, list(formats), folder.name)
    except InputError as e:
        return Outcome(path, error=str(e.at(path)))
    cheapest = next((o for o in result.options if o.name == result.cheapest_option), None)
    return Outcome(
        path,
        folder=str(folder),
        cheapest_option=result.cheapest_option,
        cheapest_compliant_option=result.cheapest_compliant_option,
        cost_of_privacy_usd=result.cost_of_privacy_usd,
        cheapest_total_usd=cheapest.total_cost_usd if cheapest else None,
    )


def run_batch(
    paths: Iterable[str],
    out: str,
    engine: str | None = None,
    overrides: tuple[str, ...] = (),
    executor: Executor | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    formats: tuple[str, ...] = (),
) -> list[Outcome]:
    """Run every scenario on `executor` (local processes by default); outcomes in the order given, reports
    in the active language."""
    paths = list(paths)
    own = executor is None
    pool = executor or ProcessPoolExecutor()
    try:
        folders = [Path(out) / name for name in folder_names(paths)]
        futures = {
            pool.submit(run_one, p, folder, engine, tuple(overrides), formats, i18n.language()): p
            for p, folder in zip(paths, folders, strict=True)
        }
        done: dict[str, Outcome] = {}
        for future in as_completed(futures):
            outcome = future.result()
            done[futures[future]] = outcome
            if on_done is not None:
                on_done(outcome)
    finally:
        if own:
            pool.shutdown()
    return [done[p] for p in paths]
