"""The Python API: the README's example runs as written, and the API gives the CLI's answer."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from simulator import api
from simulator.errors import InputError

from helpers import ROOT

SUPPORT = ROOT / "scenarios" / "support-assistant.yaml"


def _readme_example() -> str:
    section = (ROOT / "README.md").read_text().split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match
    return match.group(1)


def test_the_readme_example_runs_as_written(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    scope: dict[str, object] = {}
    exec(compile(_readme_example(), "README.md", "exec"), scope)
    result, options, monthly, fig, grid = (scope[k] for k in ("result", "options", "monthly", "fig", "grid"))
    summary = result.summary  # type: ignore[attr-defined]
    assert summary.workload_scale == 2
    assert len(options) == 6 and options["recommended"].sum() == 1  # type: ignore[index, union-attr]
    assert options.loc[options["recommended"], "option"].item() == summary.cheapest_compliant_option  # type: ignore[union-attr, index]
    assert monthly.shape == (36, 7)  # type: ignore[union-attr]
    assert monthly["gpt-4.1-mini"].sum() == pytest.approx(  # type: ignore[index]
        next(o.total_cost_usd for o in summary.options if o.name == "gpt-4.1-mini")
    )
    assert {t.name for t in fig.data} >= {"gpt-4.1-mini", "llama-70b-owned"}  # type: ignore[attr-defined]
    assert list(grid["workload.scale"]) == [0.5, 1, 2, 4]  # type: ignore[index]
    out = capsys.readouterr().out
    assert out.startswith(f"{summary.cheapest_compliant_option} ")


def test_the_api_and_the_command_line_give_one_answer() -> None:
    """No second path: `run --json` and `api.run` agree to the last digit."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "run",
            str(SUPPORT),
            "--engine",
            "fluid",
            "--set",
            "workload.scale=2",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "160"},
    )
    ran = api.run(SUPPORT, engine="fluid", set=["workload.scale=2"])
    assert json.loads(done.stdout) == json.loads(ran.summary.model_dump_json())


def test_a_scenario_loads_alike_from_a_path_text_and_a_dict() -> None:
    import yaml

    text = SUPPORT.read_text()
    from_path = api.load(SUPPORT)
    from_dict = api.load(yaml.safe_load(text))
    assert api.load(text).model_dump(exclude={"options"}) == from_path.model_dump(exclude={"options"})
    assert from_dict.model_dump(exclude={"options"}) == from_path.model_dump(exclude={"options"})
    doubled = api.load(from_path, set=["workload.scale=2", "economics.horizon_months=24"])
    assert (doubled.workload.scale, doubled.economics.horizon_months) == (2, 24)
    assert from_path.workload.scale == 1  # the scenario given is not changed


def test_views_and_errors() -> None:
    ran = api.run(SUPPORT, engine="fluid")
    ledger = ran.to_pandas("ledger")
    cash = ledger[ledger["view"] == "cash"].groupby("option")["usd"].sum()
    for o in ran.summary.options:
        assert cash[o.name] == pytest.approx(o.total_cost_usd)
    assert set(ran.to_pandas("privacy")["option"]) == {o.name for o in ran.summary.options}
    assert ran.to_pandas("latency").empty  # latency comes from the des engine
    assert len(ran.to_pandas("break_even")) == len(ran.summary.break_even)
    with pytest.raises(ValueError, match="unknown view 'nope'"):
        ran.to_pandas("nope")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"workload\.nonsense"):
        api.run(SUPPORT, set=["workload.nonsense=1"])
