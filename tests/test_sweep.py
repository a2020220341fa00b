"""Sweeps: grid, tornado, Monte Carlo against a closed form, and identical results on every executor."""

from __future__ import annotations

import json
import math
import pickle
import socket
from pathlib import Path

import pytest
import yaml
from scipy import stats

from simulator import units
from simulator.analysis import sweep
from simulator.analysis.executors import SerialExecutor, make_executor
from simulator.cli import main
from simulator.errors import InputError
from simulator.scenario import load_scenario, vary

from helpers import BASE, RESERVED, ROOT

API_BILL_PER_MONTH = 10_000 * units.DAYS_PER_MONTH * (1000 * 2.5e-6 + 200 * 10e-6)  # BASE: gpt-4o, flat load


def write(tmp_path: Path, **extra: object) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**BASE, **extra}))
    return path


def test_monte_carlo_quantiles_match_the_closed_form(tmp_path: Path) -> None:
    # Volume lognormal with median 1 and sd_log 0.4; an API bill is linear in volume, so the horizon
    # cost's quantiles are the bill at scale 1 times exp(z_p * 0.4).
    path = write(
        tmp_path, uncertainty=[{"field": "workload.scale", "distribution": "lognormal", "median": 1.0, "sd_log": 0.4}]
    )
    mc = sweep.monte_carlo(load_scenario(path), str(path), 2000, SerialExecutor())
    at_one = API_BILL_PER_MONTH * 12
    for p, got in ((10, mc.p10_total_usd), (50, mc.p50_total_usd), (90, mc.p90_total_usd)):
        expected = at_one * math.exp(stats.norm.ppf(p / 100) * 0.4)
        assert got["api"] == pytest.approx(expected, rel=0.04), (p, got["api"], expected)
    assert mc.prob_cheapest_by_month["api"] == [1.0] * 12


@pytest.mark.slow
def test_serial_processes_and_dask_give_identical_results() -> None:
    path = ROOT / "scenarios" / "support-assistant.yaml"
    scenario = load_scenario(path)
    results = []
    for kind in ("serial", "process", "dask"):
        executor, close = make_executor(kind, workers=2)
        try:
            results.append(sweep.monte_carlo(scenario, str(path), 60, executor).model_dump())
        finally:
            close()
    assert results[0] == results[1] == results[2]


def test_an_unreachable_dask_scheduler_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    with socket.socket() as s:  # a port nothing listens on: bound, then released
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    code = main(
        ["sweep", str(write(tmp_path)), "--param", "workload.scale=1", "--executor", "dask", "--scheduler", address]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"--scheduler: {address}: cannot reach the Dask scheduler"), err


def test_grid_is_linear_for_the_api_and_names_the_cheapest(tmp_path: Path) -> None:
    path = write(tmp_path, options=[*BASE["options"], RESERVED])
    points = sweep.grid(
        load_scenario(path), str(path), [sweep.parse_param("workload.scale=0.5:2:lin:4")], SerialExecutor()
    )
    assert [p.values["workload.scale"] for p in points] == [0.5, 1.0, 1.5, 2.0]
    for p in points:
        assert p.total_cost_usd["api"] == pytest.approx(API_BILL_PER_MONTH * 12 * p.values["workload.scale"])
    # One reserved GPU costs 12 x 730.5 h x 1.69 USD a year: the API is cheaper below that volume.
    gpu_year = 12 * units.HOURS_PER_MONTH * 1.69
    for p in points:
        expected = "api" if API_BILL_PER_MONTH * 12 * p.values["workload.scale"] < gpu_year else "own"
        assert p.cheapest_option == expected, p


def test_tornado_ranks_by_swing(tmp_path: Path) -> None:
    path = write(tmp_path)
    base, bars = sweep.tornado(
        load_scenario(path),
        str(path),
        [("economics.api_price_decline_per_year", 0.0, 0.1), ("workload.scale", 0.5, 2.0)],
        SerialExecutor(),
    )
    assert base["api"] == pytest.approx(API_BILL_PER_MONTH * 12)
    assert [b.field for b in bars] == ["workload.scale", "economics.api_price_decline_per_year"]
    assert bars[0].total_cost_usd_at_high["api"] == pytest.approx(4 * bars[0].total_cost_usd_at_low["api"])


def test_sweep_cli_json(tmp_path: Path, capsys) -> None:
    path = write(
        tmp_path,
        uncertainty=[
            {"field": "economics.api_price_decline_per_year", "distribution": "uniform", "low": 0.0, "high": 0.5}
        ],
    )
    code = main(
        ["sweep", str(path), "--param", "workload.scale=1,2", "--samples", "20", "--executor", "serial", "--json"]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and len(doc["grid"]) == 2 and doc["monte_carlo"]["samples"] == 20
    p10, p90 = doc["monte_carlo"]["p10_total_usd"]["api"], doc["monte_carlo"]["p90_total_usd"]["api"]
    assert p10 < p90 < API_BILL_PER_MONTH * 12


@pytest.mark.parametrize(
    ("argv", "extra", "expected"),
    [
        (["--param", "workload.scale=0:10:log:5"], {}, "--param: workload.scale=0:10:log:5: could not read the values"),
        (["--param", "workload.scale=1:2:lin:0"], {}, "--param: workload.scale=1:2:lin:0: could not read the values"),
        ([], {}, "sweep: nothing to sweep"),
        (["--samples", "10"], {}, "uncertainty: no uncertain inputs"),
        (
            ["--samples", "10"],
            {"uncertainty": [{"field": "workload.scael", "distribution": "uniform", "low": 1, "high": 2}]},
            "uncertainty[0].field: workload.scael",
        ),
        (
            ["--samples", "10"],
            {"uncertainty": [{"field": "workload.scale", "distribution": "triangular", "low": 1, "high": 2}]},
            "uncertainty[0]: triangular needs low, mode, high (add mode)",
        ),
        (
            ["--samples", "50"],
            {"uncertainty": [{"field": "workload.monthly_growth", "distribution": "normal", "mean": 0.5, "sd": 1.0}]},
            "uncertainty[0]: a draw of -1.81996 for workload.monthly_growth: Input should be greater than -1",
        ),
    ],
)
def test_bad_sweep_input_is_one_line_exit_2(
    tmp_path: Path, capsys, argv: list[str], extra: dict, expected: str
) -> None:
    code = main(["sweep", str(write(tmp_path, **extra)), "--executor", "serial", *argv])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and err.count("\n") == 1, err


def test_input_errors_survive_a_process_boundary() -> None:
    e = InputError("s.yaml", "a.b", "bad", "fix it")
    assert str(pickle.loads(pickle.dumps(e))) == str(e)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("workload.scale", 2.5),
        ("economics.api_price_decline_per_year", 0.2),
        ("options[own].rent.usd_per_gpu_hour", 3.1),
        ("options[1].perf.max_batch", 64),
        ("workload.classes[chat].input_tokens", 2000),
        ("workload.classes[0].latency", "conversational"),
        ("privacy.weights.data_boundary", 4),
        ("options[api].fine_tuning", {"training_usd_per_mtok": 25, "training_mtok_per_run": 2, "runs_per_year": 4}),
    ],
)
def test_a_typed_variant_equals_the_same_set_on_the_file(tmp_path: Path, field: str, value: object) -> None:
    # The oracle is the file path: the YAML with `--set FIELD=VALUE` applied, then validated whole.
    path = write(tmp_path, options=[*BASE["options"], RESERVED])
    varied = vary(load_scenario(path), [(field, value)])
    assert varied.model_dump() == load_scenario(path, [f"{field}={json.dumps(value)}"]).model_dump()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("options[own].rent.usd_per_gpu_hour", -1, "options[1].rent.usd_per_gpu_hour: Input should be greater than 0"),
        (
            "options[own].perf.chunk_tokens",
            32,
            "options[1].perf.chunk_tokens: Input should be greater than or equal to 64",
        ),
        ("workload.classes[0].name", "x", ""),
        ("workload.nonsense", 1, "--set: workload.nonsense: no field 'nonsense'"),
        ("options[nobody].gpu", "l4", "--set: options[nobody].gpu: no item named 'nobody' at options.nobody"),
        ("options[own].gpu", "h100", "options[1].gpu: unknown GPU 'h100'"),
    ],
)
def test_a_typed_variant_refuses_what_the_file_would(tmp_path: Path, field: str, value: object, message: str) -> None:
    path = write(tmp_path, options=[*BASE["options"], RESERVED])
    scenario = load_scenario(path)
    if not message:  # renaming a class is a valid change
        assert vary(scenario, [(field, value)]).workload.classes[0].name == "x"
        return
    with pytest.raises(InputError) as e:
        vary(scenario, [(field, value)], str(path))
    assert message in str(e.value), str(e.value)
    assert vary(scenario, []) == scenario  # the scenario itself is untouched
