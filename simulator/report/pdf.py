"""PDF reports: the HTML report printed by headless Chromium, with nothing reaching the network."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from simulator.errors import InputError

PDF_TIME_BUDGET_MS = 10_000  # lets plotly draw before Chromium prints
PDF_TIMEOUT_S = 180


def chromium() -> str:
    found = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not Path(found).is_file():
        raise InputError(
            "report",
            "--format",
            "PDF needs Chromium, which is not installed",
            "apt-get install chromium, or set BROWSER_PATH",
        )
    return found


# Headless Chromium as a sandboxed container allows it, and with nothing reaching the network.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def html_to_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the HTML with headless Chromium (no network, no header or footer)."""
    with tempfile.TemporaryDirectory() as profile:
        tmp = pdf_path.with_name(f".{pdf_path.name}.partial")
        try:
            done = subprocess.run(
                [
                    chromium(),
                    "--headless",
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={profile}",
                    "--no-pdf-header-footer",
                    f"--virtual-time-budget={PDF_TIME_BUDGET_MS}",
                    f"--print-to-pdf={tmp}",
                    html_path.resolve().as_uri(),
                ],
                capture_output=True,
                timeout=PDF_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            tmp.unlink(missing_ok=True)
            raise InputError(
                str(pdf_path),
                "",
                f"Chromium did not finish the PDF in {PDF_TIMEOUT_S} s",
                "try again, or leave out pdf",
            ) from None
        if done.returncode != 0 or not tmp.is_file():
            tmp.unlink(missing_ok=True)
            last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1][:200]
            raise InputError(
                str(pdf_path),
                "",
                f"Chromium could not print the PDF (exit {done.returncode}: {last})",
                "check the Chromium install, or set BROWSER_PATH to a working one",
            )
        tmp.replace(pdf_path)
