"""The Markdown report: the recommendation, the options and the assumptions, for a wiki or a pull request."""

from __future__ import annotations

from simulator.report.data import ReportData
from simulator.report.text import option_header, option_rows, recommendation


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
        "| " + " | ".join(option_header(r)) + " |",
        "|" + "---|" * len(option_header(r)),
    ]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in option_rows(r)]
    lines += [
        "",
        "## Assumptions",
        "",
        "| option | item | value | unit | source | as of |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {a.option} | {a.item} | {a.value:g} | {a.unit} | {a.source} | {a.as_of} |" for a in r.assumptions]
    return "\n".join(lines) + "\n"
