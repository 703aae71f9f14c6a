"""A minimal OpenID Connect provider on 127.0.0.1 for testing Streamlit's st.login:
discovery, an authorize endpoint that logs one fixed user in at once, a token endpoint that
returns an RS256-signed id_token (with the nonce it was given), and the JWKS to check it."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jwt
from joserfc.jwk import RSAKey


class OIDCStub:
    """Run with `with OIDCStub(email) as stub:`; `stub.issuer` is its base URL."""

    def __init__(self, email: str, client_id: str = "triage") -> None:
        self.email, self.client_id = email, client_id
        self.key = RSAKey.generate_key(2048, parameters={"kid": "stub"})
        self.codes: dict[str, str] = {}  # code -> nonce
        self.requests: list[str] = []  # paths served, for assertions
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> OIDCStub:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def metadata(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"]}

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": "user-1", "aud": self.client_id, "iat": now,
                  "exp": now + 600, "nonce": nonce, "email": self.email, "name": "Rev Iewer"}
        return jwt.encode({"alg": "RS256", "kid": "stub"}, claims, self.key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _json(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                stub.requests.append(url.path)
                if url.path == "/.well-known/openid-configuration":
                    return self._json(stub.metadata())
                if url.path == "/jwks":
                    return self._json({"keys": [stub.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    q = dict(urllib.parse.parse_qsl(url.query))
                    code = f"code{len(stub.codes)}"
                    stub.codes[code] = q.get("nonce", "")
                    target = q["redirect_uri"] + "?" + urllib.parse.urlencode(
                        {"code": code, "state": q["state"]})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return None
                self.send_error(404)
                return None

            def do_POST(self) -> None:
                stub.requests.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path != "/token" or form.get("code") not in stub.codes:
                    self.send_error(400)
                    return
                nonce = stub.codes.pop(form["code"])
                self._json({"access_token": "at", "token_type": "Bearer", "expires_in": 600,
                            "id_token": stub.id_token(nonce)})

        return Handler
