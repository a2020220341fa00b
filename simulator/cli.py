"""The `rent-or-own` command: a thin shell over `simulator.analysis`.

Exit codes: 0 success, 2 bad input (one line on stderr: `file: field: problem (fix)`).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from rich.console import Console
from rich.table import Table

from simulator import catalog, units
from simulator.errors import InputError
from simulator.files import check_writable
from simulator.probe import measured as mf
from simulator.scenario import json_schema, load_scenario
from simulator.units import usd_text

if TYPE_CHECKING:
    from simulator.analysis import RunResult
    from simulator.batch import Outcome

EXIT_OK = 0
EXIT_BAD_INPUT = 2
T = TypeVar("T")


def _print_summary(result: RunResult, console: Console) -> None:
    console.print(
        f"[bold]{result.scenario}[/bold]: {result.horizon_months} months from prices of "
        f"{result.price_date}, engine {result.engine}, {result.tokens_per_month / 1e6:,.1f}M tokens/month "
        f"at scale {result.workload_scale:g}"
    )
    table = Table(show_lines=False)
    for col, justify in (
        ("option", "left"),
        ("kind", "left"),
        ("horizon cost", "right"),
        ("per month", "right"),
        ("USD/Mtok", "right"),
        ("GPUs", "right"),
        ("perf", "left"),
        ("SLO met", "right"),
        ("privacy", "right"),
        ("feasible", "left"),
        ("compliant", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for o in sorted(result.options, key=lambda o: o.total_cost_usd):
        table.add_row(
            o.name + (" [bold green]<- cheapest[/]" if o.name == result.cheapest_option else ""),
            o.kind,
            usd_text(o.total_cost_usd),
            usd_text(o.total_cost_usd / result.horizon_months),
            f"{o.usd_per_mtok:,.2f}" if o.usd_per_mtok is not None else "-",
            f"{o.gpus_peak:g}" if o.gpus_peak is not None else "-",
            o.perf_source or "-",
            f"{o.slo_attainment:.0%}" if o.slo_attainment is not None else "-",
            f"{o.privacy_score:.0f}",
            "yes" if o.feasible else "[red]no[/]: " + "; ".join(o.infeasible_reasons),
            "yes"
            if all(o.compliant.values())
            else "[red]no[/]: " + ", ".join(c for c, ok in o.compliant.items() if not ok),
        )
    console.print(table)
    for b in result.break_even:
        if b.scale is None:
            console.print(f"{b.option} never costs less than {b.versus} between 1e-6x and 1e6x the volume at scale 1.")
        else:
            assert b.tokens_per_month is not None
            cheaper = b.scale <= result.workload_scale
            if b.payback_month:
                verdict = f"{'cheaper today' if cheaper else 'not yet cheaper'}, pays back in month {b.payback_month}"
            elif cheaper:
                verdict = "cheaper over the horizon only once resale value is counted"
            else:
                verdict = "not yet cheaper, no payback in the horizon"
            console.print(
                f"{b.option} costs less than {b.versus} above scale {b.scale:.3g} "
                f"({b.tokens_per_month / 1e6:,.0f}M tokens/month): {verdict}."
            )
    if result.cheapest_option is None:
        console.print("[bold red]No option is feasible.[/bold red]")
        return
    console.print(f"[bold]Cheapest feasible option: {result.cheapest_option}[/bold]")
    if result.cheapest_compliant_option is None:
        console.print("[bold red]No feasible option meets every privacy requirement.[/bold red]")
    elif result.cheapest_compliant_option != result.cheapest_option:
        assert result.cost_of_privacy_usd is not None
        console.print(
            f"[bold]Cheapest option meeting every privacy requirement: {result.cheapest_compliant_option}"
            f"[/bold], {usd_text(result.cost_of_privacy_usd)} more over the horizon "
            f"({usd_text(result.cost_of_privacy_usd / result.horizon_months)} a month): the cost of privacy."
        )


def _console() -> Console:
    # Piped output gets a wide table rather than rich's 80-column default.
    return Console() if sys.stdout.isatty() else Console(width=160)


def _cmd_batch(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from simulator.batch import run_batch

    out = args.out or "out"
    errors = Console(stderr=True)
    with Progress(console=errors, transient=True) as progress:
        task = progress.add_task("scenarios", total=len(args.scenario))
        formats = tuple(f.strip() for f in (args.format or "").split(",") if f.strip())
        outcomes = run_batch(
            args.scenario,
            out,
            args.engine,
            tuple(args.set or []),
            on_done=lambda _: progress.advance(task),
            formats=formats,
        )
    if args.json:
        print(json.dumps({"out": out, "scenarios": [dataclasses.asdict(o) for o in outcomes]}, indent=2))
    else:
        _print_batch(outcomes, out)
    failed = [o for o in outcomes if o.error is not None]
    for o in failed:
        print(o.error, file=sys.stderr)
    return EXIT_BAD_INPUT if failed else EXIT_OK


def _print_batch(outcomes: list[Outcome], out: str) -> None:
    table = Table(title=f"{len(outcomes)} scenarios, outputs in {out}/")
    for c in ("scenario", "cheapest", "horizon cost", "cheapest compliant", "cost of privacy", "status"):
        table.add_column(c)
    for o in outcomes:
        table.add_row(
            o.path,
            o.cheapest_option or "-",
            usd_text(o.cheapest_total_usd) if o.cheapest_total_usd is not None else "-",
            o.cheapest_compliant_option or "-",
            usd_text(o.cost_of_privacy_usd) if o.cost_of_privacy_usd is not None else "-",
            "ok" if o.error is None else "[red]failed[/]",
        )
    _console().print(table)


def _cmd_run(args: argparse.Namespace) -> int:
    from simulator.analysis import run  # the price catalogue loads only for the commands that price

    if len(args.scenario) > 1 or args.out:
        return _cmd_batch(args)
    scenario = load_scenario(args.scenario[0], args.set or [])
    result = run(scenario, args.engine)
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        _print_summary(result, _console())
    return EXIT_OK


DASHBOARD_APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def _cmd_dashboard(args: argparse.Namespace) -> int:
    import os

    if args.scenario:
        load_scenario(args.scenario)  # a bad file fails here, in one line, before the server starts
    import importlib.util

    if not DASHBOARD_APP.is_file() or importlib.util.find_spec("streamlit") is None:
        raise InputError(
            "rent-or-own dashboard",
            "streamlit",
            "the dashboard is not installed",
            "from a checkout: pip install -e '.[dashboard]'",
        )
    env = {**os.environ, "RENT_OR_OWN_SCENARIO": str(Path(args.scenario).resolve()) if args.scenario else ""}
    # Flags repeat .streamlit/config.toml so that any working directory gets the same private server.
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD_APP),
        "--server.address",
        args.address,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    print(f"rent-or-own dashboard on http://{args.address}:{args.port}", file=sys.stderr, flush=True)
    # Become the server, so that Ctrl-C or a supervisor's SIGTERM reaches it and no child outlives us.
    os.execve(sys.executable, command, env)


def _cmd_validate(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        load_scenario(path, args.set or [])
        print(f"{path}: ok")
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(mf.json_schema() if args.measured else json_schema(), indent=2))
    return EXIT_OK


def _catalog_entries(what: str, args: argparse.Namespace) -> list[dict[str, object]]:
    if what == "gpus":
        return [g.model_dump(mode="json") for g in catalog.gpus().values()]
    if what == "models":
        return [m.model_dump(mode="json") for m in catalog.models().values()]
    if what == "terms":
        return [t.model_dump(mode="json") for t in catalog.terms().apis]
    from simulator.catalog.api_prices import token_priced_models

    return [
        {
            "name": prices.model_id,
            "provider": provider,
            "input_usd_per_mtok": prices.input.base_usd_per_mtok,
            "cached_input_usd_per_mtok": prices.cache_read.base_usd_per_mtok,
            "cache_write_usd_per_mtok": prices.cache_write.base_usd_per_mtok,
            "output_usd_per_mtok": prices.output.base_usd_per_mtok,
            "long_context_tier_starts_tokens": [s for s, _ in prices.input.tiers],
            "context_tokens": prices.context_tokens,
            "source": prices.source,
            "as_of": prices.as_of.isoformat(),
        }
        for provider, prices in token_priced_models(args.date, args.provider)
    ]


def _cmd_catalog(args: argparse.Namespace) -> int:
    entries = _catalog_entries(args.what, args)
    if args.filter:
        needle = args.filter.lower()
        entries = [e for e in entries if needle in json.dumps(e).lower()]
    if args.json:
        print(json.dumps(entries, indent=2))
        return EXIT_OK
    if not entries:
        print(
            f"no {args.what} match"
            + (f" {args.filter!r}" if args.filter else "")
            + " (see `rent-or-own catalog --help`)"
        )
        return EXIT_OK
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
    }[args.what]
    for c in columns:
        table.add_column(c)
    if args.what == "gpus":
        for c in ("memory_gb", "bandwidth_gb_per_s", "on_demand_usd_per_gpu_hour", "purchase_usd"):
            table.add_column(c, justify="right")
    facts = ("retention_days", "zero_retention_available", "trains_on_api_data_by_default", "regions", "hipaa_baa")
    if args.what == "terms":
        for c in facts:
            table.add_column(c)
    for e in entries:
        row = [str(e.get(c, "")) for c in columns]
        if args.what == "terms":
            row += [str(e[c]["value"]) for c in facts]  # type: ignore[index]
        if args.what == "gpus":
            spec, rental, purchase = e["spec"], e["rental_usd_per_gpu_hour"], e.get("purchase_usd")
            assert isinstance(spec, dict) and isinstance(rental, dict)
            row += [
                f"{spec['memory_gb']:g}",
                f"{spec['memory_bandwidth_gb_per_s']:g}",
                f"{rental['on_demand']['value']:.2f}",
                f"{purchase['value']:,.0f}" if isinstance(purchase, dict) else "-",
            ]
        table.add_row(*row)
    _console().print(table)
    return EXIT_OK


def _cmd_capacity(args: argparse.Namespace) -> int:
    from simulator.capacity import capacity

    result = capacity(
        args.model,
        args.gpu,
        args.rates,
        args.input_tokens,
        args.output_tokens,
        args.gpus_per_replica,
        args.precision,
        args.duration_s,
        args.slo_ttft_p95_ms,
        args.slo_tpot_p95_ms,
        args.seed,
        measured_file=args.perf,
    )
    if args.json:
        print(result.model_dump_json(indent=2))
        return EXIT_OK
    table = Table(
        title=f"{result.model} on {result.gpus_per_replica} x {result.gpu} ({result.precision}, "
        f"{result.perf_source}), {result.input_tokens} in / {result.output_tokens} out"
    )
    columns = (
        "rate_rps",
        "achieved_rps",
        "output_tok_per_s",
        "ttft_p50_ms",
        "ttft_p95_ms",
        "tpot_p50_ms",
        "tpot_p95_ms",
        "e2e_p95_ms",
    )
    for c in columns:
        table.add_column(c, justify="right")
    for p in result.points:
        table.add_row(*(f"{getattr(p, c):,.1f}" for c in columns))
    console = _console()
    console.print(table)
    if result.max_rate_rps_within_slo is not None:
        console.print(f"Highest rate within the targets: {result.max_rate_rps_within_slo:.2f} requests/s")
    return EXIT_OK


def _cmd_probe(args: argparse.Namespace) -> int:
    console = _console()
    if args.probe == "synth":
        from simulator.probe.synth import Shape, synthesize

        out = synthesize(Shape.of(catalog.model(args.shape, "--shape")), Path(args.out), args.precision, args.seed)
        print(f"{out}: random-weight proxy of {args.shape} at {args.precision}")
        return EXIT_OK
    if args.probe in ("llamacpp", "openai"):
        check_writable(Path(args.out or "measured/probe.json"))
    if args.probe == "llamacpp":
        from simulator.probe.llamacpp import probe

        measured = probe(
            args.model,
            args.batch,
            args.prompt_tokens,
            args.gen_tokens,
            args.threads,
            args.repeats,
            args.gpu_layers,
            args.catalogue_name,
            verbose=args.verbose,
        )
        if args.note:
            measured.settings["note"] = args.note
        out = Path(args.out or f"measured/{Path(args.model).stem}-{measured.created:%Y%m%d-%H%M%S}.json")
        mf.save(measured, out)
        print(f"{out}: {len(measured.points)} points" + (f" (partial: {measured.fault})" if measured.partial else ""))
        return EXIT_OK
    if args.probe == "openai":
        from simulator.probe.openai import probe as probe_openai

        measured = probe_openai(
            args.base_url,
            args.model,
            args.concurrency,
            args.rates,
            args.prompt_tokens,
            args.gen_tokens,
            args.duration_s,
            args.api_key_env,
        )
        out = Path(args.out or f"measured/{args.model.replace('/', '_')}-{measured.created:%Y%m%d-%H%M%S}.json")
        mf.save(measured, out)
        print(f"{out}: {len(measured.points)} points")
        if measured.partial:
            # The points measured before the fault are saved; the run still failed.
            raise InputError(str(out), "", f"partial: {measured.fault}", "fix the server and run the sweep again")
        return EXIT_OK
    if args.probe == "import":
        from simulator.probe.importers import import_files

        measured = import_files(args.files)
        # What the tool does not record about the model, so that the fit can be set against a roofline.
        model = {"precision": args.precision} if args.precision else {}
        if args.catalogue_name:
            shape = catalog.model(args.catalogue_name, "--catalogue-name")
            model |= {"catalogue_name": shape.name, "parameters": shape.total_params_b * units.PARAMS_PER_BILLION}
        measured = measured.model_copy(update={"model": measured.model.model_copy(update=model)})
        out = Path(args.out or f"measured/{Path(args.files[0]).stem}-{measured.kind}.json")
        mf.save(measured, out)
        print(f"{out}: {len(measured.points)} points imported from {measured.kind}")
        return EXIT_OK
    device = catalog.gpu(args.device, "--device") if args.device else None
    _show_measured(mf.load(args.file), console, device)
    return EXIT_OK


def _show_measured(measured: mf.Measured, console: Console, device: catalog.Gpu | None) -> None:
    try:
        fit: mf.Fit | None = mf.fit(measured)
    except InputError as e:
        fit, why = None, e.problem
    table = Table(
        title=f"{measured.model.name} ({measured.model.precision}{', proxy' if measured.model.proxy else ''})"
        f" on {measured.hardware.cpu_model}, {measured.backend.name} {measured.backend.version}"
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
        step = p.decode_step_ms if p.decode_step_ms is not None else p.tpot_ms_p50
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
    console.print(
        f"fit: b0 {fit.b0_s * 1e3:.3f} ms, b_decode {fit.b_decode_s * 1e3:.4f} ms/sequence, "
        f"b_kv {fit.b_kv_s * 1e6:.4f} us/token, b_prefill {fit.b_prefill_s * 1e3:.4f} ms/token; "
        f"largest error {fit.max_relative_error:.1%} over {fit.points_used} points"
        + (f" (batch {', '.join(map(str, fit.left_out))} shown, not fitted)" if fit.left_out else "")
    )
    check = mf.against_roofline(measured, fit, device)
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


def _cmd_sweep(args: argparse.Namespace) -> int:
    from simulator import sweep

    data, source = sweep.read_scenario(args.scenario)
    if not (args.param or args.tornado or args.samples):
        raise InputError("sweep", "", "nothing to sweep", "give --param, --tornado or --samples")
    params = [sweep.parse_param(p) for p in args.param or []]
    bars = []
    for spec in args.tornado or []:
        field, values = sweep.parse_param(spec)
        if len(values) != 2:
            raise InputError("--tornado", spec, "expected FIELD=LOW,HIGH", "give two values")
        bars.append((field, values[0], values[1]))
    executor, close = sweep.make_executor(args.executor, args.scheduler, args.workers)
    try:
        doc: dict[str, object] = {"scenario": source}
        if params:
            doc["grid"] = [p.model_dump() for p in sweep.grid(data, source, params, executor)]
        if bars:
            base, ranked = sweep.tornado(data, source, bars, executor)
            doc["tornado"] = {"base_total_cost_usd": base, "bars": [b.model_dump() for b in ranked]}
        if args.samples:
            scenario = load_scenario(args.scenario)
            doc["monte_carlo"] = sweep.monte_carlo(scenario, data, source, args.samples, executor).model_dump()
    finally:
        close()
    if args.json:
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    console = _console()
    if "grid" in doc:
        table = Table(title="grid: horizon cost per option")
        points = doc["grid"]
        assert isinstance(points, list)
        for c in [*points[0]["values"], "cheapest", *points[0]["total_cost_usd"]]:
            table.add_column(c, justify="right")
        for p in points:
            table.add_row(
                *(f"{v:g}" for v in p["values"].values()),
                p["cheapest_option"] or "-",
                *(usd_text(v) for v in p["total_cost_usd"].values()),
            )
        console.print(table)
    if "tornado" in doc:
        table = Table(title="one at a time: horizon cost at the low and high value")
        for c in ("field", "option", "at low", "at high", "swing"):
            table.add_column(c, justify="right")
        for b in doc["tornado"]["bars"]:  # type: ignore[index]
            for option, low in b["total_cost_usd_at_low"].items():
                high = b["total_cost_usd_at_high"][option]
                table.add_row(
                    f"{b['field']} {b['low']:g}..{b['high']:g}",
                    option,
                    usd_text(low),
                    usd_text(high),
                    usd_text(high - low),
                )
        console.print(table)
    if "monte_carlo" in doc:
        mc = doc["monte_carlo"]
        assert isinstance(mc, dict)
        table = Table(title=f"Monte Carlo, {mc['samples']} samples: horizon cost and chance of being cheapest")
        for c in ("option", "P10", "P50", "P90", "cheapest by the last month"):
            table.add_column(c, justify="right")
        for option in mc["options"]:
            table.add_row(
                option,
                usd_text(mc["p10_total_usd"][option]),
                usd_text(mc["p50_total_usd"][option]),
                usd_text(mc["p90_total_usd"][option]),
                f"{mc['prob_cheapest_by_month'][option][-1]:.0%}",
            )
        console.print(table)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from simulator import report

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    data = report.gather(args.scenario, args.engine)
    for path in report.write(data, args.out, formats, Path(args.scenario).stem):
        print(path)
    return EXIT_OK


def _checked(text: str, parse: Callable[[str], T], ok: Callable[[T], bool], expected: str) -> T:
    """`parse(text)` when it reads and passes `ok`; else argparse's one-line error saying what was expected."""
    try:
        value = parse(text)
        if ok(value):
            return value
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")


def _count(text: str) -> int:
    return _checked(text, int, lambda v: v >= 1, "a whole number of at least 1")


def _port(text: str) -> int:
    port = _count(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port from 1 to 65535, got {text!r}")
    return port


def _positive(text: str) -> float:
    return _checked(text, float, lambda v: 0 < v < math.inf, "a finite number above 0")


def _ints(text: str) -> list[int]:
    return _checked(text, _listed(int), lambda v: bool(v) and min(v) >= 1, "sizes of at least 1 like 1,2,4,8")


def _rates(text: str) -> list[float]:
    finite_positive = lambda v: bool(v) and all(0 < r < math.inf for r in v)  # noqa: E731
    return _checked(text, _listed(float), finite_positive, "finite rates above 0 like 1,5,10,25")


def _listed(parse: Callable[[str], T]) -> Callable[[str], list[T]]:
    """A parser of comma-separated values."""
    return lambda text: [parse(x) for x in text.split(",") if x.strip()]


def _date(text: str) -> dt.date:
    return _checked(text, dt.date.fromisoformat, lambda _: True, "a date like 2026-11-01")


class _Parser(argparse.ArgumentParser):
    """Bad arguments are one line on stderr and exit 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rent-or-own", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="cost every option of a scenario and find the break-even volumes")
    p.add_argument("scenario", nargs="+", help="one scenario, or many (a batch, in parallel processes)")
    p.add_argument("--out", help="batch: write <OUT>/<scenario>/summary.json and ledger.csv (default: out)")
    p.add_argument("--format", help="batch: also write these reports per scenario, e.g. html,pdf,xlsx")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a field, e.g. workload.scale=2")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--engine", choices=("fluid", "des"), help="override the scenario's simulation.engine")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("capacity", help="what one replica serves: Poisson load at each rate, simulated")
    p.add_argument("--model", required=True, help="open-weight model from `catalog models`")
    p.add_argument("--gpu", required=True, help="GPU from `catalog gpus`")
    p.add_argument("--gpus-per-replica", type=_count, default=1)
    p.add_argument("--precision", choices=("fp16", "bf16", "fp8", "int8", "int4"), default="fp16")
    p.add_argument("--input-tokens", type=_count, required=True)
    p.add_argument("--output-tokens", type=_count, required=True)
    p.add_argument("--rates", type=_rates, required=True, help="requests per second, e.g. 1,5,10,25")
    p.add_argument("--duration-s", type=_positive, default=600.0, help="simulated seconds per rate")
    p.add_argument("--perf", help="a probe's measured file: fit step times to it instead of the roofline")
    p.add_argument("--slo-ttft-p95-ms", type=_positive)
    p.add_argument("--slo-tpot-p95-ms", type=_positive)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_capacity)

    p = sub.add_parser("probe", help="measure hardware and write measured/*.json; show a measured file")
    probes = p.add_subparsers(dest="probe", required=True)
    q = probes.add_parser("synth", help="write a random-weight GGUF of a catalogue model's shape")
    q.add_argument("--shape", required=True, help="dense model from `catalog models`")
    q.add_argument("--precision", choices=("f16", "q8_0", "q4_0", "q4_k_m"), default="f16")
    q.add_argument("--out", required=True, help="GGUF file to write")
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(func=_cmd_probe)
    q = probes.add_parser("llamacpp", help="measure a GGUF model in-process with llama.cpp")
    q.add_argument("--model", required=True, help="GGUF file")
    q.add_argument("--batch", type=_ints, default=[1, 2, 4, 8, 16], help="parallel sequences, e.g. 1,2,4,8,16")
    q.add_argument("--prompt-tokens", type=_count, default=128)
    q.add_argument("--gen-tokens", type=_count, default=32)
    q.add_argument("--threads", type=_count, help="CPU threads (default: all cores)")
    q.add_argument("--repeats", type=_count, default=3)
    q.add_argument("--gpu-layers", type=int, default=0, help="layers to offload to a GPU (-1: all)")
    q.add_argument("--catalogue-name", help="the catalogue model whose shape this file has")
    q.add_argument("--note", help="how the backend was built or run, kept in the file's settings")
    q.add_argument("--verbose", action="store_true", help="let llama.cpp print its own logs")
    q.add_argument("--out", help="measured file to write (default: measured/<model>-<time>.json)")
    q.set_defaults(func=_cmd_probe)
    q = probes.add_parser("openai", help="load an OpenAI-compatible server (vLLM, llama.cpp server, ...)")
    q.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000/v1")
    q.add_argument("--model", required=True, help="model name the server expects")
    q.add_argument("--concurrency", type=_ints, help="closed loop: clients, e.g. 1,2,4,8")
    q.add_argument("--rates", type=_rates, help="open loop: Poisson requests per second, e.g. 0.5,1,2")
    q.add_argument("--prompt-tokens", type=_count, default=128, help="prompt length in words (about tokens)")
    q.add_argument("--gen-tokens", type=_count, default=64)
    q.add_argument("--duration-s", type=_positive, default=30.0, help="seconds per sweep point")
    q.add_argument("--api-key-env", help="environment variable holding the API key (never written)")
    q.add_argument("--out", help="measured file to write")
    q.set_defaults(func=_cmd_probe)
    q = probes.add_parser("import", help="turn llama-bench, GuideLLM or vllm bench serve results into a measured file")
    q.add_argument(
        "files", nargs="+", metavar="FILE", help="results of one tool and model (vllm bench serve: a file a point)"
    )
    q.add_argument("--catalogue-name", help="the catalogue model served (its parameter count), when the file lacks it")
    q.add_argument("--precision", help="the weight format served (fp16, fp8, q4_0, ...), when the file lacks it")
    q.add_argument("--out", help="measured file to write")
    q.set_defaults(func=_cmd_probe)
    q = probes.add_parser("show", help="print a measured file's curve, fit, residuals and roofline efficiency")
    q.add_argument("file")
    q.add_argument("--device", help="catalogue GPU or CPU class it ran on (default: recognised from the file)")
    q.set_defaults(func=_cmd_probe)

    p = sub.add_parser("sweep", help="grid, one-at-a-time (tornado) and Monte Carlo sweeps (fluid engine)")
    p.add_argument("scenario")
    p.add_argument("--param", action="append", help="grid axis: FIELD=LOW:HIGH:lin|log:COUNT or FIELD=V1,V2,...")
    p.add_argument("--tornado", action="append", help="one at a time: FIELD=LOW,HIGH")
    p.add_argument("--samples", type=_count, help="Monte Carlo over the scenario's uncertainty section")
    p.add_argument("--executor", choices=("process", "serial", "dask"), default="process")
    p.add_argument(
        "--scheduler", help="dask: address of a scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)"
    )
    p.add_argument("--workers", type=_count, help="local processes or local Dask workers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("report", help="stakeholder reports: HTML, PDF (Chromium), XLSX, Markdown, JSON, CSV")
    p.add_argument("scenario")
    p.add_argument("--format", default="html,xlsx,md,json", help="comma-separated: html,pdf,xlsx,md,json,csv")
    p.add_argument("--out", default="out", help="folder for the reports")
    p.add_argument("--engine", choices=("fluid", "des"))
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("dashboard", help="open the Streamlit dashboard (127.0.0.1 only unless --address says)")
    p.add_argument("scenario", nargs="?", help="scenario to open with (default: a bundled one)")
    p.add_argument("--port", type=_port, default=8501)
    p.add_argument("--address", default="127.0.0.1", help="interface to bind; 0.0.0.0 exposes it to the network")
    p.set_defaults(func=_cmd_dashboard)

    p = sub.add_parser("validate", help="check scenario files")
    p.add_argument("scenarios", nargs="+")
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("schema", help="print the scenario JSON Schema (or, with --measured, the measured format's)")
    p.add_argument("--measured", action="store_true", help="the schema of measured/*.json files")
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("catalog", help="list API prices, GPUs or open-weight models")
    p.add_argument("what", choices=("prices", "gpus", "models", "terms"))
    p.add_argument("--filter", help="keep entries whose fields contain this text")
    p.add_argument("--provider", help="prices: only this provider (genai-prices id)")
    p.add_argument("--date", type=_date, default=dt.date.today(), help="prices: the price date (default today)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_catalog)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as e:
        print(str(e), file=sys.stderr)
        return EXIT_BAD_INPUT


def entry() -> None:
    sys.exit(main())
