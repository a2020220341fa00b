"""Load any OpenAI-compatible server (vLLM, llama.cpp's server, SGLang, TGI, Ollama) and measure it.

Each request streams a chat or text completion and records the time to the first token, the gaps
between tokens, and the end. Token counts come from the server's `usage` (the stream asks for it:
vLLM, SGLang and llama.cpp's llama-server send it), and from the streamed chunks only for a server
that sends none, which the measured file then says.

Prompts are sized in the server's tokens: through its `/tokenize` endpoint where it has one (vLLM,
llama-server), as token ids on the completions endpoint, or else by words per token calibrated
from the `usage` of two requests sent before the sweep. Every prompt of a sweep is unique (a
sweep nonce and the request's number lead it), so a prefix cache cannot answer a repeat.

A sweep point is closed-loop (N clients, each sending the next request when the last one ends) or
open-loop (arrivals at a rate, Gamma-distributed gaps of shape `burstiness`: 1 is Poisson), for a
duration or a fixed number of prompts that all complete. After every point the caller gets the
file so far (`partial` until the sweep ends), so a sweep stopped midway keeps what it measured. The
API key is read from an environment variable and goes only into the request header.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from simulator import units
from simulator.errors import InputError
from simulator.perf import measured as mf
from simulator.probe import STOPPED
from simulator.probe.fingerprint import fingerprint
from simulator.probe.openai_client import Client, Sample, ServerError, public_url
from simulator.workload import gamma_arrivals

WORDS = (
    "river",
    "copper",
    "lantern",
    "orbit",
    "meadow",
    "signal",
    "harbor",
    "quartz",
    "ember",
    "canvas",
    "summit",
    "thread",
    "cobalt",
    "willow",
    "prism",
    "ledger",
)
CALIBRATION_WORDS = (16, 80)  # two prompt sizes that fix words-per-token and the template's overhead
TOKEN_ID_RANGE = (100, 1100)  # ids every tokenizer of a real model has, clear of its special tokens
PERCENTILES = (50, 90, 95, 99)


class Stopped(Exception):
    """The sweep was asked to stop (a signal): the points measured so far are kept."""


@dataclass(frozen=True)
class Load:
    """How every point of a sweep loads the server."""

    prompt_tokens: int = 128
    gen_tokens: int = 64
    duration_s: float = 30.0
    num_prompts: int | None = None
    """A fixed count of requests a point, all completed (as `vllm bench serve`); else `duration_s`."""
    burstiness: float = 1.0
    request_timeout_s: float = 120.0
    idle_timeout_s: float = 30.0
    """Longest a request may wait for its next token (a silent server, or keep-alives only)."""
    endpoint: Literal["chat", "completions"] = "chat"
    ignore_eos: bool = False
    """Ask for the full output length (`ignore_eos`, `min_tokens`), as vLLM and llama-server accept."""
    seed: int = 0


@dataclass
class _Run:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Prompts:
    """Unique prompts of about `tokens` of the server's tokens, and how they were sized."""

    def __init__(self, client: Client, load: Load, rng: np.random.Generator) -> None:
        self.load = load
        self.sweep = f"{rng.integers(1 << 40):x}"
        self.numbers = itertools.count()
        self.seed = load.seed
        self.overhead, self.per_word = 0.0, 1.0
        if load.endpoint == "completions":
            self.method = "token ids"
            return
        counts = [client.tokenize(self._text(n, f"calibration-{n}")) for n in CALIBRATION_WORDS]
        if all(c is not None for c in counts):
            self.method = "tokenize"
            self._fit(counts)  # type: ignore[arg-type]
            return
        # No tokenizer: the server's own count of two prompts of known length, sent before the sweep.
        samples = [client.complete(self._text(n, f"calibration-{n}"), 2) for n in CALIBRATION_WORDS]
        if all(s.prompt_tokens is not None for s in samples):
            self.method = "usage calibration"
            self._fit([s.prompt_tokens for s in samples])  # type: ignore[misc]
        else:
            self.method = "words (the server reports no token counts)"

    def _fit(self, counts: list[int]) -> None:
        (w0, w1), (t0, t1) = CALIBRATION_WORDS, counts
        self.per_word = max((t1 - t0) / (w1 - w0), 0.1)
        self.overhead = t0 - self.per_word * w0

    def _text(self, words: int, tag: str) -> str:
        rng = np.random.default_rng([self.seed, len(tag), words])
        return f"[{self.sweep}-{tag}] Repeat these words: " + " ".join(rng.choice(WORDS, size=max(words, 1)))

    def next(self) -> str | list[int]:
        k = next(self.numbers)
        if self.method == "token ids":
            rng = np.random.default_rng([self.seed, k])
            lo, hi = TOKEN_ID_RANGE
            lead = [lo + (k // (hi - lo) ** i) % (hi - lo) for i in range(3)]  # the request's number, unique
            return lead + rng.integers(lo, hi, max(self.load.prompt_tokens - len(lead), 0)).tolist()
        words = round((self.load.prompt_tokens - self.overhead) / self.per_word)
        rng = np.random.default_rng([self.seed, k])
        return f"[{self.sweep}-{k}] Repeat these words: " + " ".join(rng.choice(WORDS, size=max(words, 1)))


def _one(client: Client, run: _Run, prompt: str | list[int], load: Load) -> None:
    try:
        sample = client.complete(prompt, load.gen_tokens, load.endpoint, load.ignore_eos)
    except (RuntimeError, KeyError, TypeError, ValueError) as e:
        with run.lock:
            run.errors.append(str(e)[:200])
        return
    with run.lock:
        run.samples.append(sample)


def _percentiles(name: str, values: list[float]) -> dict[str, float]:
    return {f"{name}_p{p}_ms": float(np.percentile(values, p)) for p in PERCENTILES} if values else {}


def _point(run: _Run, wall_s: float, asked_tokens: int, **where: float | int) -> mf.Point:
    if not run.samples:
        raise ServerError(f"every request failed: {run.errors[0] if run.errors else 'no request finished'}")
    s = run.samples
    ttft = [units.seconds_to_ms(x.ttft_s) for x in s]
    e2e = [units.seconds_to_ms(x.e2e_s) for x in s]
    tpot = [units.seconds_to_ms((x.e2e_s - x.ttft_s) / (x.completion_tokens - 1)) for x in s if x.completion_tokens > 1]
    itl = [units.seconds_to_ms(g) for x in s for g in x.gaps_s]
    out_tokens = sum(x.completion_tokens for x in s)
    prompts = [x.prompt_tokens for x in s if x.prompt_tokens is not None]
    percentiles = {**_percentiles("ttft", ttft), **_percentiles("tpot", tpot), **_percentiles("e2e", e2e)}
    percentiles |= {k: v for k, v in _percentiles("itl", itl).items() if not k.startswith("itl_p95")}
    return mf.Point(
        prompt_tokens=statistics.mean(prompts) if prompts else float(asked_tokens),
        gen_tokens=statistics.mean(x.completion_tokens for x in s),
        output_tok_per_s=out_tokens / wall_s,
        total_tok_per_s=(out_tokens + sum(prompts)) / wall_s if prompts else None,
        errors=len(run.errors),
        samples={"ttft_ms": ttft, "e2e_ms": e2e, "tpot_ms": tpot},
        **percentiles,
        **where,
    )


def _closed_loop(client: Client, prompts: Prompts, load: Load, clients: int, stop: threading.Event) -> _Run:
    run = _Run()
    start = time.perf_counter()
    left = itertools.count(load.num_prompts or 0, -1)  # shared by the clients of a fixed-count point

    def client_loop() -> None:
        while not stop.is_set():
            if load.num_prompts is None:
                if time.perf_counter() - start >= load.duration_s:
                    return
            elif next(left) <= 0:
                return
            _one(client, run, prompts.next(), load)

    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client_loop) for _ in range(clients)]:
            future.result()
    return run


def _open_loop(
    client: Client, prompts: Prompts, load: Load, rate: float, rng: np.random.Generator, stop: threading.Event
) -> _Run:
    run = _Run()
    count = load.num_prompts or max(int(rate * load.duration_s * 2), 2)
    arrivals = gamma_arrivals(rate, load.burstiness, count, rng)
    if load.num_prompts is None:
        arrivals = arrivals[arrivals < load.duration_s]
    start = time.perf_counter()
    with ThreadPoolExecutor(max(8, int(rate * 20))) as pool:
        futures = []
        for at in arrivals:
            if stop.wait(max(0.0, at - (time.perf_counter() - start))):
                break
            futures.append(pool.submit(_one, client, run, prompts.next(), load))
        for future in futures:
            future.result()
    return run


def probe(
    base_url: str,
    model: str,
    concurrency: list[int] | None = None,
    rates: list[float] | None = None,
    load: Load | None = None,
    api_key_env: str | None = None,
    on_point: Callable[[mf.Measured], None] | None = None,
    stop: threading.Event | None = None,
) -> mf.Measured:
    """Sweep the server; `on_point` gets the file so far after every point; setting `stop` ends the
    sweep after the requests in flight are cut, keeping the points before it."""
    load = load or Load()
    stop = stop or threading.Event()
    api_key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and api_key is None:
        raise InputError("--api-key-env", api_key_env, "is not set in the environment", "export it first")
    client = Client(base_url, model, api_key, load.request_timeout_s, load.idle_timeout_s)
    rng = np.random.default_rng(load.seed)
    plan: list[tuple[str, float]] = [("concurrency", c) for c in (concurrency or [])] + [
        ("rate_rps", r) for r in (rates or [])
    ]
    if not plan:
        plan = [("concurrency", c) for c in (1, 2, 4, 8)]
    settings: dict[str, float | int | str | bool | None] = {
        "prompt_tokens_asked": load.prompt_tokens,
        "gen_tokens": load.gen_tokens,
        "duration_s": None if load.num_prompts else load.duration_s,
        "num_prompts": load.num_prompts,
        "burstiness": load.burstiness,
        "endpoint": load.endpoint,
        "ignore_eos": load.ignore_eos,
        "request_timeout_s": load.request_timeout_s,
        "idle_timeout_s": load.idle_timeout_s,
        "base_url": public_url(base_url),
    }
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    hardware = fingerprint()

    def file(points: list[mf.Point], fault: str | None, done: bool) -> mf.Measured:
        return mf.Measured(
            kind="openai",
            created=created,
            hardware=hardware,
            backend=mf.Backend(name="openai-compatible server", version=f"{client.host}:{client.port}"),
            model=mf.ModelInfo(name=model, precision="unknown"),
            settings=dict(settings),
            points=points,
            partial=not done or fault is not None,
            fault=fault,
        )

    points: list[mf.Point] = []
    counted: set[str] = set()
    fault = None

    def cut_on_stop() -> None:
        stop.wait()
        client.abort()

    watcher = threading.Thread(target=cut_on_stop, daemon=True)
    watcher.start()
    try:
        prompts = Prompts(client, load, rng)
        settings["prompt_sizing"] = prompts.method
        for how, value in plan:
            start = time.perf_counter()
            if how == "concurrency":
                run = _closed_loop(client, prompts, load, int(value), stop)
            else:
                run = _open_loop(client, prompts, load, value, rng, stop)
            if stop.is_set():
                raise Stopped()
            wall = time.perf_counter() - start
            points.append(_point(run, wall, load.prompt_tokens, **{how: int(value) if how == "concurrency" else value}))
            counted.update(x.counted_by for x in run.samples)
            settings["token_counts"] = "+".join(sorted(counted))
            if on_point is not None:
                on_point(file(list(points), None, done=False))
    except Exception as e:  # a fault mid-sweep must not lose the points measured before it
        if isinstance(e, Stopped) or stop.is_set():
            fault = STOPPED  # a stop cuts the open connections, so what they raise then is the stop's doing
        elif isinstance(e, ServerError):
            fault = str(e)
        else:
            fault = f"{type(e).__name__}: {e}"
    finally:
        stop.set()  # lets the watcher end
    if not points:
        raise InputError(
            "--base-url", public_url(base_url), fault or "nothing measured", "check the server and its address"
        )
    return file(points, fault, done=True)
