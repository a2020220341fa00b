"""A pydantic validation error as the one line a user reads: `file: field: problem (fix)`."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import ValidationError

from simulator.errors import InputError, suggest
from simulator.scenario.base import Section

_UNION_TAGS = {"fixed", "lognormal", "histogram", "api", "self_host", "hybrid"}


def field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS or "[" in part:
            continue  # discriminator tags and validator wrappers are not fields
        else:
            out += ("." if out else "") + part
    return out


@cache
def all_field_names() -> frozenset[str]:
    """Every field name of every section (sections are all defined once the package is imported)."""
    names: set[str] = set()
    for model in Section.__subclasses__():
        names.update(model.model_fields)
    return frozenset(names)


def _fix_for(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        return "remove it, or " + suggest(str(error["loc"][-1]), all_field_names())
    if kind == "missing":
        return "add it"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return "change the value"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected', '')}"
    if kind == "union_tag_invalid":
        return f"use kind: {ctx.get('expected_tags', '')}"
    if kind.endswith("_parsing") or kind.endswith("_type"):
        return "write a value of that type"
    return "see `rent-or-own schema`"


def from_validation_error(source: str, err: ValidationError, prefix: str = "") -> InputError:
    """The first error, its field written as in YAML; `prefix` is the path of the section validated."""
    first = err.errors(include_url=False)[0]
    inner = field_path(first["loc"])
    field = ".".join(p for p in (prefix, inner) if p).replace(".[", "[") or "(top level)"
    if first["type"] == "value_error":
        # Our validators name the value themselves and give the fix after "; ".
        problem, _, fix = first["msg"].removeprefix("Value error, ").partition("; ")
        return InputError(source, field, problem, fix)
    problem = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
    if first["type"] not in ("missing", "extra_forbidden") and not isinstance(first.get("input"), dict | list):
        problem += f", got {first['input']!r}"
    return InputError(source, field, problem, _fix_for(first))
