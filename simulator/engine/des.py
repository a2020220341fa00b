"""The discrete-event engine: the offered load played against each option in SimPy.

A horizon of months is too long to simulate request by request, so the engine samples it. Each
sampled month's 168 weekly hours are grouped into `load_bins` load levels; one window per level
(warm-up, then `window_minutes`) is simulated at that level's rates, and its results stand for
every hour of the level, weighted by the requests the level carries. Months between the sampled
ones take interpolated shares and GPU-hours. Every option sees the same request frames.

Inside a window: requests are routed at arrival to the ready replica with the fewest outstanding
tokens; replicas batch continuously (`replica.Replica`); rented fleets that autoscale add a
replica when queues build (it serves after `startup_s`, and is billed from the request) and retire
one when the others could carry the load; a hybrid sends its other classes to the API while the
in-house queue or predicted TTFT is over its threshold; the API path honours rate limits by
queueing or rejecting, and answers at the provider's published latency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator import catalog, perf, privacy, units
from simulator.engine import LatencySummary, OptionUsage
from simulator.engine.fleet import Autoscale, FleetOutcome, FleetSettings, saturation_tok_per_s, simulate_fleet
from simulator.engine.fluid import SLOT_HOURS, FluidEngine
from simulator.engine.replica import Replica, Requests
from simulator.scenario import ApiOption, HybridOption, Scenario, SelfHostOption
from simulator.workload import SECONDS_PER_WEEK_SLOT_PER_MONTH, Frame, generate_frame, requests_by_local_hour

ENGINE_NAME = "des"
IN_HOUSE, API, REJECTED, DEFERRED = 0, 1, 2, 3  # DEFERRED: moved to an off-peak window
SLICE_STREAM = 2**31 - 1  # seed stream of the slice draws, apart from the per-class streams of a frame
MIN_SLICE_REQUESTS = 10_000  # a slice of a fleet keeps this many of a window's requests, for steady p95/p99


@dataclass
class WindowResult:
    """Per-request outcome of one window (requests that arrived after warm-up)."""

    cls: np.ndarray
    path: np.ndarray
    ttft_s: np.ndarray
    tpot_s: np.ndarray
    e2e_s: np.ndarray
    gpu_seconds: float = 0.0
    output_tokens_in_house: float = 0.0
    saturation_tok_per_s_seconds: float = 0.0
    """Replica-seconds times each replica's saturation output rate: the denominator of utilisation."""
    queue_time_avg: float = 0.0
    """Time-averaged requests waiting in-house."""
    replicas_end: int = 0


@dataclass
class Bin:
    slots: np.ndarray
    rates_per_s: dict[str, float]


@dataclass
class ApiPathResult:
    start_s: np.ndarray
    rejected: np.ndarray


def token_bucket(
    arrival_s: np.ndarray, tokens: np.ndarray, rpm: int | None, tpm: int | None, reject: bool, share: float = 1.0
) -> ApiPathResult:
    """When each request may go out under per-minute request and token limits (FIFO).

    Each limit is a bucket that holds a minute's allowance and refills continuously. A request
    that finds a bucket short either waits for it to refill (queue) or is dropped (reject); one
    larger than a whole minute's token allowance is always dropped. `share`: the requests are
    that share of the traffic (a slice), so they get that share of each bucket.
    """
    n = len(arrival_s)
    start = arrival_s.astype(float).copy()
    rejected = np.zeros(n, dtype=bool)
    if rpm is None and tpm is None:
        return ApiPathResult(start, rejected)
    limits = [(float(rpm), np.ones(n)) if rpm else None, (float(tpm), tokens.astype(float)) if tpm else None]
    # (a minute's allowance, what each request takes, this slice's bucket size, refill per second)
    buckets = [(cap, need, cap * share, cap * share / 60.0) for cap, need in (x for x in limits if x)]
    level = [size for _, _, size, _ in buckets]
    last = float(arrival_s[0]) if n else 0.0
    free_at = 0.0  # FIFO: nobody overtakes a queued request
    for i in range(n):
        t = max(float(arrival_s[i]), free_at)
        for k, (_, _, size, rate) in enumerate(buckets):
            level[k] = min(size, level[k] + (t - last) * rate)
        last = t
        wait = 0.0
        too_big = False
        for k, (cap, need, _, rate) in enumerate(buckets):
            if need[i] > cap:
                too_big = True
            wait = max(wait, (need[i] - level[k]) / rate)
        if too_big or (wait > 0 and reject):
            rejected[i] = True
            continue
        if wait > 0:
            t += wait
            for k, (_, _, size, rate) in enumerate(buckets):
                level[k] = min(size, level[k] + wait * rate)
            last = t
        for k, (_, need, _, _) in enumerate(buckets):
            level[k] -= need[i]
        start[i] = t
        free_at = t
    return ApiPathResult(start, rejected)


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-th percentile (0-100) of values carrying these weights (inverted CDF)."""
    keep = ~np.isnan(values)
    values, weights = values[keep], weights[keep]
    if len(values) == 0:
        return math.nan
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cdf, q / 100 * cdf[-1]), len(values) - 1)])


class DesEngine:
    name = ENGINE_NAME

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.fluid = FluidEngine(scenario)
        self.months = scenario.economics.horizon_months
        sim = scenario.simulation
        self.warmup_s = sim.warmup_minutes * 60
        self.window_s = sim.window_minutes * 60
        count = min(sim.sampled_months, self.months)
        self.sampled = sorted({round(x) for x in np.linspace(0, self.months - 1, count)})
        self.classes = scenario.workload.classes
        self.class_names = [c.name for c in self.classes]
        self._frames: dict[tuple[int, int], Frame] = {}
        self._slices: dict[tuple[int, int, float], Frame] = {}
        # Options that differ only in how the GPUs are paid for (rent or buy) serve the same window
        # with the same fleet: each such run is played once (key: frame, step model, fleet, paths).
        self._fleet_runs: dict[tuple[int, perf.StepModel, FleetSettings, bytes], tuple[FleetOutcome, Requests]] = {}
        self.bins = {m: self._bins(m) for m in self.sampled}

    # --- sampling the horizon -----------------------------------------------------------------

    def _bins(self, month: int) -> list[Bin]:
        """Group the month's 168 weekly hours into load levels of equal hour counts."""
        load = sum(self.fluid.rates[c][month] for c in self.class_names)
        order = np.argsort(load, kind="stable")
        groups = [g for g in np.array_split(order, self.scenario.simulation.load_bins) if len(g)]
        return [Bin(g, {c: float(self.fluid.rates[c][month, g].mean()) for c in self.class_names}) for g in groups]

    def frame(self, month: int, b: int) -> Frame:
        key = (month, b)
        if key not in self._frames:
            rates = self.bins[month][b].rates_per_s
            self._frames[key] = generate_frame(
                self.scenario.workload,
                {c: np.array([r]) for c, r in rates.items()},
                self.warmup_s + self.window_s,
                self.scenario.seed,
                key,
            )
        return self._frames[key]

    def slice(self, month: int, b: int, share: float) -> Frame:
        """The window's requests thinned to `share` (independently, seeded): what a slice of a large fleet serves.

        Slices of one window are nested, so options of different fleet sizes still share requests.
        """
        if share >= 1:
            return self.frame(month, b)
        key = (month, b, share)
        if key not in self._slices:
            frame = self.frame(month, b)
            draw = np.random.default_rng(np.random.SeedSequence(self.scenario.seed, spawn_key=(month, b, SLICE_STREAM)))
            self._slices[key] = frame.subset(draw.random(len(frame)) < share)
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
        step: perf.StepModel | None,
        option: SelfHostOption | None,
        replicas: int,
        api: ApiOption | None,
        path: np.ndarray,
        overflow: HybridOption | None,
        pinned: np.ndarray,
        autoscale: bool,
        share: float = 1.0,
    ) -> WindowResult:
        """Play one window; `path` says where each request starts (in-house, API or deferred).

        `share` < 1: the frame is that slice of the window's requests and `replicas` that slice of
        the fleet; autoscaling bounds and API rate limits are sliced alike, and the fleet's totals
        (GPU-seconds, throughput, queue, replicas at the end) are scaled back to the whole.
        """
        n = len(frame)
        end_s = self.warmup_s + self.window_s
        result = WindowResult(frame.cls, path, np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan))
        if step is not None and option is not None and (path == IN_HOUSE).any():
            r = Requests(frame.arrival_s, frame.prompt_tokens, frame.cached_tokens, frame.output_tokens)
            p = option.perf
            context = float(np.mean(frame.prompt_tokens + frame.output_tokens / 2))
            saturation = saturation_tok_per_s(step, p.max_batch, context)
            auto = None
            if autoscale:
                plan = self.fluid._plan(option, self.class_names)
                counts = np.bincount(frame.cls[path == IN_HOUSE], minlength=len(self.class_names))
                work = sum(counts[k] * plan.work_s.get(c, 0.0) for k, c in enumerate(self.class_names))
                auto = Autoscale(
                    math.ceil(option.min_replicas * share),
                    math.ceil(option.rent.max_replicas * share) if option.rent.max_replicas else 10 * max(replicas, 1),
                    option.rent.startup_s,
                    option.rent.scale_up_queue_per_replica,
                    p.target_utilisation,
                    work / max(counts.sum(), 1),
                    None if option.rent.scale_up_ttft_ms is None else units.ms_to_seconds(option.rent.scale_up_ttft_ms),
                )
            settings = FleetSettings(replicas, p.scheduling, p.max_batch, p.chunk_tokens, auto)
            divert = None
            if overflow is not None:

                def divert(i: int, fleet: list[Replica], up: list[int]) -> bool:
                    return not pinned[frame.cls[i]] and self._overflows(fleet, up, overflow, step, r, i)

            if divert is None:  # frames live as long as the engine, so their ids name them
                key = (id(frame), step, settings, path.tobytes())
                if key not in self._fleet_runs:
                    outcome = simulate_fleet(step, r, path == IN_HOUSE, settings, end_s, self.warmup_s)
                    self._fleet_runs[key] = outcome, r
                outcome, r = self._fleet_runs[key]
            else:
                outcome = simulate_fleet(step, r, path == IN_HOUSE, settings, end_s, self.warmup_s, divert)
            path[outcome.diverted] = API
            served = path == IN_HOUSE
            result.ttft_s[served] = r.first_token_s[served] - frame.arrival_s[served]
            result.e2e_s[served] = r.done_s[served] - frame.arrival_s[served]
            # Totals over the whole fleet: a slice's, divided by its share.
            result.gpu_seconds = outcome.replica_seconds * step.gpus_per_replica / share
            result.saturation_tok_per_s_seconds = outcome.replica_seconds * saturation / share
            in_window = (frame.arrival_s >= self.warmup_s) & served
            result.output_tokens_in_house = float(frame.output_tokens[in_window].sum()) / share
            result.queue_time_avg = outcome.queue_mean / share
            result.replicas_end = math.ceil(outcome.replicas_end / share - 1e-9)
        to_api = path == API
        if api is not None and to_api.any():
            latency = catalog.api_latency(api.provider, api.model)
            speed = latency.output_tok_per_s
            gate = token_bucket(
                frame.arrival_s[to_api],
                frame.prompt_tokens[to_api] + frame.output_tokens[to_api],
                api.rate_limit_rpm,
                api.rate_limit_tpm,
                api.on_rate_limit == "reject",
                share,
            )
            idx = np.nonzero(to_api)[0]
            wait = gate.start_s - frame.arrival_s[to_api]
            ttft = wait + units.ms_to_seconds(latency.ttft_ms) + frame.reasoning_tokens[to_api] / speed
            visible = frame.output_tokens[to_api] - frame.reasoning_tokens[to_api]
            result.ttft_s[idx] = ttft
            result.e2e_s[idx] = ttft + np.maximum(visible - 1, 0) / speed
            result.path[idx[gate.rejected]] = REJECTED
            result.ttft_s[idx[gate.rejected]] = np.nan
            result.e2e_s[idx[gate.rejected]] = np.nan
        decode_tokens = frame.output_tokens - frame.reasoning_tokens - 1
        with np.errstate(invalid="ignore", divide="ignore"):
            result.tpot_s = np.where(decode_tokens > 0, (result.e2e_s - result.ttft_s) / decode_tokens, np.nan)
        keep = frame.arrival_s >= self.warmup_s
        result.cls, result.path = frame.cls[keep], result.path[keep]
        result.ttft_s, result.tpot_s, result.e2e_s = result.ttft_s[keep], result.tpot_s[keep], result.e2e_s[keep]
        return result

    def _overflows(
        self, fleet: list[Replica], ready: list[int], h: HybridOption, step: perf.StepModel, requests: Requests, i: int
    ) -> bool:
        waiting = sum(len(fleet[k].waiting) for k in ready)
        if waiting > h.overflow_queue_per_replica * len(ready):
            return True
        if h.overflow_ttft_ms is None:
            return False
        # Predicted TTFT: the prompts queued ahead on the least-loaded replica, then this one.
        ahead = min(sum(requests.prompt[j] - requests.cached[j] for j in fleet[k].waiting) for k in ready)
        new = requests.prompt[i] - requests.cached[i]
        predicted_s = step.b0_s + step.b_prefill_s * (ahead + new)
        return predicted_s > units.ms_to_seconds(h.overflow_ttft_ms)

    # --- an option over the horizon -----------------------------------------------------------

    def run(self) -> list[OptionUsage]:
        return [self.option_usage(o) for o in self.scenario.options]

    def option_usage(self, option: ApiOption | SelfHostOption | HybridOption) -> OptionUsage:
        base = self.fluid.option_usage(option)
        api, own, h = self._parts(option)
        fleet = base.fleet
        step = perf.for_option(own, fleet.gpus_per_replica) if own is not None and fleet is not None else None
        pinned = self._pinned_classes(h, api) if h is not None else np.ones(len(self.classes), dtype=bool)
        deferred = np.array(
            [h is not None and h.defer_batchable and c.batchable and not pinned[k] for k, c in enumerate(self.classes)]
        )
        eligible = np.array([base.class_tokens["in_house"].get(c, 0.0) > 0 for c in self.class_names])
        autoscale = (
            own is not None
            and own.procurement == "rent"
            and own.rent.autoscale
            and own.rent.tier in ("on_demand", "spot")
            and h is None
        )
        results: dict[int, list[WindowResult]] = {}
        for m in self.sampled:
            results[m] = []
            levels = self.bins[m]
            carried = 0  # levels run from quiet to busy; an autoscaled fleet keeps what it grew to
            for b, level in enumerate(levels):
                replicas = max(self._replicas(own, base, m, level, autoscale), carried) if step is not None else 0
                sliced = self._sliced_replicas(replicas, len(self.frame(m, b)))
                share = sliced / replicas if replicas else 1.0
                frame = self.slice(m, b, share)
                if step is None:
                    path = np.full(len(frame), API, dtype=np.int8)
                else:
                    path = np.where(eligible[frame.cls], IN_HOUSE, API).astype(np.int8)
                    if b >= len(levels) / 2:  # peak levels: deferrable work waits for the off-peak windows
                        path[deferred[frame.cls]] = DEFERRED
                window = self._simulate(frame, step, own, sliced, api, path, h, pinned, autoscale, share)
                carried = window.replicas_end if autoscale else 0
                results[m].append(window)
        return self._usage(option, base, results, autoscale)

    def _sliced_replicas(self, replicas: int, requests: int) -> int:
        """Replicas to simulate of a fleet: at most `max_simulated_replicas`, unless the slice would
        then carry fewer than MIN_SLICE_REQUESTS of the window's requests."""
        cap = self.scenario.simulation.max_simulated_replicas
        if replicas <= cap:
            return replicas
        return min(replicas, max(cap, math.ceil(replicas * MIN_SLICE_REQUESTS / max(requests, 1))))

    def _parts(
        self, option: ApiOption | SelfHostOption | HybridOption
    ) -> tuple[ApiOption | None, SelfHostOption | None, HybridOption | None]:
        if isinstance(option, ApiOption):
            return option, None, None
        if isinstance(option, SelfHostOption):
            return None, option, None
        api, own = self.scenario.option(option.api), self.scenario.option(option.self_host)
        assert isinstance(api, ApiOption) and isinstance(own, SelfHostOption)
        return api, own, option

    def _pinned_classes(self, h: HybridOption, api: ApiOption | None) -> np.ndarray:
        assert api is not None
        return np.array(
            [
                c.sensitivity in h.in_house_sensitivity
                or c.name in h.in_house_classes
                or bool(privacy.class_violations(self.scenario, api, c.name))
                for c in self.classes
            ]
        )

    def _replicas(self, own: SelfHostOption, base: OptionUsage, month: int, level: Bin, autoscale: bool) -> int:
        """Replicas at the start of a window: the month's fleet, or for autoscaling what the level's load needs."""
        assert base.fleet is not None
        if not autoscale:
            return int(base.fleet.replicas_peak[month])
        plan = self.fluid._plan(own, self.class_names)
        load = sum(level.rates_per_s[c] * plan.work_s.get(c, 0.0) for c in self.class_names)
        return max(own.min_replicas, 1, math.ceil(load / own.perf.target_utilisation - 1e-9))

    def _usage(
        self,
        option: ApiOption | SelfHostOption | HybridOption,
        base: OptionUsage,
        results: dict[int, list[WindowResult]],
        autoscale: bool,
    ) -> OptionUsage:
        """Scale the windows up to months: shares per class and path, GPU-hours, latency."""
        classes = len(self.class_names)
        sampled_share = {}  # month -> (classes, paths) share of requests
        sampled_gpu_hours = {}
        for m, windows in results.items():
            weights = self._bin_requests(m)  # (bins, classes)
            share = np.zeros((classes, 3))
            counted = np.zeros(classes)
            gpu_hours = 0.0
            for b, w in enumerate(windows):
                for k in range(classes):
                    paths = np.bincount(w.path[w.cls == k], minlength=4)[:3]  # deferred ones count where they run
                    if paths.sum():
                        share[k] += weights[b, k] * paths / paths.sum()
                        counted[k] += weights[b, k]
                hours_in_bin = len(self.bins[m][b].slots) * SLOT_HOURS
                gpu_hours += w.gpu_seconds / self.window_s * hours_in_bin
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
        api, _, _ = self._parts(option)
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
            if autoscale:
                ratio = np.interp(
                    months,
                    self.sampled,
                    [sampled_gpu_hours[m] / max(base.fleet.gpu_hours[m], 1e-12) for m in self.sampled],
                )
                usage.fleet.gpu_hours = base.fleet.gpu_hours * ratio
        usage.latency, usage.slo_attainment = self._latency(results)
        sat = sum(w.saturation_tok_per_s_seconds for ws in results.values() for w in ws)
        if sat:
            usage.utilisation = sum(w.output_tokens_in_house for ws in results.values() for w in ws) / sat
        usage.queue_mean = float(np.mean([w.queue_time_avg for ws in results.values() for w in ws]))
        return usage

    def _latency(self, results: dict[int, list[WindowResult]]) -> tuple[dict[str, LatencySummary], float]:
        """Percentiles per class over the sampled months, each request weighted by the requests it stands for."""
        cls, ttft, tpot, e2e, weight, rejected = [], [], [], [], [], []
        for m, windows in results.items():
            weights = self._bin_requests(m)
            for b, w in enumerate(windows):
                offered = w.path != DEFERRED  # rejected requests count, as misses
                counts = np.bincount(w.cls[offered], minlength=len(self.class_names)).astype(float)
                per_request = np.divide(weights[b], counts, out=np.zeros_like(counts), where=counts > 0)
                cls.append(w.cls[offered])
                ttft.append(w.ttft_s[offered])
                tpot.append(w.tpot_s[offered])
                e2e.append(w.e2e_s[offered])
                weight.append(per_request[w.cls[offered]])
                rejected.append(w.path[offered] == REJECTED)
        c, ttft_s, tpot_s, e2e_s, wt, dropped = (np.concatenate(x) for x in (cls, ttft, tpot, e2e, weight, rejected))
        out: dict[str, LatencySummary] = {}
        met_weight = 0.0
        for k, rc in enumerate(self.classes):
            mine = c == k
            if not mine.any():
                continue
            w = wt[mine]
            target = rc.latency
            within_tpot = np.isnan(tpot_s[mine]) | (tpot_s[mine] <= units.ms_to_seconds(target.tpot_ms))
            ok = ~dropped[mine] & (ttft_s[mine] <= units.ms_to_seconds(target.ttft_ms)) & within_tpot
            met_weight += float(w[ok].sum())
            out[rc.name] = LatencySummary(
                ttft_p50_ms=units.seconds_to_ms(weighted_percentile(ttft_s[mine], w, 50)),
                ttft_p95_ms=units.seconds_to_ms(weighted_percentile(ttft_s[mine], w, 95)),
                ttft_p99_ms=units.seconds_to_ms(weighted_percentile(ttft_s[mine], w, 99)),
                tpot_p50_ms=units.seconds_to_ms(weighted_percentile(tpot_s[mine], w, 50)),
                tpot_p95_ms=units.seconds_to_ms(weighted_percentile(tpot_s[mine], w, 95)),
                tpot_p99_ms=units.seconds_to_ms(weighted_percentile(tpot_s[mine], w, 99)),
                e2e_p50_ms=units.seconds_to_ms(weighted_percentile(e2e_s[mine], w, 50)),
                e2e_p95_ms=units.seconds_to_ms(weighted_percentile(e2e_s[mine], w, 95)),
                e2e_p99_ms=units.seconds_to_ms(weighted_percentile(e2e_s[mine], w, 99)),
                slo_attainment=float(w[ok].sum() / w.sum()),
            )
        return out, met_weight / float(wt.sum()) if wt.sum() else math.nan
