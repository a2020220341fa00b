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

from simulator import sweep, units
from simulator.cli import main
from simulator.errors import InputError
from simulator.scenario import load_scenario

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
    data, source = sweep.read_scenario(path)
    mc = sweep.monte_carlo(load_scenario(path), data, source, 2000, sweep.SerialExecutor())
    at_one = API_BILL_PER_MONTH * 12
    for p, got in ((10, mc.p10_total_usd), (50, mc.p50_total_usd), (90, mc.p90_total_usd)):
        expected = at_one * math.exp(stats.norm.ppf(p / 100) * 0.4)
        assert got["api"] == pytest.approx(expected, rel=0.04), (p, got["api"], expected)
    assert mc.prob_cheapest_by_month["api"] == [1.0] * 12


@pytest.mark.slow
def test_serial_processes_and_dask_give_identical_results() -> None:
    path = ROOT / "scenarios" / "support-assistant.yaml"
    data, source = sweep.read_scenario(path)
    scenario = load_scenario(path)
    results = []
    for kind in ("serial", "process", "dask"):
        executor, close = sweep.make_executor(kind, workers=2)
        try:
            results.append(sweep.monte_carlo(scenario, data, source, 60, executor).model_dump())
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
    data, source = sweep.read_scenario(path)
    points = sweep.grid(data, source, [sweep.parse_param("workload.scale=0.5:2:lin:4")], sweep.SerialExecutor())
    assert [p.values["workload.scale"] for p in points] == [0.5, 1.0, 1.5, 2.0]
    for p in points:
        assert p.total_cost_usd["api"] == pytest.approx(API_BILL_PER_MONTH * 12 * p.values["workload.scale"])
    # One reserved GPU costs 12 x 730.5 h x 1.69 USD a year: the API is cheaper below that volume.
    gpu_year = 12 * units.HOURS_PER_MONTH * 1.69
    for p in points:
        expected = "api" if API_BILL_PER_MONTH * 12 * p.values["workload.scale"] < gpu_year else "own"
        assert p.cheapest_option == expected, p


def test_tornado_ranks_by_swing(tmp_path: Path) -> None:
    data, source = sweep.read_scenario(write(tmp_path))
    base, bars = sweep.tornado(
        data,
        source,
        [("economics.api_price_decline_per_year", 0.0, 0.1), ("workload.scale", 0.5, 2.0)],
        sweep.SerialExecutor(),
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
