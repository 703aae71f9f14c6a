"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks: it speaks
POST /v1/chat/completions, answers with programmable behaviours and records every request."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A behaviour is a tuple: ("ok", label) | ("429",) | ("500",) | ("slow", seconds, label)
# | ("invalid_json",) | ("content", text) | ("401",).
Behaviour = tuple


def answer_json(label: str, confidence: float = 0.8) -> str:
    return json.dumps({"primary_label": label, "secondary_labels": [], "confidence": confidence,
                       "rationale": f"looks like {label}", "evidence": "quoted line"})


def _completion(content: str, model: str) -> dict:
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050}}


# --- /v1/embeddings (issue 19: discovery) ------------------------------------------------------
# A deterministic vector per text: hashed words, so texts sharing words lie close together
# (clusterable, like real embeddings). `state.embed_script` takes behaviours first:
# ("ok",) | ("500",) | ("short",) (one vector fewer than texts) | ("ragged",) (unequal lengths).
EMBED_DIMS = 64


def embedding_of(text: str, dims: int = EMBED_DIMS) -> list[float]:
    import hashlib
    import re

    vec = [0.0] * dims
    for word in re.findall(r"[a-z]{3,}", text.lower()):
        h = int(hashlib.md5(word.encode()).hexdigest(), 16)
        vec[h % dims] += 1.0 if (h >> 8) % 2 else -1.0
    norm = sum(v * v for v in vec) ** 0.5 or 1.0
    return [v / norm for v in vec]


def embeddings_answer(state: FakeLLM, body: dict) -> tuple[int, dict]:
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else list(texts or [])
    with state.lock:
        b = state.embed_script.pop(0) if state.embed_script else ("ok",)
    if b[0] == "500":
        return 500, {"error": {"message": "status 500"}}
    vectors = [embedding_of(t) for t in texts]
    if b[0] == "short":
        vectors = vectors[:-1]
    if b[0] == "ragged" and vectors:
        vectors[0] = vectors[0][:-1]
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    tokens = sum(len(t.split()) for t in texts)
    return 200, {"object": "list", "data": data, "model": body.get("model", "?"),
                 "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


class FakeLLM:
    """The server's programmable state: a queue of behaviours, then a default."""

    def __init__(self, delay: float = 0.0) -> None:
        self.script: list[Behaviour] = []
        self.default: Callable[[dict], Behaviour] = lambda body: ("ok", "no_failure")
        self.delay = delay
        self.requests: list[dict] = []  # {"path", "headers", "body"}
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.hold_from: int | None = None  # requests numbered above this wait for `release`
        self.release = threading.Event()
        from tests.batch_api import BatchState  # the Batch API endpoints (tests/batch_api.py)

        self.batch = BatchState()
        self.embed_script: list[Behaviour] = []  # /v1/embeddings behaviours, then ("ok",)

    def hold_after(self, n: int) -> None:
        """Answer the first n requests; hold later ones until `release` is set (bounded)."""
        self.hold_from = n
        self.release.clear()

    def wait_if_held(self, number: int) -> None:
        if self.hold_from is not None and number > self.hold_from:
            self.release.wait(timeout=60)

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def next_behaviour(self, body: dict) -> Behaviour:
        with self.lock:
            return self.script.pop(0) if self.script else self.default(body)

    def record(self, path: str, headers: dict, body: dict) -> None:
        with self.lock:
            self.requests.append({"path": path, "headers": headers, "body": body})

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)


def _handler(state: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out without a 40 ms delayed-ACK stall

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)  # fails when the client timed out and left

        def _send_bytes(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            from tests.batch_api import handle

            if handle(self, state.batch, "GET"):  # /v1/files, /v1/batches
                return None
            if self.path == "/stats":  # for a benchmark in another process
                return self._send(200, {"requests": state.count})
            return self._send(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            from tests.batch_api import handle

            if handle(self, state.batch, "POST"):  # /v1/files, /v1/batches
                return None
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            state.record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            if self.path.rstrip("/") == "/v1/embeddings":  # issue 19's route, apart
                return self._send(*embeddings_answer(state, body))
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, {"error": {"message": "not found"}})
            state.enter()
            try:
                self._answer(body)
            finally:
                state.leave()

        def _answer(self, body: dict) -> None:
            state.wait_if_held(state.count)
            b = state.next_behaviour(body)
            if state.delay:
                time.sleep(state.delay)
            model = body.get("model", "?")
            if b[0] == "429":
                return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
            if b[0] in ("500", "401"):
                return self._send(int(b[0]), {"error": {"message": f"status {b[0]}"}})
            if b[0] == "slow":
                time.sleep(b[1])
                return self._send(200, _completion(answer_json(b[2]), model))
            if b[0] == "invalid_json":
                return self._send(200, _completion('{"primary_label": "no_failure", ', model))
            if b[0] == "content":
                return self._send(200, _completion(b[1], model))
            return self._send(200, _completion(answer_json(b[1]), model))

    return Handler


class LLMServer:
    """A ThreadingHTTPServer on 127.0.0.1 (free port) in a daemon thread."""

    def __init__(self, delay: float = 0.0, port: int = 0) -> None:
        self.state = FakeLLM(delay)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> LLMServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    """Run standalone (the benchmark's separate process): prints the base URL, serves forever."""
    import argparse
    import sys

    p = argparse.ArgumentParser()
    p.add_argument("--delay", type=float, default=0.2)
    args = p.parse_args()
    server = LLMServer(delay=args.delay)
    server.httpd.request_queue_size = 128
    print(server.base_url, flush=True)
    sys.stdout.flush()
    server.httpd.serve_forever()


if __name__ == "__main__":
    main()
