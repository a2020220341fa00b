"""A real llama.cpp run on a tiny random-weight model: synth, probe, measured file, fit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.perf import fit as pf
from simulator.perf import measured as mf

if os.environ.get("RENT_OR_OWN_REQUIRE_PROBE"):
    import llama_cpp  # noqa: F401  # CI must run these, never skip them
else:
    pytest.importorskip("llama_cpp", reason="install the probe extra: pip install -e '.[probe]'")

from simulator.probe import STOPPED
from simulator.probe.llamacpp import probe
from simulator.probe.synth import Shape, sha256, synthesize

from helpers import ROOT

# About 20M parameters: a batched decode step takes several milliseconds on a CI core, long enough to time.
TINY = Shape("tiny-proxy", hidden=512, layers=6, heads=8, kv_heads=2, ffn=1536, vocab=2048, context=2048)


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(TINY, tmp_path_factory.mktemp("gguf") / "tiny-proxy-f16.gguf")


def test_synth_model_loads_and_generates(tiny_gguf: Path) -> None:
    import llama_cpp

    llm = llama_cpp.Llama(str(tiny_gguf), n_ctx=256, verbose=False)
    out = llm("the", max_tokens=12, temperature=0.0)
    assert out["usage"]["completion_tokens"] == 12
    assert llm.n_vocab() == TINY.vocab
    assert abs(llama_cpp.llama_model_n_params(llm.model) - TINY.parameters) / TINY.parameters < 0.01


def test_synth_quantises_with_llama_cpp(tmp_path: Path) -> None:
    q4 = synthesize(TINY, tmp_path / "tiny-proxy-q4_0.gguf", "q4_0")
    f16 = synthesize(TINY, tmp_path / "tiny-proxy-f16.gguf")
    assert q4.stat().st_size < f16.stat().st_size / 2.5
    assert not list(tmp_path.glob("*.partial*"))


def test_probe_writes_a_valid_file_whose_fit_reproduces_it(tiny_gguf: Path, tmp_path: Path) -> None:
    measured = probe(tiny_gguf, [1, 2, 4, 8], prompt_tokens=64, gen_tokens=24, threads=1, repeats=3)
    out = tmp_path / "m.json"
    mf.save(measured, out)
    loaded = mf.load(out)
    assert loaded.model.proxy and loaded.model.file_sha256 == sha256(tiny_gguf)
    assert [p.batch for p in loaded.points] == [1, 2, 4, 8] and not loaded.partial
    assert all(len(p.samples["decode_step_ms"]) == 3 * 23 for p in loaded.points)
    rates = [p.decode_tok_per_s for p in loaded.points]
    assert rates[-1] > rates[0], rates  # batching raises throughput
    fit = pf.fit(loaded)
    # A linear step model reproduces the batched step times of one shared CPU core within 40%: there
    # they grow faster than linearly, and a batch of 4 took 5.1 to 7.9 ms a step in runs on one machine.
    assert fit.max_relative_error < 0.40, (fit.max_relative_error, fit.residuals_ms)
    # Each sequence costs a step time, and so does each prompt token. The fixed cost of a step may fit
    # to zero: where the model's 40 MB stay in a large L3 cache, reading the weights costs next to nothing.
    assert fit.b0_s >= 0 and fit.b_decode_s > 0 and fit.b_prefill_s > 0


def test_probe_cli_and_faults(tiny_gguf: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli.json"
    assert (
        main(
            [
                "probe",
                "llamacpp",
                "--model",
                str(tiny_gguf),
                "--batch",
                "1,2",
                "--prompt-tokens",
                "16",
                "--gen-tokens",
                "4",
                "--repeats",
                "1",
                "--threads",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert mf.load(out).points
    assert main(["probe", "show", str(out)]) == 0
    assert "fit: b0" in capsys.readouterr().out
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + os.urandom(64))
    # A model larger than free memory (a sparse file: it takes no disk) is refused before loading.
    huge = tmp_path / "huge.gguf"
    with huge.open("wb") as f:
        f.write(b"GGUF")
        f.truncate(2 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for path, expected in (
        (tmp_path / "missing.gguf", "no such model file"),
        (corrupt, "could not load it"),
        (huge, "is larger than free memory"),
    ):
        assert main(["probe", "llamacpp", "--model", str(path)]) == 2
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1, err
    # An --out that cannot be written is refused before anything is measured.
    (tmp_path / "taken").write_text("a file where the folder should be")
    assert main(["probe", "llamacpp", "--model", str(tiny_gguf), "--out", str(tmp_path / "taken" / "m.json")]) == 2
    assert "taken/m.json: cannot write the file: File exists" in capsys.readouterr().err
    assert main(["probe", "synth", "--shape", "mixtral-8x7b-instruct", "--out", str(tmp_path / "x.gguf")]) == 2
    assert "mixture of experts" in capsys.readouterr().err


def _spawned_child(parent: int) -> int:
    """The process `multiprocessing` spawned under `parent` to run the probe."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    for pid in children:
        if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            return int(pid)
    raise AssertionError(f"no spawned child among {children}")


def test_a_crash_in_llama_cpp_is_one_line_and_keeps_the_finished_points(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "crashed.json"
    command = [sys.executable, "-m", "simulator", "probe", "llamacpp", "--model", str(tiny_gguf), "--out", str(out)]
    command += ["--batch", "1,2,4,8,16,32", "--prompt-tokens", "32", "--gen-tokens", "48", "--repeats", "3"]
    proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out.exists() and mf.load(out).points):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    # llama.cpp faulting mid-run, as it did on a GPU: the child dies of SIGSEGV.
    os.kill(_spawned_child(proc.pid), signal.SIGSEGV)
    _, err = proc.communicate(timeout=60)
    m = mf.load(out)
    assert proc.returncode == 2 and m.partial and 1 <= len(m.points) < 6
    assert m.fault.startswith("llama.cpp died of SIGSEGV while ") and m.settings["kv_unified"] is True
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"{out}: partial: llama.cpp died of SIGSEGV while "), err
    assert last.endswith(f"the {len(m.points)} finished points are kept (measure again with fewer or smaller batches)")
    assert "Traceback" not in err


def test_flash_attention_and_the_kv_layout_reach_llama_cpp(tiny_gguf: Path, tmp_path: Path) -> None:
    out = tmp_path / "fa.json"
    args = ["probe", "llamacpp", "--model", str(tiny_gguf), "--batch", "1,2", "--prompt-tokens", "16"]
    args += ["--gen-tokens", "4", "--repeats", "1", "--threads", "1", "--out", str(out)]
    assert main([*args, "--flash-attn", "off", "--no-kv-unified"]) == 0
    settings = mf.load(out).settings
    assert settings["flash_attn"] == "off" and settings["kv_unified"] is False


def test_ctrl_c_ends_the_probe_with_the_finished_points_kept(tiny_gguf: Path, tmp_path: Path) -> None:
    # A terminal's Ctrl-C reaches the whole process group: the command and its measuring child.
    out = tmp_path / "interrupted.json"
    command = [sys.executable, "-m", "simulator", "probe", "llamacpp", "--model", str(tiny_gguf), "--out", str(out)]
    command += ["--batch", "1,2,4,8,16,32", "--prompt-tokens", "32", "--gen-tokens", "48", "--repeats", "3"]
    proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (out.exists() and mf.load(out).points):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    m = mf.load(out)
    assert proc.returncode == 128 + signal.SIGINT and m.partial and m.fault == STOPPED and 1 <= len(m.points) < 6
    assert err.strip().splitlines()[-1] == f"{out}: stopped by SIGINT; the {len(m.points)} finished points are kept"
    assert "Traceback" not in err
