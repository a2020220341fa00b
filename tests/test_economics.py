"""GPU and owner costs recomputed by hand from the catalogue figures."""

from __future__ import annotations

import pytest

from simulator import catalog, units
from simulator.analysis.run import run
from simulator.economics.costs import capital_recovery_payment

from helpers import make

HOURS = units.HOURS_PER_MONTH
FTE_MONTH = 250_000 / 12


def self_host(**fields) -> dict:
    option = {
        "name": "own",
        "kind": "self_host",
        "model": "llama-3.1-8b-instruct",
        "gpu": "h100-sxm",
        "procurement": "rent",
        "gpus_per_replica": 1,
    }
    option.update(fields)
    return option


def costs(option: dict, **economics) -> tuple[dict[str, float], object]:
    s = make(options=[option], economics={**economics})
    result = run(s, "fluid").options[0]
    return result.cost_by_category_usd, result


def test_catalogue_defaults_used_here() -> None:
    # The hand computations below rest on these catalogue values; if the data changes, so must they.
    d = catalog.owner_defaults()
    assert (d["usd_per_fte_year"].value, d["staff_fte_rent"].value, d["staff_fte_buy"].value) == (250_000, 0.25, 0.5)
    assert (d["setup_engineer_months"].value, d["server_usd_per_gpu"].value, d["server_power_w_per_gpu"].value) == (
        2,
        10_000,
        400,
    )
    assert (d["depreciation_years"].value, d["residual_value_share"].value, d["pue"].value) == (4, 0.10, 1.56)
    assert (d["usd_per_kwh"].value, d["hosting_usd_per_kw_month"].value) == (0.13, 184)
    h100 = catalog.gpu("h100-sxm")
    assert (h100.spec.tdp_w, h100.idle_w.value, h100.purchase_usd.value) == (700, 70, 27_500)
    assert {k: v.value for k, v in h100.rental_usd_per_gpu_hour.items()} == {
        "on_demand": 2.99,
        "reserved_1y": 1.69,
        "reserved_3y": 1.30,
        "spot": 1.50,
    }


def test_rented_on_demand_one_gpu() -> None:
    by, _ = costs(self_host())
    assert by["gpu_rental"] == pytest.approx(12 * HOURS * 2.99, rel=1e-12)
    assert by["staff"] == pytest.approx(12 * 0.25 * FTE_MONTH, rel=1e-12)
    assert by["setup"] == pytest.approx(2 * FTE_MONTH, rel=1e-12)


def test_spot_pays_for_interruptions() -> None:
    by, _ = costs(self_host(rent={"tier": "spot"}))
    assert by["gpu_rental"] == pytest.approx(12 * HOURS * 1.50 * 1.10, rel=1e-12)


def test_reserved_price_is_locked_per_term() -> None:
    by, result = costs(
        self_host(rent={"tier": "reserved_1y"}), horizon_months=24, gpu_rental_price_decline_per_year=0.2
    )
    assert by["gpu_rental"] == pytest.approx(12 * HOURS * 1.69 + 12 * HOURS * 1.69 * 0.8, rel=1e-12)
    monthly = result.monthly_cost_usd
    assert monthly[11] == pytest.approx(monthly[1]) and monthly[12] < monthly[11]


def test_on_demand_price_declines_monthly() -> None:
    by, _ = costs(self_host(), gpu_rental_price_decline_per_year=0.2)
    expected = sum(HOURS * 2.99 * 0.8 ** (m / 12) for m in range(12))
    assert by["gpu_rental"] == pytest.approx(expected, rel=1e-12)


def test_bought_gpu_cash_view() -> None:
    by, result = costs(self_host(procurement="buy"))
    unit = 27_500 + 10_000
    assert by["gpu_capex"] == 27_500 and by["server_capex"] == 10_000
    # After 12 of 48 months the book value has fallen by a quarter of (1 - 10%).
    assert by["residual_value"] == pytest.approx(-unit * (1 - 0.9 * 12 / 48), rel=1e-12)
    assert by["hosting"] == pytest.approx(12 * (700 + 400) / 1000 * 184, rel=1e-12)
    assert by["staff"] == pytest.approx(12 * 0.5 * FTE_MONTH, rel=1e-12)
    gpu_hours, busy = result.gpu_hours, result.gpu_hours * result.utilisation
    assert gpu_hours == pytest.approx(12 * HOURS)
    kwh = ((70 + 400) * gpu_hours + (700 - 70) * busy) / 1000
    assert by["power"] == pytest.approx(kwh * 1.56 * 0.13, rel=1e-12)
    assert 0 < result.utilisation < 0.05  # 10,000 short requests a day barely touch an H100
    assert result.monthly_cost_usd[0] > result.monthly_cost_usd[1]  # the purchase lands in month 1


def test_bought_gpu_amortised_view() -> None:
    _, result = costs(self_host(procurement="buy"), discount_rate_per_year=0.08)
    r = units.yearly_to_monthly_rate(0.08)
    payment = capital_recovery_payment(37_500, 3_750, r, 48)
    opex = result.total_cost_usd - sum(
        v for k, v in result.cost_by_category_usd.items() if k in ("gpu_capex", "server_capex", "residual_value")
    )
    assert result.amortised_cost_usd == pytest.approx(opex + 12 * payment, rel=1e-12)


@pytest.mark.parametrize(("rate", "months"), [(0.0, 48), (0.005, 48), (0.01, 60)])
def test_capital_recovery_payment_repays_the_cost(rate: float, months: int) -> None:
    payment = capital_recovery_payment(10_000, 1_000, rate, months)
    present = sum(payment / (1 + rate) ** k for k in range(1, months + 1)) + 1_000 / (1 + rate) ** months
    assert present == pytest.approx(10_000, rel=1e-12)


def test_upfront_purchase_buys_the_horizon_peak_in_month_one() -> None:
    heavy = [
        {"name": "chat", "requests_per_day": 3_000_000, "input_tokens": 1000, "output_tokens": 200, "latency": "batch"}
    ]
    s = make(
        workload={"classes": heavy, "monthly_growth": 0.1},
        options=[
            self_host(procurement="buy", buy={"purchase": "upfront"}),
            {**self_host(procurement="buy"), "name": "grow"},
        ],
    )
    upfront, grow = run(s).options
    assert upfront.cost_by_category_usd["gpu_capex"] == upfront.gpus_peak * 27_500
    assert upfront.monthly_cost_usd[0] > grow.monthly_cost_usd[0]
    assert grow.gpus_peak == upfront.gpus_peak > 1


def test_fine_tuning_costs() -> None:
    by, _ = costs(self_host(fine_tuning={"gpu_hours_per_run": 64, "runs_per_year": 6}))
    assert by["fine_tuning"] == pytest.approx(64 * 6 * 2.99, rel=1e-12)
    api = {
        "name": "api",
        "kind": "api",
        "provider": "openai",
        "model": "gpt-4o",
        "fine_tuning": {"training_usd_per_mtok": 25, "training_mtok_per_run": 20, "runs_per_year": 4},
    }
    by, _ = costs(api)
    assert by["api_fine_tuning"] == pytest.approx(25 * 20 * 4, rel=1e-12)


def test_kv_cache_bytes_and_capacity_by_hand() -> None:
    # Llama 3.1 8B caches K and V for 8 KV heads of 128 dimensions in 32 layers: 65,536 elements a token,
    # 128 KiB at 16 bits and 64 KiB at fp8. FP8 weights keep a 16-bit cache unless it is asked for (vLLM's
    # --kv-cache-dtype auto). An H100's 80 GB are 80 GiB; 90% of it, less 8.03e9 bytes of fp8 weights,
    # holds the cache.
    from simulator.perf.step import kv_bytes_per_token, kv_capacity_tokens, weight_bytes

    model, gpu = catalog.model("llama-3.1-8b-instruct"), catalog.gpu("h100-sxm")
    assert model.kv_elements_per_token == 2 * 8 * 128 * 32
    assert kv_bytes_per_token(model, "auto") == kv_bytes_per_token(model, "bf16") == 131_072
    assert kv_bytes_per_token(model, "fp8") == 65_536
    free_bytes = 0.9 * 80 * 2**30 - weight_bytes(model, "fp8")
    assert weight_bytes(model, "fp8") == pytest.approx(8.03e9, rel=0.01)
    assert kv_capacity_tokens(model, gpu, "fp8", 1, 0.9) == pytest.approx(free_bytes / 131_072, rel=1e-12)
    assert kv_capacity_tokens(model, gpu, "fp8", 1, 0.9, "fp8") == pytest.approx(free_bytes / 65_536, rel=1e-12)
