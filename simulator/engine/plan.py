"""Rules both engines share: how a replica of a self-hosted option is shaped and loaded, which
classes a hybrid keeps in-house, and which fleets follow the load.

A self-hosted replica's work per request is its prefill time plus its share of decode steps at the
largest batch that meets the class's time-per-output-token target and fits the KV cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from simulator import catalog, i18n, privacy, units
from simulator.i18n import _
from simulator.perf.fit import Fitted
from simulator.perf.serving import Serving, serving
from simulator.perf.step import (
    KV_CACHE_BYTES,
    PERF_SOURCE_ROOFLINE,
    POWERS_OF_TWO_PER_NODE,
    StepModel,
    prefill_pairs,
    step_model,
)
from simulator.scenario import ApiOption, HybridOption, RequestClass, Scenario, SelfHostOption
from simulator.usage import PerfTerm
from simulator.workload import TokenStats

CONTEXT_QUANTILE = 0.99  # a replica must hold at least one request this long


@dataclass(frozen=True)
class ClassTokens:
    """Expected tokens of one request of a class."""

    input_mean: float
    input_sq_mean: float
    output_mean: float  # visible plus reasoning
    output_sq_mean: float
    cached_share: float
    context_p99: float

    @classmethod
    def of(cls, c: RequestClass) -> ClassTokens:
        i, o = TokenStats(c.input_tokens), TokenStats(c.output_tokens)
        r = c.reasoning_tokens_per_request
        out, out_sq = o.mean() + r, o.second_moment() + 2 * r * o.mean() + r * r
        ctx = i.quantile(CONTEXT_QUANTILE) + o.quantile(CONTEXT_QUANTILE) + r
        return cls(i.mean(), i.second_moment(), out, out_sq, c.cached_input_share, ctx)

    @property
    def running_output_mean(self) -> float:
        """Output tokens of a request found decoding: a sequence decodes for as many steps as it has
        output tokens, so a step sees long answers more often than they arrive (E[o^2] / E[o])."""
        return self.output_sq_mean / self.output_mean if self.output_mean > 0 else 0.0


@dataclass
class Plan:
    """How one replica serves a set of classes."""

    replica: StepModel | None = None
    batch: int = 1
    step_s: float = 0.0
    work_s: dict[str, float] = field(default_factory=dict)
    """Seconds of replica time per request of each class."""
    terms: list[PerfTerm] = field(default_factory=list)
    """The engine's limits and costs and the step model's coefficients the replica runs on."""
    reasons: list[str] = field(default_factory=list)
    class_reasons: dict[str, str] = field(default_factory=dict)


def ceil(x: np.ndarray | float) -> np.ndarray:
    # Loads computed as sums of floats land a hair above whole numbers; do not buy a GPU for that.
    return np.ceil(np.asarray(x) - 1e-9)


def autoscaled(option: SelfHostOption) -> bool:
    """Rented by the hour on demand or spot, and told to follow the load; every other fleet is held."""
    return option.procurement == "rent" and option.rent.autoscale and option.rent.tier in ("on_demand", "spot")


def pinned_classes(scenario: Scenario, hybrid: HybridOption, api: ApiOption) -> list[str]:
    """Classes a hybrid serves in-house: by sensitivity, by name, and every class the API would break a
    privacy requirement for."""
    return [
        c.name
        for c in scenario.workload.classes
        if c.sensitivity in hybrid.in_house_sensitivity
        or c.name in hybrid.in_house_classes
        or privacy.class_violations(scenario, api, c.name)
    ]


def serving_for(option: SelfHostOption) -> Serving:
    """The option's engine on its GPU, with the option's own limits and efficiencies where it sets them."""
    p = option.perf
    return serving(
        catalog.gpu(option.gpu),
        option.precision,
        p.engine,
        scheduling=p.scheduling,
        max_batch=p.max_batch,
        chunk_tokens=p.chunk_tokens,
        kv_cache_dtype=p.kv_cache_dtype,
        usable_memory_share=p.usable_memory_share,
        decode_bandwidth_efficiency=p.decode_bandwidth_efficiency,
        prefill_compute_efficiency=p.prefill_compute_efficiency,
    )


def step_for(option: SelfHostOption, gpus: int, fitted: Fitted | None) -> StepModel:
    """The step model of one replica of `gpus` GPUs: fitted to the option's measured file when there is one."""
    return step_model(
        catalog.model(option.model), catalog.gpu(option.gpu), option.precision, gpus, serving_for(option), fitted
    )


def perf_terms(option: SelfHostOption, s: Serving, step: StepModel) -> list[PerfTerm]:
    """The engine's limits and costs (`s`, the option's serving) and the step model's coefficients a
    replica of `option` runs on."""
    p, gpu = option.perf, catalog.gpu(option.gpu)

    def own_or(given: object, source: str, as_of: str) -> tuple[str, str]:
        return ("scenario", "") if given is not None else (source, as_of)

    limits = (s.limits_source, s.limits_as_of)
    costs = (s.costs_source, s.costs_as_of)
    kv_from_weights = catalog.engine(s.engine).costs.kv_bandwidth_efficiency is None
    terms = [
        PerfTerm(_("engine batch limit"), s.max_batch, _("sequences"), *own_or(p.max_batch, *limits)),
        PerfTerm(_("engine step budget"), s.chunk_tokens, _("tokens"), *own_or(p.chunk_tokens, *limits)),
        PerfTerm(
            _("KV cache element"), KV_CACHE_BYTES[s.kv_cache_dtype], _("bytes"), *own_or(p.kv_cache_dtype, *limits)
        ),
        PerfTerm(_("request overhead"), units.seconds_to_ms(step.request_s), "ms", *costs),
    ]
    if step.source == PERF_SOURCE_ROOFLINE:  # the engine's shares of the GPU's peaks, and its own step costs
        terms += [
            PerfTerm(
                _("decode bandwidth share"),
                s.decode_bandwidth_efficiency,
                _("share_of_peak"),
                *own_or(p.decode_bandwidth_efficiency, *costs),
            ),
            PerfTerm(
                _("KV-cache read bandwidth share"),
                s.kv_bandwidth_efficiency,
                _("share_of_peak"),
                # Without a share of its own, the cache is read at the weights' (the scenario's, where it sets one).
                *own_or(p.decode_bandwidth_efficiency if kv_from_weights else None, *costs),
            ),
        ]
        if s.lone_sequence_kv_efficiency:
            lone = s.lone_sequence_kv_efficiency
            terms.append(PerfTerm(_("one sequence's KV-cache read bandwidth share"), lone, _("share_of_peak"), *costs))
        terms += [
            PerfTerm(
                _("prefill FLOP/s share"),
                s.prefill_compute_efficiency,
                _("share_of_matmul"),
                *own_or(p.prefill_compute_efficiency, *costs),
            ),
            PerfTerm(
                _("GPU matrix-product FLOP/s"),
                gpu.matmul_tflops(option.precision),
                "TFLOP/s",
                gpu.matmul.source,
                gpu.matmul.as_of.isoformat(),
            ),
            PerfTerm(_("step overhead"), units.seconds_to_ms(s.step_overhead_s), "ms", *costs),
            PerfTerm(_("step overhead per running sequence"), units.seconds_to_us(s.sequence_overhead_s), "us", *costs),
            PerfTerm(_("weight reads and FLOPs overlap, sharpness"), s.overlap_sharpness, _("exponent"), *costs),
        ]
        if step.gpus_per_replica > 1:
            terms.append(PerfTerm(_("all-reduce latency"), units.seconds_to_us(s.allreduce_latency_s), "us", *costs))
        if step.expert_share and s.expert_half_width:
            half = _("routed expert width at half the FLOP/s share")
            terms.append(PerfTerm(half, s.expert_half_width, _("columns a GPU"), *costs))
        if s.attention_per_sequence_layer_s > 0:
            per_layer_us = units.seconds_to_us(s.attention_per_sequence_layer_s)
            terms.append(PerfTerm(_("attention per sequence and layer"), per_layer_us, "us", *costs))
        derived = (
            f"derived: roofline of {step.gpus_per_replica} x {gpu.name} at the shares above ({gpu.spec.source}; "
            f"{gpu.matmul.source})",
            max(gpu.spec.as_of, gpu.matmul.as_of).isoformat(),  # as new as the newer of the two
        )
    else:
        derived = (step.source, "")
    ms, us = units.seconds_to_ms, units.seconds_to_us
    terms += [
        PerfTerm(_("step: weight reads (b0)"), ms(step.b0_s), "ms", *derived),
        PerfTerm(_("step: per decoding sequence (b_decode)"), us(step.b_decode_s), "us", *derived),
        PerfTerm(_("step: per cached token read (b_kv)"), us(step.b_kv_s), "us", *derived),
        PerfTerm(_("step: per cached token of the mean sequence (b_scan)"), us(step.b_scan_s), "us", *derived),
        PerfTerm(_("step: per prompt token (b_prefill)"), us(step.b_prefill_s), "us", *derived),
    ]
    if step.b_comm_s > 0:
        link = f"derived: two ring all-reduces a layer over {gpu.interconnect.kind if gpu.interconnect else ''}"
        terms.append(PerfTerm(_("step: all-reduce per token (b_comm)"), us(step.b_comm_s), "us", link, ""))
    return terms


class ReplicaPlans:
    """What a scenario's replica plans rest on, which every volume of it can share (break-even searches,
    volume grids): each class's expected tokens, and plans by (option, classes, GPUs a replica), since a
    plan rests on the classes' shares of the load, never on its volume."""

    def __init__(self, scenario: Scenario) -> None:
        self.tokens = {c.name: ClassTokens.of(c) for c in scenario.workload.classes}
        self.plans: dict[tuple[str, tuple[str, ...], int], Plan] = {}


class Planner:
    """Replica plans of a scenario's self-hosted options against its hourly rates (requests per second
    by class, shape (months, 168)); `fits` holds each measured option's fit, read before the run;
    `shapes`, plans made at another volume of the same scenario."""

    def __init__(
        self,
        scenario: Scenario,
        rates: Mapping[str, np.ndarray],
        fits: Mapping[str, Fitted],
        shapes: ReplicaPlans | None = None,
    ) -> None:
        self.classes = {c.name: c for c in scenario.workload.classes}
        self._shapes = ReplicaPlans(scenario) if shapes is None else shapes
        self.tokens = self._shapes.tokens
        self.rates = rates
        self.fits = fits
        self._steps: dict[tuple[str, int], StepModel] = {}
        self._servings: dict[str, Serving] = {}
        self._loads: dict[tuple[str, tuple[str, ...], int], np.ndarray] = {}

    def serving(self, option: SelfHostOption) -> Serving:
        """The option's engine limits and costs, resolved once for every plan and window that needs them."""
        if option.name not in self._servings:
            self._servings[option.name] = serving_for(option)
        return self._servings[option.name]

    def step(self, option: SelfHostOption, gpus: int) -> StepModel:
        key = (option.name, gpus)
        if key not in self._steps:
            self._steps[key] = step_for(option, gpus, self.fits.get(option.name))
        return self._steps[key]

    def plan(self, option: SelfHostOption, classes: list[str]) -> Plan:
        """Replica shape, batch, and seconds of replica time per request of each class.

        Without an explicit `gpus_per_replica`, every power of two up to one node that fits is
        tried and the one that needs the fewest GPUs for this load wins: the smallest fit often
        leaves too little KV cache for a useful batch.
        """
        if option.gpus_per_replica is not None:
            return self._shape(option, classes, option.gpus_per_replica)
        sizes = POWERS_OF_TWO_PER_NODE if catalog.gpu(option.gpu).interconnect else (1,)
        plans = [self._shape(option, classes, g) for g in sizes]
        fitting = [p for p in plans if p.replica is not None]
        if not fitting:
            return plans[-1]
        # Meeting the targets first (a wider replica prefills a long prompt sooner), then fewest GPUs
        # billed (whole replicas, at least the minimum: an autoscaled rental's every hour, any other
        # fleet's peak hour), then least GPU time.
        best = min((bool(p.reasons), len(p.class_reasons)) for p in fitting)
        fitting = [p for p in fitting if (bool(p.reasons), len(p.class_reasons)) == best]
        util = option.perf.target_utilisation

        def cost(p: Plan) -> tuple[float, float]:
            assert p.replica is not None
            load = self.load(option, classes, p.replica.gpus_per_replica)
            if autoscaled(option):
                held = float(np.mean(np.maximum(ceil(load / util), option.min_replicas)))
            else:  # replicas grow with the load, so the peak hour's load gives the peak
                held = max(float(ceil(np.max(load) / util)), option.min_replicas)
            g = p.replica.gpus_per_replica
            return held * g, float(np.mean(load)) * g

        return fitting[0] if len(fitting) == 1 else min(fitting, key=cost)

    def load(self, option: SelfHostOption, classes: list[str], gpus: int) -> np.ndarray:
        """Replica-seconds per second the classes' requests take on replicas of `gpus` GPUs planned for
        them, each month and hour (shape (months, 168)); made once for choosing the plan and billing its
        fleet."""
        assert classes
        key = (option.name, tuple(classes), gpus)
        if key not in self._loads:
            plan = self._shape(option, classes, gpus)
            first, *rest = classes
            load = self.rates[first] * plan.work_s[first]
            for c in rest:
                load += self.rates[c] * plan.work_s[c]
            self._loads[key] = load
        return self._loads[key]

    def _shape(self, option: SelfHostOption, classes: list[str], gpus: int) -> Plan:
        key = (option.name, tuple(classes), gpus)
        if key not in self._shapes.plans:
            self._shapes.plans[key] = self._plan_for(option, classes, gpus)
        return self._shapes.plans[key]

    def _plan_for(self, option: SelfHostOption, classes: list[str], gpus: int) -> Plan:
        model = catalog.model(option.model)
        need_ctx = max((self.tokens[c].context_p99 for c in classes), default=0.0)
        plan = Plan()
        if need_ctx > model.context_tokens:
            plan.reasons.append(
                _("p99 request of {tokens} tokens exceeds {model}'s {context}-token context").format(
                    tokens=i18n.number(need_ctx), model=model.name, context=i18n.number(model.context_tokens)
                )
            )
        step = self.step(option, gpus)
        if step.kv_capacity_tokens < need_ctx:
            plan.reasons.append(
                _(
                    "{model} at {precision} with a {tokens}-token request does not fit in {gpus} x {gpu} "
                    "(set gpus_per_replica or a smaller precision)"
                ).format(
                    model=model.name,
                    precision=option.precision,
                    tokens=i18n.number(need_ctx),
                    gpus=gpus,
                    gpu=option.gpu,
                )
            )
            return plan
        plan.replica = step
        plan.terms = perf_terms(option, self.serving(option), step)
        if not classes:
            return plan
        # The sequences of a decode step, weighted by the steps each decodes for (its output tokens):
        # their mean context (prompt and half the answer so far) and what each holds in the cache from
        # admission (prompt and whole answer, as the replica reserves them).
        rates = np.array([self.rates[c].mean() for c in classes])
        decoding = np.array([rates[k] * self.tokens[c].output_mean for k, c in enumerate(classes)])
        weights = decoding / decoding.sum() if decoding.sum() > 0 else rates / rates.sum()
        avg_ctx = float(
            sum(
                w * (self.tokens[c].input_mean + self.tokens[c].running_output_mean / 2)
                for w, c in zip(weights, classes, strict=True)
            )
        )
        reserved = float(
            sum(
                w * (self.tokens[c].input_mean + self.tokens[c].running_output_mean)
                for w, c in zip(weights, classes, strict=True)
            )
        )
        tpot_target_s = min(units.ms_to_seconds(self.classes[c].latency.tpot_ms) for c in classes)
        batches = np.arange(1, self.serving(option).max_batch + 1)
        steps = step.decode_step_s(batches, avg_ctx)
        prefill_s = {}
        for c in classes:
            t = self.tokens[c]
            cached = t.cached_share
            prefill_s[c] = step.prefill_s(t.input_mean * (1 - cached), t.input_sq_mean * (1 - cached**2) / 2)
        # Prefills share the replica with decodes: at the planned utilisation they hold the GPU for that
        # share of the time times their share of the work, and every decoding request waits through them.
        prefill_work = float(sum(rates[k] * prefill_s[c] for k, c in enumerate(classes)))
        decode_work = float(sum(rates[k] * self.tokens[c].output_mean for k, c in enumerate(classes))) * steps / batches
        prefill_time_share = option.perf.target_utilisation * prefill_work / (prefill_work + decode_work)
        tpot_s = steps / (1 - prefill_time_share)
        ok = (tpot_s <= tpot_target_s) & (batches * reserved <= step.kv_capacity_tokens)
        if not ok.any():
            plan.reasons.append(
                _(
                    "one decode step with the prefills in between takes {step} ms, "
                    "above the {target} ms time-per-token target even at a batch of one"
                ).format(
                    step=i18n.number(units.seconds_to_ms(float(tpot_s[0])), 1),
                    target=i18n.number(units.seconds_to_ms(tpot_target_s)),
                )
            )
        plan.batch = int(batches[ok][-1]) if ok.any() else 1
        plan.step_s = float(steps[plan.batch - 1])
        for c in classes:
            t = self.tokens[c]
            cached = t.cached_share
            plan.work_s[c] = prefill_s[c] + t.output_mean * plan.step_s / plan.batch
            p95 = TokenStats(self.classes[c].input_tokens).quantile(0.95)
            new_tokens = p95 * (1 - cached)
            idle_ttft_s = step.ttft_alone_s(new_tokens, float(prefill_pairs(p95, p95 * cached)))
            if idle_ttft_s > units.ms_to_seconds(self.classes[c].latency.ttft_ms):
                plan.class_reasons[c] = _(
                    "class {name}: prefill of a p95 prompt takes {ttft} ms in-house, above the {target} ms TTFT target"
                ).format(
                    name=repr(c),
                    ttft=i18n.number(units.seconds_to_ms(idle_ttft_s)),
                    target=i18n.number(self.classes[c].latency.ttft_ms),
                )
        return plan
