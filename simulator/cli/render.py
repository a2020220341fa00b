"""What the command line prints for people: rich tables and sentences over typed results."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from simulator import catalog, i18n, units
from simulator.errors import InputError
from simulator.i18n import N_, _, ngettext
from simulator.perf import fit as pf
from simulator.report.text import hardware_text, kind_text, recommendation, slo_text, tokens_text, verdict
from simulator.units import Currency, money_text

if TYPE_CHECKING:  # types of the results drawn here; their modules load with the commands that make them
    from simulator.analysis.capacity import CapacityResult
    from simulator.analysis.results import OptionResult, RunResult
    from simulator.analysis.sweep import GridPoint, MonteCarlo, TornadoBar
    from simulator.batch import Outcome
    from simulator.perf.measured import Measured


def stdout() -> Console:
    # Piped output gets a wide table rather than rich's 80-column default, unless COLUMNS says otherwise.
    return Console() if sys.stdout.isatty() or "COLUMNS" in os.environ else Console(width=160)


def _verdict_style(o: OptionResult, r: RunResult) -> str | None:
    """The colour of the short verdict, chosen as `verdict` chooses its words (which may be in any language)."""
    if o.name == r.cheapest_compliant_option:
        return "bold green"
    if not o.feasible:
        return "red"
    if not o.meets_targets:
        return "yellow"
    if not all(o.compliant.values()):
        return "red"
    return None


def _short_verdict(o: OptionResult, r: RunResult) -> str:
    words = verdict(o, r, short=True)
    style = _verdict_style(o, r)
    return f"[{style}]{words}[/]" if style else words


PER_MTOK = "per Mtok"  # shown as "USD/Mtok", "JPY/Mtok": the currency's price of a million tokens
_OPTIONAL_COLUMNS = (
    "per month",
    "kind",
    "hardware",
    PER_MTOK,
    "privacy",
)  # dropped in this order to fit the terminal


def summary(result: RunResult, console: Console, wide: bool = False) -> None:
    """The options as a table that fits the terminal, dropping the least needed columns first (`wide`:
    every column and each full verdict), then the answer in words and why the other cheaper options lost."""
    months = result.horizon_months
    heading = ngettext(
        "{scenario}: {months} month from prices of {date}, {tokens} tokens a month at scale {scale} ({engine} engine)",
        "{scenario}: {months} months from prices of {date}, {tokens} tokens a month at scale {scale} ({engine} engine)",
        months,
    )
    console.print(
        heading.format(
            scenario=f"[bold]{result.scenario}[/bold]",
            months=months,
            date=i18n.date(result.price_date),
            tokens=tokens_text(result.tokens_per_month),
            scale=f"{result.workload_scale:g}",
            engine=result.engine,
        ),
        highlight=False,
    )
    cur = result.currency
    if cur.code != "USD":
        rate = i18n.number(cur.per_usd, max(0, 3 - math.floor(math.log10(cur.per_usd))))  # 4 significant figures
        money = _("Money in {currency} at {rate} per USD ({source}, {as_of})")
        console.print(money.format(currency=cur.code, rate=rate, source=cur.source, as_of=cur.as_of), highlight=False)
    options = sorted(result.options, key=lambda o: o.total_cost_usd)
    rows = [
        {
            "option": o.name,
            "kind": kind_text(o.kind),
            "horizon cost": cur.text(o.total_cost_usd),
            "NPV": cur.text(o.npv_cost_usd),
            "per month": cur.text(o.total_cost_usd / months),
            PER_MTOK: i18n.number(cur.of_usd(o.usd_per_mtok), 2) if o.usd_per_mtok is not None else "-",
            "hardware": hardware_text(o),
            "SLO met": slo_text(o),
            "privacy": i18n.number(o.privacy_score),
            "verdict": verdict(o, result) if wide else _short_verdict(o, result),
            "perf": o.perf_source or "-",
        }
        for o in options
    ]
    columns = ["option", "kind", "horizon cost", "per month", PER_MTOK, "hardware", "SLO met", "privacy", "verdict"]
    if wide:
        columns[3:3] = ["NPV"]
        columns.append("perf")
    headers = {
        "option": _("option"),
        "kind": _("kind"),
        "horizon cost": _("horizon cost"),
        "NPV": "NPV",
        "per month": _("per month"),
        PER_MTOK: f"{cur.code}/Mtok",
        "hardware": _("hardware"),
        "SLO met": _("SLO met"),
        "privacy": _("privacy"),
        "verdict": _("verdict"),
        "perf": _("perf"),
    }
    for drop in () if wide else _OPTIONAL_COLUMNS:
        if _width(columns, rows, headers) <= console.width:
            break
        columns.remove(drop)
    console.print(_options_table(columns, rows, wide, headers))
    for line in recommendation(result):
        console.print(line, highlight=False, markup=False)
    explained = {result.cheapest_compliant_option, result.cheapest_option, result.cheapest_relaxed_option}
    best = next((o for o in options if o.name == result.cheapest_compliant_option), None)
    lost = [o for o in options if o.name not in explained and (best is None or o.total_cost_usd < best.total_cost_usd)]
    if lost and not wide:
        console.print(_("Why the other cheaper options lost:"), style="bold", highlight=False)
        for o in lost:
            console.print(f"  {o.name}: {verdict(o, result)}", highlight=False, markup=False)


def _width(columns: list[str], rows: list[dict[str, str]], headers: dict[str, str]) -> int:
    """Characters the table needs unwrapped: each column's widest cell and three of padding and rule."""
    return sum(
        max(Text.from_markup(text).cell_len for text in [headers[c], *(r[c] for r in rows)]) + 3 for c in columns
    )


def _options_table(columns: list[str], rows: list[dict[str, str]], wide: bool, headers: dict[str, str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for c in columns:
        text_column = c in ("option", "kind", "verdict", "perf")
        table.add_column(headers[c], justify="left" if text_column else "right", no_wrap=c != "verdict" or not wide)
    for row in rows:
        table.add_row(*(row[c] for c in columns))
    return table


def batch(outcomes: list[Outcome], out: str) -> None:
    n = len(outcomes)
    table = Table(
        title=ngettext("{n} scenario, outputs in {out}/", "{n} scenarios, outputs in {out}/", n).format(n=n, out=out)
    )
    for c in (
        _("scenario"),
        _("folder"),
        _("cheapest in targets"),
        _("horizon cost"),
        _("recommended"),
        _("cost of privacy"),
        _("status"),
    ):
        table.add_column(c)
    for o in outcomes:
        table.add_row(
            o.path,
            Path(o.folder).name if o.folder else "-",
            o.cheapest_option or "-",
            money_text(o.cheapest_total_usd, "USD") if o.cheapest_total_usd is not None else "-",
            o.cheapest_compliant_option or "-",
            money_text(o.cost_of_privacy_usd, "USD") if o.cost_of_privacy_usd is not None else "-",
            _("ok") if o.error is None else Text(_("failed"), style="red"),
        )
    stdout().print(table)


def catalog_table(what: str, entries: list[dict[str, object]]) -> Table:
    """A catalogue listing as a table: the columns people compare, named by their JSON fields (in English)."""
    table = Table()
    columns = {
        "gpus": (N_("name"), N_("display_name")),
        "terms": (N_("name"), N_("display_name"), N_("genai_prices_provider")),
        "models": (
            N_("name"),
            N_("total_params_b"),
            N_("active_params_b"),
            N_("context_tokens"),
            N_("licence"),
            N_("variant"),
        ),
        "prices": (
            N_("provider"),
            N_("name"),
            N_("input_usd_per_mtok"),
            N_("cached_input_usd_per_mtok"),
            N_("output_usd_per_mtok"),
            N_("context_tokens"),
        ),
    }[what]
    for c in columns:
        table.add_column(_(c))
    if what == "gpus":
        for c in (N_("memory_gib"), N_("bandwidth_gb_per_s"), N_("on_demand_usd_per_gpu_hour"), N_("purchase_usd")):
            table.add_column(_(c), justify="right")
    facts = (
        N_("retention_days"),
        N_("zero_retention_available"),
        N_("trains_on_api_data_by_default"),
        N_("regions"),
        N_("hipaa_baa"),
    )
    if what == "terms":
        for c in facts:
            table.add_column(_(c))
    for e in entries:
        row = [str(e.get(c, "")) for c in columns]
        if what == "terms":
            row += [str(e[c]["value"]) for c in facts]  # type: ignore[index]
        if what == "gpus":
            spec, rental, purchase = e["spec"], e["rental_usd_per_gpu_hour"], e.get("purchase_usd")
            assert isinstance(spec, dict) and isinstance(rental, dict)
            row += [
                f"{spec['memory_gib']:g}",
                f"{spec['memory_bandwidth_gb_per_s']:g}",
                i18n.number(rental["on_demand"]["value"], 2),
                i18n.number(purchase["value"]) if isinstance(purchase, dict) else "-",
            ]
        table.add_row(*row)
    return table


def capacity_table(result: CapacityResult) -> Table:
    title = _(
        "{model} on {gpus} x {gpu} ({precision}, {perf}), {input} in / {output} out; {engine}: "
        "batch {batch}, {chunk} tokens a step, KV cache {kv_cache}"
    )
    table = Table(
        title=title.format(
            model=result.model,
            gpus=result.gpus_per_replica,
            gpu=result.gpu,
            precision=result.precision,
            perf=result.perf_source,
            input=i18n.number(result.input_tokens),
            output=i18n.number(result.output_tokens),
            engine=result.engine,
            batch=result.max_batch,
            chunk=i18n.number(result.chunk_tokens),
            kv_cache=result.kv_cache_dtype,
        )
    )
    headers = {  # named by the JSON fields, in English
        "rate_rps": _("rate_rps"),
        "achieved_rps": _("achieved_rps"),
        "output_tok_per_s": _("output_tok_per_s"),
        "ttft_p50_ms": _("ttft_p50_ms"),
        "ttft_p95_ms": _("ttft_p95_ms"),
        "tpot_p50_ms": _("tpot_p50_ms"),
        "tpot_p95_ms": _("tpot_p95_ms"),
        "e2e_p95_ms": _("e2e_p95_ms"),
    }
    columns = list(type(result.points[0]).model_fields)  # every figure of a point, in its order
    for c in columns:
        table.add_column(headers.get(c, c), justify="right")
    for p in result.points:
        table.add_row(*(i18n.number(getattr(p, c), 1) for c in columns))
    return table


def measured(measured: Measured, console: Console, device: catalog.Gpu | None) -> None:
    try:
        fit: pf.Fit | None = pf.fit(measured)
    except InputError as e:
        fit, why = None, e.problem
    model = measured.model
    if model.proxy:
        title = _("{model} ({precision}, proxy) on {machine}, {backend} {version}")
    else:
        title = _("{model} ({precision}) on {machine}, {backend} {version}")
    table = Table(
        title=title.format(
            model=model.name,
            precision=model.precision,
            machine=measured.hardware.machine(),
            backend=measured.backend.name,
            version=measured.backend.version,
        )
    )
    for c in (
        _("batch"),
        _("decode step ms"),
        _("decode tok/s"),
        _("prefill tok/s"),
        _("fit ms"),
        _("residual ms"),
        _("other CPU"),
        _("noisy"),
    ):
        table.add_column(c, justify="right")
    residuals = iter(fit.residuals_ms if fit else [])
    for p in measured.points:
        step = p.decode_step_ms if p.decode_step_ms is not None else p.tpot_p50_ms
        residual = next(residuals, None) if (p.batch or p.concurrency) and step else None
        table.add_row(
            str(p.batch or p.concurrency or p.rate_rps),
            i18n.number(step, 3) if step else "-",
            i18n.number(p.decode_tok_per_s, 1) if p.decode_tok_per_s else "-",
            i18n.number(p.prefill_tok_per_s, 1) if p.prefill_tok_per_s else "-",
            i18n.number(step - residual, 3) if step and residual is not None else "-",
            f"{'+' if residual >= 0 else ''}{i18n.number(residual, 3)}" if residual is not None else "-",
            i18n.percent(p.other_cpu_share) if p.other_cpu_share is not None else "-",
            _("yes") if p.noisy else "",
        )
    console.print(table)
    if fit is None:
        console.print(_("no fit: {why} (sweep at least two batch sizes or concurrencies)").format(why=why))
        return
    ms = units.seconds_to_ms
    n = fit.points_used
    if fit.left_out:
        fitted = ngettext(
            "fit: b0 {b0} ms, b_decode {b_decode} ms/sequence, b_kv {b_kv} us/token, b_prefill {b_prefill} ms/token; "
            "largest error {error} over {n} point (batch {left_out} shown, not fitted)",
            "fit: b0 {b0} ms, b_decode {b_decode} ms/sequence, b_kv {b_kv} us/token, b_prefill {b_prefill} ms/token; "
            "largest error {error} over {n} points (batch {left_out} shown, not fitted)",
            n,
        )
    else:
        fitted = ngettext(
            "fit: b0 {b0} ms, b_decode {b_decode} ms/sequence, b_kv {b_kv} us/token, b_prefill {b_prefill} ms/token; "
            "largest error {error} over {n} point",
            "fit: b0 {b0} ms, b_decode {b_decode} ms/sequence, b_kv {b_kv} us/token, b_prefill {b_prefill} ms/token; "
            "largest error {error} over {n} points",
            n,
        )
    console.print(
        fitted.format(
            b0=i18n.number(ms(fit.b0_s), 3),
            b_decode=i18n.number(ms(fit.b_decode_s), 4),
            b_kv=i18n.number(units.seconds_to_us(fit.b_kv_s), 4),
            b_prefill=i18n.number(ms(fit.b_prefill_s), 4),
            error=i18n.percent(fit.max_relative_error, 1),
            n=n,
            left_out=", ".join(map(str, fit.left_out)),
        )
    )
    check = pf.against_roofline(measured, fit, device)
    if check is None:
        console.print(_("no roofline: the hardware or the weight format is not in the catalogue (give --device NAME)"))
        return
    spec = catalog.gpu(check.device).spec
    if check.prefill_compute_efficiency is None:
        roofline = _(
            "roofline of {gpus} x {device} ({bandwidth} GB/s, {tflops} fp16 TFLOP/s each): {weights} GB of weights "
            "read in {read} ms at peak; decode reaches {decode} of peak bandwidth at the smallest batch"
        )
    else:
        roofline = _(
            "roofline of {gpus} x {device} ({bandwidth} GB/s, {tflops} fp16 TFLOP/s each): {weights} GB of weights "
            "read in {read} ms at peak; decode reaches {decode} of peak bandwidth at the smallest batch, "
            "prefill {prefill} of peak FLOP/s"
        )
    console.print(
        roofline.format(
            gpus=check.gpus,
            device=check.device,
            bandwidth=f"{spec.memory_bandwidth_gb_per_s:g}",
            tflops=f"{spec.dense_tflops['fp16']:g}",
            weights=i18n.number(check.weight_gb, 2),
            read=i18n.number(units.seconds_to_ms(check.weights_read_s), 2),
            decode=i18n.percent(check.decode_bandwidth_efficiency),
            prefill=i18n.percent(check.prefill_compute_efficiency or 0),
        )
    )


def grid(points: list[GridPoint], currency: Currency) -> Table:
    table = Table(title=_("grid: horizon cost per option"))
    for c in [*points[0].values, _("cheapest"), *points[0].total_cost_usd]:
        table.add_column(c, justify="right")
    for p in points:
        table.add_row(
            *(f"{v:g}" for v in p.values.values()),
            p.cheapest_option or "-",
            *(currency.text(v) for v in p.total_cost_usd.values()),
        )
    return table


def tornado(bars: list[TornadoBar], currency: Currency) -> Table:
    table = Table(title=_("one at a time: horizon cost at the low and high value"))
    for c in (_("field"), _("option"), _("at low"), _("at high"), _("swing")):
        table.add_column(c, justify="right")
    for b in bars:
        for option, low in b.total_cost_usd_at_low.items():
            high = b.total_cost_usd_at_high[option]
            table.add_row(
                f"{b.field} {b.low:g}..{b.high:g}",
                option,
                currency.text(low),
                currency.text(high),
                currency.text(high - low),
            )
    return table


def monte_carlo(mc: MonteCarlo, currency: Currency) -> Table:
    title = ngettext(
        "Monte Carlo, {n} sample: horizon cost and chance of being cheapest",
        "Monte Carlo, {n} samples: horizon cost and chance of being cheapest",
        mc.samples,
    )
    table = Table(title=title.format(n=i18n.number(mc.samples)))
    for c in (_("option"), "P10", "P50", "P90", _("cheapest by the last month")):
        table.add_column(c, justify="right")
    for option in mc.options:
        table.add_row(
            option,
            currency.text(mc.p10_total_usd[option]),
            currency.text(mc.p50_total_usd[option]),
            currency.text(mc.p90_total_usd[option]),
            i18n.percent(mc.prob_cheapest_by_month[option][-1]),
        )
    return table
