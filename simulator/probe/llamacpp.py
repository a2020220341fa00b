"""Measure llama.cpp in-process: prompt processing, and decode with 1..B parallel sequences.

Each sweep point fills B sequences with a prompt, then runs decode steps of B tokens (one per
sequence) through llama.cpp's low-level batch API, one `llama_decode` per step, so the
throughput-versus-batch curve is real. A warm-up runs first; token counts come from llama.cpp's own
performance counters; each point is the median of its repeats. While measuring, the share of the
CPU that other processes took is read from /proc/stat: above `NOISY_OTHER_CPU_SHARE` the point is
flagged noisy.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import statistics
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

import numpy as np

from simulator import units
from simulator.errors import InputError
from simulator.perf import measured as mf
from simulator.probe import STOPPED
from simulator.probe.fingerprint import fingerprint
from simulator.probe.synth import quiet, sha256

WARMUP_TOKENS = 8
STOP_POLL_S = 0.2  # how soon a stop request reaches a child that is busy measuring
FlashAttn = Literal["on", "off", "auto"]
FLASH_ATTN = {"auto": -1, "off": 0, "on": 1}  # llama.cpp's enum llama_flash_attn_type
NOISY_OTHER_CPU_SHARE = 0.15  # other processes took more than this share of the CPU while measuring


class _CpuMeter:
    """CPU time the rest of the machine used while a measurement ran, as a share of all CPU time."""

    def __enter__(self) -> _CpuMeter:
        self.machine, self.own = self._machine(), self._own()
        return self

    def __exit__(self, *exc: object) -> None:
        busy, total = (b - a for a, b in zip(self.machine, self._machine(), strict=True))
        own = self._own() - self.own
        self.other_share = min(max((busy - own) / total, 0.0), 1.0) if total > 0 else 0.0

    @staticmethod
    def _machine() -> tuple[float, float]:
        try:
            fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        except OSError:
            return 0.0, 0.0
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
        ticks = os.sysconf("SC_CLK_TCK")
        return (sum(fields) - idle) / ticks, sum(fields) / ticks

    @staticmethod
    def _own() -> float:
        t = os.times()
        return t.user + t.system


def probe(
    model_path: str | Path,
    batches: list[int],
    prompt_tokens: int = 128,
    gen_tokens: int = 32,
    threads: int | None = None,
    repeats: int = 3,
    gpu_layers: int = 0,
    catalogue_name: str | None = None,
    precision: str | None = None,
    proxy: bool | None = None,
    seed: int = 0,
    verbose: bool = False,
    flash_attn: FlashAttn = "auto",
    kv_unified: bool = True,
    on_header: Callable[[dict[str, Any]], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_point: Callable[[mf.Point], None] | None = None,
) -> mf.Measured:
    """Measure in this process. `on_header` gets what the file says of the run before any point,
    `on_stage` each stage as it starts, `on_point` each point as it is measured (see `measure`)."""
    import llama_cpp

    def stage(name: str) -> None:
        if on_stage is not None:
            on_stage(name)

    path = Path(model_path)
    source = str(path)
    if not path.is_file():
        raise InputError(source, "", "no such model file", "check the path or write one with `probe synth`")
    free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if gpu_layers == 0 and path.stat().st_size > free:
        raise InputError(
            source,
            "",
            f"the model ({path.stat().st_size / units.BYTES_PER_GB:.1f} GB) is larger than "
            f"free memory ({free / units.BYTES_PER_GB:.1f} GB)",
            "use a smaller precision or machine",
        )
    if min(batches) < 1 or prompt_tokens < 1 or gen_tokens < 2 or repeats < 1:
        raise InputError(
            "probe",
            "--batch/--prompt-tokens/--gen-tokens/--repeats",
            "must be at least 1 (gen-tokens at least 2)",
            "give positive sizes",
        )
    if not verbose:
        quiet(llama_cpp)
    stage("loading the model")
    llama_cpp.llama_backend_init()
    model_params = llama_cpp.llama_model_default_params()
    model_params.n_gpu_layers = gpu_layers
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), model_params)
    if not model:
        raise InputError(
            source,
            "",
            "llama.cpp could not load it (corrupt or not a GGUF model)",
            "re-download it or write one with `probe synth`",
        )
    threads = threads or os.cpu_count() or 1
    most = max(batches)
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = most * (prompt_tokens + gen_tokens) + 2 * WARMUP_TOKENS + 2
    params.n_batch = max(prompt_tokens, most, WARMUP_TOKENS)
    params.n_ubatch = params.n_batch
    params.n_seq_max = most
    params.kv_unified = kv_unified
    params.flash_attn_type = FLASH_ATTN[flash_attn]
    params.n_threads = params.n_threads_batch = threads
    params.no_perf = False
    stage("creating the context")
    ctx = llama_cpp.llama_init_from_model(model, params)
    if not ctx:
        llama_cpp.llama_model_free(model)
        raise InputError(
            source, "", "llama.cpp could not create a context this large", "use fewer or shorter sequences"
        )
    n_vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(model))
    batch = llama_cpp.llama_batch_init(params.n_batch, 0, most)
    rng = np.random.default_rng(seed)
    memory = llama_cpp.llama_get_memory(ctx)

    def decode(tokens: list[tuple[int, int, int, bool]]) -> None:
        """One llama_decode of (token, position, sequence, wants logits) entries."""
        batch.n_tokens = len(tokens)
        for k, (token, pos, seq, logits) in enumerate(tokens):
            batch.token[k], batch.pos[k], batch.n_seq_id[k] = token, pos, 1
            batch.seq_id[k][0] = seq
            batch.logits[k] = logits
        if llama_cpp.llama_decode(ctx, batch) != 0:
            raise RuntimeError(f"llama_decode failed on a batch of {len(tokens)} tokens")
        # Decoding may run asynchronously (on a GPU it does): wait, so that timings and counters are whole.
        llama_cpp.llama_synchronize(ctx)

    def tokens_counted() -> int:
        perf = llama_cpp.llama_perf_context(ctx)
        return int(perf.n_p_eval + perf.n_eval)

    def token() -> int:
        return int(rng.integers(3, n_vocab))

    name = path.stem
    header: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0),
        "hardware": fingerprint(),
        "backend": mf.Backend(name="llama.cpp (llama-cpp-python)", version=llama_cpp.__version__),
        "model": mf.ModelInfo(
            name=name,
            catalogue_name=catalogue_name,
            precision=precision or _precision_from(name),
            parameters=float(llama_cpp.llama_model_n_params(model)),
            file_sha256=sha256(path),
            proxy=proxy if proxy is not None else "proxy" in name,
        ),
        "settings": {
            "threads": threads,
            "repeats": repeats,
            "gpu_layers": gpu_layers,
            "prompt_tokens": prompt_tokens,
            "gen_tokens": gen_tokens,
            "flash_attn": flash_attn,
            "kv_unified": kv_unified,
        },
    }
    if on_header is not None:
        on_header(header)
    points: list[mf.Point] = []
    fault = None
    try:
        stage("warming up")
        # Warm-up: a prompt and two single-token steps (llama.cpp's counters settle after the first).
        decode([(token(), p, 0, p == WARMUP_TOKENS - 1) for p in range(WARMUP_TOKENS)])
        for p in range(WARMUP_TOKENS, WARMUP_TOKENS + 2):
            decode([(token(), p, 0, True)])
        for b in sorted(batches):
            steps_ms, prefill_rates, shares = [], [], []
            for _ in range(repeats):
                llama_cpp.llama_memory_clear(memory, True)
                with _CpuMeter() as meter:
                    stage(f"prefilling batch {b}")
                    before = tokens_counted()
                    start = time.perf_counter()
                    for seq in range(b):
                        decode([(token(), p, seq, p == prompt_tokens - 1) for p in range(prompt_tokens)])
                    prefill_s = time.perf_counter() - start
                    prefilled = tokens_counted() - before
                    stage(f"decoding batch {b}")
                    for step in range(gen_tokens - 1):
                        start = time.perf_counter()
                        decode([(token(), prompt_tokens + step, seq, True) for seq in range(b)])
                        steps_ms.append(units.seconds_to_ms(time.perf_counter() - start))
                    if tokens_counted() - before != prefilled + b * (gen_tokens - 1):
                        raise RuntimeError("llama.cpp's token counters disagree with the tokens sent")
                prefill_rates.append(prefilled / prefill_s)
                shares.append(meter.other_share)
            step_ms = statistics.median(steps_ms)
            points.append(
                mf.Point(
                    batch=b,
                    prompt_tokens=prompt_tokens,
                    gen_tokens=gen_tokens,
                    prefill_tok_per_s=statistics.median(prefill_rates),
                    decode_step_ms=step_ms,
                    decode_tok_per_s=b / units.ms_to_seconds(step_ms),
                    samples={"decode_step_ms": steps_ms, "prefill_tok_per_s": prefill_rates},
                    other_cpu_share=max(shares),
                    noisy=max(shares) > NOISY_OTHER_CPU_SHARE,
                )
            )
            if on_point is not None:
                on_point(points[-1])
    except RuntimeError as e:
        fault = str(e)
    finally:
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(ctx)
        llama_cpp.llama_model_free(model)
    if not points:
        raise InputError(source, "", f"no point could be measured: {fault}", "use fewer or shorter sequences")
    return mf.Measured(kind="llamacpp", points=points, partial=fault is not None, fault=fault, **header)


def _child(conn: Connection, kwargs: dict[str, Any]) -> None:
    """The probe in a child process, telling the parent its header, stages, points and end as they come."""
    # A Ctrl-C at the terminal reaches the whole process group: the parent decides, and ends this child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        measured = probe(
            **kwargs,
            on_header=lambda h: conn.send(("header", {k: _plain(v) for k, v in h.items()})),
            on_stage=lambda s: conn.send(("stage", s)),
            on_point=lambda p: conn.send(("point", p.model_dump(mode="json"))),
        )
        conn.send(("done", measured.model_dump(mode="json")))
    except InputError as e:
        conn.send(("error", (e.source, e.field, e.problem, e.fix)))
    finally:
        conn.close()


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def measure(
    on_point: Callable[[mf.Measured], None] | None = None, stop: threading.Event | None = None, **kwargs: Any
) -> mf.Measured:
    """`probe` in a child process, so that a crash in the native library cannot take the caller with it.

    `on_point` gets the file so far (partial) after every point. Setting `stop` ends the child and
    keeps the points before it. A child killed by a signal becomes a partial file naming the signal
    and the stage it died in, when a point was measured before it, and otherwise an `InputError`
    saying the same.
    """
    stop = stop or threading.Event()
    spawn = multiprocessing.get_context("spawn")
    receiver, sender = spawn.Pipe(duplex=False)
    child = spawn.Process(target=_child, args=(sender, kwargs), daemon=True)
    child.start()
    sender.close()
    header: dict[str, Any] = {}
    points: list[mf.Point] = []
    stage = "starting"
    try:
        while not stop.is_set():
            if not receiver.poll(STOP_POLL_S):
                continue
            try:
                kind, payload = receiver.recv()
            except EOFError:
                break
            if kind == "header":
                header = payload
            elif kind == "stage":
                stage = payload
            elif kind == "point":
                points.append(mf.Point.model_validate(payload))
                if on_point is not None:
                    on_point(
                        mf.Measured.model_validate({**header, "kind": "llamacpp", "points": points, "partial": True})
                    )
            elif kind == "done":
                return mf.Measured.model_validate(payload)
            else:
                raise InputError(*payload)
    finally:
        if stop.is_set():
            child.terminate()
        child.join()
        receiver.close()
    code = child.exitcode or 0
    how = f"died of {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    fault = STOPPED if stop.is_set() else f"llama.cpp {how} while {stage}"
    if not points:
        fix = "run it again" if stop.is_set() else "run with --verbose to see llama.cpp's own log"
        raise InputError(str(kwargs["model_path"]), "", fault, fix)
    return mf.Measured.model_validate({**header, "kind": "llamacpp", "points": points, "partial": True, "fault": fault})


def _precision_from(name: str) -> str:
    for tag in ("q4_k_m", "q4_0", "q4_1", "q8_0", "f16", "bf16", "f32"):
        if tag in name.lower():
            return tag
    return "unknown"
