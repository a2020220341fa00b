"""Writing reports: every format of one scenario's report into a folder, each file atomically."""

from __future__ import annotations

from pathlib import Path

from simulator.analysis.results import ledger_csv
from simulator.errors import InputError
from simulator.files import write_atomic
from simulator.report import FORMATS
from simulator.report.data import ReportData
from simulator.report.html import to_html
from simulator.report.markdown import to_markdown
from simulator.report.pdf import html_to_pdf
from simulator.report.xlsx import to_xlsx


def write(d: ReportData, out: str | Path, formats: list[str], stem: str) -> list[Path]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InputError("report", "--format", f"unknown format {unknown[0]!r}", f"use {', '.join(FORMATS)}")
    out = Path(out)
    written = []
    html_path = out / f"{stem}.html"
    if "html" in formats or "pdf" in formats:
        write_atomic(html_path, to_html(d))
        written.append(html_path)
    if "pdf" in formats:
        html_to_pdf(html_path, out / f"{stem}.pdf")
        written.append(out / f"{stem}.pdf")
    if "xlsx" in formats:
        write_atomic(out / f"{stem}.xlsx", to_xlsx(d))
        written.append(out / f"{stem}.xlsx")
    if "md" in formats:
        write_atomic(out / f"{stem}.md", to_markdown(d))
        written.append(out / f"{stem}.md")
    if "json" in formats:
        write_atomic(out / f"{stem}.json", d.result.model_dump_json(indent=2) + "\n")
        written.append(out / f"{stem}.json")
    if "csv" in formats:
        write_atomic(out / f"{stem}-ledger.csv", ledger_csv(d.ledger))
        written.append(out / f"{stem}-ledger.csv")
    return written
