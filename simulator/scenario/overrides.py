"""Setting fields by dotted path: `--set a.b[0].c=value` on a file's data before it is validated, and
`vary` on a validated scenario (sweeps, break-even searches, uncertainty checks), which validates
only the sections on the path instead of parsing the whole scenario again."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from simulator.errors import InputError, suggest
from simulator.files import load_yaml
from simulator.scenario.checks import check_references, resolve_measured
from simulator.scenario.model import Scenario
from simulator.scenario.validation import all_field_names, from_validation_error

Path_ = list[str | int]
# What `check_references` looks at: API prices, and these fields of an option (catalogue names,
# terms, a purchase price the catalogue may lack, a measured file). A change elsewhere (a price, a
# share, a count) cannot break a reference, so only these send a variant through the checks again.
_REFERENCE_FIELDS = {"model", "gpu", "provider", "terms", "zero_retention", "region", "procurement", "buy"}
_REFERENCE_FIELDS |= {"gpu_purchase_usd", "perf", "measured"}


def _names_references(path: Path_) -> bool:
    if path[0] == "api_prices":
        return True
    if path[0] != "options":
        return False
    fields = [p for p in path[2:] if isinstance(p, str)]
    return not fields or any(f in _REFERENCE_FIELDS for f in fields)


def parse_path(key: str) -> Path_:
    """`options[gpt-4.1-mini].rent.tier` as ['options', 'gpt-4.1-mini', 'rent', 'tier']; digits are indexes."""
    # `[...]` holds an index or a name that may contain dots: options[gpt-4.1-mini].model
    parts = [bracketed or dotted for dotted, bracketed in re.findall(r"([^.\[\]]+)|\[([^\]]+)\]", key)]
    return [int(p) if p.isdigit() else p for p in parts]


def parse_set(assignment: str) -> tuple[Path_, Any]:
    """Split `a.b[0].c=value` into a path and a YAML-typed value."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key:
        raise InputError("--set", assignment, "expected KEY=VALUE", "write e.g. --set workload.scale=2")
    return parse_path(key), load_yaml(raw, f"--set {key}") if raw else ""


def _item_index(items: list[Any], part: str | int, label: str, where: str) -> int:
    """A list item by position, or by its `name`."""
    if isinstance(part, str):
        names = [item.get("name") if isinstance(item, dict) else getattr(item, "name", None) for item in items]
        if part not in names:
            raise InputError(
                "--set", label, f"no item named {part!r} at {where}", suggest(part, [n or "" for n in names])
            )
        return names.index(part)
    if not 0 <= part < len(items):
        raise InputError("--set", label, f"index {part} is out of range at {where}", f"{len(items)} items")
    return part


def apply_override(data: dict[str, Any], path: Path_, value: Any, label: str) -> None:
    """Set `value` at `path` in a scenario file's data; lists are indexed by position or by an item's `name`."""
    node: Any = data
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        where = ".".join(str(p) for p in path[: depth + 1])
        if isinstance(node, list):
            part = _item_index(node, part, label, where)
        elif isinstance(node, dict):
            if not last and part not in node:
                if part in all_field_names():
                    node[part] = {}
                else:
                    raise InputError("--set", label, f"no field {part!r}", suggest(str(part), all_field_names()))
        else:
            raise InputError("--set", label, f"{where} is a value, not a section", "shorten the path")
        if last:
            node[part] = value
        else:
            node = node[part]


def _nested(path: Path_, value: Any) -> Any:
    """`value` wrapped in mappings for the rest of a path that has no section yet."""
    for part in reversed(path):
        value = {part: value}
    return value


def _set(node: Any, full: Path_, depth: int, value: Any, label: str) -> Any:
    """A copy of `node` (found at `full[:depth]`) with the rest of `full` set to `value`; each section on
    the way is validated as it is rebuilt, so its own rules (and the scenario's) run again."""
    part, rest = full[depth], full[depth + 1 :]
    where = ".".join(str(p) for p in full[: depth + 1])

    def inner(child: Any) -> Any:
        return _set(child, full, depth + 1, value, label) if rest and child is not None else _nested(rest, value)

    if isinstance(node, list):
        k = _item_index(node, part, label, where)
        full = [*full[:depth], k, *full[depth + 1 :]]  # errors name the item by position, as a file's do
        return [inner(item) if i == k else item for i, item in enumerate(node)]
    if isinstance(node, dict):
        return {**node, part: inner(node.get(part))}
    if not isinstance(node, BaseModel):
        raise InputError("--set", label, f"{where} is a value, not a section", "shorten the path")
    if part not in type(node).model_fields:
        raise InputError("--set", label, f"no field {part!r}", suggest(str(part), all_field_names()))
    copy = node.model_copy()
    try:
        type(node).__pydantic_validator__.validate_assignment(copy, str(part), inner(getattr(node, str(part))))
    except ValidationError as e:
        raise from_validation_error("", e, _written(full[:depth])) from None
    return copy


def _written(path: Path_) -> str:
    """A path as the error messages write fields: `options[2].perf`."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def vary(scenario: Scenario, assignments: Sequence[tuple[str, Any]], source: str = "") -> Scenario:
    """`scenario` with each dotted field set to its value, validated as `--set` would be."""
    checked = False
    for key, value in assignments:
        path = parse_path(key)
        try:
            scenario = _set(scenario, path, 0, value, key)
        except InputError as e:
            raise e.at(source) from None
        checked = checked or _names_references(path)
    if checked:
        try:
            check_references(scenario)
            scenario = resolve_measured(scenario, Path.cwd())  # paths are absolute once loaded
        except InputError as e:
            raise e.at(source) from None
    return scenario
