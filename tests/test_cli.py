"""The command line: the JSON contract, the catalogue, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simulator import i18n
from simulator.cli import main
from simulator.scenario.base import Section

from helpers import BASE, LANGUAGE_VARIABLES, ROOT, SCENARIOS

CONTRACT_OPTION_FIELDS = {
    "name",
    "kind",
    "total_cost_usd",
    "monthly_cost_usd",
    "usd_per_mtok",
    "tokens",
    "feasible",
    "infeasible_reasons",
    "replicas_peak",
    "perf_source",
}


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, data: dict | str) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return str(path)


def test_run_json_contract(capsys) -> None:
    code, out, _ = run_cli(capsys, "run", str(ROOT / "scenarios" / "support-assistant.yaml"), "--json")
    assert code == 0
    doc = json.loads(out)
    for key in (
        "scenario",
        "horizon_months",
        "price_date",
        "seed",
        "engine",
        "cheapest_option",
        "options",
        "break_even",
    ):
        assert key in doc, key
    assert doc["engine"] == "des" and doc["horizon_months"] == 36
    for option in doc["options"]:
        assert option.keys() >= CONTRACT_OPTION_FIELDS
        assert set(option["tokens"]) == {"input", "cached_input", "output"}
        assert len(option["monthly_cost_usd"]) == 36
        assert sum(option["monthly_cost_usd"]) == pytest.approx(option["total_cost_usd"])
        if option["kind"] == "self_host":
            assert option["replicas_peak"] >= 1 and option["perf_source"] == "roofline-estimate"
    for be in doc["break_even"]:
        assert {"option", "versus", "scale", "tokens_per_month", "payback_month"} <= be.keys()


def test_set_overrides_change_the_answer(capsys) -> None:
    path = str(ROOT / "scenarios" / "prototype.yaml")
    _, out1, _ = run_cli(capsys, "run", path, "--json")
    _, out2, _ = run_cli(
        capsys, "run", path, "--json", "--set", "workload.scale=2", "--set", "options[gpt-4.1-mini].use_batch_api=false"
    )
    a, b = json.loads(out1)["options"][0], json.loads(out2)["options"][0]
    assert b["total_cost_usd"] == pytest.approx(2 * a["total_cost_usd"])


def test_summary_names_the_cheapest(capsys) -> None:
    code, out, _ = run_cli(capsys, "run", str(ROOT / "scenarios" / "prototype.yaml"))
    assert code == 0
    assert "gpt-4.1-mini is the cheapest option that meets every latency target and privacy requirement" in " ".join(
        out.split()
    )


@pytest.mark.parametrize("what", ["gpus", "models", "prices"])
def test_catalog_json_lists_named_entries(capsys, what: str) -> None:
    code, out, _ = run_cli(capsys, "catalog", what, "--json", "--date", "2026-11-01")
    entries = json.loads(out)
    assert code == 0 and len(entries) >= 10 and all("name" in e for e in entries)


def test_catalog_filters(capsys) -> None:
    _, out, _ = run_cli(
        capsys, "catalog", "prices", "--provider", "openai", "--filter", "gpt-4o-mini", "--json", "--date", "2026-11-01"
    )
    entries = json.loads(out)
    assert entries and all(e["provider"] == "openai" and "gpt-4o-mini" in e["name"] for e in entries)


def test_a_filter_that_matches_nothing_says_so(capsys) -> None:
    code, out, _ = run_cli(capsys, "catalog", "gpus", "--filter", "no-such-gpu")
    assert code == 0 and out == "no gpus match 'no-such-gpu' (see `rent-or-own catalog --help`)\n"


def test_catalogues_carry_sources_and_dates(capsys) -> None:
    for what in ("gpus", "models"):
        _, out, _ = run_cli(capsys, "catalog", what, "--json")
        for entry in json.loads(out):
            text = json.dumps(entry)
            assert text.count('"source"') >= 1 and text.count('"as_of"') == text.count('"source"'), entry["name"]


def test_schema_is_json_schema(capsys) -> None:
    code, out, _ = run_cli(capsys, "schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "rent-or-own scenario"
    assert "requests_per_day" in json.dumps(schema) and "examples" in json.dumps(schema)


def test_validate_every_bundled_scenario(capsys) -> None:
    code, out, _ = run_cli(capsys, "validate", *map(str, SCENARIOS))
    assert code == 0 and out.count(": ok") == len(SCENARIOS)


SELF_HOST = {
    "name": "x",
    "kind": "self_host",
    "model": "llama-3.1-8b-instruct",
    "gpu": "h100-sxm",
    "procurement": "rent",
}


def bad(**patch) -> dict:
    data = json.loads(json.dumps(BASE))
    for dotted, value in patch.items():
        node = data
        *parents, last = dotted.split("__")
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("data", "argv", "expected"),
    [
        ("name: x\nworkload: [1, 2\n", [], "line 3: YAML syntax error"),
        (
            bad(workload__classes__0__requests_per_dya=5),
            [],
            "workload.classes[0].requests_per_dya: unknown field (remove it, or did you mean 'requests_per_day'",
        ),
        (bad(workload__classes__0__requests_per_day="many"), [], "workload.classes[0].requests_per_day:"),
        (
            bad(workload__classes__0__requests_per_day=-5),
            [],
            "requests_per_day: Input should be greater than 0, got -5",
        ),
        (bad(economics__horizon_months=0), [], "economics.horizon_months: Input should be greater than or equal to 1"),
        (
            BASE,
            ["--set", "workload.monthly_growth=3"],
            "workload.monthly_growth: Input should be less than or equal to 1",
        ),
        (
            bad(options=[{**SELF_HOST, "perf": {"max_batch": 512, "chunk_tokens": 256}}]),
            [],
            "options[0].perf: chunk_tokens (256) is below max_batch (512) (raise chunk_tokens or lower max_batch)",
        ),
        (
            bad(options=[{**SELF_HOST, "perf": {"max_batch": 1, "chunk_tokens": 1}}]),
            [],
            "options[0].perf.chunk_tokens: Input should be greater than or equal to 64",
        ),
        (
            bad(
                options=[
                    {"name": "x", "kind": "self_host", "model": "llama-3-70b", "gpu": "h100-sxm", "procurement": "rent"}
                ]
            ),
            [],
            "options[0].model: unknown model 'llama-3-70b' (did you mean",
        ),
        (
            bad(options=[{**SELF_HOST, "gpu": "H100"}]),
            [],
            "options[0].gpu: unknown GPU 'H100' (did you mean",
        ),
        (
            bad(options=[{"name": "x", "kind": "api", "provider": "openai", "model": "gpt-4oo"}]),
            [],
            "options[0].model: genai-prices 0.2.3 has no model 'gpt-4oo' at openai (did you mean 'gpt-4o'",
        ),
        (BASE, ["--set", "workload.nonsense.deep=1"], "--set: workload.nonsense.deep: no field 'nonsense'"),
        (BASE, ["--set", "options.7.model=x"], "--set: options.7.model: index 7 is out of range"),
        (BASE, ["--set", "workload.scael=2"], "workload.scael: unknown field (remove it, or did you mean 'scale'"),
        (
            bad(options=[{**SELF_HOST, "gpu": "l4", "procurement": "buy"}]),
            [],
            "options[0].buy.gpu_purchase_usd: the catalogue has no purchase",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys, data, argv, expected: str) -> None:
    path = write(tmp_path, data)
    code, out, err = run_cli(capsys, "run", path, *argv)
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(path + ": ") or err.startswith("--set: "), err
    assert expected in err, err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["nonsense"], "rent-or-own: argument command: invalid choice: 'nonsense'"),
        (["sweep", "s.yaml", "--samples", "-3"], "rent-or-own sweep: argument --samples: expected a whole number"),
        (["sweep", "s.yaml", "--workers", "0"], "rent-or-own sweep: argument --workers: expected a whole number"),
        (
            ["dashboard", "--port", "70000"],
            "rent-or-own dashboard: argument --port: expected a TCP port from 1 to 65535",
        ),
        (
            ["probe", "llamacpp", "--model", "m.gguf", "--batch", "0,1"],
            "rent-or-own probe llamacpp: argument --batch: expected sizes of at least 1",
        ),
        (
            ["probe", "openai", "--base-url", "u", "--model", "m", "--rates", "0"],
            "rent-or-own probe openai: argument --rates: expected finite rates above 0",
        ),
        (
            ["probe", "openai", "--base-url", "u", "--model", "m", "--rates", "1", "--duration-s", "inf"],
            "rent-or-own probe openai: argument --duration-s: expected a finite number above 0, got 'inf'",
        ),
        (
            ["capacity", "--model", "m", "--gpu", "g", "--input-tokens", "0", "--output-tokens", "9", "--rates", "1"],
            "rent-or-own capacity: argument --input-tokens: expected a whole number of at least 1, got '0'",
        ),
    ],
)
def test_bad_arguments_are_one_line_exit_2(capsys, argv: list[str], expected: str) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.count("\n") == 1, err
    assert err.startswith(expected) and err.endswith(f"(see `{err.split(': ')[0]} --help`)\n"), err


def test_missing_file(capsys) -> None:
    code, _, err = run_cli(capsys, "run", "/nonexistent/s.yaml")
    assert code == 2 and err.startswith("/nonexistent/s.yaml: cannot read the file")


def test_an_uploaded_text_meets_the_file_checks() -> None:
    from simulator.errors import InputError
    from simulator.scenario import scenario_from_text

    with pytest.raises(InputError, match=r"^up.yaml: \(top level\): expected a mapping of sections"):
        scenario_from_text("- a list\n", "up.yaml")
    with pytest.raises(InputError, match=r"^up.yaml: uncertainty\[0\].field: workload.nonsense"):
        scenario_from_text(
            yaml.safe_dump(
                {
                    **BASE,
                    "uncertainty": [{"field": "workload.nonsense", "distribution": "uniform", "low": 1, "high": 2}],
                }
            ),
            "up.yaml",
        )


def test_binary_file_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes("name: café\n".encode("latin-1"))
    code, _, err = run_cli(capsys, "run", str(path))
    assert code == 2 and err == f"{path}: byte 9: not UTF-8 text (give the text file itself, saved as UTF-8)\n"


def test_module_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "run", str(ROOT / "scenarios" / "prototype.yaml"), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["scenario"] == "prototype"


def test_committed_schema_is_current() -> None:
    # Editors validate scenarios against this file (see each scenario's first line); regenerate with
    # `rent-or-own schema > scenario.schema.json`.
    from simulator.scenario import json_schema

    assert json.loads((ROOT / "scenario.schema.json").read_text()) == json_schema()


def test_committed_measured_schema_is_current_and_holds_the_bundled_files() -> None:
    # `rent-or-own schema --measured > measured.schema.json`; tools that write measured files check against it.
    import jsonschema

    from simulator.perf.measured import json_schema as measured_schema

    schema = json.loads((ROOT / "measured.schema.json").read_text())
    assert schema == measured_schema()
    for path in sorted((ROOT / "measured").glob("*.json")):
        jsonschema.validate(json.loads(path.read_text()), schema)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--set", "options.0.provider=openia"],
            "options[0].provider: unknown API provider 'openia' (did you mean 'openai'",
        ),
        (
            ["--set", "workload.daily_profile=lunch"],
            "workload.daily_profile: unknown daily profile 'lunch' (choose one of",
        ),
        (["--set", "workload.classes.0.input_tokens.p95=10"], "p95 (10) must be above mean (900) (raise p95"),
        (["--set", "workload.classes.0.latency=fast"], "latency: unknown latency preset 'fast' (did you mean"),
        (["--set", "foo"], "--set: foo: expected KEY=VALUE"),
    ],
)
def test_override_errors_are_one_line(capsys, argv: list[str], expected: str) -> None:
    code, _, err = run_cli(capsys, "run", str(ROOT / "scenarios" / "prototype.yaml"), *argv)
    assert code == 2 and err.count("\n") == 1 and expected in err, err


def test_every_scenario_field_has_a_description_and_examples() -> None:
    missing = [
        f"{model.__name__}.{name}"
        for model in Section.__subclasses__()
        for name, field in model.model_fields.items()
        if not (field.description and field.examples)
    ]
    assert missing == []


def test_summary_states_the_cost_of_privacy(capsys) -> None:
    code, out, _ = run_cli(capsys, "run", str(ROOT / "scenarios" / "regulated-rag.yaml"))
    assert code == 0 and "No option is feasible" not in out
    words = " ".join(out.split())  # sentences wrap at the terminal's width
    assert "llama-70b-on-premises is the cheapest option that meets every latency target and privacy" in words
    assert "llama-70b-eu-cloud meets the latency targets for $" in words
    assert "less over the horizon (the cost of privacy) but breaks: class 'clinician-qa'" in words
    assert "If latency targets are relaxed, gpt-4.1-mini-eu-zdr is cheapest" in words


def test_capacity_json_contract_and_knee(capsys) -> None:
    code, out, _ = run_cli(
        capsys,
        "capacity",
        "--model",
        "llama-3.1-8b-instruct",
        "--gpu",
        "h100-sxm",
        "--input-tokens",
        "1000",
        "--output-tokens",
        "200",
        "--rates",
        "2,10,40",
        "--duration-s",
        "300",
        "--slo-ttft-p95-ms",
        "500",
        "--slo-tpot-p95-ms",
        "50",
        "--json",
    )
    doc = json.loads(out)
    assert code == 0 and doc["perf_source"] == "roofline-estimate"
    for key in ("model", "gpu", "precision", "points", "max_rate_rps_within_slo"):
        assert key in doc
    low, mid, high = doc["points"]
    for p in doc["points"]:
        assert {
            "rate_rps",
            "achieved_rps",
            "output_tok_per_s",
            "ttft_p50_ms",
            "ttft_p95_ms",
            "tpot_p50_ms",
            "tpot_p95_ms",
            "e2e_p95_ms",
        } <= p.keys()
    assert low["achieved_rps"] == pytest.approx(2, rel=0.15)
    assert high["achieved_rps"] < 40 * 0.8 and high["ttft_p95_ms"] > 10 * mid["ttft_p95_ms"]  # past the knee
    assert 10 <= doc["max_rate_rps_within_slo"] < 40


def test_capacity_bad_input(capsys) -> None:
    code, _, err = run_cli(
        capsys,
        "capacity",
        "--model",
        "llama-3-8b",
        "--gpu",
        "h100-sxm",
        "--input-tokens",
        "10",
        "--output-tokens",
        "10",
        "--rates",
        "1",
    )
    assert code == 2 and "--model: unknown model 'llama-3-8b'" in err and err.count("\n") == 1
    code, _, err = run_cli(
        capsys,
        "capacity",
        "--model",
        "llama-3.1-405b-instruct",
        "--gpu",
        "l4",
        "--input-tokens",
        "10",
        "--output-tokens",
        "10",
        "--rates",
        "1",
    )
    assert code == 2 and "does not fit" in err


def test_run_des_reports_latency_per_class(capsys) -> None:
    code, out, _ = run_cli(capsys, "run", str(ROOT / "scenarios" / "regulated-rag.yaml"), "--engine", "des", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["engine"] == "des" and doc["break_even_engine"] == "fluid"
    by = {o["name"]: o for o in doc["options"]}
    for o in doc["options"]:
        assert 0 <= o["slo_attainment"] <= 1
        assert set(o["latency"]) == {"clinician-qa", "discharge-summary", "staff-policy-qa", "public-faq"}
        for lat in o["latency"].values():
            assert {
                "ttft_p50_ms",
                "ttft_p95_ms",
                "ttft_p99_ms",
                "tpot_p50_ms",
                "tpot_p95_ms",
                "e2e_p95_ms",
            } <= lat.keys()
            assert lat["ttft_p50_ms"] <= lat["ttft_p95_ms"] <= lat["ttft_p99_ms"]
    assert 0 < by["llama-70b-on-premises"]["utilisation"] <= 1
    assert 0 < by["regulated-in-house"]["api_share"] < 1
    # The API's latency is drawn about the provider's published median (450 ms) with the catalogue's
    # spread (sd of the log 0.26, so a p95 of 450 * e^(1.645 * 0.26) = 691 ms), with no rate limit here.
    faq = by["gpt-4.1-mini-eu-zdr"]["latency"]["public-faq"]
    assert faq["ttft_p50_ms"] == pytest.approx(450, rel=0.02) and faq["ttft_p95_ms"] == pytest.approx(691, rel=0.03)


def test_capacity_with_no_request_in_the_window_is_one_line(capsys) -> None:
    # One request a second for one second: the measured 0.9 s after warm-up may hold none (seed 0: it does not).
    args = ["capacity", "--model", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--input-tokens", "100"]
    code, _, err = run_cli(capsys, *args, "--output-tokens", "50", "--rates", "1", "--duration-s", "1")
    assert code == 2 and err.count("\n") == 1, err
    assert "--duration-s: no request arrives in the 0.9 s measured at 1 requests/s (raise --duration-s" in err


def test_capacity_with_a_fixed_number_of_prompts_does_not_depend_on_the_duration(capsys) -> None:
    # Above the knee a queue grows as long as requests keep coming: over a duration, TTFT grows with
    # it; with a fixed count (as serving benchmarks send), every request completes and the duration
    # plays no part.
    args = ["capacity", "--model", "llama-3.1-8b-instruct", "--gpu", "l4", "--input-tokens", "2000"]
    args += ["--output-tokens", "200", "--rates", "8", "--json"]
    by_duration = [json.loads(run_cli(capsys, *args, "--duration-s", str(d))[1]) for d in (120, 480)]
    ttft = [doc["points"][0]["ttft_p50_ms"] for doc in by_duration]
    assert ttft[1] > 2 * ttft[0], ttft
    fixed = [run_cli(capsys, *args, "--num-prompts", "300", "--duration-s", str(d))[1] for d in (120, 480)]
    assert fixed[0] == fixed[1]
    point = json.loads(fixed[0])["points"][0]
    assert point["achieved_rps"] < 8 and point["output_tok_per_s"] == pytest.approx(point["achieved_rps"] * 200)


def test_capacity_chunk_must_hold_the_batch(capsys) -> None:
    args = ["capacity", "--model", "llama-3.1-8b-instruct", "--gpu", "l4", "--input-tokens", "100"]
    limits = ("--max-batch", "4096", "--chunk-tokens", "2048")
    code, _, err = run_cli(capsys, *args, "--output-tokens", "10", "--rates", "1", *limits)
    assert code == 2 and "--chunk-tokens: 2048 is below --max-batch 4096 (raise it)" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("workload.scale=.inf", "workload.scale: Input should be a finite number, got inf"),
        ("workload.scale=1e300", "workload.scale: Input should be less than or equal to 1000000"),
        (
            "workload.bursts[0].multiplier=1e308",
            "workload.bursts[0].multiplier: Input should be less than or equal to 1000",
        ),
        (
            "workload.classes[0].requests_per_day=1e308",
            "requests_per_day: Input should be less than or equal to 100000000000",
        ),
        (
            "workload.utc_offset_hours=1e-300",
            "workload.utc_offset_hours: 1e-300 is not a whole number of quarter hours",
        ),
        (
            "options[llama-70b-owned].operations.staff_fte=1e308",
            ".operations.staff_fte: Input should be less than or equal to 10000",
        ),
        (f"seed={10**30}", "seed: Input should be less than or equal to 9223372036854775807"),
    ],
)
def test_numbers_beyond_any_real_value_are_refused_in_one_line(capsys, override: str, message: str) -> None:
    code, out, err = run_cli(capsys, "run", str(ROOT / "scenarios" / "support-assistant.yaml"), "--set", override)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1, err


def test_the_schema_states_each_bound() -> None:
    from simulator.scenario import json_schema

    defs = json_schema()["$defs"]
    assert defs["RequestClass"]["properties"]["requests_per_day"]["maximum"] == 1e11
    assert defs["Burst"]["properties"]["multiplier"]["maximum"] == 1000


def test_a_non_finite_result_is_a_bug_report_line_never_a_null() -> None:
    from simulator.analysis.results import json_text
    from simulator.errors import InternalError

    assert json.loads(json_text({"a": [1.0, 2.5], "b": "x"})) == {"a": [1.0, 2.5], "b": "x"}
    with pytest.raises(InternalError, match=r"non-finite number at \.a\[1\]") as raised:
        json_text({"a": [1.0, float("nan")]})
    assert str(raised.value).startswith("rent-or-own: internal error, please report it with the scenario:")


def _prototype_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "scenarios" / "prototype.yaml").read_text()
    assert old in text
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: _write(d, "name: x\nworkload: " + "[" * 900 + "]" * 900 + "\n"), "nested deeper than 64 levels"),
        (lambda d: _write(d, "name: x\nseed: " + "9" * 5000 + "\n"), "a number has thousands of digits"),
        (
            lambda d: _write(d, (ROOT / "scenarios" / "prototype.yaml").read_text() + "\nname: again\n"),
            "the key 'name' is given twice (the first would be lost)",
        ),
        (lambda d: _prototype_with(d, "kind: api", 'kind: "api\\nx"'), "Input tag 'api\\nx' found"),
        (
            lambda d: _prototype_with(d, "name: claude-haiku-4.5", "name: gpt-4.1-mini"),
            "options: two options are named 'gpt-4.1-mini' (rename one, names must be unique)",
        ),
    ],
)
def test_hostile_yaml_is_one_line(tmp_path: Path, capsys, make, message: str) -> None:
    path = make(tmp_path)
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err, err


def _write(folder: Path, text: str) -> Path:
    path = folder / "s.yaml"
    path.write_text(text)
    return path


def test_inputs_that_would_block_or_flood_are_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    import os

    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        code, _, err = run_cli(capsys, "validate", str(path))
        assert code == 2 and f"{path}: not a regular file" in err and err.count("\n") == 1
    monkeypatch.setenv("RENT_OR_OWN_MAX_INPUT_MB", "0.001")
    code, _, err = run_cli(capsys, "validate", str(ROOT / "scenarios" / "support-assistant.yaml"))
    assert code == 2 and "larger than 0.001 MB" in err and "RENT_OR_OWN_MAX_INPUT_MB" in err


def test_two_classes_of_one_name_are_named_in_plain_english(capsys) -> None:
    code, _, err = run_cli(
        capsys,
        "validate",
        str(ROOT / "scenarios" / "support-assistant.yaml"),
        "--set",
        "workload.classes[1].name=answer",
    )
    assert code == 2 and "workload.classes: two classes are named 'answer'" in err, err


def test_a_request_budget_past_what_memory_holds_is_one_line(capsys) -> None:
    # A window's requests and their results take about 200 bytes each: five million is a gigabyte.
    path = str(ROOT / "scenarios" / "coding-assistant.yaml")
    code, out, err = run_cli(capsys, "run", path, "--set", "simulation.max_window_requests=10000000")
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"{path}: simulation.max_window_requests: ")


def test_run_reports_each_step_to_a_progress_callback() -> None:
    from simulator.analysis.run import run
    from simulator.scenario import load_scenario

    steps: list[str] = []
    result = run(load_scenario(ROOT / "scenarios" / "prototype.yaml"), "fluid", steps.append)
    simulated = [s.removeprefix("simulating ") for s in steps if s.startswith("simulating ")]
    searched = [s.removeprefix("break-even of ") for s in steps if s.startswith("break-even of ")]
    assert simulated == [o.name for o in result.options]
    assert searched == [b.option for b in result.break_even]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9" * 5000, "--set seed: (syntax): a number has thousands of digits"),
        ("[" * 900 + "]" * 900, "--set seed: line 1: YAML syntax error: nested deeper than 64 levels"),
    ],
)
def test_set_values_pass_the_same_yaml_checks_as_files(capsys, value: str, message: str) -> None:
    code, _, err = run_cli(capsys, "validate", str(ROOT / "scenarios" / "prototype.yaml"), "--set", f"seed={value}")
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_ctrl_c_stops_a_batch_in_one_line_and_keeps_whole_files(tmp_path: Path) -> None:
    import os
    import signal
    import time

    out = tmp_path / "out"
    scenarios = [str(ROOT / "scenarios" / f"{s}.yaml") for s in ("prototype", "support-assistant", "coding-assistant")]
    # A new session, as a terminal's foreground group: Ctrl-C reaches the command and its workers.
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "run", *scenarios, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not (out / "prototype" / "ledger.csv").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err == "rent-or-own: stopped by Ctrl-C; the files already written are whole\n"
    assert json.loads((out / "prototype" / "summary.json").read_text())["scenario"] == "prototype"
    assert not list(out.rglob("*.tmp"))


SUPPORT = str(ROOT / "scenarios" / "support-assistant.yaml")


def japanese(message: str) -> str:
    """The catalogue's Japanese for a message, checked to be a translation rather than the English."""
    text = i18n.translations("ja").gettext(message)
    assert text != message, message
    return text


def test_run_in_japanese_shows_the_catalogues_headings(capsys) -> None:
    code, out, err = run_cli(capsys, "run", SUPPORT, "--engine", "fluid", "--lang", "ja")
    assert code == 0 and err == ""
    for message in ("option", "horizon cost", "per month", "verdict", "Why the other cheaper options lost:"):
        assert japanese(message) in out, message
    assert i18n.language() == "en"  # the command's language ends with it
    _, english, _ = run_cli(capsys, "run", SUPPORT, "--engine", "fluid")
    assert "horizon cost" in english and japanese("horizon cost") not in english


def test_the_environment_chooses_the_language_without_lang() -> None:
    def cli(*argv: str, **env: str) -> str:
        environment = {k: v for k, v in os.environ.items() if k not in LANGUAGE_VARIABLES} | env
        done = subprocess.run(
            [sys.executable, "-m", "simulator", *argv], capture_output=True, text=True, env=environment, check=True
        )
        return done.stdout

    from_locale = cli("run", SUPPORT, "--engine", "fluid", LANG="ja_JP.UTF-8")
    assert japanese("horizon cost") in from_locale
    assert from_locale == cli("run", SUPPORT, "--engine", "fluid", "--lang", "ja", LANG="C.UTF-8")


@pytest.mark.parametrize("argv", [["run", SUPPORT, "--lang", "xx"], ["--lang=xx", "validate", SUPPORT]])
def test_an_unknown_language_is_one_line_exit_2(capsys, argv: list[str]) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == "" and err == "--lang: unknown language 'xx' (choose one of en, ja)\n"


def test_json_keys_are_the_same_in_every_language(capsys) -> None:
    def keys(value: object) -> object:
        if isinstance(value, dict):
            return {k: keys(v) for k, v in value.items()}
        if isinstance(value, list):
            return [keys(v) for v in value]
        return None

    en, ja = (
        run_cli(capsys, "run", SUPPORT, "--engine", "fluid", "--json", "--lang", lang)[1] for lang in ("en", "ja")
    )
    assert keys(json.loads(en)) == keys(json.loads(ja))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--help", "--lang", "ja"], "one scenario, or many (a batch, in parallel processes)"),
        (["--lang", "ja", "--help"], "cost every option of a scenario and find the break-even volumes"),
    ],
)
def test_help_is_in_the_language_asked_for(capsys, argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0 and japanese(message) in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--lang", "ja", "validate", SUPPORT], ["validate", SUPPORT, "--lang=ja"]])
def test_lang_before_or_after_the_subcommand(capsys, argv: list[str]) -> None:
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0 and out == japanese("{path}: ok").format(path=SUPPORT) + "\n"


@pytest.mark.parametrize(
    ("lang", "locale"),
    [("ja", {"LANG": "C.UTF-8"}), ("ja", {"LC_ALL": "C"}), ("ja", {}), ("en", {"LANG": "ja_JP.UTF-8"})],
)
def test_the_dashboard_server_gets_the_language(monkeypatch, capsys, lang: str, locale: dict[str, str]) -> None:
    # gettext, and so the server, ignores LANGUAGE where the locale is C: the command sets both where needed.
    for name in LANGUAGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in locale.items():
        monkeypatch.setenv(name, value)
    started: dict[str, str] = {}

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        started.update(env)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execve", execve)
    with pytest.raises(SystemExit):
        main(["dashboard", "--lang", lang])
    assert i18n.from_environment(started) == lang
    with i18n.using(lang):
        line = i18n._("rent-or-own dashboard on {url} (this machine only)").format(url="http://127.0.0.1:8501")
    assert capsys.readouterr().err == line + "\n"


def test_a_batch_writes_its_reports_in_the_language_asked_for(tmp_path: Path, capsys) -> None:
    prototype = str(ROOT / "scenarios" / "prototype.yaml")
    reports = {}
    for lang in ("en", "ja"):
        out = tmp_path / lang
        code, _, err = run_cli(
            capsys, "run", prototype, "--engine", "fluid", "--out", str(out), "--format", "md", "--lang", lang
        )
        assert code == 0, err
        reports[lang] = (out / "prototype" / "prototype.md").read_text()
    assert "## Recommendation" in reports["en"] and f"## {japanese('Recommendation')}" in reports["ja"]
