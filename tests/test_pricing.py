"""API bills: hand-computed dollars, genai-prices' own calc_price as the oracle, tier edges."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from genai_prices import Usage, calc_price
from scipy import integrate, stats

from simulator import units
from simulator.analysis.evaluate import Evaluator
from simulator.analysis.run import run
from simulator.catalog.api_prices import unit_prices
from simulator.economics.pricing import RequestShape, usd_per_request
from simulator.scenario import FixedTokens, HistogramTokens, LognormalTokens
from simulator.workload import TokenStats

from helpers import make

NOON = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
PRICE_DATE = NOON.date()


def oracle_usd(
    provider: str, model: str, input_tokens: int, output_tokens: int, cached: int = 0, written: int = 0
) -> float:
    usage = Usage(
        input_tokens=input_tokens, cache_read_tokens=cached, cache_write_tokens=written, output_tokens=output_tokens
    )
    return float(calc_price(usage, model, provider_id=provider, genai_request_timestamp=NOON).total_price)


def ours(
    provider: str,
    model: str,
    spec,
    output: float,
    cached_share: float = 0.0,
    write_share: float = 0.0,
    batch: bool = False,
) -> float:
    prices, _ = unit_prices(provider, model, [], PRICE_DATE, 12, batch)
    return sum(usd_per_request(RequestShape(TokenStats(spec), output, cached_share, write_share), prices).values())


def test_hand_computed_gpt4o_request() -> None:
    # gpt-4o: 2.50 input, 1.25 cached input, 10.00 output, USD per million tokens.
    usd = ours("openai", "gpt-4o", FixedTokens(tokens=1000), 200, cached_share=0.4)
    assert usd == pytest.approx(600 * 2.5e-6 + 400 * 1.25e-6 + 200 * 10e-6, rel=1e-12)


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "gpt-4o"),
        ("anthropic", "claude-sonnet-4-5"),
        ("google", "gemini-2.5-pro"),
        ("openai", "gpt-4.1-mini"),
    ],
)
@pytest.mark.parametrize(("tokens", "cached", "written"), [(1000, 0, 0), (5000, 2000, 500), (150_000, 100_000, 0)])
def test_fixed_requests_match_genai_prices(provider: str, model: str, tokens: int, cached: int, written: int) -> None:
    expected = oracle_usd(provider, model, tokens, 700, cached, written)
    got = ours(provider, model, FixedTokens(tokens=tokens), 700, cached / tokens, written / tokens)
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("tokens", [199_999, 200_000, 200_001])
def test_long_context_tier_boundary(tokens: int) -> None:
    # Gemini 2.5 Pro: above 200,000 input tokens the whole request pays 2.50 / 15.00 instead of 1.25 / 10.00.
    above = tokens > 200_000
    hand = tokens * (2.5 if above else 1.25) / 1e6 + 1000 * (15 if above else 10) / 1e6
    got = ours("google", "gemini-2.5-pro", FixedTokens(tokens=tokens), 1000)
    assert got == pytest.approx(hand, rel=1e-12)
    assert got == pytest.approx(oracle_usd("google", "gemini-2.5-pro", tokens, 1000), rel=1e-12)


def test_histogram_across_a_tier_is_the_weighted_sum_of_its_bars() -> None:
    bars, weights = [50_000, 200_000, 250_000], [0.5, 0.3, 0.2]
    expected = sum(w * oracle_usd("anthropic", "claude-sonnet-4-5", t, 400) for t, w in zip(bars, weights, strict=True))
    got = ours("anthropic", "claude-sonnet-4-5", HistogramTokens(tokens=bars, weights=weights), 400)
    assert got == pytest.approx(expected, rel=1e-12)


def test_lognormal_across_a_tier_matches_numerical_integration() -> None:
    spec = LognormalTokens(mean=120_000, p95=300_000)
    mu, s = TokenStats(spec)._lognormal
    dist = stats.lognorm(s=s, scale=np.exp(mu))

    def price(x: float) -> float:
        hi = x > 200_000
        return x * (2.5 if hi else 1.25) / 1e6 + 800 * (15 if hi else 10) / 1e6

    expected = sum(
        integrate.quad(lambda x: price(x) * dist.pdf(x), a, b, limit=400)[0]
        for a, b in ((0, 200_000), (200_000, dist.ppf(1 - 1e-13)))
    )
    assert ours("google", "gemini-2.5-pro", spec, 800) == pytest.approx(expected, rel=1e-7)


def test_batch_prices_are_half_for_gpt4o() -> None:
    standard = ours("openai", "gpt-4o", FixedTokens(tokens=1000), 100)
    batch = ours("openai", "gpt-4o", FixedTokens(tokens=1000), 100, batch=True)
    assert batch == pytest.approx(standard / 2, rel=1e-12)
    assert batch == pytest.approx(1000 * 1.25e-6 + 100 * 5e-6, rel=1e-12)


def test_batchable_class_is_billed_at_batch_price_only_with_batch_api() -> None:
    classes = [
        {
            "name": "jobs",
            "requests_per_day": 1000,
            "input_tokens": 1000,
            "output_tokens": 100,
            "batchable": True,
            "latency": "batch",
        }
    ]
    days = units.DAYS_PER_MONTH * 12
    for use_batch, per_request in ((True, 1000 * 1.25e-6 + 100 * 5e-6), (False, 1000 * 2.5e-6 + 100 * 10e-6)):
        s = make(
            workload={"classes": classes},
            options=[
                {"name": "api", "kind": "api", "provider": "openai", "model": "gpt-4o", "use_batch_api": use_batch}
            ],
        )
        total = run(s).options[0].total_cost_usd
        assert total == pytest.approx(1000 * days * per_request, rel=1e-9), use_batch


def test_api_bill_is_linear_in_volume() -> None:
    s = make(workload={"daily_profile": "business_hours", "monthly_growth": 0.04})
    evaluator = Evaluator(s)
    one = evaluator.costs(["api"], 1.0)["api"][1].total()
    two = evaluator.costs(["api"], 2.0)["api"][1].total()
    assert two == pytest.approx(2 * one, rel=1e-12), (one, two)


def test_time_of_day_prices_follow_the_clock() -> None:
    # DeepSeek charges the standard price from 00:30 to 16:30 UTC and a discount otherwise. With a flat
    # profile the hourly price points 01:00..16:00 (16 hours) are standard and 8 are discounted.
    s = make(options=[{"name": "ds", "kind": "api", "provider": "deepseek", "model": "deepseek-chat"}])

    def day_price(hour: int) -> float:
        at = dt.datetime(2026, 11, 1, hour, tzinfo=dt.UTC)
        return float(
            calc_price(
                Usage(input_tokens=1000, output_tokens=200),
                "deepseek-chat",
                provider_id="deepseek",
                genai_request_timestamp=at,
            ).total_price
        )

    expected_per_request = (16 * day_price(12) + 8 * day_price(20)) / 24
    assert day_price(12) != day_price(20)
    total = run(s).options[0].total_cost_usd
    assert total == pytest.approx(10_000 * units.DAYS_PER_MONTH * 12 * expected_per_request, rel=1e-9)


def test_price_decline_path() -> None:
    s = make(economics={"api_price_decline_per_year": 0.3, "horizon_months": 24})
    monthly = run(s).options[0].monthly_cost_usd
    assert monthly[12] / monthly[0] == pytest.approx(0.7, rel=1e-12)
    assert monthly[6] / monthly[0] == pytest.approx(0.7**0.5, rel=1e-12)


def test_price_multiplier_scales_the_listed_prices() -> None:
    # gpt-4o lists 2.50 USD in and 10 USD out per million tokens; a 20% discount pays 80% of that.
    result = run(make(economics={"api_price_multiplier": 0.8}))
    listed = 10_000 * units.DAYS_PER_MONTH * 12 * (1000 * 2.5e-6 + 200 * 10e-6)
    assert result.options[0].total_cost_usd == pytest.approx(0.8 * listed, rel=1e-9)
    (noted,) = [a for a in result.assumptions if a.item == "openai price multiplier"]
    assert noted.value == 0.8 and noted.source == "scenario"


def test_override_prices_a_model_genai_prices_lacks() -> None:
    s = make(
        options=[{"name": "ft", "kind": "api", "provider": "openai", "model": "ft:gpt-4o:acme"}],
        api_prices=[
            {
                "provider": "openai",
                "model": "ft:gpt-4o:acme",
                "input_usd_per_mtok": 3.75,
                "output_usd_per_mtok": 15,
                "effective_date": "2026-01-01",
                "source": "test",
            }
        ],
    )
    total = run(s).options[0].total_cost_usd
    assert total == pytest.approx(10_000 * units.DAYS_PER_MONTH * 12 * (1000 * 3.75e-6 + 200 * 15e-6), rel=1e-9)


def test_override_wins_over_genai_prices_from_its_date() -> None:
    override = {
        "provider": "openai",
        "model": "gpt-4o",
        "input_usd_per_mtok": 1,
        "output_usd_per_mtok": 4,
        "source": "negotiated",
    }
    later = make(api_prices=[{**override, "effective_date": "2027-01-01"}])
    earlier = make(api_prices=[{**override, "effective_date": "2026-01-01"}])
    per_month = 10_000 * units.DAYS_PER_MONTH
    assert run(later).options[0].monthly_cost_usd[0] == pytest.approx(per_month * (1000 * 2.5e-6 + 200 * 1e-5))
    assert run(earlier).options[0].monthly_cost_usd[0] == pytest.approx(per_month * (1000 * 1e-6 + 200 * 4e-6))


def test_reasoning_tokens_are_billed_as_output() -> None:
    base = run(make()).options[0].total_cost_usd
    classes = [{**make().workload.classes[0].model_dump(), "reasoning_tokens_per_request": 300}]
    with_reasoning = run(make(workload={"classes": classes})).options[0].total_cost_usd
    extra = 10_000 * units.DAYS_PER_MONTH * 12 * 300 * 10e-6
    assert with_reasoning - base == pytest.approx(extra, rel=1e-9)


def test_decimal_oracle_is_really_decimal() -> None:
    # Guard: the oracle above is genai-prices' own Decimal arithmetic, not ours.
    assert isinstance(
        calc_price(
            Usage(input_tokens=1, output_tokens=1), "gpt-4o", provider_id="openai", genai_request_timestamp=NOON
        ).total_price,
        Decimal,
    )


# Prices of a tiered model, a batch price and a time-of-day price, as one line of JSON, and whether the
# process imported genai-prices to find them.
PRICES_SCRIPT = """
import dataclasses, datetime as dt, json, sys
from simulator.catalog.api_prices import check_api_model, unit_prices
day = dt.date(2026, 11, 1)
check_api_model("google", "gemini-2.5-pro", [], "options[0]")
asked = [("google", "gemini-2.5-pro", 12, False), ("openai", "gpt-4o", 12, True),
         ("deepseek", "deepseek-chat", 20, False)]
got = [unit_prices(p, m, [], day, h, b) for p, m, h, b in asked]
print(json.dumps([[dataclasses.asdict(u) | {"as_of": str(u.as_of)}, applied] for u, applied in got]))
print("genai_prices" in sys.modules)
"""


def prices_in_a_process(cache: Path) -> tuple[list[object], bool]:
    env = os.environ | {"XDG_CACHE_HOME": str(cache)}
    out = subprocess.run(
        [sys.executable, "-c", PRICES_SCRIPT], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return json.loads(out[0]), out[1] == "True"


def test_prices_read_back_from_the_cache_are_genai_prices_own(tmp_path: Path) -> None:
    first, asked = prices_in_a_process(tmp_path)
    assert asked and (tmp_path / "rent-or-own").is_dir()
    second, asked_again = prices_in_a_process(tmp_path)
    assert second == first and not asked_again
    # The oracle: genai-prices' own figures (the tier and the batch price included).
    tier_start, tier_price = first[0][0]["input"]["tiers"][0]
    assert (tier_start, tier_price) == (200_000, 2.5)
    assert first[1][0]["output"]["base_usd_per_mtok"] == 5.0 and first[1][1] is True


def test_a_damaged_cache_is_asked_again_and_rewritten(tmp_path: Path) -> None:
    truth, _ = prices_in_a_process(tmp_path)
    (path,) = (tmp_path / "rent-or-own").iterdir()
    cached = json.loads(path.read_text())
    cached["records"] = [record | {"input": {"base_usd_per_mtok": -1.0, "tiers": []}} for record in cached["records"]]
    path.write_text(json.dumps(cached))
    assert prices_in_a_process(tmp_path) == (truth, True)
    path.write_text("{not json")
    assert prices_in_a_process(tmp_path) == (truth, True)
    assert prices_in_a_process(tmp_path) == (truth, False)


def test_a_cache_folder_that_cannot_be_written_costs_only_time(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would go")
    truth, _ = prices_in_a_process(tmp_path / "fresh")
    assert prices_in_a_process(blocked) == (truth, True)
    assert prices_in_a_process(blocked) == (truth, True)


def test_prices_a_host_program_fetched_live_are_not_kept(tmp_path: Path) -> None:
    script = (
        "import datetime as dt\n"
        "from genai_prices import data_snapshot\n"
        "from simulator.catalog.api_prices import unit_prices\n"
        "live = data_snapshot.DataSnapshot(data_snapshot.get_snapshot().providers, from_auto_update=True)\n"
        "data_snapshot.set_custom_snapshot(live)\n"
        "unit_prices('openai', 'gpt-4o', [], dt.date(2026, 11, 1), 12, False)\n"
    )
    env = os.environ | {"XDG_CACHE_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True)
    assert not (tmp_path / "rent-or-own").exists()


def test_a_cache_grown_past_its_bound_starts_afresh(tmp_path: Path) -> None:
    from simulator.catalog.api_prices import _Resolved

    truth, _ = prices_in_a_process(tmp_path)
    (path,) = (tmp_path / "rent-or-own").iterdir()
    cached = json.loads(path.read_text())
    kept = len(cached["prices"])
    cached["prices"] |= {f'["p", "m{i}", "h", false]': [0, 0] for i in range(_Resolved.MAX_PRICES)}
    path.write_text(json.dumps(cached))
    assert prices_in_a_process(tmp_path) == (truth, True)
    assert len(json.loads(path.read_text())["prices"]) == kept


def test_the_cache_folder_follows_xdg_and_ignores_a_relative_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from simulator.files import cache_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "rent-or-own"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for ignored in ("relative/cache", ""):
        monkeypatch.setenv("XDG_CACHE_HOME", ignored)
        assert cache_dir() == tmp_path / "home" / ".cache" / "rent-or-own"
