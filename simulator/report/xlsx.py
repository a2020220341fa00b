"""The XLSX report for finance: options, monthly totals with a native chart, the ledger, assumptions."""

from __future__ import annotations

import io
import unicodedata

import xlsxwriter

from simulator.analysis.results import LedgerRow
from simulator.economics.ledger import CASH
from simulator.i18n import N_, _
from simulator.report import style
from simulator.report.data import ReportData
from simulator.report.text import option_columns, option_rows

LEDGER_HEADER = {
    "option": N_("option"),
    "month": N_("month"),
    "category": N_("category"),
    "usd": N_("usd"),
    "view": N_("view"),
}
"""The Ledger sheet's column names; its cells keep the codes of the CSV ledger."""


def _width(text: str) -> int:
    """Columns a text takes in a spreadsheet: two for each full-width (CJK) character."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def to_xlsx(d: ReportData) -> bytes:
    """Ledger, monthly totals with a native line chart, options and assumptions, for finance."""
    r = d.result
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    cur = r.currency
    money = book.add_format({"num_format": cur.excel_format})
    usd = book.add_format({"num_format": "$#,##0"})  # the ledger stays in USD, the unit of computation
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    summary = book.add_worksheet(_("Options"))
    columns = option_columns(r)
    header = list(columns.values())
    cost, npv, per_mtok, privacy, verdict = (
        list(columns).index(k) for k in ("horizon_cost", "npv", "per_mtok", "privacy", "verdict")
    )
    for c, h in enumerate(header):
        summary.write(0, c, h, bold)
    numbers = {  # cells a spreadsheet should sum and sort as numbers, in the currency shown
        o.name: {
            cost: cur.of_usd(o.total_cost_usd),
            npv: cur.of_usd(o.npv_cost_usd),
            per_mtok: cur.of_usd(o.usd_per_mtok) if o.usd_per_mtok is not None else None,
            privacy: o.privacy_score,
        }
        for o in r.options
    }
    cells = option_rows(r)
    for i, cell_row in enumerate(cells, start=1):
        for c, text in enumerate(cell_row):
            value = numbers[cell_row[0]].get(c)
            if value is None:
                summary.write_string(i, c, text)
            else:
                summary.write_number(i, c, value, money if c in (cost, npv) else None)
    for c, h in enumerate(header):  # wide enough for the longest cell, verdicts capped
        widest = max(_width(h), *(_width(cell_row[c]) for cell_row in cells))
        summary.set_column(c, c, min(widest + 2, 60), wrap if c == verdict else None)
    summary.freeze_panes(1, 1)
    summary.autofilter(0, 0, len(cells), len(header) - 1)
    monthly = book.add_worksheet(_("Monthly"))
    running_name = _("Running costs")
    running = book.add_worksheet(running_name)
    for sheet in (monthly, running):
        sheet.write(0, 0, _("month"), bold)
        sheet.freeze_panes(1, 1)
        for m in range(1, r.horizon_months + 1):
            sheet.write_number(m, 0, m)
    for c, o in enumerate(r.options, start=1):
        monthly.write(0, c, o.name, bold)
        running.write(0, c, o.name, bold)
        for m, cost_usd in enumerate(o.monthly_cost_usd, start=1):
            monthly.write_number(m, c, cur.of_usd(cost_usd), money)
        for m, cost_usd in enumerate(_running(d.ledger, o.name, r.horizon_months), start=1):
            running.write_number(m, c, cur.of_usd(cost_usd), money)
        monthly.set_column(c, c, max(12, len(o.name) + 2))
        running.set_column(c, c, max(12, len(o.name) + 2))
    # The chart draws running costs: a purchase and a resale credit would set its axis, not the months.
    chart = book.add_chart({"type": "line"})
    colours = style.option_colours([o.name for o in r.options])
    for c, o in enumerate(r.options, start=1):
        chart.add_series(
            {
                "name": [running_name, 0, c],
                "categories": [running_name, 1, 0, r.horizon_months, 0],
                "values": [running_name, 1, c, r.horizon_months, c],
                "line": {"color": colours[o.name]},
            }
        )
    chart.set_title(
        {
            "name": _("Monthly running cost ({currency}, cash view; purchases and resale apart)").format(
                currency=cur.code
            )
        }
    )
    chart.set_x_axis({"name": _("month")})
    chart.set_y_axis({"num_format": cur.excel_format, "min": 0})
    running.insert_chart(1, len(r.options) + 2, chart, {"x_scale": 2, "y_scale": 1.5})
    ledger = book.add_worksheet(_("Ledger"))
    for c, field in enumerate(LedgerRow.model_fields):
        ledger.write(0, c, _(LEDGER_HEADER[field]), bold)
    for i, row in enumerate(d.ledger, start=1):
        ledger.write(i, 0, row.option)
        ledger.write_number(i, 1, row.month)
        ledger.write(i, 2, row.category)
        ledger.write_number(i, 3, row.usd, usd)
        ledger.write(i, 4, row.view)
    sheet = book.add_worksheet(_("Assumptions"))
    for c, h in enumerate((_("option"), _("item"), _("value"), _("unit"), _("source"), _("as of"))):
        sheet.write(0, c, h, bold)
    for i, a in enumerate(r.assumptions, start=1):
        sheet.write_row(i, 0, [a.option, a.item, a.value, a.unit, a.source, a.as_of])
    book.close()
    return buffer.getvalue()


def _running(ledger: list[LedgerRow], option: str, months: int) -> list[float]:
    """An option's monthly cash cost without purchases and the resale credit."""
    usd = [0.0] * months
    for row in ledger:
        if row.option == option and row.view == CASH and row.category not in style.ONE_OFF_CATEGORIES:
            usd[row.month - 1] += row.usd
    return usd
