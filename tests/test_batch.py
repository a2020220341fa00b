"""Batch runs: many scenarios in parallel processes, one broken among them."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from simulator.cli import main

from helpers import ROOT


def test_batch_keeps_going_past_a_broken_scenario(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        re.sub(r"requests_per_day: \d+", "requests_per_day: -3", (ROOT / "scenarios" / "prototype.yaml").read_text())
    )
    good = [str(ROOT / "scenarios" / "prototype.yaml"), str(ROOT / "scenarios" / "regulated-rag.yaml")]
    out = tmp_path / "out"
    code = main(["run", good[0], str(broken), good[1], "--engine", "fluid", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip().splitlines() == [
        f"{broken}: workload.classes[0].requests_per_day: Input should be greater than 0, got -3 (change the value)"
    ]
    assert "failed" in captured.out and "regulated-rag" in captured.out
    for name in ("prototype", "regulated-rag"):
        summary = json.loads((out / name / "summary.json").read_text())
        with (out / name / "ledger.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert {r["view"] for r in rows} == {"cash", "amortised"}
        for option in summary["options"]:
            cash = sum(float(r["usd"]) for r in rows if r["option"] == option["name"] and r["view"] == "cash")
            assert cash == pytest.approx(option["total_cost_usd"], rel=1e-9, abs=1e-6), option["name"]
            months = {int(r["month"]) for r in rows if r["option"] == option["name"]}
            assert months == set(range(1, summary["horizon_months"] + 1))
    assert not (out / "broken").exists()


def test_batch_results_match_single_runs(tmp_path: Path, capsys) -> None:
    path = str(ROOT / "scenarios" / "prototype.yaml")
    assert main(["run", path, "--engine", "fluid", "--json"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert main(["run", path, "--engine", "fluid", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "prototype" / "summary.json").read_text()) == single


def test_batch_json_is_one_document_naming_each_outcome(tmp_path: Path, capsys) -> None:
    path = str(ROOT / "scenarios" / "prototype.yaml")
    assert main(["run", path, "--engine", "fluid", "--json"]) == 0
    single = json.loads(capsys.readouterr().out)
    missing = str(tmp_path / "missing.yaml")
    code = main(["run", path, missing, "--engine", "fluid", "--out", str(tmp_path), "--json"])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # nothing but the document on stdout
    error = f"{missing}: cannot read the file: No such file or directory (check the path)"
    assert code == 2 and captured.err.strip() == error  # the progress bar, gone, leaves a blank line
    ok, failed = doc["scenarios"]
    assert ok["path"] == path and ok["error"] is None and ok["folder"] == str(tmp_path / "prototype")
    assert ok["cheapest_option"] == single["cheapest_option"]
    cheapest = next(o for o in single["options"] if o["name"] == single["cheapest_option"])
    assert ok["cheapest_total_usd"] == cheapest["total_cost_usd"]
    assert failed["path"] == missing and failed["error"] == error and failed["folder"] is None


def test_scenarios_with_the_same_stem_never_share_a_folder(tmp_path: Path, capsys) -> None:
    # Two files named same.yaml in different folders, and one whose stem is '.': every result is
    # kept, each in a folder of its own under --out, and the JSON names each folder.
    text = (ROOT / "scenarios" / "prototype.yaml").read_text()
    paths = []
    for sub, name in (("a", "same.yaml"), ("b", "same.yaml"), ("c", "..yaml")):
        (tmp_path / sub).mkdir()
        doubled = re.sub(r"requests_per_day: (\d+)", lambda m: f"requests_per_day: {2 * int(m.group(1))}", text)
        (tmp_path / sub / name).write_text(doubled if sub == "b" else text)
        paths.append(str(tmp_path / sub / name))
    out = tmp_path / "out"
    assert main(["run", *paths, "--engine", "fluid", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    folders = [Path(s["folder"]) for s in doc["scenarios"]]
    assert [f.name for f in folders] == ["same", "same-2", "scenario"]
    assert all(f.parent == out for f in folders) and sorted(p.name for p in out.iterdir()) == [
        "same",
        "same-2",
        "scenario",
    ]
    tokens = [json.loads((f / "summary.json").read_text())["tokens_per_month"] for f in folders]
    assert tokens[1] == pytest.approx(2 * tokens[0], rel=1e-9)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "OUT", "--format", "bogus"], "argument --format: unknown format 'bogus'"),
        (["--out", "OUT", "--format", ","], "argument --format: no format given"),
    ],
)
def test_bad_formats_stop_a_batch_before_anything_is_written(tmp_path: Path, capsys, argv, message) -> None:
    out = tmp_path / "out"
    argv = [str(out) if a == "OUT" else a for a in argv]
    with pytest.raises(SystemExit) as stopped:
        main(["run", str(ROOT / "scenarios" / "prototype.yaml"), *argv])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and message in err and err.count("\n") == 1
    assert not out.exists()
