"""Results in words and table rows, shared by every report format and the command line."""

from __future__ import annotations

from simulator.analysis.results import BreakEven, OptionResult, RunResult
from simulator.perf.step import PERF_SOURCE_ROOFLINE


def option_header(r: RunResult) -> list[str]:
    return ["option", "kind", "horizon cost", "NPV", f"{r.currency.code}/Mtok", "SLO met", "privacy", "verdict", "perf"]


def times_text(ratio: float) -> str:
    """A multiple as people read it: 0.4x, 1.4x, 290x, 11,000x."""
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2g}x"


_SCALE_WORDS = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand"))


def tokens_text(tokens: float) -> str:
    """A count as people say it, to three figures: 1.23 trillion, 78.2 billion, 950 million, 640."""
    for size, word in _SCALE_WORDS:
        if tokens >= size:
            value = tokens / size
            digits = 2 if value < 10 else 1 if value < 100 else 0
            text = f"{value:,.{digits}f}"
            return f"{text.rstrip('0').rstrip('.') if digits else text} {word}"
    return f"{tokens:,.0f}"


def hardware_text(o: OptionResult) -> str:
    """The most accelerators or servers an option holds at once, named as what they are."""
    if o.gpus_peak is None:
        return "-"
    unit = o.hardware_unit or "GPU"
    return f"{o.gpus_peak:,.0f} {unit}{'' if o.gpus_peak == 1 else 's'}"


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
        f"{b.option} costs less than {b.versus} if volume stays above {tokens_text(b.tokens_per_month)} tokens a "
        f"month ({times_text(b.scale / r.workload_scale)} today's, scale {b.scale:.3g}): {verdict}. "
        f"Below that volume {b.versus} stays cheaper."
    )


def headline(r: RunResult) -> str | None:
    """The option the answer leads with: the recommendation, else the cheapest meeting the targets,
    else the cheapest if they are relaxed."""
    return r.cheapest_compliant_option or r.cheapest_option or r.cheapest_relaxed_option


def share_text(share: float) -> str:
    """A share within targets, never rounded up to a floor it misses: 65.7%, 99.9%, 100%."""
    return "100%" if share >= 1 else f"{min(share, 0.999):.1%}"


def slo_text(o: OptionResult) -> str:
    """The option's worst class share within its latency targets; "planned" where the fluid engine
    sized an in-house fleet to the targets rather than measuring them."""
    return share_text(min(o.class_attainment.values())) if o.class_attainment else "planned"


def verdict(o: OptionResult, r: RunResult, short: bool = False) -> str:
    """Why an option is, or is not, the recommendation; `short`: the first words only, for a narrow table."""
    if o.name == r.cheapest_compliant_option:
        return "recommended"
    for failed, label, words, reasons in (
        (not o.feasible, "infeasible", "infeasible", o.infeasible_reasons),
        (not o.meets_targets, "misses targets", "misses latency targets", o.slo_reasons),
        (not all(o.compliant.values()), "breaks privacy", "breaks privacy requirements", o.compliance_reasons),
    ):
        if failed:
            return label if short else f"{words}: " + "; ".join(reasons)
    best = next(b for b in r.options if b.name == r.cheapest_compliant_option)
    more = f"{r.currency.text(o.total_cost_usd - best.total_cost_usd)} more"
    return more if short else f"{more} than {best.name}"


def _costs(o: OptionResult, r: RunResult) -> str:
    months = r.horizon_months
    return (
        f"{r.currency.text(o.total_cost_usd)} over {months} months "
        f"({r.currency.text(o.total_cost_usd / months)} a month on average)"
    )


def recommendation(r: RunResult) -> list[str]:
    """The answer in plain words: the plan that meets every latency target and privacy requirement,
    what the cheaper ones lack, and the conditions it holds under."""
    by = {o.name: o for o in r.options}
    if r.cheapest_relaxed_option is None:
        return ["No option is feasible: see each option's reasons below."]
    lines = []
    best = by.get(r.cheapest_compliant_option or "")
    fastest = by.get(r.cheapest_option or "")
    if best is not None:
        lines.append(
            f"{best.name} is the cheapest option that meets every latency target and privacy requirement: "
            f"{_costs(best, r)} at today's volume of {tokens_text(r.tokens_per_month)} tokens a month."
        )
        if fastest is not None and fastest is not best:
            assert r.cost_of_privacy_usd is not None
            lines.append(
                f"{fastest.name} meets the latency targets for {r.currency.text(r.cost_of_privacy_usd)} less over the "
                f"horizon (the cost of privacy) but breaks: {'; '.join(fastest.compliance_reasons)}."
            )
    elif fastest is not None:
        lines.append(
            f"No option meets every latency target and privacy requirement. The cheapest meeting the targets, "
            f"{fastest.name} ({_costs(fastest, r)}), breaks: {'; '.join(fastest.compliance_reasons)}."
        )
    else:
        lines.append("No feasible option meets every latency target: see each option's reasons below.")
    relaxed = by[r.cheapest_relaxed_option]
    if relaxed is not fastest:
        head = best or fastest
        saving = f", {r.currency.text(head.total_cost_usd - relaxed.total_cost_usd)} less," if head else ""
        lines.append(
            f"If latency targets are relaxed, {relaxed.name} is cheapest{saving} at {_costs(relaxed, r)}; "
            f"it misses {'; '.join(relaxed.slo_reasons)}."
        )
    lines += [break_even_sentence(b, r) for b in r.break_even]
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
            o.kind.replace("_", "-"),
            r.currency.text(o.total_cost_usd),
            r.currency.text(o.npv_cost_usd),
            f"{r.currency.of_usd(o.usd_per_mtok):,.2f}" if o.usd_per_mtok is not None else "-",
            slo_text(o),
            f"{o.privacy_score:.0f}",
            verdict(o, r),
            o.perf_source or "-",
        ]
        for o in sorted(r.options, key=lambda o: o.total_cost_usd)
    ]
