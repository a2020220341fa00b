"""One visual language for every chart and table: the dashboard and the reports draw with these.

An option keeps one colour on every figure and page (its place in the scenario picks it), its bands
share its line's colour, cost categories have colours of their own that never repeat, and labels are
words, not field names.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from simulator import units

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
    """A field or category name in words: `gpu_rental` reads "GPU rental" ("server rental" on CPUs)."""
    if cpu and name == "gpu_rental":
        return "Server rental"
    words = [_WORDS.get(w, w) for w in name.replace(".", " ").replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else text


def duration_text(ms: float) -> str:
    """A latency as people say it: 350 ms, 1.5 s, 10 min, 24 h."""
    seconds = units.ms_to_seconds(ms)
    if seconds < 1:
        return f"{ms:,.0f} ms"
    if seconds < units.SECONDS_PER_MINUTE:
        return f"{seconds:.3g} s"
    if seconds < units.SECONDS_PER_HOUR:
        return f"{seconds / units.SECONDS_PER_MINUTE:.3g} min"
    return f"{seconds / units.SECONDS_PER_HOUR:.3g} h"


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
