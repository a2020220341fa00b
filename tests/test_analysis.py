"""Break-even, payback and the cheapest option against closed forms; determinism."""

from __future__ import annotations

import json
import math

import pytest

from simulator import units
from simulator.analysis import break_even, evaluate
from simulator.analysis.evaluate import Evaluator
from simulator.analysis.run import run
from simulator.engine.fluid import FluidEngine
from simulator.scenario import load_scenario

from helpers import RESERVED, SCENARIOS, SENSITIVE_CLASSES, make

API = {"name": "api", "kind": "api", "provider": "openai", "model": "gpt-4o"}


def test_closed_form_break_even_for_a_constant_load() -> None:
    # Flat load, no growth, one reserved GPU that is never full: the GPU costs a constant C a year
    # and the API bill is linear in scale, so break-even is C / (API bill at scale 1).
    result = run(make(options=[API, RESERVED]))
    gpu_per_year = 12 * units.HOURS_PER_MONTH * 1.69
    api_per_year_at_one = 10_000 * units.DAYS_PER_MONTH * 12 * (1000 * 2.5e-6 + 200 * 10e-6)
    (be,) = result.break_even
    assert be.scale == pytest.approx(gpu_per_year / api_per_year_at_one, rel=1e-6)
    assert be.tokens_per_month == pytest.approx(be.scale * 10_000 * units.DAYS_PER_MONTH * 1200, rel=1e-6)


@pytest.mark.parametrize("today", [0.01, 3.7, 250.0])
def test_break_even_volume_does_not_move_with_todays_volume(today) -> None:
    # The break-even volume is a property of the prices and the fleet, not of where volume is today:
    # the same closed form at any scale, and the same float as at scale 1.
    at_one = run(make(options=[API, RESERVED])).break_even[0]
    (be,) = run(make(options=[API, RESERVED], workload={"scale": today})).break_even
    gpu_per_year = 12 * units.HOURS_PER_MONTH * 1.69
    api_per_year_at_one = 10_000 * units.DAYS_PER_MONTH * 12 * (1000 * 2.5e-6 + 200 * 10e-6)
    assert be.scale == pytest.approx(gpu_per_year / api_per_year_at_one, rel=1e-6)
    assert be.scale == at_one.scale and be.tokens_per_month == pytest.approx(at_one.tokens_per_month, rel=1e-12)


def test_payback_month_closed_form() -> None:
    # Set-up cost S in month 1, then the option saves (a - c) a month: payback when S + m c <= m a.
    owned = {**RESERVED, "operations": {"staff_fte": 0, "setup_engineer_months": 1}}
    result = run(make(options=[API, owned], workload={"scale": 3}))
    by = {o.name: o for o in result.options}
    a = by["api"].monthly_cost_usd[0]
    c = by["own"].monthly_cost_usd[1]
    setup = by["own"].monthly_cost_usd[0] - c
    assert result.break_even[0].payback_month == math.ceil(setup / (a - c))


def test_no_break_even_when_the_option_never_wins() -> None:
    cheap_api = {"name": "api", "kind": "api", "provider": "openai", "model": "gpt-4.1-nano"}
    # A 70B model on A100 40GB prefills about 1,100 tokens/s per GPU: about 0.3 USD per million
    # input tokens of GPU time alone (1.29 USD/hour), whatever the volume, against gpt-4.1-nano's 0.10.
    bought = {
        **RESERVED,
        "model": "llama-3.1-70b-instruct",
        "gpu": "a100-40gb",
        "gpus_per_replica": 8,
        "rent": {"tier": "on_demand"},
        "operations": {},
    }
    result = run(make(options=[cheap_api, bought], economics={"horizon_months": 6}))
    assert result.break_even[0].scale is None and result.break_even[0].payback_month is None


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_costs_match_at_the_reported_break_even(path) -> None:
    scenario = load_scenario(path)
    result = run(scenario, "fluid")  # break-even searches always run on the fluid engine
    evaluator = Evaluator(scenario)
    for be in result.break_even:
        if be.scale is None or be.scale == 0:
            continue
        c = evaluator.costs([be.option, be.versus], be.scale)
        mine, theirs = c[be.option][1].total(), c[be.versus][1].total()
        assert mine == pytest.approx(theirs, rel=0.01), (be.option, be.scale, mine, theirs)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_an_options_volume_free_costs_are_a_floor_at_every_volume(path) -> None:
    # What a search skips rests on this: staff, set-up and fine-tuning are the same at any volume,
    # and nothing else an option books nets below zero.
    scenario = load_scenario(path)
    evaluator = Evaluator(scenario)
    for o in scenario.options:
        if o.kind == "api":
            continue
        ledgers = [evaluator.costs([o.name], s)[o.name][1] for s in (1e-6, 1e-3, 0.37, 1.0, 41.0, 1e4, 1e6)]
        floors = {c.volume_free_usd() for c in ledgers}
        assert len(floors) == 1, (o.name, floors)
        assert all(c.total() >= c.volume_free_usd() for c in ledgers), o.name


def test_a_floor_spares_the_search_volumes_and_changes_no_answer() -> None:
    # Whole replicas of 100 USD, each serving half of today's volume, plus 50 USD at any volume,
    # against an API at 600 USD per unit of volume: 150 - 600 s reaches zero at s = 0.25. Below
    # 50 / 600 of today's volume the 50 USD alone outweigh the API.
    def gap(s: float) -> float:
        tried.append(s)
        return 50 + 100 * math.ceil(s / 0.5) - 600 * s

    def floor(s: float) -> float:
        return 50 - 600 * s

    tried: list[float] = []
    alone = break_even.break_even_scale(gap)
    assert alone == pytest.approx(0.25, rel=1e-6)
    searched = len(tried)
    tried.clear()
    assert break_even.break_even_scale(gap, floor) == alone
    assert all(floor(s) <= 0 for s in tried) and len(tried) < searched - 15


def test_cheapest_skips_infeasible_options() -> None:
    too_big = {
        "name": "big",
        "kind": "self_host",
        "model": "llama-3.1-405b-instruct",
        "gpu": "l4",
        "procurement": "rent",
        "gpus_per_replica": 1,
    }
    result = run(make(options=[API, too_big]))
    big = next(o for o in result.options if o.name == "big")
    assert not big.feasible and "does not fit" in big.infeasible_reasons[0]
    assert result.cheapest_option == "api"
    assert result.break_even == []


def test_quality_floor_marks_options_below_it() -> None:
    small = {**RESERVED, "name": "small"}
    result = run(make(options=[API, small], quality_floor={"benchmark": "MMLU-Pro", "min_score": 60}))
    by = {o.name: o for o in result.options}
    assert by["api"].feasible and by["api"].quality.score == 72.6
    assert not by["small"].feasible and "48.3" in by["small"].infeasible_reasons[0]


def test_more_volume_never_lowers_self_host_cost() -> None:
    evaluator = Evaluator(
        make(options=[API, {**RESERVED, "rent": {"tier": "on_demand"}}], workload={"daily_profile": "business_hours"})
    )
    totals = [evaluator.costs(["own"], s)["own"][1].total() for s in (1, 10, 100, 1000, 3000)]
    assert totals == sorted(totals), totals


def test_hybrid_keeps_pinned_classes_in_house() -> None:
    hybrid = {"name": "mix", "kind": "hybrid", "self_host": "own", "api": "api", "baseline_quantile": 0}
    result = run(make(workload={"classes": SENSITIVE_CLASSES}, options=[API, RESERVED, hybrid]))
    mix = next(o for o in result.options if o.name == "mix")
    assert mix.api_share == pytest.approx(20000 / 25000, rel=1e-9)
    api_only = next(o for o in result.options if o.name == "api")
    faq_share = 20000 * (500 * 2.5e-6 + 100 * 1e-5) / (api_only.total_cost_usd / units.DAYS_PER_MONTH / 12)
    api_part = sum(v for k, v in mix.cost_by_category_usd.items() if k.startswith("api_"))
    assert api_part == pytest.approx(api_only.total_cost_usd * faq_share, rel=1e-9)


def test_hybrid_with_nothing_in_house_is_the_api() -> None:
    hybrid = {
        "name": "mix",
        "kind": "hybrid",
        "self_host": "own",
        "api": "api",
        "baseline_quantile": 0,
        "in_house_sensitivity": [],
    }
    by = {o.name: o for o in run(make(options=[API, RESERVED, hybrid])).options}
    assert by["mix"].total_cost_usd == pytest.approx(by["api"].total_cost_usd, rel=1e-12)
    assert by["mix"].api_share == 1.0 and by["mix"].gpus_peak is None


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_same_seed_same_json(path) -> None:
    first = run(load_scenario(path)).model_dump_json()
    second = run(load_scenario(path)).model_dump_json()
    assert first == second
    assert json.loads(first)["seed"] == load_scenario(path).seed


def test_monthly_capacity_figures_agree_with_the_horizon_ones() -> None:
    # A horizon figure is a weighted mean (shares) or the maximum (peaks) of the monthly ones.
    result = run(load_scenario(SCENARIOS[0].parent / "support-assistant.yaml"), "fluid")
    months = result.horizon_months
    fleets = [o for o in result.options if o.kind != "api"]
    assert fleets
    for o in fleets:
        assert len(o.replicas_peak_by_month) == len(o.utilisation_by_month) == months
        assert o.replicas_peak == max(o.replicas_peak_by_month)
        assert min(o.utilisation_by_month) <= o.utilisation <= max(o.utilisation_by_month)
    (hybrid,) = [o for o in result.options if o.kind == "hybrid"]
    assert len(hybrid.api_share_by_month) == months
    assert min(hybrid.api_share_by_month) <= hybrid.api_share <= max(hybrid.api_share_by_month)
    assert all(o.api_share_by_month is None for o in result.options if o.kind != "hybrid")


def _moved_prices(path) -> tuple:
    """A bundled scenario, and the same with every price, rate and money setting moved."""
    scenario = load_scenario(path)
    moved = [
        "economics.api_price_multiplier=0.8",
        "economics.api_price_decline_per_year=0.33",
        "economics.gpu_rental_price_decline_per_year=0.21",
        "economics.discount_rate_per_year=0.07",
        "economics.currency=EUR",
    ]
    for o in scenario.options:
        if o.kind == "self_host" and o.procurement == "rent":
            moved.append(f"options[{o.name}].rent.usd_per_gpu_hour=1.93")
        elif o.kind == "self_host":
            moved += [f"options[{o.name}].buy.usd_per_kwh=0.31", f"options[{o.name}].buy.gpu_purchase_usd=23456"]
        if o.kind == "self_host":
            moved.append(f"options[{o.name}].operations.staff_fte=2.5")
    return scenario, load_scenario(path, moved)


def test_a_move_of_prices_costs_the_options_again_without_simulating_them(monkeypatch) -> None:
    scenario, moved = _moved_prices(SCENARIOS[[p.stem for p in SCENARIOS].index("regulated-rag")])
    assert evaluate.engine_inputs(moved) == evaluate.engine_inputs(scenario)
    monkeypatch.setattr(evaluate, "_usages", type(evaluate._usages)())
    break_even._break_even_at_base.cache_clear()  # searched afresh, so that they simulate their grids
    simulated: list[str] = []
    real = FluidEngine.option_usage

    def counted(self, option, progress=None):
        simulated.append(option.name)
        return real(self, option, progress)

    monkeypatch.setattr(FluidEngine, "option_usage", counted)
    run(scenario, "fluid")
    first = len(simulated)
    cached = run(moved, "fluid")
    # Today's volume and the break-even searches' grid were simulated before; only volumes a search
    # had not tried would be simulated again.
    assert first > 50 and len(simulated) - first < first / 4
    monkeypatch.setattr(evaluate, "_usages", type(evaluate._usages)())
    fresh = run(moved, "fluid")
    assert cached.model_dump() == fresh.model_dump()  # the same numbers, bit for bit


def _forget_every_run(monkeypatch) -> None:
    """No usage, replica plan, evaluator or break-even kept from an earlier run, as in a new process."""
    monkeypatch.setattr(evaluate, "_usages", type(evaluate._usages)())
    monkeypatch.setattr(evaluate, "_plans", type(evaluate._plans)())
    evaluate._evaluator_at_base.cache_clear()
    break_even._break_even_at_base.cache_clear()


@pytest.mark.parametrize("name", ["regulated-rag", "support-assistant"])
def test_a_run_after_runs_at_other_volumes_is_a_fresh_runs_bit_for_bit(name: str, monkeypatch) -> None:
    # Runs of one scenario share replica plans, price tables and searches whatever the volume they
    # were made at; what a run prints must not depend on which ran before it.
    path = SCENARIOS[[p.stem for p in SCENARIOS].index(name)]
    _forget_every_run(monkeypatch)
    fresh = run(load_scenario(path), "fluid").model_dump_json()
    _forget_every_run(monkeypatch)
    for scale in (10**0.5, 0.01, 1e4):
        run(load_scenario(path, [f"workload.scale={scale}"]), "fluid")
    assert run(load_scenario(path), "fluid").model_dump_json() == fresh


@pytest.mark.parametrize(
    "change",
    [
        "economics.horizon_months=24",
        "economics.price_date=2026-06-01",
        "workload.monthly_growth=0.05",
        "options[llama-70b-on-premises].perf.target_utilisation=0.5",
        "options[llama-70b-on-premises].buy.purchase=as_needed",
        "options[llama-70b-eu-cloud].rent.tier=on_demand",
        "seed=7",
    ],
)
def test_what_an_engine_reads_keeps_usages_apart(change: str) -> None:
    path = SCENARIOS[[p.stem for p in SCENARIOS].index("regulated-rag")]
    assert evaluate.engine_inputs(load_scenario(path, [change])) != evaluate.engine_inputs(load_scenario(path))


def test_a_switch_of_currency_reuses_the_break_even_searches() -> None:
    path = SCENARIOS[[p.stem for p in SCENARIOS].index("support-assistant")]
    in_usd = run(load_scenario(path), "fluid")
    before = break_even._break_even_at_base.cache_info()
    in_eur = run(load_scenario(path, ["economics.currency=EUR"]), "fluid")
    after = break_even._break_even_at_base.cache_info()
    assert after.misses == before.misses and after.hits - before.hits == len(in_usd.break_even) > 0
    assert in_eur.break_even == in_usd.break_even  # volumes and months: no currency in them
