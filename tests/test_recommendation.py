"""The recommendation honours latency targets: API latency as a distribution, a floor on the share of
requests within targets, and the three answers (meeting targets, compliant too, targets relaxed)."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from simulator import catalog
from simulator.analysis.run import run
from simulator.engine.api_path import api_attainment, provider_times
from simulator.report.text import recommendation, tokens_text, verdict
from simulator.scenario import LatencyTarget

from helpers import RESERVED, ROOT, SENSITIVE_CLASSES, make


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


GPT_4O = catalog.api_latency("openai", "gpt-4o")  # 450 ms and 110 tokens/s medians, spread 0.26 and 0.09
# The TTFT target that 90% of gpt-4o's requests meet: the median times e^(1.2816 sd).
TTFT_AT_90_MS = 450 * math.exp(1.2815516 * 0.26)


def test_spread_is_the_llmperf_median_and_every_model_gets_it() -> None:
    assert GPT_4O.ttft_ms == 450 and GPT_4O.output_tok_per_s == 110
    assert GPT_4O.spread is not None
    assert (GPT_4O.spread.ttft_sd_log, GPT_4O.spread.tpot_sd_log) == (0.26, 0.09)
    assert catalog.api_latency("nobody", "unknown").spread == GPT_4O.spread


def test_attainment_without_reasoning_is_the_product_of_two_normal_cdfs() -> None:
    target = LatencyTarget(ttft_ms=500, tpot_ms=10)
    # ln(500/450)/0.26 = 0.40523; ln(10 ms / (1000/110) ms)/0.09 = ln(1.1)/0.09 = 1.05900
    expected = _phi(math.log(500 / 450) / 0.26) * _phi(math.log(1.1) / 0.09)
    assert expected == pytest.approx(0.6573 * 0.8550, abs=2e-4)  # normal-table values
    assert api_attainment(GPT_4O, target, 0) == pytest.approx(expected, rel=1e-12)
    assert api_attainment(GPT_4O, LatencyTarget(ttft_ms=TTFT_AT_90_MS, tpot_ms=1000), 0) == pytest.approx(0.9)


@pytest.mark.parametrize(("reasoning", "ttft_ms", "tpot_ms"), [(800, 9000, 12), (2000, 20000, 1000), (50, 1000, 10)])
def test_attainment_with_reasoning_matches_the_draws_of_the_simulated_path(
    reasoning: int, ttft_ms: float, tpot_ms: float
) -> None:
    """The fluid engine's integral against a million requests drawn as the DES draws them."""
    z = np.random.default_rng(7).standard_normal((1_000_000, 2))
    ttft_s, tpot_s = provider_times(GPT_4O, z, np.full(len(z), reasoning))
    drawn = float(np.mean((ttft_s <= ttft_ms / 1000) & (tpot_s <= tpot_ms / 1000)))
    assert 0.02 < drawn < 0.98  # a share the comparison can tell apart
    assert api_attainment(GPT_4O, LatencyTarget(ttft_ms=ttft_ms, tpot_ms=tpot_ms), reasoning) == pytest.approx(
        drawn, abs=0.002
    )


def _api_at_90_percent(**changes: object) -> dict[str, object]:
    """A cheap API meeting the TTFT target 90% of the time beside a dear self-hosted option planned to it."""
    classes = [
        {
            "name": "chat",
            "requests_per_day": 2000,
            "input_tokens": 500,
            "output_tokens": 100,
            "latency": {"ttft_ms": TTFT_AT_90_MS, "tpot_ms": 100},
        }
    ]
    api = {"name": "api", "kind": "api", "provider": "openai", "model": "gpt-4o"}
    return {"workload": {"classes": classes}, "options": [RESERVED, api], **changes}


def test_an_option_at_90_percent_is_not_recommended_under_a_95_percent_floor() -> None:
    r = run(make(**_api_at_90_percent()))
    by = {o.name: o for o in r.options}
    assert by["api"].class_attainment["chat"] == pytest.approx(0.9, abs=1e-6)
    assert by["api"].total_cost_usd < by["own"].total_cost_usd
    assert not by["api"].meets_targets and by["api"].feasible
    assert (
        "90.0% of requests within" in by["api"].slo_reasons[0] and "below the 95% required" in by["api"].slo_reasons[0]
    )
    assert (r.cheapest_option, r.cheapest_compliant_option, r.cheapest_relaxed_option) == ("own", "own", "api")
    assert verdict(by["own"], r) == "recommended"
    assert verdict(by["api"], r).startswith("misses latency targets: class 'chat': 90.0%")
    lines = recommendation(r)
    assert lines[0].startswith("own is the cheapest option that meets every latency target and privacy requirement")
    assert lines[1].startswith("If latency targets are relaxed, api is cheapest")


@pytest.mark.parametrize(
    "floor", [{"slo": {"min_attainment": 0.85}}, {"workload": {"classes": [{"percentile": 85}]}}], ids=["slo", "class"]
)
def test_a_lower_floor_lets_the_api_win(floor: dict[str, object]) -> None:
    data = _api_at_90_percent()
    if "slo" in floor:
        data.update(floor)
    else:
        data["workload"]["classes"][0]["latency"]["percentile"] = 85  # type: ignore[index]
    r = run(make(**data))
    assert (r.cheapest_option, r.cheapest_compliant_option, r.cheapest_relaxed_option) == ("api", "api", "api")


def test_the_des_measures_the_share_the_fluid_engine_computes() -> None:
    """Per-request draws in the DES against the fluid engine's integral, for an API with no rate limits."""
    data = _api_at_90_percent(simulation={"engine": "des", "window_minutes": 60, "sampled_months": 1})
    data["options"] = data["options"][1:]  # type: ignore[index]
    data["workload"]["classes"][0]["requests_per_day"] = 200_000  # type: ignore[index]
    des = run(make(**data)).options[0].class_attainment["chat"]
    fluid = run(make(**data), engine="fluid").options[0].class_attainment["chat"]
    assert fluid == pytest.approx(0.9, abs=1e-6)
    assert des == pytest.approx(fluid, abs=0.01)  # about 25,000 requests: a binomial sd of 0.002


def test_regulated_data_first_the_headline_is_the_compliant_plan() -> None:
    """The cheapest option breaks a privacy requirement: the answer leads with the compliant plan and
    what keeping to the requirements costs."""
    classes = [{**c, "latency": "batch"} for c in SENSITIVE_CLASSES]
    api = {"name": "api", "kind": "api", "provider": "openai", "model": "gpt-4o-mini"}
    owned = {**RESERVED, "procurement": "buy"}  # on the company's premises: regulated data may stay there
    r = run(make(workload={"classes": classes}, options=[owned, api]))
    assert r.cheapest_option == "api" and r.cheapest_compliant_option == "own"
    assert r.cost_of_privacy_usd is not None and r.cost_of_privacy_usd > 0
    lines = recommendation(r)
    assert lines[0].startswith("own is the cheapest option that meets every latency target and privacy requirement")
    assert lines[1].startswith("api meets the latency targets for $") and "(the cost of privacy) but breaks" in lines[1]


@pytest.mark.parametrize(
    ("tokens", "text"),
    [
        (78_219_339_613.6, "78.2 billion"),
        (950e6, "950 million"),
        (1_000, "1 thousand"),
        (640, "640"),
        (2.5e12, "2.5 trillion"),
    ],
)
def test_tokens_read_in_words(tokens: float, text: str) -> None:
    assert tokens_text(tokens) == text


def _cli(*args: str, columns: int) -> str:
    env = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run(
        [sys.executable, "-m", "simulator", *args], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    return done.stdout


def test_the_run_table_fits_100_columns_without_cutting_names_or_money() -> None:
    out = _cli("run", "scenarios/regulated-rag.yaml", "--engine", "fluid", columns=100)
    rows = [line for line in out.splitlines() if "$" in line and line.startswith(" ")]
    assert len(rows) == 6 and all(len(line) <= 100 and "…" not in line for line in rows)
    bedrock = next(line for line in rows if "bedrock" in line)
    assert bedrock.split()[:2] == ["claude-sonnet-4.5-bedrock-eu", "$1,599,542"]
    assert "recommended" in next(line for line in rows if line.split()[0] == "llama-70b-on-premises")


def test_a_cpu_server_is_not_called_a_gpu() -> None:
    out = _cli("run", "scenarios/cpu-faq.yaml", "--engine", "fluid", columns=160)
    rows = [line for line in out.splitlines() if "-on-cpu" in line and "$" in line]
    assert rows and all("1 CPU server" in line and "GPU" not in line for line in rows)
