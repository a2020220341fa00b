"""The OpenAI-compatible probe against a real local server (llama-cpp-python's), and its faults."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.perf import fit as pf
from simulator.perf import measured as mf

if not os.environ.get("RENT_OR_OWN_REQUIRE_PROBE"):
    pytest.importorskip("llama_cpp.server.app", reason="install the probe extra: pip install -e '.[probe]'")

from simulator.probe.synth import Shape, synthesize

SHAPE = Shape("server-proxy", hidden=256, layers=2, heads=4, kv_heads=2, ffn=512, vocab=1024, context=1024)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(model: Path, *extra: str):
    """`python -m llama_cpp.server` on a free port; yields the process and its /v1 URL once it answers."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--interrupt_requests",
            "False",
            "--n_ctx",
            "1024",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("llama_cpp.server did not start")
            time.sleep(0.2)
    try:
        yield proc, f"http://127.0.0.1:{port}/v1"
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def server(tmp_path: Path):
    with running_server(synthesize(SHAPE, tmp_path / "server-proxy.gguf")) as running:
        yield running


def test_probe_measures_a_real_server(server, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = server
    monkeypatch.setenv("PROBE_TEST_KEY", "sk-secret-never-written")
    out = tmp_path / "served.json"
    code = main(
        [
            "probe",
            "openai",
            "--base-url",
            url,
            "--model",
            "proxy",
            "--concurrency",
            "1,2",
            "--rates",
            "2",
            "--prompt-tokens",
            "24",
            "--gen-tokens",
            "12",
            "--duration-s",
            "3",
            "--api-key-env",
            "PROBE_TEST_KEY",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    text = out.read_text()
    assert "sk-secret" not in text
    m = mf.load(out)
    assert m.kind == "openai" and not m.partial and len(m.points) == 3
    assert [p.concurrency for p in m.points[:2]] == [1, 2] and m.points[2].rate_rps == 2
    for p in m.points:
        assert p.errors == 0 and 0 < p.ttft_p50_ms < p.e2e_p50_ms
        assert 1 <= p.gen_tokens <= 12  # counted tokens; a random-weight model may stop early
        assert all(t < e for t, e in zip(p.samples["ttft_ms"], p.samples["e2e_ms"], strict=True))
    assert m.settings["token_counts"] in ("usage", "chunks", "chunks+usage")
    assert pf.fit(m).points_used == 2


def fault_lines(err: str) -> list[str]:
    """stderr without the progress line each finished point prints: what a fault said."""
    return [line for line in err.splitlines() if not line.startswith("point ")]


def _probe(url: str, *extra: str, duration_s: float = 1) -> int:
    args = ["probe", "openai", "--base-url", url, "--model", "x", "--prompt-tokens", "8", "--gen-tokens", "8"]
    return main([*args, "--duration-s", str(duration_s), *extra])


def test_probe_faults_are_one_line_and_keep_what_was_measured(server, tmp_path: Path, capsys) -> None:
    proc, url = server
    port = url.split(":")[2].split("/")[0]
    assert _probe(f"http://127.0.0.1:{free_port()}/v1", "--concurrency", "1") == 2
    err = capsys.readouterr().err
    assert "cannot reach" in err and len(fault_lines(err)) == 1, err
    assert _probe(f"http://127.0.0.1:{port}/nowhere", "--concurrency", "1") == 2
    err = capsys.readouterr().err
    assert "HTTP 404" in err and len(fault_lines(err)) == 1, err
    # The server dies during the second point: the first is kept, the file says partial, exit 2.
    out = tmp_path / "partial.json"
    threading.Timer(4.0, proc.kill).start()
    code = _probe(url, "--concurrency", "1,1,1", "--out", str(out), duration_s=3)
    err = capsys.readouterr().err
    assert code == 2 and "partial" in err and len(fault_lines(err)) == 1, err
    m = mf.load(out)
    assert m.partial and m.fault and 1 <= len(m.points) < 3
    assert json.loads(out.read_text())["partial"] is True


def test_auth_and_tls_failures_are_one_line(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_RIGHT_KEY", "sk-right-never-written")
    monkeypatch.setenv("PROBE_WRONG_KEY", "sk-wrong")
    with running_server(synthesize(SHAPE, tmp_path / "keyed.gguf"), "--api_key", "sk-right-never-written") as (_, url):
        for extra, expected in (
            (["--api-key-env", "PROBE_WRONG_KEY"], "authentication failed (HTTP 401)"),
            ([], "authentication failed (HTTP 401)"),
        ):
            assert _probe(url, "--concurrency", "1", *extra) == 2
            err = capsys.readouterr().err
            assert expected in err and len(fault_lines(err)) == 1 and "sk-" not in err, err
        # TLS spoken to a plain-HTTP port fails the handshake.
        assert _probe(url.replace("http://", "https://"), "--concurrency", "1") == 2
        err = capsys.readouterr().err
        assert "TLS failed" in err and len(fault_lines(err)) == 1, err
        out = tmp_path / "keyed.json"
        assert _probe(url, "--concurrency", "1", "--api-key-env", "PROBE_RIGHT_KEY", "--out", str(out)) == 0
        assert "sk-right" not in out.read_text() and "sk-right" not in capsys.readouterr().err


class _CorruptingStream(http.server.BaseHTTPRequestHandler):
    """A server whose stream turns to garbage after its first requests: the fault, injected."""

    served = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path.endswith("/tokenize"):  # no tokenizer: the probe sizes prompts from two requests' usage
            self.send_error(404)
            return
        type(self).served += 1
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chunk = {"choices": [{"delta": {"content": "word"}}]}
        lines = [f"data: {json.dumps(chunk)}"] * 4
        if type(self).served > 5:  # two calibration requests, then three good ones in the sweep
            lines[2] = "data: {not json"
        lines += ['data: {"choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": 4}}', "data: [DONE]"]
        self.wfile.write("".join(f"{line}\n\n" for line in lines).encode())

    def log_message(self, *args: object) -> None:
        pass


def test_a_malformed_stream_mid_sweep_keeps_the_points_before_it(tmp_path: Path, capsys) -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CorruptingStream)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        out = tmp_path / "corrupt.json"
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        # One request at a time for a twentieth of a second a point: the stream breaks after three requests.
        code = _probe(url, "--concurrency", "1,1,1", "--out", str(out), duration_s=0.05)
    finally:
        httpd.shutdown()
        httpd.server_close()
    err = capsys.readouterr().err
    assert code == 2 and "partial" in err and len(fault_lines(err)) == 1, err
    m = mf.load(out)
    # The three good streams are kept in the points they fell in, the broken ones count as errors
    # there, and the first point with nothing but broken streams ends the sweep.
    assert m.partial and "every request failed: malformed stream chunk" in m.fault
    assert sum(len(p.samples["ttft_ms"]) for p in m.points) == 3
    assert all(p.gen_tokens == 4 for p in m.points) and sum(p.errors for p in m.points) >= 1
