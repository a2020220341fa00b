"""Latency of the dashboard in a real headless Chromium, on the largest bundled scenario:

1. every sidebar input, moved several times on the Decision page from the scenario's own values
   (the page is reopened before each input), each move to a value not shown before (none is
   cached): the load and price sliders with the keyboard, each self-hosted option's number inputs
   with their step buttons, and the currency and serving-engine boxes to each next choice; timed
   from the move until the page has run again and drawn its charts;
2. every page, opened from the navigation and timed until its script has run and its charts have
   drawn, on the first visit and three more; then each of the Costs page's charts, chosen three
   times.

Each move is made once the page has settled (its script run over and its charts drawn), as a reader
moves one input and reads the answer. For each move it also gives the time until the script run it
caused started, as the page saw it: what the key press or click and Streamlit's round trip cost
before any of the dashboard's code runs. Both are measured with the fluid engine, then with the DES
after its first run.

Targets: under 300 ms with the fluid engine, under 1 s with the DES (median, after the first visit).
Run: python benchmarks/bench_dashboard.py (needs chromium and the dashboard extra; prints Markdown).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import browser  # noqa: E402
from machine import header  # noqa: E402

from simulator import catalog  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "regulated-rag.yaml"
MOVES = {"fluid": 5, "des": 3}
VISITS = 4  # each page: the first visit, and three whose median is the figure
# Away from the Decision page it opens on, and back to it last.
PAGES = browser.PAGES[1:] + browser.PAGES[:1]
SLIDERS = (
    browser.VOLUME,
    "Monthly growth (%)",
    "Prompt length (x the scenario's)",
    "Output length (x the scenario's)",
    "Cached share of prompt tokens (%)",
    "API price (% of list)",
    "API price decline per year (%)",
    "GPU rental price decline per year (%)",
    "Horizon (months)",
    "Requests within targets required (%)",
)
NUMBERS = {
    "rent": ("Rental rate (USD per GPU-hour", "Staff (engineers, FTE)"),
    "buy": ("GPU price (USD per GPU)", "Electricity (USD per kWh)", "Staff (engineers, FTE)"),
}

# Marks each start of a script run, as the page sees it, on the page's clock: from each change's old
# value, since a quick run can start and end before the observer is called.
WATCH_RUNS = """() => { window.runsStarted = [];
    const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver(changes => changes.forEach(
            c => c.oldValue !== "running" && window.runsStarted.push(performance.now())))
        .observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ["data-test-script-state"]}); }"""

Move = tuple[Callable[[], None], Callable[[], None]]
"""What readies an input (focus it, open its list), untimed, and the move itself."""


def timed(page, move: Move) -> tuple[float, float]:
    """Seconds from a move, made once the page has settled, until the run it caused is over and drawn,
    and until that run started."""
    ready, act = move
    browser.settled(page)
    ready()
    start_ms = page.evaluate("() => { window.runsStarted = []; return performance.now(); }")
    start = time.perf_counter()
    act()
    browser.settled(page, "window.runsStarted.length > 0")
    answered = time.perf_counter() - start
    return answered, (page.evaluate("() => window.runsStarted[0]") - start_ms) / 1000


class Input(NamedTuple):
    label: str
    expander: str | None
    """The expander it sits in, opened before its moves."""
    moves: list[Move]


def inputs(page, moves: int) -> list[Input]:
    """Each sidebar input and its moves, each to a value not shown before."""
    sidebar = page.get_by_test_id("stSidebar")
    right = [_press(sidebar.get_by_role("slider", name=label), "ArrowRight") for label in SLIDERS]
    out = [Input(label, None, [move] * moves) for label, move in zip(SLIDERS, right, strict=True)]
    scenario = load_scenario(SCENARIO)
    currency = sidebar.get_by_role("combobox", name="Currency shown")
    others = [c for c in ("USD", "EUR", "GBP", "JPY") if c != scenario.economics.currency][:moves]
    out.append(Input("Currency shown", None, [_choose(page, currency, c) for c in others]))
    engines = [e.display_name for e in catalog.engines().values()]
    for o in scenario.options:
        if o.kind != "self_host":
            continue
        title = f"{o.name} ("
        box = sidebar.get_by_test_id("stExpander").filter(has_text=title)
        for label in NUMBERS[o.procurement]:
            step_up = box.get_by_test_id("stNumberInput").filter(has_text=label).get_by_test_id("stNumberInputStepUp")
            out.append(Input(f"{label.split(' (')[0]} of {o.name}", title, [_click(step_up)] * moves))
        engine = box.get_by_role("combobox", name="Serving engine (its batch limits and step costs)")
        others = [e for e in engines if e != catalog.engine(o.perf.engine).display_name][:moves]
        out.append(Input(f"serving engine of {o.name}", title, [_choose(page, engine, e) for e in others]))
        utilisation = box.get_by_role("slider", name="Target utilisation (%)")
        out.append(Input(f"target utilisation of {o.name}", title, [_press(utilisation, "ArrowLeft")] * moves))
    return out


def fresh(page, url: str, engine: str) -> None:
    """The dashboard reopened at the scenario's own values (each input is moved from there), on `engine`."""
    page.goto(url)
    browser.metric(page, browser.TODAY)
    if engine != "fluid":
        page.get_by_test_id("stSidebar").get_by_text(engine, exact=True).click()
        time.sleep(0.5)
        page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=600_000)
    browser.settled(page)
    page.evaluate(WATCH_RUNS)


def _press(slider, key: str) -> Move:
    return slider.focus, lambda: slider.press(key)


def _choose(page, box, option: str) -> Move:
    choice = page.get_by_role("option", name=option, exact=True)

    def open_list() -> None:
        while not choice.is_visible():  # a click on a page still scrolling into place may not open it
            box.click()
            time.sleep(0.2)

    return open_list, choice.click


def _click(button) -> Move:
    return lambda: None, button.click


def row(engine: str, what: str, moves: list[tuple[float, float]]) -> str:
    to_answer, to_start = zip(*moves, strict=True)
    ms = sorted(1000 * s for s in to_answer)
    started = statistics.median(to_start) * 1000
    return f"| {engine} | {what} | {len(moves)} | {statistics.median(ms):.0f} | {max(ms):.0f} | {started:.0f} |"


def page_visits(page, scenario: str) -> dict[str, list[float]]:
    """Seconds to open each page, on each of `VISITS` visits."""
    times: dict[str, list[float]] = {title: [] for title, _ in PAGES}
    for _visit in range(VISITS):
        for title, path in PAGES:
            heading = f"{scenario}: rent or own?" if path == "decision" else title
            start = time.perf_counter()
            page.get_by_role("link", name=title).click()  # each page has a heading of its own: wait for it
            browser.settled(page, f"document.querySelector('h1')?.innerText === {heading!r}")
            times[title].append(time.perf_counter() - start)
    return times


def visit_row(engine: str, what: str, seconds: list[float]) -> str:
    """The first visit apart: it builds what later visits reuse (a chart choice has no first visit, so all count)."""
    first, later = (seconds[0], seconds[1:]) if what in dict(PAGES) else (None, seconds)
    shown = "-" if first is None else f"{1000 * first:.0f}"
    return f"| {engine} | {what} | {shown} | {1000 * statistics.median(later):.0f} | {1000 * max(later):.0f} |"


def chart_switches(page) -> dict[str, list[float]]:
    """Seconds to show each of the Costs page's charts, chosen in turn `VISITS` - 1 times (the page opens on the
    first)."""
    page.get_by_role("link", name="Costs").click()
    browser.settled(page, "document.querySelector('h1')?.innerText === 'Costs'")
    choices = page.get_by_role("radiogroup", name="Chart")
    choices.wait_for()
    names = choices.get_by_role("radio").all_inner_texts()
    times: dict[str, list[float]] = {name: [] for name in names}
    for _round in range(VISITS - 1):
        for name in names[1:] + names[:1]:
            times[name].append(timed(page, _click(page.get_by_role("radio", name=name)))[0])
    return times


def main() -> None:
    header(
        f"a real dashboard in headless Chromium on {SCENARIO.stem}: every sidebar input moved "
        f"{MOVES['fluid']} times with the fluid engine and {MOVES['des']} with the DES (fewer where it has fewer "
        "choices) from the scenario's own values, each to a value not yet shown, on the Decision page once it has "
        "settled; timed from the move until the page has run again and drawn its charts, and until the script run "
        f"it caused started; then every page opened {VISITS} times from the navigation, timed until it has run and "
        f"drawn, and each chart of the Costs page chosen {VISITS - 1} times.",
        "under 300 ms with the fluid engine and under 1 s with the DES (median, after the first visit).",
    )
    rows = [
        "| engine | input | moves | median (ms) | slowest (ms) | until its script run starts, median (ms) |",
        "|---|---|---|---|---|---|",
    ]
    pages = [
        "| engine | page, or chart shown | first visit (ms) | later visits, median (ms) | slowest later visit (ms) |",
        "|---|---|---|---|---|",
    ]
    for engine, moves in MOVES.items():
        with browser.dashboard(SCENARIO) as url, browser.browser_page(url) as page:
            for each in inputs(page, moves):
                fresh(page, url, engine)
                if each.expander:
                    page.get_by_test_id("stSidebar").get_by_text(each.expander).click()
                rows.append(row(engine, each.label, [timed(page, move) for move in each.moves]))
                print(rows[-1], file=sys.stderr)  # a long run shows how far it has got
            fresh(page, url, engine)
            visits = page_visits(page, SCENARIO.stem)
            visits |= {f"Costs, chart: {name}": v for name, v in chart_switches(page).items()}
            assert browser.exceptions(page) == []
        pages += [visit_row(engine, title, seconds) for title, seconds in visits.items()]
    print("\n".join(rows) + "\n\n" + "\n".join(pages))


if __name__ == "__main__":
    main()
