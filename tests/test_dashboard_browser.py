"""The dashboard in a real headless Chromium: load it, move the volume slider with the keyboard, see
the answer change, and never see a Streamlit exception box. CI sets RENT_OR_OWN_REQUIRE_BROWSER, so
there it runs or fails; elsewhere it skips when Chromium or Playwright is missing."""

from __future__ import annotations

import os
import shutil
from html import unescape
from pathlib import Path

import pytest

REQUIRED = bool(os.environ.get("RENT_OR_OWN_REQUIRE_BROWSER"))
if not REQUIRED:
    pytest.importorskip("playwright", reason="pip install -e '.[dashboard]' for the browser test")
    pytest.importorskip("streamlit", reason="pip install -e '.[dashboard]' for the browser test")
    if not shutil.which("chromium"):
        pytest.skip("no chromium on PATH (apt-get install chromium)", allow_module_level=True)

import browser  # noqa: E402

from simulator.report import style  # noqa: E402

from helpers import tokens_of  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_volume_slider_moves_the_answer_in_a_real_browser() -> None:
    with browser.dashboard() as url, browser.browser_page(url) as page:
        assert page.title() == "rent-or-own"
        before = browser.metric(page, browser.TODAY)
        browser.press_and_wait(page, browser.VOLUME, "ArrowRight", browser.TODAY)
        after = browser.metric(page, browser.TODAY)
        # The next volume step is 1.2x: today's volume grows by a fifth (as read to three figures).
        assert tokens_of(after) == pytest.approx(1.2 * tokens_of(before), rel=2e-3)
        assert page.get_by_role("slider", name=browser.VOLUME).get_attribute("aria-valuetext") == "1.2"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "dashboard-decision.png", full_page=True)
        for title, path in (
            ("Costs", "costs"),
            ("Capacity and latency", "latency"),
            ("Privacy and control", "privacy"),
            ("Uncertainty", "uncertainty"),
            ("Measurements", "measurements"),
            ("Scenario", "scenario"),
            ("Export", "export"),
        ):
            page.get_by_role("link", name=title).click()
            page.wait_for_url(f"**/{path}")
            page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=browser.UPDATE_TIMEOUT_MS)
            assert browser.exceptions(page) == [], title
            assert page.get_by_role("heading", level=1).first.inner_text().startswith(title), title
            if path == "costs":  # the figure as the browser drew it: labelled lines, one colour per option
                plot = page.locator(".js-plotly-plot").first
                plot.wait_for(timeout=browser.UPDATE_TIMEOUT_MS)
                notes = plot.evaluate("p => p.layout.annotations.map(a => a.text)")
                assert any(n.startswith("today: ") for n in notes), notes
                assert any(" = gemini-2.5-flash (" in n for n in notes), notes
                colours = plot.evaluate("p => Object.fromEntries(p.data.map(t => [t.name, t.line.color]))")
                assert colours == style.option_colours(list(colours)), colours
        with page.expect_download() as download:
            page.get_by_role("button", name="HTML report").click()
        html = Path(download.value.path()).read_text(encoding="utf-8")
        # The same sections as `rent-or-own report`, uncertainty included, at the volume on the slider.
        for words in ("Recommendation", "Capacity over the horizon", "Uncertainty (200 samples)"):
            assert words in html, words
        assert f"today's volume of {after}" in unescape(html)
        with page.expect_download(timeout=180_000) as download:
            page.get_by_role("button", name="PDF for stakeholders").click()
        pdf = Path(download.value.path()).read_bytes()
        assert download.value.suggested_filename == "support-assistant.pdf"
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        assert browser.exceptions(page) == []
        page.goto(f"{url}/decision")  # the default page answers at its own path too
        heading = page.get_by_role("heading", level=1).first
        assert heading.inner_text(timeout=browser.UPDATE_TIMEOUT_MS) == "support-assistant: rent or own?"
