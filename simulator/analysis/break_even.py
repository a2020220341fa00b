"""Break-even volume (the load at which an option and the cheapest API cost the same over the
horizon) and payback month."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from simulator.analysis.evaluate import AtBase, evaluator_at_base
from simulator.economics.ledger import CASH, OptionCosts

# Break-even is searched from 1e-6 to 1e6 times the scenario's base load (`workload.scale` 1), four
# grid points a decade. The grid does not move with today's scale, so neither does the answer.
SCALE_SEARCH_DECADES = (-6.0, 6.0)
SCALE_GRID_POINTS = 49
SCALE_RELATIVE_TOLERANCE = 1e-7


def break_even_scale(gap: Callable[[float], float], floor: Callable[[float], float] | None = None) -> float | None:
    """Smallest `workload.scale` at which `gap` (option minus API) reaches zero, by grid and bisection.

    Self-hosted cost is a step function of volume (whole replicas), so the search brackets the
    first sign change on a log grid and bisects it; at a step the result is the step's edge.
    `floor(scale)`, where given, is a cheap value `gap` never goes below: wherever it is above
    zero the gap is too, and the option is not simulated there. It changes no answer.
    """

    def above_zero(s: float) -> bool:
        return (floor is not None and floor(s) > 0) or gap(s) > 0

    grid = np.logspace(*SCALE_SEARCH_DECADES, SCALE_GRID_POINTS)
    previous = None
    for s in grid:
        if not above_zero(s):
            if previous is None:
                return 0.0 if not above_zero(grid[0] / 10) else float(s)
            lo, hi = previous, float(s)
            while hi / lo - 1 > SCALE_RELATIVE_TOLERANCE:
                mid = math.sqrt(lo * hi)
                lo, hi = (lo, mid) if not above_zero(mid) else (mid, hi)
            return hi
        previous = float(s)
    return None


def break_even_of(base: AtBase, option: str, versus: str) -> float | None:
    """`break_even_scale` of `option` against `versus` for the scenario `base` stands for, shared by
    every volume and currency of it.

    Only `workload.scale` differs between a volume sweep's runs or a dashboard's volume moves, and
    the search does not depend on it, so they all reuse one search.
    """
    return _break_even_at_base(base, option, versus)


@functools.lru_cache(maxsize=256)
def _break_even_at_base(base: AtBase, option: str, versus: str) -> float | None:
    return break_even_scale(*evaluator_at_base(base).gap(option, versus))


def payback_month(option: OptionCosts, api: OptionCosts) -> int | None:
    """First month (from 1) when the option's cumulative cash cost, resale excluded, is at or below the API's."""
    own = np.cumsum(option.monthly(CASH) - option.cash.get("residual_value", 0))
    other = np.cumsum(api.monthly(CASH) - api.cash.get("residual_value", 0))
    hits = np.nonzero(own <= other)[0]
    return int(hits[0]) + 1 if len(hits) else None
