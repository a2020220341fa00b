"""The HTML report: self-contained (plotly inlined), so it opens offline and prints to PDF.

The page is `templates/report.html.j2` (Jinja2, autoescaped): this module only gathers what it shows,
as text, so the layout can change without touching Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import jinja2
import plotly.graph_objects as go
import plotly.offline
from markupsafe import Markup

from simulator import i18n
from simulator.analysis.results import RunResult
from simulator.i18n import _, ngettext
from simulator.report import figures, style
from simulator.report.data import ReportData
from simulator.report.text import headline, option_header, option_rows, recommendation, times_text, tokens_text

ASSUMPTION_WIDTHS = ("14%", "20%", "8%", "9%", "40%", "9%")
OPTION_WIDTHS = ("16%", "8%", "11%", "11%", "8%", "9%", "8%", "18%", "11%")


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    widths: tuple[str, ...] = ()
    """Each column's share of the page; given, long text wraps inside the columns."""


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("simulator.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a value the template names but the code forgot is an error
        extensions=["jinja2.ext.i18n"],
    )
    # The language is looked up at each call, so the one cached template renders in whichever is active.
    environment.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    return environment.get_template("report.html.j2")


def _figure(fig: go.Figure) -> Markup:
    return Markup(fig.to_html(full_html=False, include_plotlyjs=False))


def _key_figures(r: RunResult) -> list[tuple[str, str]]:
    """The answer in four numbers, for the top of page 1."""
    by = {o.name: o for o in r.options}
    lead = by.get(headline(r) or "")
    return [
        (_("Recommended"), r.cheapest_compliant_option or _("none meets every target and requirement")),
        (_("Per month on average"), r.currency.text(lead.total_cost_usd / r.horizon_months) if lead else "-"),
        (_("Cost of privacy"), r.currency.text(r.cost_of_privacy_usd) if r.cost_of_privacy_usd is not None else "-"),
        (_("Cheapest if targets are relaxed"), r.cheapest_relaxed_option or "-"),
    ]


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
            figures.cost_bands(d.monte_carlo, r.horizon_months, r.currency),
            figures.chance_cheapest(d.monte_carlo, r.horizon_months),
        ]
    lead = headline(r)
    if d.tornado is not None and lead:
        out.append(figures.tornado(*d.tornado, lead, r.currency))
    return out


def to_html(d: ReportData) -> str:
    r = d.result
    engine = (
        _("latency simulated request by request") if r.engine == "des" else _("fleets planned to the latency targets")
    )
    latency = [(o, c, v) for o in r.options for c, v in (o.latency or {}).items()]
    broken = [[o.name, reason] for o in r.options for reason in o.compliance_reasons]
    mc = d.monte_carlo
    context = {
        "lang": i18n.language(),
        "font_family": Markup(style.FONT_FAMILY),
        "scenario": r.scenario,
        "subtitle": ngettext(
            "{months} month of costs at prices of {date}, {engine}.",
            "{months} months of costs at prices of {date}, {engine}.",
            r.horizon_months,
        ).format(months=r.horizon_months, date=i18n.date(r.price_date), engine=engine),
        "key_figures": _key_figures(r),
        "answer_figure": _figure(figures.cumulative_costs(r).update_layout(height=330, margin={"t": 40, "b": 40})),
        "recommendation": recommendation(r),
        "options": Table(option_header(r), option_rows(r), OPTION_WIDTHS),
        "break_even": Table(
            [_("option"), _("versus"), _("break-even volume"), _("tokens per month"), _("payback month")],
            [
                [
                    b.option,
                    b.versus,
                    _("{times} today's").format(times=times_text(b.scale / r.workload_scale))
                    if b.scale is not None
                    else _("never"),
                    tokens_text(b.tokens_per_month) if b.tokens_per_month else "-",
                    str(b.payback_month or "-"),
                ]
                for b in r.break_even
            ],
        ),
        "latency": Table(
            [_("option"), _("class"), "TTFT p50 ms", "TTFT p95 ms", "TPOT p95 ms", _("e2e p95 ms"), _("SLO met")],
            [
                [
                    o.name,
                    c,
                    i18n.number(v.ttft_p50_ms),
                    i18n.number(v.ttft_p95_ms),
                    i18n.number(v.tpot_p95_ms, 1),
                    i18n.number(v.e2e_p95_ms),
                    i18n.percent(v.slo_attainment),
                ]
                for o, c, v in latency
            ],
        )
        if latency
        else None,
        "privacy_figure": _figure(figures.privacy(r)),
        "broken": Table([_("option"), _("requirement broken")], broken) if broken else None,
        "cost_of_privacy": (
            _("Cost of privacy: {amount} over the horizon ({option} instead of {versus}).").format(
                amount=r.currency.text(r.cost_of_privacy_usd),
                option=r.cheapest_compliant_option,
                versus=r.cheapest_option,
            )
            if r.cost_of_privacy_usd is not None and r.cheapest_compliant_option != r.cheapest_option
            else None
        ),
        "uncertainty_heading": ngettext("Uncertainty ({n} sample)", "Uncertainty ({n} samples)", mc.samples).format(
            n=i18n.number(mc.samples)
        )
        if mc
        else None,
        "uncertainty": Table(
            [_("option"), "P10", "P50", "P90", _("cheapest by the last month")],
            [
                [
                    n,
                    r.currency.text(mc.p10_total_usd[n]),
                    r.currency.text(mc.p50_total_usd[n]),
                    r.currency.text(mc.p90_total_usd[n]),
                    i18n.percent(mc.prob_cheapest_by_month[n][-1]),
                ]
                for n in mc.options
            ],
        )
        if mc
        else None,
        "figures": [_figure(fig) for fig in _figures(d)],
        "assumptions": Table(
            [_("options"), _("item"), _("value"), _("unit"), _("source"), _("as of")],
            _assumption_rows(r),
            ASSUMPTION_WIDTHS,
        ),
        "meta": _(
            "rent-or-own {version}, genai-prices {prices}, seed {seed}, {engine} engine (break-evens: {break_even})."
        ).format(
            version=r.versions["rent_or_own"],
            prices=r.versions["genai_prices"],
            seed=r.seed,
            engine=r.engine,
            break_even=r.break_even_engine,
        ),
        "plotly_js": Markup(plotly.offline.get_plotlyjs()),
    }
    return _template().render(context)
