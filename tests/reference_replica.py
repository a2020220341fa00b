"""The plain reference: one continuous-batching replica simulated one engine step at a time.

The event-skipping replica must reproduce its per-request times to 1e-9 s. Same scheduling rules:
at each step boundary, requests that have arrived by then are admitted in order while the batch
has room and the KV cache can hold prompt plus output (a request alone always runs).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from simulator.engine.replica import Requests
from simulator.perf.step import StepModel, prefill_pairs


def simulate(step: StepModel, r: Requests, policy: str, max_batch: int, chunk_tokens: int = 2048) -> None:
    n = len(r.arrival_s)
    t, nxt = 0.0, 0
    waiting: deque[int] = deque()
    prefilling: list[int] = []
    prefilled: dict[int, int] = {}
    running: dict[int, int] = {}  # request -> decode steps left
    kv_tokens, kv_reserved = 0, 0.0
    done = 0

    def first_token(i: int, at: float) -> None:
        nonlocal kv_tokens, kv_reserved, done
        r.first_token_s[i] = at + step.request_s
        if r.output_tokens[i] <= 1:
            r.done_s[i] = at + step.request_s
            kv_reserved -= float(r.prompt_tokens[i] + r.output_tokens[i])
            done += 1
        else:
            running[i] = int(r.output_tokens[i]) - 1
            kv_tokens += int(r.prompt_tokens[i]) + 1

    while done < n:
        while nxt < n and r.arrival_s[nxt] <= t:
            waiting.append(nxt)
            nxt += 1
        if not (waiting or running or prefilling):
            t = float(r.arrival_s[nxt])
            continue
        admitted = []
        while waiting and len(running) + len(prefilling) + len(admitted) < max_batch:
            i = waiting[0]
            need = float(r.prompt_tokens[i] + r.output_tokens[i])
            if kv_reserved + need > step.kv_capacity_tokens and (running or admitted or prefilling):
                break
            waiting.popleft()
            kv_reserved += need
            admitted.append(i)
        if policy == "prefill_first" and admitted:
            fresh = float(sum(r.prompt_tokens[i] - r.cached_tokens[i] for i in admitted))
            pairs = float(sum(prefill_pairs(r.prompt_tokens[i], r.cached_tokens[i]) for i in admitted))
            t += step.step_s(fresh, pairs, 0, 0)
            for i in admitted:
                first_token(i, t)
            continue
        chunk = []
        prompt_tokens, pairs = 0, 0.0
        if policy == "chunked_prefill":
            for i in admitted:
                prefilling.append(i)
                prefilled[i] = 0
            budget = chunk_tokens - len(running)
            for i in prefilling:
                if budget <= 0:
                    break
                left = int(r.prompt_tokens[i] - r.cached_tokens[i] - prefilled[i])
                take = min(left, budget)
                start = int(r.cached_tokens[i]) + prefilled[i]
                pairs += float(prefill_pairs(start + take, start))
                prompt_tokens += take
                budget -= take
                chunk.append((i, take, take == left))
        t += step.step_s(prompt_tokens, pairs, len(running), kv_tokens)
        for i in list(running):
            running[i] -= 1
            kv_tokens += 1
            if running[i] == 0:
                del running[i]
                r.done_s[i] = t + step.request_s
                kv_tokens -= int(r.prompt_tokens[i] + r.output_tokens[i])
                kv_reserved -= float(r.prompt_tokens[i] + r.output_tokens[i])
                done += 1
        for i, take, finished in chunk:
            prefilled[i] += take
            if finished:
                prefilling.remove(i)
                del prefilled[i]
                first_token(i, t)


def requests(arrivals, prompts, cached, outputs) -> Requests:
    order = np.argsort(arrivals, kind="stable")
    return Requests(
        np.asarray(arrivals, float)[order],
        np.asarray(prompts)[order],
        np.asarray(cached)[order],
        np.asarray(outputs)[order],
    )
