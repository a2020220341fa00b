"""Latency of the dashboard in a real headless Chromium, on the largest bundled scenario:

1. the volume slider: median time from a key press to the updated metric, over 20 presses that walk
   the volume from 0.1x to 10x the scenario's, each to a volume not seen before (none is cached);
2. a price input: 10 clicks on the electricity step of the owned option, each to a price not seen
   before, timed to the updated cost of privacy (the engines' usages are reused; prices are costed);
3. every page, opened from the navigation and timed until its script has run and its charts have
   drawn, on the first visit and the second.

Each move is made once the page has settled (its script run over and its charts drawn), as a reader
moves one input and reads the answer. For each move it also gives the time until the script run it
caused started, as the page saw it: what the key press or click and Streamlit's round trip cost
before any of the dashboard's code runs.

Targets: under 300 ms with the fluid engine, under 1 s with the DES (after the first visit).
Run: python benchmarks/bench_dashboard.py (needs chromium and the dashboard extra; prints Markdown).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import browser  # noqa: E402
from machine import header  # noqa: E402

SCENARIO = ROOT / "scenarios" / "regulated-rag.yaml"
OWNED = "llama-70b-on-premises"
PRESSES = 20
CLICKS = 10
# Away from the Decision page it opens on, and back to it last.
PAGES = browser.PAGES[1:] + browser.PAGES[:1]


# Marks each start of a script run, as the page sees it, on the page's clock.
WATCH_RUNS = """() => { window.runsStarted = [];
    const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver(() => app.dataset.testScriptState === "running" && window.runsStarted.push(performance.now()))
        .observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]}); }"""


def median_and_p90(seconds: list[float]) -> str:
    ms = sorted(1000 * s for s in seconds)
    return f"{statistics.median(ms):.0f} | {ms[int(0.9 * (len(ms) - 1))]:.0f}"


def timed(page, move: Callable[[], float]) -> tuple[float, float]:
    """Seconds from a move, made once the page has settled, to its updated metric and to the start of
    the script run it caused."""
    browser.settled(page)
    start = page.evaluate("() => { window.runsStarted = []; return performance.now(); }")
    seconds = move()
    return seconds, (page.evaluate("() => window.runsStarted[0]") - start) / 1000


def electricity_clicks(page) -> list[tuple[float, float]]:
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text(f"{OWNED} (buy", exact=False).click()
    step_up = (
        sidebar.get_by_test_id("stNumberInput")
        .filter(has_text="Electricity (USD per kWh)")
        .get_by_test_id("stNumberInputStepUp")
    )
    return [timed(page, lambda: browser.act_and_wait(page, step_up.click, "Cost of privacy")) for _ in range(CLICKS)]


def row(engine: str, what: str, moves: list[tuple[float, float]]) -> str:
    to_metric, to_start = zip(*moves, strict=True)
    started = statistics.median(to_start) * 1000
    return f"| {engine} | {what} | {len(moves)} | {median_and_p90(list(to_metric))} | {started:.0f} |"


def page_visits(page, scenario: str) -> dict[str, list[float]]:
    """Seconds to open each page, on the first visit and the second."""
    times: dict[str, list[float]] = {title: [] for title, _ in PAGES}
    for _visit in range(2):
        for title, path in PAGES:
            heading = f"{scenario}: rent or own?" if path == "decision" else title
            start = time.perf_counter()
            page.get_by_role("link", name=title).click()  # each page has a heading of its own: wait for it
            browser.settled(page, f"document.querySelector('h1')?.innerText === {heading!r}")
            times[title].append(time.perf_counter() - start)
    return times


def main() -> None:
    header(
        f"a real dashboard in headless Chromium on {SCENARIO.stem}: {PRESSES} key presses on the volume slider and "
        f"{CLICKS} clicks on an electricity price, each to a value not yet cached, timed from the move to the "
        "updated metric, each on a settled page, and to the start of the script run it caused; then every page "
        "opened twice from the navigation, timed until it has run and drawn.",
        "under 300 ms with the fluid engine and under 1 s with the DES (median, after the first visit).",
    )
    rows = [
        "| engine | input | moves | median (ms) | p90 (ms) | until its script run starts, median (ms) |",
        "|---|---|---|---|---|---|",
    ]
    pages = ["| engine | page | first visit (ms) | second visit (ms) |", "|---|---|---|---|"]
    for engine in ("fluid", "des"):
        with browser.dashboard(SCENARIO) as url, browser.browser_page(url) as page:
            if engine != "fluid":
                page.get_by_test_id("stSidebar").get_by_text(engine, exact=True).click()
                time.sleep(0.5)
                page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=600_000)
            page.evaluate(WATCH_RUNS)
            browser.press_and_wait(page, browser.VOLUME, "Home", browser.TODAY)  # 0.1x; 20 presses reach 10x
            presses = [
                timed(page, lambda: browser.press_and_wait(page, browser.VOLUME, "ArrowRight", browser.TODAY))
                for _ in range(PRESSES)
            ]
            clicks = electricity_clicks(page)
            visits = page_visits(page, SCENARIO.stem)
            assert browser.exceptions(page) == []
        rows += [row(engine, "volume slider", presses), row(engine, f"electricity of {OWNED}", clicks)]
        pages += [f"| {engine} | {t} | {1000 * v[0]:.0f} | {1000 * v[1]:.0f} |" for t, v in visits.items()]
    print("\n".join(rows) + "\n\n" + "\n".join(pages))


if __name__ == "__main__":
    main()
