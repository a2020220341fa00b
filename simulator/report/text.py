"""Results in words and table rows, shared by every report format and the command line."""

from __future__ import annotations

import math

from simulator import i18n
from simulator.analysis.results import BreakEven, OptionResult, RunResult
from simulator.i18n import N_, _, ngettext
from simulator.perf.step import PERF_SOURCE_ROOFLINE

KINDS = {"api": N_("api"), "self_host": N_("self-host"), "hybrid": N_("hybrid")}


def kind_text(kind: str) -> str:
    """An option's kind in words: api, self-host, hybrid."""
    return _(KINDS[kind])


def reasons_text(reasons: list[str]) -> str:
    """Several reasons in one sentence, with the locale's separator."""
    return _("; ").join(reasons)


def option_columns(r: RunResult) -> dict[str, str]:
    """The options table's columns, in order, by key: each heading in the active language."""
    return {
        "option": _("option"),
        "kind": _("kind"),
        "horizon_cost": _("horizon cost"),
        "npv": "NPV",
        "per_mtok": f"{r.currency.code}/Mtok",
        "slo": _("SLO met"),
        "privacy": _("privacy"),
        "verdict": _("verdict"),
        "perf": _("perf"),
    }


def option_header(r: RunResult) -> list[str]:
    return list(option_columns(r).values())


def rounded_text(value: float, figures: int) -> str:
    """A number to `figures` significant figures, as the active locale writes it: 0.042, 1.5, 2,500."""
    if value == 0 or not math.isfinite(value):
        return i18n.number(value)
    digits = figures - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, digits)
    return i18n.number(rounded, len(f"{rounded:.{max(digits, 0)}f}".partition(".")[2].rstrip("0")))


def times_text(ratio: float) -> str:
    """A multiple as people read it: 0.4x, 1.4x, 290x, 11,000x."""
    return _("{ratio}x").format(ratio=i18n.number(ratio) if ratio >= 10 else rounded_text(ratio, 2))


def tokens_text(tokens: float) -> str:
    """A count as people say it, to three figures: 1.23 trillion, 78.2 billion, 950 million, 640."""
    return i18n.compact(tokens)


def hardware_text(o: OptionResult) -> str:
    """The most accelerators or servers an option holds at once, named as what they are."""
    if o.gpus_peak is None:
        return "-"
    if o.hardware_unit == "CPU server":
        return ngettext("{n} CPU server", "{n} CPU servers", o.gpus_peak).format(n=i18n.number(o.gpus_peak))
    return ngettext("{n} GPU", "{n} GPUs", o.gpus_peak).format(n=i18n.number(o.gpus_peak))


def break_even_sentence(b: BreakEven, r: RunResult) -> str:
    """Where an option starts to beat the cheapest API, and what that means at today's volume."""
    if b.scale is None or b.tokens_per_month is None:
        return _(
            "{option} never costs less than {versus} between a millionth and a million times the scenario's "
            "volume at scale 1."
        ).format(option=b.option, versus=b.versus)
    cheaper = b.scale <= r.workload_scale
    if b.payback_month:
        verdict = (
            _("cheaper today, pays back in month {month}")
            if cheaper
            else _("not yet cheaper, pays back in month {month}")
        ).format(month=b.payback_month)
    elif cheaper:
        verdict = _("cheaper over the horizon only once resale value is counted")
    else:
        verdict = _("not yet cheaper, no payback in the horizon")
    return _(
        "{option} costs less than {versus} if volume stays above {tokens} tokens a month ({times} today's, "
        "scale {scale}): {verdict}. Below that volume {versus} stays cheaper."
    ).format(
        option=b.option,
        versus=b.versus,
        tokens=tokens_text(b.tokens_per_month),
        times=times_text(b.scale / r.workload_scale),
        scale=rounded_text(b.scale, 3),
        verdict=verdict,
    )


def headline(r: RunResult) -> str | None:
    """The option the answer leads with: the recommendation, else the cheapest meeting the targets,
    else the cheapest if they are relaxed."""
    return r.cheapest_compliant_option or r.cheapest_option or r.cheapest_relaxed_option


def share_text(share: float) -> str:
    """A share within targets, never rounded up to a floor it misses: 65.7%, 99.9%, 100%."""
    return i18n.percent(1) if share >= 1 else i18n.percent(min(share, 0.999), 1)


def slo_text(o: OptionResult) -> str:
    """The option's worst class share within its latency targets; "planned" where the fluid engine
    sized an in-house fleet to the targets rather than measuring them."""
    return share_text(min(o.class_attainment.values())) if o.class_attainment else _("planned")


def verdict(o: OptionResult, r: RunResult, short: bool = False) -> str:
    """Why an option is, or is not, the recommendation; `short`: the first words only, for a narrow table."""
    if o.name == r.cheapest_compliant_option:
        return _("recommended")
    for failed, label, words, reasons in (
        (not o.feasible, N_("infeasible"), N_("infeasible: {reasons}"), o.infeasible_reasons),
        (not o.meets_targets, N_("misses targets"), N_("misses latency targets: {reasons}"), o.slo_reasons),
        (
            not all(o.compliant.values()),
            N_("breaks privacy"),
            N_("breaks privacy requirements: {reasons}"),
            o.compliance_reasons,
        ),
    ):
        if failed:
            return _(label) if short else _(words).format(reasons=reasons_text(reasons))
    best = next(b for b in r.options if b.name == r.cheapest_compliant_option)
    more = r.currency.text(o.total_cost_usd - best.total_cost_usd)
    if short:
        return _("{amount} more").format(amount=more)
    return _("{amount} more than {option}").format(amount=more, option=best.name)


def _costs(o: OptionResult, r: RunResult) -> str:
    months = r.horizon_months
    return ngettext(
        "{total} over {months} month ({monthly} a month on average)",
        "{total} over {months} months ({monthly} a month on average)",
        months,
    ).format(total=r.currency.text(o.total_cost_usd), months=months, monthly=r.currency.text(o.total_cost_usd / months))


def recommendation(r: RunResult) -> list[str]:
    """The answer in plain words: the plan that meets every latency target and privacy requirement,
    what the cheaper ones lack, and the conditions it holds under."""
    by = {o.name: o for o in r.options}
    if r.cheapest_relaxed_option is None:
        return [_("No option is feasible: see each option's reasons below.")]
    lines = []
    best = by.get(r.cheapest_compliant_option or "")
    fastest = by.get(r.cheapest_option or "")
    if best is not None:
        lines.append(
            _(
                "{option} is the cheapest option that meets every latency target and privacy requirement: "
                "{costs} at today's volume of {tokens} tokens a month."
            ).format(option=best.name, costs=_costs(best, r), tokens=tokens_text(r.tokens_per_month))
        )
        if fastest is not None and fastest is not best:
            assert r.cost_of_privacy_usd is not None
            lines.append(
                _(
                    "{option} meets the latency targets for {amount} less over the horizon (the cost of privacy) "
                    "but breaks: {reasons}."
                ).format(
                    option=fastest.name,
                    amount=r.currency.text(r.cost_of_privacy_usd),
                    reasons=reasons_text(fastest.compliance_reasons),
                )
            )
    elif fastest is not None:
        lines.append(
            _(
                "No option meets every latency target and privacy requirement. The cheapest meeting the targets, "
                "{option} ({costs}), breaks: {reasons}."
            ).format(option=fastest.name, costs=_costs(fastest, r), reasons=reasons_text(fastest.compliance_reasons))
        )
    else:
        lines.append(_("No feasible option meets every latency target: see each option's reasons below."))
    relaxed = by[r.cheapest_relaxed_option]
    if relaxed is not fastest:
        head = best or fastest
        words = {"option": relaxed.name, "costs": _costs(relaxed, r), "reasons": reasons_text(relaxed.slo_reasons)}
        if head:
            saving = r.currency.text(head.total_cost_usd - relaxed.total_cost_usd)
            line = _(
                "If latency targets are relaxed, {option} is cheapest, {amount} less, at {costs}; it misses {reasons}."
            ).format(amount=saving, **words)
        else:
            line = _("If latency targets are relaxed, {option} is cheapest at {costs}; it misses {reasons}.")
            line = line.format(**words)
        lines.append(line)
    lines += [break_even_sentence(b, r) for b in r.break_even]
    estimated = [o.name for o in r.options if o.perf_source == PERF_SOURCE_ROOFLINE]
    if estimated:
        lines.append(
            _(
                "Self-hosted throughput is a roofline estimate for {options}; measure it (rent-or-own probe) "
                "before committing."
            ).format(options=", ".join(estimated))
        )
    return lines


def option_rows(r: RunResult) -> list[list[str]]:
    return [
        [
            o.name,
            kind_text(o.kind),
            r.currency.text(o.total_cost_usd),
            r.currency.text(o.npv_cost_usd),
            i18n.number(r.currency.of_usd(o.usd_per_mtok), 2) if o.usd_per_mtok is not None else "-",
            slo_text(o),
            i18n.number(o.privacy_score),
            verdict(o, r),
            o.perf_source or "-",
        ]
        for o in sorted(r.options, key=lambda o: o.total_cost_usd)
    ]
