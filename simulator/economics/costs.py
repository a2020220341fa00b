"""Pure economics: what each option's usage costs per month (API bills per request; rented and owned
GPUs with capex, depreciation and resale, power, hosting and staff), as a ledger in both views.
"""

from __future__ import annotations

import numpy as np

from simulator import catalog, units
from simulator.catalog.api_prices import UnitPrices, unit_prices
from simulator.economics.ledger import AMORTISED, CASH, Assumption, OptionCosts, given_or, sourced
from simulator.economics.pricing import API_CATEGORIES, RequestShape, usd_per_request
from simulator.i18n import _
from simulator.scenario import ApiOption, Scenario, SelfHostOption
from simulator.usage import OptionUsage
from simulator.workload import TokenStats


def staff_fte(option: SelfHostOption) -> Assumption:
    default = "staff_fte_buy" if option.procurement == "buy" else "staff_fte_rent"
    return sourced(option.name, _("staff"), option.operations.staff_fte, default, "fte")


def electricity(option: SelfHostOption) -> Assumption:
    return sourced(option.name, _("electricity"), option.buy.usd_per_kwh, "usd_per_kwh", _("usd_per_kwh"))


def rental_rate(option: SelfHostOption) -> Assumption:
    """The option's GPU-hour price: its own, or the catalogue's for its GPU and tier."""
    listed = catalog.gpu(option.gpu).rental_usd_per_gpu_hour.get(option.rent.tier)
    item = _("{gpu} {tier} rental").format(gpu=option.gpu, tier=option.rent.tier)
    return given_or(option.name, item, option.rent.usd_per_gpu_hour, listed, _("usd_per_gpu_hour"))


def gpu_price(option: SelfHostOption) -> Assumption:
    """The price of one GPU: the option's own, or the catalogue's."""
    listed = catalog.gpu(option.gpu).purchase_usd
    item = _("{gpu} purchase").format(gpu=option.gpu)
    return given_or(option.name, item, option.buy.gpu_purchase_usd, listed, _("usd_per_gpu"))


class Economics:
    """Prices the usages of one scenario; caches per-request prices across calls."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.months = scenario.economics.horizon_months
        self.month_index = np.arange(self.months)
        self.shapes = {
            c.name: RequestShape(
                TokenStats(c.input_tokens),
                TokenStats(c.output_tokens).mean() + c.reasoning_tokens_per_request,
                c.cached_input_share,
                c.cache_write_share,
            )
            for c in scenario.workload.classes
        }
        self._tables: dict[tuple[str, str, bool], np.ndarray] = {}
        # The prices each table rests on: (model id, batched, source, as of, input and output USD per Mtok).
        self._price_sources: dict[tuple[str, str, bool], set[tuple[str, bool, str, str, float, float]]] = {}

    def costs(self, usage: OptionUsage) -> OptionCosts:
        option = self.scenario.option(usage.name)
        costs = OptionCosts(option=usage.name, months=self.months)
        if usage.api is not None:
            api = self.scenario.option(usage.api.option)
            assert isinstance(api, ApiOption)
            self._api_bill(costs, api, usage)
        if isinstance(option, ApiOption) and option.fine_tuning is not None:
            ft = option.fine_tuning
            usd = (
                ft.training_usd_per_mtok
                * ft.training_mtok_per_run
                * units.usd_per_year_to_usd_per_month(ft.runs_per_year)
            )
            costs.add("api_fine_tuning", np.full(self.months, usd))
        self_host = self.scenario.fleet_of(option)
        if self_host is not None and usage.fleet is not None:
            self._self_host(costs, self_host, usage)
        return costs

    # --- API ----------------------------------------------------------------------------------

    def _api_bill(self, costs: OptionCosts, api: ApiOption, usage: OptionUsage) -> None:
        assert usage.api is not None
        econ = self.scenario.economics
        price_factor = econ.api_price_multiplier * units.decline_factor(
            econ.api_price_decline_per_year, self.month_index
        )
        if econ.api_price_multiplier != 1:
            item = _("{provider} price multiplier").format(provider=api.provider)
            costs.assumptions.append(
                Assumption(costs.option, item, econ.api_price_multiplier, _("ratio"), "scenario", "")
            )
        billed = np.zeros((self.months, len(API_CATEGORIES)))
        for batch, requests in ((False, usage.api.standard), (True, usage.api.batch)):
            for cls, by_local_hour in requests.items():
                billed += (by_local_hour @ self._price_table(api, cls, batch)) * price_factor[:, None]
            in_force = set().union(*(self._price_sources[api.name, cls, batch] for cls in requests))
            for model_id, batched, source, as_of, inp, out in sorted(in_force):
                items = (
                    (_("{provider}/{model} batch input"), _("{provider}/{model} batch output"))
                    if batched
                    else (_("{provider}/{model} input"), _("{provider}/{model} output"))
                )
                for item, value in zip(items, (inp, out), strict=True):
                    costs.assumptions.append(
                        Assumption(
                            costs.option,
                            item.format(provider=api.provider, model=model_id),
                            value,
                            _("usd_per_mtok"),
                            source,
                            as_of,
                        )
                    )
        for k, category in enumerate(API_CATEGORIES):
            costs.add(category, billed[:, k])
        latency = catalog.api_latency(api.provider, api.model)
        assert latency.spread is not None
        spread = latency.spread
        for item, value, unit, source, dated in (  # the verdict on latency targets rests on these
            (_("{provider}/{model} TTFT, median"), latency.ttft_ms, "ms", latency.source, latency.as_of),
            (
                _("{provider}/{model} output speed, median"),
                latency.output_tok_per_s,
                _("tok_per_s"),
                latency.source,
                latency.as_of,
            ),
            (_("{provider}/{model} TTFT spread"), spread.ttft_sd_log, "sd_log", spread.source, spread.as_of),
            (_("{provider}/{model} time per token spread"), spread.tpot_sd_log, "sd_log", spread.source, spread.as_of),
        ):
            costs.assumptions.append(
                Assumption(
                    costs.option, item.format(provider=api.provider, model=api.model), value, unit, source, str(dated)
                )
            )

    def _price_table(self, api: ApiOption, cls: str, batch: bool) -> np.ndarray:
        """Expected USD per request of a class in each local hour, by category: (24, categories)."""
        key = (api.name, cls, batch)
        if key not in self._tables:
            econ = self.scenario.economics
            offset = self.scenario.workload.utc_offset_hours
            table = np.zeros((units.HOURS_PER_DAY, len(API_CATEGORIES)))
            sources = self._price_sources[key] = set()
            rows: dict[UnitPrices, list[float]] = {}  # most hours share one price
            for h in range(units.HOURS_PER_DAY):
                hour_utc = int((h - offset) % units.HOURS_PER_DAY)
                prices, batched = unit_prices(
                    api.provider, api.model, self.scenario.api_prices, econ.price_date, hour_utc, batch
                )
                if prices not in rows:
                    rows[prices] = list(usd_per_request(self.shapes[cls], prices).values())
                table[h] = rows[prices]
                # Time-of-day prices give one entry per distinct price in force.
                in_out = (prices.input.base_usd_per_mtok, prices.output.base_usd_per_mtok)
                sources.add((prices.model_id, batched, prices.source, prices.as_of.isoformat(), *in_out))
            self._tables[key] = table
        return self._tables[key]

    # --- self-hosted --------------------------------------------------------------------------

    def _self_host(self, costs: OptionCosts, option: SelfHostOption, usage: OptionUsage) -> None:
        fleet = usage.fleet
        assert fleet is not None
        gpu = catalog.gpu(option.gpu)
        for t in fleet.perf_terms:  # the GPU-hours rest on the replica's speed
            costs.note(Assumption(costs.option, t.item, t.value, t.unit, t.source, t.as_of))
        ops = option.operations
        fte = costs.note(staff_fte(option))
        usd_per_fte_year = costs.sourced(
            _("engineer cost"), ops.usd_per_fte_year, "usd_per_fte_year", _("usd_per_fte_year")
        )
        usd_per_fte_month = units.usd_per_year_to_usd_per_month(usd_per_fte_year)
        costs.add("staff", np.full(self.months, fte * usd_per_fte_month))
        setup = costs.sourced(
            _("set-up engineering"), ops.setup_engineer_months, "setup_engineer_months", _("engineer_months")
        )
        costs.add("setup", np.eye(1, self.months).ravel() * setup * usd_per_fte_month)
        software = costs.sourced(
            _("software"), ops.software_usd_per_gpu_month, "software_usd_per_gpu_month", _("usd_per_gpu_month")
        )
        average_gpus = fleet.gpu_hours / units.HOURS_PER_MONTH
        costs.add("software", average_gpus * software)
        on_demand = gpu.rental_usd_per_gpu_hour["on_demand"]
        if option.fine_tuning is not None:
            ft = option.fine_tuning
            rate = ft.usd_per_gpu_hour if ft.usd_per_gpu_hour is not None else on_demand.value
            usd = ft.gpu_hours_per_run * units.usd_per_year_to_usd_per_month(ft.runs_per_year) * rate
            costs.add("fine_tuning", np.full(self.months, usd))
        if option.procurement == "rent":
            self._rent(costs, option, usage)
        else:
            self._buy(costs, option, usage)

    def _rent(self, costs: OptionCosts, option: SelfHostOption, usage: OptionUsage) -> None:
        fleet = usage.fleet
        assert fleet is not None
        terms = option.rent
        rate = costs.note(rental_rate(option))
        decline_per_year = self.scenario.economics.gpu_rental_price_decline_per_year
        term = {"reserved_1y": units.MONTHS_PER_YEAR, "reserved_3y": 3 * units.MONTHS_PER_YEAR}.get(terms.tier)
        if term is None:
            billed_hours = fleet.gpu_hours
            if terms.tier == "spot":  # preempted work is redone on hours that are billed too
                overhead = costs.sourced(
                    _("spot interruptions"),
                    terms.spot_interruption_overhead,
                    "spot_interruption_overhead",
                    _("share_of_gpu_hours"),
                )
                billed_hours = billed_hours * (1 + overhead)
            costs.add("gpu_rental", billed_hours * rate * units.decline_factor(decline_per_year, self.month_index))
            return
        # A reservation runs its full term from the month it is made, at the price of that month's
        # term start: GPUs added in month j are held until month j + term - 1.
        held = np.array([fleet.gpus_held[max(0, m - term + 1) : m + 1].max() for m in self.month_index])
        price = rate * units.decline_factor(decline_per_year, (self.month_index // term) * term)
        costs.add("gpu_rental", held * units.HOURS_PER_MONTH * price)

    def _buy(self, costs: OptionCosts, option: SelfHostOption, usage: OptionUsage) -> None:
        fleet = usage.fleet
        assert fleet is not None
        gpu = catalog.gpu(option.gpu)
        b = option.buy
        gpu_usd = costs.note(gpu_price(option))
        server_usd = costs.sourced(_("server share"), b.server_usd_per_gpu, "server_usd_per_gpu", _("usd_per_gpu"))
        years = costs.sourced(_("depreciation"), b.depreciation_years, "depreciation_years", _("years"))
        residual = costs.sourced(
            _("residual value"), b.residual_value_share, "residual_value_share", _("share_of_cost")
        )
        kwh_usd = costs.note(electricity(option))
        pue = costs.sourced("PUE", b.pue, "pue", _("ratio"))
        hosting = costs.sourced(
            _("hosting"), b.hosting_usd_per_kw_month, "hosting_usd_per_kw_month", _("usd_per_kw_month")
        )
        server_w = costs.sourced(_("server power"), b.server_power_w_per_gpu, "server_power_w_per_gpu", _("w_per_gpu"))
        costs.assumptions.append(
            Assumption(
                costs.option, f"{gpu.name} TDP", gpu.spec.tdp_w, "w", gpu.spec.source, gpu.spec.as_of.isoformat()
            )
        )
        costs.assumptions.append(
            Assumption(
                costs.option,
                _("{gpu} idle power").format(gpu=gpu.name),
                gpu.idle_w.value,
                "w",
                gpu.idle_w.source,
                gpu.idle_w.as_of.isoformat(),
            )
        )

        held = fleet.gpus_held
        bought = np.diff(held, prepend=0.0).clip(min=0)
        gpu_capex, server_capex = bought * gpu_usd, bought * server_usd
        costs.add("gpu_capex", gpu_capex, CASH)
        costs.add("server_capex", server_capex, CASH)
        life_months = years * units.MONTHS_PER_YEAR
        unit_usd = gpu_usd + server_usd
        age_at_end = self.months - self.month_index  # months each cohort has been in service at the end
        book_share = 1 - (1 - residual) * np.minimum(age_at_end / life_months, 1.0)
        costs.resale_usd = float((bought * unit_usd * book_share).sum())
        costs.add("residual_value", -np.eye(1, self.months, self.months - 1).ravel() * costs.resale_usd, CASH)
        r = units.yearly_to_monthly_rate(self.scenario.economics.discount_rate_per_year)
        payment = capital_recovery_payment(unit_usd, unit_usd * residual, r, life_months)
        # GPUs bought in month j are paid for in months j .. j + life - 1: a difference of running totals
        # (whole GPUs, so exact).
        bought_by = np.concatenate(([0.0], np.cumsum(bought)))
        first_paying = np.clip(np.floor(self.month_index - life_months).astype(int) + 1, 0, None)
        in_service = bought_by[self.month_index + 1] - bought_by[first_paying]
        costs.add("depreciation_and_capital", in_service * payment, AMORTISED)

        powered_kwh = units.watts_hours_to_kwh(gpu.idle_w.value + server_w, fleet.gpu_hours)
        busy_kwh = units.watts_hours_to_kwh(gpu.spec.tdp_w - gpu.idle_w.value, fleet.busy_gpu_hours)
        costs.add("power", (powered_kwh + busy_kwh) * pue * kwh_usd)
        costs.add("hosting", held * units.watts_to_kw(gpu.spec.tdp_w + server_w) * hosting)


def capital_recovery_payment(cost_usd: float, residual_usd: float, monthly_rate: float, months: float) -> float:
    """Level monthly payment that repays `cost_usd` less the present value of `residual_usd`."""
    if monthly_rate == 0:
        return (cost_usd - residual_usd) / months
    present_residual = residual_usd / (1 + monthly_rate) ** months
    return (cost_usd - present_residual) * monthly_rate / (1 - (1 + monthly_rate) ** -months)
