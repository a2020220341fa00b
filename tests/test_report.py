"""Reports: a real PDF printed by Chromium, self-contained HTML, and an XLSX finance can check."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from simulator.cli import main
from simulator.report import text
from simulator.report.data import ReportData, gather
from simulator.report.html import to_html
from simulator.report.write import write
from simulator.scenario import load_scenario

from helpers import ROOT, make

SCENARIO = ROOT / "scenarios" / "support-assistant.yaml"
needs_browser = pytest.mark.skipif(
    not os.environ.get("RENT_OR_OWN_REQUIRE_BROWSER") and not (shutil.which("chromium") and shutil.which("pdftoppm")),
    reason="needs Debian's chromium and poppler-utils (apt-get install chromium poppler-utils)",
)


@pytest.fixture(scope="module")
def data() -> ReportData:
    return gather(load_scenario(SCENARIO), str(SCENARIO), "fluid")


def read_ppm(path: Path) -> np.ndarray:
    """A binary PPM (P6) as an array: pdftoppm's default output."""
    raw = path.read_bytes()
    magic, width, height, depth, pixels = raw.split(maxsplit=4)
    assert magic == b"P6" and depth == b"255"
    return np.frombuffer(pixels, dtype=np.uint8)[: int(width) * int(height) * 3].reshape(int(height), int(width), 3)


@needs_browser
def test_pdf_printed_by_chromium_has_non_blank_pages(data: ReportData, tmp_path: Path) -> None:
    (pdf,) = [p for p in write(data, tmp_path, ["pdf"], "r") if p.suffix == ".pdf"]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    subprocess.run(["pdftoppm", "-r", "30", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page*.ppm"))
    # Title, tables, eight figures and the assumptions: between 6 and 20 A4/Letter pages.
    assert 6 <= pages <= 20 and len(images) == pages
    for image in images:
        pixels = read_ppm(image)
        assert (pixels < 200).mean() > 0.005, f"{image.name} is blank"
    first = read_ppm(images[0])
    assert first.std() > 10
    # Page 1 is the answer: the key figures, the recommendation and the cumulative cost chart.
    page_1 = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for words in ("Recommended", "Per month on average", "Cumulative cost (USD)", "Recommendation"):
        assert words in page_1, words


def test_html_is_self_contained(data: ReportData, tmp_path: Path) -> None:
    (html_path,) = write(data, tmp_path, ["html"], "r")
    text = html_path.read_text()
    assert not re.search(r"<script[^>]+src=", text) and not re.search(r"<link[^>]+href=.https?:", text)
    assert text.count("Plotly.newPlot") >= 6
    for words in (
        "Recommendation",
        "Break-even and payback",
        "Privacy and control",
        "Uncertainty (200 samples)",
        "Assumptions",
        "Capacity over the horizon",
        "genai-prices 0.2.3",
        "roofline-estimate",
        f"seed {data.result.seed}",
    ):
        assert words in text, words


def test_xlsx_ledger_adds_up_to_the_json(data: ReportData, tmp_path: Path) -> None:
    (xlsx,) = write(data, tmp_path, ["xlsx"], "r")
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["Options", "Monthly", "Running costs", "Ledger", "Assumptions"]
    rows = list(book["Ledger"].iter_rows(min_row=2, values_only=True))
    for o in data.result.options:
        cash = sum(r[3] for r in rows if r[0] == o.name and r[4] == "cash")
        assert cash == pytest.approx(o.total_cost_usd, rel=1e-9), o.name
    monthly = list(book["Monthly"].iter_rows(min_row=2, values_only=True))
    assert len(monthly) == data.result.horizon_months
    with zipfile.ZipFile(xlsx) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 1 and "'Running costs'!" in charts[0]  # a native Excel chart, of the running costs
    # Running costs are the cash view without purchases and resale: never below zero, and with the
    # one-off categories added back they are each month's cash total.
    running = list(book["Running costs"].iter_rows(min_row=2, values_only=True))
    for k, o in enumerate(data.result.options, start=1):
        one_off = [0.0] * data.result.horizon_months
        for r in rows:
            if r[0] == o.name and r[4] == "cash" and r[2] in ("gpu_capex", "server_capex", "residual_value"):
                one_off[r[1] - 1] += r[3]
        for m, row in enumerate(running):
            assert row[k] >= 0
            assert row[k] + one_off[m] == pytest.approx(o.monthly_cost_usd[m], rel=1e-9, abs=1e-6), (o.name, m)
    assert book["Assumptions"].max_row == len(data.result.assumptions) + 1


def test_xlsx_options_sheet_is_complete_and_ready_to_filter(data: ReportData, tmp_path: Path) -> None:
    (xlsx,) = write(data, tmp_path, ["xlsx"], "r")
    sheet = openpyxl.load_workbook(xlsx)["Options"]
    header = [c.value for c in sheet[1]]
    assert header == text.option_header(data.result)
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(data.result.options)
    assert all(cell not in (None, "") for row in rows for cell in row)  # every column filled
    by = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    for o in data.result.options:
        assert by[o.name]["horizon cost"] == pytest.approx(o.total_cost_usd)  # numbers, not text
        assert by[o.name]["verdict"] == text.verdict(o, data.result)
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref == f"A1:I{len(rows) + 1}"
    assert all(sheet.column_dimensions[letter].width >= 8 for letter in "ABCDEFGHI")


def test_markdown_and_cli(tmp_path: Path, capsys) -> None:
    assert main(["report", str(SCENARIO), "--format", "md,json,csv", "--out", str(tmp_path), "--engine", "fluid"]) == 0
    md = (tmp_path / "support-assistant.md").read_text()
    assert md.startswith("# support-assistant: rent or own?") and "## Assumptions" in md
    assert (tmp_path / "support-assistant.json").exists() and (tmp_path / "support-assistant-ledger.csv").exists()
    with pytest.raises(SystemExit) as stopped:  # a usage error, before anything is computed or written
        main(["report", str(SCENARIO), "--format", "docx", "--out", str(tmp_path), "--engine", "fluid"])
    assert stopped.value.code == 2 and "unknown format 'docx'" in capsys.readouterr().err


def test_an_unwritable_folder_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "taken").write_text("a file where the folder should be")
    out = tmp_path / "taken" / "reports"
    assert main(["report", str(SCENARIO), "--format", "md,xlsx", "--out", str(out), "--engine", "fluid"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{out}/support-assistant.") and err.count("\n") == 1, err
    assert err.endswith(": cannot write the file: Not a directory (choose a folder you can write to)\n"), err


def test_recommendation_states_its_conditions(data: ReportData) -> None:
    lines = text.recommendation(data.result)
    # Gemini 2.5 Flash is cheapest, but 80.5% of its answers are within the 500 ms TTFT target (median
    # 400 ms, spread 0.26: Phi(ln(500/400)/0.26) = 0.804), under the 95% required.
    assert lines[0].startswith("owned-baseline-plus-flash is the cheapest option that meets every latency target")
    assert lines[1].startswith("If latency targets are relaxed, gemini-2.5-flash is cheapest")
    assert "80.5% of requests within 500 ms TTFT" in lines[1]
    assert any(
        "if volume stays above" in line and "Below that volume gemini-2.5-flash stays cheaper" in line for line in lines
    )


def test_a_failing_chromium_is_one_line_and_leaves_no_pdf(tmp_path: Path, capsys, monkeypatch) -> None:
    failing = tmp_path / "chromium"
    failing.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    failing.chmod(0o755)
    monkeypatch.setenv("BROWSER_PATH", str(failing))
    out = tmp_path / "out"
    code = main(
        [
            "report",
            str(ROOT / "scenarios" / "prototype.yaml"),
            "--engine",
            "fluid",
            "--out",
            str(out),
            "--format",
            "pdf",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "Chromium could not print the PDF (exit 3: cannot open display)" in err
    assert not list(out.glob("*.pdf")) and not list(out.glob(".*.partial"))


def test_the_html_template_escapes_what_a_scenario_says() -> None:
    """The page is a Jinja2 template with autoescaping: a scenario's text cannot inject markup."""
    data = gather(make(name="<script>alert(1)</script>", description="a & b"), "x", "fluid")
    page = to_html(data)
    assert "<script>alert(1)</script>" not in page
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;: rent or own?</h1>" in page
    assert page.count("<script>") == 1 + page.count("Plotly.newPlot")  # plotly's library, then one per figure
