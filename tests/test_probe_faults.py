"""`probe openai` against servers that misbehave once the probe has sized its prompts: each fault is
a counted error of its point, the sweep ends in one line soon after, and nothing secret is printed."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.perf import measured as mf

TIMEOUTS = ("--idle-timeout-s", "0.5", "--request-timeout-s", "1.5")
CALIBRATION_REQUESTS = 2  # without /tokenize the probe sizes prompts from two requests' usage
GOOD = {"choices": [{"delta": {"content": "word"}}]}
USAGE = {"choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": 8}}


class _Faulty(http.server.BaseHTTPRequestHandler):
    fault = ""
    served = 0

    def do_POST(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the probe hung up on a fault
            self._answer()

    def _answer(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path.endswith("/tokenize"):
            self.send_error(404)
            return
        type(self).served += 1
        if type(self).served <= CALIBRATION_REQUESTS:
            return self._stream([GOOD] * 8 + [USAGE], done=True)
        fault = type(self).fault
        if fault == "silent":
            time.sleep(5)  # connected, never answers
        elif fault == "keep-alives":
            self._headers()
            for _ in range(100):
                self.wfile.write(b": ping\n\n")
                self.wfile.flush()
                time.sleep(0.05)
        elif fault == "trickle":
            self._headers()
            for _ in range(100):
                self.wfile.write(f"data: {json.dumps(GOOD)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.3)
        elif fault == "cut":
            self._stream([GOOD] * 3, done=False)
        elif fault == "usage":
            self._stream([GOOD] * 8 + [{"choices": [], "usage": {"prompt_tokens": -5, "completion_tokens": 1e30}}])
        elif fault == "list-chunk":
            self._headers()
            self.wfile.write(b"data: [1, 2]\n\n")
        elif fault == "odd-delta":
            self._stream([{"choices": [{"delta": "word"}]}, {"choices": [{"delta": {"content": 7}}]}])
        elif fault == "error-body":
            body = b"Authorization: Bearer sk-secret-123\nX-Api-Key: sk-other\nthe model is\noverloaded\n"
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def _headers(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

    def _stream(self, chunks: list[dict[str, object]], done: bool = True) -> None:
        self._headers()
        lines = [f"data: {json.dumps(c)}" for c in chunks] + (["data: [DONE]"] if done else [])
        self.wfile.write("".join(f"{line}\n\n" for line in lines).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("silent", "every request failed: no response within 0.5 s of asking"),
        ("keep-alives", "every request failed: no token for 0.5 s, only keep-alives"),
        ("trickle", "every request failed: no end after 1.5 s"),
        ("cut", "every request failed: the stream was cut after 3 chunks"),
        ("usage", "every request failed: usage out of range"),
        ("list-chunk", "every request failed: unexpected stream chunk: '[1, 2]'"),
        ("odd-delta", "every request failed: unexpected stream chunk"),
        ("error-body", "every request failed: HTTP 500: 'the model is overloaded'"),
    ],
)
def test_a_faulty_server_ends_the_sweep_in_one_line_soon(fault: str, said: str, tmp_path: Path, capsys) -> None:
    handler = type("Handler", (_Faulty,), {"fault": fault, "served": 0})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    out = tmp_path / "faulty.json"
    url = f"http://user:sk-in-url@127.0.0.1:{httpd.server_address[1]}/v1?api_key=sk-in-query"
    args = ["probe", "openai", "--base-url", url, "--model", "x", "--prompt-tokens", "8", "--gen-tokens", "8"]
    start = time.monotonic()
    try:
        code = main([*args, "--duration-s", "0.2", "--concurrency", "1", *TIMEOUTS, "--out", str(out)])
    finally:
        httpd.shutdown()
        httpd.server_close()
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == 2 and said in err and err.strip().count("\n") == 0, err
    assert "sk-" not in err, err
    assert elapsed < 10, elapsed  # a two-tenths-of-a-second point, not a 120-second request timeout
    if out.exists():  # what was written names no secret and loads
        assert "sk-" not in out.read_text()
        mf.load(out)
