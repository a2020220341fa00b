"""Exchange rates: the European Central Bank's euro reference rates as the pinned CurrencyConverter
package bundles them (every working day since 1999), read on a scenario's price date."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib.metadata import version
from typing import TYPE_CHECKING

from simulator.errors import InputError
from simulator.units import Currency, us_dollars

if TYPE_CHECKING:
    from currency_converter import CurrencyConverter

# The ECB publishes no rate on weekends and TARGET holidays: the last one before stands for them.
LOOKBACK_DAYS = 7
FIELD = "economics.currency"


@cache
def _converter() -> CurrencyConverter:
    # Imported here: it reads 27 years of daily rates (0.3 s), which USD scenarios never need.
    from currency_converter import CurrencyConverter

    return CurrencyConverter(fallback_on_missing_rate=False, fallback_on_wrong_date=False)


def currencies() -> list[str]:
    return sorted(_converter().currencies)


def source() -> str:
    return (
        "European Central Bank euro foreign exchange reference rates (eurofxref-hist), as bundled by "
        f"CurrencyConverter {version('CurrencyConverter')}; crossed through the euro"
    )


def exchange_rate(code: str, on: dt.date) -> Currency:
    """`code` per US dollar on `on`, or on the last working day before it with a published rate."""
    if code == "USD":
        return us_dollars(on)
    from currency_converter import RateNotFoundError

    converter = _converter()
    if code not in converter.currencies:
        raise InputError("", FIELD, f"unknown currency {code!r}", f"use one of {', '.join(currencies())}")
    for back in range(LOOKBACK_DAYS + 1):
        day = on - dt.timedelta(days=back)
        try:
            per_usd = float(converter.convert(1.0, "USD", code, date=day))
        except RateNotFoundError:
            continue
        return Currency(code, per_usd, day, source())
    first = max(converter.bounds[code].first_date, converter.bounds["USD"].first_date)
    last = min(converter.bounds[code].last_date, converter.bounds["USD"].last_date)
    raise InputError(
        "",
        FIELD,
        f"no ECB rate of {code} per USD on {on} or in the {LOOKBACK_DAYS} days before "
        f"(the bundled rates run from {first} to {last})",
        "give economics.exchange_rate: {per_usd: ..., as_of: ..., source: ...}",
    )
