"""What every browser test shares: Chromium's flags, a free port, waiting for Streamlit."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium tries hosts this closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _output(proc: subprocess.Popen) -> str:
    stream = proc.stdout or proc.stderr
    return stream.read() if stream else ""


def wait_healthy(proc: subprocess.Popen, base_url: str, timeout: float = 60) -> None:
    """Poll Streamlit's /_stcore/health with short requests (bounded) until it answers, or
    fail with the server's output when it exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}: {_output(proc)}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)  # not listening yet: nothing to wait on but the socket
    raise RuntimeError(f"streamlit did not become healthy at {base_url}")
