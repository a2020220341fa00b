"""An edited scenario written back as its author wrote it: comments, key order, presets and number
formats kept, and only the values that changed rewritten (ruamel.yaml's round trip)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.util import load_yaml_guess_indent

from simulator.scenario.model import Scenario

Path = tuple[str | int, ...]


def changes(before: Any, after: Any, path: Path = ()) -> list[tuple[Path, Any]]:
    """Where two dumped scenarios differ, as (path, new value), descending into maps and same-length lists."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [c for key in after for c in changes(before.get(key), after[key], (*path, key))]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [c for k, (b, a) in enumerate(zip(before, after, strict=True)) for c in changes(b, a, (*path, k))]
    return [] if before == after else [(path, after)]


def _plain(value: Any) -> Any:
    """A value as a person writes it: 3 rather than 3.0, and no field left at its default of null."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _subtree(data: Any, path: Path) -> Any:
    for key in path:
        data = data[key]
    return data


def edited_yaml(original: str, base: Scenario, edited: Scenario) -> str:
    """`original` (the text `base` was loaded from) with `edited`'s changes written into it."""
    _, indent, offset = load_yaml_guess_indent(original)  # the author's indentation, kept
    yaml = YAML()  # round trip: comments, order and styles survive
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a line the author kept on one
    # ruamel guesses a sequence's indent and its dash's offset; maps indent by the rest.
    yaml.indent(mapping=indent - offset if offset < indent else indent, sequence=indent, offset=offset)
    doc = yaml.load(original)
    after = edited.model_dump(mode="json")
    for path, value in changes(base.model_dump(mode="json"), after):
        node: Any = doc
        for depth, key in enumerate(path[:-1]):
            present = isinstance(node, list) or key in node
            child = node[key] if present else None
            if child is None:  # a section the author left to its defaults
                child = node[key] = CommentedMap()
            elif not isinstance(child, dict | list):  # a shorthand (a preset name, a bare count): replaced whole
                node[key] = _plain(_subtree(after, path[: depth + 1]))
                break
            node = child
        else:
            node[path[-1]] = _plain(value)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()
