"""Results in words and table rows, shared by every report format and the command line."""

from __future__ import annotations

from simulator import units
from simulator.analysis.results import BreakEven, RunResult
from simulator.perf.step import PERF_SOURCE_ROOFLINE
from simulator.units import usd_text

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


def times_text(ratio: float) -> str:
    """A multiple as people read it: 0.4x, 1.4x, 290x, 11,000x."""
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2g}x"


def mtok_text(tokens: float) -> str:
    """Tokens in millions, as people read them: 1,234M."""
    return f"{units.tokens_to_mtok(tokens):,.0f}M"


def break_even_sentence(b: BreakEven, r: RunResult) -> str:
    """Where an option starts to beat the cheapest API, and what that means at today's volume."""
    if b.scale is None or b.tokens_per_month is None:
        return (
            f"{b.option} never costs less than {b.versus} between a millionth and a million times the "
            "scenario's volume at scale 1."
        )
    cheaper = b.scale <= r.workload_scale
    if b.payback_month:
        verdict = f"{'cheaper today' if cheaper else 'not yet cheaper'}, pays back in month {b.payback_month}"
    elif cheaper:
        verdict = "cheaper over the horizon only once resale value is counted"
    else:
        verdict = "not yet cheaper, no payback in the horizon"
    return (
        f"{b.option} costs less than {b.versus} if volume stays above {mtok_text(b.tokens_per_month)} tokens a "
        f"month ({times_text(b.scale / r.workload_scale)} today's, scale {b.scale:.3g}): {verdict}. "
        f"Below that volume {b.versus} stays cheaper."
    )


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
        f"{mtok_text(r.tokens_per_month)} tokens a month."
    )
    lines += [break_even_sentence(b, r) for b in r.break_even]
    if r.cheapest_compliant_option and r.cheapest_compliant_option != r.cheapest_option:
        assert r.cost_of_privacy_usd is not None
        lines.append(
            f"Meeting every privacy requirement takes {r.cheapest_compliant_option}: "
            f"{usd_text(r.cost_of_privacy_usd)} more over the horizon (the cost of privacy)."
        )
    elif r.cheapest_compliant_option is None:
        lines.append("No feasible option meets every privacy requirement.")
    estimated = [o.name for o in r.options if o.perf_source == PERF_SOURCE_ROOFLINE]
    if estimated:
        lines.append(
            f"Self-hosted throughput is a roofline estimate for {', '.join(estimated)}; measure it "
            "(rent-or-own probe) before committing."
        )
    return lines


def option_rows(r: RunResult) -> list[list[str]]:
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
