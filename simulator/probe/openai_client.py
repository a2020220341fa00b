"""A streaming client of an OpenAI-compatible server: one timed completion at a time, and its tokenizer."""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from simulator.errors import InputError, one_line

MAX_USAGE_TOKENS = 100_000_000  # more than any context window: a larger count is a server's fault
HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:\s")  # "Authorization: Bearer ...", "X-Api-Key: ..."


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
    """'usage' (the server's count) or 'chunks' (streamed chunks, when the server sends no usage)."""


def body_excerpt(body: bytes) -> str:
    """The start of a server's error body, safe to print: lines that look like headers (which may carry
    credentials) dropped, one line, at most 120 characters."""
    text = body.decode(errors="replace")
    kept = [line.strip() for line in text.splitlines() if line.strip() and not HEADER_LINE.match(line.strip())]
    excerpt = one_line(" ".join(kept))
    return repr(excerpt[:117] + "..." if len(excerpt) > 120 else excerpt)


def public_url(base_url: str) -> str:
    """The URL without credentials or query: what may be stored and printed."""
    parts = urlsplit(base_url)
    netloc = parts.netloc.rpartition("@")[2]  # host and port as written, even a port out of range
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Client:
    def __init__(
        self, base_url: str, model: str, api_key: str | None, timeout_s: float, idle_timeout_s: float = 30.0
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
            raise InputError(
                "--base-url", public_url(base_url), "expected http(s)://host[:port]/v1", "e.g. http://127.0.0.1:8000/v1"
            )
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, port or (443 if self.https else 80)
        self.path = parts.path
        self.model = model
        self.timeout_s = timeout_s
        self.idle_timeout_s = min(idle_timeout_s, timeout_s)
        """Longest a request may go without a token: a silent server, or one sending only keep-alives."""
        self.headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self._open: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        if self.https:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.idle_timeout_s, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.idle_timeout_s)
        with self._lock:
            self._open.add(conn)
        return conn

    def _close(self, conn: http.client.HTTPConnection) -> None:
        conn.close()
        with self._lock:
            self._open.discard(conn)

    def abort(self) -> None:
        """Cut every request in flight, so that a stopped sweep ends now, not when they finish."""
        with self._lock:
            for conn in list(self._open):
                if conn.sock is not None:
                    conn.sock.shutdown(socket.SHUT_RDWR)

    def tokenize(self, text: str) -> int | None:
        """Tokens the server counts in `text` (vLLM's and llama-server's /tokenize), or None without one.

        One body serves both: vLLM reads `prompt` (and ignores what it does not know), llama-server `content`.
        """
        root = self.path.removesuffix("/v1")
        body = json.dumps({"model": self.model, "prompt": text, "content": text})
        conn = self._connection()
        try:
            conn.request("POST", f"{root}/tokenize", body=body, headers=self.headers)
            response = conn.getresponse()
            data = response.read()
            tokens = json.loads(data).get("tokens") if response.status == 200 else None
        except (OSError, http.client.HTTPException, json.JSONDecodeError, AttributeError):
            return None
        finally:
            self._close(conn)
        return len(tokens) if isinstance(tokens, list) and tokens else None

    def complete(
        self, prompt: str | list[int], max_tokens: int, endpoint: str = "chat", ignore_eos: bool = False
    ) -> Sample:
        """Stream one completion (chat or text) of at most `max_tokens`; `ignore_eos` asks for all of them."""
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if endpoint == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
            path = f"{self.path}/chat/completions"
        else:
            body["prompt"] = prompt
            path = f"{self.path}/completions"
        if ignore_eos:
            body |= {"ignore_eos": True, "min_tokens": max_tokens}
        conn = self._connection()
        start = time.perf_counter()
        try:
            try:
                conn.request("POST", path, body=json.dumps(body), headers=self.headers)
                response = conn.getresponse()
            except ssl.SSLError as e:
                raise ServerError(f"TLS failed: {e.reason or e}") from None
            except TimeoutError:
                raise RuntimeError(f"no response within {self.idle_timeout_s:g} s of asking") from None
            except OSError as e:
                raise ServerError(f"cannot reach {self.host}:{self.port}: {e.strerror or e}") from None
            if response.status in (401, 403):
                raise ServerError(f"authentication failed (HTTP {response.status}); set --api-key-env")
            if response.status == 404:
                raise ServerError(f"no {endpoint} completions at {path} (HTTP 404); check --base-url and --model")
            if response.status >= 400:
                raise RuntimeError(f"HTTP {response.status}: {body_excerpt(response.read(2000))}")
            return self._read_stream(response, start, endpoint)
        except TimeoutError:
            raise RuntimeError(f"no token for {self.idle_timeout_s:g} s") from None
        except (ConnectionError, http.client.HTTPException, OSError) as e:
            raise RuntimeError(f"stream broke: {e}") from None
        finally:
            self._close(conn)

    def _read_stream(self, response: http.client.HTTPResponse, start: float, endpoint: str) -> Sample:
        first = None
        last = start
        chunks = 0
        gaps: list[float] = []
        usage = None
        ended = False
        for raw in response:
            now = time.perf_counter()
            if now - start > self.timeout_s:
                raise RuntimeError(f"no end after {self.timeout_s:g} s")
            if now - last > self.idle_timeout_s:
                raise RuntimeError(f"no token for {self.idle_timeout_s:g} s, only keep-alives")
            line = raw.decode(errors="replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                ended = True
                break
            try:
                chunk = json.loads(data)
            except json.JSONDecodeError:
                raise RuntimeError(f"malformed stream chunk: {data[:80]!r}") from None
            if not isinstance(chunk, dict):
                raise RuntimeError(f"unexpected stream chunk: {data[:80]!r}")
            if chunk.get("usage"):
                usage = chunk["usage"]
            choices = chunk.get("choices") or []
            choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
            delta = choice.get("delta") if endpoint == "chat" else choice
            text = delta.get("content" if endpoint == "chat" else "text") if isinstance(delta, dict) else None
            if text is not None and not isinstance(text, str):
                raise RuntimeError(f"unexpected stream chunk: {data[:80]!r}")
            if text:
                chunks += 1
                now = time.perf_counter()
                if first is None:
                    first = now
                else:
                    gaps.append(now - last)
                last = now
        end = time.perf_counter()
        if first is None:
            raise RuntimeError("the stream carried no content")
        if not ended:
            raise RuntimeError(f"the stream was cut after {chunks} chunks")
        if usage:
            if not isinstance(usage, dict):
                raise RuntimeError(f"usage out of range: {usage!r}"[:120])
            prompt, completion = int(usage["prompt_tokens"]), int(usage["completion_tokens"])
            if not (0 <= prompt <= MAX_USAGE_TOKENS and 1 <= completion <= MAX_USAGE_TOKENS):
                raise RuntimeError(f"usage out of range: {usage!r}"[:120])
            return Sample(first - start, end - start, gaps, prompt, completion, "usage")
        return Sample(first - start, end - start, gaps, None, chunks, "chunks")
