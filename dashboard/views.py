"""The dashboard's sidebar and pages. Every number comes from `simulator`; this module only shows it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
import yaml

from simulator import figures, report, sweep
from simulator.analysis import LedgerRow, RunResult, run_with_ledger
from simulator.errors import InputError
from simulator.probe import measured as mf
from simulator.scenario import Scenario, load_scenario, scenario_from_dict
from simulator.units import usd_text

ROOT = Path(__file__).resolve().parent.parent
# Ten steps a decade (the E10-like 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8): a key press is a ~25% move.
VOLUME_STEPS = [round(m * 10.0**e, 3) for e in (-1, 0, 1) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)] + [100.0]
SCENARIO_ENV = "RENT_OR_OWN_SCENARIO"


@st.cache_data(show_spinner="Simulating…", max_entries=64)
def evaluate(scenario_json: str, engine: str) -> tuple[RunResult, list[LedgerRow]]:
    """Cached on the scenario itself: a slider move reruns only when what it changes changes."""
    return run_with_ledger(Scenario.model_validate_json(scenario_json), engine)


@st.cache_data(show_spinner="Costing volumes…", max_entries=32)
def volume_grid(scenario_json: str) -> list[sweep.GridPoint]:
    scenario = Scenario.model_validate_json(scenario_json)
    return report.volume_points(scenario, scenario.model_dump(mode="json"), scenario.name)


@st.cache_data(show_spinner="Sampling…", max_entries=16)
def uncertainty_runs(scenario_json: str, samples: int) -> tuple[sweep.MonteCarlo, tuple[dict[str, float], list]]:
    scenario = Scenario.model_validate_json(scenario_json)
    return report.uncertainty(scenario, scenario.model_dump(mode="json"), scenario.name, samples)


def _base_scenario() -> Scenario | None:
    """The scenario the dashboard was started with, a bundled one, or an upload."""
    paths = {p.stem: p for p in sorted((ROOT / "scenarios").glob("*.yaml"))}
    started = os.environ.get(SCENARIO_ENV, "")
    if started:
        paths = {Path(started).stem: Path(started), **paths}
    names = list(paths)
    default = Path(started).stem if started else "support-assistant"
    choice = st.sidebar.selectbox("Scenario", names, index=names.index(default) if default in names else 0)
    uploaded = st.sidebar.file_uploader("…or upload a scenario YAML", type=["yaml", "yml"])
    try:
        if uploaded is not None:
            return scenario_from_dict(yaml.safe_load(uploaded.getvalue()), uploaded.name)
        return load_scenario(paths[choice])
    except (InputError, yaml.YAMLError) as e:
        st.sidebar.error(f"This scenario cannot be used: {e}")
        return None


def sidebar() -> None:
    """Scenario choice and the main drivers; the edited scenario goes to every page."""
    base = _base_scenario()
    if base is None:
        st.session_state["scenario"] = None
        return
    w, e = base.workload, base.economics
    st.sidebar.markdown("**Drivers** (defaults are the scenario's)")
    volume = st.sidebar.select_slider("Volume (x the scenario's)", options=VOLUME_STEPS, value=1.0)
    growth = st.sidebar.slider("Monthly growth (%)", -5.0, 20.0, float(w.monthly_growth * 100), 0.5)
    decline = st.sidebar.slider("API price decline per year (%)", 0.0, 90.0, float(e.api_price_decline_per_year * 100),
                                5.0)
    rental_decline = st.sidebar.slider("GPU rental price decline per year (%)", 0.0, 90.0,
                                       float(e.gpu_rental_price_decline_per_year * 100), 5.0)
    horizon = st.sidebar.slider("Horizon (months)", 6, 120, e.horizon_months, 6)
    hosted = [o for o in base.options if o.kind == "self_host"]
    planned = {o.name: o.perf.target_utilisation for o in hosted}
    if hosted:
        first = round(100 * hosted[0].perf.target_utilisation)
        utilisation = st.sidebar.slider("Target utilisation of self-hosted replicas (%)", 10, 100, first, 5,
                                        help="Starts at the first self-hosted option's; moving it sets every one.")
        if utilisation != first:
            planned = dict.fromkeys(planned, utilisation / 100)
    engine = st.sidebar.radio("Engine", ["fluid", "des"], horizontal=True,
                              help="fluid: instant; des: SimPy simulation with latency (slower)")
    options = [o.model_copy(update={"perf": o.perf.model_copy(update={"target_utilisation": planned[o.name]})})
               if o.name in planned else o for o in base.options]
    edited = base.model_copy(update={
        "options": options,
        "workload": w.model_copy(update={"scale": w.scale * volume, "monthly_growth": growth / 100}),
        "economics": e.model_copy(update={"api_price_decline_per_year": decline / 100,
                                          "gpu_rental_price_decline_per_year": rental_decline / 100,
                                          "horizon_months": horizon}),
    })
    st.session_state["scenario"] = edited
    st.session_state["engine"] = engine


def _current() -> tuple[Scenario, RunResult, list[LedgerRow]] | None:
    scenario = st.session_state.get("scenario")
    if scenario is None:
        st.info("Choose or upload a valid scenario in the sidebar.")
        return None
    result, ledger = evaluate(scenario.model_dump_json(), st.session_state.get("engine", "fluid"))
    return scenario, result, ledger



def decision() -> None:
    current = _current()
    if current is None:
        return
    _scenario, r, _ = current
    st.title(f"{r.scenario}: rent or own?")
    by = {o.name: o for o in r.options}
    cols = st.columns(4)
    best = by.get(r.cheapest_option or "")
    cols[0].metric("Cheapest option", r.cheapest_option or "none feasible",
                   help=f"{usd_text(best.total_cost_usd / r.horizon_months)} a month on average" if best else None)
    cols[1].metric("Cheapest compliant option", r.cheapest_compliant_option or "none")
    cols[2].metric("Cost of privacy", usd_text(r.cost_of_privacy_usd) if r.cost_of_privacy_usd is not None else "-")
    cols[3].metric("Today's volume (M tokens/month)", f"{r.tokens_per_month / 1e6:,.0f}")
    for b in r.break_even:
        c1, c2 = st.columns(2)
        c1.metric(f"Break-even volume of {b.option} (M tokens/month)",
                  f"{b.tokens_per_month / 1e6:,.0f}" if b.tokens_per_month else "never",
                  help=f"against {b.versus}")
        c2.metric(f"Payback month of {b.option}", str(b.payback_month) if b.payback_month else "none")
    rows = []
    for o in sorted(r.options, key=lambda o: o.total_cost_usd):
        top = max(o.cost_by_category_usd, key=o.cost_by_category_usd.get) if o.cost_by_category_usd else "-"
        rows.append({"option": o.name, "kind": o.kind, "horizon cost (USD)": round(o.total_cost_usd),
                     "largest cost": top, "feasible": o.feasible, "compliant": all(o.compliant.values()),
                     "throughput": o.perf_source or "-"})
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def costs() -> None:
    current = _current()
    if current is None:
        return
    scenario, r, ledger = current
    st.plotly_chart(figures.cost_versus_volume(r, volume_grid(scenario.model_dump_json())))
    st.plotly_chart(figures.cumulative_costs(r))
    st.plotly_chart(figures.monthly_costs(r, ledger))


def latency() -> None:
    current = _current()
    if current is None:
        return
    _, r, _ = current
    fig = figures.latency(r)
    if fig is None:
        st.info("Latency comes from the DES engine: choose it in the sidebar.")
    else:
        st.plotly_chart(fig)
    rows = [{"option": o.name, "replicas at peak": o.replicas_peak, "GPUs at peak": o.gpus_peak,
             "utilisation": o.utilisation, "API share": o.api_share, "SLO met": o.slo_attainment}
            for o in r.options if o.kind != "api"]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)


def privacy() -> None:
    current = _current()
    if current is None:
        return
    scenario, r, _ = current
    st.plotly_chart(figures.privacy(r))
    levels = sorted({c.sensitivity for c in scenario.workload.classes})
    st.dataframe(pd.DataFrame([{"level": lvl, **scenario.privacy.requirement(lvl).model_dump()} for lvl in levels]),
                 hide_index=True)
    st.dataframe(pd.DataFrame([{"option": o.name, **o.compliant} for o in r.options]), hide_index=True)
    if r.cost_of_privacy_usd is not None:
        st.metric("Cost of privacy over the horizon", usd_text(r.cost_of_privacy_usd))


def uncertainty() -> None:
    current = _current()
    if current is None:
        return
    scenario, r, _ = current
    if not scenario.uncertainty:
        st.info("This scenario has no uncertainty section (see the README).")
        return
    samples = st.slider("Samples", 50, 1000, 200, 50)
    mc, (base, bars) = uncertainty_runs(scenario.model_dump_json(), samples)
    st.plotly_chart(figures.cost_bands(mc, r.horizon_months))
    st.plotly_chart(figures.chance_cheapest(mc, r.horizon_months))
    if r.cheapest_option:
        st.plotly_chart(figures.tornado(base, bars, r.cheapest_option))


def measurements() -> None:
    files = sorted((ROOT / "measured").glob("*.json"))
    if not files:
        st.info("No measured files yet: rent-or-own probe llamacpp …")
        return
    choice = st.selectbox("Measured file", [f.name for f in files])
    m = mf.load(ROOT / "measured" / choice)
    st.caption(f"{m.model.name} ({m.model.precision}{', random-weight proxy' if m.model.proxy else ''}) on "
               f"{m.hardware.cpu_model}; {m.backend.name} {m.backend.version}; {m.created:%Y-%m-%d}")
    st.plotly_chart(figures.measured_steps(m))


def scenario_page() -> None:
    scenario = st.session_state.get("scenario")
    if scenario is None:
        st.info("Choose or upload a valid scenario in the sidebar.")
        return
    text = yaml.safe_dump(scenario.model_dump(mode="json", exclude_unset=True), sort_keys=False)
    st.download_button("Download the edited scenario (YAML)", text, file_name=f"{scenario.name}.yaml")
    st.code(text, language="yaml")


def export() -> None:
    current = _current()
    if current is None:
        return
    scenario, r, ledger = current
    data = report.ReportData(r, ledger, volume_grid(scenario.model_dump_json()), None, None)
    st.download_button("HTML report", report.to_html(data), file_name=f"{r.scenario}.html", mime="text/html")
    st.download_button("XLSX for finance", report.to_xlsx(data), file_name=f"{r.scenario}.xlsx")
    st.download_button("Markdown", report.to_markdown(data), file_name=f"{r.scenario}.md")
    try:
        report.chromium()
    except InputError as e:
        st.caption(f"PDF: {e}")
        return

    def pdf() -> bytes:  # printed only when asked for: Chromium takes a few seconds
        with tempfile.TemporaryDirectory() as folder:
            html, out = Path(folder) / "report.html", Path(folder) / "report.pdf"
            html.write_text(report.to_html(data), encoding="utf-8")
            report.html_to_pdf(html, out)
            return out.read_bytes()

    st.download_button("PDF for stakeholders", pdf, file_name=f"{r.scenario}.pdf", mime="application/pdf")

