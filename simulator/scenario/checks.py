"""Checks that need the catalogues or the disk: named GPUs, models, API prices and terms exist, and
measured files load, fit and stand for their option."""

from __future__ import annotations

from pathlib import Path

from simulator import catalog
from simulator.errors import InputError, suggest
from simulator.perf.fit import load_fitted
from simulator.scenario.model import Scenario
from simulator.scenario.options import ApiOption, SelfHostOption, api_terms


def check_references(scenario: Scenario) -> None:
    # genai-prices takes a sixth of a second to load: only commands that read a scenario pay for it.
    from simulator.catalog.api_prices import check_api_model

    scenario.currency()  # a currency the rates table has, on the price date
    for i, o in enumerate(scenario.options):
        if isinstance(o, SelfHostOption):
            catalog.model(o.model, f"options[{i}].model")
            gpu = catalog.gpu(o.gpu, f"options[{i}].gpu")
            if (o.gpus_per_replica or 1) > 1 and gpu.interconnect is None:
                raise InputError(
                    "",
                    f"options[{i}].gpus_per_replica",
                    f"{gpu.name} has no GPU-to-GPU link for a tensor-parallel replica",
                    "set it to 1",
                )
            if o.procurement == "buy" and o.buy.gpu_purchase_usd is None and gpu.purchase_usd is None:
                raise InputError(
                    "",
                    f"options[{i}].buy.gpu_purchase_usd",
                    f"the catalogue has no purchase price for {gpu.name}",
                    "set buy.gpu_purchase_usd",
                )
        elif isinstance(o, ApiOption):
            check_api_model(o.provider, o.model, scenario.api_prices, f"options[{i}]")
            _check_terms(o, f"options[{i}]")


def resolve_measured(scenario: Scenario, base: Path) -> Scenario:
    """Make measured-file paths absolute (relative to `base`) and check they load, fit and match the option."""
    options = list(scenario.options)
    for i, o in enumerate(options):
        if isinstance(o, SelfHostOption) and o.perf.measured is not None:
            path = (base / o.perf.measured).resolve()
            try:
                load_fitted(path, o.model, o.gpu)
            except InputError as e:
                raise InputError("", f"options[{i}].perf.measured", f"{e.where}: {e.problem}", e.fix) from None
            options[i] = o.model_copy(update={"perf": o.perf.model_copy(update={"measured": str(path)})})
    return scenario.model_copy(update={"options": options})


def _check_terms(option: ApiOption, where: str) -> None:
    names = [t.name for t in catalog.terms().apis]
    if option.terms and option.terms not in names:
        raise InputError("", f"{where}.terms", f"unknown terms {option.terms!r}", suggest(option.terms, names))
    terms = api_terms(option)
    if option.zero_retention and (terms is None or terms.zero_retention_available.value is not True):
        offered = terms.display_name if terms else f"provider {option.provider!r}"
        raise InputError(
            "",
            f"{where}.zero_retention",
            f"{offered} publishes no zero-retention offer",
            "set zero_retention: false or choose other terms",
        )
    if option.region is not None:
        regions = terms.regions.value if terms and isinstance(terms.regions.value, list) else []
        if option.region not in regions:
            raise InputError(
                "",
                f"{where}.region",
                f"region {option.region!r} is not offered",
                f"choose one of {', '.join(regions) or 'none published'}",
            )
