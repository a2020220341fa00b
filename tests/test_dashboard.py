"""The dashboard through Streamlit's AppTest: every page on every bundled scenario, and sliders that
move the answer the way the economics says they must."""

from __future__ import annotations

import json
import re

import pytest
import yaml

pytest.importorskip("streamlit", reason="the dashboard extra is not installed: pip install -e '.[dashboard]'")

from streamlit.testing.v1 import AppTest

from helpers import ROOT, SCENARIOS, tokens_of

PAGES = ["decision", "costs", "latency", "privacy", "uncertainty", "measurements", "scenario_page", "export"]
TIMEOUT_S = 300


@pytest.fixture(autouse=True)
def _keep_main_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest leaves the app script as `__main__`; processes spawned later (Dask workers) would run it."""
    import sys

    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])


def _page(page: str, scenario: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("RENT_OR_OWN_SCENARIO", scenario)
    at = AppTest.from_file(str(ROOT / "tests" / "apps" / "page.py"), default_timeout=TIMEOUT_S)
    at.session_state["page"] = page
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("scenario", [p.stem for p in SCENARIOS])
def test_every_page_renders_every_bundled_scenario(scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for page in PAGES:
        at = _page(page, str(ROOT / "scenarios" / f"{scenario}.yaml"), monkeypatch)
        assert not at.exception, (scenario, page, [e.value for e in at.exception])
        assert not at.error, (scenario, page, [e.value for e in at.error])
        assert len(at.title) == 1, (scenario, page)  # every page says what it is
    # The decision page answers first: the recommended option is one of the scenario's options, marked so.
    at = _page("decision", str(ROOT / "scenarios" / f"{scenario}.yaml"), monkeypatch)
    table = at.dataframe[0].value
    recommended = _metric(at, "Recommended")
    assert recommended == "none" or table.loc[table["option"] == recommended, "verdict"].iloc[0] == "recommended"


def _app(monkeypatch: pytest.MonkeyPatch, lang: str = "C.UTF-8", query: str | None = None) -> AppTest:
    """The whole app on its first page, started in an environment whose LANG is `lang`, opened with
    `?lang=query` when given."""
    monkeypatch.setenv("RENT_OR_OWN_SCENARIO", "")
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=TIMEOUT_S)
    if query is not None:
        at.query_params["lang"] = query
    return at.run()


def test_the_app_starts_on_the_decision_page(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(monkeypatch)
    assert not at.exception
    assert at.title[0].value == "support-assistant: rent or own?"
    assert at.sidebar.selectbox[0].label == "Language / 言語"  # the switch comes first
    assert at.sidebar.selectbox(key="language").value == "en"


@pytest.mark.parametrize(
    ("lang", "query", "chosen"),
    [
        ("ja_JP.UTF-8", None, "ja"),  # the server's environment
        ("C.UTF-8", "ja", "ja"),  # a link's query parameter before the environment
        ("ja_JP.UTF-8", "en", "en"),
        ("ja_JP.UTF-8", "xx", "ja"),  # a language there is not: the environment's
    ],
)
def test_the_language_comes_from_the_link_else_the_environment(
    lang: str, query: str | None, chosen: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulator import i18n

    at = _app(monkeypatch, lang, query)
    assert not at.exception
    assert at.sidebar.selectbox(key="language").value == chosen
    assert at.query_params["lang"] == chosen  # a link to this page opens it in the same language
    question = i18n.translations(chosen).gettext("{scenario}: rent or own?")
    assert at.title[0].value == question.format(scenario="support-assistant")


def test_the_language_switch_turns_the_page_and_the_link(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator import i18n

    ja = i18n.translations("ja")
    at = _app(monkeypatch)
    at.sidebar.selectbox(key="language").set_value("ja").run()
    assert not at.exception
    assert at.title[0].value == ja.gettext("{scenario}: rent or own?").format(scenario="support-assistant")
    assert at.sidebar.slider[0].label == ja.gettext("Monthly growth (%)")
    assert at.query_params["lang"] == "ja"
    at.sidebar.selectbox(key="language").set_value("en").run()
    assert at.title[0].value == "support-assistant: rent or own?"
    assert at.query_params["lang"] == "en"


def _times(text: str) -> float:
    """A break-even volume as the page shows it, "4.3x today's", as a number."""
    return float("inf") if text == "never" else float(text.split("x ")[0].replace(",", ""))


def test_cheaper_apis_push_the_break_even_volume_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """An API price that falls faster leaves less to save per token, so owning needs more volume."""
    at = _page("decision", str(ROOT / "scenarios" / "support-assistant.yaml"), monkeypatch)
    label = "Break-even volume of owned-baseline-plus-flash"
    before = _times(_metric(at, label))
    decline = next(s for s in at.sidebar.slider if s.label.startswith("API price decline"))
    decline.set_value(decline.value + 10.0).run()
    assert not at.exception
    assert _times(_metric(at, label)) > before


def test_more_volume_brings_payback_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 10x the volume the owned L40S fleet pays for itself within the horizon; at 1x it does not."""
    at = _page("decision", str(ROOT / "scenarios" / "overnight-batch.yaml"), monkeypatch)
    label = "Payback month of llama-8b-owned-l40s"
    assert _metric(at, label) == "none"
    today = tokens_of(_metric(at, "Today's volume"))
    at.sidebar.select_slider[0].set_value(10.0).run()
    assert not at.exception
    assert 1 <= int(_metric(at, label)) <= 36
    assert tokens_of(_metric(at, "Today's volume")) == pytest.approx(10 * today, rel=2e-3)


def test_a_bad_upload_is_shown_in_plain_words(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nworkload: {classes: []}\noptions: []\n")
    at = _page("decision", str(bad), monkeypatch)
    assert not at.exception
    assert "cannot be used" in at.sidebar.error[0].value
    assert "bad.yaml" in at.sidebar.error[0].value


def test_an_uncertainty_that_cannot_be_sampled_is_shown_in_plain_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    data = yaml.safe_load((ROOT / "scenarios" / "prototype.yaml").read_text())
    data["uncertainty"] = [{"field": "workload.monthly_growth", "distribution": "normal", "mean": 0.5, "sd": 1.0}]
    path = tmp_path / "wide.yaml"
    path.write_text(yaml.safe_dump(data))
    for page in ("uncertainty", "export"):
        at = _page(page, str(path), monkeypatch)
        assert not at.exception, [e.value for e in at.exception]
        assert "uncertainty[0]: a draw of" in at.error[0].value


@pytest.mark.parametrize("scenario", [p.stem for p in SCENARIOS])
def test_the_downloaded_scenario_loads_back_unchanged(scenario: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from simulator.scenario import load_scenario

    at = _page("scenario_page", str(ROOT / "scenarios" / f"{scenario}.yaml"), monkeypatch)
    at.sidebar.select_slider[0].set_value(3.0).run()
    next(s for s in at.sidebar.select_slider if s.label.startswith("Prompt length")).set_value(1.5).run()
    next(s for s in at.sidebar.slider if s.label == "API price (% of list)").set_value(80).run()
    for box in at.sidebar.number_input:  # every per-option input moved off the value in force
        box.set_value(box.value + 1).run()
    assert not at.exception and not at.sidebar.error
    edited = at.session_state["scenario"]
    (tmp_path / "measured").symlink_to(ROOT / "measured")  # the scenario's relative paths still resolve
    (tmp_path / "scenarios").mkdir()
    path = tmp_path / "scenarios" / f"{scenario}.yaml"
    path.write_text(at.code[0].value)
    loaded = load_scenario(path)
    original = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml")
    assert loaded.workload.scale == pytest.approx(3 * original.workload.scale)
    assert loaded.economics.api_price_multiplier == 0.8
    assert loaded.model_dump() == edited.model_dump()
    assert loaded.model_dump() != original.model_dump()
    # Written as the author wrote it: every comment line and every preset kept, counts as integers.
    text = (ROOT / "scenarios" / f"{scenario}.yaml").read_text()
    written = at.code[0].value
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    assert all(c in written for c in comments)
    for line in text.splitlines():
        if "latency: " in line and "{" not in line:  # a preset by name
            assert line.split("#")[0].strip() in written
    assert "requests_per_day: " in written and ".0\n" not in written.split("economics:")[0]


def test_a_bad_scenario_stops_the_dashboard_command_in_one_line(tmp_path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\noptions: [\n")
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "dashboard", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and str(bad) in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            "0.0.0.0",
            "--address: 0.0.0.0 would let other machines reach the dashboard and its scenarios (add --allow-remote",
        ),
        ("::", "--address: :: would let other machines reach the dashboard"),
        ("", "argument --address: expected an IP address such as 127.0.0.1, got ''"),
        ("999.1.1.1", "argument --address: expected an IP address such as 127.0.0.1, got '999.1.1.1'"),
    ],
)
def test_the_dashboard_binds_beyond_this_machine_only_when_asked(address: str, message: str) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "simulator", "dashboard", "--address", address],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_planning_replicas_fuller_makes_the_rented_fleet_cheaper(monkeypatch: pytest.MonkeyPatch) -> None:
    """A higher utilisation target plans fewer replicas for the same peak, so fewer GPU-hours to rent."""
    at = _page("decision", str(ROOT / "scenarios" / "support-assistant.yaml"), monkeypatch)
    at.sidebar.select_slider[0].set_value(10.0).run()

    def cost() -> float:
        table = at.dataframe[0].value
        return float(table.loc[table["option"] == "llama-70b-reserved", "horizon cost (USD)"].iloc[0])

    before = cost()
    target = at.slider(key="support-assistant:llama-70b-reserved:utilisation")
    assert target.value == 70
    target.set_value(95).run()
    assert not at.exception
    assert at.session_state["scenario"].option("llama-70b-reserved").perf.target_utilisation == 0.95
    assert cost() < before


SUPPORT = str(ROOT / "scenarios" / "support-assistant.yaml")


def test_the_serving_engine_is_a_cost_lever(monkeypatch: pytest.MonkeyPatch) -> None:
    """llama-server's four slots serve far fewer sequences a step than vLLM's 1,024: more GPUs, more cost."""
    at = _page("decision", SUPPORT, monkeypatch)
    before = _costs(at)
    engine = at.selectbox(key="support-assistant:llama-70b-reserved:engine")
    assert engine.value == "vllm"
    engine.set_value("llama.cpp").run()
    assert not at.exception
    assert at.session_state["scenario"].option("llama-70b-reserved").perf.engine == "llama.cpp"
    after = _costs(at)
    assert after["llama-70b-reserved"] > before["llama-70b-reserved"]
    assert after["llama-70b-owned"] == before["llama-70b-owned"]


def _costs(at: AppTest) -> dict[str, float]:
    table = at.dataframe[0].value
    return dict(zip(table["option"], table["horizon cost (USD)"].astype(float), strict=True))


def test_staff_input_adds_a_year_of_engineer_cost_per_fte_year(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator import catalog

    at = _page("decision", SUPPORT, monkeypatch)
    before = _costs(at)
    fte = at.number_input(key="support-assistant:llama-70b-owned:fte")
    assert fte.value == catalog.owner_defaults()["staff_fte_buy"].value  # starts at the value in force
    fte.set_value(fte.value + 1).run()
    assert not at.exception
    usd_per_fte_year = catalog.owner_defaults()["usd_per_fte_year"].value
    after = _costs(at)
    assert after["llama-70b-owned"] - before["llama-70b-owned"] == pytest.approx(usd_per_fte_year * 36 / 12, abs=1)
    assert after["llama-70b-reserved"] == before["llama-70b-reserved"]


def test_rental_rate_input_scales_the_rented_gpu_bill(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.analysis.run import run
    from simulator.scenario import load_scenario

    at = _page("decision", SUPPORT, monkeypatch)
    before = _costs(at)
    rate = at.number_input(key="support-assistant:llama-70b-reserved:rate")
    rental = next(o for o in run(load_scenario(SUPPORT), "fluid").options if o.name == "llama-70b-reserved")
    rate.set_value(rate.value * 1.5).run()
    assert not at.exception
    grown = _costs(at)["llama-70b-reserved"] - before["llama-70b-reserved"]
    assert grown == pytest.approx(0.5 * rental.cost_by_category_usd["gpu_rental"], abs=2)


def test_api_price_level_scales_every_api_bill(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page("decision", SUPPORT, monkeypatch)
    before = _costs(at)
    next(s for s in at.sidebar.slider if s.label == "API price (% of list)").set_value(80).run()
    assert not at.exception
    after = _costs(at)
    for api in ("gpt-4.1-mini", "gemini-2.5-flash", "claude-sonnet-4.5"):
        assert after[api] == pytest.approx(0.8 * before[api], abs=2)
    assert after["llama-70b-owned"] == before["llama-70b-owned"]


def test_longer_prompts_cost_more_and_cached_prompts_less(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page("decision", SUPPORT, monkeypatch)
    before = _costs(at)
    next(s for s in at.sidebar.select_slider if s.label.startswith("Prompt length")).set_value(2.0).run()
    assert not at.exception
    answer = at.session_state["scenario"].workload.classes[0]
    assert (answer.input_tokens.mean, answer.input_tokens.p95) == (6000, 14000)
    longer = _costs(at)
    assert longer["gpt-4.1-mini"] > before["gpt-4.1-mini"]
    cached = next(s for s in at.sidebar.slider if s.label.startswith("Cached share"))
    cached.set_value(cached.value + 30).run()
    assert not at.exception
    assert _costs(at)["gpt-4.1-mini"] < longer["gpt-4.1-mini"]


def test_an_edit_the_scenario_forbids_is_shown_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    # coding-assistant writes 10% of one class's prompt to the cache; all of it cannot also be read from it.
    at = _page("decision", str(ROOT / "scenarios" / "coding-assistant.yaml"), monkeypatch)
    next(s for s in at.sidebar.slider if s.label.startswith("Cached share")).set_value(100).run()
    assert not at.exception
    assert "cached_input_share + cache_write_share must be at most 1" in at.sidebar.error[0].value
    assert at.session_state["scenario"] is None


def test_measurements_page_sets_each_file_against_its_roofline(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page("measurements", SUPPORT, monkeypatch)

    def box(label: str):
        return next(s for s in at.selectbox if s.label == label)

    box("Measured file").select("tinyllama-1.1b-proxy-f16-cpu2.json").run()
    assert not at.exception
    assert box("Roofline of").value == "cpu-2core"  # recognised from the file's fingerprint
    assert _metric(at, "Decode: share of peak memory bandwidth") == "100%"
    box("Roofline of").select("h100-sxm").run()  # the same steps against a GPU's roofline are far below it
    assert int(_metric(at, "Decode: share of peak memory bandwidth").rstrip("%")) < 5


def test_latency_page_with_the_des_sets_each_class_beside_its_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page("latency", SUPPORT, monkeypatch)
    at.sidebar.radio[0].set_value("des").run()
    assert not at.exception
    at.run()  # the cached run, replayed with the progress line it drew, which it cleared
    assert not at.exception and not [c for c in at.caption if "simulating" in c.value]
    table = at.dataframe[1].value  # the second table: per option and class
    assert set(table["class"]) == {"answer", "ticket-summary"}
    from simulator.scenario import load_scenario

    target = load_scenario(SUPPORT).workload.classes[0].latency  # the "answer" class
    answer = table[table["class"] == "answer"]
    # Conversational: 500 ms to the first token and 40 ms a token, read in their units.
    assert (target.ttft_ms, target.tpot_ms) == (500, 40)
    assert (answer["TTFT target"] == "500 ms").all() and (answer["TPOT target"] == "40 ms").all()
    assert (table[table["class"] == "ticket-summary"]["TTFT target"] == "24 h").all()  # the batch preset
    assert (table["within targets"].between(0, 1)).all() and (table["required"] == 0.95).all()


def test_the_decision_page_shows_verdicts_and_a_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    """support-assistant: the APIs are cheaper but miss the 500 ms first-token target for a fifth or
    more of their answers; the verdict column says so, and the cumulative cost is drawn."""
    at = _page("decision", SUPPORT, monkeypatch)
    table = at.dataframe[0].value
    verdicts = dict(zip(table["option"], table["verdict"], strict=True))
    assert verdicts["gemini-2.5-flash"].startswith("misses latency targets: class 'answer': 80.")
    assert _metric(at, "Cheapest if latency targets are relaxed") == "gemini-2.5-flash"
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any(c["layout"]["title"]["text"] == "Cumulative cost (USD)" for c in charts)


def test_the_costs_page_labels_today_and_each_break_even(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page("costs", SUPPORT, monkeypatch)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    notes = [a["text"] for a in spec["layout"]["annotations"]]
    assert "today: 78.2 billion tokens a month" in notes
    assert any(n.startswith("owned-baseline-plus-flash = gemini-2.5-flash (") for n in notes)


def test_the_costs_page_draws_the_chart_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    """One chart at a time, the chosen one: support-assistant owns GPUs, so it has all three."""
    at = _page("costs", SUPPORT, monkeypatch)
    choice = at.segmented_control[0]
    assert choice.options == ["Cost against volume", "Monthly running costs", "Purchases and resale"]
    for name, title in (
        ("Monthly running costs", "Monthly running cost by category"),
        ("Purchases and resale", "Purchases"),
    ):
        choice.set_value(name).run()
        charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
        assert len(charts) == 1 and charts[0]["layout"]["title"]["text"].startswith(title), name


def test_relaxing_the_latency_floor_lets_the_api_be_recommended(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gemini 2.5 Flash answers 80.5% of support-assistant's answers within 500 ms: not enough under the
    default 95%, enough under 80%."""
    at = _page("decision", SUPPORT, monkeypatch)
    assert _metric(at, "Recommended") != "gemini-2.5-flash"
    floor = next(s for s in at.sidebar.slider if s.label == "Requests within targets required (%)")
    assert floor.value == 95
    floor.set_value(80).run()
    assert not at.exception
    assert at.session_state["scenario"].slo.min_attainment == 0.8
    assert _metric(at, "Recommended") == "gemini-2.5-flash"


def test_the_currency_shown_converts_every_sum_at_the_ecb_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page("decision", SUPPORT, monkeypatch)
    usd = _costs(at)
    currency = at.sidebar.selectbox(key="currency")
    assert currency.value == "USD"
    currency.set_value("JPY").run()
    assert not at.exception
    table = at.dataframe[0].value
    yen = dict(zip(table["option"], table["horizon cost (JPY)"].astype(float), strict=True))
    rate = at.session_state["scenario"].currency().per_usd
    assert rate == pytest.approx(175.68 / 1.1172, rel=1e-12)  # the ECB's of Friday 2026-10-30
    assert yen == pytest.approx({name: cost * rate for name, cost in usd.items()}, rel=1e-9)
    assert _metric(at, "Cost of privacy") == "-" or _metric(at, "Cost of privacy").startswith("¥")


ENGLISH_RUN = re.compile(r"\b[A-Za-z]+(?: [A-Za-z]+){2,}\b")
JAPANESE_PAGE = """
import sys

import streamlit as st

sys.path.insert(0, {root!r})
from dashboard import views

views.choose_language()
views.sidebar()
getattr(views, st.session_state["page"])()
"""


def test_table_headings_and_help_texts_read_in_japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the browser test cannot read as text, tables drawn on a canvas and help shown on hover, is
    the catalogue's Japanese."""
    from simulator import i18n

    ja = i18n.translations("ja")
    monkeypatch.setenv("RENT_OR_OWN_SCENARIO", SUPPORT)
    headings = {
        "decision": [
            *("option", "kind", "horizon cost ({currency})", "per month ({currency})"),
            *("SLO met", "verdict", "throughput"),
        ],
        "latency": ["option", "replicas at peak", "hardware at peak", "utilisation", "API share", "SLO met"],
        "privacy": ["option", "privacy and control score (0-100)", "requirements"],
    }
    for page, columns in headings.items():
        at = AppTest.from_string(JAPANESE_PAGE.format(root=str(ROOT)), default_timeout=TIMEOUT_S)
        at.query_params["lang"] = "ja"
        at.session_state["page"] = page
        at.run()
        assert not at.exception, page
        table = at.dataframe[0].value
        assert list(table.columns) == [ja.gettext(c).format(currency="USD") for c in columns]
        helps = [e.help for e in (*at.metric, *at.slider, *at.selectbox, *at.radio, *at.select_slider) if e.help]
        assert helps and not [h for h in helps if ENGLISH_RUN.search(h)], page
        if page == "decision":
            kinds = {ja.gettext(k) for k in ("api", "self-host", "hybrid")}
            assert set(table[ja.gettext("kind")]) <= kinds - {"api", "self-host", "hybrid"}
