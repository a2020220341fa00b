"""Reports: a real PDF printed by Chromium, self-contained HTML, and an XLSX finance can check."""
# ruff: noqa: RUF001  (Japanese is written with full-width punctuation)

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from simulator import i18n
from simulator.cli import main
from simulator.report import figures, style, text
from simulator.report.data import ReportData, gather
from simulator.report.html import to_html
from simulator.report.markdown import to_markdown
from simulator.report.write import write
from simulator.report.xlsx import to_xlsx
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


PLOTLY_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # a figure's random div id


def _cells(xlsx: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


def _reports(data: ReportData) -> tuple[str, str, dict[str, list[tuple]]]:
    return PLOTLY_ID.sub("", to_html(data)), to_markdown(data), _cells(to_xlsx(data))


def test_the_reports_read_in_japanese_and_english_is_back_afterwards(data: ReportData) -> None:
    english = _reports(data)
    with i18n.using("ja"):
        page, md, xlsx = to_html(data), to_markdown(data), to_xlsx(data)
    assert i18n.language() == "en" and _reports(data) == english

    assert '<html lang="ja">' in page and '<html lang="en">' in english[0]
    assert 'body { font-family: "DejaVu Sans", "Noto Sans CJK JP", Arial, sans-serif;' in page  # prints Japanese
    assert "<h1>support-assistant：借りるか、持つか？</h1>" in page
    assert "<p>2026年11月1日時点の価格による36か月分のコスト（フリートはレイテンシ目標に合わせて計画）。</p>" in page
    for heading in (
        "推奨",
        "選択肢",
        "損益分岐点と投資回収",
        "プライバシーと管理",
        "不確実性（サンプル200件）",
        "図表",
        "前提",
    ):
        assert f"<h2>{heading}</h2>" in page, heading
    assert "<span>月あたり平均</span>" in page and "<span>プライバシーのコスト</span>" in page
    assert "<th>評価期間のコスト</th><th>NPV</th><th>USD/Mtok</th><th>SLO達成率</th>" in page
    best = next(o for o in data.result.options if o.name == data.result.cheapest_compliant_option)
    total, monthly = f"${best.total_cost_usd:,.0f}", f"${best.total_cost_usd / 36:,.0f}"
    assert f"現在の利用量（月間782億トークン）で、36か月間の合計{total}（月あたり平均{monthly}）です。" in page
    assert re.search(r"<td>現在の[0-9.]+倍</td><td>[0-9.]+億</td>", page)  # the break-even table, in the locale's words
    for english_words in ("Recommendation", "Break-even and payback", "Per month on average", "rent or own?"):
        assert english_words not in page, english_words

    assert md.startswith(
        "# support-assistant：借りるか、持つか？\n\n2026年11月1日時点の価格から36か月、エンジン fluid、シード 2。"
    )
    assert "\n## 推奨\n" in md and "\n## 選択肢\n" in md and "\n## 前提\n" in md
    assert "| 選択肢 | 種類 | 評価期間のコスト | NPV | USD/Mtok | SLO達成率 | プライバシー | 判定 | 性能の根拠 |" in md
    assert "| 選択肢 | 項目 | 値 | 単位 | 出典 | 時点 |" in md
    kind = {"hybrid": "ハイブリッド", "self_host": "セルフホスト"}[best.kind]
    assert f"| {best.name} | {kind} | {total} |" in md

    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == ["選択肢", "月次", "運用コスト", "台帳", "前提"]
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in book.sheetnames)  # as Excel allows
    assert [c.value for c in book["選択肢"][1]][:3] == ["選択肢", "種類", "評価期間のコスト"]
    assert [c.value for c in book["台帳"][1]] == ["選択肢", "月", "区分", "USD", "ビュー"]
    assert [c.value for c in book["前提"][1]] == ["選択肢", "項目", "値", "単位", "出典", "時点"]
    assert book["月次"]["A1"].value == "月" and isinstance(book["選択肢"]["C2"].value, float)  # still numbers
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        (chart,) = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert "月間運用コスト（USD、キャッシュベース。購入と売却は除く）" in chart and "運用コスト!$B$1" in chart


def test_figures_and_labels_read_in_japanese(data: ReportData) -> None:
    r = data.result
    with i18n.using("ja"):
        cumulative = figures.cumulative_costs(r)
        volume = figures.cost_versus_volume(r, data.volume)
        monthly = figures.monthly_costs(r, data.ledger)
        labels = {name: style.label(name) for name in style.LABELS}
        unknown = style.label("warmup_minutes")
        ja = text.times_text(1.4), text.tokens_text(78.2e9), style.duration_text(1500)
    assert cumulative.layout.title.text == "累積コスト（USD）" and cumulative.layout.xaxis.title.text == "月"
    assert volume.layout.title.text == "利用量別の評価期間コスト"
    assert list(volume.layout.xaxis.ticktext) == ["0.1倍", "1倍", "10倍", "100倍"]
    assert "現在：月間782億トークン" in {a.text for a in volume.layout.annotations}
    assert {"GPUレンタル", "API入力", "人件費"} <= {t.name for t in monthly.data}
    assert "Noto Sans CJK JP" in cumulative.layout.font.family
    assert labels["gpu_capex"] == "GPU購入" and labels["data_boundary"] == "データ境界"
    assert all(words != style.field_words(name) for name, words in labels.items()), labels
    assert unknown == "Warmup minutes"  # a name without a translation reads as its English words
    assert ja == ("1.4倍", "782億", "1.5 s")
    # In English a label is its own words: acronyms in capitals, the unit in brackets.
    assert style.label("hipaa_baa") == "HIPAA BAA" and style.label("buy.pue") == "PUE"
    assert style.label("rent.usd_per_gpu_hour") == "Rental rate (USD per GPU-hour)"
