"""An edited scenario is written back as its author wrote it, with only the changed values rewritten."""

from __future__ import annotations

import difflib

import pytest

from simulator.scenario import load_scenario, scenario_from_text
from simulator.scenario.roundtrip import edited_yaml

from helpers import SCENARIOS


def _diff(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_an_unedited_scenario_is_written_back_byte_for_byte(path) -> None:
    text = path.read_text()
    scenario = load_scenario(path)
    assert edited_yaml(text, scenario, scenario) == text


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_a_new_volume_adds_one_line(path) -> None:
    text = path.read_text()
    base = load_scenario(path)
    edited = base.model_copy(update={"workload": base.workload.model_copy(update={"scale": 3.0})})
    assert _diff(text, edited_yaml(text, base, edited)) == ["+  scale: 3"]


TEXT = """\
# a pilot
name: pilot   # the team's name for it
workload:
  classes:
    - name: chat
      requests_per_day: 400000
      input_tokens: 1000          # a bare count: fixed
      output_tokens: {kind: lognormal, mean: 200, p95: 600}
      latency: conversational
options:
  - {name: api, kind: api, provider: openai, model: gpt-4o}
economics: {horizon_months: 12, price_date: 2026-11-01}
"""


def test_shorthands_are_replaced_whole_only_where_they_changed() -> None:
    base = scenario_from_text(TEXT, "pilot.yaml")
    chat = base.workload.classes[0]
    edited_chat = chat.model_copy(
        update={
            "input_tokens": chat.input_tokens.scaled(1.5),
            "latency": chat.latency.model_copy(update={"ttft_ms": 800.0}),
        }
    )
    edited = base.model_copy(update={"workload": base.workload.model_copy(update={"classes": [edited_chat]})})
    written = edited_yaml(TEXT, base, edited)
    assert _diff(TEXT, written) == [
        "-      input_tokens: 1000          # a bare count: fixed",
        "+      input_tokens:               # a bare count: fixed",
        "+        kind: fixed",
        "+        tokens: 1500",
        "-      latency: conversational",
        "+      latency:",
        "+        ttft_ms: 800",
        "+        tpot_ms: 40",
        "+        e2e_ms: 15000",
    ]
    assert scenario_from_text(written, "pilot.yaml").model_dump() == edited.model_dump()
