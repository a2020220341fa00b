"""Hostile inputs through the real CLI: every bundled scenario, and every benchmark result the tests
hold, mutated at random one field at a time.

Whatever the mutation, a run ends in exit 0 with a JSON document of finite numbers, or in exit 2 with
one line on stderr; an import ends in a measured file that loads back, or in one line and no file.
Never a traceback, an internal error or a silent null. Seeded: the same cases run every time.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simulator.cli import main

from helpers import SCENARIOS

FUZZ_CASES = 300
IMPORT_CASES = 200
HOSTILE = st.one_of(
    st.sampled_from([0, -1, 1, 0.5, 1e308, -1e308, 1e-300, 10**30, "", "x", None, True, [], {}, [1, 2]]),
    st.sampled_from([math.inf, -math.inf, math.nan]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.text(max_size=12),
)


def seeded(cases: int) -> Any:
    """The same `cases` cases every run, however slow each is (each runs the real CLI)."""
    return settings(
        max_examples=cases,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every leaf and every container of a YAML document."""
    found = [path] if path else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _leaves(v, (*path, i))
    return found


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    if value is _DELETE:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


_DELETE = object()


def _documents() -> dict[str, Any]:
    """The bundled scenarios, with measured-file paths made absolute so that a copy anywhere finds them."""
    docs = {}
    for path in SCENARIOS:
        doc = yaml.safe_load(path.read_text())
        for option in doc.get("options", []):
            measured = option.get("perf", {}).get("measured")
            if measured:
                option["perf"]["measured"] = str((path.parent / measured).resolve())
        docs[path.stem] = doc
    return docs


DOCUMENTS = _documents()


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def run_fluid(doc: Any, name: str, folder: Path, capsys: Any) -> tuple[int, str, str, Path]:
    """Write `doc` as a scenario file and run it through the CLI: (exit code, stdout, stderr, file)."""
    scenario = folder / f"{name}.yaml"
    scenario.write_text(yaml.safe_dump(doc, allow_unicode=True))
    capsys.readouterr()
    code = main(["run", str(scenario), "--engine", "fluid", "--json"])
    out, err = capsys.readouterr()
    return code, out, err, scenario


@seeded(FUZZ_CASES)
@given(data=st.data())
def test_a_mutated_scenario_runs_to_finite_numbers_or_one_line(data: st.DataObject, tmp_path: Path, capsys) -> None:
    name = data.draw(st.sampled_from(sorted(DOCUMENTS)))
    doc = copy.deepcopy(DOCUMENTS[name])
    path = data.draw(st.sampled_from(_leaves(doc)))
    value = data.draw(st.one_of(HOSTILE, st.just(_DELETE)))
    _set(doc, path, value)
    code, out, err, scenario = run_fluid(doc, name, tmp_path, capsys)
    where = f"{name}: {path} = {value!r}"
    event(f"exit {code}")  # pytest --hypothesis-show-statistics counts the outcomes
    assert code in (0, 2), (where, code, err)
    if code == 0:
        assert _finite(json.loads(out)), where
    else:
        assert err.count("\n") == 1 and "Traceback" not in err, (where, err)
        assert err.startswith(str(scenario)), (where, err)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_bundled_scenario_survives_the_copy_the_fuzz_makes(name: str, tmp_path: Path, capsys) -> None:
    # The unmutated copy runs: the mutations, not the copying, are what the fuzz judges.
    code, out, _, _ = run_fluid(DOCUMENTS[name], name, tmp_path, capsys)
    assert code == 0 and _finite(json.loads(out))


FIXTURES = Path(__file__).parent / "fixtures"
RESULTS = {
    p.name: p.read_text()
    for p in sorted(FIXTURES.iterdir())
    if p.suffix in (".json", ".jsonl") and not p.name.startswith("README")
}


def _mutated_json(text: str, data: st.DataObject) -> str:
    """One field of a JSON (or JSON lines) result changed to a hostile value, written as a tool would not."""
    lines = text.splitlines() if not text.lstrip().startswith(("{", "[")) or "\n{" in text.strip() else [text]
    docs = [json.loads(line) for line in lines if line.strip()]
    k = data.draw(st.integers(0, len(docs) - 1))
    paths = _leaves(docs[k])
    if paths:
        path = data.draw(st.sampled_from(paths))
        _set(docs[k], path, data.draw(st.one_of(HOSTILE, st.just(_DELETE))))
    # json writes inf and nan as Infinity and NaN, as careless tools do; 1e999 reads back as inf.
    return "\n".join(json.dumps(d) for d in docs)


@seeded(IMPORT_CASES)
@given(data=st.data())
def test_a_mutated_benchmark_result_imports_to_a_file_that_loads_or_one_line(
    data: st.DataObject, tmp_path: Path, capsys
) -> None:
    from simulator.perf import measured as mf

    name = data.draw(st.sampled_from(sorted(RESULTS)))
    source = tmp_path / name
    source.write_text(_mutated_json(RESULTS[name], data))
    out = tmp_path / "out.json"
    out.unlink(missing_ok=True)
    capsys.readouterr()
    code = main(["probe", "import", str(source), "--out", str(out)])
    _, err = capsys.readouterr()
    event(f"exit {code}")
    assert code in (0, 2), (name, code, err)
    if code == 0:
        mf.load(out)  # what was written loads back
    else:
        assert err.count("\n") == 1 and "Traceback" not in err, (name, err)
        assert not out.exists()


SCHEMA_CASES = 200
RANGE_KEYS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}


def _resolve(schema: dict[str, Any], node: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    """The schema nodes `value` is checked against: references followed, unions opened (a discriminated
    one by the value's tag)."""
    if "$ref" in node:
        return _resolve(schema, schema["$defs"][node["$ref"].split("/")[-1]], value)
    if "discriminator" in node and isinstance(value, dict):
        ref = node["discriminator"]["mapping"].get(value.get(node["discriminator"]["propertyName"]))
        return _resolve(schema, {"$ref": ref}, value) if ref else []
    for union in ("anyOf", "oneOf", "allOf"):
        if union in node:
            return [n for part in node[union] for n in _resolve(schema, part, value)]
    return [node]


def _ranged_leaves(schema: dict[str, Any], doc: Any) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(path, schema node) of every number in `doc` whose schema states a range."""
    found: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def walk(value: Any, nodes: list[dict[str, Any]], path: tuple[Any, ...]) -> None:
        for node in nodes:
            if isinstance(value, dict):
                for k, v in value.items():
                    sub = node.get("properties", {}).get(k)
                    if sub is not None:
                        walk(v, _resolve(schema, sub, v), (*path, k))
            elif isinstance(value, list) and "items" in node:
                for i, v in enumerate(value):
                    walk(v, _resolve(schema, node["items"], v), (*path, i))
            elif isinstance(value, int | float) and not isinstance(value, bool) and RANGE_KEYS & node.keys():
                found.append((path, node))

    walk(doc, [schema], ())
    return found


def _edges(node: dict[str, Any]) -> list[tuple[float, bool]]:
    """Values at and just beyond the schema's stated range, each with whether the schema admits it."""
    integer = node.get("type") == "integer"
    step = 1 if integer else None
    edges: list[tuple[float, bool]] = []
    for key, inside in (("minimum", True), ("maximum", True), ("exclusiveMinimum", False), ("exclusiveMaximum", False)):
        if key in node:
            bound = node[key]
            edges.append((bound, inside))
            outward = -1 if "inimum" in key else 1
            beyond = bound + outward * (step or max(abs(bound) * 1e-6, 1e-9))
            edges.append((beyond, False))
    return edges


@seeded(SCHEMA_CASES)
@given(data=st.data())
def test_the_schema_s_stated_ranges_are_exactly_what_a_run_accepts(data: st.DataObject, tmp_path: Path, capsys) -> None:
    # Boundary values from the JSON Schema: a value the schema admits validates (and a run of it ends
    # in exit 0 with finite numbers, or in one line for a reason other than the range); one the schema
    # refuses is refused in one line naming the field.
    from simulator.scenario import json_schema

    schema = json_schema()
    name = data.draw(st.sampled_from(sorted(DOCUMENTS)))
    doc = copy.deepcopy(DOCUMENTS[name])
    path, node = data.draw(st.sampled_from(_ranged_leaves(schema, doc)))
    value, admitted = data.draw(st.sampled_from(_edges(node)))
    if node.get("type") == "integer":
        value = int(value)
    _set(doc, path, value)
    code, out, err, _ = run_fluid(doc, name, tmp_path, capsys)
    field = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")
    event(f"{'admitted' if admitted else 'refused'}: exit {code}")
    assert code in (0, 2), (name, field, value, err)
    if code == 0:
        assert admitted and _finite(json.loads(out)), (name, field, value)
    else:
        assert err.count("\n") == 1 and "Traceback" not in err, (name, field, value, err)
        if not admitted:
            assert f"{field}: Input should be" in err, (name, field, value, err)
