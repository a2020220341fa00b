"""API token prices from the pinned `genai-prices` data, merged with a scenario's overrides.

Prices are read offline and always at a fixed timestamp (the scenario's price date, hour by hour
so that time-of-day prices are honoured); nothing is fetched at run time. The result is a small
table of USD per million tokens, possibly tiered by the request's input tokens, which the
economics prices per request.

genai-prices is imported only when a price is not yet in the user's price cache (`_Resolved`): its
package import brings in the HTTP client of its live updater, which a run never calls, and that was
a tenth of a fluid command's time.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from simulator.errors import InputError, suggest
from simulator.files import cache_dir, write_atomic

if TYPE_CHECKING:
    from genai_prices.data_snapshot import DataSnapshot
    from genai_prices.types import ModelInfo, ModelPrice, Provider, TieredPrices

GENAI_PRICES_VERSION = metadata.version("genai-prices")


class PriceOverride(Protocol):
    """A price the user states for a model (a scenario's `api_prices` entry)."""

    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def input_usd_per_mtok(self) -> float: ...
    @property
    def cached_input_usd_per_mtok(self) -> float | None: ...
    @property
    def cache_write_usd_per_mtok(self) -> float | None: ...
    @property
    def output_usd_per_mtok(self) -> float: ...
    @property
    def batch_discount(self) -> float: ...
    @property
    def context_tokens(self) -> int | None: ...
    @property
    def effective_date(self) -> dt.date: ...
    @property
    def source(self) -> str: ...


@dataclass(frozen=True)
class Tiered:
    """USD per million tokens, switching to tier prices when input tokens exceed a tier's start."""

    base_usd_per_mtok: float
    tiers: tuple[tuple[int, float], ...] = ()

    def scaled(self, factor: float) -> Tiered:
        return Tiered(self.base_usd_per_mtok * factor, tuple((s, p * factor) for s, p in self.tiers))


@dataclass(frozen=True)
class UnitPrices:
    input: Tiered
    cache_read: Tiered
    cache_write: Tiered
    output: Tiered
    model_id: str
    """The model id the reference matched (an alias may resolve to an older model)."""
    context_tokens: int | None
    source: str
    as_of: dt.date


def _snapshot() -> DataSnapshot:
    """genai-prices' bundled data."""
    from genai_prices import data_snapshot

    return data_snapshot.get_snapshot()


@dataclass
class _Resolved:
    """What genai-prices answered on earlier runs, kept in the user's cache folder, one file per
    genai-prices version: a version's data never changes, so nothing in it goes stale. The file is
    written once, at exit, when a run added to it; a folder that cannot be written leaves it unkept,
    and an entry that does not read back as prices is asked of genai-prices again."""

    path: Path | None
    records: list[object] = field(default_factory=list)
    """Distinct prices, as JSON records (most hours of most days share one)."""
    prices: dict[str, list[int]] = field(default_factory=dict)
    """[provider, model, hour, batch] -> [its record, whether a batch price applied]."""
    known: set[str] = field(default_factory=set)
    """[provider, model] pairs genai-prices prices."""
    dirty: bool = False

    MAX_PRICES = 20_000
    """More entries than this (about 2 MB) and the file starts afresh, so it stays quick to read."""

    @staticmethod
    def key(*parts: object) -> str:
        return json.dumps(parts)

    @classmethod
    def load(cls) -> _Resolved:
        try:
            path = cache_dir() / f"genai-prices-{GENAI_PRICES_VERSION}.json"
        except RuntimeError:  # no home folder
            return cls(None)
        try:
            raw = json.loads(path.read_text())
            if len(raw["prices"]) > cls.MAX_PRICES:
                return cls(path)
            return cls(path, list(raw["records"]), dict(raw["prices"]), {str(k) for k in raw["known"]})
        except (OSError, ValueError, KeyError, TypeError):
            return cls(path)  # none yet, or unreadable: it is rebuilt

    def price(self, key: str) -> tuple[UnitPrices, bool] | None:
        try:
            record, batch_applied = self.prices[key]
            return _unit_from_json(self.records[record]), bool(batch_applied)
        except (KeyError, IndexError, ValueError, TypeError):
            return None

    def add_price(self, key: str, unit: UnitPrices, batch_applied: bool) -> None:
        record = asdict(unit) | {"as_of": unit.as_of.isoformat()}
        try:
            index = self.records.index(record)
        except ValueError:
            index = len(self.records)
            self.records.append(record)
        self.prices[key] = [index, int(batch_applied)]
        self._changed()

    def add_known(self, key: str) -> None:
        self.known.add(key)
        self._changed()

    def _changed(self) -> None:
        if not self.dirty and self.path is not None:
            self.dirty = True
            atexit.register(self.save)

    def save(self) -> None:
        assert self.path is not None
        content = {"records": self.records, "prices": self.prices, "known": sorted(self.known)}
        with contextlib.suppress(InputError):  # a folder that cannot be written: the next run asks again
            write_atomic(self.path, json.dumps(content))


@cache
def _resolved() -> _Resolved:
    return _Resolved.load()


def _usd_per_mtok(value: object) -> float:
    if not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ValueError(f"{value!r} is not a price")
    return float(value)


def _unit_from_json(raw: object) -> UnitPrices:
    """A cached entry back as prices; ValueError or TypeError where it is not one."""
    if not isinstance(raw, dict):
        raise TypeError("not a record")

    def tiered(t: dict[str, object]) -> Tiered:
        tiers = t["tiers"]
        if not isinstance(tiers, list):
            raise TypeError("tiers are not a list")
        return Tiered(_usd_per_mtok(t["base_usd_per_mtok"]), tuple((int(s), _usd_per_mtok(p)) for s, p in tiers))

    context = raw["context_tokens"]
    return UnitPrices(
        input=tiered(raw["input"]),
        cache_read=tiered(raw["cache_read"]),
        cache_write=tiered(raw["cache_write"]),
        output=tiered(raw["output"]),
        model_id=str(raw["model_id"]),
        context_tokens=None if context is None else int(context),
        source=str(raw["source"]),
        as_of=dt.date.fromisoformat(str(raw["as_of"])),
    )


def _tiered(value: Decimal | TieredPrices | None, fallback: Tiered) -> Tiered:
    from genai_prices.types import TieredPrices

    if value is None:
        return fallback
    if isinstance(value, TieredPrices):
        return Tiered(float(value.base), tuple((t.start, float(t.price)) for t in value.tiers))
    return Tiered(float(value))


def _from_model_price(price: ModelPrice, model_id: str, context: int | None, source: str, when: dt.date) -> UnitPrices:
    inp = _tiered(price.input_mtok, Tiered(0.0))
    # Unpriced cache reads and writes are billed as ordinary input, as genai-prices does.
    return UnitPrices(
        input=inp,
        cache_read=_tiered(price.cache_read_mtok, inp),
        cache_write=_tiered(price.cache_write_mtok, inp),
        output=_tiered(price.output_mtok, Tiered(0.0)),
        model_id=model_id,
        context_tokens=context,
        source=source,
        as_of=when,
    )


def _override_for(
    provider: str,
    model: str,
    overrides: Sequence[PriceOverride],
    price_date: dt.date | None,
) -> PriceOverride | None:
    """The latest override for the model that is in effect on `price_date` (any, when None)."""
    applicable = [
        o
        for o in overrides
        if o.provider == provider and o.model == model and (price_date is None or o.effective_date <= price_date)
    ]
    return max(applicable, key=lambda o: o.effective_date, default=None)


def check_api_model(provider: str, model: str, overrides: Sequence[PriceOverride], option_field: str) -> None:
    resolved, key = _resolved(), _Resolved.key(provider, model)
    if _override_for(provider, model, overrides, None) is not None or key in resolved.known:
        return
    snapshot = _snapshot()
    try:
        found = snapshot.find_provider(None, provider, None)
    except LookupError:
        raise InputError(
            "",
            f"{option_field}.provider",
            f"unknown API provider {provider!r}",
            suggest(provider, [p.id for p in snapshot.providers]),
        ) from None
    if found.find_model(model, all_providers=snapshot.providers) is None:
        raise InputError(
            "",
            f"{option_field}.model",
            f"genai-prices {GENAI_PRICES_VERSION} has no model {model!r} at {provider}",
            suggest(model, [m.id for m in found.models]) + " or add an api_prices entry",
        )
    resolved.add_known(key)


def _model_unit_prices(provider: Provider, info: ModelInfo, at: dt.datetime, batch: bool) -> tuple[UnitPrices, bool]:
    standard = info.get_prices(at)
    price = info.get_prices(at, {"processing": "batch"}) if batch else standard
    source = (provider.pricing_urls or [provider.name])[0]
    unit = _from_model_price(
        price, info.id, info.context_window, f"genai-prices {GENAI_PRICES_VERSION}: {source}", at.date()
    )
    return unit, price != standard


@cache
def _genai_unit_prices(provider: str, model: str, at: dt.datetime, batch: bool) -> tuple[UnitPrices, bool]:
    resolved, key = _resolved(), _Resolved.key(provider, model, at.isoformat(), batch)
    cached = resolved.price(key)
    if cached is not None:
        return cached
    snapshot = _snapshot()
    found_provider, info = snapshot.find_provider_model(model, None, provider, None)
    unit, batch_applied = _model_unit_prices(found_provider, info, at, batch)
    if not snapshot.from_auto_update:  # prices a host program fetched live are not the pinned version's
        resolved.add_price(key, unit, batch_applied)
    return unit, batch_applied


def token_priced_models(price_date: dt.date, provider_id: str | None) -> list[tuple[str, UnitPrices]]:
    """Every genai-prices model priced per token on `price_date` (noon UTC), with its provider id."""
    at = dt.datetime.combine(price_date, dt.time(12), tzinfo=dt.UTC)
    out = []
    for provider in _snapshot().providers:
        if provider_id is not None and provider.id != provider_id:
            continue
        for info in provider.models:
            prices, _ = _model_unit_prices(provider, info, at, False)
            if prices.input.base_usd_per_mtok or prices.output.base_usd_per_mtok:
                out.append((provider.id, prices))
    return out


def unit_prices(
    provider: str, model: str, overrides: Sequence[PriceOverride], price_date: dt.date, hour_utc: int, batch: bool
) -> tuple[UnitPrices, bool]:
    """Prices in force at `hour_utc` on `price_date`, and whether a batch price was applied."""
    override = _override_for(provider, model, overrides, price_date)
    if override is not None:
        factor = 1.0 - override.batch_discount if batch else 1.0
        inp = Tiered(override.input_usd_per_mtok)
        unit = UnitPrices(
            input=inp.scaled(factor),
            cache_read=Tiered(override.cached_input_usd_per_mtok or override.input_usd_per_mtok).scaled(factor),
            cache_write=Tiered(override.cache_write_usd_per_mtok or override.input_usd_per_mtok).scaled(factor),
            output=Tiered(override.output_usd_per_mtok).scaled(factor),
            model_id=override.model,
            context_tokens=override.context_tokens,
            source=f"scenario override: {override.source}",
            as_of=override.effective_date,
        )
        return unit, batch and override.batch_discount > 0
    if _override_for(provider, model, overrides, None) is not None and not _known_to_genai(provider, model):
        first = min(o.effective_date for o in overrides if o.provider == provider and o.model == model)
        raise InputError(
            "",
            "api_prices",
            f"{provider}/{model} has no price before {first}",
            f"set economics.price_date on or after {first}",
        )
    at = dt.datetime.combine(price_date, dt.time(hour_utc), tzinfo=dt.UTC)
    return _genai_unit_prices(provider, model, at, batch)


def _known_to_genai(provider: str, model: str) -> bool:
    try:
        _snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        return False
    return True
