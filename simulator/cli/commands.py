"""What each `rent-or-own` command does: parse nothing, print nothing of its own; call the core, then `render`.

Commands import the core they need when they run, so that `validate` or `schema` do not pay for the
price catalogue, the engines or the report figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import ipaddress
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simulator import catalog, i18n, units
from simulator.analysis.results import json_text
from simulator.errors import EXIT_BAD_INPUT, EXIT_OK, InputError
from simulator.files import check_writable
from simulator.i18n import _, ngettext
from simulator.perf import measured as mf
from simulator.scenario import json_schema, load_scenario

DASHBOARD_APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
MEASURED_DIR = Path("measured")


def run(args: argparse.Namespace) -> int:
    if len(args.scenario) > 1 or args.out or args.format:
        return batch(args)
    from simulator import api

    scenario = load_scenario(args.scenario[0], args.set or [])
    with _progress() as progress:
        try:
            result = api.run(scenario, args.engine, progress=progress).summary
        except InputError as e:
            raise e.at(args.scenario[0]) from None
    if args.json:
        print(json_text(result))
    else:
        from simulator.cli import render

        render.summary(result, render.stdout(), args.wide)
    return EXIT_OK


def batch(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from simulator.batch import run_batch
    from simulator.cli import render

    out = args.out or "out"
    with Progress(**_transient_on_terminal()) as progress:
        task = progress.add_task(_("scenarios"), total=len(args.scenario))
        outcomes = run_batch(
            args.scenario,
            out,
            args.engine,
            tuple(args.set or []),
            on_done=lambda _outcome: progress.advance(task),
            formats=args.format,
        )
    if args.json:
        print(json.dumps({"out": out, "scenarios": [dataclasses.asdict(o) for o in outcomes]}, indent=2))
    else:
        render.batch(outcomes, out)
    failed = [o for o in outcomes if o.error is not None]
    for o in failed:
        print(o.error, file=sys.stderr)
    return EXIT_BAD_INPUT if failed else EXIT_OK


def dashboard(args: argparse.Namespace) -> int:
    remote = args.address != "localhost" and not ipaddress.ip_address(args.address).is_loopback
    if remote and not args.allow_remote:
        raise InputError(
            "rent-or-own dashboard",
            "--address",
            f"{args.address} would let other machines reach the dashboard and its scenarios",
            "add --allow-remote if that is meant, or bind 127.0.0.1",
        )
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
    env = _in_language(os.environ, i18n.language())
    env["RENT_OR_OWN_SCENARIO"] = str(Path(args.scenario).resolve()) if args.scenario else ""
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
        # Streamlit collects every generation after each run by default: with the kept results (a few
        # hundred thousand objects) that took 100 to 250 ms a rerun. Python's own collector still runs,
        # and every cache is bounded.
        "--runner.postScriptGC",
        "false",
    ]
    host = f"[{args.address}]" if ":" in args.address else args.address
    url = f"http://{host}:{args.port}"
    if remote:
        started = _("rent-or-own dashboard on {url} (reachable from other machines)").format(url=url)
    else:
        started = _("rent-or-own dashboard on {url} (this machine only)").format(url=url)
    print(started, file=sys.stderr, flush=True)
    # Become the server, so that Ctrl-C or a supervisor's SIGTERM reaches it and no child outlives us.
    os.execve(sys.executable, command, env)


def _in_language(environ: Mapping[str, str], language: str) -> dict[str, str]:
    """`environ` for a server that reads its language as `i18n.from_environment` does: LANGUAGE names it, and
    where the locale is C (which makes gettext ignore LANGUAGE) so does the locale of messages."""
    from babel.core import LOCALE_ALIASES

    env = {**environ, "LANGUAGE": language}
    if i18n.from_environment(env) != language:
        env["LC_ALL" if env.get("LC_ALL") else "LC_MESSAGES"] = f"{LOCALE_ALIASES.get(language, language)}.UTF-8"
    return env


def validate(args: argparse.Namespace) -> int:
    for path in args.scenarios:
        load_scenario(path, args.set or [])
        print(_("{path}: ok").format(path=path))
    return EXIT_OK


def schema(args: argparse.Namespace) -> int:
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
            "long_context_tier_starts_tokens": [start for start, _price in prices.input.tiers],
            "context_tokens": prices.context_tokens,
            "source": prices.source,
            "as_of": prices.as_of.isoformat(),
        }
        for provider, prices in token_priced_models(args.date, args.provider)
    ]


def catalog_(args: argparse.Namespace) -> int:
    entries = _catalog_entries(args.what, args)
    if args.filter:
        needle = args.filter.lower()
        entries = [e for e in entries if needle in json.dumps(e).lower()]
    if args.json:
        print(json.dumps(entries, indent=2))
        return EXIT_OK
    if not entries:
        if args.filter:
            print(
                _("no {what} match {filter} (see `rent-or-own catalog --help`)").format(
                    what=args.what, filter=repr(args.filter)
                )
            )
        else:
            print(_("no {what} match (see `rent-or-own catalog --help`)").format(what=args.what))
        return EXIT_OK
    from simulator.cli import render

    render.stdout().print(render.catalog_table(args.what, entries))
    return EXIT_OK


def capacity(args: argparse.Namespace) -> int:
    from simulator.analysis.capacity import Arrivals, capacity
    from simulator.cli import render
    from simulator.perf.serving import serving

    if args.chunk_tokens is not None and args.max_batch is not None and args.chunk_tokens < args.max_batch:
        # every running sequence takes a token of a chunked step, as in vLLM
        raise InputError(
            "capacity", "--chunk-tokens", f"{args.chunk_tokens} is below --max-batch {args.max_batch}", "raise it"
        )
    limits = serving(
        catalog.gpu(args.gpu, "--gpu"),
        args.precision,
        args.engine,
        max_batch=args.max_batch,
        chunk_tokens=args.chunk_tokens,
        kv_cache_dtype=args.kv_cache_dtype,
    )
    result = capacity(
        args.model,
        args.gpu,
        args.rates,
        args.input_tokens,
        args.output_tokens,
        args.gpus_per_replica,
        args.precision,
        Arrivals(args.duration_s, args.num_prompts, args.burstiness, args.seed),
        limits,
        args.slo_ttft_p95_ms,
        args.slo_tpot_p95_ms,
        measured_file=args.perf,
    )
    if args.json:
        print(json_text(result))
        return EXIT_OK
    console = render.stdout()
    console.print(render.capacity_table(result))
    if result.max_rate_rps_within_slo is not None:
        rate = i18n.number(result.max_rate_rps_within_slo, 2)
        console.print(_("Highest rate within the targets: {rate} requests/s").format(rate=rate))
    return EXIT_OK


def probe(args: argparse.Namespace) -> int:
    if args.probe == "synth":
        from simulator.probe.synth import Shape, synthesize

        out = synthesize(Shape.of(catalog.model(args.shape, "--shape")), Path(args.out), args.precision, args.seed)
        print(
            _("{file}: random-weight proxy of {model} at {precision}").format(
                file=out, model=args.shape, precision=args.precision
            )
        )
        return EXIT_OK
    if args.probe in ("llamacpp", "openai"):
        check_writable(Path(args.out) if args.out else MEASURED_DIR / "probe.json")
    if args.probe == "llamacpp":
        return _probe_llamacpp(args)
    if args.probe == "openai":
        return _probe_openai(args)
    if args.probe == "import":
        from simulator.probe.importers import import_files, on_device

        measured = import_files(args.files)
        # What the tool does not record, so that the fit stands for a catalogue model on a catalogue device.
        model = {"precision": args.precision} if args.precision else {}
        if args.catalogue_name:
            shape = catalog.model(args.catalogue_name, "--catalogue-name")
            model |= {"catalogue_name": shape.name, "parameters": shape.total_params_b * units.PARAMS_PER_BILLION}
        measured = measured.model_copy(update={"model": measured.model.model_copy(update=model)})
        if args.device:
            measured = on_device(measured, catalog.gpu(args.device, "--device"))
        if args.backend_version:
            measured.backend.version = args.backend_version
        if args.note:
            measured.settings["note"] = args.note
        out = Path(args.out) if args.out else MEASURED_DIR / f"{Path(args.files[0]).stem}-{measured.kind}.json"
        mf.save(measured, out)
        n = len(measured.points)
        imported = ngettext("{file}: {n} point imported from {tool}", "{file}: {n} points imported from {tool}", n)
        print(imported.format(file=out, n=n, tool=measured.kind))
        return EXIT_OK
    from simulator.cli import render

    device = catalog.gpu(args.device, "--device") if args.device else None
    render.measured(mf.load(args.file), render.stdout(), device)
    return EXIT_OK


def sweep(args: argparse.Namespace) -> int:
    from simulator.analysis import sweep
    from simulator.analysis.executors import make_executor
    from simulator.cli import render

    scenario, source = load_scenario(args.scenario), args.scenario
    if not (args.param or args.tornado or args.samples):
        raise InputError("sweep", "", "nothing to sweep", "give --param, --tornado or --samples")
    params = [sweep.parse_param(p) for p in args.param or []]
    bars = []
    for spec in args.tornado or []:
        field, values = sweep.parse_param(spec)
        if len(values) != 2:
            raise InputError("--tornado", spec, "expected FIELD=LOW,HIGH", "give two values")
        bars.append((field, values[0], values[1]))
    executor, close = make_executor(args.executor, args.scheduler, args.workers)
    try:
        grid = sweep.grid(scenario, source, params, executor) if params else None
        tornado = sweep.tornado(scenario, source, bars, executor) if bars else None
        mc = sweep.monte_carlo(scenario, source, args.samples, executor) if args.samples else None
    finally:
        close()
    if args.json:
        doc: dict[str, object] = {"scenario": source}
        if grid is not None:
            doc["grid"] = [p.model_dump() for p in grid]
        if tornado is not None:
            base, ranked = tornado
            doc["tornado"] = {"base_total_cost_usd": base, "bars": [b.model_dump() for b in ranked]}
        if mc is not None:
            doc["monte_carlo"] = mc.model_dump()
        print(json_text(doc))
        return EXIT_OK
    console = render.stdout()
    currency = scenario.currency()
    for table in (
        render.grid(grid, currency) if grid else None,
        render.tornado(tornado[1], currency) if tornado else None,
        render.monte_carlo(mc, currency) if mc else None,
    ):
        if table is not None:
            console.print(table)
    return EXIT_OK


def report(args: argparse.Namespace) -> int:
    from simulator.report.data import gather
    from simulator.report.write import write

    data = gather(load_scenario(args.scenario), args.scenario, args.engine)
    for path in write(data, args.out, list(args.format), Path(args.scenario).stem):
        print(path)
    return EXIT_OK


def _transient_on_terminal() -> dict[str, Any]:
    """Progress settings: drawn on stderr and cleared after, only while stderr is a terminal (rich would
    still end with a blank line on a log or a pipe)."""
    from rich.console import Console

    return {"console": Console(stderr=True), "transient": True, "disable": not sys.stderr.isatty()}


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the step in progress, while there is a terminal to draw it on (it
    leaves nothing behind); elsewhere, nothing."""
    if not sys.stderr.isatty():  # nothing to draw on: not even rich is loaded
        yield lambda _step: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), **_transient_on_terminal()
    ) as bar:
        task = bar.add_task(_("starting"), total=None)
        yield lambda step: bar.update(task, description=step)


@contextmanager
def _stopped_by_signal() -> Iterator[tuple[threading.Event, list[str]]]:
    """While inside, SIGINT and SIGTERM set the event (and name themselves) instead of ending the process,
    so that a long measurement can end cleanly with what it measured."""
    stop = threading.Event()
    received: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop, received
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stopped(out: Path, measured: mf.Measured, signal_name: str) -> int:
    """One line for a sweep a signal ended, and the conventional exit code (128 + the signal)."""
    kept = _("{file}: stopped by {signal}; the {n} finished points are kept")
    print(kept.format(file=out, signal=signal_name, n=len(measured.points)), file=sys.stderr)
    return 128 + int(signal.Signals[signal_name])


def _probe_openai(args: argparse.Namespace) -> int:
    """Sweep a server, saving the file after every point; SIGINT or SIGTERM ends it with those points kept."""
    from simulator.probe.openai import Load
    from simulator.probe.openai import probe as probe_openai

    stem = args.model.replace("/", "_")
    out = Path(args.out) if args.out else MEASURED_DIR / f"{stem}-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.json"

    def saved(measured: mf.Measured) -> None:
        mf.save(measured, out)
        p = measured.points[-1]
        if p.concurrency:
            where = _("concurrency {n}").format(n=p.concurrency)
        else:
            where = _("{rate} requests/s").format(rate=f"{p.rate_rps:g}")
        done = _("point {n}: {where}: {done} requests done, {errors} errors, TTFT p50 {ttft}, {tok_s} output tok/s")
        print(
            done.format(
                n=len(measured.points),
                where=where,
                done=i18n.number(len(p.samples.get("ttft_ms", []))),
                errors=i18n.number(p.errors),
                ttft=f"{i18n.number(p.ttft_p50_ms)} ms" if p.ttft_p50_ms is not None else "-",
                tok_s=i18n.number(p.output_tok_per_s or 0, 1),
            ),
            file=sys.stderr,
            flush=True,
        )

    load = Load(
        prompt_tokens=args.prompt_tokens,
        gen_tokens=args.gen_tokens,
        duration_s=args.duration_s,
        num_prompts=args.num_prompts,
        burstiness=args.burstiness,
        request_timeout_s=args.request_timeout_s,
        idle_timeout_s=args.idle_timeout_s,
        endpoint=args.endpoint,
        ignore_eos=args.ignore_eos,
    )
    with _stopped_by_signal() as (stop, received):
        measured = probe_openai(
            args.base_url, args.model, args.concurrency, args.rates, load, args.api_key_env, saved, stop
        )
    mf.save(measured, out)
    if received:
        return _stopped(out, measured, received[0])
    print(_points(out, measured))
    if measured.partial:
        # The points measured before the fault are saved; the run still failed.
        raise InputError(str(out), "", f"partial: {measured.fault}", "fix the server and run the sweep again")
    return EXIT_OK


def _probe_llamacpp(args: argparse.Namespace) -> int:
    """Measure in a child process, saving the file after every point; a crash, SIGINT or SIGTERM keeps the
    points before it."""
    from simulator.probe.llamacpp import measure

    stamp = f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
    out = Path(args.out) if args.out else MEASURED_DIR / f"{Path(args.model).stem}-{stamp}.json"

    def noted(measured: mf.Measured) -> mf.Measured:
        if args.note:
            measured.settings["note"] = args.note
        return measured

    def saved(measured: mf.Measured) -> None:
        mf.save(noted(measured), out)
        p = measured.points[-1]
        done = _("point {n}: batch {batch}: decode step {step} ms, {decode} tok/s, prefill {prefill} tok/s")
        print(
            done.format(
                n=len(measured.points),
                batch=p.batch,
                step=i18n.number(p.decode_step_ms or 0, 2),
                decode=i18n.number(p.decode_tok_per_s or 0, 1),
                prefill=i18n.number(p.prefill_tok_per_s or 0, 1),
            ),
            file=sys.stderr,
            flush=True,
        )

    with _stopped_by_signal() as (stop, received):
        measured = measure(
            saved,
            stop,
            model_path=args.model,
            batches=args.batch,
            prompt_tokens=args.prompt_tokens,
            gen_tokens=args.gen_tokens,
            threads=args.threads,
            repeats=args.repeats,
            gpu_layers=args.gpu_layers,
            catalogue_name=args.catalogue_name,
            verbose=args.verbose,
            flash_attn=args.flash_attn,
            kv_unified=args.kv_unified,
        )
    mf.save(noted(measured), out)
    if received:
        return _stopped(out, measured, received[0])
    if measured.partial:
        kept = f"the {len(measured.points)} finished points are kept"
        raise InputError(
            str(out), "", f"partial: {measured.fault}; {kept}", "measure again with fewer or smaller batches"
        )
    print(_points(out, measured))
    return EXIT_OK


def _points(out: Path, measured: mf.Measured) -> str:
    n = len(measured.points)
    return ngettext("{file}: {n} point", "{file}: {n} points", n).format(file=out, n=n)
