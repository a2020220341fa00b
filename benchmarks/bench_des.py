"""Speed of the discrete-event engine.

1. Simulated requests per second for one continuous-batching replica under realistic load
   (Llama 3.1 8B on an H100, about 70% of its capacity), with the event-skipping engine and, in
   the same run, a plain SimPy model that resumes one process per generated token; then a fleet of
   16 replicas at the same load each. Targets: at least 200,000 requests/s on one replica (the
   performance issue asks 500,000) and 250,000 for the fleet.
2. Wall time of the 36-month bundled scenarios with `--engine des`. Target: under 10 s.
3. A large fleet simulated whole and as a slice (`simulation.max_simulated_replicas`): wall time
   and what the slice changes in the answer.
4. Volume: every bundled scenario at 100x, each in a fresh process: wall time and peak memory with
   the default request budget (`simulation.max_window_requests`). Target: under 10 s and 500 MB.
5. What the budget changes: support-assistant at 10x with the default budget, with none, and with
   smaller ones: each option's p95 TTFT and cost against the unsampled run. Target: p95 within 5%,
   cost within 0.5%.
6. A month request by request (`simulation.mode: exact`): regulated-rag's first month for its
   on-premises fleet, in a fresh process: wall time, requests a second and peak memory. Target: a
   126M-request month in under 10 minutes.

Run: python benchmarks/bench_des.py (one core is enough; it prints Markdown tables). With
`--whole-month` it plays only the issue's month itself instead: regulated-rag's first month at the
volume that makes it 126M requests, request by request (about 8 minutes; each day shows on stderr).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import simpy
from machine import header

from simulator import catalog
from simulator.analysis.run import run
from simulator.engine.fleet import FleetSettings, simulate_fleet
from simulator.engine.fluid import FluidEngine
from simulator.engine.replica import Requests
from simulator.perf.serving import serving
from simulator.perf.step import StepModel, roofline
from simulator.scenario import load_scenario
from simulator.workload import requests_by_local_hour

ROOT = Path(__file__).resolve().parent.parent
RATE_RPS = 10.0  # about 70% of this replica's throughput at these lengths
WHOLE_MONTH_REQUESTS = 126e6  # the month the performance issue asks to play whole
FLEET_REPLICAS = 16


def workload(n: int, seed: int = 1, replicas: int = 1) -> Requests:
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / (RATE_RPS * replicas), n))
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
        "SimPy in the same run, then on a fleet of 16 at the same load each; the bundled 36-month scenarios "
        "and a large fleet with --engine des, wall time.",
        "at least 200,000 simulated requests/s on one replica and 250,000 for a fleet; a 36-month scenario under 10 s.",
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

    # A fleet at the same load per replica, routed by outstanding tokens, chunked prefill as vLLM runs it.
    r = workload(300_000, replicas=FLEET_REPLICAS)
    start = time.perf_counter()
    simulate_fleet(
        step,
        r,
        np.ones(len(r.arrival_s), dtype=bool),
        FleetSettings(FLEET_REPLICAS, "chunked_prefill", 1024, 8192),
        end_s=float(r.arrival_s[-1]),
    )
    fleet = len(r.arrival_s) / (time.perf_counter() - start)

    print("| model | simulated requests/s |")
    print("|---|---|")
    print(f"| event-skipping replica (SimPy clock) | {fast:,.0f} |")
    print(f"| plain SimPy, one event per token | {slow:,.0f} |")
    print(f"| speed-up | {fast / slow:,.0f}x |")
    print(f"| fleet of {FLEET_REPLICAS} event-skipping replicas, chunked prefill | {fleet:,.0f} |")
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
    for label, cap in (("whole fleet, replica by replica", 10_000), ("slices of 32 replicas (default)", 32)):
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


def in_fresh_process(work: str, args: list[str]) -> tuple[float, float, Any]:
    """Wall time (s), peak memory (MB) and `answer` of `work`, Python that sets it, run in a new process
    with `args` as sys.argv[1:]."""
    # VmHWM, the peak resident set of this process image: getrusage's ru_maxrss would carry the
    # parent's peak across fork and exec.
    script = (
        f"import json, re, sys; from pathlib import Path; {work}; "
        "rss_kb = int(re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1)); "
        "print(json.dumps({'rss_kb': rss_kb, 'answer': answer}))"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, check=True)
    wall = time.perf_counter() - start
    doc = json.loads(out.stdout)
    return wall, doc["rss_kb"] / 1024, doc["answer"]


def fresh(scenario: Path, overrides: list[str]) -> tuple[float, float, dict]:
    """Wall time (s), peak memory (MB) and the JSON answer of one `run --engine des` in a new process."""
    return in_fresh_process(
        "from simulator.analysis.run import run; from simulator.scenario import load_scenario; "
        "answer = run(load_scenario(sys.argv[1], sys.argv[2:]), 'des').model_dump(mode='json')",
        [str(scenario), *overrides],
    )


def volume() -> None:
    print()
    print("| scenario at 100x volume | wall time (s) | peak memory (MB) |")
    print("|---|---|---|")
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        wall, mb, _ = fresh(path, ["workload.scale=100"])
        print(f"| {path.stem} | {wall:.1f} | {mb:,.0f} |", flush=True)
    print()
    print("| support-assistant at 10x, requests a window | wall time (s) | worst p95 TTFT gap | worst cost gap |")
    print("|---|---|---|---|")
    path = ROOT / "scenarios" / "support-assistant.yaml"
    _, _, whole = fresh(path, ["workload.scale=10", "simulation.max_window_requests=5000000"])
    for budget in (100_000, 20_000, 10_000):
        wall, _, sampled = fresh(path, ["workload.scale=10", f"simulation.max_window_requests={budget}"])
        p95_gap = cost_gap = 0.0
        for o, w in zip(sampled["options"], whole["options"], strict=True):
            cost_gap = max(cost_gap, abs(o["total_cost_usd"] / w["total_cost_usd"] - 1))
            for c, v in (o["latency"] or {}).items():
                p95_gap = max(p95_gap, abs(v["ttft_p95_ms"] / w["latency"][c]["ttft_p95_ms"] - 1))
        print(f"| {budget:,} | {wall:.1f} | {p95_gap:.1%} | {cost_gap:.2%} |", flush=True)


def exact_month() -> None:
    """One month of one option played request by request, in a fresh process."""
    print()
    print("| one month request by request (simulation.mode: exact) | requests | wall time (s) | requests/s |", end="")
    print(" peak memory (MB) | a 126M-request month at that rate (min) |")
    print("|---|---|---|---|---|---|")
    path, option = ROOT / "scenarios" / "regulated-rag.yaml", "llama-70b-on-premises"
    wall, mb, _ = in_fresh_process(
        "from simulator.engine.des import DesEngine; from simulator.scenario import load_scenario; "
        "s = load_scenario(sys.argv[1], ['simulation.mode=exact', 'simulation.sampled_months=1']); "
        "DesEngine(s, {}).option_usage(s.option(sys.argv[2])); answer = None",
        [str(path), option],
    )
    month = first_month_requests(path)
    print(
        f"| regulated-rag's first month, {option} | {month:,.0f} | {wall:.1f} | {month / wall:,.0f} | "
        f"{mb:,.0f} | {WHOLE_MONTH_REQUESTS / (month / wall) / 60:.0f} |"
    )


def first_month_requests(path: Path, overrides: tuple[str, ...] = ()) -> float:
    rates = FluidEngine(load_scenario(path, list(overrides)), {}).rates
    return sum(float(requests_by_local_hour(r)[0].sum()) for r in rates.values())


def whole_month() -> None:
    """The 126M-request month itself, request by request, in a fresh process."""
    header(
        "regulated-rag's first month for its on-premises fleet at the volume that makes it 126M requests, played "
        "request by request (simulation.mode: exact) in a fresh process: wall time and peak memory.",
        "a 126M-request month in under 10 minutes on 2 cores.",
    )
    path, option = ROOT / "scenarios" / "regulated-rag.yaml", "llama-70b-on-premises"
    scale = WHOLE_MONTH_REQUESTS / first_month_requests(path)
    overrides = ["simulation.mode=exact", "simulation.sampled_months=1", f"workload.scale={scale!r}"]
    wall, mb, played = in_fresh_process(
        "from simulator.engine.des import DesEngine; from simulator.scenario import load_scenario; "
        "s = load_scenario(sys.argv[1], sys.argv[3:]); "
        "u = DesEngine(s, {}).option_usage(s.option(sys.argv[2]), lambda step: print(step, file=sys.stderr)); "
        "answer = float(u.requests[0])",
        [str(path), option, *overrides],
    )
    print("| one month request by request | volume (x the scenario's) | requests | wall time (min) ", end="")
    print("| requests/s | peak memory (MB) |")
    print("|---|---|---|---|---|---|")
    print(
        f"| regulated-rag's first month, {option} | {scale:.1f} | {played:,.0f} | {wall / 60:.1f} | "
        f"{played / wall:,.0f} | {mb:,.0f} |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument(
        "--whole-month", action="store_true", help="only the 126M-request month, played whole (about 8 minutes)"
    )
    if parser.parse_args().whole_month:
        whole_month()
    else:
        main()
        volume()
        exact_month()
