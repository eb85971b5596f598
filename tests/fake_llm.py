"""A real HTTP server that speaks (or mis-speaks) the OpenAI chat-completions API, for fault tests."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLM:
    """``mode``: ok | slow | stall | hang | keepalive | html | rate_limited | rate_limited_once | garbage | error.

    ``hang`` never answers any request within ``delay``; ``keepalive`` streams only SSE comments for
    ``delay`` seconds, never a token; ``html`` answers every request with a 200 web page.

    A request that does not stream is the "Found: Yes/No" step: it is answered with one token,
    " Yes" or " No", and, when ``found`` is given, top log probabilities that put ``found`` on
    " Yes" (None: the endpoint reports no log probabilities, as some do)."""

    def __init__(
        self,
        mode: str = "ok",
        reply: str | Sequence[str] = "Zhao Leji heads it [1].",
        delay: float = 5.0,
        found: float | None = None,
    ) -> None:
        self.mode = mode
        self.replies = [reply] if isinstance(reply, str) else list(reply)
        """Streamed replies in turn, the last one again once they run out (a second try's reply)."""
        self.streamed = 0
        self.delay = delay
        self.found = found
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    def next_reply(self) -> str:
        reply = self.replies[min(self.streamed, len(self.replies) - 1)]
        self.streamed += 1
        return reply

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(body)
                mode = fake.mode
                if mode == "rate_limited_once":
                    mode = "rate_limited" if len(fake.requests) == 1 else "ok"
                if mode == "hang":
                    time.sleep(fake.delay)
                    return
                if mode == "html":
                    page = b"<html><body><h1>Welcome to nginx!</h1></body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                if mode == "rate_limited":
                    self._json(429, {"error": {"message": "slow down", "type": "rate_limit"}}, {"Retry-After": "0"})
                elif mode == "error":
                    self._json(500, {"error": {"message": "boom"}})
                elif not body.get("stream"):
                    self._json(200, fake._found_reply(body))
                elif mode == "slow":
                    time.sleep(fake.delay)
                    self._stream(fake.next_reply())
                elif mode == "garbage":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    self.wfile.write(b"data: {this is not json\n\n")
                    self.wfile.write(b"data: [DONE]\n\n")
                elif mode == "keepalive":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    until = time.monotonic() + fake.delay
                    while time.monotonic() < until:
                        self.wfile.write(b": keep-alive\n\n")
                        self.wfile.flush()
                        time.sleep(0.2)
                elif mode == "stall":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    self.wfile.write(self._chunk("Zhao"))
                    self.wfile.flush()
                    time.sleep(fake.delay)
                else:
                    self._stream(fake.next_reply())

            def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            @staticmethod
            def _chunk(text: str) -> bytes:
                payload = {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "fake",
                    "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
                }
                return f"data: {json.dumps(payload)}\n\n".encode()

            def _stream(self, reply: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for word in reply.split(" "):
                    self.wfile.write(self._chunk(word + " "))
                self.wfile.write(b"data: [DONE]\n\n")

        return Handler

    def _found_reply(self, body: dict) -> dict:
        found = 0.5 if self.found is None else self.found
        token = " Yes" if found >= 0.5 else " No"
        choice: dict = {"index": 0, "message": {"role": "assistant", "content": token}, "finish_reason": "length"}
        if body.get("logprobs") and self.found is not None:
            alternatives = [
                {"token": " Yes", "logprob": math.log(max(found, 1e-9)), "bytes": None},
                {"token": " No", "logprob": math.log(max(1 - found, 1e-9)), "bytes": None},
            ]
            step = {"token": token, "logprob": alternatives[0 if found >= 0.5 else 1]["logprob"], "bytes": None}
            choice["logprobs"] = {"content": [{**step, "top_logprobs": alternatives}]}
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "fake", "choices": [choice]}

    @contextmanager
    def running(self) -> Iterator[FakeLLM]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
