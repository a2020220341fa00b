"""Turn other tools' benchmark results into the measured format, so users bring their own numbers."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulator import catalog, units
from simulator.errors import InputError
from simulator.files import read_text
from simulator.perf import measured as mf

# llama-batched-bench's Markdown table (its default output) and the settings line above it.
BATCHED_BENCH_COLUMNS = ("pp", "tg", "pl", "n_kv", "t_pp", "speed_pp", "t_tg", "speed_tg", "t", "speed")
BATCHED_BENCH_HEADER = re.compile(r"^\|\s*PP\s*\|\s*TG\s*\|\s*B\s*\|\s*N_KV\s*\|")
BATCHED_BENCH_SETTINGS = ("n_kv_max", "n_batch", "n_ubatch", "flash_attn", "is_pp_shared", "n_gpu_layers", "n_threads")


def _read(path: Path) -> Any:
    """A result file's data: JSON, JSON lines, or llama-batched-bench's Markdown table."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        rows = _json_lines(text) or _batched_bench_table(text)
        if rows:
            return rows
        raise InputError(str(path), f"line {e.lineno}", f"not JSON: {e.msg}", "give the tool's JSON output") from None
    except RecursionError:
        raise InputError(
            str(path), "", "nested too deeply to be a tool's result", "give the tool's JSON output"
        ) from None


def _json_lines(text: str) -> list[dict[str, Any]] | None:
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        rows = [json.loads(line) for line in lines]
    except (json.JSONDecodeError, RecursionError):
        return None
    return rows if rows and all(isinstance(r, dict) for r in rows) else None


def _batched_bench_table(text: str) -> list[dict[str, Any]] | None:
    """The rows of llama-batched-bench's table, each with the settings its `main:` line printed."""
    settings: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    in_table = False
    for line in text.splitlines():
        if "n_kv_max" in line and "=" in line:
            for key, value in re.findall(r"(\w+)\s*=\s*(-?\d+)", line):
                settings[key] = int(value)
        elif BATCHED_BENCH_HEADER.match(line.strip()):
            in_table = True
        elif in_table and line.strip().startswith("|") and not line.strip().startswith("|-"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != len(BATCHED_BENCH_COLUMNS):
                return None
            rows.append({**settings, **dict(zip(BATCHED_BENCH_COLUMNS, map(float, cells), strict=True))})
    return rows or None


def _file_time(path: Path) -> dt.datetime:
    """When a tool that records no time wrote its file."""
    return dt.datetime.fromtimestamp(int(path.stat().st_mtime), dt.UTC)


def llama_batched_bench(path: Path, rows: list[dict[str, Any]]) -> mf.Measured:
    """llama-batched-bench (`--output-format jsonl`, or its Markdown table): a point per `pl`.

    Each line prefills `pl` sequences of `pp` tokens, then runs `tg` decode steps of `pl` tokens, so
    one decode step of the batch takes `t_tg / tg`. The first line's prefill includes the device's
    first run and is flagged (shown, not fitted). The tool records no hardware: give `--device`.
    """
    points = []
    for k, r in enumerate(rows):
        pl, pp, tg, t_tg = int(r["pl"]), int(r["pp"]), int(r["tg"]), float(r["t_tg"])
        if pl < 1 or tg < 1 or not t_tg > 0:
            raise ValueError(f"line {k + 1}: pl, tg and t_tg must be positive")
        points.append(
            mf.Point(
                batch=pl,
                prompt_tokens=pp,
                gen_tokens=tg,
                prefill_tok_per_s=float(r["speed_pp"]),
                decode_tok_per_s=float(r["speed_tg"]),
                decode_step_ms=units.seconds_to_ms(t_tg / tg),
                cold_start=k == 0,
            )
        )
    first = rows[0]
    return mf.Measured(
        kind="llama-batched-bench",
        created=_file_time(path),
        hardware=_not_recorded("llama-batched-bench", "the machine it ran on"),
        backend=mf.Backend(name="llama.cpp llama-batched-bench", version="not recorded"),
        model=mf.ModelInfo(name=path.stem, precision="unknown", proxy="proxy" in path.stem),
        settings={
            **{k: int(first[k]) for k in BATCHED_BENCH_SETTINGS if k in first},
            "source_file": path.name,
        },
        points=points,
    )


def on_device(measured: mf.Measured, device: catalog.Gpu) -> mf.Measured:
    """The file's hardware as the catalogue device it ran on, for a tool that records none."""
    memory_gb = round(device.spec.memory_gib * units.BYTES_PER_GIB / units.BYTES_PER_GB, 1)
    gpus = [mf.GpuInfo(name=(device.nvml_names or [device.display_name])[0], memory_gb=memory_gb)]
    hardware = mf.Hardware(
        cpu_model=measured.hardware.cpu_model,
        cpu_cores=device.cpu_cores or measured.hardware.cpu_cores,
        memory_gb=measured.hardware.memory_gb,
        gpus=[] if device.cpu_cores else gpus,
        platform=f"given as {device.name} when imported",
    )
    return measured.model_copy(update={"hardware": hardware})


def llama_bench(path: Path, data: list[dict[str, Any]]) -> mf.Measured:
    """llama-bench `-o json`: prompt-processing tests (n_gen 0) and generation tests (n_prompt 0).

    llama-bench runs one sequence, so each generation test becomes a batch-1 point carrying the
    prompt-processing speed measured at the nearest prompt length.
    """
    prompts = [r for r in data if r.get("n_prompt", 0) > 0 and r.get("n_gen", 0) == 0]
    gens = [r for r in data if r.get("n_gen", 0) > 0 and r.get("n_prompt", 0) == 0]
    if not gens:
        raise InputError(
            str(path), "", "no generation test (n_gen > 0) in this llama-bench output", "run llama-bench with -n"
        )
    first = data[0]
    points = []
    for g in gens:
        pp = max(prompts, key=lambda r: r["n_prompt"]) if prompts else None
        step_ms = units.MS_PER_SECOND / g["avg_ts"]
        points.append(
            mf.Point(
                batch=1,
                prompt_tokens=pp["n_prompt"] if pp else 0,
                gen_tokens=g["n_gen"],
                prefill_tok_per_s=pp["avg_ts"] if pp else None,
                decode_tok_per_s=g["avg_ts"],
                decode_step_ms=step_ms,
                samples={
                    "decode_tok_per_s": list(g.get("samples_ts", [])),
                    "prefill_tok_per_s": list(pp.get("samples_ts", [])) if pp else [],
                },
            )
        )
    gpus = [mf.GpuInfo(name=first["gpu_info"], memory_gb=0.0)] if first.get("gpu_info") else []
    return mf.Measured(
        kind="llama-bench",
        created=dt.datetime.fromisoformat(first["test_time"].replace("Z", "+00:00"))
        if first.get("test_time")
        else dt.datetime.now(dt.UTC).replace(microsecond=0),
        hardware=mf.Hardware(
            cpu_model=first.get("cpu_info", "unknown"),
            cpu_cores=int(first.get("n_threads", 0)),
            memory_gb=0.0,
            gpus=gpus,
            platform="as reported by llama-bench",
        ),
        backend=mf.Backend(
            name=f"llama.cpp llama-bench ({first.get('backends', 'cpu')})",
            version=str(first.get("build_commit", "unknown")),
        ),
        model=mf.ModelInfo(
            name=Path(first.get("model_filename", path.stem)).stem,
            precision=str(first.get("model_type", "unknown")).split()[-1].lower(),  # "llama 256M Q4_1"
            parameters=float(first.get("model_n_params", 0)) or None,
        ),
        settings={
            "n_threads": first.get("n_threads"),
            "n_batch": first.get("n_batch"),
            "n_gpu_layers": first.get("n_gpu_layers"),
            "source_file": path.name,
        },
        points=points,
    )


def _model_name(served: str) -> str:
    """`org/Model-3.1-8B` or `/path/model.gguf` as a short name (the part after the last slash)."""
    return served.rsplit("/", 1)[-1].removesuffix(".gguf")


def _not_recorded(tool: str, platform: str = "the server measured") -> mf.Hardware:
    """The hardware of a tool that records none (a server benchmark's client records none of the server's)."""
    return mf.Hardware(cpu_model=f"not recorded by {tool}", cpu_cores=0, memory_gb=0.0, platform=platform)


def _percentile(metric: dict[str, Any], p: str) -> float | None:
    """A GuideLLM metric's percentile over successful requests (p50, p95, ...), or None when none succeeded."""
    successful = metric["successful"]
    return float(successful["percentiles"][p]) if successful["count"] else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else units.seconds_to_ms(seconds)


def guidellm(path: Path, data: dict[str, Any]) -> mf.Measured:
    """GuideLLM 0.3 `--output-path *.json`: one point per benchmark (a concurrency, a rate or synchronous).

    Latencies are GuideLLM's percentiles over successful requests; throughputs are its token totals
    over the benchmark's duration. A `throughput` benchmark (every request at once, as `--rate-type
    sweep` starts with) has no fixed concurrency or rate, so it is left out and named in `settings`.
    GuideLLM does not record the server's hardware, so `probe show` needs `--device` for a roofline.
    """
    points, skipped = [], []
    for b in data["benchmarks"]:
        strategy, m = b["args"]["strategy"], b["metrics"]
        kind = strategy["type_"]
        if kind not in ("concurrent", "synchronous", "constant", "poisson"):
            skipped.append(kind)
            continue
        totals = b["request_totals"]
        samples = b["requests"]["successful"]
        output_tokens = m["output_token_count"]["successful"]["total_sum"]
        prompt_tokens = m["prompt_token_count"]["successful"]["total_sum"]
        points.append(
            mf.Point(
                concurrency=int(strategy["streams"]) if kind == "concurrent" else 1 if kind == "synchronous" else None,
                rate_rps=float(strategy["rate"]) if kind in ("constant", "poisson") else None,
                prompt_tokens=float(m["prompt_token_count"]["successful"]["mean"]),
                gen_tokens=float(m["output_token_count"]["successful"]["mean"]),
                ttft_p50_ms=_percentile(m["time_to_first_token_ms"], "p50"),
                ttft_p95_ms=_percentile(m["time_to_first_token_ms"], "p95"),
                tpot_p50_ms=_percentile(m["time_per_output_token_ms"], "p50"),
                tpot_p95_ms=_percentile(m["time_per_output_token_ms"], "p95"),
                itl_p50_ms=_percentile(m["inter_token_latency_ms"], "p50"),
                e2e_p50_ms=_ms(_percentile(m["request_latency"], "p50")),  # GuideLLM's latency is in seconds
                e2e_p95_ms=_ms(_percentile(m["request_latency"], "p95")),
                output_tok_per_s=output_tokens / b["duration"],
                total_tok_per_s=(output_tokens + prompt_tokens) / b["duration"],
                errors=int(totals["errored"]) + int(totals["incomplete"]),
                samples={
                    "ttft_ms": [r["time_to_first_token_ms"] for r in samples],
                    "tpot_ms": [r["time_per_output_token_ms"] for r in samples],
                },
            )
        )
    if not points:
        raise InputError(
            str(path),
            f"strategy {', '.join(skipped)}",
            "only fixed concurrencies and rates map to sweep points",
            "run guidellm with --rate-type concurrent, synchronous, constant, poisson or sweep",
        )
    first = data["benchmarks"][0]
    worker = first["worker"]
    return mf.Measured(
        kind="guidellm",
        created=dt.datetime.fromtimestamp(first["start_time"], dt.UTC).replace(microsecond=0),
        hardware=_not_recorded("GuideLLM"),
        backend=mf.Backend(
            name=f"OpenAI-compatible server at {worker['backend_target']} (GuideLLM)", version="unknown"
        ),
        model=mf.ModelInfo(name=_model_name(worker["backend_model"]), precision="unknown"),
        settings={"data": first["request_loader"]["data"], "source_file": path.name, "left_out": ", ".join(skipped)},
        points=points,
    )


def vllm_bench_serve(path: Path, data: dict[str, Any]) -> mf.Measured:
    """`vllm bench serve --save-result` (and vLLM's older `benchmarks/benchmark_serving.py`): one point a file.

    A run with `--max-concurrency` is a closed-loop point at that concurrency; one with a finite
    `--request-rate` an open-loop point at that rate; one with neither sends every prompt at once,
    a point at a concurrency of `num_prompts`. Token counts are the tool's (the server's usage when
    it streams one, else the tool's tokenizer).
    """
    if "ramp_up_strategy" in data:
        raise InputError(
            str(path),
            "ramp_up_strategy",
            "a ramp-up run has no one rate to call a sweep point",
            "run vllm bench serve at fixed rates or concurrencies",
        )
    completed = int(data["completed"])
    if not completed:
        raise InputError(str(path), "completed", "no request completed in this run", "fix the server and rerun")
    rate = float(data["request_rate"])  # "inf" when every request was sent at once
    concurrency = data.get("max_concurrency") or (int(data["num_prompts"]) if rate == float("inf") else None)
    point = mf.Point(
        concurrency=concurrency,
        rate_rps=None if rate == float("inf") else rate,
        prompt_tokens=data["total_input_tokens"] / completed,
        gen_tokens=data["total_output_tokens"] / completed,
        ttft_p50_ms=data["median_ttft_ms"],
        ttft_p95_ms=data.get("p95_ttft_ms"),
        tpot_p50_ms=data["median_tpot_ms"] or None,
        tpot_p95_ms=data.get("p95_tpot_ms"),
        itl_p50_ms=data.get("median_itl_ms"),
        e2e_p50_ms=data.get("median_e2el_ms"),
        e2e_p95_ms=data.get("p95_e2el_ms"),
        output_tok_per_s=data["output_throughput"],
        total_tok_per_s=data["total_token_throughput"],
        errors=int(data["num_prompts"]) - completed,
        # Per-request times are in the file only with --save-detailed (or from the older script).
        samples={
            "ttft_ms": [
                units.seconds_to_ms(t)
                for t, e in zip(data.get("ttfts", []), data.get("errors", []), strict=True)
                if not e
            ]
        },
    )
    return mf.Measured(
        kind="vllm-bench-serve",
        created=dt.datetime.strptime(data["date"], "%Y%m%d-%H%M%S").replace(tzinfo=dt.UTC),
        hardware=_not_recorded("vllm bench serve"),
        backend=mf.Backend(
            # `vllm bench serve` names the API `endpoint_type`; the older script called it `backend`.
            name=f"OpenAI-compatible server ({data.get('endpoint_type') or data['backend']} API, vllm bench serve)",
            version="unknown",
        ),
        model=mf.ModelInfo(name=_model_name(data["model_id"]), precision="unknown"),
        settings={"burstiness": data.get("burstiness"), "source_file": path.name},
        points=[point],
    )


IMPORTERS: dict[str, Callable[[Path, Any], mf.Measured]] = {
    "llama-bench": llama_bench,
    "llama-batched-bench": llama_batched_bench,
    "guidellm": guidellm,
    "vllm-bench-serve": vllm_bench_serve,
}


def detect(data: Any) -> str | None:
    if isinstance(data, list) and data and isinstance(data[0], dict) and "avg_ts" in data[0]:
        return "llama-bench"
    if isinstance(data, list) and data and isinstance(data[0], dict) and {"pl", "t_tg", "tg"} <= data[0].keys():
        return "llama-batched-bench"
    benchmarks = data.get("benchmarks") if isinstance(data, dict) else None
    first = benchmarks[0] if isinstance(benchmarks, list) and benchmarks else None
    if isinstance(first, dict) and first.get("type_") == "generative_benchmark":
        return "guidellm"
    if isinstance(data, dict) and {"median_ttft_ms", "request_throughput", "completed"} <= data.keys():
        return "vllm-bench-serve"
    return None


def import_file(path: str | Path) -> mf.Measured:
    path = Path(path)
    data = _read(path)
    if isinstance(data, dict) and "t_tg" in data:  # llama-batched-bench JSON lines, one line long
        data = [data]
    kind = detect(data)
    if kind is None:
        raise InputError(
            str(path),
            "",
            "not a result file this version can import",
            "give llama-bench -o json, llama-batched-bench output (jsonl or its table), GuideLLM 0.3 JSON "
            "or vllm bench serve --save-result JSON",
        )
    try:
        return IMPORTERS[kind](path, data)
    except ValidationError as e:  # a figure no measurement has: negative, zero, infinite, absurd
        raise mf.invalid(str(path), e, "give the file as the tool wrote it") from None
    except ZeroDivisionError:
        problem = f"a {kind} result with a zero time, rate or count where a measurement has none"
        raise InputError(str(path), "", problem, "give the file as the tool wrote it") from None
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as e:
        # A file that looks like the tool's but lacks or garbles what every such file has.
        problem = f"a {kind} result with a missing or malformed field ({e!r})"
        raise InputError(str(path), "", problem, "give the file as the tool wrote it") from None


def import_files(paths: list[str]) -> mf.Measured:
    """One measured file from one or more results of the same tool (vllm bench serve writes a file a point)."""
    parts = [import_file(p) for p in paths]
    first = parts[0]
    for path, part in zip(paths[1:], parts[1:], strict=True):
        if (part.kind, part.model.name) != (first.kind, first.model.name):
            raise InputError(
                path,
                "",
                f"a {part.kind} result for {part.model.name}, unlike {paths[0]}",
                "import results of one tool and one model together",
            )
    # Closed-loop points by concurrency, then open-loop ones by rate.
    points = sorted(
        (p for part in parts for p in part.points),
        key=lambda p: (p.rate_rps is not None, p.concurrency or 0, p.rate_rps or 0),
    )
    sources = ", ".join(Path(p).name for p in paths)
    return first.model_copy(update={"points": points, "settings": {**first.settings, "source_file": sources}})
