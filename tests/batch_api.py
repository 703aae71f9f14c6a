"""The Batch API half of the local OpenAI-compatible server (tests/llm_server.py): /v1/files
(upload, list, content) and /v1/batches (create, list, retrieve). A batch is in progress for
`polls_in_progress` retrieves, then ends: completed (answers from `answer`), or expired with
only its first half done. `hold` pauses a create or a content download so a test can kill the
client process at that very moment."""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def completion(content: str, model: str) -> dict:
    return {"id": "chatcmpl-batch", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050}}


@dataclass
class BatchState:
    """Files, batches and the programmable behaviour of the Batch API endpoints."""

    files: dict[str, dict] = field(default_factory=dict)
    batches: dict[str, dict] = field(default_factory=dict)
    polls_in_progress: int = 1
    expire: bool = False
    # custom_id, request body → ("ok", content) | ("error", code, message)
    answer: Callable[[str, dict], tuple] | None = None
    hold: str | None = None  # "create" | "create-then-hold" | "content"
    held: threading.Event = field(default_factory=threading.Event)  # the held request arrived
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    creates: int = 0  # POST /v1/batches received

    def _id(self, prefix: str, table: dict) -> str:
        return f"{prefix}-{len(self.files) + len(self.batches) + 1:04d}"

    def add_file(self, name: str, content: bytes, purpose: str) -> dict:
        with self.lock:
            fid = self._id("file", self.files)
            self.files[fid] = {"id": fid, "object": "file", "bytes": len(content),
                               "created_at": int(time.time()), "filename": name,
                               "purpose": purpose, "status": "processed", "content": content}
        return self.files[fid]

    def file_object(self, fid: str) -> dict:
        return {k: v for k, v in self.files[fid].items() if k != "content"}

    def create_batch(self, body: dict) -> dict:
        with self.lock:
            bid = self._id("batch", self.batches)
            self.batches[bid] = {
                "id": bid, "object": "batch", "endpoint": body["endpoint"], "errors": None,
                "input_file_id": body["input_file_id"], "completion_window": body["completion_window"],
                "status": "validating", "output_file_id": None, "error_file_id": None,
                "created_at": int(time.time()), "metadata": body.get("metadata"), "polls": 0,
                "request_counts": {"total": 0, "completed": 0, "failed": 0}}
        return self.public(bid)

    def public(self, bid: str) -> dict:
        return {k: v for k, v in self.batches[bid].items() if k != "polls"}

    def retrieve(self, bid: str) -> dict:
        b = self.batches[bid]
        requests = [json.loads(x) for x in self.files[b["input_file_id"]]["content"].splitlines() if x]
        b["polls"] += 1
        if b["status"] in ("completed", "expired"):
            return self.public(bid)
        if b["polls"] <= self.polls_in_progress:
            b["status"] = "in_progress"
            b["request_counts"] = {"total": len(requests), "completed": len(requests) // 2, "failed": 0}
            return self.public(bid)
        self._finish(b, requests)
        return self.public(bid)

    def _finish(self, b: dict, requests: list[dict]) -> None:
        out, err = [], []
        for i, req in enumerate(requests):
            line = {"id": f"batch_req_{i}", "custom_id": req["custom_id"]}
            if self.expire and i >= len(requests) // 2:
                err.append({**line, "response": None, "error": {
                    "code": "batch_expired", "message": "This request could not be executed "
                    "before the completion window expired."}})
                continue
            got = (self.answer or (lambda c, body: ("ok", None)))(req["custom_id"], req["body"])
            if got[0] == "error":
                err.append({**line, "response": {"status_code": 500, "request_id": f"r{i}",
                                                 "body": {"error": {"message": got[2], "type": "server_error"}}},
                            "error": {"code": got[1], "message": got[2]}})
                continue
            from tests.llm_server import answer_json

            content = got[1] if got[1] is not None else answer_json("no_failure")
            out.append({**line, "response": {"status_code": 200, "request_id": f"r{i}",
                                             "body": completion(content, req["body"]["model"])},
                        "error": None})
        b["status"] = "expired" if self.expire else "completed"
        b["request_counts"] = {"total": len(requests), "completed": len(out), "failed": len(err)}
        if out:
            b["output_file_id"] = self.add_file("output.jsonl", _jsonl(out), "batch_output")["id"]
        if err:
            b["error_file_id"] = self.add_file("errors.jsonl", _jsonl(err), "batch_output")["id"]

    def wait_if_held(self, what: str) -> bool:
        """Pause a request the test holds (bounded); True when one was held."""
        if self.hold != what:
            return False
        self.held.set()
        self.release.wait(timeout=60)
        return True


def _jsonl(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    out = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        out[name] = (part.get_filename(), part.get_payload(decode=True))
    return out


def handle(handler: Any, state: BatchState, method: str) -> bool:
    """Answer a Batch API request on `handler` (a BaseHTTPRequestHandler); False when the path
    is not one of these endpoints."""
    path, _, query = handler.path.partition("?")
    parts = path.rstrip("/").split("/")
    if parts[:3] != ["", "v1", "files"] and parts[:3] != ["", "v1", "batches"]:
        return False
    body = handler.rfile.read(int(handler.headers.get("Content-Length", 0) or 0))
    kind, rest = parts[2], parts[3:]
    if kind == "files":
        return _files(handler, state, method, rest, query, body)
    return _batches(handler, state, method, rest, body)


def _files(handler, state: BatchState, method: str, rest: list[str], query: str, body: bytes) -> bool:
    if method == "POST" and not rest:
        form = _multipart(handler.headers["Content-Type"], body)
        name, content = form["file"]
        purpose = form["purpose"][1].decode()
        handler._send(200, state.file_object(state.add_file(name, content, purpose)["id"]))
    elif method == "GET" and not rest:
        wanted = dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv).get("purpose")
        data = [state.file_object(f) for f, v in reversed(list(state.files.items()))
                if wanted is None or v["purpose"] == wanted]
        handler._send(200, {"object": "list", "data": data, "has_more": False})
    elif method == "GET" and len(rest) == 2 and rest[1] == "content" and rest[0] in state.files:
        state.wait_if_held("content")
        handler._send_bytes(200, state.files[rest[0]]["content"])
    else:
        handler._send(404, {"error": {"message": "no such file"}})
    return True


def _batches(handler, state: BatchState, method: str, rest: list[str], body: bytes) -> bool:
    if method == "POST" and not rest:
        state.creates += 1
        if state.hold == "create-then-hold":  # created, but the client never hears of it
            state.create_batch(json.loads(body))
            state.wait_if_held("create-then-hold")
            handler._send(500, {"error": {"message": "the client has gone"}})
        elif state.wait_if_held("create"):  # never created
            handler._send(500, {"error": {"message": "not created"}})
        else:
            handler._send(200, state.create_batch(json.loads(body)))
    elif method == "GET" and not rest:
        data = [state.public(b) for b in sorted(state.batches, reverse=True)]
        handler._send(200, {"object": "list", "data": data, "has_more": False})
    elif method == "GET" and len(rest) == 1 and rest[0] in state.batches:
        handler._send(200, state.retrieve(rest[0]))
    else:
        handler._send(404, {"error": {"message": "no such batch"}})
    return True
