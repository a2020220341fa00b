"""Stakeholder reports: HTML (self-contained, works offline), PDF printed from it by Chromium, XLSX
for finance, Markdown and JSON. Every report states its assumptions with source and date, which
self-hosted numbers are measured and which estimated, the price snapshot, the seed and the version.
"""

from __future__ import annotations

import html
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.offline

from simulator import figures, sweep
from simulator.analysis import LedgerRow, RunResult, run_with_ledger
from simulator.batch import ledger_csv
from simulator.errors import InputError
from simulator.files import write_atomic
from simulator.scenario import Scenario, load_scenario
from simulator.units import usd_text

FORMATS = ("html", "pdf", "xlsx", "md", "json", "csv")
VOLUME_SPAN = (0.1, 100.0)  # cost-versus-volume chart, as multiples of today's volume
VOLUME_POINTS = 13
REPORT_SAMPLES = 200
PDF_TIME_BUDGET_MS = 10_000  # lets plotly draw before Chromium prints


@dataclass
class ReportData:
    result: RunResult
    ledger: list[LedgerRow]
    volume: list[sweep.GridPoint]
    monte_carlo: sweep.MonteCarlo | None
    tornado: tuple[dict[str, float], list[sweep.TornadoBar]] | None


def volume_points(scenario: Scenario, data: dict[str, Any], source: str) -> list[sweep.GridPoint]:
    """Every option's cost at multiples of today's volume, for the cost-versus-volume chart."""
    scales = (scenario.workload.scale * np.geomspace(*VOLUME_SPAN, VOLUME_POINTS)).tolist()
    return sweep.grid(data, source, [("workload.scale", scales)], sweep.SerialExecutor())


def uncertainty(
    scenario: Scenario, data: dict[str, Any], source: str, samples: int = REPORT_SAMPLES
) -> tuple[sweep.MonteCarlo, tuple[dict[str, float], list[sweep.TornadoBar]]]:
    """Monte Carlo over the scenario's uncertain inputs, and the tornado between their P10 and P90."""
    serial = sweep.SerialExecutor()
    mc = sweep.monte_carlo(scenario, data, source, samples, serial)
    values = sweep.draw(scenario.uncertainty, samples, scenario.seed)
    bounds = [
        (u.field, float(np.percentile(values[:, k], 10)), float(np.percentile(values[:, k], 90)))
        for k, u in enumerate(scenario.uncertainty)
    ]
    return mc, sweep.tornado(data, source, bounds, serial)


def gather(
    path: str | Path, engine: str | None = None, ran: tuple[RunResult, list[LedgerRow]] | None = None
) -> ReportData:
    """Everything a report shows; `ran` reuses a run already made (batch runs)."""
    scenario = load_scenario(path)
    result, ledger = ran or run_with_ledger(scenario, engine)
    data, source = sweep.read_scenario(path)
    mc, tornado = uncertainty(scenario, data, source) if scenario.uncertainty else (None, None)
    return ReportData(result, ledger, volume_points(scenario, data, source), mc, tornado)


def recommendation(r: RunResult) -> list[str]:
    """The answer in plain words, with the conditions it holds under."""
    months = r.horizon_months
    by = {o.name: o for o in r.options}
    lines = []
    if r.cheapest_option is None:
        return ["No option is feasible: see each option's reasons below."]
    best = by[r.cheapest_option]
    lines.append(
        f"{best.name} is the cheapest feasible option: {usd_text(best.total_cost_usd)} over {months} months "
        f"({usd_text(best.total_cost_usd / months)} a month on average) at today's volume of "
        f"{r.tokens_per_month / 1e6:,.0f}M tokens a month."
    )
    for b in r.break_even:
        if b.scale is None:
            lines.append(
                f"{b.option} does not beat {b.versus} at any volume from a millionth to a million times the"
                " scenario's volume at scale 1."
            )
            continue
        assert b.tokens_per_month is not None
        when = f"pays back in month {b.payback_month}" if b.payback_month else "does not pay back within the horizon"
        lines.append(
            f"{b.option} costs less than {b.versus} if volume stays above "
            f"{b.tokens_per_month / 1e6:,.0f}M tokens a month ({b.scale / r.workload_scale:.2g}x today's);"
            f" at today's volume it {when}. Below that volume {b.versus} stays cheaper."
        )
    if r.cheapest_compliant_option and r.cheapest_compliant_option != r.cheapest_option:
        assert r.cost_of_privacy_usd is not None
        lines.append(
            f"Meeting every privacy requirement takes {r.cheapest_compliant_option}: "
            f"{usd_text(r.cost_of_privacy_usd)} more over the horizon (the cost of privacy)."
        )
    elif r.cheapest_compliant_option is None:
        lines.append("No feasible option meets every privacy requirement.")
    estimated = [o.name for o in r.options if o.perf_source == "roofline-estimate"]
    if estimated:
        lines.append(
            f"Self-hosted throughput is a roofline estimate for {', '.join(estimated)}; measure it "
            "(rent-or-own probe) before committing."
        )
    return lines


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _option_rows(r: RunResult) -> list[list[str]]:
    return [
        [
            o.name,
            o.kind,
            usd_text(o.total_cost_usd),
            usd_text(o.npv_cost_usd),
            f"{o.usd_per_mtok:,.2f}" if o.usd_per_mtok is not None else "-",
            f"{o.slo_attainment:.0%}" if o.slo_attainment is not None else "-",
            f"{o.privacy_score:.0f}",
            "yes" if o.feasible else "no: " + "; ".join(o.infeasible_reasons),
            "yes" if all(o.compliant.values()) else "no: " + "; ".join(o.compliance_reasons),
            o.perf_source or "-",
        ]
        for o in sorted(r.options, key=lambda o: o.total_cost_usd)
    ]


OPTION_HEADER = [
    "option",
    "kind",
    "horizon cost",
    "NPV",
    "USD/Mtok",
    "SLO met",
    "privacy",
    "feasible",
    "compliant",
    "perf",
]


def _figures(d: ReportData) -> list[go.Figure]:
    r = d.result
    out = [figures.cumulative_costs(r), figures.cost_versus_volume(r, d.volume), figures.monthly_costs(r, d.ledger)]
    out += [fig for fig in (figures.capacity(r), figures.latency(r)) if fig is not None]
    out.append(figures.privacy(r))
    if d.monte_carlo is not None:
        out += [
            figures.cost_bands(d.monte_carlo, r.horizon_months),
            figures.chance_cheapest(d.monte_carlo, r.horizon_months),
        ]
    if d.tornado is not None and r.cheapest_option:
        out.append(figures.tornado(*d.tornado, r.cheapest_option))
    return out


STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
table { border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0; width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.figure { page-break-inside: avoid; break-inside: avoid; }
@media print { .modebar { display: none !important; } tr { page-break-inside: avoid; } h2 { page-break-after: avoid; } }
"""


def to_html(d: ReportData) -> str:
    r = d.result
    parts = [
        f"<h1>{html.escape(r.scenario)}: rent or own?</h1>",
        f"<p>{r.horizon_months} months from prices of {r.price_date}; engine {r.engine}; seed {r.seed}; "
        f"rent-or-own {r.versions['rent_or_own']}, genai-prices {r.versions['genai_prices']}.</p>",
        "<h2>Recommendation</h2>",
        *(f"<p>{html.escape(line)}</p>" for line in recommendation(r)),
        "<h2>Options</h2>",
        _table(OPTION_HEADER, _option_rows(r)),
        "<h2>Break-even and payback</h2>",
        _table(
            ["option", "versus", "break-even scale", "tokens per month", "payback month"],
            [
                [
                    b.option,
                    b.versus,
                    f"{b.scale:.3g}" if b.scale is not None else "never",
                    f"{b.tokens_per_month / 1e6:,.0f}M" if b.tokens_per_month else "-",
                    str(b.payback_month or "-"),
                ]
                for b in r.break_even
            ],
        ),
    ]
    if any(o.latency for o in r.options):
        parts += [
            "<h2>Latency and SLO attainment</h2>",
            _table(
                ["option", "class", "TTFT p50 ms", "TTFT p95 ms", "TPOT p95 ms", "e2e p95 ms", "SLO met"],
                [
                    [
                        o.name,
                        c,
                        f"{v.ttft_p50_ms:,.0f}",
                        f"{v.ttft_p95_ms:,.0f}",
                        f"{v.tpot_p95_ms:,.1f}",
                        f"{v.e2e_p95_ms:,.0f}",
                        f"{v.slo_attainment:.0%}",
                    ]
                    for o in r.options
                    for c, v in (o.latency or {}).items()
                ],
            ),
        ]
    parts += [
        "<h2>Privacy and control</h2>",
        _table(
            ["option", "criterion", "score", "weight", "reason"],
            [
                [o.name, c.criterion, f"{c.score:.0f}", f"{c.weight:g}", c.reason]
                for o in r.options
                for c in o.privacy_criteria
            ],
        ),
    ]
    if r.cost_of_privacy_usd is not None and r.cheapest_compliant_option != r.cheapest_option:
        parts.append(
            f"<p>Cost of privacy: {usd_text(r.cost_of_privacy_usd)} over the horizon "
            f"({r.cheapest_compliant_option} instead of {r.cheapest_option}).</p>"
        )
    if d.monte_carlo is not None:
        mc = d.monte_carlo
        parts += [
            f"<h2>Uncertainty ({mc.samples} samples)</h2>",
            _table(
                ["option", "P10", "P50", "P90", "cheapest by the last month"],
                [
                    [
                        n,
                        usd_text(mc.p10_total_usd[n]),
                        usd_text(mc.p50_total_usd[n]),
                        usd_text(mc.p90_total_usd[n]),
                        f"{mc.prob_cheapest_by_month[n][-1]:.0%}",
                    ]
                    for n in mc.options
                ],
            ),
        ]
    parts.append("<h2>Figures</h2>")
    parts += [
        f'<div class="figure">{fig.to_html(full_html=False, include_plotlyjs=False)}</div>' for fig in _figures(d)
    ]
    parts += [
        "<h2>Assumptions</h2>",
        _table(
            ["option", "item", "value", "unit", "source", "as of"],
            [[a.option, a.item, f"{a.value:g}", a.unit, a.source, a.as_of] for a in r.assumptions],
        ),
    ]
    plotly_js = plotly.offline.get_plotlyjs()
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(r.scenario)}</title>"
        f"<style>{STYLE}</style><script>{plotly_js}</script></head><body>{''.join(parts)}</body></html>"
    )


def to_markdown(d: ReportData) -> str:
    r = d.result
    lines = [
        f"# {r.scenario}: rent or own?",
        "",
        f"{r.horizon_months} months from prices of {r.price_date}; engine {r.engine}; seed {r.seed}.",
        "",
        "## Recommendation",
        "",
        *(f"- {line}" for line in recommendation(r)),
        "",
        "## Options",
        "",
        "| " + " | ".join(OPTION_HEADER) + " |",
        "|" + "---|" * len(OPTION_HEADER),
    ]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in _option_rows(r)]
    lines += [
        "",
        "## Assumptions",
        "",
        "| option | item | value | unit | source | as of |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {a.option} | {a.item} | {a.value:g} | {a.unit} | {a.source} | {a.as_of} |" for a in r.assumptions]
    return "\n".join(lines) + "\n"


def to_xlsx(d: ReportData) -> bytes:
    """Ledger, monthly totals with a native line chart, options and assumptions, for finance."""
    import xlsxwriter

    r = d.result
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    money = book.add_format({"num_format": "$#,##0"})
    bold = book.add_format({"bold": True})
    summary = book.add_worksheet("Options")
    for c, h in enumerate(OPTION_HEADER):
        summary.write(0, c, h, bold)
    for i, o in enumerate(sorted(r.options, key=lambda o: o.total_cost_usd), start=1):
        summary.write(i, 0, o.name)
        summary.write(i, 1, o.kind)
        summary.write_number(i, 2, o.total_cost_usd, money)
        summary.write_number(i, 3, o.npv_cost_usd, money)
    monthly = book.add_worksheet("Monthly")
    monthly.write(0, 0, "month", bold)
    for c, o in enumerate(r.options, start=1):
        monthly.write(0, c, o.name, bold)
        for m, usd in enumerate(o.monthly_cost_usd, start=1):
            monthly.write_number(m, c, usd, money)
    for m in range(1, r.horizon_months + 1):
        monthly.write_number(m, 0, m)
    chart = book.add_chart({"type": "line"})
    for c in range(1, len(r.options) + 1):
        chart.add_series(
            {
                "name": ["Monthly", 0, c],
                "categories": ["Monthly", 1, 0, r.horizon_months, 0],
                "values": ["Monthly", 1, c, r.horizon_months, c],
            }
        )
    chart.set_title({"name": "Monthly cost (USD, cash view)"})
    chart.set_x_axis({"name": "month"})
    monthly.insert_chart(1, len(r.options) + 2, chart, {"x_scale": 2, "y_scale": 1.5})
    ledger = book.add_worksheet("Ledger")
    for c, h in enumerate(LedgerRow.model_fields):
        ledger.write(0, c, h, bold)
    for i, row in enumerate(d.ledger, start=1):
        ledger.write(i, 0, row.option)
        ledger.write_number(i, 1, row.month)
        ledger.write(i, 2, row.category)
        ledger.write_number(i, 3, row.usd, money)
        ledger.write(i, 4, row.view)
    sheet = book.add_worksheet("Assumptions")
    for c, h in enumerate(("option", "item", "value", "unit", "source", "as of")):
        sheet.write(0, c, h, bold)
    for i, a in enumerate(r.assumptions, start=1):
        sheet.write_row(i, 0, [a.option, a.item, a.value, a.unit, a.source, a.as_of])
    book.close()
    return buffer.getvalue()


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
        subprocess.run(
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
            check=True,
            capture_output=True,
            timeout=180,
        )
        tmp.replace(pdf_path)


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
