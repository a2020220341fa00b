"""An OpenAI-compatible server for tests that counts what it receives.

It counts prompt tokens its own way (a token is four characters, plus a chat template of seven), so
a probe that sized prompts in words would be visibly off; it streams a token every `token_s`
seconds, stops at half of `max_tokens` unless asked to ignore the end of sequence, and keeps every
prompt it was sent.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

TEMPLATE_TOKENS = 7


def count_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class CountingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tokenizer: bool, token_s: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tokenizer, self.token_s = tokenizer, token_s
        self.prompts: list[Any] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: CountingServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/tokenize":
            if not self.server.tokenizer:
                self.send_error(404)
                return
            text = body.get("prompt") or body.get("content") or ""
            self._json({"tokens": list(range(count_tokens(text)))})
            return
        if self.path == "/v1/chat/completions":
            prompt: Any = body["messages"][0]["content"]
            prompt_tokens = count_tokens(prompt) + TEMPLATE_TOKENS
        elif self.path == "/v1/completions":
            prompt = body["prompt"]
            prompt_tokens = len(prompt) if isinstance(prompt, list) else count_tokens(prompt)
        else:
            self.send_error(404)
            return
        with self.server.lock:
            self.server.prompts.append(prompt)
        wanted = body["max_tokens"]
        tokens = max(body.get("min_tokens", 0), wanted // 2) if body.get("ignore_eos") else max(wanted // 2, 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chat = self.path.endswith("chat/completions")
        for _ in range(tokens):
            time.sleep(self.server.token_s)
            choice = {"delta": {"content": "tok"}} if chat else {"text": "tok"}
            self._event({"choices": [choice]})
        self._event({"choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": tokens}})
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, data: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()

    def _json(self, data: dict[str, Any]) -> None:
        raw = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def counting_server(tokenizer: bool = True, token_s: float = 0.001) -> Iterator[CountingServer]:
    server = CountingServer(tokenizer, token_s)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
