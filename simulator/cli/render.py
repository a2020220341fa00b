"""What the command line prints for people: rich tables and sentences over typed results."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from simulator import catalog, units
from simulator.errors import InputError
from simulator.perf import fit as pf
from simulator.report.text import hardware_text, recommendation, slo_text, tokens_text, verdict
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


_VERDICT_STYLES = {
    "recommended": "bold green",
    "infeasible": "red",
    "misses targets": "yellow",
    "breaks privacy": "red",
}


def _short_verdict(o: OptionResult, r: RunResult) -> str:
    words = verdict(o, r, short=True)
    style = _VERDICT_STYLES.get(words)
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
    console.print(
        f"[bold]{result.scenario}[/bold]: {result.horizon_months} months from prices of "
        f"{result.price_date}, {tokens_text(result.tokens_per_month)} tokens a month at scale "
        f"{result.workload_scale:g} ({result.engine} engine)",
        highlight=False,
    )
    cur = result.currency
    if cur.code != "USD":
        console.print(f"Money in {cur.code} at {cur.per_usd:,.4g} per USD ({cur.source}, {cur.as_of})", highlight=False)
    options = sorted(result.options, key=lambda o: o.total_cost_usd)
    rows = [
        {
            "option": o.name,
            "kind": o.kind.replace("_", "-"),
            "horizon cost": cur.text(o.total_cost_usd),
            "NPV": cur.text(o.npv_cost_usd),
            "per month": cur.text(o.total_cost_usd / result.horizon_months),
            PER_MTOK: f"{cur.of_usd(o.usd_per_mtok):,.2f}" if o.usd_per_mtok is not None else "-",
            "hardware": hardware_text(o),
            "SLO met": slo_text(o),
            "privacy": f"{o.privacy_score:.0f}",
            "verdict": verdict(o, result) if wide else _short_verdict(o, result),
            "perf": o.perf_source or "-",
        }
        for o in options
    ]
    columns = ["option", "kind", "horizon cost", "per month", PER_MTOK, "hardware", "SLO met", "privacy", "verdict"]
    if wide:
        columns[3:3] = ["NPV"]
        columns.append("perf")
    for drop in () if wide else _OPTIONAL_COLUMNS:
        if _width(columns, rows) <= console.width:
            break
        columns.remove(drop)
    console.print(_options_table(columns, rows, wide, {PER_MTOK: f"{cur.code}/Mtok"}))
    for line in recommendation(result):
        console.print(line, highlight=False, markup=False)
    explained = {result.cheapest_compliant_option, result.cheapest_option, result.cheapest_relaxed_option}
    best = next((o for o in options if o.name == result.cheapest_compliant_option), None)
    lost = [o for o in options if o.name not in explained and (best is None or o.total_cost_usd < best.total_cost_usd)]
    if lost and not wide:
        console.print("Why the other cheaper options lost:", style="bold", highlight=False)
        for o in lost:
            console.print(f"  {o.name}: {verdict(o, result)}", highlight=False, markup=False)


def _width(columns: list[str], rows: list[dict[str, str]]) -> int:
    """Characters the table needs unwrapped: each column's widest cell and three of padding and rule."""
    return sum(max(Text.from_markup(r[c]).cell_len for r in [dict.fromkeys(columns, c), *rows]) + 3 for c in columns)


def _options_table(columns: list[str], rows: list[dict[str, str]], wide: bool, headers: dict[str, str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for c in columns:
        text_column = c in ("option", "kind", "verdict", "perf")
        table.add_column(
            headers.get(c, c), justify="left" if text_column else "right", no_wrap=c != "verdict" or not wide
        )
    for row in rows:
        table.add_row(*(row[c] for c in columns))
    return table


def batch(outcomes: list[Outcome], out: str) -> None:
    table = Table(title=f"{len(outcomes)} scenarios, outputs in {out}/")
    for c in ("scenario", "folder", "cheapest in targets", "horizon cost", "recommended", "cost of privacy", "status"):
        table.add_column(c)
    for o in outcomes:
        table.add_row(
            o.path,
            Path(o.folder).name if o.folder else "-",
            o.cheapest_option or "-",
            money_text(o.cheapest_total_usd, "USD") if o.cheapest_total_usd is not None else "-",
            o.cheapest_compliant_option or "-",
            money_text(o.cost_of_privacy_usd, "USD") if o.cost_of_privacy_usd is not None else "-",
            "ok" if o.error is None else "[red]failed[/]",
        )
    stdout().print(table)


def catalog_table(what: str, entries: list[dict[str, object]]) -> Table:
    """A catalogue listing as a table: the columns people compare."""
    table = Table()
    columns = {
        "gpus": ("name", "display_name"),
        "terms": ("name", "display_name", "genai_prices_provider"),
        "models": ("name", "total_params_b", "active_params_b", "context_tokens", "licence", "variant"),
        "prices": (
            "provider",
            "name",
            "input_usd_per_mtok",
            "cached_input_usd_per_mtok",
            "output_usd_per_mtok",
            "context_tokens",
        ),
    }[what]
    for c in columns:
        table.add_column(c)
    if what == "gpus":
        for c in ("memory_gib", "bandwidth_gb_per_s", "on_demand_usd_per_gpu_hour", "purchase_usd"):
            table.add_column(c, justify="right")
    facts = ("retention_days", "zero_retention_available", "trains_on_api_data_by_default", "regions", "hipaa_baa")
    if what == "terms":
        for c in facts:
            table.add_column(c)
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
                f"{rental['on_demand']['value']:.2f}",
                f"{purchase['value']:,.0f}" if isinstance(purchase, dict) else "-",
            ]
        table.add_row(*row)
    return table


def capacity_table(result: CapacityResult) -> Table:
    table = Table(
        title=f"{result.model} on {result.gpus_per_replica} x {result.gpu} ({result.precision}, "
        f"{result.perf_source}), {result.input_tokens} in / {result.output_tokens} out; {result.engine}: "
        f"batch {result.max_batch}, {result.chunk_tokens:,} tokens a step, KV cache {result.kv_cache_dtype}"
    )
    columns = list(type(result.points[0]).model_fields)  # every figure of a point, in its order
    for c in columns:
        table.add_column(c, justify="right")
    for p in result.points:
        table.add_row(*(f"{getattr(p, c):,.1f}" for c in columns))
    return table


def measured(measured: Measured, console: Console, device: catalog.Gpu | None) -> None:
    try:
        fit: pf.Fit | None = pf.fit(measured)
    except InputError as e:
        fit, why = None, e.problem
    table = Table(
        title=f"{measured.model.name} ({measured.model.precision}{', proxy' if measured.model.proxy else ''})"
        f" on {measured.hardware.machine()}, {measured.backend.name} {measured.backend.version}"
    )
    for c in (
        "batch",
        "decode step ms",
        "decode tok/s",
        "prefill tok/s",
        "fit ms",
        "residual ms",
        "other CPU",
        "noisy",
    ):
        table.add_column(c, justify="right")
    residuals = iter(fit.residuals_ms if fit else [])
    for p in measured.points:
        step = p.decode_step_ms if p.decode_step_ms is not None else p.tpot_p50_ms
        residual = next(residuals, None) if (p.batch or p.concurrency) and step else None
        table.add_row(
            str(p.batch or p.concurrency or p.rate_rps),
            f"{step:.3f}" if step else "-",
            f"{p.decode_tok_per_s:,.1f}" if p.decode_tok_per_s else "-",
            f"{p.prefill_tok_per_s:,.1f}" if p.prefill_tok_per_s else "-",
            f"{step - residual:.3f}" if step and residual is not None else "-",
            f"{residual:+.3f}" if residual is not None else "-",
            f"{p.other_cpu_share:.0%}" if p.other_cpu_share is not None else "-",
            "yes" if p.noisy else "",
        )
    console.print(table)
    if fit is None:
        console.print(f"no fit: {why} (sweep at least two batch sizes or concurrencies)")
        return
    ms = units.seconds_to_ms
    console.print(
        f"fit: b0 {ms(fit.b0_s):.3f} ms, b_decode {ms(fit.b_decode_s):.4f} ms/sequence, "
        f"b_kv {units.seconds_to_us(fit.b_kv_s):.4f} us/token, b_prefill {ms(fit.b_prefill_s):.4f} ms/token; "
        f"largest error {fit.max_relative_error:.1%} over {fit.points_used} points"
        + (f" (batch {', '.join(map(str, fit.left_out))} shown, not fitted)" if fit.left_out else "")
    )
    check = pf.against_roofline(measured, fit, device)
    if check is None:
        console.print("no roofline: the hardware or the weight format is not in the catalogue (give --device NAME)")
        return
    spec = catalog.gpu(check.device).spec
    console.print(
        f"roofline of {check.gpus} x {check.device} ({spec.memory_bandwidth_gb_per_s:g} GB/s, "
        f"{spec.dense_tflops['fp16']:g} fp16 TFLOP/s each): {check.weight_gb:.2f} GB of weights read in "
        f"{units.seconds_to_ms(check.weights_read_s):.2f} ms at peak; decode reaches "
        f"{check.decode_bandwidth_efficiency:.0%} of peak bandwidth at the smallest batch"
        + (
            f", prefill {check.prefill_compute_efficiency:.0%} of peak FLOP/s"
            if check.prefill_compute_efficiency is not None
            else ""
        )
    )


def grid(points: list[GridPoint], currency: Currency) -> Table:
    table = Table(title="grid: horizon cost per option")
    for c in [*points[0].values, "cheapest", *points[0].total_cost_usd]:
        table.add_column(c, justify="right")
    for p in points:
        table.add_row(
            *(f"{v:g}" for v in p.values.values()),
            p.cheapest_option or "-",
            *(currency.text(v) for v in p.total_cost_usd.values()),
        )
    return table


def tornado(bars: list[TornadoBar], currency: Currency) -> Table:
    table = Table(title="one at a time: horizon cost at the low and high value")
    for c in ("field", "option", "at low", "at high", "swing"):
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
    table = Table(title=f"Monte Carlo, {mc.samples} samples: horizon cost and chance of being cheapest")
    for c in ("option", "P10", "P50", "P90", "cheapest by the last month"):
        table.add_column(c, justify="right")
    for option in mc.options:
        table.add_row(
            option,
            currency.text(mc.p10_total_usd[option]),
            currency.text(mc.p50_total_usd[option]),
            currency.text(mc.p90_total_usd[option]),
            f"{mc.prob_cheapest_by_month[option][-1]:.0%}",
        )
    return table
