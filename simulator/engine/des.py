"""The discrete-event engine: the offered load played against each option in SimPy.

A horizon of months is too long to simulate request by request, so the engine samples it. Each
sampled month's 168 weekly hours are grouped into `load_bins` load levels; one window per level
(warm-up, then `window_minutes`) is simulated at that level's rates, and its results stand for
every hour of the level, weighted by the requests the level carries. Months between the sampled
ones take interpolated shares and GPU-hours. Every option sees the same request frames.

`simulation.mode: exact` plays each sampled month whole instead, every request of every hour in
order (hour h at weekly slot h mod 168), a day at a time: each day's frame starts with the hour
before it as warm-up, on the fleet the day before ended with, and is dropped once played, so memory
holds one day's requests and a sample of at most `max_window_requests` of each day's outcomes for
the percentiles.

Inside a window: requests are routed at arrival to the ready replica with the fewest outstanding
tokens; replicas batch continuously (`replica.Replica`); rented fleets that autoscale add a
replica when queues build (it serves after `startup_s`, and is billed from the request) and retire
one when the others could carry the load; a hybrid sends its other classes to the API while the
in-house queue or predicted TTFT is over its threshold; the API path honours rate limits by
queueing or rejecting, and answers at the provider's published latency.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from simulator import units
from simulator.engine.api_path import api_times
from simulator.engine.fleet import (
    Autoscale,
    FleetOutcome,
    FleetSettings,
    Overflow,
    saturation_tok_per_s,
    simulate_fleet,
)
from simulator.engine.fluid import SLOT_HOURS, FluidEngine
from simulator.engine.latency import API, DEFERRED, IN_HOUSE, REJECTED, WindowResult, slo_shortfalls, summarise
from simulator.engine.plan import Plan, ReplicaPlans, autoscaled, pinned_classes
from simulator.engine.replica import Requests
from simulator.i18n import _
from simulator.perf.fit import Fitted
from simulator.perf.step import StepModel
from simulator.scenario import ApiOption, HybridOption, Scenario, SelfHostOption
from simulator.usage import OptionUsage
from simulator.workload import (
    HOURS_PER_WEEK,
    SECONDS_PER_WEEK_SLOT_PER_MONTH,
    Frame,
    generate_frame,
    requests_by_local_hour,
)

ENGINE_NAME = "des"
SLICE_STREAM = 2**31 - 1  # seed stream of the slice draws, apart from the per-class streams of a frame
EXACT_STREAM = 2**31 - 2  # seed stream of an exact month's days
EXACT_DAY_HOURS = 24
MIN_SLICE_REQUESTS = 10_000  # a slice of a fleet keeps this many of a window's requests, for steady p95/p99


@dataclass(frozen=True)
class Served:
    """What serves an option's windows: an API, in-house replicas, and a hybrid's rule between them."""

    api: ApiOption | None
    own: SelfHostOption | None
    hybrid: HybridOption | None
    step: StepModel | None
    """One in-house replica; None when nothing is served in-house."""
    pinned: np.ndarray
    """Per class: never overflows to the API."""
    plan: Plan | None
    """An autoscaled fleet's replica plan, which sizes it window by window; None for a held fleet."""

    @property
    def autoscale(self) -> bool:
        return self.plan is not None


@dataclass(frozen=True)
class Playing:
    """An option as its months are played: what serves it, its fluid usage, per class whether it may
    run in-house and whether it waits for the off-peak hours, and who hears of each window or day."""

    served: Served
    base: OptionUsage
    eligible: np.ndarray
    deferred: np.ndarray
    tell: Callable[[str], None]


@dataclass
class Bin:
    slots: np.ndarray
    rates_per_s: dict[str, float]


@dataclass
class Played:
    """A simulated window and what of its month it stands for."""

    window: WindowResult
    carried: np.ndarray
    """Requests a month of each class the window stands for."""
    hours: float
    """Hours of the month it stands for."""
    window_s: float
    """Seconds it simulated after its warm-up."""


class DesEngine:
    name = ENGINE_NAME

    def __init__(self, scenario: Scenario, fits: Mapping[str, Fitted], shapes: ReplicaPlans | None = None) -> None:
        self.scenario = scenario
        self.fluid = FluidEngine(scenario, fits, shapes)
        self.months = scenario.economics.horizon_months
        sim = scenario.simulation
        self.warmup_s = units.minutes_to_seconds(sim.warmup_minutes)
        self.window_s = units.minutes_to_seconds(sim.window_minutes)
        count = min(sim.sampled_months, self.months)
        self.sampled = sorted({round(x) for x in np.linspace(0, self.months - 1, count)})
        self.classes = scenario.workload.classes
        self.class_names = [c.name for c in self.classes]
        self._frames: dict[tuple[int, int], Frame] = {}
        self._slices: dict[tuple[int, int, float], Frame] = {}
        # Options that differ only in how the GPUs are paid for (rent or buy) serve the same window
        # with the same fleet: each such run is played once (key: frame, step model, fleet, paths).
        self._fleet_runs: dict[tuple[int, StepModel, FleetSettings, bytes], tuple[FleetOutcome, Requests]] = {}
        self.bins = {m: self._bins(m) for m in self.sampled}

    # --- sampling the horizon -----------------------------------------------------------------

    def _bins(self, month: int) -> list[Bin]:
        """Group the month's 168 weekly hours into load levels of equal hour counts."""
        load = sum(self.fluid.rates[c][month] for c in self.class_names)
        order = np.argsort(load, kind="stable")
        groups = [g for g in np.array_split(order, self.scenario.simulation.load_bins) if len(g)]
        return [Bin(g, {c: float(self.fluid.rates[c][month, g].mean()) for c in self.class_names}) for g in groups]

    def sampled_share(self, month: int, b: int) -> float:
        """Share of a window's requests its frame holds: every one up to `max_window_requests`, then
        a sample of that many (in expectation)."""
        expected = sum(self.bins[month][b].rates_per_s.values()) * (self.warmup_s + self.window_s)
        budget = self.scenario.simulation.max_window_requests
        return 1.0 if expected <= budget else budget / expected

    def _generate(self, month: int, b: int, share: float, key: tuple[int, ...]) -> Frame:
        # Thinning a Poisson stream leaves a Poisson stream: `share` of the rates draws the sample
        # directly, bursts included, without drawing the whole window first.
        return generate_frame(
            self.scenario.workload,
            {c: np.array([r * share]) for c, r in self.bins[month][b].rates_per_s.items()},
            self.warmup_s + self.window_s,
            self.scenario.seed,
            key,
        )

    def frame(self, month: int, b: int) -> Frame:
        key = (month, b)
        if key not in self._frames:
            self._frames[key] = self._generate(month, b, self.sampled_share(month, b), key)
        return self._frames[key]

    def slice(self, month: int, b: int, share: float) -> Frame:
        """`share` of the window's requests: what a slice of a large fleet serves.

        A slice below the frame's own share thins it (independently, seeded), so slices of one
        window are nested and options of different fleet sizes still share requests; one above it
        (a fleet too small to slice within the request budget) is drawn on its own.
        """
        sampled = self.sampled_share(month, b)
        if share == sampled:
            return self.frame(month, b)
        key = (month, b, share)
        if key not in self._slices:
            if share > sampled:
                self._slices[key] = self._generate(month, b, share, (month, b, SLICE_STREAM))
            else:
                frame = self.frame(month, b)
                seed = np.random.SeedSequence(self.scenario.seed, spawn_key=(month, b, SLICE_STREAM))
                self._slices[key] = frame.subset(np.random.default_rng(seed).random(len(frame)) < share / sampled)
        return self._slices[key]

    def _bin_requests(self, month: int) -> np.ndarray:
        """Requests per month that each load level carries, by class: (bins, classes)."""
        return np.array(
            [
                [self.fluid.rates[c][month, b.slots].sum() * SECONDS_PER_WEEK_SLOT_PER_MONTH for c in self.class_names]
                for b in self.bins[month]
            ]
        )

    # --- one window ---------------------------------------------------------------------------

    def _simulate(
        self,
        frame: Frame,
        served: Served,
        replicas: int,
        path: np.ndarray,
        share: float,
        span_s: tuple[float, float] | None = None,
    ) -> WindowResult:
        """Play one window; `path` says where each request starts (in-house, API or deferred).

        `share` < 1: the frame is that slice of the window's requests and `replicas` that slice of
        the fleet; autoscaling bounds and API rate limits are sliced alike, and the fleet's totals
        (GPU-seconds, throughput, queue, replicas at the end) are scaled back to the whole.
        `span_s`: (warm-up, window) seconds of a frame played once and dropped (an exact month's day);
        else the scenario's, and the frame lives as long as the engine.
        """
        warmup_s, window_s = span_s or (self.warmup_s, self.window_s)
        n = len(frame)
        result = WindowResult(frame.cls, path, np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan))
        if served.step is not None and served.own is not None and (path == IN_HOUSE).any():
            self._in_house(frame, served, replicas, share, result, warmup_s, warmup_s + window_s, span_s is None)
        to_api = path == API
        if served.api is not None and to_api.any():
            idx = np.nonzero(to_api)[0]
            times = api_times(
                served.api,
                frame.arrival_s[to_api],
                frame.prompt_tokens[to_api],
                frame.output_tokens[to_api],
                frame.reasoning_tokens[to_api],
                frame.provider_z[to_api],
                share,
            )
            result.ttft_s[idx] = times.ttft_s
            result.e2e_s[idx] = times.e2e_s
            result.path[idx[times.rejected]] = REJECTED
        decode_tokens = frame.output_tokens - frame.reasoning_tokens - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            result.tpot_s = np.where(decode_tokens > 0, (result.e2e_s - result.ttft_s) / decode_tokens, np.nan)
        keep = frame.arrival_s >= warmup_s
        result.cls, result.path = frame.cls[keep], result.path[keep]
        result.ttft_s, result.tpot_s, result.e2e_s = result.ttft_s[keep], result.tpot_s[keep], result.e2e_s[keep]
        return result

    def _in_house(
        self,
        frame: Frame,
        served: Served,
        replicas: int,
        share: float,
        result: WindowResult,
        count_from_s: float,
        end_s: float,
        kept: bool,
    ) -> None:
        """Serve the window's in-house requests on the fleet; a hybrid's overflow moves to the API path.
        A `kept` frame lives as long as the engine, so options that serve it alike share one run."""
        step, option, path = served.step, served.own, result.path
        assert step is not None and option is not None
        r = Requests(frame.arrival_s, frame.prompt_tokens, frame.cached_tokens, frame.output_tokens)
        p = self.fluid.planner.serving(option)
        context = float(np.mean(frame.prompt_tokens + frame.output_tokens / 2))
        saturation = saturation_tok_per_s(step, p.max_batch, context)
        settings = FleetSettings(
            replicas,
            p.scheduling,
            p.max_batch,
            p.chunk_tokens,
            self._autoscale(option, served.plan, frame, path, replicas, share) if served.plan else None,
        )
        h = served.hybrid
        if h is None:
            key = (id(frame), step, settings, path.tobytes())  # a kept frame lives as long as the engine
            run = self._fleet_runs.get(key) if kept else None
            if run is None:
                run = simulate_fleet(step, r, path == IN_HOUSE, settings, end_s, count_from_s), r
                if kept:
                    self._fleet_runs[key] = run
            outcome, r = run
        else:
            ttft_s = None if h.overflow_ttft_ms is None else units.ms_to_seconds(h.overflow_ttft_ms)
            overflow = Overflow(h.overflow_queue_per_replica, ttft_s, ~served.pinned[frame.cls])
            outcome = simulate_fleet(step, r, path == IN_HOUSE, settings, end_s, count_from_s, overflow)
        path[outcome.diverted] = API
        in_house = path == IN_HOUSE
        result.ttft_s[in_house] = r.first_token_s[in_house] - frame.arrival_s[in_house]
        result.e2e_s[in_house] = r.done_s[in_house] - frame.arrival_s[in_house]
        # Totals over the whole fleet: a slice's, divided by its share.
        result.gpu_seconds = outcome.replica_seconds * step.gpus_per_replica / share
        result.saturation_tok_per_s_seconds = outcome.replica_seconds * saturation / share
        in_window = (frame.arrival_s >= count_from_s) & in_house
        result.output_tokens_in_house = float(frame.output_tokens[in_window].sum()) / share
        result.waiting_requests_mean = outcome.waiting_requests_mean / share
        result.replicas_end = math.ceil(outcome.replicas_end / share - 1e-9)

    def _autoscale(
        self, option: SelfHostOption, plan: Plan, frame: Frame, path: np.ndarray, replicas: int, share: float
    ) -> Autoscale:
        """The autoscaler of a slice of an autoscaled rental, sized on the window's in-house work."""
        counts = np.bincount(frame.cls[path == IN_HOUSE], minlength=len(self.class_names))
        work = sum(counts[k] * plan.work_s.get(c, 0.0) for k, c in enumerate(self.class_names))
        ttft_s = option.rent.scale_up_ttft_ms
        return Autoscale(
            math.ceil(option.min_replicas * share),
            math.ceil(option.rent.max_replicas * share) if option.rent.max_replicas else 10 * max(replicas, 1),
            option.rent.startup_s,
            option.rent.scale_up_queue_per_replica,
            option.perf.target_utilisation,
            work / max(counts.sum(), 1),
            None if ttft_s is None else units.ms_to_seconds(ttft_s),
        )

    # --- an option over the horizon -----------------------------------------------------------

    def option_usage(
        self, option: ApiOption | SelfHostOption | HybridOption, progress: Callable[[str], None] | None = None
    ) -> OptionUsage:
        """The option over the horizon; `progress` hears of each window (exact: each day) as it starts."""
        base = self.fluid.option_usage(option)
        served = self._served(option, base)
        deferred = np.array(
            [
                served.hybrid is not None and served.hybrid.defer_batchable and c.batchable and not served.pinned[k]
                for k, c in enumerate(self.classes)
            ]
        )
        eligible = np.array([base.class_tokens["in_house"].get(c, 0.0) > 0 for c in self.class_names])
        play = self._exact_month if self.scenario.simulation.mode == "exact" else self._sampled_month
        o = Playing(served, base, eligible, deferred, progress or (lambda _step: None))
        return self._usage(served, base, {m: play(m, o) for m in self.sampled})

    def _paths(self, frame: Frame, o: Playing, deferred: np.ndarray) -> np.ndarray:
        """Where each request starts: in-house if its class may be, else the API; `deferred` (per
        request) waits for the off-peak hours."""
        if o.served.step is None:
            return np.full(len(frame), API, dtype=np.int8)
        path = np.where(o.eligible[frame.cls], IN_HOUSE, API).astype(np.int8)
        path[deferred] = DEFERRED
        return path

    def _sampled_month(self, m: int, o: Playing) -> list[Played]:
        """One window per load level, each standing for the level's hours."""
        played = []
        levels = self.bins[m]
        weights = self._bin_requests(m)
        carried = 0  # levels run from quiet to busy; an autoscaled fleet keeps what it grew to
        for b, level in enumerate(levels):
            said = _("month {month}, load level {level} of {levels}")
            o.tell(said.format(month=m + 1, level=b + 1, levels=len(levels)))
            replicas = max(self._replicas(o.served, o.base, m, level), carried) if o.served.step is not None else 0
            sampled = self.sampled_share(m, b)
            if replicas:
                sliced = self._sliced_replicas(replicas, len(self.frame(m, b)) / sampled, sampled)
                share = sliced / replicas
            else:
                sliced, share = 0, sampled
            frame = self.slice(m, b, share)
            peak = b >= len(levels) / 2  # peak levels: deferrable work waits for the off-peak windows
            path = self._paths(frame, o, o.deferred[frame.cls] & peak)
            window = self._simulate(frame, o.served, sliced, path, share)
            carried = window.replicas_end if o.served.autoscale else 0
            played.append(Played(window, weights[b], len(level.slots) * SLOT_HOURS, self.window_s))
        return played

    def _exact_month(self, m: int, o: Playing) -> list[Played]:
        """Every hour of the month in order, a day a frame; an autoscaled fleet starts each day at the
        size the day before ended with."""
        hours = int(units.HOURS_PER_MONTH)
        stands_for = units.HOURS_PER_MONTH / hours  # the month's hours one played hour stands for
        levels = self.bins[m]
        peak_slot = np.zeros(HOURS_PER_WEEK, dtype=bool)
        for b, level in enumerate(levels):
            peak_slot[level.slots] = b >= len(levels) / 2  # as in the sampled windows
        budget = self.scenario.simulation.max_window_requests
        played: list[Played] = []
        carried = 0
        days = math.ceil(hours / EXACT_DAY_HOURS)
        for day, first in enumerate(range(0, hours, EXACT_DAY_HOURS)):
            o.tell(_("month {month}, day {day} of {days}").format(month=m + 1, day=day + 1, days=days))
            slots = np.arange(first - 1, min(first + EXACT_DAY_HOURS, hours)) % HOURS_PER_WEEK  # warm-up hour first
            frame = generate_frame(
                self.scenario.workload,
                {c: self.fluid.rates[c][m, slots] for c in self.class_names},
                units.SECONDS_PER_HOUR,
                self.scenario.seed,
                (m, day, EXACT_STREAM),
            )
            replicas = 0
            if o.served.step is not None:
                first_hour = Bin(slots[1:2], {c: float(self.fluid.rates[c][m, slots[1]]) for c in self.class_names})
                replicas = carried or self._replicas(o.served, o.base, m, first_hour)
            hour = np.minimum(frame.arrival_s // units.SECONDS_PER_HOUR, len(slots) - 1).astype(np.int64)
            path = self._paths(frame, o, o.deferred[frame.cls] & peak_slot[slots[hour]])
            window_s = (len(slots) - 1) * units.SECONDS_PER_HOUR
            window = self._simulate(frame, o.served, replicas, path, 1.0, (units.SECONDS_PER_HOUR, window_s))
            carried = window.replicas_end if o.served.autoscale else 0
            requests = np.bincount(window.cls, minlength=len(self.classes)) * stands_for
            if len(window.cls) > budget:  # every request was played; a seeded sample keeps its outcomes
                seed = np.random.SeedSequence(self.scenario.seed, spawn_key=(m, day, EXACT_STREAM))
                window = window.kept(np.random.default_rng(seed).random(len(window.cls)) < budget / len(window.cls))
            played.append(Played(window, requests, (len(slots) - 1) * stands_for, window_s))
        return played

    def _served(self, option: ApiOption | SelfHostOption | HybridOption, base: OptionUsage) -> Served:
        api: ApiOption | None = None
        own: SelfHostOption | None = None
        h: HybridOption | None = None
        if isinstance(option, ApiOption):
            api = option
        elif isinstance(option, SelfHostOption):
            own = option
        else:
            h = option
            a, o = self.scenario.option(option.api), self.scenario.option(option.self_host)
            assert isinstance(a, ApiOption) and isinstance(o, SelfHostOption)
            api, own = a, o
        fleet = base.fleet
        step = self.fluid.planner.step(own, fleet.gpus_per_replica) if own is not None and fleet is not None else None
        if h is not None and api is not None:
            kept = pinned_classes(self.scenario, h, api)
            pinned = np.array([c in kept for c in self.class_names])
        else:
            pinned = np.ones(len(self.classes), dtype=bool)
        plan = (
            self.fluid.planner.plan(own, self.class_names)
            if own is not None and autoscaled(own) and h is None
            else None
        )
        return Served(api, own, h, step, pinned, plan)

    def _sliced_replicas(self, replicas: int, requests: float, sampled: float) -> int:
        """Replicas to simulate of a fleet: at most `max_simulated_replicas`, unless the slice would
        then carry fewer than MIN_SLICE_REQUESTS of the window's `requests`, and never more than the
        frame's `sampled` share of them (at least one replica)."""
        cap = self.scenario.simulation.max_simulated_replicas
        sliced = replicas
        if replicas > cap:
            sliced = min(replicas, max(cap, math.ceil(replicas * MIN_SLICE_REQUESTS / max(requests, 1))))
        return max(1, min(sliced, math.floor(replicas * sampled + 1e-9)))

    def _replicas(self, served: Served, base: OptionUsage, month: int, level: Bin) -> int:
        """Replicas at the start of a window: the month's fleet, or for autoscaling what the level's load needs."""
        assert base.fleet is not None
        own, plan = served.own, served.plan
        if plan is None or own is None:
            return int(base.fleet.replicas_peak[month])
        load = sum(level.rates_per_s[c] * plan.work_s.get(c, 0.0) for c in self.class_names)
        return max(own.min_replicas, 1, math.ceil(load / own.perf.target_utilisation - 1e-9))

    def _usage(self, served: Served, base: OptionUsage, results: dict[int, list[Played]]) -> OptionUsage:
        """Scale the windows up to months: shares per class and path, GPU-hours, latency."""
        classes = len(self.class_names)
        sampled_share = {}  # month -> (classes, paths) share of requests
        sampled_gpu_hours = {}
        for m, played in results.items():
            share = np.zeros((classes, 3))
            counted = np.zeros(classes)
            gpu_hours = 0.0
            for p in played:
                w = p.window
                for k in range(classes):
                    paths = np.bincount(w.path[w.cls == k], minlength=4)[:3]  # deferred ones count where they run
                    if paths.sum():
                        share[k] += p.carried[k] * paths / paths.sum()
                        counted[k] += p.carried[k]
                gpu_hours += w.gpu_seconds / p.window_s * p.hours
            sampled_share[m] = share / np.maximum(counted[:, None], 1e-12)
            sampled_gpu_hours[m] = gpu_hours
        months = np.arange(self.months)
        share = np.stack(
            [
                np.stack(
                    [np.interp(months, self.sampled, [sampled_share[m][k, p] for m in self.sampled]) for p in range(3)],
                    axis=1,
                )
                for k in range(classes)
            ],
            axis=1,
        )  # (months, k, p)
        usage = self.fluid.new_usage(base.name, base.kind)
        usage.infeasible_reasons = base.infeasible_reasons
        api = served.api
        slot = SECONDS_PER_WEEK_SLOT_PER_MONTH
        for k, c in enumerate(self.class_names):
            offered = self.fluid.rates[c]
            in_house = share[:, k, IN_HOUSE]
            if in_house.any():
                self.fluid.count(usage, c, offered.sum(axis=1) * slot * in_house, via_api=False)
            if api is not None and share[:, k, API].any():
                self.fluid.send_to_api(usage, api, c, requests_by_local_hour(offered) * share[:, k, API][:, None])
            usage.rejected_requests += float((offered.sum(axis=1) * slot * share[:, k, REJECTED]).sum())
        if base.fleet is not None:
            usage.fleet = base.fleet
            if served.autoscale:
                ratio = np.interp(
                    months,
                    self.sampled,
                    [sampled_gpu_hours[m] / max(base.fleet.gpu_hours[m], 1e-12) for m in self.sampled],
                )
                usage.fleet.gpu_hours = base.fleet.gpu_hours * ratio
        windows = [p.window for played in results.values() for p in played]
        usage.latency, usage.slo_attainment = summarise(
            self.classes, [(p.window, p.carried) for played in results.values() for p in played]
        )
        usage.class_attainment = {c: v.slo_attainment for c, v in usage.latency.items()}
        usage.slo_shortfalls = slo_shortfalls(self.scenario, usage.class_attainment)
        sat = sum(w.saturation_tok_per_s_seconds for w in windows)
        if sat:
            usage.utilisation = sum(w.output_tokens_in_house for w in windows) / sat
        usage.queue_mean = float(np.mean([w.waiting_requests_mean for w in windows]))
        return usage
