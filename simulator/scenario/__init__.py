"""The scenario: one strict pydantic model per YAML section, and `load_scenario`, the only way in.

Units live in field names. Catalogue references (GPUs, open models, API models) are checked after
the schema, so that a typo gets a 'did you mean' instead of a silent default.
"""

from simulator.scenario.base import SENSITIVITY_LEVELS, Sensitivity
from simulator.scenario.load import json_schema, load_scenario, scenario_from_dict, scenario_from_text
from simulator.scenario.model import (
    DEFAULT_REQUIREMENTS,
    ApiPriceOverride,
    Criterion,
    Economics,
    Privacy,
    Requirement,
    Scenario,
    Simulation,
    UncertainInput,
)
from simulator.scenario.options import (
    ApiOption,
    BuyTerms,
    HybridOption,
    Operations,
    Option,
    PerfSettings,
    RentTerms,
    SelfHostOption,
    api_terms,
    site_of,
)
from simulator.scenario.overrides import apply_override, parse_set, vary
from simulator.scenario.traffic import (
    Z_95,
    Burst,
    FixedTokens,
    HistogramTokens,
    LatencyTarget,
    LognormalTokens,
    RequestClass,
    TokenDistribution,
    Workload,
)

__all__ = [
    "DEFAULT_REQUIREMENTS",
    "SENSITIVITY_LEVELS",
    "Z_95",
    "ApiOption",
    "ApiPriceOverride",
    "Burst",
    "BuyTerms",
    "Criterion",
    "Economics",
    "FixedTokens",
    "HistogramTokens",
    "HybridOption",
    "LatencyTarget",
    "LognormalTokens",
    "Operations",
    "Option",
    "PerfSettings",
    "Privacy",
    "RentTerms",
    "RequestClass",
    "Requirement",
    "Scenario",
    "SelfHostOption",
    "Sensitivity",
    "Simulation",
    "TokenDistribution",
    "UncertainInput",
    "Workload",
    "api_terms",
    "apply_override",
    "json_schema",
    "load_scenario",
    "parse_set",
    "scenario_from_dict",
    "scenario_from_text",
    "site_of",
    "vary",
]
