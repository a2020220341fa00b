"""Turn other tools' benchmark results into the measured format, so users bring their own numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from simulator import units
from simulator.errors import InputError
from simulator.probe import measured as mf


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as e:
        raise InputError(str(path), "", f"cannot read it: {e.strerror}", "check the path") from None
    except json.JSONDecodeError as e:
        raise InputError(str(path), f"line {e.lineno}", f"not JSON: {e.msg}", "give the tool's JSON output") from None


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


def _percentile(metric: dict[str, Any], p: str) -> float | None:
    """A GuideLLM metric's percentile over successful requests (p50, p95, ...), or None when none succeeded."""
    successful = metric["successful"]
    return float(successful["percentiles"][p]) if successful["count"] else None


def guidellm(path: Path, data: dict[str, Any]) -> mf.Measured:
    """GuideLLM 0.3 `--output-path *.json`: one point per benchmark (a concurrency, a rate or synchronous).

    Latencies are GuideLLM's percentiles over successful requests; throughputs are its token totals
    over the benchmark's duration. GuideLLM does not record the server's hardware, so `probe show`
    needs `--device` for a roofline.
    """
    points = []
    for b in data["benchmarks"]:
        strategy, m = b["args"]["strategy"], b["metrics"]
        kind = strategy["type_"]
        if kind not in ("concurrent", "synchronous", "constant", "poisson"):
            raise InputError(
                str(path),
                f"strategy {kind}",
                "only fixed concurrencies and rates map to sweep points",
                "run guidellm with --rate-type concurrent, synchronous, constant or poisson",
            )
        totals = b["request_totals"]
        samples = b["requests"]["successful"]
        points.append(
            mf.Point(
                concurrency=int(strategy["streams"]) if kind == "concurrent" else 1 if kind == "synchronous" else None,
                rate_rps=float(strategy["rate"]) if kind in ("constant", "poisson") else None,
                prompt_tokens=float(m["prompt_token_count"]["successful"]["mean"]),
                gen_tokens=float(m["output_token_count"]["successful"]["mean"]),
                ttft_ms_p50=_percentile(m["time_to_first_token_ms"], "p50"),
                ttft_ms_p95=_percentile(m["time_to_first_token_ms"], "p95"),
                tpot_ms_p50=_percentile(m["time_per_output_token_ms"], "p50"),
                tpot_ms_p95=_percentile(m["time_per_output_token_ms"], "p95"),
                itl_ms_p50=_percentile(m["inter_token_latency_ms"], "p50"),
                e2e_ms_p50=units.seconds_to_ms(_percentile(m["request_latency"], "p50") or 0.0) or None,
                e2e_ms_p95=units.seconds_to_ms(_percentile(m["request_latency"], "p95") or 0.0) or None,
                output_tok_per_s=m["output_token_count"]["successful"]["total_sum"] / b["duration"],
                total_tok_per_s=(
                    m["output_token_count"]["successful"]["total_sum"]
                    + m["prompt_token_count"]["successful"]["total_sum"]
                )
                / b["duration"],
                errors=int(totals["errored"]) + int(totals["incomplete"]),
                samples={
                    "ttft_ms": [r["time_to_first_token_ms"] for r in samples],
                    "tpot_ms": [r["time_per_output_token_ms"] for r in samples],
                },
            )
        )
    first = data["benchmarks"][0]
    worker = first["worker"]
    return mf.Measured(
        kind="guidellm",
        created=dt.datetime.fromtimestamp(first["start_time"], dt.UTC).replace(microsecond=0),
        hardware=mf.Hardware(
            cpu_model="not recorded by GuideLLM", cpu_cores=0, memory_gb=0.0, platform="the server measured"
        ),
        backend=mf.Backend(
            name=f"OpenAI-compatible server at {worker['backend_target']} (GuideLLM)", version="unknown"
        ),
        model=mf.ModelInfo(name=Path(worker["backend_model"]).stem, precision="unknown"),
        settings={"data": first["request_loader"]["data"], "source_file": path.name},
        points=points,
    )


IMPORTERS = {"llama-bench": llama_bench, "guidellm": guidellm}


def detect(data: Any) -> str | None:
    if isinstance(data, list) and data and isinstance(data[0], dict) and "avg_ts" in data[0]:
        return "llama-bench"
    if (
        isinstance(data, dict)
        and data.get("benchmarks")
        and data["benchmarks"][0].get("type_") == "generative_benchmark"
    ):
        return "guidellm"
    return None


def import_file(path: str | Path) -> mf.Measured:
    path = Path(path)
    data = _read(path)
    kind = detect(data)
    if kind is None:
        raise InputError(
            str(path), "", "not a result file this version can import", "give llama-bench -o json or GuideLLM 0.3 JSON"
        )
    return IMPORTERS[kind](path, data)
