"""The Markdown report: the recommendation, the options and the assumptions, for a wiki or a pull request."""

from __future__ import annotations

from simulator import i18n
from simulator.i18n import _, ngettext
from simulator.report.data import ReportData
from simulator.report.text import option_header, option_rows, recommendation


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


def to_markdown(d: ReportData) -> str:
    r = d.result
    header = option_header(r)
    lines = [
        "# " + _("{scenario}: rent or own?").format(scenario=r.scenario),
        "",
        ngettext(
            "{months} month from prices of {date}; engine {engine}; seed {seed}.",
            "{months} months from prices of {date}; engine {engine}; seed {seed}.",
            r.horizon_months,
        ).format(months=r.horizon_months, date=i18n.date(r.price_date), engine=r.engine, seed=r.seed),
        "",
        "## " + _("Recommendation"),
        "",
        *(f"- {line}" for line in recommendation(r)),
        "",
        "## " + _("Options"),
        "",
        _row(header),
        "|" + "---|" * len(header),
    ]
    lines += [_row(row) for row in option_rows(r)]
    lines += [
        "",
        "## " + _("Assumptions"),
        "",
        _row([_("option"), _("item"), _("value"), _("unit"), _("source"), _("as of")]),
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {a.option} | {a.item} | {a.value:g} | {a.unit} | {a.source} | {a.as_of} |" for a in r.assumptions]
    return "\n".join(lines) + "\n"
