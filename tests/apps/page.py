"""One dashboard page behind the real sidebar, for AppTest (the page name comes in session_state)."""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dashboard import views

views.sidebar()
getattr(views, st.session_state["page"])()
