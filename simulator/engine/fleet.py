"""A fleet of continuous-batching replicas in SimPy: routing, a fixed size or an autoscaler.

SimPy keeps the clock: the arrival process hands each request to a replica at its arrival time
and yields every `control_interval_s`, the autoscaler acts on the same ticks, and a replica the
autoscaler asks for becomes ready after its start-up delay. Replicas are advanced only when one of
their step boundaries has passed (a list holds each replica's next boundary), so a request costs
the events it causes, not one per replica.

Routing sends each request to the ready replica with the fewest outstanding tokens at its arrival,
counting the decode steps already run inside the stretch in progress.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from simulator.engine.replica import Replica, Requests
from simulator.perf.serving import Policy
from simulator.perf.step import StepModel

CONTROL_INTERVAL_S = 10.0


@dataclass(frozen=True)
class Overflow:
    """A hybrid's rule, asked at the arrival of each request that may leave: send it elsewhere when the
    ready replicas hold more than `queue_per_replica` waiting requests each, or when its predicted
    time to first token (the prompts queued at the least-loaded replica, then its own, in one step)
    would pass `ttft_s`."""

    queue_per_replica: float
    ttft_s: float | None
    may_leave: np.ndarray
    """Per request: whether its class may leave the fleet."""


@dataclass(frozen=True)
class Autoscale:
    min_replicas: int
    max_replicas: int
    startup_s: float
    scale_up_queue_per_replica: float
    target_utilisation: float
    replica_s_per_request: float
    """Replica time one request takes at the planned batch (the fluid plan's work per request)."""
    scale_up_ttft_s: float | None = None
    """Add a replica when the prompts queued at the least-loaded replica would delay a new one this long."""
    lookback_s: float = 300.0
    """Arrivals over this long set the load the fleet scales down to."""


@dataclass(frozen=True)
class FleetSettings:
    replicas: int
    scheduling: Policy
    max_batch: int
    chunk_tokens: int
    autoscale: Autoscale | None = None
    control_interval_s: float = CONTROL_INTERVAL_S


@dataclass
class FleetOutcome:
    replica_seconds: float
    """Replica time held between `count_from_s` and `end_s` (from a replica's request, for autoscaling)."""
    waiting_requests_mean: float
    """Requests waiting for admission, averaged over the control ticks after `count_from_s`."""
    diverted: np.ndarray
    """Requests the `overflow` rule sent elsewhere."""
    replicas_max: int
    replicas_end: int
    """Replicas serving or starting when the run ended."""


def simulate_fleet(
    step: StepModel,
    r: Requests,
    serve: np.ndarray,
    settings: FleetSettings,
    end_s: float,
    count_from_s: float = 0.0,
    overflow: Overflow | None = None,
) -> FleetOutcome:
    """Serve the requests marked in `serve` (arrival order) and write their times into `r`."""
    return _FleetRun(step, r, serve, settings, end_s, count_from_s, overflow).run()


class _FleetRun:
    """One run of a fleet: the replicas, the clock's processes (arrivals, autoscaler) and what they count."""

    def __init__(
        self,
        step: StepModel,
        r: Requests,
        serve: np.ndarray,
        settings: FleetSettings,
        end_s: float,
        count_from_s: float,
        overflow: Overflow | None,
    ) -> None:
        self.env = simpy.Environment()
        self.step, self.r, self.serve, self.settings = step, r, serve, settings
        self.end_s, self.count_from_s, self.overflow = end_s, count_from_s, overflow
        self.tick = settings.control_interval_s
        self.fleet = [self._make() for _ in range(max(settings.replicas, 1))]
        self.up_since = [0.0] * len(self.fleet)
        self.retired_at: list[float | None] = [None] * len(self.fleet)
        self.diverted = np.zeros(len(r.arrival_s), dtype=bool)
        self.next_boundary = [math.inf] * len(self.fleet)
        """Per replica, the time of the next step boundary to process (infinite while it has nothing to run)."""
        self.live = list(range(len(self.fleet)))
        """Ready replicas, in order: those routing may choose (a new list on each change, so a caller's
        copy stays as it read it)."""
        self.waiting_samples: list[int] = []
        self.draining: list[int] = []
        self.served_per_tick: list[int] = []

    def run(self) -> FleetOutcome:
        auto = self.settings.autoscale
        single = len(self.fleet) == 1 and auto is None and self.overflow is None
        self.env.process(self._one_replica() if single else self._arrivals())
        if auto is not None:
            self.env.process(self._autoscaler(auto))
        self.env.run(until=self.end_s + self.tick)
        for rep in self.fleet:
            rep.run_to_completion()
        held = 0.0
        for k in range(len(self.fleet)):
            on = max(self.up_since[k], self.count_from_s)
            retired = self.retired_at[k]
            off = min(retired if retired is not None else self.end_s, self.end_s)
            held += max(off - on, 0.0)
        return FleetOutcome(
            replica_seconds=held,
            waiting_requests_mean=float(np.mean(self.waiting_samples)) if self.waiting_samples else 0.0,
            diverted=self.diverted,
            replicas_max=len(self.fleet),
            replicas_end=sum(
                1 for k in range(len(self.fleet)) if self.retired_at[k] is None and k not in self.draining
            ),
        )

    def _make(self) -> Replica:
        s = self.settings
        return Replica(self.step, self.r, s.scheduling, s.max_batch, s.chunk_tokens)

    def _touched(self, k: int) -> None:
        rep = self.fleet[k]
        rep.update_route()
        if rep.stretch_steps:
            self.next_boundary[k] = rep.stretch_end
        elif not rep.idle:  # work submitted at its last boundary: plan it at the next arrival
            self.next_boundary[k] = rep.now
        else:
            self.next_boundary[k] = math.inf

    def _catch_up(self, t: float) -> None:
        # Replicas advance independently, so the order they are caught up in does not matter; a scan of
        # the fleet costs what routing's does.
        boundary = self.next_boundary
        for k in range(len(boundary)):
            if boundary[k] < t:
                self.fleet[k].advance_to(t)
                self._touched(k)

    def _least_loaded(self, t: float) -> int:
        # Decode steps run since each stretch began, counted at the stretch's first (shortest) step:
        # exact while the KV term is zero, and within a step of it otherwise.
        best, best_k = sys.maxsize, 0
        fleet = self.fleet
        for k in self.live:
            rep = fleet[k]
            out, decoding, start = rep.route_tokens, rep.route_decoding, rep.route_start
            if decoding and t > start:
                done = int((t - start) * rep.route_inv_a)  # whole steps run: a floor, the product being positive
                steps = rep.route_steps
                out -= (done if done < steps else steps) * decoding
            if out < best:
                best, best_k = out, k
        return best_k

    def _prompts_ahead(self, up: list[int]) -> int:
        """Prompt tokens waiting at the least-loaded replica (by that count)."""
        prompt, cached, fleet = self.r.prompt, self.r.cached, self.fleet
        return min(sum([prompt[j] - cached[j] for j in fleet[k].waiting]) for k in up)

    def _overflows(self, i: int, rule: Overflow) -> bool:
        up = self.live
        fleet = self.fleet
        if sum([len(fleet[k].waiting) for k in up]) > rule.queue_per_replica * len(up):
            return True
        if rule.ttft_s is None:
            return False
        new = self.r.prompt[i] - self.r.cached[i]
        return self.step.ttft_alone_s(self._prompts_ahead(up) + new, 0.0) > rule.ttft_s

    def _set_ready(self, k: int, ready: bool) -> None:
        self.live = sorted([*self.live, k]) if ready else [j for j in self.live if j != k]

    def _one_replica(self) -> Generator[simpy.Event, Any, None]:
        # One fixed replica needs no routing: hand it each arrival directly.
        env, rep, tick = self.env, self.fleet[0], self.tick
        arrival: list[float] = self.r.arrival_s.tolist()
        wanted: list[bool] = self.serve.tolist()
        n, i = len(arrival), 0
        while i < n:
            if env.now >= self.count_from_s:
                rep.advance_to(env.now)
                self.waiting_samples.append(len(rep.waiting))
            horizon = env.now + tick
            while i < n and arrival[i] < horizon:
                if wanted[i]:
                    t = arrival[i]
                    rep.advance_to(t)
                    rep.submit(i, t)
                i += 1
            yield env.timeout(tick)

    def _arrivals(self) -> Generator[simpy.Event, Any, None]:
        env, fleet, tick = self.env, self.fleet, self.tick
        # Plain lists: indexing numpy arrays one element at a time costs more than the routing.
        arrival: list[float] = self.r.arrival_s.tolist()
        serve: list[bool] = self.serve.tolist()
        overflow = self.overflow
        may_leave: list[bool] = overflow.may_leave.tolist() if overflow is not None else []
        i, n = 0, len(arrival)
        while i < n:
            if env.now >= self.count_from_s:  # sample the line before this tick's arrivals join it
                self._catch_up(env.now)
                self.waiting_samples.append(sum(len(fleet[k].waiting) for k in self.live))
            horizon = env.now + tick
            served = 0
            routed = len(fleet) > 1  # the fleet changes only between ticks
            while i < n and arrival[i] < horizon:
                if serve[i]:
                    served += 1
                    t = arrival[i]
                    self._catch_up(t)
                    if overflow is not None and may_leave[i] and self._overflows(i, overflow):
                        self.diverted[i] = True
                    else:
                        k = self._least_loaded(t) if routed else 0
                        rep = fleet[k]
                        rep.advance_to(t)
                        rep.submit(i, t)
                        self._touched(k)
                i += 1
            self.served_per_tick.append(served)
            yield env.timeout(tick)

    def _start(self, k: int, startup_s: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(startup_s)
        self._set_ready(k, True)

    def _autoscaler(self, auto: Autoscale) -> Generator[simpy.Event, Any, None]:
        # Add a replica while queues build; drain one when the others could carry the recent arrivals
        # at the target utilisation (it takes no new requests and retires once empty).
        env, fleet, tick = self.env, self.fleet, self.tick
        lookback = max(1, round(auto.lookback_s / tick))
        while env.now < self.end_s:
            yield env.timeout(tick)
            self._catch_up(env.now)
            up = self.live
            recent = self.served_per_tick[-lookback:]
            busy_replicas = sum(recent) / (max(len(recent), 1) * tick) * auto.replica_s_per_request
            waiting = sum(len(fleet[k].waiting) for k in up)
            active = sum(1 for k in range(len(fleet)) if self.retired_at[k] is None and k not in self.draining)
            # Replicas still starting count as capacity, so one queue does not order a dozen.
            queued = waiting > auto.scale_up_queue_per_replica * active
            slow = (
                auto.scale_up_ttft_s is not None
                and active == len(up)
                and up
                and self.step.ttft_alone_s(self._prompts_ahead(up), 0.0) > auto.scale_up_ttft_s
            )
            if (queued or slow) and active < auto.max_replicas:
                fleet.append(self._make())
                self.up_since.append(env.now)
                self.retired_at.append(None)
                self.next_boundary.append(math.inf)
                env.process(self._start(len(fleet) - 1, auto.startup_s))
            elif (
                not waiting
                and active == len(up)
                and len(up) > max(auto.min_replicas, 1)
                and busy_replicas < (len(up) - 1) * auto.target_utilisation
            ):
                k = min(up, key=lambda k: fleet[k].route_tokens)  # the fewest outstanding tokens
                self._set_ready(k, False)
                self.draining.append(k)
            for k in list(self.draining):
                fleet[k].advance_to(env.now)
                if fleet[k].idle:
                    self.retired_at[k] = env.now
                    self.draining.remove(k)


def saturation_tok_per_s(step: StepModel, max_batch: int, context_tokens: float) -> float:
    """Output tokens per second of one replica at the largest batch its KV cache holds."""
    batch = max(1, min(max_batch, int(step.kv_capacity_tokens // max(context_tokens, 1.0))))
    return batch / float(step.decode_step_s(np.array([batch]), context_tokens)[0])
