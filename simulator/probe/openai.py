"""Load any OpenAI-compatible server (vLLM, llama.cpp's server, SGLang, TGI, Ollama) and measure it.

Each request streams a chat completion and records the time to the first content token, the gaps
between tokens, and the end. Token counts come from the server's `usage` (the stream asks for it:
vLLM, SGLang and llama.cpp's llama-server send it), and from the streamed content chunks only for a
server that sends none, which the measured file then says. Every prompt starts with a fresh random
nonce, so a server's prefix cache cannot fake a short TTFT. A sweep point is either closed-loop (N
clients, each sending the next request when the last one ends) or open-loop (Poisson arrivals at a
rate). The API key is read from an environment variable and goes only into the request header.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import ssl
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np

from simulator import units
from simulator.errors import InputError
from simulator.perf import measured as mf
from simulator.probe.fingerprint import fingerprint

TIMEOUT_S = 120.0
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


class ServerError(Exception):
    """The server could not be reached or refused the probe: ends the sweep."""


@dataclass
class Sample:
    ttft_s: float
    e2e_s: float
    gaps_s: list[float]
    prompt_tokens: int | None
    completion_tokens: int
    counted_by: str
    """'usage' (the server's count) or 'chunks' (streamed content chunks, when the server sends no usage)."""


@dataclass
class _Run:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    def __init__(self, base_url: str, model: str, api_key: str | None) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                "--base-url", base_url, "expected http(s)://host[:port]/v1", "e.g. http://127.0.0.1:8000/v1"
            )
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port or (443 if self.https else 80)
        self.path = parts.path + "/chat/completions"
        self.model = model
        self.headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"

    def _connection(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=TIMEOUT_S, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)

    def complete(self, prompt: str, max_tokens: int) -> Sample:
        body = json.dumps(
            {
                "model": self.model,
                "messages": [{"role": "user", "content": prompt}],
                "max_tokens": max_tokens,
                "temperature": 0,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        )
        conn = self._connection()
        start = time.perf_counter()
        try:
            try:
                conn.request("POST", self.path, body=body, headers=self.headers)
                response = conn.getresponse()
            except ssl.SSLError as e:
                raise ServerError(f"TLS failed: {e.reason or e}") from None
            except OSError as e:
                raise ServerError(f"cannot reach {self.host}:{self.port}: {e.strerror or e}") from None
            if response.status in (401, 403):
                raise ServerError(f"authentication failed (HTTP {response.status}); set --api-key-env")
            if response.status == 404:
                raise ServerError(f"no chat completions at {self.path} (HTTP 404); check --base-url and --model")
            if response.status >= 400:
                raise RuntimeError(f"HTTP {response.status}: {response.read(200).decode(errors='replace')}")
            first = None
            last = start
            chunks = 0
            gaps: list[float] = []
            usage = None
            for raw in response:
                line = raw.decode(errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError:
                    raise RuntimeError(f"malformed stream chunk: {data[:80]!r}") from None
                if chunk.get("usage"):
                    usage = chunk["usage"]
                choices = chunk.get("choices") or []
                if choices and (choices[0].get("delta") or {}).get("content"):
                    chunks += 1
                    now = time.perf_counter()
                    if first is None:
                        first = now
                    else:
                        gaps.append(now - last)
                    last = now
            end = time.perf_counter()
        except (TimeoutError, ConnectionError, http.client.HTTPException) as e:
            raise RuntimeError(f"stream broke: {e}") from None
        finally:
            conn.close()
        if first is None:
            raise RuntimeError("the stream carried no content")
        if usage:
            return Sample(
                first - start, end - start, gaps, int(usage["prompt_tokens"]), int(usage["completion_tokens"]), "usage"
            )
        return Sample(first - start, end - start, gaps, None, chunks, "chunks")


def _prompt(rng: np.random.Generator, words: int) -> str:
    nonce = f"{rng.integers(1 << 62):x}"
    return f"[{nonce}] Repeat these words: " + " ".join(rng.choice(WORDS, size=max(words, 1)))


def _one(client: Client, run: _Run, rng: np.random.Generator, prompt_tokens: int, gen_tokens: int) -> None:
    try:
        sample = client.complete(_prompt(rng, prompt_tokens), gen_tokens)
    except RuntimeError as e:
        with run.lock:
            run.errors.append(str(e))
        return
    with run.lock:
        run.samples.append(sample)


def _point(run: _Run, wall_s: float, prompt_words: int, **where: float | int) -> mf.Point:
    if not run.samples:
        raise ServerError(f"every request failed: {run.errors[0] if run.errors else 'no request finished'}")
    s = run.samples
    ttft = [units.seconds_to_ms(x.ttft_s) for x in s]
    e2e = [units.seconds_to_ms(x.e2e_s) for x in s]
    tpot = [units.seconds_to_ms((x.e2e_s - x.ttft_s) / (x.completion_tokens - 1)) for x in s if x.completion_tokens > 1]
    itl = [units.seconds_to_ms(g) for x in s for g in x.gaps_s]
    out_tokens = sum(x.completion_tokens for x in s)
    prompts = [x.prompt_tokens for x in s if x.prompt_tokens is not None]
    return mf.Point(
        prompt_tokens=statistics.mean(prompts) if prompts else float(prompt_words),
        gen_tokens=statistics.mean(x.completion_tokens for x in s),
        ttft_p50_ms=float(np.percentile(ttft, 50)),
        ttft_p95_ms=float(np.percentile(ttft, 95)),
        tpot_p50_ms=float(np.percentile(tpot, 50)) if tpot else None,
        tpot_p95_ms=float(np.percentile(tpot, 95)) if tpot else None,
        itl_p50_ms=float(np.percentile(itl, 50)) if itl else None,
        e2e_p50_ms=float(np.percentile(e2e, 50)),
        e2e_p95_ms=float(np.percentile(e2e, 95)),
        output_tok_per_s=out_tokens / wall_s,
        total_tok_per_s=(out_tokens + sum(prompts)) / wall_s if prompts else None,
        errors=len(run.errors),
        samples={"ttft_ms": ttft, "e2e_ms": e2e, "tpot_ms": tpot},
        **where,
    )


def probe(
    base_url: str,
    model: str,
    concurrency: list[int] | None = None,
    rates: list[float] | None = None,
    prompt_tokens: int = 128,
    gen_tokens: int = 64,
    duration_s: float = 30.0,
    api_key_env: str | None = None,
    seed: int = 0,
) -> mf.Measured:
    api_key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and api_key is None:
        raise InputError("--api-key-env", api_key_env, "is not set in the environment", "export it first")
    client = Client(base_url, model, api_key)
    rng = np.random.default_rng(seed)
    points: list[mf.Point] = []
    counted: set[str] = set()
    fault = None
    plan: list[tuple[str, float]] = [("concurrency", c) for c in (concurrency or [])] + [
        ("rate_rps", r) for r in (rates or [])
    ]
    if not plan:
        plan = [("concurrency", c) for c in (1, 2, 4, 8)]
    try:
        for how, value in plan:
            run = _Run()
            start = time.perf_counter()
            if how == "concurrency":

                def client_loop(k: int, run: _Run = run, start: float = start) -> None:
                    local = np.random.default_rng([seed, k, len(points)])
                    while time.perf_counter() - start < duration_s:
                        _one(client, run, local, prompt_tokens, gen_tokens)

                with ThreadPoolExecutor(int(value)) as pool:
                    for future in [pool.submit(client_loop, k) for k in range(int(value))]:
                        future.result()
            else:
                gaps = rng.exponential(1 / value, max(int(value * duration_s * 2), 2))
                arrivals = np.cumsum(gaps)[np.cumsum(gaps) < duration_s]
                with ThreadPoolExecutor(max(8, int(value * 20))) as pool:
                    futures = []
                    for k, at in enumerate(arrivals):
                        time.sleep(max(0.0, at - (time.perf_counter() - start)))
                        futures.append(
                            pool.submit(_one, client, run, np.random.default_rng([seed, k]), prompt_tokens, gen_tokens)
                        )
                    for future in futures:
                        future.result()
            wall = time.perf_counter() - start
            points.append(_point(run, wall, prompt_tokens, **{how: int(value) if how == "concurrency" else value}))
            counted.update(x.counted_by for x in run.samples)
    except ServerError as e:
        fault = str(e)
    except Exception as e:  # a fault mid-sweep must not lose the points measured before it
        fault = f"{type(e).__name__}: {e}"
    if not points:
        raise InputError("--base-url", base_url, fault or "nothing measured", "check the server and its address")
    return mf.Measured(
        kind="openai",
        created=dt.datetime.now(dt.UTC).replace(microsecond=0),
        hardware=fingerprint(),
        backend=mf.Backend(name="openai-compatible server", version=f"{client.host}:{client.port}"),
        model=mf.ModelInfo(name=model, precision="unknown"),
        settings={
            "prompt_words": prompt_tokens,
            "gen_tokens": gen_tokens,
            "duration_s": duration_s,
            "base_url": base_url,
            "token_counts": "+".join(sorted(counted)),
        },
        points=points,
        partial=fault is not None,
        fault=fault,
    )
