"""The HTML report: self-contained (plotly inlined), so it opens offline and prints to PDF."""

from __future__ import annotations

import html

import plotly.graph_objects as go
import plotly.offline

from simulator.report import figures
from simulator.report.data import ReportData
from simulator.report.text import OPTION_HEADER, mtok_text, option_rows, recommendation
from simulator.units import usd_text


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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
        _table(OPTION_HEADER, option_rows(r)),
        "<h2>Break-even and payback</h2>",
        _table(
            ["option", "versus", "break-even scale", "tokens per month", "payback month"],
            [
                [
                    b.option,
                    b.versus,
                    f"{b.scale:.3g}" if b.scale is not None else "never",
                    mtok_text(b.tokens_per_month) if b.tokens_per_month else "-",
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
