"""Per-request API pricing over token-length distributions.

A long-context tier reprices the whole request when its input tokens are above the tier's start,
so the bill is an expectation over the distribution of request sizes, never a price applied to a
monthly sum of tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator import units
from simulator.catalog.api_prices import Tiered, UnitPrices
from simulator.workload import TokenStats

API_CATEGORIES = ("api_input", "api_cached_input", "api_cache_write", "api_output")


def _expectations(stats: TokenStats, price: Tiered) -> tuple[float, float]:
    """(E[I * rate(I)], E[rate(I)]) in USD per token, for rate tiered on input tokens I."""
    starts = [s for s, _ in price.tiers]
    rates = [price.base_usd_per_mtok] + [p for _, p in price.tiers]
    mean_above = [stats.mean()] + [stats.mean_above(s) for s in starts] + [0.0]
    prob_above = [1.0] + [stats.prob_above(s) for s in starts] + [0.0]
    weighted_tokens = sum(r * (mean_above[k] - mean_above[k + 1]) for k, r in enumerate(rates))
    weighted_rate = sum(r * (prob_above[k] - prob_above[k + 1]) for k, r in enumerate(rates))
    return (units.usd_per_mtok_to_usd_per_token(weighted_tokens), units.usd_per_mtok_to_usd_per_token(weighted_rate))


@dataclass(frozen=True)
class RequestShape:
    """What pricing needs of a class: its input distribution, mean output and cache shares."""

    input: TokenStats
    output_mean: float
    """Visible plus reasoning tokens, all billed as output."""
    cached_share: float
    cache_write_share: float


def usd_per_request(shape: RequestShape, prices: UnitPrices) -> dict[str, float]:
    """Expected USD of one request, by ledger category."""
    fresh = 1.0 - shape.cached_share - shape.cache_write_share
    inp, _ = _expectations(shape.input, prices.input)
    read, _ = _expectations(shape.input, prices.cache_read)
    write, _ = _expectations(shape.input, prices.cache_write)
    _, out_rate = _expectations(shape.input, prices.output)
    return {
        "api_input": fresh * inp,
        "api_cached_input": shape.cached_share * read,
        "api_cache_write": shape.cache_write_share * write,
        "api_output": shape.output_mean * out_rate,
    }
