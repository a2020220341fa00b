"""The fluid engine: analytic and instant.

Load is a deterministic rate for each month and hour of the week. A self-hosted replica's work per
request is its prefill time plus its share of decode steps at the largest batch that meets the
class's time-per-output-token target and fits the KV cache; replicas are sized so that the
planned share of their capacity (`target_utilisation`) covers the hour's load. Autoscaled
rentals follow the hourly load; reserved and owned fleets hold their peak.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator import catalog, perf, privacy, units
from simulator.engine import ApiUsage, FleetUsage, OptionUsage
from simulator.scenario import ApiOption, HybridOption, RequestClass, Scenario, SelfHostOption
from simulator.workload import (
    SECONDS_PER_WEEK_SLOT_PER_MONTH,
    TokenStats,
    burst_peak_factor,
    class_rate_grid,
    requests_by_local_hour,
)

ENGINE_NAME = "fluid"
CONTEXT_QUANTILE = 0.99  # a replica must hold at least one request this long
SLOT_HOURS = SECONDS_PER_WEEK_SLOT_PER_MONTH / units.SECONDS_PER_HOUR


@dataclass(frozen=True)
class ClassTokens:
    """Expected tokens of one request of a class."""

    input_mean: float
    input_sq_mean: float
    output_mean: float  # visible plus reasoning
    cached_share: float
    context_p99: float

    @classmethod
    def of(cls, c: RequestClass) -> ClassTokens:
        i, o = TokenStats(c.input_tokens), TokenStats(c.output_tokens)
        out = o.mean() + c.reasoning_tokens_per_request
        ctx = i.quantile(CONTEXT_QUANTILE) + o.quantile(CONTEXT_QUANTILE) + c.reasoning_tokens_per_request
        return cls(i.mean(), i.second_moment(), out, c.cached_input_share, ctx)


@dataclass
class Plan:
    """How one replica serves a set of classes."""

    replica: perf.StepModel | None = None
    batch: int = 1
    step_s: float = 0.0
    work_s: dict[str, float] = field(default_factory=dict)
    """Seconds of replica time per request of each class."""
    reasons: list[str] = field(default_factory=list)
    class_reasons: dict[str, str] = field(default_factory=dict)


def _ceil(x: np.ndarray) -> np.ndarray:
    # Loads computed as sums of floats land a hair above whole numbers; do not buy a GPU for that.
    return np.ceil(x - 1e-9)


class FluidEngine:
    """Evaluates every option of a scenario against one shared load."""

    name = ENGINE_NAME

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.months = scenario.economics.horizon_months
        w = scenario.workload
        self.classes = {c.name: c for c in w.classes}
        self.tokens = {c.name: ClassTokens.of(c) for c in w.classes}
        self.rates = {c.name: class_rate_grid(w, c, self.months) for c in w.classes}
        self._flat_rates = {c.name: class_rate_grid(w, c, self.months, flat=True) for c in w.classes}
        self.burst_peak = burst_peak_factor(w)

    def offered_tokens(self) -> np.ndarray:
        """Tokens (input, cached and output) the workload offers each month."""
        slot = SECONDS_PER_WEEK_SLOT_PER_MONTH
        return sum(
            (self.rates[c].sum(axis=1) * slot * (t.input_mean + t.output_mean) for c, t in self.tokens.items()),
            np.zeros(self.months),
        )

    def run(self) -> list[OptionUsage]:
        return [self.option_usage(o) for o in self.scenario.options]

    def option_usage(self, option: ApiOption | SelfHostOption | HybridOption) -> OptionUsage:
        if isinstance(option, ApiOption):
            return self._api(option)
        if isinstance(option, SelfHostOption):
            return self._self_host(option)
        return self._hybrid(option)

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
        from simulator.catalog.api_prices import unit_prices

        prices, _ = unit_prices(
            api.provider, api.model, self.scenario.api_prices, self.scenario.economics.price_date, 0, False
        )
        if prices.context_tokens is None:
            return []
        return [
            f"class {c!r}: p99 request of {self.tokens[c].context_p99:,.0f} tokens exceeds the "
            f"{prices.context_tokens:,}-token context window of {api.model}"
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

    def _plan(self, option: SelfHostOption, classes: list[str]) -> Plan:
        """Replica shape, batch, and seconds of replica time per request of each class.

        Without an explicit `gpus_per_replica`, every power of two up to one node that fits is
        tried and the one that needs the fewest GPUs for this load wins: the smallest fit often
        leaves too little KV cache for a useful batch.
        """
        if option.gpus_per_replica is not None:
            return self._plan_for(option, classes, option.gpus_per_replica)
        plans = [self._plan_for(option, classes, g) for g in perf.POWERS_OF_TWO_PER_NODE]
        fitting = [p for p in plans if p.replica is not None]
        if not fitting:
            return plans[-1]
        util = option.perf.target_utilisation

        def cost(p: Plan) -> tuple[bool, float, float]:
            # Fewest GPUs at the peak hour (whole replicas, at least the minimum), then least GPU time.
            assert p.replica is not None
            load = sum(self.rates[c] * p.work_s[c] for c in classes)
            replicas = max(float(_ceil(np.max(load) / util)), option.min_replicas)
            g = p.replica.gpus_per_replica
            return bool(p.reasons), replicas * g, float(np.mean(load)) * g

        return min(fitting, key=cost)

    def _plan_for(self, option: SelfHostOption, classes: list[str], gpus: int) -> Plan:
        model = catalog.model(option.model)
        need_ctx = max((self.tokens[c].context_p99 for c in classes), default=0.0)
        plan = Plan()
        if need_ctx > model.context_tokens:
            plan.reasons.append(
                f"p99 request of {need_ctx:,.0f} tokens exceeds {model.name}'s {model.context_tokens:,}-token context"
            )
        step = perf.for_option(option, gpus)
        if step.kv_capacity_tokens < need_ctx:
            plan.reasons.append(
                f"{model.name} at {option.precision} with a {need_ctx:,.0f}-token request does not "
                f"fit in {gpus} x {option.gpu} (set gpus_per_replica or a smaller precision)"
            )
            return plan
        plan.replica = step
        if not classes:
            return plan
        rates = np.array([self.rates[c].mean() for c in classes])
        avg_ctx = float(
            sum(
                w * (self.tokens[c].input_mean + self.tokens[c].output_mean / 2)
                for w, c in zip(rates / rates.sum(), classes, strict=True)
            )
        )
        tpot_target_s = min(units.ms_to_seconds(self.classes[c].latency.tpot_ms) for c in classes)
        batches = np.arange(1, option.perf.max_batch + 1)
        steps = step.decode_step_s(batches, avg_ctx)
        ok = (steps <= tpot_target_s) & (batches * avg_ctx <= step.kv_capacity_tokens)
        if not ok.any():
            plan.reasons.append(
                f"one decode step takes {units.seconds_to_ms(float(steps[0])):.1f} ms, above the "
                f"{units.seconds_to_ms(tpot_target_s):.0f} ms time-per-token target even alone"
            )
        plan.batch = int(batches[ok][-1]) if ok.any() else 1
        plan.step_s = float(steps[plan.batch - 1])
        for c in classes:
            t = self.tokens[c]
            cached = t.cached_share
            prefill = step.prefill_s(t.input_mean * (1 - cached), t.input_sq_mean * (1 - cached**2) / 2)
            plan.work_s[c] = prefill + t.output_mean * plan.step_s / plan.batch
            p95 = TokenStats(self.classes[c].input_tokens).quantile(0.95)
            new_tokens = p95 * (1 - cached)
            idle_ttft_s = float(step.fixed_s(new_tokens)) + step.prefill_s(
                new_tokens, perf.prefill_pairs(p95, p95 * cached)
            )
            if idle_ttft_s > units.ms_to_seconds(self.classes[c].latency.ttft_ms):
                plan.class_reasons[c] = (
                    f"class {c!r}: prefill of a p95 prompt takes "
                    f"{units.seconds_to_ms(idle_ttft_s):,.0f} ms in-house, above the "
                    f"{self.classes[c].latency.ttft_ms:,.0f} ms TTFT target"
                )
        return plan

    def _fixed_fleet(self, option: SelfHostOption, peak_load: np.ndarray) -> np.ndarray:
        """Replicas held each month for a peak load (replica-seconds per second); owned GPUs are kept."""
        util = option.perf.target_utilisation
        replicas = np.maximum(_ceil(peak_load / util), option.min_replicas)
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
        autoscaled = (
            fleet is None
            and option.procurement == "rent"
            and option.rent.autoscale
            and option.rent.tier in ("on_demand", "spot")
        )
        if autoscaled:
            replicas = np.maximum(_ceil(load / option.perf.target_utilisation), option.min_replicas)
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
        )

    def _self_host(self, option: SelfHostOption) -> OptionUsage:
        usage = self.new_usage(option.name, option.kind)
        classes = list(self.classes)
        plan = self._plan(option, classes)
        usage.infeasible_reasons += plan.reasons + list(plan.class_reasons.values())
        if plan.replica is None:
            return usage
        load = sum(self.rates[c] * plan.work_s[c] for c in classes)
        usage.fleet = self._fleet(option, plan, load, fleet=None)
        for c in classes:
            self.count(usage, c, self.rates[c].sum(axis=1) * SECONDS_PER_WEEK_SLOT_PER_MONTH, via_api=False)
        return usage

    def _hybrid(self, option: HybridOption) -> OptionUsage:
        usage = self.new_usage(option.name, option.kind)
        sh = self.scenario.option(option.self_host)
        api = self.scenario.option(option.api)
        assert isinstance(sh, SelfHostOption) and isinstance(api, ApiOption)
        # Pinned in-house: by sensitivity, by name, and every class the API would break a requirement for.
        pinned = [
            c
            for c, rc in self.classes.items()
            if rc.sensitivity in option.in_house_sensitivity
            or c in option.in_house_classes
            or privacy.class_violations(self.scenario, api, c)
        ]
        others = [c for c in self.classes if c not in pinned]
        deferred = [c for c in others if option.defer_batchable and self.classes[c].batchable]
        shared = [c for c in others if c not in deferred] if option.baseline_quantile > 0 else []
        plan = self._plan(sh, pinned + shared + deferred)
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
        deferred_work = sum((self._flat_rates[c][:, 0] * plan.work_s[c] for c in deferred), np.zeros(self.months))
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
            self.count(usage, c, self._flat_rates[c].sum(axis=1) * slot * deferred_share, via_api=False)
            rest = requests_by_local_hour(self._flat_rates[c]) * (1 - deferred_share)[:, None]
            self.send_to_api(usage, api, c, rest)
        return usage
