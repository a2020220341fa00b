"""Money in the user's currency: the ECB's dated rate, shown and exported, never computed in."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest

from simulator.analysis.run import run_with_ledger
from simulator.catalog.currency import exchange_rate
from simulator.cli import main
from simulator.report.data import gather
from simulator.report.html import to_html
from simulator.report.write import write
from simulator.scenario import load_scenario, vary

from helpers import RESERVED, ROOT, make

SUPPORT = ROOT / "scenarios" / "support-assistant.yaml"
# The ECB's reference rates of Friday 2026-10-30 (eurofxref-hist): 1 EUR = 1.1172 USD = 175.68 JPY.
JPY_PER_USD = 175.68 / 1.1172


def test_the_rate_is_the_ecbs_of_the_price_date_or_the_last_working_day_before() -> None:
    sunday = exchange_rate("JPY", dt.date(2026, 11, 1))
    assert sunday.per_usd == pytest.approx(JPY_PER_USD, rel=1e-12)
    assert sunday.as_of == dt.date(2026, 10, 30) and "European Central Bank" in sunday.source
    assert exchange_rate("EUR", dt.date(2026, 10, 30)).per_usd == pytest.approx(1 / 1.1172, rel=1e-12)
    assert exchange_rate("USD", dt.date(2026, 11, 1)).per_usd == 1.0


def test_every_sum_stays_usd_and_is_shown_converted(capsys) -> None:
    own = make(options=[{"name": "api", "kind": "api", "provider": "openai", "model": "gpt-4o"}, RESERVED])
    yen = make(
        options=[{"name": "api", "kind": "api", "provider": "openai", "model": "gpt-4o"}, RESERVED],
        economics={"currency": "JPY"},
    )
    usd_result, _ = run_with_ledger(own)
    jpy_result, _ = run_with_ledger(yen)
    # The computation is the same: the JSON's USD figures do not move.
    assert [o.total_cost_usd for o in jpy_result.options] == [o.total_cost_usd for o in usd_result.options]
    assert jpy_result.currency.code == "JPY" and usd_result.currency.code == "USD"
    rates = [a for a in jpy_result.assumptions if a.item == "exchange rate (money shown)"]
    assert {a.option for a in rates} == {"api", "own"}
    assert all(a.unit == "JPY per USD" and a.as_of == "2026-10-30" for a in rates)
    assert not [a for a in usd_result.assumptions if a.item == "exchange rate (money shown)"]
    api = next(o for o in jpy_result.options if o.name == "api")
    assert jpy_result.currency.text(api.total_cost_usd) == f"¥{api.total_cost_usd * JPY_PER_USD:,.0f}"


def test_the_command_line_shows_the_currency_and_its_rate(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SUPPORT.read_text())
    assert main(["run", str(scenario), "--engine", "fluid", "--json"]) == 0
    usd = json.loads(capsys.readouterr().out)
    assert main(["run", str(scenario), "--engine", "fluid", "--set", "economics.currency=EUR"]) == 0
    out = capsys.readouterr().out
    assert "Money in EUR at 0.8951 per USD" in out and "2026-10-30" in out
    best = next(o for o in usd["options"] if o["name"] == usd["cheapest_compliant_option"])
    assert f"€{best['total_cost_usd'] / 1.1172:,.0f} over 36 months" in out
    assert "$" not in out


def test_a_rate_of_the_users_own_stands_for_any_currency() -> None:
    s = make(economics={"currency": "SAR", "exchange_rate": {"per_usd": 3.75, "as_of": "2026-11-01", "source": "peg"}})
    result, _ = run_with_ledger(s)
    assert (result.currency.code, result.currency.per_usd, result.currency.source) == ("SAR", 3.75, "peg")
    assert result.currency.text(1000) == "3,750 SAR"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            ["economics.currency=XYZ"],
            "s.yaml: economics.currency: unknown currency 'XYZ' (use one of AUD, BGN, BRL, CAD, CHF, CNY",
        ),
        (
            ["economics.currency=JPY", "economics.price_date=2027-03-01"],
            "s.yaml: economics.currency: no ECB rate of JPY per USD on 2027-03-01 or in the 7 days before (the "
            "bundled rates run from 1999-01-04 to 2026-10-30) (give economics.exchange_rate: {per_usd: ..., "
            "as_of: ..., source: ...})",
        ),
    ],
)
def test_an_unknown_currency_or_a_missing_rate_is_one_line(tmp_path: Path, capsys, setting, message) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SUPPORT.read_text())
    args = ["run", str(scenario), "--engine", "fluid"]
    for s in setting:
        args += ["--set", s]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_reports_show_and_export_the_currency(tmp_path: Path) -> None:
    scenario = vary(load_scenario(SUPPORT), [("economics.currency", "JPY")])
    data = gather(scenario, str(SUPPORT), "fluid")
    rate = data.result.currency.per_usd
    html = to_html(data)
    lead = next(o for o in data.result.options if o.name == data.result.cheapest_compliant_option)
    assert f"¥{lead.total_cost_usd * rate / 36:,.0f}" in html and "JPY/Mtok" in html
    (xlsx,) = write(data, tmp_path, ["xlsx"], "r")
    book = openpyxl.load_workbook(xlsx)
    options = book["Options"]
    header = [c.value for c in options[1]]
    row = next(r for r in options.iter_rows(min_row=2) if r[0].value == lead.name)
    cost = row[header.index("horizon cost")]
    assert cost.value == pytest.approx(lead.total_cost_usd * rate, rel=1e-12) and "¥" in cost.number_format
    monthly = [r[1] for r in book["Monthly"].iter_rows(min_row=2, max_row=2, values_only=True)]
    assert monthly[0] == pytest.approx(data.result.options[0].monthly_cost_usd[0] * rate, rel=1e-12)
    # The ledger stays in USD, the unit of computation.
    ledger = list(book["Ledger"].iter_rows(min_row=2, values_only=True))
    first = data.result.options[0]
    cash = sum(r[3] for r in ledger if r[0] == first.name and r[4] == "cash")
    assert cash == pytest.approx(first.total_cost_usd, rel=1e-9)
