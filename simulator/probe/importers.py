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


IMPORTERS = {"llama-bench": llama_bench}


def detect(data: Any) -> str | None:
    if isinstance(data, list) and data and isinstance(data[0], dict) and "avg_ts" in data[0]:
        return "llama-bench"
    return None


def import_file(path: str | Path) -> mf.Measured:
    path = Path(path)
    data = _read(path)
    kind = detect(data)
    if kind is None:
        raise InputError(str(path), "", "not a result file this version can import", "give llama-bench -o json output")
    return IMPORTERS[kind](path, data)
