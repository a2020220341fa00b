"""Speed of the discrete-event engine.

1. Simulated requests per second for one continuous-batching replica under realistic load
   (Llama 3.1 8B on an H100, about 70% of its capacity), with the event-skipping engine and, in
   the same run, a plain SimPy model that resumes one process per generated token. Target: at
   least 200,000 requests/s.
2. Wall time of the 36-month bundled scenarios with `--engine des`. Target: under 10 s.
3. A large fleet simulated whole and as a slice (`simulation.max_simulated_replicas`): wall time
   and what the slice changes in the answer.

Run: python benchmarks/bench_des.py (one core is enough; it prints Markdown tables).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import simpy
from machine import header

from simulator import catalog
from simulator.analysis.run import run
from simulator.engine.fleet import FleetSettings, simulate_fleet
from simulator.engine.replica import Requests
from simulator.perf.serving import serving
from simulator.perf.step import StepModel, roofline
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
RATE_RPS = 10.0  # about 70% of this replica's throughput at these lengths


def workload(n: int, seed: int = 1) -> Requests:
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / RATE_RPS, n))
    prompts = np.maximum(1, rng.lognormal(np.log(800), 0.5, n).astype(np.int64))
    outputs = np.maximum(2, rng.lognormal(np.log(150), 0.6, n).astype(np.int64))
    return Requests(arrivals, prompts, np.zeros(n, dtype=np.int64), outputs)


def per_token_simpy(step: StepModel, r: Requests, max_batch: int = 256) -> None:
    """The plain model: a process per request that the replica wakes once per generated token."""
    env = simpy.Environment()
    waiting: list[tuple[int, simpy.Event]] = []
    running: dict[int, int] = {}
    kv = [0]
    tick = [env.event()]
    work = [env.event()]

    def request(i: int):
        yield env.timeout(float(r.arrival_s[i]) - env.now)
        admitted = env.event()
        waiting.append((i, admitted))
        if not work[0].triggered:
            work[0].succeed()
        yield admitted
        for _ in range(int(r.output_tokens[i]) - 1):
            yield tick[0]

    def replica():
        while True:
            if not waiting and not running:
                work[0] = env.event()
                yield work[0]
            admitted = waiting[: max_batch - len(running)]
            del waiting[: len(admitted)]
            prompt = sum(int(r.prompt_tokens[i]) for i, _ in admitted)
            pairs = sum(int(r.prompt_tokens[i]) ** 2 / 2 for i, _ in admitted)
            yield env.timeout(step.step_s(prompt, pairs, len(running), kv[0]))
            now_tick, tick[0] = tick[0], env.event()
            now_tick.succeed()
            for i in list(running):
                running[i] -= 1
                kv[0] += 1
                if running[i] == 0:
                    del running[i]
                    kv[0] -= int(r.prompt_tokens[i] + r.output_tokens[i])
                    r.done_s[i] = env.now
            for i, event in admitted:
                r.first_token_s[i] = env.now
                running[i] = int(r.output_tokens[i]) - 1
                kv[0] += int(r.prompt_tokens[i]) + 1
                event.succeed()

    for i in range(len(r.arrival_s)):
        env.process(request(i))
    env.process(replica())
    env.run(until=float(r.arrival_s[-1]) + 600)


def main() -> None:
    header(
        "300,000 requests on one replica (Llama 3.1 8B, H100, about 70% load), event-skipping and per-token "
        "SimPy in the same run; the bundled 36-month scenarios and a large fleet with --engine des, wall time.",
        "at least 200,000 simulated requests/s on one replica; a 36-month scenario under 10 s.",
    )
    m, g = catalog.model("llama-3.1-8b-instruct"), catalog.gpu("h100-sxm")
    step = roofline(m, g, "fp16", 1, serving(g, "fp16"))

    r = workload(300_000)
    start = time.perf_counter()
    simulate_fleet(
        step,
        r,
        np.ones(len(r.arrival_s), dtype=bool),
        FleetSettings(1, "prefill_first", 256, 2048),
        end_s=float(r.arrival_s[-1]),
    )
    fast = len(r.arrival_s) / (time.perf_counter() - start)

    plain = workload(5_000)
    start = time.perf_counter()
    per_token_simpy(step, plain)
    slow = len(plain.arrival_s) / (time.perf_counter() - start)

    print("| model | simulated requests/s |")
    print("|---|---|")
    print(f"| event-skipping replica (SimPy clock) | {fast:,.0f} |")
    print(f"| plain SimPy, one event per token | {slow:,.0f} |")
    print(f"| speed-up | {fast / slow:,.0f}x |")
    print()
    print("| scenario | months | options | wall time with --engine des (s) |")
    print("|---|---|---|---|")
    for name in ("support-assistant", "coding-assistant"):
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        start = time.perf_counter()
        run(scenario, "des")
        wall = time.perf_counter() - start
        print(f"| {name} | {scenario.economics.horizon_months} | {len(scenario.options)} | {wall:.1f} |")
    print()
    print("| support-assistant at 30x volume, 12 months | wall time (s) | llama-70b-reserved p95 TTFT (ms) |", end="")
    print(" hybrid p95 TTFT (ms) | hybrid SLO met |")
    print("|---|---|---|---|---|")
    for label, cap in (("whole fleet, replica by replica", 100_000), ("slices of 32 replicas (default)", 32)):
        overrides = ["workload.scale=30", "economics.horizon_months=12", f"simulation.max_simulated_replicas={cap}"]
        scenario = load_scenario(ROOT / "scenarios" / "support-assistant.yaml", overrides)
        start = time.perf_counter()
        result = run(scenario, "des")
        wall = time.perf_counter() - start
        by_name = {o.name: o for o in result.options}
        reserved, hybrid = by_name["llama-70b-reserved"], by_name["owned-baseline-plus-flash"]
        assert reserved.latency is not None and hybrid.latency is not None and hybrid.slo_attainment is not None
        print(
            f"| {label} | {wall:.1f} | {reserved.latency['answer'].ttft_p95_ms:.0f} | "
            f"{hybrid.latency['answer'].ttft_p95_ms:.0f} | {hybrid.slo_attainment:.1%} |"
        )


if __name__ == "__main__":
    main()
