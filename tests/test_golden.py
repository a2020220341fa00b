"""Each bundled scenario's answer, against a reviewed golden file (regenerate: python tests/golden_summary.py)."""

from __future__ import annotations

import json

import pytest

from golden_summary import GOLDEN, summary
from helpers import SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_bundled_scenario_matches_golden(path) -> None:
    expected = json.loads((GOLDEN / f"{path.stem}.json").read_text())
    _close(summary(path), expected)


def _close(got, expected, where: str = "") -> None:
    """Equal structure; floats to 1e-9 relative (summing in another order may move the last bits)."""
    if isinstance(expected, dict):
        assert got.keys() == expected.keys(), where
        for k in expected:
            _close(got[k], expected[k], f"{where}.{k}")
    elif isinstance(expected, float):
        assert got == pytest.approx(expected, rel=1e-9), (where, got, expected)
    else:
        assert got == expected, (where, got, expected)
