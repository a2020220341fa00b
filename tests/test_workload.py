"""Token-length statistics against scipy's lognormal and numerical integration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from simulator.scenario import FixedTokens, HistogramTokens, LognormalTokens
from simulator.workload import TokenStats, hour_of_week_shape

from helpers import make


@pytest.mark.parametrize(("mean", "p95"), [(800, 2400), (3000, 7000), (100, 130), (1000, 3800)])
def test_lognormal_matches_scipy(mean: float, p95: float) -> None:
    t = TokenStats(LognormalTokens(mean=mean, p95=p95))
    mu, s = t._lognormal
    dist = stats.lognorm(s=s, scale=math.exp(mu))
    assert dist.mean() == pytest.approx(mean, rel=1e-12)
    assert dist.ppf(0.95) == pytest.approx(p95, rel=1e-9)
    assert t.quantile(0.95) == pytest.approx(p95, rel=1e-9)
    assert t.second_moment() == pytest.approx(dist.moment(2), rel=1e-9)
    for threshold in (mean / 3, mean, p95, 5 * p95):
        assert t.prob_above(threshold) == pytest.approx(dist.sf(threshold), rel=1e-9)
        numeric, _ = integrate.quad(lambda x: x * dist.pdf(x), threshold, np.inf, limit=200)
        assert t.mean_above(threshold) == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_lognormal_rejects_impossible_skew() -> None:
    with pytest.raises(ValueError, match="more skewed"):
        LognormalTokens(mean=100, p95=400)


def test_histogram_tail_is_strictly_above() -> None:
    t = TokenStats(HistogramTokens(tokens=[100, 200_000, 300_000], weights=[2, 1, 1]))
    assert t.mean() == pytest.approx((200 + 200_000 + 300_000) / 4)
    assert t.prob_above(200_000) == pytest.approx(0.25)  # 200,000 itself is not above 200,000
    assert t.mean_above(199_999) == pytest.approx((200_000 + 300_000) / 4)
    assert t.quantile(0.5) == 100 and t.quantile(0.51) == 200_000


def test_fixed_tokens() -> None:
    t = TokenStats(FixedTokens(tokens=512))
    assert (t.mean(), t.second_moment(), t.quantile(0.99)) == (512, 512**2, 512)


def test_hour_of_week_shape_has_mean_one_and_follows_profile() -> None:
    s = make(workload={"daily_profile": "business_hours", "weekly_weights": [2, 2, 2, 2, 2, 1, 1]})
    shape = hour_of_week_shape(s.workload)
    assert shape.shape == (168,)
    assert shape.mean() == pytest.approx(1.0)
    assert shape[10] / shape[3] == pytest.approx(2.3 / 0.1)  # Monday 10:00 against Monday 03:00
    assert shape[24 * 5 + 10] / shape[10] == pytest.approx(0.5)  # Saturday against Monday


@pytest.mark.parametrize(
    "lengths",
    [FixedTokens(tokens=512), LognormalTokens(mean=800, p95=2400), HistogramTokens(tokens=[256, 8192], weights=[3, 1])],
    ids=lambda d: d.kind,
)
def test_scaled_lengths_scale_the_mean_and_keep_the_shape(lengths) -> None:
    # Stretching every length by k multiplies the mean by k and leaves p95/mean as it was.
    base, doubled = TokenStats(lengths), TokenStats(lengths.scaled(2.0))
    assert doubled.mean() == pytest.approx(2 * base.mean(), rel=1e-9)
    assert doubled.quantile(0.95) / doubled.mean() == pytest.approx(base.quantile(0.95) / base.mean(), rel=1e-9)
