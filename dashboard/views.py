"""The dashboard's sidebar and pages. Every number comes from `simulator`; this module only shows it."""

from __future__ import annotations

import functools
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from simulator import api, catalog, i18n
from simulator.analysis.results import LedgerRow, RunResult
from simulator.analysis.sweep import GridPoint, MonteCarlo, TornadoBar
from simulator.catalog.currency import currencies
from simulator.economics import costs as economics
from simulator.errors import InputError
from simulator.files import check_size, decode_text, read_text
from simulator.i18n import N_, _
from simulator.perf import fit as pf
from simulator.perf import measured as mf
from simulator.perf.step import PERF_SOURCE_ROOFLINE
from simulator.report import figures
from simulator.report.data import REPORT_SAMPLES, ReportData, volume_points
from simulator.report.data import uncertainty as bands_and_tornado
from simulator.report.html import to_html
from simulator.report.markdown import to_markdown
from simulator.report.pdf import chromium, html_to_pdf
from simulator.report.style import duration_text, label
from simulator.report.text import (
    hardware_text,
    headline,
    kind_text,
    reasons_text,
    recommendation,
    slo_text,
    times_text,
    tokens_text,
    verdict,
)
from simulator.report.xlsx import to_xlsx
from simulator.scenario import Option, Scenario, scenario_from_dict, scenario_from_text
from simulator.scenario.roundtrip import edited_yaml

ROOT = Path(__file__).resolve().parent.parent
# Ten steps a decade (the E10-like 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8): a key press is a ~25% move.
VOLUME_STEPS = [round(m * 10.0**e, 3) for e in (-1, 0, 1) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)] + [100.0]
LENGTH_STEPS = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0]
SCENARIO_ENV = "RENT_OR_OWN_SCENARIO"
LANGUAGE_PARAMETER = "lang"
PROCUREMENTS = {"rent": N_("rent"), "buy": N_("buy")}
PROGRESS_EVERY_S = 0.5
P = ParamSpec("P")
R = TypeVar("R")


def choose_language() -> None:
    """The language switch, first in the sidebar; sets this run's language. It starts at the `lang` query
    parameter, else the server's environment, and keeps the parameter in step so that a link reopens it."""
    asked = st.query_params.get(LANGUAGE_PARAMETER, "")
    default = i18n.asked_or_environment(asked)
    codes = list(i18n.LANGUAGES)
    code = st.sidebar.selectbox(
        "Language / 言語", codes, index=codes.index(default), format_func=i18n.LANGUAGES.__getitem__, key="language"
    )
    i18n.set_language(code)
    if asked != code:
        st.query_params[LANGUAGE_PARAMETER] = code


def _share_columns() -> dict[str, Any]:
    """Shares (0-1) in the tables read as percentages."""
    return {
        name: st.column_config.NumberColumn(format="percent")
        for name in (_("API share"), _("within targets"), _("required"))
    } | {
        _("utilisation"): st.column_config.NumberColumn(
            format="percent",
            help=_(
                "DES: output tokens over what the replicas could produce at their largest batch. Fluid: the share "
                "of held GPU time the planned work fills, prefills included. Long prompts set the two apart."
            ),
        )
    }


def _cached(spinner: str, max_entries: int) -> Callable[[Callable[Concatenate[str, P], R]], Callable[P, R]]:
    """`st.cache_resource` for a function whose first argument is the language, passed here: the core
    writes its reasons in the active one, so results are kept per language. Results are shared, not
    copied (unpickling a run's ledger cost a rerun 12-23 ms), so the pages only read them. The spinner
    speaks the reader's (the cache's own text is fixed at import)."""

    def decorate(fn: Callable[Concatenate[str, P], R]) -> Callable[P, R]:
        cached = st.cache_resource(show_spinner=False, max_entries=max_entries)(fn)

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with st.spinner(_(spinner)):
                return cached(i18n.language(), *args, **kwargs)

        return run

    return decorate


@_cached(N_("Simulating…"), max_entries=64)
def evaluate(lang: str, scenario_json: str, engine: str) -> tuple[RunResult, list[LedgerRow]]:
    """Cached on the scenario itself: a slider move reruns only when what it changes changes. While it
    runs, a line names the step in progress (a DES run takes seconds)."""
    # Made in here: a cached function's drawing is replayed on a hit, into blocks of its own only.
    line = st.empty()
    ran = api.run(Scenario.model_validate_json(scenario_json), engine, progress=_every(PROGRESS_EVERY_S, line.caption))
    line.empty()
    return ran.summary, ran.ledger


def _every(seconds: float, show: Callable[[str], object]) -> Callable[[str], None]:
    """`show` once the run has taken `seconds`, then at most once every `seconds`: a quick run draws
    nothing, and each line shown is replayed on every cache hit."""
    shown_at = time.monotonic()

    def tell(step: str) -> None:
        nonlocal shown_at
        now = time.monotonic()
        if now - shown_at >= seconds:
            shown_at = now
            show(step)

    return tell


@_cached(N_("Costing volumes…"), max_entries=32)
def volume_grid(lang: str, scenario_json: str) -> list[GridPoint]:
    scenario = Scenario.model_validate_json(scenario_json)
    return volume_points(scenario, scenario.name)


@_cached(N_("Drawing the charts…"), max_entries=64)
def costs_charts(lang: str, scenario_json: str, engine: str) -> dict[str, go.Figure]:
    """The Costs page's charts by name, built once per run and language (plotly takes 60-90 ms to build
    the month-by-month panels alone); plotly_chart copies a figure before sending it, so they stay as
    built. The cumulative cost is the Decision page's."""
    result, ledger = evaluate(scenario_json, engine)
    charts = {
        _("Cost against volume"): figures.cost_versus_volume(result, volume_grid(scenario_json)),
        _("Monthly running costs"): figures.monthly_costs(result, ledger),
        _("Purchases and resale"): figures.purchases(result),
    }
    return {name: chart for name, chart in charts.items() if chart is not None}


@_cached(N_("Sampling…"), max_entries=16)
def uncertainty_runs(lang: str, scenario_json: str, samples: int) -> tuple[MonteCarlo, tuple[dict[str, float], list]]:
    scenario = Scenario.model_validate_json(scenario_json)
    return bands_and_tornado(scenario, scenario.name, samples)


@st.cache_data(show_spinner=False, max_entries=16)
def _parsed(text: str, source: str) -> Scenario:
    """The scenario a text holds, read once: every rerun starts from it (an error is raised anew, not kept)."""
    return scenario_from_text(text, source)


def _base_scenario() -> tuple[Scenario, str] | None:
    """The scenario the dashboard was started with, a bundled one, or an upload, and its text."""
    paths = {p.stem: p for p in sorted((ROOT / "scenarios").glob("*.yaml"))}
    started = os.environ.get(SCENARIO_ENV, "")
    if started:
        paths = {Path(started).stem: Path(started), **paths}
    names = list(paths)
    default = Path(started).stem if started else "support-assistant"
    choice = st.sidebar.selectbox(_("Scenario"), names, index=names.index(default) if default in names else 0)
    uploaded = st.sidebar.file_uploader(_("…or upload a scenario YAML"), type=["yaml", "yml"])
    try:
        if uploaded is not None:
            check_size(uploaded.size, uploaded.name)
            text, source = decode_text(uploaded.getvalue(), uploaded.name), uploaded.name
        else:  # read once: the text is kept for the download that writes the edits back into it
            text, source = read_text(paths[choice]), str(paths[choice])
        return _parsed(text, source), text
    except InputError as e:
        st.sidebar.error(_("This scenario cannot be used: {error}").format(error=e))
        return None


Edit = tuple[str, str, float | str, float | str]  # (section, field, value in force, value chosen)


def _number(key: str, section: str, field: str, in_force: float, label: str, low: float, step: float, fmt: str) -> Edit:
    """A number input for one option field, starting at the value in force."""
    return section, field, in_force, st.number_input(label, low, value=in_force, step=step, format=fmt, key=key)


def _per_option(base: Scenario) -> dict[str, dict[str, dict[str, float | str]]]:
    """Inputs for each self-hosted option, starting at the terms in force; returns only what was moved."""
    edits: dict[str, dict[str, dict[str, float | str]]] = {}
    for o in base.options:
        if o.kind != "self_host":
            continue
        key = f"{base.name}:{o.name}"
        inputs: list[Edit] = []
        with st.sidebar.expander(f"{o.name} ({_(PROCUREMENTS[o.procurement])}, {o.gpu})"):
            if o.procurement == "rent":
                label = _("Rental rate (USD per GPU-hour, {tier})").format(tier=o.rent.tier)
                rate = economics.rental_rate(o).value
                inputs.append(_number(f"{key}:rate", "rent", "usd_per_gpu_hour", rate, label, 0.0, 0.1, "%.2f"))
            else:
                price = economics.gpu_price(o).value
                label = _("GPU price (USD per GPU)")
                inputs.append(_number(f"{key}:price", "buy", "gpu_purchase_usd", price, label, 1.0, 1000.0, "%.0f"))
                kwh = economics.electricity(o).value
                label = _("Electricity (USD per kWh)")
                inputs.append(_number(f"{key}:kwh", "buy", "usd_per_kwh", kwh, label, 0.0, 0.01, "%.3f"))
            fte = economics.staff_fte(o).value
            label = _("Staff (engineers, FTE)")
            inputs.append(_number(f"{key}:fte", "operations", "staff_fte", fte, label, 0.0, 0.25, "%.2f"))
            engines = list(catalog.engines())
            engine = st.selectbox(
                _("Serving engine (its batch limits and step costs)"),
                engines,
                index=engines.index(o.perf.engine),
                format_func=lambda name: catalog.engine(name).display_name,
                key=f"{key}:engine",
            )
            inputs.append(("perf", "engine", o.perf.engine, engine))
            planned = round(100 * o.perf.target_utilisation)
            chosen = st.slider(_("Target utilisation (%)"), 10, 100, planned, 5, key=f"{key}:utilisation")
            inputs.append(("perf", "target_utilisation", planned / 100, chosen / 100))
        for section, name, in_force, value in inputs:
            if value != in_force:
                edits.setdefault(o.name, {}).setdefault(section, {})[name] = value
    return edits


def _edited_option(o: Option, edits: dict[str, dict[str, float | str]]) -> Option:
    return o.model_copy(
        update={section: getattr(o, section).model_copy(update=fields) for section, fields in edits.items()}
    )


def sidebar() -> None:
    """Scenario choice and the main drivers; the edited scenario goes to every page."""
    loaded = _base_scenario()
    st.session_state["scenario"] = None
    if loaded is None:
        return
    base, st.session_state["scenario_text"] = loaded
    st.session_state["base_scenario"] = base
    w, e = base.workload, base.economics
    st.sidebar.markdown(_("**Load** (defaults are the scenario's)"))
    volume = st.sidebar.select_slider(_("Volume (x the scenario's)"), options=VOLUME_STEPS, value=1.0)
    growth = st.sidebar.slider(_("Monthly growth (%)"), -5.0, 20.0, float(w.monthly_growth * 100), 0.5)
    prompt = st.sidebar.select_slider(_("Prompt length (x the scenario's)"), options=LENGTH_STEPS, value=1.0)
    output = st.sidebar.select_slider(_("Output length (x the scenario's)"), options=LENGTH_STEPS, value=1.0)
    requests = sum(c.requests_per_day for c in w.classes)
    cached_now = round(100 * sum(c.cached_input_share * c.requests_per_day for c in w.classes) / requests)
    cached = st.sidebar.slider(
        _("Cached share of prompt tokens (%)"),
        0,
        100,
        cached_now,
        1,
        help=_("Starts at the classes' request-weighted share; moving it sets every class."),
    )
    st.sidebar.markdown(_("**Prices**"))
    api_price = st.sidebar.slider(
        _("API price (% of list)"),
        10,
        200,
        round(100 * e.api_price_multiplier),
        5,
        help=_("Below 100 for a negotiated discount."),
    )
    decline = st.sidebar.slider(
        _("API price decline per year (%)"), 0.0, 90.0, float(e.api_price_decline_per_year * 100), 5.0
    )
    rental_decline = st.sidebar.slider(
        _("GPU rental price decline per year (%)"), 0.0, 90.0, float(e.gpu_rental_price_decline_per_year * 100), 5.0
    )
    horizon = st.sidebar.slider(_("Horizon (months)"), 6, 120, e.horizon_months, 6)
    shown = [e.currency, *(c for c in ("USD", "EUR", "GBP", "JPY") if c != e.currency)]
    currency = st.sidebar.selectbox(
        _("Currency shown"),
        shown + [c for c in currencies() if c not in shown],
        key="currency",
        help=_("Money is computed in USD and shown at the ECB's reference rate of the price date."),
    )
    st.sidebar.markdown(_("**Latency targets**"))
    floor_now = round(100 * base.slo.min_attainment)
    floor = st.sidebar.slider(
        _("Requests within targets required (%)"),
        50,
        100,
        floor_now,
        1,
        help=_("An option below this share for any class is not recommended; a class's own percentile still applies."),
    )
    st.sidebar.markdown(_("**Self-hosted options**"))
    edits = _per_option(base)
    engine = st.sidebar.radio(
        _("Engine"),
        ["fluid", "des"],
        horizontal=True,
        help=_("fluid: instant; des: SimPy simulation with latency (slower)"),
    )

    classes = []
    for c in w.classes:
        update: dict = {}
        if prompt != 1.0:
            update["input_tokens"] = c.input_tokens.scaled(prompt)
        if output != 1.0:
            update["output_tokens"] = c.output_tokens.scaled(output)
        if cached != cached_now:
            update["cached_input_share"] = cached / 100
        classes.append(c.model_copy(update=update) if update else c)
    economics_update: dict = {
        "api_price_decline_per_year": decline / 100,
        "gpu_rental_price_decline_per_year": rental_decline / 100,
        "horizon_months": horizon,
    }
    if currency != e.currency:  # a rate of the scenario's own stands for its own currency only
        economics_update.update(currency=currency, exchange_rate=None)
    if api_price != round(100 * e.api_price_multiplier):
        economics_update["api_price_multiplier"] = api_price / 100
    edited = base.model_copy(
        update={
            "options": [_edited_option(o, edits[o.name]) if o.name in edits else o for o in base.options],
            "workload": w.model_copy(
                update={"scale": w.scale * volume, "monthly_growth": growth / 100, "classes": classes}
            ),
            "economics": e.model_copy(update=economics_update),
            **({"slo": base.slo.model_copy(update={"min_attainment": floor / 100})} if floor != floor_now else {}),
        }
    )
    try:  # the edits pass the same checks as a scenario file
        st.session_state["scenario"] = scenario_from_dict(
            edited.model_dump(mode="json", exclude_unset=True), "the edited scenario"
        )
    except InputError as err:
        st.sidebar.error(str(err))
    st.session_state["engine"] = engine


def _current() -> tuple[Scenario, RunResult, list[LedgerRow]] | None:
    scenario = st.session_state.get("scenario")
    if scenario is None:
        st.info(_("Choose or upload a valid scenario in the sidebar."))
        return None
    result, ledger = evaluate(scenario.model_dump_json(), st.session_state.get("engine", "fluid"))
    return scenario, result, ledger


def decision() -> None:
    current = _current()
    if current is None:
        return
    _scenario, r, _ledger = current
    st.title(_("{scenario}: rent or own?").format(scenario=r.scenario))
    by = {o.name: o for o in r.options}
    cols = st.columns(2) + st.columns(2)  # two a row: option names are long
    best = by.get(r.cheapest_compliant_option or "")
    cols[0].metric(
        _("Recommended"),
        r.cheapest_compliant_option or _("none"),
        help=_(
            "Cheapest option meeting every latency target and privacy requirement: {cost} a month on average"
        ).format(cost=r.currency.text(best.total_cost_usd / r.horizon_months))
        if best
        else _("Cheapest option meeting every latency target and privacy requirement"),
    )
    cols[1].metric(
        _("Cost of privacy"),
        r.currency.text(r.cost_of_privacy_usd) if r.cost_of_privacy_usd is not None else "-",
        help=_("Over the horizon, against {option}, the cheapest meeting the latency targets").format(
            option=r.cheapest_option
        ),
    )
    cols[2].metric(_("Cheapest if latency targets are relaxed"), r.cheapest_relaxed_option or _("none feasible"))
    cols[3].metric(_("Today's volume"), _("{tokens} tokens a month").format(tokens=tokens_text(r.tokens_per_month)))
    for line in recommendation(r):
        st.markdown(line.replace("$", "\\$"))  # a dollar sign would start LaTeX
    st.plotly_chart(figures.cumulative_costs(r))
    for b in r.break_even:
        c1, c2 = st.columns(2)
        c1.metric(
            _("Break-even volume of {option}").format(option=b.option),
            _("{times} today's").format(times=times_text(b.scale / r.workload_scale))
            if b.scale is not None
            else _("never"),
            help=_("against {versus}: {tokens} tokens a month").format(
                versus=b.versus, tokens=tokens_text(b.tokens_per_month)
            )
            if b.tokens_per_month
            else _("against {versus}").format(versus=b.versus),
        )
        c2.metric(
            _("Payback month of {option}").format(option=b.option),
            str(b.payback_month) if b.payback_month else _("none"),
        )
    code = r.currency.code
    horizon_cost = _("horizon cost ({currency})").format(currency=code)
    per_month = _("per month ({currency})").format(currency=code)
    rows = [
        {
            _("option"): o.name,
            _("kind"): kind_text(o.kind),
            horizon_cost: r.currency.of_usd(o.total_cost_usd),
            per_month: r.currency.of_usd(o.total_cost_usd / r.horizon_months),
            _("SLO met"): slo_text(o),
            _("verdict"): verdict(o, r),
            _("throughput"): _("roofline-estimate") if o.perf_source == PERF_SOURCE_ROOFLINE else o.perf_source or "-",
        }
        for o in sorted(r.options, key=lambda o: o.total_cost_usd)
    ]
    money = {name: st.column_config.NumberColumn(format="localized") for name in (horizon_cost, per_month)}
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config=money)


def costs() -> None:
    current = _current()
    if current is None:
        return
    scenario = current[0]
    st.title(_("Costs"))
    charts = costs_charts(scenario.model_dump_json(), st.session_state.get("engine", "fluid"))
    # One chart at a time: a browser draws each in 50-130 ms, and a reader reads one at a time.
    names = list(charts)
    shown = st.segmented_control(_("Chart"), names, default=names[0], key="costs_chart")
    st.plotly_chart(charts[shown if shown in charts else names[0]])


def latency() -> None:
    current = _current()
    if current is None:
        return
    scenario, r, _ledger = current
    st.title(_("Capacity and latency"))
    rows = [
        {
            _("option"): o.name,
            _("replicas at peak"): o.replicas_peak if o.replicas_peak is not None else "-",
            _("hardware at peak"): hardware_text(o),
            _("utilisation"): o.utilisation,
            _("API share"): o.api_share if o.api_share is not None else 0.0,
            _("SLO met"): slo_text(o),
        }
        for o in r.options
        if o.kind != "api"
    ]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, column_config=_share_columns())
    fig = figures.latency(r)
    if fig is None:
        st.info(_("Latency comes from the DES engine: choose it in the sidebar."))
    else:
        st.plotly_chart(fig)
        goal = {c.name: c.latency for c in scenario.workload.classes}
        floor = {c.name: scenario.min_attainment(c) for c in scenario.workload.classes}
        targets = [
            {
                _("option"): o.name,
                _("class"): c,
                _("TTFT p95"): duration_text(v.ttft_p95_ms),
                _("TTFT target"): duration_text(goal[c].ttft_ms),
                _("TPOT p95"): duration_text(v.tpot_p95_ms),
                _("TPOT target"): duration_text(goal[c].tpot_ms),
                _("within targets"): v.slo_attainment,
                _("required"): floor[c],
            }
            for o in r.options
            if o.latency
            for c, v in o.latency.items()
        ]
        st.dataframe(pd.DataFrame(targets), hide_index=True, column_config=_share_columns())
    fleet = figures.capacity(r)
    if fleet is not None:
        st.plotly_chart(fleet)


def privacy() -> None:
    current = _current()
    if current is None:
        return
    scenario, r, _ledger = current
    st.title(_("Privacy and control"))
    if r.cost_of_privacy_usd is not None:
        st.metric(_("Cost of privacy over the horizon"), r.currency.text(r.cost_of_privacy_usd))
    st.plotly_chart(figures.privacy(r))
    st.subheader(_("Total score and requirements broken"))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    _("option"): o.name,
                    _("privacy and control score (0-100)"): round(o.privacy_score),
                    _("requirements"): reasons_text(o.compliance_reasons) if o.compliance_reasons else _("all met"),
                }
                for o in sorted(r.options, key=lambda o: -o.privacy_score)
            ]
        ),
        hide_index=True,
    )
    st.subheader(_("Requirements by sensitivity level"))
    levels = sorted({c.sensitivity for c in scenario.workload.classes})
    st.dataframe(
        pd.DataFrame(
            [
                {_("level"): lvl, **{label(k): v for k, v in scenario.privacy.requirement(lvl).model_dump().items()}}
                for lvl in levels
            ]
        ),
        hide_index=True,
    )


def uncertainty() -> None:
    current = _current()
    if current is None:
        return
    scenario, r, _ledger = current
    st.title(_("Uncertainty"))
    if not scenario.uncertainty:
        st.info(_("This scenario has no uncertainty section (see the README)."))
        return
    samples = st.slider(_("Samples"), 50, 1000, REPORT_SAMPLES, 50)
    ran = _uncertainty(scenario, samples)
    if ran is None:
        return
    mc, (base, bars) = ran
    st.plotly_chart(figures.cost_bands(mc, r.horizon_months, r.currency))
    st.plotly_chart(figures.chance_cheapest(mc, r.horizon_months))
    if headline(r):
        st.plotly_chart(figures.tornado(base, bars, headline(r), r.currency))


def _uncertainty(
    scenario: Scenario, samples: int
) -> tuple[MonteCarlo, tuple[dict[str, float], list[TornadoBar]]] | None:
    """The Monte Carlo and tornado, or None with the error shown (an uncertainty the scenario cannot take)."""
    try:
        return uncertainty_runs(scenario.model_dump_json(), samples)
    except InputError as e:
        st.error(_("The uncertainty section cannot be sampled: {error}").format(error=e))
        return None


def measurements() -> None:
    st.title(_("Measurements"))
    files = sorted((ROOT / "measured").glob("*.json"))
    if not files:
        st.info(_("No measured files yet: {command}").format(command="rent-or-own probe llamacpp …"))
        return
    choice = st.selectbox(_("Measured file"), [f.name for f in files])
    m = mf.load(ROOT / "measured" / choice)
    about = (
        _("{model} ({precision}, random-weight proxy) on {machine}; {backend} {version}; {date}")
        if m.model.proxy
        else _("{model} ({precision}) on {machine}; {backend} {version}; {date}")
    )
    st.caption(
        about.format(
            model=m.model.name,
            precision=m.model.precision,
            machine=m.hardware.machine(),
            backend=m.backend.name,
            version=m.backend.version,
            date=f"{m.created:%Y-%m-%d}",
        )
    )
    fitted = pf.fit(m)
    recognised = pf.recognised_device(m)
    devices = list(catalog.gpus())
    device = st.selectbox(
        _("Roofline of"),
        devices,
        index=devices.index(recognised.name) if recognised else None,
        placeholder=_("the hardware is not in the catalogue: choose a device"),
        help=_("Recognised from the file's hardware fingerprint when the catalogue knows it."),
    )
    check = pf.against_roofline(m, fitted, catalog.gpu(device)) if device else None
    st.plotly_chart(figures.measured_steps(m, check))
    if check is not None:
        cols = st.columns(2)
        cols[0].metric(
            _("Decode: share of peak memory bandwidth"),
            i18n.percent(check.decode_bandwidth_efficiency),
            help=_("{weight} GB of weights a step at the smallest batch").format(
                weight=i18n.number(check.weight_gb, 2)
            ),
        )
        if check.prefill_compute_efficiency is not None:
            cols[1].metric(_("Prefill: share of peak FLOP/s"), i18n.percent(check.prefill_compute_efficiency))
    elif device:
        st.info(
            _("No roofline: the file's weight format {precision} or parameter count is unknown.").format(
                precision=repr(m.model.precision)
            )
        )


def scenario_page() -> None:
    st.title(_("Scenario"))
    scenario = st.session_state.get("scenario")
    if scenario is None:
        st.info(_("Choose or upload a valid scenario in the sidebar."))
        return
    text = edited_yaml(st.session_state["scenario_text"], st.session_state["base_scenario"], scenario)
    st.caption(
        _(
            "The scenario as written, with only the values moved in the sidebar changed: comments, order and "
            "presets kept."
        )
    )
    st.download_button(_("Download the edited scenario (YAML)"), text, file_name=f"{scenario.name}.yaml")
    st.code(text, language="yaml")


def export() -> None:
    current = _current()
    if current is None:
        return
    scenario, r, ledger = current
    key = scenario.model_dump_json()
    ran = _uncertainty(scenario, REPORT_SAMPLES) if scenario.uncertainty else None
    mc, tornado = ran if ran is not None else (None, None)
    data = ReportData(r, ledger, volume_grid(key), mc, tornado)
    st.title(_("Export"))
    st.caption(
        _(
            "Every export holds the answer at the volume and settings in the sidebar, with the source and date "
            "of every number behind it."
        )
    )
    language = i18n.language()

    def on_click(build: Callable[[ReportData], R]) -> Callable[[], R]:
        """`build(data)` when its button is clicked (Streamlit calls it outside the page's run, so the
        page's language goes with it): opening the page builds no file."""

        def built() -> R:
            with i18n.using(language):
                return build(data)

        return built

    st.download_button(_("HTML report"), on_click(to_html), file_name=f"{r.scenario}.html", mime="text/html")
    st.caption(_("One self-contained page with interactive charts: opens offline in any browser."))
    st.download_button(_("XLSX for finance"), on_click(to_xlsx), file_name=f"{r.scenario}.xlsx")
    st.caption(_("The options, monthly totals with a chart, the whole cost ledger and the assumptions, as numbers."))
    st.download_button(_("Markdown"), on_click(to_markdown), file_name=f"{r.scenario}.md")
    st.caption(_("The recommendation, the options and the assumptions as text, for a wiki or a pull request."))
    try:
        chromium()
    except InputError as e:
        st.caption(f"PDF: {e}")
        return

    def pdf(data: ReportData) -> bytes:  # Chromium takes a few seconds
        with tempfile.TemporaryDirectory() as folder:
            html, out = Path(folder) / "report.html", Path(folder) / "report.pdf"
            html.write_text(to_html(data), encoding="utf-8")
            html_to_pdf(html, out)
            return out.read_bytes()

    st.download_button(_("PDF for stakeholders"), on_click(pdf), file_name=f"{r.scenario}.pdf", mime="application/pdf")
    st.caption(_("The HTML report printed for reading and sending: takes a few seconds."))
