"""A fleet of continuous-batching replicas in SimPy: routing, a fixed size or an autoscaler.

SimPy keeps the clock: the arrival process hands each request to a replica at its arrival time
and yields every `control_interval_s`, the autoscaler acts on the same ticks, and a replica the
autoscaler asks for becomes ready after its start-up delay. Replicas are advanced only when one of
their step boundaries has passed (a heap holds each replica's next boundary), so a request costs
the events it causes, not one per replica.

Routing sends each request to the ready replica with the fewest outstanding tokens at its arrival,
counting the decode steps already run inside the stretch in progress.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from simulator.engine.replica import Policy, Replica, Requests
from simulator.perf import StepModel

CONTROL_INTERVAL_S = 10.0


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
    scheduling: Policy = "chunked_prefill"
    max_batch: int = 256
    chunk_tokens: int = 2048
    autoscale: Autoscale | None = None
    control_interval_s: float = CONTROL_INTERVAL_S


@dataclass
class FleetOutcome:
    replica_seconds: float
    """Replica time held between `count_from_s` and `end_s` (from a replica's request, for autoscaling)."""
    queue_mean: float
    """Requests waiting for admission, averaged over the control ticks after `count_from_s`."""
    diverted: np.ndarray
    """Requests the `divert` rule sent elsewhere."""
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
    divert: Callable[[int, list[Replica], list[int]], bool] | None = None,
) -> FleetOutcome:
    """Serve the requests marked in `serve` (arrival order) and write their times into `r`."""
    env = simpy.Environment()
    tick = settings.control_interval_s
    auto = settings.autoscale

    def make() -> Replica:
        return Replica(step, r, settings.scheduling, settings.max_batch, settings.chunk_tokens)

    fleet = [make() for _ in range(max(settings.replicas, 1))]
    ready_at = [0.0] * len(fleet)
    up_since = [0.0] * len(fleet)
    retired_at: list[float | None] = [None] * len(fleet)
    diverted = np.zeros(len(r.arrival_s), dtype=bool)
    boundaries: list[tuple[float, int]] = []
    # Per replica, for routing: (tokens outstanding at its last boundary, stretch start,
    # 1 / first step of the stretch, steps in it, sequences it decodes).
    state = [(0.0, 0.0, 0.0, 0, 0)] * len(fleet)
    ready = [True] * len(fleet)
    queue_samples: list[int] = []
    draining: list[int] = []
    served_per_tick: list[int] = []

    def touched(k: int) -> None:
        rep = fleet[k]
        state[k] = (
            rep.outstanding_tokens(),
            rep.now,
            1 / rep.stretch_a if rep.stretch_a else 0.0,
            rep.stretch_steps,
            len(rep.running) if rep.decoding else 0,
        )
        if rep.stretch_steps:
            heapq.heappush(boundaries, (rep.stretch_end, k))
        elif not rep.idle:  # work submitted at its last boundary: plan it at the next arrival
            heapq.heappush(boundaries, (rep.now, k))

    def catch_up(t: float) -> None:
        while boundaries and boundaries[0][0] < t:
            end, k = heapq.heappop(boundaries)
            rep = fleet[k]
            if (rep.stretch_end == end) if rep.stretch_steps else not rep.idle:
                fleet[k].advance_to(t)
                touched(k)

    def least_loaded(t: float) -> int:
        # Decode steps run since each stretch began, counted at the stretch's first (shortest) step:
        # exact while the KV term is zero, and within a step of it otherwise.
        best, best_k = math.inf, 0
        for k, (out, start, inv_a, steps, decoding) in enumerate(state):
            if ready[k]:
                left = out - min(math.floor(max(t - start, 0.0) * inv_a), steps) * decoding if decoding else out
                if left < best:
                    best, best_k = left, k
        return best_k

    def predicted_ttft_s(up: list[int]) -> float:
        """Prefill of the prompts waiting at the least-loaded replica, then one step."""
        ahead = min(sum(r.prompt[j] - r.cached[j] for j in fleet[k].waiting) for k in up)
        return step.b0_s + step.b_prefill_s * ahead

    def live() -> list[int]:
        return [k for k in range(len(fleet)) if ready[k]]

    def one_replica():
        # One fixed replica needs no routing: hand it each arrival directly.
        rep = fleet[0]
        arrival, wanted = r.arrival_s.tolist(), serve.tolist()
        n, i = len(arrival), 0
        while i < n:
            if env.now >= count_from_s:
                rep.advance_to(env.now)
                queue_samples.append(len(rep.waiting))
            horizon = env.now + tick
            while i < n and arrival[i] < horizon:
                if wanted[i]:
                    t = arrival[i]
                    rep.advance_to(t)
                    rep.submit(i, t)
                i += 1
            yield env.timeout(tick)

    def arrivals():
        i, n = 0, len(r.arrival_s)
        arrival = r.arrival_s
        while i < n:
            if env.now >= count_from_s:  # sample the line before this tick's arrivals join it
                catch_up(env.now)
                queue_samples.append(sum(len(fleet[k].waiting) for k in live()))
            horizon = env.now + tick
            served_per_tick.append(0)
            while i < n and arrival[i] < horizon:
                if serve[i]:
                    served_per_tick[-1] += 1
                    t = float(arrival[i])
                    catch_up(t)
                    if divert is not None and divert(i, fleet, live()):
                        diverted[i] = True
                    else:
                        k = least_loaded(t) if len(fleet) > 1 else 0
                        fleet[k].advance_to(t)
                        fleet[k].submit(i, t)
                        touched(k)
                i += 1
            yield env.timeout(tick)

    def start(k: int):
        assert auto is not None
        yield env.timeout(auto.startup_s)
        ready_at[k] = env.now
        ready[k] = True

    def autoscaler():
        # Add a replica while queues build; drain one when the others could carry the recent arrivals
        # at the target utilisation (it takes no new requests and retires once empty).
        assert auto is not None
        lookback = max(1, round(auto.lookback_s / tick))
        while env.now < end_s:
            yield env.timeout(tick)
            catch_up(env.now)
            up = live()
            recent = served_per_tick[-lookback:]
            busy_replicas = sum(recent) / (max(len(recent), 1) * tick) * auto.replica_s_per_request
            waiting = sum(len(fleet[k].waiting) for k in up)
            active = sum(1 for k in range(len(fleet)) if retired_at[k] is None and k not in draining)
            # Replicas still starting count as capacity, so one queue does not order a dozen.
            queued = waiting > auto.scale_up_queue_per_replica * active
            slow = (
                auto.scale_up_ttft_s is not None
                and active == len(up)
                and up
                and predicted_ttft_s(up) > auto.scale_up_ttft_s
            )
            if (queued or slow) and active < auto.max_replicas:
                fleet.append(make())
                ready_at.append(math.inf)
                up_since.append(env.now)
                retired_at.append(None)
                state.append((0.0, 0.0, 0.0, 0, 0))
                ready.append(False)
                env.process(start(len(fleet) - 1))
            elif (
                not waiting
                and active == len(up)
                and len(up) > max(auto.min_replicas, 1)
                and busy_replicas < (len(up) - 1) * auto.target_utilisation
            ):
                k = min(up, key=lambda k: fleet[k].outstanding_tokens())
                ready[k] = False
                draining.append(k)
            for k in list(draining):
                fleet[k].advance_to(env.now)
                if fleet[k].idle:
                    retired_at[k] = env.now
                    draining.remove(k)

    single = len(fleet) == 1 and auto is None and divert is None
    env.process(one_replica() if single else arrivals())
    if auto is not None:
        env.process(autoscaler())
    env.run(until=end_s + tick)
    for rep in fleet:
        rep.run_to_completion()
    held = 0.0
    for k in range(len(fleet)):
        on = max(up_since[k], count_from_s)
        off = min(retired_at[k] if retired_at[k] is not None else end_s, end_s)
        held += max(off - on, 0.0)
    return FleetOutcome(
        replica_seconds=held,
        queue_mean=float(np.mean(queue_samples)) if queue_samples else 0.0,
        diverted=diverted,
        replicas_max=len(fleet),
        replicas_end=sum(1 for k in range(len(fleet)) if retired_at[k] is None and k not in draining),
    )


def saturation_tok_per_s(step: StepModel, max_batch: int, context_tokens: float) -> float:
    """Output tokens per second of one replica at the largest batch its KV cache holds."""
    batch = max(1, min(max_batch, int(step.kv_capacity_tokens // max(context_tokens, 1.0))))
    return batch / float(step.decode_step_s(np.array([batch]), context_tokens)[0])
