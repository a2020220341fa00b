"""Every chart, drawn once: the reports and the dashboard both use these.

Each function takes results, not scenarios, and returns a plotly figure; units are in the axis titles.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from simulator import i18n
from simulator.analysis.results import LedgerRow, RunResult
from simulator.analysis.sweep import GridPoint, MonteCarlo, TornadoBar
from simulator.economics.ledger import CASH
from simulator.i18n import _, ngettext
from simulator.perf.fit import RooflineCheck, decode_points, fit
from simulator.perf.measured import Measured
from simulator.report import style
from simulator.report.text import rounded_text, times_text, tokens_text
from simulator.units import Currency

LAYOUT = {
    "template": pio.templates["plotly_white"],
    "height": 420,
    "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
    "font": {"family": style.FONT_FAMILY},
}


def _figure() -> go.Figure:
    """An empty chart on the shared layout, built unvalidated: plotly checks every property it is given,
    the template's hundreds too (about 30 ms a chart, most of a dashboard's rerun), and these charts are
    made of checked values. `tests/test_style.py` validates every chart."""
    return go.Figure(layout=LAYOUT, _validate=False)


def _colours(result: RunResult) -> dict[str, str]:
    return style.option_colours([o.name for o in result.options])


def monthly_costs(result: RunResult, ledger: list[LedgerRow]) -> go.Figure:
    """Monthly running cash cost of each option, stacked by category, every panel on one scale;
    purchases and the resale credit are left to `purchases`, as they would swamp the months."""
    names = [o.name for o in result.options]
    renters = {o.name for o in result.options if o.cost_by_category_usd.get("gpu_rental")}
    cpu_only = bool(renters) and all(o.hardware_unit == "CPU server" for o in result.options if o.name in renters)
    cols = min(2, len(names))  # two a row keeps six options on one printed page
    rows = -(-len(names) // cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_xaxes=True,
        shared_yaxes="all",
        subplot_titles=names,
        vertical_spacing=0.08,
        figure=_figure(),
    )
    running = [c for c in style.CATEGORY_COLOURS if c not in style.ONE_OFF_CATEGORIES]
    months = np.arange(1, result.horizon_months + 1)
    by_cost: dict[tuple[str, str], np.ndarray] = {}  # (option, category): USD a month, from one pass
    for r in ledger:
        if r.view == CASH:
            usd = by_cost.get((r.option, r.category))
            if usd is None:
                usd = by_cost[r.option, r.category] = np.zeros(result.horizon_months)
            usd[r.month - 1] += r.usd
    shown: set[str] = set()  # each category in the legend once, wherever it first appears
    for k, name in enumerate(names):
        row, col = k // cols + 1, k % cols + 1
        for category in running:
            usd = by_cost.get((name, category), np.zeros(result.horizon_months))
            if usd.any():
                fig.add_bar(
                    x=months,
                    y=result.currency.of_usd(usd),
                    name=style.label(category, cpu=cpu_only),
                    legendgroup=category,
                    showlegend=category not in shown,
                    marker_color=style.CATEGORY_COLOURS[category],
                    row=row,
                    col=col,
                )
                shown.add(category)
    fig.update_layout(
        barmode="relative",
        title_text=_(
            "Monthly running cost by category ({currency}, cash view; purchases and resale shown apart)"
        ).format(currency=result.currency.code),
        height=max(260 * rows, 420),
    )
    return fig


def purchases(result: RunResult) -> go.Figure | None:
    """What owned options pay up front (GPUs and servers) and get back at the end (resale)."""
    owners = [o for o in result.options if any(o.cost_by_category_usd.get(c) for c in style.ONE_OFF_CATEGORIES)]
    if not owners:
        return None
    fig = _figure()
    for category in style.ONE_OFF_CATEGORIES:
        fig.add_bar(
            x=[o.name for o in owners],
            y=[result.currency.of_usd(o.cost_by_category_usd.get(category, 0.0)) for o in owners],
            name=style.label(category),
            marker_color=style.CATEGORY_COLOURS[category],
        )
    fig.update_layout(
        title_text=_("Purchases and resale over the horizon ({currency}; resale is a credit)").format(
            currency=result.currency.code
        ),
        barmode="relative",
    )
    return fig


def cumulative_costs(result: RunResult) -> go.Figure:
    """Cumulative cash cost of each option, with each self-hosted option's payback month marked."""
    fig = _figure()
    colour = _colours(result)
    months = np.arange(1, result.horizon_months + 1)
    for o in result.options:
        cumulative = result.currency.of_usd(np.cumsum(o.monthly_cost_usd))
        fig.add_scatter(x=months, y=cumulative, mode="lines", name=o.name, line_color=colour[o.name])
    for b in result.break_even:
        if b.payback_month:
            option = next(o for o in result.options if o.name == b.option)
            fig.add_scatter(
                x=[b.payback_month],
                y=[result.currency.of_usd(float(np.cumsum(option.monthly_cost_usd)[b.payback_month - 1]))],
                mode="markers+text",
                text=[_("{option} pays back (month {month})").format(option=b.option, month=b.payback_month)],
                textposition="top center",
                marker={"size": 12, "symbol": "star", "color": colour[b.option]},
                showlegend=False,
            )
    code = result.currency.code
    fig.update_layout(
        title_text=_("Cumulative cost ({currency})").format(currency=code),
        xaxis_title_text=_("month"),
        yaxis_title_text=code,
    )
    return fig


def cost_versus_volume(result: RunResult, points: list[GridPoint]) -> go.Figure:
    """Horizon cost against volume in multiples of today's, with today and every break-even labelled."""
    fig = _figure()
    colour = _colours(result)
    today = result.workload_scale
    times = [p.values["workload.scale"] / today for p in points]
    tokens = [tokens_text(t * result.tokens_per_month) for t in times]
    for name in points[0].total_cost_usd:
        fig.add_scatter(
            x=times,
            y=[result.currency.of_usd(p.total_cost_usd[name]) for p in points],
            mode="lines",
            name=name,
            line_color=colour[name],
            customdata=tokens,
            hovertemplate=_("{times} today: {tokens} tokens a month").format(
                times=_("{ratio}x").format(ratio="%{x:.3g}"), tokens="%{customdata}"
            )
            + "<br>%{y:,.0f} "
            + result.currency.code
            + "<extra>"
            + name
            + "</extra>",
        )
    for b in result.break_even:
        if b.scale is not None and b.scale > 0:
            style.reference_line(
                fig,
                b.scale / today,
                f"{b.option} = {b.versus} ({times_text(b.scale / today)})",
                True,
                colour=colour[b.option],
            )
    style.reference_line(
        fig,
        1.0,
        _("today: {tokens} tokens a month").format(tokens=tokens_text(result.tokens_per_month)),
        True,
        dash="solid",
    )
    marked = [*times, 1.0, *(b.scale / today for b in result.break_even if b.scale)]
    decades = [10.0**k for k in range(math.floor(math.log10(min(marked))), math.ceil(math.log10(max(marked))) + 1)]
    fig.update_layout(
        title_text=_("Horizon cost against volume"),
        xaxis_title_text=_("volume, multiple of today's (log)"),
        yaxis_title_text=_("{currency} over the horizon (log)").format(currency=result.currency.code),
        xaxis={"type": "log", "tickvals": decades, "ticktext": [times_text(d) for d in decades]},
        yaxis={"type": "log", "dtick": 1, "tickformat": "~s", "tickprefix": result.currency.symbol},
    )
    return fig


def latency(result: RunResult) -> go.Figure | None:
    """p95 time to first token per class and option (DES results only), each class's target marked."""
    options = [o for o in result.options if o.latency]
    if not options:
        return None
    fig = _figure()
    colour = _colours(result)
    for o in options:
        assert o.latency is not None
        fig.add_bar(
            x=list(o.latency), y=[v.ttft_p95_ms for v in o.latency.values()], name=o.name, marker_color=colour[o.name]
        )
    classes = [c for c in result.latency_targets if any(c in (o.latency or {}) for o in options)]
    fig.add_scatter(
        x=classes,
        y=[result.latency_targets[c].ttft_ms for c in classes],
        mode="markers+text",
        marker={"symbol": "line-ew-open", "size": 60, "line": {"width": 3, "color": style.REFERENCE_COLOUR}},
        text=[
            _("target {duration}").format(duration=style.duration_text(result.latency_targets[c].ttft_ms))
            for c in classes
        ],
        textposition="top center",
        name=_("TTFT target"),
    )
    fig.update_layout(title_text=_("p95 time to first token (ms, log)"), yaxis_type="log", barmode="group")
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
        subplot_titles=[_("replicas at the month's peak")]
        + ([_("share of requests sent to the API")] if hybrids else []),
        vertical_spacing=0.12,
        figure=_figure(),
    )
    months = np.arange(1, result.horizon_months + 1)
    colour = _colours(result)
    for o in fleets:
        fig.add_scatter(
            x=months,
            y=o.replicas_peak_by_month,
            mode="lines",
            line_shape="hv",
            name=o.name,
            line_color=colour[o.name],
            row=1,
            col=1,
        )
    for o in hybrids:
        fig.add_scatter(
            x=months,
            y=o.api_share_by_month,
            mode="lines",
            name=_("{option} to API").format(option=o.name),
            line={"color": colour[o.name], "dash": "dash"},
            row=2,
            col=1,
        )
    if hybrids:
        fig.update_yaxes(range=[0, 1], tickformat=".0%", row=2, col=1)
    fig.update_xaxes(title_text=_("month"), row=2 if hybrids else 1, col=1)
    fig.update_layout(title_text=_("Capacity over the horizon"), height=560 if hybrids else 420)
    return fig


def privacy(result: RunResult) -> go.Figure:
    """Privacy and control scores (0-100) per criterion and option."""
    criteria = [c.criterion for c in result.options[0].privacy_criteria]
    z = [[c.score for c in o.privacy_criteria] for o in result.options]
    fig = _figure()
    fig.add_trace(
        go.Heatmap(
            z=z,
            x=[style.label(c) for c in criteria],
            y=[o.name for o in result.options],
            zmin=0,
            zmax=100,
            colorscale="RdYlGn",
            text=[[i18n.number(v) for v in row] for row in z],
            texttemplate="%{text}",
        )
    )
    fig.update_layout(title_text=_("Privacy and control (0-100, higher keeps more control)"))
    return fig


def cost_bands(mc: MonteCarlo, months: int, currency: Currency) -> go.Figure:
    """P10-P90 band and median of each option's cumulative cost, the band in its line's colour (the
    Monte Carlo lists the options in the scenario's order, which fixes each one's colour)."""
    fig = _figure()
    colour = style.option_colours(mc.options)
    x = np.arange(1, months + 1)
    for name in mc.options:
        lo, mid, hi = (
            currency.of_usd(np.cumsum(q[name])) for q in (mc.p10_monthly_usd, mc.p50_monthly_usd, mc.p90_monthly_usd)
        )
        fig.add_scatter(
            x=np.concatenate([x, x[::-1]]),
            y=np.concatenate([hi, np.maximum(lo, 0)[::-1]]),  # a cumulative cost is never below zero
            fill="toself",
            fillcolor=style.translucent(colour[name], 0.2),
            line={"width": 0},
            name=f"{name} P10-P90",
            legendgroup=name,
            showlegend=False,
            hoverinfo="skip",
        )
        fig.add_scatter(x=x, y=mid, mode="lines", name=name, legendgroup=name, line_color=colour[name])
    fig.update_layout(
        title_text=ngettext(
            "Cumulative cost, median and P10-P90 over {n} sample ({currency})",
            "Cumulative cost, median and P10-P90 over {n} samples ({currency})",
            mc.samples,
        ).format(n=i18n.number(mc.samples), currency=currency.code),
        xaxis_title_text=_("month"),
    )
    return fig


def chance_cheapest(mc: MonteCarlo, months: int) -> go.Figure:
    fig = _figure()
    colour = style.option_colours(mc.options)
    for name, p in mc.prob_cheapest_by_month.items():
        fig.add_scatter(x=np.arange(1, months + 1), y=p, mode="lines", name=name, line_color=colour[name])
    fig.update_layout(
        title_text=_(
            "Probability of being the cheapest by each month (of those meeting the targets; owned "
            "hardware's resale is credited in the last month)"
        ),
        xaxis_title_text=_("month"),
        yaxis_range=[0, 1],
    )
    return fig


def input_label(field: str) -> str:
    """An uncertain input's field path in words: `options[llama].rent.usd_per_gpu_hour` reads
    "llama: rent USD per GPU hour"."""
    option, _bracket, rest = field.partition("].")
    if option.startswith("options[") and rest:
        return _("{option}: {input}").format(option=option.removeprefix("options["), input=style.label(rest))
    return style.label(field.split(".", 1)[-1])


def tornado(base: dict[str, float], bars: list[TornadoBar], option: str, currency: Currency) -> go.Figure:
    """How far each uncertain input moves one option's horizon cost from its base."""
    fig = _figure()
    labels = [
        _("{input} ({low} to {high})").format(
            input=input_label(b.field), low=rounded_text(b.low, 3), high=rounded_text(b.high, 3)
        )
        for b in bars
    ][::-1]
    fig.add_bar(
        y=labels,
        x=[currency.of_usd(b.total_cost_usd_at_low[option] - base[option]) for b in bars][::-1],
        orientation="h",
        name=_("low value"),
        marker_color=style.OPTION_PALETTE[4],
    )
    fig.add_bar(
        y=labels,
        x=[currency.of_usd(b.total_cost_usd_at_high[option] - base[option]) for b in bars][::-1],
        orientation="h",
        name=_("high value"),
        marker_color=style.OPTION_PALETTE[5],
    )
    fig.update_layout(
        title_text=_("Sensitivity of {option}'s horizon cost ({currency} from its base)").format(
            option=option, currency=currency.code
        ),
        barmode="overlay",
        margin={"l": 320, "r": 20, "t": 60, "b": 50},
    )
    return fig


def measured_steps(measured: Measured, roofline: RooflineCheck | None = None) -> go.Figure:
    """Measured decode step time at each batch size or concurrency, the fitted line, and the roofline."""
    fitted = fit(measured)
    points = decode_points(measured)
    batches = [b for b, _ms, _context in points]
    measured_ms = [ms for _b, ms, _context in points]
    fit_ms = [ms - residual for ms, residual in zip(measured_ms, fitted.residuals_ms, strict=True)]
    fig = _figure()
    fig.add_scatter(x=batches, y=measured_ms, mode="markers", name=_("measured"), marker={"size": 10})
    fig.add_scatter(
        x=batches,
        y=fit_ms,
        mode="lines",
        name=_("fit (worst error {error})").format(error=i18n.percent(fitted.max_relative_error)),
    )
    if roofline is not None:
        fig.add_scatter(
            x=batches,
            y=[roofline.step_ms(b) for b in batches],
            mode="lines",
            line_dash="dash",
            name=_("roofline of {gpus} x {device} ({share} of peak bandwidth reached)").format(
                gpus=roofline.gpus, device=roofline.device, share=i18n.percent(roofline.decode_bandwidth_efficiency)
            ),
        )
    fig.update_layout(
        title_text=_("Decode step time: {model} on {backend}").format(
            model=measured.model.name, backend=measured.backend.name
        ),
        xaxis_title_text=_("sequences decoded together"),
        yaxis_title_text=_("step time (ms)"),
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
