"""The command line's arguments: every subcommand, and checked types that turn a bad argument into
argparse's one-line error."""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import math
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeVar, get_args

from simulator import i18n
from simulator.catalog import EngineName, Precision
from simulator.cli import commands
from simulator.errors import EXIT_BAD_INPUT
from simulator.i18n import N_, _
from simulator.perf.serving import DEFAULT_ENGINE, KvCacheDtype
from simulator.report import FORMATS

DESCRIPTION = N_("Decide between paying an LLM API per token and running open-weight models on rented or owned GPUs.")
T = TypeVar("T")


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


def _address(text: str) -> str:
    """An interface to bind: an IP address, or localhost."""
    if text != "localhost":
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an IP address such as 127.0.0.1, got {text!r}") from None
    return text


def _formats(text: str) -> tuple[str, ...]:
    """Report formats, comma-separated: every one known, at least one."""
    formats = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        problem = f"unknown format {unknown[0]!r}" if unknown else "no format given"
        raise argparse.ArgumentTypeError(f"{problem}; use some of {','.join(FORMATS)}")
    return formats


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
    return _checked(text, dt.date.fromisoformat, lambda _day: True, "a date like 2026-11-01")


class _Parser(argparse.ArgumentParser):
    """Bad arguments are one line on stderr and exit 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def asked_language(argv: Sequence[str]) -> str:
    """The language to build the parser in, before it can parse: the last `--lang` given, else the
    environment's. A bad value is left for `main` to refuse once the arguments are parsed."""
    asked = None
    for arg, following in zip(argv, [*argv[1:], ""], strict=True):
        if arg == "--lang":
            asked = following
        elif arg.startswith("--lang="):
            asked = arg.removeprefix("--lang=")
    return i18n.asked_or_environment(asked)


def build_parser() -> argparse.ArgumentParser:
    """The parser, its help in the active language; `--lang` is on the command and every subcommand."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--lang",
        default=argparse.SUPPRESS,  # a subcommand's unset option must not hide one given before it
        help=_("language of the output: {choices} (default: from LANGUAGE, LC_ALL or LANG)").format(
            choices=", ".join(i18n.LANGUAGES)
        ),
    )
    parser = _Parser(prog="rent-or-own", description=_(DESCRIPTION), parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "run", parents=[common], help=_("cost every option of a scenario and find the break-even volumes")
    )
    p.add_argument("scenario", nargs="+", help=_("one scenario, or many (a batch, in parallel processes)"))
    p.add_argument("--out", help=_("batch: write <OUT>/<scenario>/summary.json and ledger.csv (default: out)"))
    p.add_argument(
        "--format",
        type=_formats,
        default=(),
        help=_("batch: also write these reports per scenario, e.g. html,pdf,xlsx"),
    )
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help=_("override a field, e.g. workload.scale=2"))
    p.add_argument("--json", action="store_true", help=_("print one JSON document on stdout"))
    p.add_argument("--wide", action="store_true", help=_("every column and each full verdict, however wide"))
    p.add_argument("--engine", choices=("fluid", "des"), help=_("override the scenario's simulation.engine"))
    p.set_defaults(func=commands.run)

    p = sub.add_parser(
        "capacity",
        parents=[common],
        help=_("what one replica serves: load at each rate, simulated like a serving benchmark"),
    )
    p.add_argument("--model", required=True, help=_("open-weight model from `catalog models`"))
    p.add_argument("--gpu", required=True, help=_("GPU from `catalog gpus`"))
    p.add_argument("--gpus-per-replica", type=_count, default=1)
    p.add_argument("--precision", choices=get_args(Precision), default="fp16")
    p.add_argument("--input-tokens", type=_count, required=True)
    p.add_argument("--output-tokens", type=_count, required=True)
    p.add_argument("--rates", type=_rates, required=True, help=_("requests per second, e.g. 1,5,10,25"))
    p.add_argument("--duration-s", type=_positive, default=600.0, help=_("simulated seconds per rate"))
    p.add_argument("--num-prompts", type=_count, help=_("a fixed count of requests per rate, all completed"))
    p.add_argument("--burstiness", type=_positive, default=1.0, help=_("Gamma shape of the gaps (1: Poisson)"))
    p.add_argument(
        "--engine",
        choices=get_args(EngineName),
        default=DEFAULT_ENGINE,
        help=_("serving engine whose profile sets the limits below when they are left out"),
    )
    p.add_argument("--max-batch", type=_count, help=_("most sequences decoded together (default: the engine's)"))
    p.add_argument("--chunk-tokens", type=_count, help=_("tokens per chunked step (default: the engine's)"))
    p.add_argument(
        "--kv-cache-dtype",
        choices=get_args(KvCacheDtype),
        help=_("auto: the model's 16-bit type (default: the engine's for the precision)"),
    )
    p.add_argument("--perf", help=_("a probe's measured file: fit step times to it instead of the roofline"))
    p.add_argument("--slo-ttft-p95-ms", type=_positive)
    p.add_argument("--slo-tpot-p95-ms", type=_positive)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=commands.capacity)

    p = sub.add_parser(
        "probe", parents=[common], help=_("measure hardware and write measured/*.json; show a measured file")
    )
    probes = p.add_subparsers(dest="probe", required=True)
    q = probes.add_parser("synth", parents=[common], help=_("write a random-weight GGUF of a catalogue model's shape"))
    q.add_argument("--shape", required=True, help=_("dense model from `catalog models`"))
    q.add_argument("--precision", choices=("f16", "q8_0", "q4_0", "q4_k_m"), default="f16")
    q.add_argument("--out", required=True, help=_("GGUF file to write"))
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(func=commands.probe)
    q = probes.add_parser(
        "llamacpp", parents=[common], help=_("measure a GGUF model with llama.cpp (in a child process)")
    )
    q.add_argument("--model", required=True, help=_("GGUF file"))
    q.add_argument("--batch", type=_ints, default=[1, 2, 4, 8, 16], help=_("parallel sequences, e.g. 1,2,4,8,16"))
    q.add_argument("--prompt-tokens", type=_count, default=128)
    q.add_argument("--gen-tokens", type=_count, default=32)
    q.add_argument("--threads", type=_count, help=_("CPU threads (default: all cores)"))
    q.add_argument("--repeats", type=_count, default=3)
    q.add_argument("--gpu-layers", type=int, default=0, help=_("layers to offload to a GPU (-1: all)"))
    q.add_argument("--catalogue-name", help=_("the catalogue model whose shape this file has"))
    q.add_argument("--flash-attn", choices=("on", "off", "auto"), default="auto", help=_("llama.cpp's flash attention"))
    q.add_argument(
        "--kv-unified",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=_("one KV buffer across the sequences (llama.cpp's kv_unified)"),
    )
    q.add_argument("--note", help=_("how the backend was built or run, kept in the file's settings"))
    q.add_argument("--verbose", action="store_true", help=_("let llama.cpp print its own logs"))
    q.add_argument("--out", help=_("measured file to write (default: measured/<model>-<time>.json)"))
    q.set_defaults(func=commands.probe)
    q = probes.add_parser(
        "openai", parents=[common], help=_("load an OpenAI-compatible server (vLLM, llama.cpp server, ...)")
    )
    q.add_argument("--base-url", required=True, help=_("e.g. http://127.0.0.1:8000/v1"))
    q.add_argument("--model", required=True, help=_("model name the server expects"))
    q.add_argument("--concurrency", type=_ints, help=_("closed loop: clients, e.g. 1,2,4,8"))
    q.add_argument("--rates", type=_rates, help=_("open loop: requests per second, e.g. 0.5,1,2"))
    q.add_argument("--prompt-tokens", type=_count, default=128, help=_("prompt length in the server's tokens"))
    q.add_argument("--gen-tokens", type=_count, default=64, help=_("most output tokens a request"))
    q.add_argument("--duration-s", type=_positive, default=30.0, help=_("seconds per sweep point"))
    q.add_argument("--num-prompts", type=_count, help=_("a fixed count of requests per point, all completed"))
    q.add_argument("--burstiness", type=_positive, default=1.0, help=_("Gamma shape of open-loop gaps (1: Poisson)"))
    q.add_argument("--request-timeout-s", type=_positive, default=120.0, help=_("longest a request may take"))
    q.add_argument(
        "--idle-timeout-s", type=_positive, default=30.0, help=_("longest a request may wait for its next token")
    )
    q.add_argument("--endpoint", choices=("chat", "completions"), default="chat", help=_("completions sends token ids"))
    q.add_argument("--ignore-eos", action="store_true", help=_("ask the server for the full output length"))
    q.add_argument("--api-key-env", help=_("environment variable holding the API key (never written)"))
    q.add_argument("--out", help=_("measured file to write"))
    q.set_defaults(func=commands.probe)
    q = probes.add_parser(
        "import",
        parents=[common],
        help=_("turn llama-bench, llama-batched-bench, GuideLLM or vllm bench serve results into a measured file"),
    )
    q.add_argument(
        "files", nargs="+", metavar="FILE", help=_("results of one tool and model (vllm bench serve: a file a point)")
    )
    q.add_argument(
        "--catalogue-name", help=_("the catalogue model served (its parameter count), when the file lacks it")
    )
    q.add_argument("--precision", help=_("the weight format served (fp16, fp8, q4_0, ...), when the file lacks it"))
    q.add_argument("--device", help=_("catalogue GPU or CPU class it ran on, when the file lacks it"))
    q.add_argument("--backend-version", help=_("the tool's version or build, when the file lacks it"))
    q.add_argument("--note", help=_("how it was built or run, kept in the file's settings"))
    q.add_argument("--out", help=_("measured file to write"))
    q.set_defaults(func=commands.probe)
    q = probes.add_parser(
        "show", parents=[common], help=_("print a measured file's curve, fit, residuals and roofline efficiency")
    )
    q.add_argument("file")
    q.add_argument("--device", help=_("catalogue GPU or CPU class it ran on (default: recognised from the file)"))
    q.set_defaults(func=commands.probe)

    p = sub.add_parser(
        "sweep", parents=[common], help=_("grid, one-at-a-time (tornado) and Monte Carlo sweeps (fluid engine)")
    )
    p.add_argument("scenario")
    p.add_argument("--param", action="append", help=_("grid axis: FIELD=LOW:HIGH:lin|log:COUNT or FIELD=V1,V2,..."))
    p.add_argument("--tornado", action="append", help=_("one at a time: FIELD=LOW,HIGH"))
    p.add_argument("--samples", type=_count, help=_("Monte Carlo over the scenario's uncertainty section"))
    p.add_argument("--executor", choices=("process", "serial", "dask"), default="process")
    p.add_argument(
        "--scheduler", help=_("dask: address of a scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    )
    p.add_argument("--workers", type=_count, help=_("local processes or local Dask workers"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=commands.sweep)

    p = sub.add_parser(
        "report", parents=[common], help=_("stakeholder reports: HTML, PDF (Chromium), XLSX, Markdown, JSON, CSV")
    )
    p.add_argument("scenario")
    p.add_argument(
        "--format",
        type=_formats,
        default=("html", "xlsx", "md", "json"),
        help=_("comma-separated: html,pdf,xlsx,md,json,csv"),
    )
    p.add_argument("--out", default="out", help=_("folder for the reports"))
    p.add_argument("--engine", choices=("fluid", "des"))
    p.set_defaults(func=commands.report)

    p = sub.add_parser(
        "dashboard", parents=[common], help=_("open the Streamlit dashboard (127.0.0.1 only unless --address says)")
    )
    p.add_argument("scenario", nargs="?", help=_("scenario to open with (default: a bundled one)"))
    p.add_argument("--port", type=_port, default=8501)
    p.add_argument(
        "--address", type=_address, default="127.0.0.1", help=_("interface to bind (default: this machine only)")
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help=_("let --address be one other machines can reach (0.0.0.0 exposes it to the network)"),
    )
    p.set_defaults(func=commands.dashboard)

    p = sub.add_parser("validate", parents=[common], help=_("check scenario files"))
    p.add_argument("scenarios", nargs="+")
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=commands.validate)

    p = sub.add_parser(
        "schema",
        parents=[common],
        help=_("print the scenario JSON Schema (or, with --measured, the measured format's)"),
    )
    p.add_argument("--measured", action="store_true", help=_("the schema of measured/*.json files"))
    p.set_defaults(func=commands.schema)

    p = sub.add_parser("catalog", parents=[common], help=_("list API prices, GPUs or open-weight models"))
    p.add_argument("what", choices=("prices", "gpus", "models", "terms"))
    p.add_argument("--filter", help=_("keep entries whose fields contain this text"))
    p.add_argument("--provider", help=_("prices: only this provider (genai-prices id)"))
    p.add_argument("--date", type=_date, default=dt.date.today(), help=_("prices: the price date (default today)"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=commands.catalog_)
    return parser
