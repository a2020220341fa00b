"""Every chart, drawn once: the reports and the dashboard both use these.

Each function takes results, not scenarios, and returns a plotly figure; units are in the axis titles.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from simulator import units
from simulator.analysis.results import LedgerRow, RunResult
from simulator.analysis.sweep import GridPoint, MonteCarlo, TornadoBar
from simulator.economics.ledger import CASH
from simulator.perf.fit import RooflineCheck, decode_points, fit
from simulator.perf.measured import Measured

LAYOUT = {"template": "plotly_white", "height": 420, "margin": {"l": 60, "r": 20, "t": 60, "b": 50}}


def monthly_costs(result: RunResult, ledger: list[LedgerRow]) -> go.Figure:
    """Monthly cash cost of each option, stacked by category."""
    names = [o.name for o in result.options]
    cols = min(2, len(names))  # two a row keeps six options on one printed page
    rows = -(-len(names) // cols)
    fig = make_subplots(rows=rows, cols=cols, shared_xaxes=True, subplot_titles=names, vertical_spacing=0.08)
    categories = sorted({r.category for r in ledger if r.view == CASH})
    months = np.arange(1, result.horizon_months + 1)
    shown: set[str] = set()  # each category in the legend once, wherever it first appears
    colour = {c: qualitative.Dark24[i % len(qualitative.Dark24)] for i, c in enumerate(categories)}
    for k, name in enumerate(names):
        row, col = k // cols + 1, k % cols + 1
        for category in categories:
            usd = np.zeros(result.horizon_months)
            for r in ledger:
                if r.option == name and r.category == category and r.view == CASH:
                    usd[r.month - 1] += r.usd
            if usd.any():
                fig.add_bar(
                    x=months,
                    y=usd,
                    name=category,
                    legendgroup=category,
                    showlegend=category not in shown,
                    marker_color=colour[category],
                    row=row,
                    col=col,
                )
                shown.add(category)
    fig.update_layout(
        barmode="relative",
        title="Monthly cost by category (USD, cash view)",
        **{**LAYOUT, "height": max(260 * rows, 420)},
    )
    return fig


def cumulative_costs(result: RunResult) -> go.Figure:
    """Cumulative cash cost of each option, with each self-hosted option's payback month marked."""
    fig = go.Figure()
    months = np.arange(1, result.horizon_months + 1)
    for o in result.options:
        fig.add_scatter(x=months, y=np.cumsum(o.monthly_cost_usd), mode="lines", name=o.name)
    for b in result.break_even:
        if b.payback_month:
            option = next(o for o in result.options if o.name == b.option)
            fig.add_scatter(
                x=[b.payback_month],
                y=[float(np.cumsum(option.monthly_cost_usd)[b.payback_month - 1])],
                mode="markers+text",
                text=[f"{b.option} pays back"],
                textposition="top center",
                marker={"size": 12, "symbol": "star"},
                showlegend=False,
            )
    fig.update_layout(title="Cumulative cost (USD)", xaxis_title="month", yaxis_title="USD", **LAYOUT)
    return fig


def cost_versus_volume(result: RunResult, points: list[GridPoint]) -> go.Figure:
    """Horizon cost against volume, with every break-even point and today's volume marked."""
    fig = go.Figure()
    tokens = [
        p.values["workload.scale"] / result.workload_scale * units.tokens_to_mtok(result.tokens_per_month)
        for p in points
    ]
    for name in points[0].total_cost_usd:
        fig.add_scatter(x=tokens, y=[p.total_cost_usd[name] for p in points], mode="lines", name=name)
    for b in result.break_even:
        if b.tokens_per_month:
            fig.add_vline(
                x=units.tokens_to_mtok(b.tokens_per_month),
                line_dash="dot",
                annotation_text=f"{b.option} = {b.versus}",
                annotation_textangle=-90,
            )
    fig.add_vline(x=units.tokens_to_mtok(result.tokens_per_month), line_color="black", annotation_text="today")
    fig.update_layout(
        title="Horizon cost against volume",
        xaxis_title="million tokens per month (log)",
        yaxis_title="USD over the horizon (log)",
        xaxis_type="log",
        yaxis_type="log",
        **LAYOUT,
    )
    return fig


def latency(result: RunResult) -> go.Figure | None:
    """p95 time to first token per class and option (DES results only)."""
    options = [o for o in result.options if o.latency]
    if not options:
        return None
    fig = go.Figure()
    for o in options:
        assert o.latency is not None
        fig.add_bar(x=list(o.latency), y=[v.ttft_p95_ms for v in o.latency.values()], name=o.name)
    fig.update_layout(title="p95 time to first token (ms, log)", yaxis_type="log", barmode="group", **LAYOUT)
    return fig


def capacity(result: RunResult) -> go.Figure | None:
    """Replicas at each month's peak per self-hosted path, and the share of a hybrid's requests sent to the API."""
    fleets = [o for o in result.options if o.replicas_peak_by_month]
    hybrids = [o for o in result.options if o.api_share_by_month]
    if not fleets:
        return None
    fig = make_subplots(
        rows=2 if hybrids else 1,
        cols=1,
        shared_xaxes=True,
        subplot_titles=["replicas at the month's peak"] + (["share of requests sent to the API"] if hybrids else []),
        vertical_spacing=0.12,
    )
    months = np.arange(1, result.horizon_months + 1)
    for o in fleets:
        fig.add_scatter(x=months, y=o.replicas_peak_by_month, mode="lines", line_shape="hv", name=o.name, row=1, col=1)
    for o in hybrids:
        fig.add_scatter(x=months, y=o.api_share_by_month, mode="lines", name=f"{o.name} to API", row=2, col=1)
    if hybrids:
        fig.update_yaxes(range=[0, 1], tickformat=".0%", row=2, col=1)
    fig.update_xaxes(title_text="month", row=2 if hybrids else 1, col=1)
    fig.update_layout(title="Capacity over the horizon", **{**LAYOUT, "height": 560 if hybrids else 420})
    return fig


def privacy(result: RunResult) -> go.Figure:
    """Privacy and control scores (0-100) per criterion and option."""
    criteria = [c.criterion for c in result.options[0].privacy_criteria]
    z = [[c.score for c in o.privacy_criteria] for o in result.options]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=criteria,
            y=[o.name for o in result.options],
            zmin=0,
            zmax=100,
            colorscale="RdYlGn",
            text=[[f"{v:.0f}" for v in row] for row in z],
            texttemplate="%{text}",
        )
    )
    fig.update_layout(title="Privacy and control (0-100, higher keeps more control)", **LAYOUT)
    return fig


def cost_bands(mc: MonteCarlo, months: int) -> go.Figure:
    """P10-P90 band and median of each option's cumulative cost."""
    fig = go.Figure()
    x = np.arange(1, months + 1)
    for name in mc.options:
        lo, mid, hi = (np.cumsum(q[name]) for q in (mc.p10_monthly_usd, mc.p50_monthly_usd, mc.p90_monthly_usd))
        fig.add_scatter(
            x=np.concatenate([x, x[::-1]]),
            y=np.concatenate([hi, lo[::-1]]),
            fill="toself",
            opacity=0.2,
            line={"width": 0},
            name=f"{name} P10-P90",
            showlegend=False,
            hoverinfo="skip",
        )
        fig.add_scatter(x=x, y=mid, mode="lines", name=name)
    fig.update_layout(
        title=f"Cumulative cost, median and P10-P90 over {mc.samples} samples (USD)", xaxis_title="month", **LAYOUT
    )
    return fig


def chance_cheapest(mc: MonteCarlo, months: int) -> go.Figure:
    fig = go.Figure()
    for name, p in mc.prob_cheapest_by_month.items():
        fig.add_scatter(x=np.arange(1, months + 1), y=p, mode="lines", name=name)
    fig.update_layout(
        title="Probability of being the cheapest by each month", xaxis_title="month", yaxis_range=[0, 1], **LAYOUT
    )
    return fig


def tornado(base: dict[str, float], bars: list[TornadoBar], option: str) -> go.Figure:
    """How far each uncertain input moves one option's horizon cost from its base."""
    fig = go.Figure()
    labels = [f"{b.field} ({b.low:g}..{b.high:g})" for b in bars][::-1]
    fig.add_bar(
        y=labels,
        x=[b.total_cost_usd_at_low[option] - base[option] for b in bars][::-1],
        orientation="h",
        name="low value",
    )
    fig.add_bar(
        y=labels,
        x=[b.total_cost_usd_at_high[option] - base[option] for b in bars][::-1],
        orientation="h",
        name="high value",
    )
    fig.update_layout(
        title=f"Sensitivity of {option}'s horizon cost (USD from its base)",
        barmode="overlay",
        **{**LAYOUT, "margin": {"l": 320, "r": 20, "t": 60, "b": 50}},
    )
    return fig


def measured_steps(measured: Measured, roofline: RooflineCheck | None = None) -> go.Figure:
    """Measured decode step time at each batch size or concurrency, the fitted line, and the roofline."""
    fitted = fit(measured)
    points = decode_points(measured)
    batches = [b for b, _, _ in points]
    measured_ms = [ms for _, ms, _ in points]
    fit_ms = [ms - residual for ms, residual in zip(measured_ms, fitted.residuals_ms, strict=True)]
    fig = go.Figure()
    fig.add_scatter(x=batches, y=measured_ms, mode="markers", name="measured", marker={"size": 10})
    fig.add_scatter(x=batches, y=fit_ms, mode="lines", name=f"fit (worst error {fitted.max_relative_error:.0%})")
    if roofline is not None:
        fig.add_scatter(
            x=batches,
            y=[roofline.step_ms(b) for b in batches],
            mode="lines",
            line_dash="dash",
            name=f"roofline of {roofline.gpus} x {roofline.device} "
            f"({roofline.decode_bandwidth_efficiency:.0%} of peak bandwidth reached)",
        )
    fig.update_layout(
        title=f"Decode step time: {measured.model.name} on {measured.backend.name}",
        xaxis_title="sequences decoded together",
        yaxis_title="step time (ms)",
        **{**LAYOUT, "legend": {"orientation": "h", "y": -0.2}},
    )
    return fig
