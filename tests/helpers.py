from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from simulator.scenario import Scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

BASE: dict[str, Any] = {
    "name": "unit",
    "workload": {
        "classes": [
            {"name": "chat", "requests_per_day": 10_000, "input_tokens": 1000, "output_tokens": 200, "latency": "batch"}
        ],
    },
    "options": [{"name": "api", "kind": "api", "provider": "openai", "model": "gpt-4o"}],
    "economics": {"horizon_months": 12, "price_date": "2026-11-01", "discount_rate_per_year": 0.0},
    # Unit tests of pricing, costs and analysis use the instant engine; DES tests ask for "des".
    "simulation": {"engine": "fluid"},
}


def make(**changes: Any) -> Scenario:
    """A small scenario: BASE with top-level sections replaced or deep-merged."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return scenario_from_dict(data)
