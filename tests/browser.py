"""A real dashboard server driven by a real headless Chromium (Playwright on Debian's chromium).

Shared by the browser test and `benchmarks/bench_dashboard.py`, so both measure the same thing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from simulator.report.pdf import CHROMIUM_FLAGS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VOLUME = "Volume (x the scenario's)"
TODAY = "Today's volume"
START_TIMEOUT_S = 120
UPDATE_TIMEOUT_MS = 60_000
PAGES = (  # every page's title and address, the one it opens on first
    ("Decision", "decision"),
    ("Costs", "costs"),
    ("Capacity and latency", "latency"),
    ("Privacy and control", "privacy"),
    ("Uncertainty", "uncertainty"),
    ("Measurements", "measurements"),
    ("Scenario", "scenario"),
    ("Export", "export"),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dashboard(scenario: Path | None = None, env: dict[str, str] | None = None) -> Iterator[str]:
    """`rent-or-own dashboard` on a free port, `env` added to its environment; yields its URL once
    /_stcore/health answers."""
    port = _free_port()
    command = [sys.executable, "-m", "simulator", "dashboard", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            command + ([str(scenario)] if scenario else []),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"dashboard did not start: {log.read().decode(errors='replace')[-2000:]}")
                time.sleep(0.2)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


@contextmanager
def browser_page(url: str, ready: str = TODAY) -> Iterator[Page]:
    """A headless Chromium page on `url`, once the metric labelled `ready` shows: the first run has drawn the answer."""
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport={"width": 1400, "height": 1000},
        )
        page = context.new_page()
        page.goto(url)
        metric(page, ready)
        yield page
        context.close()


def metric(page: Page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return box.get_by_test_id("stMetricValue").inner_text(timeout=UPDATE_TIMEOUT_MS)


def exceptions(page: Page) -> list[str]:
    return page.get_by_test_id("stException").all_inner_texts()


def press_and_wait(page: Page, slider_label: str, key: str, watched: str) -> float:
    """Press a key on a slider; seconds until the watched metric shows a new value."""
    slider = page.get_by_role("slider", name=slider_label)
    slider.focus()
    return act_and_wait(page, lambda: slider.press(key), watched)


def act_and_wait(page: Page, act: Callable[[], None], watched: str) -> float:
    """Do something to an input; seconds until the watched metric shows a new value."""
    before = metric(page, watched)
    start = time.perf_counter()
    act()
    page.wait_for_function(
        """([label, before]) => [...document.querySelectorAll('[data-testid="stMetric"]')]
            .some(m => m.innerText.includes(label)
                 && m.querySelector('[data-testid="stMetricValue"]').innerText !== before)""",
        arg=[watched, before],
        timeout=UPDATE_TIMEOUT_MS,
        polling="raf",
    )
    return time.perf_counter() - start


def settled(page: Page, ready: str = "true") -> None:
    """Wait until the script run is over, nothing stale is left, every chart has drawn its text and
    `ready` (a JavaScript expression) holds."""
    page.wait_for_function(
        f"""() => document.querySelector('[data-testid="stApp"]').dataset.testScriptState === "notRunning"
            && !document.querySelector('[data-stale="true"]')
            && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                .every(c => c.querySelector(".main-svg text"))
            && ({ready})""",
        timeout=UPDATE_TIMEOUT_MS,
    )
