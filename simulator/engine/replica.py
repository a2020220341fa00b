"""One continuous-batching replica, simulated by skipping the steps in which its batch is fixed.

Between an admission and a completion the running batch does not change, so decode step k of a
stretch takes `a + c*k` seconds (the KV cache grows by one token per sequence per step) and n
steps take `n*a + c*n*(n-1)/2`. The replica jumps over whole stretches in closed form and stops
only where something happens: a completion, or the first step boundary after a request arrives.
It is advanced lazily (`advance_to`), so a router can read its exact state at any arrival.

Scheduling follows vLLM's: at every step boundary waiting requests are admitted in arrival order
while the batch has room (`max_batch`) and the KV cache can hold their prompt and output.
`prefill_first` runs admitted prompts in a step of their own (running sequences pause);
`chunked_prefill` mixes up to `chunk_tokens` of prompts into every decode step. The first output
token comes from the step that finishes a prompt; the step model's per-request overhead is added to
the times a request's first token and its end reach the client.

A decode step's linear layers take the longer of their weight reads and their FLOPs, both fixed
while the batch is, and its attention reads the KV cache, which grows by `b_kv` a sequence a step
(and by `b_scan`, the mean sequence's cache growing a token):
so `a` is the first step's time and `c` the batch's KV growth.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from simulator.perf.serving import Policy
from simulator.perf.step import StepModel


@dataclass
class Requests:
    """Per-request inputs and the times the replica writes back (seconds; NaN until known)."""

    arrival_s: np.ndarray
    prompt_tokens: np.ndarray
    cached_tokens: np.ndarray
    output_tokens: np.ndarray
    first_token_s: np.ndarray = field(init=False)
    done_s: np.ndarray = field(init=False)
    # Plain lists for the hot path, made once and shared by every replica of a fleet.
    prompt: list[int] = field(init=False)
    cached: list[int] = field(init=False)
    output: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.first_token_s = np.full(len(self.arrival_s), np.nan)
        self.done_s = np.full(len(self.arrival_s), np.nan)
        self.prompt = self.prompt_tokens.tolist()
        self.cached = self.cached_tokens.tolist()
        self.output = self.output_tokens.tolist()

    @classmethod
    def alike(cls, arrival_s: np.ndarray, prompt_tokens: int, output_tokens: int) -> Requests:
        """Requests of one prompt and output length and nothing cached, as a serving benchmark sends."""
        n = len(arrival_s)
        return cls(arrival_s, np.full(n, prompt_tokens), np.zeros(n, dtype=np.int64), np.full(n, output_tokens))


def steps_to_cover(a: float, c: float, span: float) -> int:
    """Fewest steps n with n*a + c*n*(n-1)/2 >= span (steps of a, a+c, a+2c, ...)."""
    if span <= 0:
        return 0
    if c == 0:
        n = math.ceil(span / a)
    else:
        b = a - c / 2
        n = math.ceil((-b + math.sqrt(b * b + 2 * c * span)) / c)
    # The square root can land one off either way; settle on the exact integer.
    while n > 0 and series_s(a, c, n - 1) >= span:
        n -= 1
    while series_s(a, c, n) < span:
        n += 1
    return n


def series_s(a: float, c: float, n: int) -> float:
    return n * a + c * n * (n - 1) / 2


class Replica:
    def __init__(
        self,
        step: StepModel,
        requests: Requests,
        policy: Policy,
        max_batch: int,
        chunk_tokens: int,
    ) -> None:
        self.step = step
        self.r = requests
        # Plain lists and floats in the hot path: indexing numpy scalars costs more than the arithmetic.
        self.prompt, self.cached, self.output = requests.prompt, requests.cached, requests.output
        self.first_token_s = requests.first_token_s
        self.done_s = requests.done_s
        self._b0, self._bx, self._hit_miss = step.b0_s, step.b_experts_s, 1 - step.expert_share
        self._bp, self._ba, self._bd, self._bk = step.b_prefill_s, step.b_attn_s, step.b_decode_s, step.b_kv_s
        self._bs = step.b_scan_s
        self._overhead, self._per_token, self._per_seq = step.overhead_s, step.b_comm_s, step.b_seq_s
        self._sharpness, self._request = step.overlap_sharpness, step.request_s
        self._kv_capacity = step.kv_capacity_tokens
        self._decode_s: dict[int, float] = {}  # a decode step of d sequences, less its KV reads
        self.policy = policy
        self.max_batch = max_batch
        self.chunk_tokens = chunk_tokens
        self.now = 0.0
        """Time of the last step boundary processed."""
        self.waiting: deque[int] = deque()
        self.prefilling: deque[int] = deque()  # admitted, prompt not finished (chunked prefill)
        # A chunk runs prompts in admission order and ends inside at most one, the next chunk's first:
        # only the head of `prefilling` has run part of its prompt.
        self.head_prefilled = 0  # prompt tokens the head of `prefilling` has run
        # Running sequences as a heap of (decode step count at which they finish, request), each pair
        # packed in one integer, finish * `_per_finish` + request, which orders alike and compares
        # faster: one stretch of n steps then costs O(1) plus O(log batch) per completion.
        self.decode_steps = 0
        self.running: list[int] = []
        self._per_finish = len(requests.prompt)
        self.finish_sum = 0  # sum of the finish counts in `running`
        self.waiting_tokens = 0
        self.prefill_tokens = 0  # tokens (prompt left plus output) of requests in `prefilling`
        self.kv_tokens = 0  # context tokens held by running sequences
        self.kv_reserved = 0  # prompt + output tokens reserved at admission
        self.busy_s = 0.0
        self.output_tokens_done = 0
        # The decode stretch in progress: it started at `now` and ends after `stretch_steps` steps.
        self.stretch_steps = 0
        self.stretch_a = 0.0
        self.stretch_c = 0.0
        self.stretch_end = 0.0
        self._pending_prefill: list[int] = []  # prompts finishing in the prefill step in progress
        # The chunk in the step in progress: the requests at the head of `prefilling` whose prompts it
        # finishes, the prompt tokens it runs, and those of the one it ends inside (0: none).
        self._chunk_done = self._chunk_tokens = self._chunk_partial = 0
        self.route_tokens, self.route_start, self.route_inv_a, self.route_steps, self.route_decoding = 0, 0.0, 0.0, 0, 0

    # --- what a router reads ------------------------------------------------------------------

    def update_route(self) -> None:
        """Record what a router reads, after every boundary: `route_tokens`, the prompt and output
        tokens assigned here and not yet processed; `route_start`, the stretch's start; `route_inv_a`,
        1 / its first step; `route_steps`, its steps; and `route_decoding`, the sequences each of its
        steps advances when it decodes only (0 while a prompt runs)."""
        d = len(self.running)
        steps = self.stretch_steps
        chunk = self._chunk_done or self._chunk_partial
        self.route_decoding = d if steps and not self._pending_prefill and not chunk else 0
        self.route_tokens = self.waiting_tokens + self.prefill_tokens + self.finish_sum - self.decode_steps * d
        self.route_start = self.now
        self.route_inv_a = 1 / self.stretch_a if self.stretch_a else 0.0
        self.route_steps = steps

    @property
    def idle(self) -> bool:
        return not (self.waiting or self.prefilling or self.running)

    # --- driving ------------------------------------------------------------------------------

    def submit(self, i: int, t: float) -> None:
        """A request arrives at t; call `advance_to(t)` first."""
        if self.idle and self.stretch_steps == 0:
            self.now = max(self.now, t)
        self.waiting.append(i)
        self.waiting_tokens += self._tokens(i)
        if self.stretch_steps > 1:
            # The batch may change at the first step boundary at or after the arrival.
            cut = max(1, steps_to_cover(self.stretch_a, self.stretch_c, t - self.now))
            if cut < self.stretch_steps:
                self.stretch_steps = cut
                self.stretch_end = self.now + series_s(self.stretch_a, self.stretch_c, cut)

    def advance_to(self, t: float) -> None:
        """Process every step boundary before t (one at t waits, so that a request arriving at t joins it)."""
        while True:
            # A step starting at t is planned only after the requests arriving at t have been submitted.
            if self.stretch_steps == 0 and (self.now >= t or not self._start_next()):
                return
            end = self.stretch_end
            if end >= t:
                return
            self._finish_stretch(end)

    def run_to_completion(self) -> None:
        self.advance_to(math.inf)

    def advance_one(self) -> bool:
        """Process the next step boundary (one step, or a decode stretch); False when there is nothing to run."""
        if self.stretch_steps == 0 and not self._start_next():
            return False
        self._finish_stretch(self.stretch_end)
        return True

    # --- internals ----------------------------------------------------------------------------

    def _tokens(self, i: int) -> int:
        return self.prompt[i] - self.cached[i] + self.output[i]

    def _step_s(self, prefill_tokens: float, pairs: float, decode_seqs: int, kv_tokens: int) -> float:
        """StepModel.step_s in plain floats (the same terms)."""
        attention = self._bk * kv_tokens + self._ba * pairs
        if decode_seqs:
            attention += self._bs * kv_tokens / decode_seqs
        return self._outside_s(prefill_tokens, decode_seqs) + self._layers_s(prefill_tokens, decode_seqs) + attention

    def _layers_s(self, prefill_tokens: float, decode_seqs: int) -> float:
        """The linear layers: the smooth maximum of their weight reads and FLOPs (step.smooth_max)."""
        tokens = prefill_tokens + decode_seqs
        weights = self._b0 + (self._bx * (1 - self._hit_miss**tokens) if self._bx else 0.0)
        linear = self._bp * prefill_tokens + self._bd * decode_seqs
        top, low = (weights, linear) if weights > linear else (linear, weights)
        return top * (1 + (low / top) ** self._sharpness) ** (1 / self._sharpness) if top > 0 else 0.0

    def _outside_s(self, prefill_tokens: float, decode_seqs: int) -> float:
        return self._overhead + self._per_token * (prefill_tokens + decode_seqs) + self._per_seq * decode_seqs

    def _admit(self) -> list[int]:
        admitted: list[int] = []
        in_batch = len(self.running) + len(self.prefilling)
        while self.waiting and in_batch + len(admitted) < self.max_batch:
            i = self.waiting[0]
            need = self.prompt[i] + self.output[i]
            if self.kv_reserved + need > self._kv_capacity and (self.running or admitted or self.prefilling):
                break  # wait for memory; a request alone always runs
            self.waiting.popleft()
            self.waiting_tokens -= self._tokens(i)
            self.kv_reserved += need
            admitted.append(i)
        return admitted

    def _start_next(self) -> bool:
        """Plan the next step or stretch from `now`; False when there is nothing to run."""
        admitted = self._admit() if self.waiting else []
        prompt, cached = self.prompt, self.cached
        if admitted and self.policy == "prefill_first":
            fresh, pairs = 0, 0.0
            for i in admitted:
                fresh += prompt[i] - cached[i]
                pairs += (prompt[i] * prompt[i] - cached[i] * cached[i]) / 2
            self._plan_single(self._step_s(fresh, pairs, 0, 0))
            self._pending_prefill = admitted
            self._chunk_done = self._chunk_tokens = self._chunk_partial = 0
            return True
        if self.policy == "chunked_prefill":
            self.prefilling.extend(admitted)
            for i in admitted:
                self.prefill_tokens += self._tokens(i)
            if self.prefilling:
                budget, prompt_tokens, pairs = self.chunk_tokens - len(self.running), 0, 0.0
                done, partial, run = 0, 0, self.head_prefilled
                for i in self.prefilling:
                    if budget <= 0:
                        break
                    left = prompt[i] - cached[i] - run
                    take = min(left, budget)
                    start = cached[i] + run
                    pairs += ((start + take) * (start + take) - start * start) / 2
                    prompt_tokens += take
                    budget -= take
                    if take < left:  # the budget ends inside this prompt
                        partial = take
                        break
                    done += 1
                    run = 0
                self._plan_single(self._step_s(prompt_tokens, pairs, len(self.running), self.kv_tokens))
                self._pending_prefill = []
                self._chunk_done, self._chunk_tokens, self._chunk_partial = done, prompt_tokens, partial
                return True
        if not self.running:
            return False
        d = len(self.running)
        decode_s = self._decode_s.get(d)
        if decode_s is None:
            decode_s = self._decode_s[d] = self._step_s(0, 0.0, d, 0)
        self.stretch_a = decode_s + (self._bk + self._bs / d) * self.kv_tokens
        self.stretch_c = self._bk * d + self._bs
        self.stretch_steps = self.running[0] // self._per_finish - self.decode_steps
        self.stretch_end = self.now + series_s(self.stretch_a, self.stretch_c, self.stretch_steps)
        self._pending_prefill = []
        self._chunk_done = self._chunk_tokens = self._chunk_partial = 0
        return True

    def _plan_single(self, seconds: float) -> None:
        self.stretch_a, self.stretch_c, self.stretch_steps = seconds, 0.0, 1
        self.stretch_end = self.now + seconds

    def _finish_stretch(self, end: float) -> None:
        n = self.stretch_steps
        self.busy_s += end - self.now
        self.now = end
        self.stretch_steps = 0
        if self._pending_prefill:
            for i in self._pending_prefill:
                self._first_token(i, end)
            return
        # A decode step (alone or with a prompt chunk) advanced every running sequence by n tokens.
        d = len(self.running)
        if d:
            self.kv_tokens += n * d
            self.output_tokens_done += n * d
            self.decode_steps += n
            until = (self.decode_steps + 1) * self._per_finish  # keys of sequences finishing by now
            while self.running and self.running[0] < until:
                key = heapq.heappop(self.running)
                finish, i = key // self._per_finish, key % self._per_finish
                self.finish_sum -= finish
                self._complete(i, end, decoding=True)
        done = self._chunk_done
        self.prefill_tokens -= self._chunk_tokens
        for _ in range(done):
            i = self.prefilling.popleft()
            self.prefill_tokens -= self.output[i]
            self._first_token(i, end)
        self.head_prefilled = (0 if done else self.head_prefilled) + self._chunk_partial

    def _first_token(self, i: int, t: float) -> None:
        self.first_token_s[i] = t + self._request
        self.output_tokens_done += 1
        if self.output[i] <= 1:
            self._complete(i, t, decoding=False)
            return
        finish = self.decode_steps + self.output[i] - 1
        heapq.heappush(self.running, finish * self._per_finish + i)
        self.finish_sum += finish
        self.kv_tokens += self.prompt[i] + 1

    def _complete(self, i: int, t: float, decoding: bool) -> None:
        self.done_s[i] = t + self._request
        self.kv_reserved -= self.prompt[i] + self.output[i]
        if decoding:  # its whole context leaves the cache
            self.kv_tokens -= self.prompt[i] + self.output[i]
