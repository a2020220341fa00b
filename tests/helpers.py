from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from simulator.scenario import Scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
# The environment variables a command reads its language from, as gettext does.
LANGUAGE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

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


# A reserved H100 running an 8B model with no staff or set-up cost: the plain self-hosted option.
RESERVED: dict[str, Any] = {
    "name": "own",
    "kind": "self_host",
    "model": "llama-3.1-8b-instruct",
    "gpu": "h100-sxm",
    "gpus_per_replica": 1,
    "procurement": "rent",
    "rent": {"tier": "reserved_1y"},
    "operations": {"staff_fte": 0, "setup_engineer_months": 0},
}
# Regulated records beside a public FAQ: one class a hybrid must pin in-house, one it may send out.
SENSITIVE_CLASSES: list[dict[str, Any]] = [
    {
        "name": "records",
        "requests_per_day": 5000,
        "input_tokens": 2000,
        "output_tokens": 300,
        "sensitivity": "regulated",
        "latency": "interactive",
    },
    {
        "name": "faq",
        "requests_per_day": 20000,
        "input_tokens": 500,
        "output_tokens": 100,
        "sensitivity": "public",
        "latency": "interactive",
    },
]


def tokens_of(text: str) -> float:
    """A volume as the dashboard writes it, "78.2 billion tokens a month", as a count."""
    value, word = text.split()[:2]
    scale = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}.get(word, 1.0)
    return float(value.replace(",", "")) * scale
