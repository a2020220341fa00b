"""The HTML report: self-contained (plotly inlined), so it opens offline and prints to PDF."""

from __future__ import annotations

import html

import plotly.graph_objects as go
import plotly.offline

from simulator.analysis.results import RunResult
from simulator.report import figures
from simulator.report.data import ReportData
from simulator.report.text import OPTION_HEADER, headline, option_rows, recommendation, times_text, tokens_text
from simulator.units import usd_text


def _table(header: list[str], rows: list[list[str]], widths: tuple[str, ...] = ()) -> str:
    """A table; `widths` fixes the columns' shares of the page (long text then wraps inside them)."""
    cols = "<colgroup>" + "".join(f'<col style="width:{w}">' for w in widths) + "</colgroup>" if widths else ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    css = ' class="fixed"' if widths else ""
    return f"<table{css}>{cols}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(fig: go.Figure) -> str:
    return f'<div class="figure">{fig.to_html(full_html=False, include_plotlyjs=False)}</div>'


def _key_figures(r: RunResult) -> str:
    """The answer in four numbers, for the top of page 1."""
    by = {o.name: o for o in r.options}
    lead = by.get(headline(r) or "")
    cells = [
        ("Recommended", r.cheapest_compliant_option or "none meets every target and requirement"),
        ("Per month on average", usd_text(lead.total_cost_usd / r.horizon_months) if lead else "-"),
        ("Cost of privacy", usd_text(r.cost_of_privacy_usd) if r.cost_of_privacy_usd is not None else "-"),
        ("Cheapest if targets are relaxed", r.cheapest_relaxed_option or "-"),
    ]
    return (
        '<div class="keys">'
        + "".join(f"<div><span>{html.escape(k)}</span><b>{html.escape(v)}</b></div>" for k, v in cells)
        + "</div>"
    )


def _assumption_rows(r: RunResult) -> list[list[str]]:
    """Each assumption once, naming every option that rests on it (a hybrid repeats its fleet's)."""
    options: dict[tuple[str, str, str, str, str], list[str]] = {}
    for a in r.assumptions:
        names = options.setdefault((a.item, f"{a.value:g}", a.unit, a.source, a.as_of), [])
        if a.option not in names:
            names.append(a.option)
    return [[", ".join(names), *key] for key, names in options.items()]


def _figures(d: ReportData) -> list[go.Figure]:
    """The figures after page 1's cumulative cost, in the order of the sections they illustrate."""
    r = d.result
    out = [figures.cost_versus_volume(r, d.volume), figures.monthly_costs(r, d.ledger)]
    out += [fig for fig in (figures.purchases(r), figures.capacity(r), figures.latency(r)) if fig is not None]
    if d.monte_carlo is not None:
        out += [
            figures.cost_bands(d.monte_carlo, r.horizon_months, [o.name for o in r.options]),
            figures.chance_cheapest(d.monte_carlo, r.horizon_months, [o.name for o in r.options]),
        ]
    lead = headline(r)
    if d.tornado is not None and lead:
        out.append(figures.tornado(*d.tornado, lead))
    return out


STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
table { border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0; width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td:first-child { white-space: nowrap; }
table.fixed { table-layout: fixed; font-size: 0.72em; } table.fixed th { overflow-wrap: break-word; }
table.fixed td { overflow-wrap: break-word; } table.fixed td:first-child { white-space: normal; }
.keys { display: flex; gap: 1em; margin: 1em 0; }
.keys div { flex: 1; border: 1px solid #ccc; border-radius: 4px; padding: 0.5em; }
.keys span { display: block; font-size: 0.75em; color: #555; } .keys b { font-size: 0.95em; }
.figure { page-break-inside: avoid; break-inside: avoid; }
.meta { font-size: 0.75em; color: #555; }
@media print { .modebar { display: none !important; } tr { page-break-inside: avoid; } h2 { page-break-after: avoid; } }
"""
ASSUMPTION_WIDTHS = ("14%", "20%", "8%", "9%", "40%", "9%")
OPTION_WIDTHS = ("16%", "8%", "11%", "11%", "8%", "9%", "8%", "18%", "11%")


def to_html(d: ReportData) -> str:
    r = d.result
    engine = "latency simulated request by request" if r.engine == "des" else "fleets planned to the latency targets"
    parts = [
        "<section>",  # page 1: the answer
        f"<h1>{html.escape(r.scenario)}: rent or own?</h1>",
        f"<p>{r.horizon_months} months of costs at prices of {r.price_date}, {engine}.</p>",
        _key_figures(r),
        _figure(figures.cumulative_costs(r).update_layout(height=330, margin={"t": 40, "b": 40})),
        "<h2>Recommendation</h2>",
        *(f"<p>{html.escape(line)}</p>" for line in recommendation(r)),
        "</section>",
        "<h2>Options</h2>",
        _table(OPTION_HEADER, option_rows(r), OPTION_WIDTHS),
        "<h2>Break-even and payback</h2>",
        _table(
            ["option", "versus", "break-even volume", "tokens per month", "payback month"],
            [
                [
                    b.option,
                    b.versus,
                    f"{times_text(b.scale / r.workload_scale)} today's" if b.scale is not None else "never",
                    tokens_text(b.tokens_per_month) if b.tokens_per_month else "-",
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
    broken = [(o.name, reason) for o in r.options for reason in o.compliance_reasons]
    parts += [
        "<h2>Privacy and control</h2>",
        _figure(figures.privacy(r)),
        _table(["option", "requirement broken"], [list(b) for b in broken])
        if broken
        else "<p>Every option meets every privacy requirement.</p>",
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
    parts += [_figure(fig) for fig in _figures(d)]
    parts += [
        "<h2>Assumptions</h2>",
        _table(["options", "item", "value", "unit", "source", "as of"], _assumption_rows(r), ASSUMPTION_WIDTHS),
        f'<p class="meta">rent-or-own {r.versions["rent_or_own"]}, genai-prices {r.versions["genai_prices"]}, '
        f"seed {r.seed}, {r.engine} engine (break-evens: {r.break_even_engine}).</p>",
    ]
    plotly_js = plotly.offline.get_plotlyjs()
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(r.scenario)}</title>"
        f"<style>{STYLE}</style><script>{plotly_js}</script></head><body>{''.join(parts)}</body></html>"
    )
