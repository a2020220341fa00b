"""The OpenAI-compatible probe's load: fresh prompts, token lengths in the server's own tokens, a fixed
number of prompts, Gamma arrivals, and a sweep that keeps every finished point on disk, even when stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from simulator.cli import main
from simulator.perf import measured as mf
from simulator.probe import STOPPED
from simulator.workload import gamma_arrivals

from counting_server import TEMPLATE_TOKENS, count_tokens, counting_server
from helpers import ROOT

ASKED = 200


def sweep(url: str, out: Path, *extra: str) -> int:
    args = ["probe", "openai", "--base-url", url, "--model", "m", "--prompt-tokens", str(ASKED), "--gen-tokens", "8"]
    return main([*args, "--out", str(out), *extra])


@pytest.mark.parametrize("tokenizer", [True, False], ids=["tokenize", "usage-calibration"])
def test_prompts_are_fresh_and_sized_in_the_servers_tokens(tmp_path: Path, tokenizer: bool) -> None:
    out = tmp_path / "m.json"
    with counting_server(tokenizer=tokenizer) as server:
        code = sweep(server.url, out, "--concurrency", "1,2", "--rates", "20", "--num-prompts", "6")
        prompts = list(server.prompts)
    assert code == 0
    m = mf.load(out)
    assert m.settings["prompt_sizing"] == ("tokenize" if tokenizer else "usage calibration")
    assert len(prompts) == len(set(prompts)) == 3 * 6 + (0 if tokenizer else 2)  # two calibration requests
    for p in m.points:
        assert len(p.samples["ttft_ms"]) == 6 and p.errors == 0  # a fixed count, every one completed
        # The server's count of what it was sent (four characters a token, plus its template):
        assert p.prompt_tokens == pytest.approx(ASKED, rel=0.15), p.prompt_tokens
        assert p.ttft_p50_ms <= p.ttft_p90_ms <= p.ttft_p99_ms and p.e2e_p90_ms is not None
    counted = [count_tokens(text) + TEMPLATE_TOKENS for text in prompts]
    assert np.mean(counted[-6:]) == pytest.approx(ASKED, rel=0.15)


def test_completions_send_token_ids_the_server_counts_exactly(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    with counting_server(tokenizer=False) as server:
        code = sweep(server.url, out, "--endpoint", "completions", "--concurrency", "1,1", "--num-prompts", "4")
        prompts = list(server.prompts)
    assert code == 0 and len(prompts) == 8
    assert all(isinstance(p, list) and len(p) == ASKED for p in prompts)
    assert len({tuple(p) for p in prompts}) == 8  # unique across the points too
    assert mf.load(out).settings["prompt_sizing"] == "token ids"


def test_ignore_eos_asks_for_the_full_output(tmp_path: Path) -> None:
    with counting_server() as server:
        assert sweep(server.url, tmp_path / "a.json", "--concurrency", "1", "--num-prompts", "3") == 0
        assert sweep(server.url, tmp_path / "b.json", "--concurrency", "1", "--num-prompts", "3", "--ignore-eos") == 0
    assert mf.load(tmp_path / "a.json").points[0].gen_tokens == 4  # this server stops at half unless told not to
    assert mf.load(tmp_path / "b.json").points[0].gen_tokens == 8


@pytest.mark.parametrize("burstiness", [0.25, 1.0, 4.0])
def test_arrivals_are_gamma_with_the_asked_rate_and_burstiness(burstiness: float) -> None:
    # Gamma gaps of shape k and mean 1/rate: coefficient of variation 1/sqrt(k), as vllm bench serve draws.
    gaps = np.diff(gamma_arrivals(4.0, burstiness, 40_000, np.random.default_rng(3)), prepend=0.0)
    assert gaps.mean() == pytest.approx(1 / 4.0, rel=0.02)
    assert gaps.std() / gaps.mean() == pytest.approx(1 / np.sqrt(burstiness), rel=0.03)


def test_points_are_on_disk_while_the_sweep_runs_and_sigterm_keeps_them(tmp_path: Path) -> None:
    out = tmp_path / "stopped.json"
    with counting_server(token_s=0.01) as server:
        command = [sys.executable, "-m", "simulator", "probe", "openai", "--base-url", server.url, "--model", "m"]
        command += ["--prompt-tokens", "32", "--gen-tokens", "8", "--concurrency", "1,1,1,1,1,1,1,1"]
        command += ["--duration-s", "0.5", "--out", str(out)]
        proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True, env=os.environ)
        deadline = time.monotonic() + 60
        while not (out.exists() and len(json.loads(out.read_text())["points"]) >= 2):
            assert proc.poll() is None and time.monotonic() < deadline, "no point was written while the sweep ran"
            time.sleep(0.05)
        assert json.loads(out.read_text())["partial"] is True  # on disk mid-sweep, marked partial
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    m = mf.load(out)
    assert m.partial and m.fault == STOPPED and 2 <= len(m.points) < 8
    last = err.strip().splitlines()[-1]
    assert last == f"{out}: stopped by SIGTERM; the {len(m.points)} finished points are kept", err
    assert "Traceback" not in err


@pytest.mark.parametrize("port", ["99999", "abc"])
def test_a_bad_port_is_one_line_that_shows_no_credentials(capsys, port: str) -> None:
    url = f"http://user:sk-secret@127.0.0.1:{port}/v1?api_key=sk-other"
    assert main(["probe", "openai", "--base-url", url, "--model", "m"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"--base-url: http://127.0.0.1:{port}/v1: expected http(s)://host[:port]/v1 (e.g. http://127.0.0.1:8000/v1)\n"
    )
