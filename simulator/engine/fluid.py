"""The fluid engine: analytic and instant.

Load is a deterministic rate for each month and hour of the week. Replicas (planned as
`engine.plan` says) are sized so that the planned share of their capacity (`target_utilisation`)
covers the hour's load. Autoscaled rentals follow the hourly load; reserved and owned fleets hold
their peak.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from simulator import catalog, i18n, units
from simulator.catalog.api_prices import unit_prices
from simulator.engine.api_path import api_attainment
from simulator.engine.latency import slo_shortfalls
from simulator.engine.plan import Plan, Planner, ReplicaPlans, autoscaled, ceil, pinned_classes
from simulator.i18n import _
from simulator.perf.fit import Fitted
from simulator.scenario import ApiOption, HybridOption, Scenario, SelfHostOption
from simulator.usage import ApiUsage, FleetUsage, OptionUsage
from simulator.workload import (
    SECONDS_PER_WEEK_SLOT_PER_MONTH,
    burst_peak_factor,
    class_rate_grid,
    requests_by_local_hour,
)

ENGINE_NAME = "fluid"
SLOT_HOURS = SECONDS_PER_WEEK_SLOT_PER_MONTH / units.SECONDS_PER_HOUR


class FluidEngine:
    """Evaluates every option of a scenario against one shared load."""

    name = ENGINE_NAME

    def __init__(self, scenario: Scenario, fits: Mapping[str, Fitted], shapes: ReplicaPlans | None = None) -> None:
        self.scenario = scenario
        self.months = scenario.economics.horizon_months
        w = scenario.workload
        self.classes = {c.name: c for c in w.classes}
        self.rates = {c.name: class_rate_grid(w, c, self.months) for c in w.classes}
        self.burst_peak = burst_peak_factor(w)
        self.planner = Planner(scenario, self.rates, fits, shapes)
        self.tokens = self.planner.tokens

    def option_usage(
        self, option: ApiOption | SelfHostOption | HybridOption, progress: Callable[[str], None] | None = None
    ) -> OptionUsage:
        """The option over the horizon, in milliseconds: `progress` (the engines' common signature) hears nothing."""
        if isinstance(option, ApiOption):
            usage = self._api(option)
        elif isinstance(option, SelfHostOption):
            usage = self._self_host(option)
        else:
            usage = self._hybrid(option)
        if usage.api is not None:
            api = self.scenario.option(usage.api.option)
            assert isinstance(api, ApiOption)
            usage.class_attainment = self._attainment(usage, api)
            usage.slo_shortfalls = slo_shortfalls(self.scenario, usage.class_attainment)
        return usage

    def _attainment(self, usage: OptionUsage, api: ApiOption) -> dict[str, float]:
        """Share within targets of each class with API traffic: the provider's latency distribution on
        the API's share, in-house requests counted as within (the fleet is planned to the targets)."""
        latency = catalog.api_latency(api.provider, api.model)
        out = {}
        for c, api_tokens in usage.class_tokens["api"].items():
            rc, total = self.classes[c], api_tokens + usage.class_tokens["in_house"].get(c, 0.0)
            if not total:
                continue
            api_share = api_tokens / total
            within = api_attainment(latency, rc.latency, rc.reasoning_tokens_per_request)
            out[c] = 1 - api_share + api_share * within
        return out

    # --- shared pieces ------------------------------------------------------------------------

    def new_usage(self, name: str, kind: str) -> OptionUsage:
        zeros = np.zeros(self.months)
        return OptionUsage(
            name=name,
            kind=kind,
            months=self.months,
            tokens={"input": zeros.copy(), "cached_input": zeros.copy(), "output": zeros.copy()},
            api_requests=zeros.copy(),
            requests=zeros.copy(),
        )

    def count(self, usage: OptionUsage, cls: str, requests: np.ndarray, via_api: bool) -> None:
        t = self.tokens[cls]
        usage.tokens["input"] += requests * t.input_mean * (1 - t.cached_share)
        usage.tokens["cached_input"] += requests * t.input_mean * t.cached_share
        usage.tokens["output"] += requests * t.output_mean
        assert usage.requests is not None and usage.api_requests is not None
        usage.requests += requests
        if via_api:
            usage.api_requests += requests
        by_class = usage.class_tokens["api" if via_api else "in_house"]
        by_class[cls] = by_class.get(cls, 0.0) + float(requests.sum()) * (t.input_mean + t.output_mean)

    def send_to_api(self, usage: OptionUsage, api: ApiOption, cls: str, by_hour: np.ndarray) -> None:
        if usage.api is None:
            usage.api = ApiUsage(option=api.name)
        batch = self.classes[cls].batchable and api.use_batch_api
        bucket = usage.api.batch if batch else usage.api.standard
        bucket[cls] = bucket.get(cls, 0) + by_hour
        self.count(usage, cls, by_hour.sum(axis=1), via_api=True)

    def _api_reasons(self, api: ApiOption, classes: list[str]) -> list[str]:
        prices, _batched = unit_prices(
            api.provider, api.model, self.scenario.api_prices, self.scenario.economics.price_date, 0, False
        )
        if prices.context_tokens is None:
            return []
        return [
            _(
                "class {name}: p99 request of {tokens} tokens exceeds the {context}-token context window of {model}"
            ).format(
                name=repr(c),
                tokens=i18n.number(self.tokens[c].context_p99),
                context=i18n.number(prices.context_tokens),
                model=api.model,
            )
            for c in classes
            if self.tokens[c].context_p99 > prices.context_tokens
        ]

    # --- the three kinds ----------------------------------------------------------------------

    def _api(self, option: ApiOption) -> OptionUsage:
        usage = self.new_usage(option.name, option.kind)
        for cls in self.classes:
            self.send_to_api(usage, option, cls, requests_by_local_hour(self.rates[cls]))
        usage.infeasible_reasons += self._api_reasons(option, list(self.classes))
        return usage

    def _fixed_fleet(self, option: SelfHostOption, peak_load: np.ndarray) -> np.ndarray:
        """Replicas held each month for a peak load (replica-seconds per second); owned GPUs are kept."""
        util = option.perf.target_utilisation
        replicas = np.maximum(ceil(peak_load / util), option.min_replicas)
        if option.procurement == "buy":
            replicas = (
                np.full_like(replicas, replicas.max())
                if option.buy.purchase == "upfront"
                else np.maximum.accumulate(replicas)
            )
        return replicas

    def _fleet(self, option: SelfHostOption, plan: Plan, load: np.ndarray, fleet: np.ndarray | None) -> FleetUsage:
        """Bill a fleet serving `load` (replica-seconds per second, shape (months, 168)).

        `fleet` gives the replicas held each month; without it, autoscaled rentals follow the load
        hour by hour and every other fleet holds its peak.
        """
        assert plan.replica is not None
        g = plan.replica.gpus_per_replica
        if fleet is None and autoscaled(option):
            replicas = np.maximum(ceil(load / option.perf.target_utilisation), option.min_replicas)
            peak = replicas.max(axis=1)
            gpu_hours = replicas.sum(axis=1) * g * SLOT_HOURS
        else:
            peak = fleet if fleet is not None else self._fixed_fleet(option, load.max(axis=1) * self.burst_peak)
            replicas = peak[:, None]
            gpu_hours = peak * g * units.HOURS_PER_MONTH
        busy = np.minimum(load, replicas).sum(axis=1) * g * SLOT_HOURS
        return FleetUsage(
            option=option.name,
            gpus_per_replica=g,
            replicas_peak=peak,
            gpus_held=peak * g,
            gpu_hours=gpu_hours,
            busy_gpu_hours=busy,
            capacity_tok_per_s=plan.batch / plan.step_s,
            batch=plan.batch,
            perf_source=plan.replica.source,
            perf_terms=plan.terms,
        )

    def _self_host(self, option: SelfHostOption) -> OptionUsage:
        usage = self.new_usage(option.name, option.kind)
        classes = list(self.classes)
        plan = self.planner.plan(option, classes)
        usage.infeasible_reasons += plan.reasons + list(plan.class_reasons.values())
        if plan.replica is None:
            return usage
        load = self.planner.load(option, classes, plan.replica.gpus_per_replica)
        usage.fleet = self._fleet(option, plan, load, fleet=None)
        for c in classes:
            self.count(usage, c, self.rates[c].sum(axis=1) * SECONDS_PER_WEEK_SLOT_PER_MONTH, via_api=False)
        return usage

    def _hybrid(self, option: HybridOption) -> OptionUsage:
        usage = self.new_usage(option.name, option.kind)
        sh = self.scenario.option(option.self_host)
        api = self.scenario.option(option.api)
        assert isinstance(sh, SelfHostOption) and isinstance(api, ApiOption)
        pinned = pinned_classes(self.scenario, option, api)
        others = [c for c in self.classes if c not in pinned]
        deferred = [c for c in others if option.defer_batchable and self.classes[c].batchable]
        shared = [c for c in others if c not in deferred] if option.baseline_quantile > 0 else []
        plan = self.planner.plan(sh, pinned + shared + deferred)
        usage.infeasible_reasons += plan.reasons + [plan.class_reasons[c] for c in pinned if c in plan.class_reasons]
        # Classes the fleet cannot serve within their targets go to the API whole.
        shared = [c for c in shared if c not in plan.class_reasons]
        deferred = [c for c in deferred if c not in plan.class_reasons]
        if plan.replica is None:
            shared, deferred = [], []
        for c in others:
            if c not in shared and c not in deferred:
                self.send_to_api(usage, api, c, requests_by_local_hour(self.rates[c]))
        usage.infeasible_reasons += self._api_reasons(api, others)
        if plan.replica is None or not (pinned or shared or deferred):
            return usage  # nothing is served in-house, so no fleet is held

        zero = np.zeros_like(self.rates[pinned[0] if pinned else others[0]])
        pinned_load = sum((self.rates[c] * plan.work_s[c] for c in pinned), zero)
        shared_load = sum((self.rates[c] * plan.work_s[c] for c in shared), zero)
        baseline = np.quantile(shared_load, option.baseline_quantile, axis=1)
        fleet = self._fixed_fleet(sh, pinned_load.max(axis=1) * self.burst_peak + baseline)
        capacity = fleet[:, None] * sh.perf.target_utilisation  # planned replica-seconds per second
        free = np.maximum(capacity - pinned_load, 0.0)
        kept_share = np.divide(
            np.minimum(shared_load, free), shared_load, out=np.zeros_like(shared_load), where=shared_load > 0
        )
        spare = (free - kept_share * shared_load).sum(axis=1)
        flat_rates = {
            c: class_rate_grid(self.scenario.workload, self.classes[c], self.months, flat=True) for c in deferred
        }
        deferred_work = sum((flat_rates[c][:, 0] * plan.work_s[c] for c in deferred), np.zeros(self.months))
        deferred_share = np.divide(
            np.minimum(spare / capacity.shape[1], deferred_work),
            deferred_work,
            out=np.zeros(self.months),
            where=deferred_work > 0,
        )
        in_house_load = pinned_load + kept_share * shared_load + (deferred_share * deferred_work)[:, None]
        usage.fleet = self._fleet(sh, plan, in_house_load, fleet=fleet)

        slot = SECONDS_PER_WEEK_SLOT_PER_MONTH
        for c in pinned:
            self.count(usage, c, self.rates[c].sum(axis=1) * slot, via_api=False)
        for c in shared:
            kept = self.rates[c] * kept_share
            self.count(usage, c, kept.sum(axis=1) * slot, via_api=False)
            self.send_to_api(usage, api, c, requests_by_local_hour(self.rates[c] - kept))
        for c in deferred:
            self.count(usage, c, flat_rates[c].sum(axis=1) * slot * deferred_share, via_api=False)
            rest = requests_by_local_hour(flat_rates[c]) * (1 - deferred_share)[:, None]
            self.send_to_api(usage, api, c, rest)
        return usage
