"""One visual language for every chart and table: the dashboard and the reports draw with these.

An option keeps one colour on every figure and page (its place in the scenario picks it), its bands
share its line's colour, cost categories have colours of their own that never repeat, and labels are
words, not field names.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from simulator import i18n, units
from simulator.i18n import N_, _
from simulator.report.text import rounded_text

# Okabe and Ito's eight colours, which stay apart for readers with a colour-vision deficiency, then
# four more; black is kept for "today" and other reference lines.
OPTION_PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#7F7F7F",
    "#8C564B",
    "#17BECF",
    "#BCBD22",
    "#9467BD",
)
REFERENCE_COLOUR = "#222222"

# Running costs in blues and greens (API) or warm tones (self-hosted); one-off purchases apart.
CATEGORY_COLOURS = {
    "api_input": "#1F4E79",
    "api_cached_input": "#5B9BD5",
    "api_cache_write": "#9DC3E6",
    "api_output": "#2E8B57",
    "api_fine_tuning": "#8FBC8F",
    "gpu_rental": "#E69F00",
    "power": "#F0E442",
    "hosting": "#BC8F8F",
    "software": "#8C564B",
    "staff": "#CC79A7",
    "setup": "#9467BD",
    "fine_tuning": "#D2B48C",
    "gpu_capex": "#7F7F7F",
    "server_capex": "#B0B0B0",
    "residual_value": "#17BECF",
}
ONE_OFF_CATEGORIES = ("gpu_capex", "server_capex", "residual_value")
"""Purchases and the resale credit: shown apart from the monthly running costs they would swamp."""

FONT_FAMILY = '"DejaVu Sans", "Noto Sans CJK JP", Arial, sans-serif'
"""The report page's and every figure's font; Noto Sans CJK JP draws what DejaVu Sans has no glyphs for."""

LABELS = {
    # ledger categories
    "api_input": N_("API input"),
    "api_cached_input": N_("API cached input"),
    "api_cache_write": N_("API cache write"),
    "api_output": N_("API output"),
    "api_fine_tuning": N_("API fine-tuning"),
    "gpu_rental": N_("GPU rental"),
    "power": N_("Power"),
    "hosting": N_("Hosting"),
    "software": N_("Software"),
    "staff": N_("Staff"),
    "setup": N_("Setup"),
    "fine_tuning": N_("Fine-tuning"),
    "gpu_capex": N_("GPU purchase"),
    "server_capex": N_("Server purchase"),
    "residual_value": N_("Residual value"),
    # privacy and control criteria
    "data_boundary": N_("Data boundary"),
    "retention": N_("Retention"),
    "training_use": N_("Training use"),
    "residency": N_("Residency"),
    "certifications": N_("Certifications"),
    "model_control": N_("Model control"),
    "reproducibility": N_("Reproducibility"),
    "customisation": N_("Customisation"),
    "lock_in": N_("Lock-in"),
    "operational_burden": N_("Operational burden"),
    # privacy requirements
    "stays_in_boundary": N_("Stays in boundary"),
    "zero_retention": N_("Zero retention"),
    "no_training_use": N_("No training use"),
    "regions": N_("Regions"),
    "hipaa_baa": N_("HIPAA BAA"),
    "gdpr_dpa": N_("GDPR DPA"),
    # uncertain and swept inputs, as `figures.input_label` names them
    "discount_rate_per_year": N_("Discount rate per year"),
    "api_price_multiplier": N_("API price multiplier"),
    "api_price_decline_per_year": N_("API price decline per year"),
    "gpu_rental_price_decline_per_year": N_("GPU rental price decline per year"),
    "monthly_growth": N_("Monthly growth"),
    "scale": N_("Scale"),
    "rent.usd_per_gpu_hour": N_("Rental rate (USD per GPU-hour)"),
    "buy.gpu_purchase_usd": N_("GPU price (USD)"),
    "buy.server_usd_per_gpu": N_("Server price (USD per GPU)"),
    "buy.depreciation_years": N_("Depreciation (years)"),
    "buy.residual_value_share": N_("Residual value share"),
    "buy.usd_per_kwh": N_("Electricity (USD per kWh)"),
    "buy.pue": N_("PUE"),
    "buy.hosting_usd_per_kw_month": N_("Hosting (USD per kW-month)"),
    "buy.server_power_w_per_gpu": N_("Server power (W per GPU)"),
    "operations.staff_fte": N_("Staff (FTE)"),
    "operations.usd_per_fte_year": N_("Staff cost (USD per FTE-year)"),
    "operations.software_usd_per_gpu_month": N_("Software (USD per GPU-month)"),
    "operations.setup_engineer_months": N_("Setup (engineer-months)"),
    "perf.target_utilisation": N_("Target utilisation"),
    "perf.decode_bandwidth_efficiency": N_("Decode bandwidth efficiency"),
}
"""Every name `label` is shown with, in words; a name not here reads as its own words, in English."""

_WORDS = {
    "api": "API",
    "gpu": "GPU",
    "gpus": "GPUs",
    "capex": "purchase",
    "ttft": "TTFT",
    "tpot": "TPOT",
    "usd": "USD",
    "kwh": "kWh",
    "fte": "FTE",
    "slo": "SLO",
}


def option_colours(names: list[str]) -> dict[str, str]:
    """Each option's colour, by its place in the scenario: the same on every figure of a run."""
    return {name: OPTION_PALETTE[k % len(OPTION_PALETTE)] for k, name in enumerate(names)}


def translucent(colour: str, alpha: float) -> str:
    """`#RRGGBB` as an rgba() fill, for a band under its line."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def label(name: str, cpu: bool = False) -> str:
    """A field or category name in words of the active language: `gpu_rental` reads "GPU rental"
    ("Server rental" on CPUs)."""
    if cpu and name == "gpu_rental":
        return _("Server rental")
    if name in LABELS:
        return _(LABELS[name])
    return field_words(name)


def field_words(name: str) -> str:
    """Any field name in English words: `rent.usd_per_gpu_hour` reads "Rent USD per GPU hour"."""
    words = [_WORDS.get(w, w) for w in name.replace(".", " ").replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else text


def duration_text(ms: float) -> str:
    """A latency as people say it: 350 ms, 1.5 s, 10 min, 24 h."""
    seconds = units.ms_to_seconds(ms)
    if seconds < 1:
        return f"{i18n.number(ms)} ms"
    if seconds < units.SECONDS_PER_MINUTE:
        return f"{rounded_text(seconds, 3)} s"
    if seconds < units.SECONDS_PER_HOUR:
        return f"{rounded_text(seconds / units.SECONDS_PER_MINUTE, 3)} min"
    return f"{rounded_text(seconds / units.SECONDS_PER_HOUR, 3)} h"


def reference_line(
    fig: go.Figure, x: float, text: str, log_x: bool, dash: str = "dot", colour: str = REFERENCE_COLOUR
) -> None:
    """A labelled vertical line that survives a log axis: plotly places an annotation on a log axis
    at the exponent, and drops the one `add_vline` attaches, so the label is placed by hand."""
    fig.add_vline(x=x, line_dash=dash, line_color=colour)
    fig.add_annotation(
        x=math.log10(x) if log_x else x,
        y=1,
        yref="paper",
        text=text,
        showarrow=False,
        textangle=-90,
        xanchor="right",
        yanchor="top",
        font={"color": colour, "size": 11},
    )
