"""One visual language: an option's colour is the same on every figure, reference lines carry their
labels on log axes, running costs are drawn apart from purchases, and labels are words."""

from __future__ import annotations

import json
import math

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from simulator import catalog
from simulator.analysis.executors import SerialExecutor
from simulator.analysis.run import run, run_with_ledger
from simulator.analysis.sweep import MonteCarlo, TornadoBar, grid
from simulator.perf import fit as pf
from simulator.perf import measured as mf
from simulator.report import figures, style
from simulator.report.text import times_text
from simulator.scenario import load_scenario

from helpers import ROOT, make

SUPPORT = load_scenario(ROOT / "scenarios" / "support-assistant.yaml")
RESULT, LEDGER = run_with_ledger(SUPPORT, "fluid")
NAMES = [o.name for o in RESULT.options]


def _line_colours(fig) -> dict[str, str]:
    return {t.name: t.line.color for t in fig.data if t.mode == "lines" and t.name in NAMES}


def _flat_monte_carlo() -> MonteCarlo:
    months = RESULT.horizon_months
    flat = {n: [1000.0] * months for n in NAMES}
    return MonteCarlo(
        samples=10,
        options=NAMES,
        p10_monthly_usd=flat,
        p50_monthly_usd=flat,
        p90_monthly_usd=flat,
        p10_total_usd={},
        p50_total_usd={},
        p90_total_usd={},
        prob_cheapest_by_month={n: [0.5] * months for n in NAMES},
    )


def test_an_option_keeps_its_colour_on_every_figure_and_no_two_share_one() -> None:
    expected = style.option_colours(NAMES)
    assert len(set(expected.values())) == len(NAMES)
    volume = grid(SUPPORT, "s", [("workload.scale", [0.5, 1.0, 2.0])], executor=SerialExecutor())
    months = RESULT.horizon_months
    mc = _flat_monte_carlo()
    for fig in (
        figures.cumulative_costs(RESULT),
        figures.cost_versus_volume(RESULT, volume),
        figures.cost_bands(mc, months, RESULT.currency),
        figures.chance_cheapest(mc, months),
    ):
        colours = _line_colours(fig)
        assert colours and all(colours[n] == expected[n] for n in colours)
    bands = figures.cost_bands(mc, months, RESULT.currency)
    for t in bands.data:
        if t.fill == "toself":  # each band in its line's colour, translucent
            assert t.fillcolor == style.translucent(expected[t.legendgroup], 0.2)


def test_reference_lines_are_labelled_where_a_log_axis_puts_them() -> None:
    volume = grid(SUPPORT, "s", [("workload.scale", [0.5, 1.0, 2.0])], executor=SerialExecutor())
    fig = figures.cost_versus_volume(RESULT, volume)
    assert fig.layout.xaxis.type == "log"
    notes = {a.text: a.x for a in fig.layout.annotations}
    assert notes["today: 78.2 billion tokens a month"] == pytest.approx(0.0)  # log10 of 1x today
    for b in RESULT.break_even:
        if b.scale:
            text = f"{b.option} = {b.versus} ({times_text(b.scale / RESULT.workload_scale)})"
            assert notes[text] == pytest.approx(math.log10(b.scale / RESULT.workload_scale))
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == len(notes)


def test_monthly_panels_share_one_scale_and_leave_purchases_apart() -> None:
    fig = figures.monthly_costs(RESULT, LEDGER)
    drawn = {t.legendgroup for t in fig.data}
    assert not drawn & set(style.ONE_OFF_CATEGORIES)
    axes = [f"yaxis{k if k > 1 else ''}" for k in range(1, len(NAMES) + 1)]
    anchors = {fig.layout[a].matches or a.replace("axis", "") for a in axes}
    assert len(anchors) == 1  # every panel on the scale of one
    assert {t.name for t in fig.data} >= {"GPU rental", "API input", "Staff"}
    colours = {t.legendgroup: t.marker.color for t in fig.data}
    assert len(set(colours.values())) == len(colours)  # no two categories look alike
    bought = figures.purchases(RESULT)
    assert bought is not None and {t.name for t in bought.data} == {"GPU purchase", "Server purchase", "Residual value"}
    owned = next(o for o in RESULT.options if o.name == "llama-70b-owned")
    resale = next(t for t in bought.data if t.name == "Residual value")
    assert resale.y[list(resale.x).index("llama-70b-owned")] == owned.cost_by_category_usd["residual_value"] < 0


@pytest.mark.parametrize(
    ("name", "cpu", "words"),
    [
        ("gpu_rental", False, "GPU rental"),
        ("gpu_rental", True, "Server rental"),
        ("api_cached_input", False, "API cached input"),
        ("data_boundary", False, "Data boundary"),
        ("rent.usd_per_gpu_hour", False, "Rental rate (USD per GPU-hour)"),
        ("warmup_minutes", False, "Warmup minutes"),
    ],
)
def test_labels_are_words(name: str, cpu: bool, words: str) -> None:
    assert style.label(name, cpu) == words


@pytest.mark.parametrize(("ms", "text"), [(86_400_000, "24 h"), (500, "500 ms"), (1500, "1.5 s"), (600_000, "10 min")])
def test_durations_read_in_their_unit(ms: float, text: str) -> None:
    assert style.duration_text(ms) == text


def test_tornado_labels_name_the_input_in_words_with_rounded_bounds() -> None:
    bar = TornadoBar(
        field="options[llama-70b-reserved].rent.usd_per_gpu_hour",
        low=1.3000001,
        high=2.2999999,
        total_cost_usd_at_low={"x": 1.0},
        total_cost_usd_at_high={"x": 3.0},
    )
    fig = figures.tornado({"x": 2.0}, [bar], "x", RESULT.currency)
    assert fig.data[0].y == ("llama-70b-reserved: Rental rate (USD per GPU-hour) (1.3 to 2.3)",)


@pytest.fixture(scope="module")
def two_class_des():
    classes = [
        {
            "name": "chat",
            "requests_per_day": 5000,
            "input_tokens": 500,
            "output_tokens": 100,
            "latency": "conversational",
        },
        {"name": "jobs", "requests_per_day": 500, "input_tokens": 500, "output_tokens": 100, "latency": "batch"},
    ]
    return run(
        make(workload={"classes": classes}, simulation={"engine": "des", "window_minutes": 5, "sampled_months": 1})
    )


def test_the_latency_figure_marks_each_class_target(two_class_des) -> None:
    r = two_class_des
    fig = figures.latency(r)
    assert fig is not None
    target = next(t for t in fig.data if t.name == "TTFT target")
    assert dict(zip(target.x, target.y, strict=True)) == {"chat": 500, "jobs": 86_400_000}
    assert list(target.text) == ["target 500 ms", "target 24 h"]
    assert r.latency_targets["chat"].min_attainment == 0.95


def test_every_chart_is_what_plotly_validation_makes_of_it(two_class_des) -> None:
    """Charts are built unvalidated, for speed: each must serialise exactly as its validated self."""
    volume = grid(SUPPORT, "s", [("workload.scale", [0.5, 1.0, 2.0])], executor=SerialExecutor())
    months = RESULT.horizon_months
    mc = _flat_monte_carlo()
    bar = TornadoBar(
        field="workload.scale", low=0.5, high=2.0, total_cost_usd_at_low={"x": 1.0}, total_cost_usd_at_high={"x": 3.0}
    )
    m = mf.load(ROOT / "measured" / "h200-llama-3.1-8b-proxy-f16-batched-bench.json")
    charts = [
        figures.monthly_costs(RESULT, LEDGER),
        figures.purchases(RESULT),
        figures.cumulative_costs(RESULT),
        figures.cost_versus_volume(RESULT, volume),
        figures.latency(two_class_des),
        figures.capacity(RESULT),
        figures.privacy(RESULT),
        figures.cost_bands(mc, months, RESULT.currency),
        figures.chance_cheapest(mc, months),
        figures.tornado({"x": 2.0}, [bar], "x", RESULT.currency),
        figures.measured_steps(m, pf.against_roofline(m, pf.fit(m), catalog.gpu("h200"))),
    ]
    for fig in charts:
        assert fig is not None
        assert fig.layout.template.layout.plot_bgcolor == "white"  # plotly_white
        validated = go.Figure(fig.to_dict())
        assert json.loads(pio.to_json(fig, validate=False)) == json.loads(pio.to_json(validated, validate=False))
