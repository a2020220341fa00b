"""rent-or-own dashboard: the decision on one screen, every driver on a slider.

Presentation only: it edits the scenario with `model_copy`, calls the same `run` as the CLI, and
draws the same figures as the reports. Start it with `rent-or-own dashboard [SCENARIO]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the pages import dashboard.views

from dashboard import views  # noqa: E402
from simulator.i18n import _  # noqa: E402

st.set_page_config(page_title="rent-or-own", layout="wide")
views.choose_language()
views.sidebar()
page = st.navigation(
    [
        st.Page(views.decision, title=_("Decision"), url_path="decision", default=True),
        st.Page(views.costs, title=_("Costs"), url_path="costs"),
        st.Page(views.latency, title=_("Capacity and latency"), url_path="latency"),
        st.Page(views.privacy, title=_("Privacy and control"), url_path="privacy"),
        st.Page(views.uncertainty, title=_("Uncertainty"), url_path="uncertainty"),
        st.Page(views.measurements, title=_("Measurements"), url_path="measurements"),
        st.Page(views.scenario_page, title=_("Scenario"), url_path="scenario"),
        st.Page(views.export, title=_("Export"), url_path="export"),
    ]
)
page.run()
