"""`load_scenario`, the only way in: read, apply `--set` overrides, validate, check the catalogues."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulator.errors import InputError
from simulator.files import load_yaml, read_text
from simulator.scenario.checks import check_references, resolve_measured
from simulator.scenario.model import Scenario
from simulator.scenario.overrides import apply_override, parse_set, vary
from simulator.scenario.validation import from_validation_error


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, override (`a.b.c=value`), validate and check a scenario file; raise `InputError`."""
    path = Path(path)
    return scenario_from_text(read_text(path), str(path), overrides)


def scenario_from_text(text: str, source: str, overrides: Sequence[str] = ()) -> Scenario:
    """A scenario from YAML text; `source` names it in errors and anchors relative measured-file paths."""
    data = load_yaml(text, source)
    if not isinstance(data, dict):
        raise InputError(source, "(top level)", "expected a mapping of sections", "start with `name:` and `workload:`")
    for assignment in overrides:
        keys, value = parse_set(assignment)
        apply_override(data, keys, value, assignment.partition("=")[0])
    scenario = scenario_from_dict(data, source)
    _check_uncertainty(scenario, source)
    return scenario


def _check_uncertainty(scenario: Scenario, source: str) -> None:
    """Each uncertain field must be a field that takes a number: try its central value."""
    for i, u in enumerate(scenario.uncertainty):
        try:
            vary(scenario, [(u.field, u.central())])
        except InputError as e:
            raise InputError(
                source, f"uncertainty[{i}].field", f"{u.field}: {e.problem}", "name a numeric field, as for --set"
            ) from None


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        raise from_validation_error(source, e) from None
    try:
        check_references(scenario)
        scenario = resolve_measured(scenario, Path(source).parent)
    except InputError as e:
        raise e.at(source) from None
    return scenario


def json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "rent-or-own scenario"
    return schema
