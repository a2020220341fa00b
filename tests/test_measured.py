"""The measured format: atomic writes, loading errors, and a fit that recovers known coefficients."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from simulator import files
from simulator.cli import main
from simulator.errors import InputError
from simulator.perf import fit as pf
from simulator.perf import measured as mf
from simulator.probe.importers import import_file

from helpers import ROOT

# What the probe's fingerprint reads on an H100 host (NVML's name for the SXM part).
H100_HOST = mf.Hardware(
    cpu_model="Intel Xeon Platinum 8480+",
    cpu_cores=112,
    memory_gb=2048,
    gpus=[mf.GpuInfo(name="NVIDIA H100 80GB HBM3", memory_gb=80, driver="550.54.15")],
    platform="Linux-x86_64",
)


def synthetic(
    b0_ms: float,
    b_decode_ms: float,
    b_kv_ms: float,
    contexts: tuple[int, ...] = (512,),
    prefill_ms_per_token: float = 0.05,
) -> mf.Measured:
    points = []
    for prompt in contexts:
        for batch in (1, 2, 4, 8, 16):
            context = prompt + 64 / 2
            step_ms = b0_ms + (b_decode_ms + b_kv_ms * context) * batch
            points.append(
                mf.Point(
                    batch=batch,
                    prompt_tokens=prompt,
                    gen_tokens=64,
                    decode_step_ms=step_ms,
                    decode_tok_per_s=batch / step_ms * 1000,
                    prefill_tok_per_s=prompt / (b0_ms + prefill_ms_per_token * prompt) * 1000,
                )
            )
    return mf.Measured(
        kind="llamacpp",
        created=dt.datetime(2026, 11, 28, tzinfo=dt.UTC),
        hardware=H100_HOST,
        backend=mf.Backend(name="llama.cpp", version="test"),
        model=mf.ModelInfo(name="tiny", catalogue_name="llama-3.1-8b-instruct", precision="q4_0", proxy=True),
        points=points,
    )


def test_fit_recovers_known_coefficients() -> None:
    f = pf.fit(synthetic(b0_ms=5.0, b_decode_ms=0.3, b_kv_ms=0.0))
    assert f.b0_s == pytest.approx(5e-3, rel=1e-9)
    assert f.b_decode_s == pytest.approx(0.3e-3, rel=1e-9)
    assert f.b_prefill_s == pytest.approx(0.05e-3, rel=1e-9)
    assert f.max_relative_error < 1e-9 and f.points_used == 4 and f.left_out == [1]  # single-sequence path


def test_fit_separates_kv_reads_with_two_contexts() -> None:
    f = pf.fit(synthetic(b0_ms=4.0, b_decode_ms=0.2, b_kv_ms=1e-4, contexts=(256, 2048)))
    assert (f.b0_s, f.b_decode_s, f.b_kv_s) == pytest.approx((4e-3, 0.2e-3, 1e-7), rel=1e-6)


def test_roofline_efficiency_by_hand() -> None:
    # 8e9 parameters at q8_0 (34 bytes per 32 weights) are 8.5 GB; an H100 SXM reads 3,350 GB/s, so
    # reading them takes 2.537 ms. A 5.3 ms batch-1 step reaches 2.537 / 5.3 = 47.9% of that. Prefill
    # at 0.05 ms a token against 2 x 8e9 FLOPs / 989.4 TFLOP/s = 16.17 us reaches 32.3%.
    m = synthetic(b0_ms=5.0, b_decode_ms=0.3, b_kv_ms=0.0)
    m = m.model_copy(
        update={
            "model": m.model.model_copy(update={"parameters": 8e9, "precision": "q8_0"}),
            "hardware": m.hardware.model_copy(
                update={"gpus": [mf.GpuInfo(name="NVIDIA H100 80GB HBM3", memory_gb=80)]}
            ),
        }
    )
    check = pf.against_roofline(m, pf.fit(m))
    assert check.device == "h100-sxm" and check.weight_gb == pytest.approx(8.5)
    assert check.decode_bandwidth_efficiency == pytest.approx(8.5 / 3350 / 5.3e-3, rel=1e-9)
    assert check.prefill_compute_efficiency == pytest.approx(2 * 8e9 / 989.4e12 / 0.05e-3, rel=1e-6)
    # The roofline itself: weight-bound at small batches, FLOP-bound from 2.537 ms / 16.17 us = 157 up.
    assert check.step_ms(1) == pytest.approx(8.5 / 3350 * 1e3) and check.step_ms(400) == pytest.approx(
        400 * 2 * 8e9 / 989.4e12 * 1e3
    )
    unknown = m.model_copy(
        update={"hardware": m.hardware.model_copy(update={"gpus": [mf.GpuInfo(name="X", memory_gb=1)]})}
    )
    assert pf.against_roofline(unknown, pf.fit(unknown)) is None


def test_bundled_f16_measurement_sits_on_the_cpu_bandwidth_it_defines(capsys) -> None:
    # The CPU class's bandwidth is derived from this file's single-sequence step, so decode reads at
    # 100% of it; the quantised proxies spend longer per byte unpacking blocks.
    root = Path(__file__).resolve().parent.parent / "measured"
    f16 = mf.load(root / "tinyllama-1.1b-proxy-f16-cpu2.json")
    assert pf.against_roofline(f16, pf.fit(f16)).decode_bandwidth_efficiency == pytest.approx(1.0, abs=0.01)
    q4 = mf.load(root / "tinyllama-1.1b-proxy-q4_0-cpu2.json")
    assert pf.against_roofline(q4, pf.fit(q4)).decode_bandwidth_efficiency < 0.9
    assert main(["probe", "show", str(root / "tinyllama-1.1b-proxy-f16-cpu2.json")]) == 0
    assert "decode reaches 100% of peak bandwidth" in " ".join(capsys.readouterr().out.split())


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    m = synthetic(5.0, 0.3, 0.0)
    path = tmp_path / "run.json"
    mf.save(m, path)
    assert mf.load(path) == m
    assert json.loads(path.read_text())["schema_version"] == 2


def test_a_version_1_file_reads_as_version_2(tmp_path: Path) -> None:
    # Version 1 spelled percentiles ttft_ms_p50; version 2 spells them as every other result, ttft_p50_ms.
    m = synthetic(5.0, 0.3, 0.0)
    m.points[0] = m.points[0].model_copy(update={"ttft_p50_ms": 12.5, "e2e_p95_ms": 80.0, "itl_p50_ms": 4.0})
    v1 = json.loads(m.model_dump_json(exclude_none=True))
    v1["schema_version"] = 1
    first = v1["points"][0]
    for old, new in (("ttft_ms_p50", "ttft_p50_ms"), ("e2e_ms_p95", "e2e_p95_ms"), ("itl_ms_p50", "itl_p50_ms")):
        first[old] = first.pop(new)
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(v1))
    loaded = mf.load(path)
    assert loaded.schema_version == 2 and loaded == m


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "run.json"
    path.write_text("old")

    def broken(src: str, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken)
    with pytest.raises(InputError, match=r"run\.json: cannot write the file: disk full"):
        files.write_atomic(path, "new")
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read the file"),
        ("{not json", "line 1: not JSON"),
        ('{"schema_version": 2}', "schema_version"),
    ],
)
def test_bad_measured_files_are_one_line_exit_2(tmp_path: Path, capsys, content: str | None, expected: str) -> None:
    path = tmp_path / "m.json"
    if content is not None:
        path.write_text(content)
    code = main(
        [
            "capacity",
            "--model",
            "llama-3.1-8b-instruct",
            "--gpu",
            "h100-sxm",
            "--input-tokens",
            "100",
            "--output-tokens",
            "10",
            "--rates",
            "1",
            "--perf",
            str(path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and expected in err and err.count("\n") == 1, err


def test_capacity_uses_the_measured_fit(tmp_path: Path, capsys) -> None:
    path = tmp_path / "m.json"
    mf.save(synthetic(b0_ms=20.0, b_decode_ms=2.0, b_kv_ms=0.0), path)
    code = main(
        [
            "capacity",
            "--model",
            "llama-3.1-8b-instruct",
            "--gpu",
            "h100-sxm",
            "--input-tokens",
            "512",
            "--output-tokens",
            "65",
            "--rates",
            "0.05",
            "--duration-s",
            "2000",
            "--perf",
            str(path),
            "--json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["perf_source"].startswith("measured: m.json (llama.cpp test, q4_0, random-weight proxy")
    # Alone, a request decodes at b0 + b_decode per token: 22 ms.
    assert doc["points"][0]["tpot_p50_ms"] == pytest.approx(22.0, rel=0.05)


def test_a_scenario_option_runs_on_measured_step_times(tmp_path: Path, capsys) -> None:
    import yaml

    from helpers import BASE

    (tmp_path / "measured").mkdir()
    mf.save(synthetic(b0_ms=20.0, b_decode_ms=2.0, b_kv_ms=0.0), tmp_path / "measured" / "run.json")
    option = {
        "name": "own",
        "kind": "self_host",
        "model": "llama-3.1-8b-instruct",
        "gpu": "h100-sxm",
        "procurement": "rent",
        "perf": {"measured": "measured/run.json"},
    }
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({**BASE, "options": [BASE["options"][0], option]}))
    assert main(["run", str(scenario), "--json"]) == 0
    by = {o["name"]: o for o in json.loads(capsys.readouterr().out)["options"]}
    assert by["own"]["perf_source"].startswith("measured: run.json")
    (tmp_path / "measured" / "run.json").unlink()
    assert main(["run", str(scenario)]) == 2
    assert "options[1].perf.measured: " in capsys.readouterr().err


@pytest.mark.parametrize(
    ("model", "gpu", "problem"),
    [
        ("llama-3.3-70b-instruct", "h100-sxm", "it measured llama-3.1-8b-instruct, not llama-3.3-70b-instruct"),
        ("llama-3.1-8b-instruct", "l4", "it ran on h100-sxm, not l4"),
    ],
)
def test_a_measured_file_stands_only_for_its_model_and_device(
    tmp_path: Path, capsys, model: str, gpu: str, problem: str
) -> None:
    import yaml

    from helpers import BASE

    path = tmp_path / "m.json"
    mf.save(synthetic(b0_ms=20.0, b_decode_ms=2.0, b_kv_ms=0.0), path)
    argv = ["--model", model, "--gpu", gpu, "--input-tokens", "512", "--output-tokens", "65", "--rates", "1"]
    assert main(["capacity", *argv, "--perf", str(path)]) == 2
    fix = "(measure this model on this device, or leave the file out for the roofline)"
    assert capsys.readouterr().err == f"{path}: {problem} {fix}\n"
    option = {"name": "own", "kind": "self_host", "model": model, "gpu": gpu, "procurement": "rent"}
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({**BASE, "options": [{**option, "perf": {"measured": "m.json"}}]}))
    assert main(["run", str(scenario)]) == 2
    assert capsys.readouterr().err == f"{scenario}: options[0].perf.measured: {path}: {problem} {fix}\n"


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_llama_bench_import_of_a_real_result(tmp_path: Path, capsys) -> None:
    from simulator.probe.importers import import_file

    raw = json.loads((FIXTURES / "llama-bench-smollm2-135m-q4_1.json").read_text())
    pp = next(r for r in raw if r["n_gen"] == 0)
    tg = next(r for r in raw if r["n_prompt"] == 0)
    m = import_file(FIXTURES / "llama-bench-smollm2-135m-q4_1.json")
    assert m.kind == "llama-bench" and m.model.precision == "q4_1" and m.model.parameters == 134_515_008
    (point,) = m.points
    assert point.batch == 1 and point.decode_tok_per_s == tg["avg_ts"] and point.prefill_tok_per_s == pp["avg_ts"]
    assert point.decode_step_ms == pytest.approx(1000 / tg["avg_ts"])
    assert point.samples["decode_tok_per_s"] == tg["samples_ts"]
    out = tmp_path / "imported.json"
    assert main(["probe", "import", str(FIXTURES / "llama-bench-smollm2-135m-q4_1.json"), "--out", str(out)]) == 0
    assert mf.load(out) == m
    assert main(["probe", "show", str(out)]) == 0
    assert "no fit: 1 decode point(s) to fit" in capsys.readouterr().out
    # The catalogue fills in what a tool leaves out: the shape served, hence its parameter count.
    args = ["probe", "import", str(FIXTURES / "llama-bench-smollm2-135m-q4_1.json"), "--out", str(out)]
    assert main([*args, "--catalogue-name", "smollm2-135m-instruct"]) == 0
    named = mf.load(out).model
    assert named.catalogue_name == "smollm2-135m-instruct" and named.parameters == pytest.approx(0.135e9, rel=0.01)


def _without(fixture: str, *path: str | int) -> str:
    """A real result file with one field taken out."""
    data = json.loads((FIXTURES / fixture).read_text())
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"results": []}', "not a result file this version can import"),
        ('{"benchmarks": 3}', "not a result file this version can import"),
        (
            _without("vllm-0.7.3-benchmark-serving-llama-server-c1.json", "request_rate"),
            "a vllm-bench-serve result with a missing or malformed field (KeyError('request_rate'))",
        ),
        (
            _without("guidellm-0.3.0-llama-cpp-server.json", "benchmarks", 0, "args"),
            "a guidellm result with a missing or malformed field (KeyError('args'))",
        ),
    ],
)
def test_import_rejects_what_it_cannot_read(tmp_path: Path, capsys, text: str, expected: str) -> None:
    other = tmp_path / "other.json"
    other.write_text(text)
    assert main(["probe", "import", str(other)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{other}: {expected}") and err.count("\n") == 1, err


def test_guidellm_import_of_a_real_result(tmp_path: Path, capsys) -> None:
    from simulator.probe.importers import import_file

    source = FIXTURES / "guidellm-0.3.0-llama-cpp-server.json"
    raw = json.loads(source.read_text())["benchmarks"]
    m = import_file(source)
    assert m.kind == "guidellm" and m.created.date() == dt.date(2026, 11, 28)
    assert [p.concurrency for p in m.points] == [1, 2, 4]
    for point, b in zip(m.points, raw, strict=True):
        metrics = b["metrics"]
        # GuideLLM's own percentiles, and its token totals over the benchmark's duration.
        assert point.tpot_p50_ms == metrics["time_per_output_token_ms"]["successful"]["percentiles"]["p50"]
        assert point.e2e_p95_ms == pytest.approx(1000 * metrics["request_latency"]["successful"]["percentiles"]["p95"])
        assert point.output_tok_per_s == pytest.approx(12 * 32 / b["duration"])
        assert (point.prompt_tokens, point.gen_tokens, point.errors) == (64, 32, 0)
        assert point.ttft_p50_ms < point.e2e_p50_ms
        assert point.samples["ttft_ms"] == [r["time_to_first_token_ms"] for r in b["requests"]["successful"]]
    # A server serving one request at a time: waiting for the others shows up in TTFT.
    assert m.points[0].ttft_p50_ms < m.points[2].ttft_p50_ms
    out = tmp_path / "imported.json"
    args = ["probe", "import", str(source), "--out", str(out), "--precision", "q8_0"]
    assert main(args) == 0
    assert mf.load(out).model.precision == "q8_0"
    assert main(["probe", "show", str(out)]) == 0
    assert "fit: b0" in capsys.readouterr().out


def test_vllm_bench_serve_import_of_real_results(tmp_path: Path, capsys) -> None:
    from simulator.probe.importers import import_files

    sources = [FIXTURES / f"vllm-0.7.3-benchmark-serving-llama-server-c{c}.json" for c in (4, 1, 2)]
    m = import_files([str(p) for p in sources])
    assert m.kind == "vllm-bench-serve" and m.model.name == "tinyllama-q4_0"
    assert [p.concurrency for p in m.points] == [1, 2, 4]  # one file a point, in order
    for point in m.points:
        raw = json.loads(
            (FIXTURES / f"vllm-0.7.3-benchmark-serving-llama-server-c{point.concurrency}.json").read_text()
        )
        # The tool's own medians and throughputs, and its per-request TTFTs in milliseconds.
        assert (point.ttft_p50_ms, point.tpot_p50_ms, point.e2e_p95_ms) == (
            raw["median_ttft_ms"],
            raw["median_tpot_ms"],
            raw["p95_e2el_ms"],
        )
        assert point.output_tok_per_s == raw["output_throughput"] == pytest.approx(8 * 32 / raw["duration"])
        assert (point.prompt_tokens, point.gen_tokens, point.errors) == (128, 32, 0)
        assert point.samples["ttft_ms"] == pytest.approx([1000 * t for t in raw["ttfts"]])
        assert point.ttft_p50_ms < point.e2e_p50_ms
    # Sequences decoded together share each step: the per-token time grows with concurrency.
    assert m.points[0].tpot_p50_ms < m.points[1].tpot_p50_ms < m.points[2].tpot_p50_ms
    out = tmp_path / "served.json"
    assert main(["probe", "import", *map(str, sources), "--out", str(out)]) == 0
    assert main(["probe", "show", str(out)]) == 0
    assert "over 3 points" in capsys.readouterr().out
    mixed = [str(sources[0]), str(FIXTURES / "guidellm-0.3.0-llama-cpp-server.json")]
    assert main(["probe", "import", *mixed, "--out", str(out)]) == 2
    assert "import results of one tool and one model together" in capsys.readouterr().err


def test_vllm_bench_serve_files_without_detail_import_the_same_point(tmp_path: Path, capsys) -> None:
    # `vllm bench serve` keeps per-request lists only with --save-detailed and names the API
    # `endpoint_type`: the same run saved that way gives the same point, without the raw samples.
    from simulator.probe.importers import import_file

    source = FIXTURES / "vllm-0.7.3-benchmark-serving-llama-server-c2.json"
    raw = json.loads(source.read_text())
    for field in ("input_lens", "output_lens", "ttfts", "itls", "generated_texts", "errors"):
        del raw[field]
    raw["endpoint_type"] = raw.pop("backend")
    (tmp_path / "summary.json").write_text(json.dumps(raw))
    full, summary = import_file(source).points[0], import_file(tmp_path / "summary.json").points[0]
    assert summary.samples == {"ttft_ms": []}
    assert summary.model_copy(update={"samples": full.samples}) == full
    raw["ramp_up_strategy"] = "linear"
    (tmp_path / "ramp.json").write_text(json.dumps(raw))
    assert main(["probe", "import", str(tmp_path / "ramp.json"), "--out", str(tmp_path / "x.json")]) == 2
    assert "ramp_up_strategy: a ramp-up run has no one rate" in capsys.readouterr().err


def test_guidellm_sweep_keeps_its_fixed_points_and_names_what_it_left_out(tmp_path: Path, capsys) -> None:
    # `--rate-type sweep` runs synchronous, then everything at once (throughput), then fixed rates;
    # the middle one has no concurrency or rate to be a sweep point.
    from simulator.probe.importers import import_files

    source = FIXTURES / "guidellm-0.3.0-sweep-llama-server.json"
    raw = json.loads(source.read_text())
    assert [b["args"]["strategy"]["type_"] for b in raw["benchmarks"]] == ["synchronous", "throughput", "constant"]
    m = import_files([str(source)])
    assert [(p.concurrency, p.rate_rps) for p in m.points] == [
        (1, None),
        (None, raw["benchmarks"][2]["args"]["strategy"]["rate"]),
    ]
    assert m.settings["left_out"] == "throughput"
    # The server's usage counted the prompts (GuideLLM's 64 characters are more llama.cpp tokens).
    assert m.points[0].prompt_tokens == raw["benchmarks"][0]["metrics"]["prompt_token_count"]["successful"]["mean"]
    raw["benchmarks"] = raw["benchmarks"][1:2]
    (tmp_path / "only-throughput.json").write_text(json.dumps(raw))
    assert main(["probe", "import", str(tmp_path / "only-throughput.json"), "--out", str(tmp_path / "x.json")]) == 2
    assert "strategy throughput: only fixed concurrencies and rates" in capsys.readouterr().err


BATCHED_BENCH = FIXTURES / "llama-batched-bench-h200-llama-3.1-8b-proxy-f16.jsonl"


def test_llama_batched_bench_jsonl_import_gives_a_decode_step_per_batch() -> None:
    lines = [json.loads(line) for line in BATCHED_BENCH.read_text().splitlines() if line.strip()]
    m = import_file(BATCHED_BENCH)
    assert m.kind == "llama-batched-bench" and [p.batch for p in m.points] == [r["pl"] for r in lines]
    for point, line in zip(m.points, lines, strict=True):
        assert point.decode_step_ms == pytest.approx(1000 * line["t_tg"] / line["tg"], rel=1e-12)
        assert point.decode_tok_per_s == line["speed_tg"] and point.prefill_tok_per_s == line["speed_pp"]
        assert (point.prompt_tokens, point.gen_tokens) == (line["pp"], line["tg"])
    assert [p.cold_start for p in m.points] == [True] + [False] * (len(lines) - 1)
    assert m.settings["flash_attn"] == -1 and m.settings["n_ubatch"] == 512


def _as_table(lines: list[dict]) -> str:
    """The same run as llama-batched-bench prints it by default (its C format, widths and all)."""
    first = lines[0]
    head = (
        f"main: n_kv_max = {first['n_kv_max']}, n_batch = {first['n_batch']}, n_ubatch = {first['n_ubatch']}, "
        f"flash_attn = {first['flash_attn']}, is_pp_shared = 0, n_gpu_layers = 99, n_threads = 16, n_threads_batch = 16"
    )
    rows = [
        "|    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s |",
        "|-------|--------|------|--------|----------|----------|----------|----------|----------|----------|",
    ]
    for r in lines:
        rows.append(
            f"|{r['pp']:6d} | {r['tg']:6d} | {r['pl']:4d} | {r['n_kv']:6d} | {r['t_pp']:8.3f} | {r['speed_pp']:8.2f} | "
            f"{r['t_tg']:8.3f} | {r['speed_tg']:8.2f} | {r['t']:8.3f} | {r['speed']:8.2f} |"
        )
    return "\n".join(["llama.cpp build info ...", head, "", *rows, "", "llama_perf_context_print: ..."]) + "\n"


def test_llama_batched_bench_table_reads_like_its_jsonl(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in BATCHED_BENCH.read_text().splitlines() if line.strip()]
    table = tmp_path / "h200-bench.txt"
    table.write_text(_as_table(lines))
    from_table, from_jsonl = import_file(table), import_file(BATCHED_BENCH)
    assert from_table.settings["flash_attn"] == -1 and from_table.settings["n_ubatch"] == 512
    for a, b in zip(from_table.points, from_jsonl.points, strict=True):
        assert a.batch == b.batch and a.cold_start == b.cold_start
        assert a.decode_step_ms == pytest.approx(b.decode_step_ms, abs=0.5e-3 / 128 * 1000)  # t_tg printed to 1 ms


def test_the_bundled_h200_file_is_the_shared_run_on_an_h200() -> None:
    # The bundled file is `probe import` of that run with --device h200: recognised, and at the roofline
    # share the measurement's own notes give (batch-1 step 5.92 ms for 16.06 GB: 56% of 4.8 TB/s).
    m = mf.load(ROOT / "measured" / "h200-llama-3.1-8b-proxy-f16-batched-bench.json")
    assert [p.decode_step_ms for p in m.points] == [p.decode_step_ms for p in import_file(BATCHED_BENCH).points]
    assert pf.recognised_device(m).name == "h200" and m.model.catalogue_name == "llama-3.1-8b-instruct"
    check = pf.against_roofline(m, pf.fit(m))
    assert check.decode_bandwidth_efficiency == pytest.approx(0.56, abs=0.01)
