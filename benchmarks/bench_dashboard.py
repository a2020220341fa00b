"""Slider latency of the dashboard in a real headless Chromium: median time from a key press on the
volume slider to the updated metric, over 20 presses, on the largest bundled scenario.

Targets: under 300 ms with the fluid engine, under 1 s with the DES. The presses walk the volume
from 0.1x to 10x the scenario's, each to a volume not seen before, so none is answered from the cache.
Run: python benchmarks/bench_dashboard.py (needs chromium and the dashboard extra; prints Markdown).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import browser  # noqa: E402
from machine import header  # noqa: E402

SCENARIO = ROOT / "scenarios" / "regulated-rag.yaml"
PRESSES = 20


def main() -> None:
    header(
        f"a real dashboard in headless Chromium on {SCENARIO.stem}: {PRESSES} key presses on the volume slider, "
        "each to a volume not yet cached, timed from the press to the updated metric.",
        "under 300 ms with the fluid engine and under 1 s with the DES (median).",
    )
    print("| engine | scenario | presses | median (ms) | p90 (ms) |\n|---|---|---|---|---|")
    for engine in ("fluid", "des"):
        with browser.dashboard(SCENARIO) as url, browser.browser_page(url) as page:
            if engine != "fluid":
                page.get_by_test_id("stSidebar").get_by_text(engine, exact=True).click()
                time.sleep(0.5)
                page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=600_000)
            browser.press_and_wait(page, browser.VOLUME, "Home", browser.TODAY)  # 0.1x; 20 presses reach 10x
            seconds = [
                browser.press_and_wait(page, browser.VOLUME, "ArrowRight", browser.TODAY) for _ in range(PRESSES)
            ]
            assert browser.exceptions(page) == []
        ms = sorted(1000 * s for s in seconds)
        print(
            f"| {engine} | {SCENARIO.stem} | {PRESSES} | {statistics.median(ms):.0f} | "
            f"{ms[int(0.9 * (len(ms) - 1))]:.0f} |"
        )


if __name__ == "__main__":
    main()
