"""A real HTTP server on 127.0.0.1 answering the endpoints the official Langfuse and LangSmith
SDK clients call for a live pull, with the SDKs' own models; it records every request."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from langfuse.api import ObservationsV2Response, ObservationV2
from langfuse.api.core.jsonable_encoder import jsonable_encoder
from langfuse.api.core.pydantic_utilities import parse_obj_as
from langsmith.schemas import TracerSessionResult

PUBLIC_KEY, SECRET_KEY, API_KEY = "pk-lf-test", "sk-lf-SECRET-123", "lsv2_SECRET_456"
PROJECT_ID = uuid.UUID(int=7)


def _when(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class TraceService:
    """What the fake service holds: observations, runs, and every request it was sent."""

    def __init__(self, page_size: int = 2) -> None:
        self.observations: list[dict] = []
        self.runs: list[dict] = []
        self.page_size = page_size
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def observation_page(self, query: dict[str, str]) -> dict:
        items = self.observations
        since = query.get("fromStartTime")
        for cond in json.loads(query.get("filter") or "[]"):
            if cond["column"] == "startTime":
                since = cond["value"]
            elif cond["column"] == "tags":
                items = [o for o in items if set(cond["value"]) <= set(o.get("tags") or [])]
            elif cond["column"] == "traceName":
                items = [o for o in items if o.get("traceName") == cond["value"]]
        if since:
            items = [o for o in items if _when(o["startTime"]) >= _when(since)]
        offset = int(query.get("cursor") or 0)
        page = items[offset:offset + self.page_size]
        more = offset + self.page_size < len(items)
        response = parse_obj_as(ObservationsV2Response, {
            "data": page, "meta": {"cursor": str(offset + self.page_size) if more else None}})
        assert all(isinstance(o, ObservationV2) for o in response.data)
        return jsonable_encoder(response)

    def runs_page(self, body: dict) -> dict:
        items = [r for r in self.runs if str(PROJECT_ID) in (body.get("session") or [])]
        if body.get("start_time"):
            items = [r for r in items if _when(r["start_time"]) >= _when(body["start_time"])]
        offset = int(body.get("cursor") or 0)
        selected = set(body.get("select") or []) | {"id"}  # the API answers the fields asked for
        page = [{k: v for k, v in r.items() if k in selected}
                for r in items[offset:offset + self.page_size]]
        more = offset + self.page_size < len(items)
        return {"runs": page, "cursors": {"next": str(offset + self.page_size) if more else None}}


def _handler(state: TraceService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet test output
            pass

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self, body: object = None) -> None:
            with state.lock:
                state.requests.append({"method": self.command, "path": self.path,
                                       "headers": dict(self.headers), "body": body})

        def do_GET(self) -> None:
            self._record()
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if url.path == "/api/public/v2/observations":
                expected = base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._send(401, {"message": "Invalid credentials"})
                return self._send(200, state.observation_page(query))
            if url.path == "/sessions":
                if self.headers.get("x-api-key") != API_KEY:
                    return self._send(401, {"detail": "Invalid token"})
                if query.get("name") != "support-prod":
                    return self._send(200, [])
                session = TracerSessionResult(id=PROJECT_ID, name="support-prod",
                                              start_time=datetime(2026, 1, 1, tzinfo=UTC),
                                              tenant_id=uuid.UUID(int=1),
                                              reference_dataset_id=None)
                return self._send(200, [json.loads(session.model_dump_json())])
            if url.path == "/info":
                return self._send(200, {"version": "0.10.100"})
            return self._send(404, {"detail": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            self._record(body)
            if self.path == "/runs/query":
                if self.headers.get("x-api-key") != API_KEY:
                    return self._send(401, {"detail": "Invalid token"})
                return self._send(200, state.runs_page(body))
            return self._send(404, {"detail": "not found"})

    return Handler


@contextlib.contextmanager
def serve(state: TraceService):
    """Serve `state` on a free 127.0.0.1 port; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
