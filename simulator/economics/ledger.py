"""The cost ledger of one option: monthly USD by category in two views, and the assumptions behind it.

The cash view books GPU and server purchases when they are made and credits their resale value in
the horizon's last month. The amortised view spreads each purchase over its depreciation life as a
level payment that includes the cost of capital, and counts only the payments inside the horizon.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from simulator import catalog

CASH = "cash"
AMORTISED = "amortised"
VIEWS = (CASH, AMORTISED)

# Categories no volume changes: staff, set-up and fine-tuning runs cost the same whatever is served.
# Every other category nets to zero or more in the cash view (no price is negative, a GPU draws no
# less than its idle power, resale never exceeds the purchase), so these are a floor under an
# option's cash total at every volume.
VOLUME_FREE_CATEGORIES = ("staff", "setup", "fine_tuning", "api_fine_tuning")


@dataclass(frozen=True, slots=True)
class Assumption:
    """One number an option's cost or its verdict rests on, with its provenance (a plain record: a
    break-even search books thousands)."""

    option: str
    item: str
    value: float
    unit: str
    source: str
    as_of: str


@dataclass
class OptionCosts:
    """Monthly USD by category, in both views, for one option."""

    option: str
    months: int
    cash: dict[str, np.ndarray] = field(default_factory=dict)
    amortised: dict[str, np.ndarray] = field(default_factory=dict)
    assumptions: list[Assumption] = field(default_factory=list)
    resale_usd: float = 0.0
    """Resale value credited in the last month of the cash view."""

    def note(self, assumption: Assumption) -> float:
        """Record what a cost rests on; returns its value."""
        self.assumptions.append(assumption)
        return assumption.value

    def sourced(self, item: str, given: float | None, default_key: str, unit: str) -> float:
        """The option's value for `item`, or the catalogue default, recorded."""
        return self.note(sourced(self.option, item, given, default_key, unit))

    def add(self, category: str, usd: np.ndarray, view: str | None = None) -> None:
        for v, book in ((CASH, self.cash), (AMORTISED, self.amortised)):
            if view in (None, v):
                prior = book.get(category)
                # A new category gets an array of its own, never the caller's.
                book[category] = usd + np.zeros(self.months) if prior is None else prior + usd

    def monthly(self, view: str = CASH) -> np.ndarray:
        book = self.cash if view == CASH else self.amortised
        return sum(book.values(), np.zeros(self.months))

    def total(self, view: str = CASH) -> float:
        return float(self.monthly(view).sum())

    def volume_free_usd(self) -> float:
        """The cash total of `VOLUME_FREE_CATEGORIES`: what the option costs at any volume."""
        return float(sum(self.cash[c].sum() for c in VOLUME_FREE_CATEGORIES if c in self.cash))

    def rows(self, view: str = CASH) -> Iterator[tuple[str, int, str, float]]:
        """Long-form ledger rows (option, month, category, usd); months count from 1."""
        book = self.cash if view == CASH else self.amortised
        for category, usd in book.items():
            for m, value in enumerate(usd, start=1):
                yield self.option, m, category, float(value)


def given_or(option: str, item: str, given: float | None, fallback: catalog.Sourced | None, unit: str) -> Assumption:
    """The option's own value for `item`, or the catalogue's `fallback`, with its provenance."""
    if given is not None:
        return Assumption(option, item, given, unit, "scenario", "")
    assert fallback is not None, "checked by the scenario"
    return Assumption(option, item, fallback.value, unit, fallback.source, fallback.as_of.isoformat())


def sourced(option: str, item: str, given: float | None, default_key: str, unit: str) -> Assumption:
    """The option's value for `item`, or the owner-cost default."""
    return given_or(option, item, given, catalog.owner_defaults()[default_key], unit)
