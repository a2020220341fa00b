"""The XLSX report for finance: options, monthly totals with a native chart, the ledger, assumptions."""

from __future__ import annotations

import io

import xlsxwriter

from simulator.analysis.results import LedgerRow
from simulator.report.data import ReportData
from simulator.report.text import OPTION_HEADER


def to_xlsx(d: ReportData) -> bytes:
    """Ledger, monthly totals with a native line chart, options and assumptions, for finance."""
    r = d.result
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    money = book.add_format({"num_format": "$#,##0"})
    bold = book.add_format({"bold": True})
    summary = book.add_worksheet("Options")
    for c, h in enumerate(OPTION_HEADER):
        summary.write(0, c, h, bold)
    for i, o in enumerate(sorted(r.options, key=lambda o: o.total_cost_usd), start=1):
        summary.write(i, 0, o.name)
        summary.write(i, 1, o.kind)
        summary.write_number(i, 2, o.total_cost_usd, money)
        summary.write_number(i, 3, o.npv_cost_usd, money)
    monthly = book.add_worksheet("Monthly")
    monthly.write(0, 0, "month", bold)
    for c, o in enumerate(r.options, start=1):
        monthly.write(0, c, o.name, bold)
        for m, usd in enumerate(o.monthly_cost_usd, start=1):
            monthly.write_number(m, c, usd, money)
    for m in range(1, r.horizon_months + 1):
        monthly.write_number(m, 0, m)
    chart = book.add_chart({"type": "line"})
    for c in range(1, len(r.options) + 1):
        chart.add_series(
            {
                "name": ["Monthly", 0, c],
                "categories": ["Monthly", 1, 0, r.horizon_months, 0],
                "values": ["Monthly", 1, c, r.horizon_months, c],
            }
        )
    chart.set_title({"name": "Monthly cost (USD, cash view)"})
    chart.set_x_axis({"name": "month"})
    monthly.insert_chart(1, len(r.options) + 2, chart, {"x_scale": 2, "y_scale": 1.5})
    ledger = book.add_worksheet("Ledger")
    for c, h in enumerate(LedgerRow.model_fields):
        ledger.write(0, c, h, bold)
    for i, row in enumerate(d.ledger, start=1):
        ledger.write(i, 0, row.option)
        ledger.write_number(i, 1, row.month)
        ledger.write(i, 2, row.category)
        ledger.write_number(i, 3, row.usd, money)
        ledger.write(i, 4, row.view)
    sheet = book.add_worksheet("Assumptions")
    for c, h in enumerate(("option", "item", "value", "unit", "source", "as of")):
        sheet.write(0, c, h, bold)
    for i, a in enumerate(r.assumptions, start=1):
        sheet.write_row(i, 0, [a.option, a.item, a.value, a.unit, a.source, a.as_of])
    book.close()
    return buffer.getvalue()
