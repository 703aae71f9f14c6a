"""Logging: tracebacks go to a log file, never to the user."""

from __future__ import annotations

import logging
import re
from pathlib import Path

_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@?#]*@")


def redact_url(url: str | None) -> str | None:
    """A URL fit to log or show: any credentials in it replaced by *** (`http://***@host/v1`)."""
    if not url:
        return url
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}***@", url)

_configured: set[Path] = set()


def setup_logging(path: Path, level: str = "INFO") -> None:
    """Send the `triage` logger to a file (once per path). Users see messages, logs keep details."""
    path = path.resolve()
    if path in _configured:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("triage")
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    _configured.add(path)
