"""`triage app` (open the app, loading the demo into an empty database) and `triage demo`."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import subprocess
import sys
from pathlib import Path

from core.cli.common import add_command
from core.config import Settings, child_environment
from core.demo import demo_present, is_empty, load_demo
from core.errors import AppAlreadyRunning, DatabaseLocked, TriageError, UsageError
from core.store.connection import Database, connect
from core.store.transcripts import count_transcripts
from core.taxonomy import load_taxonomy


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "app", "Open the Triage app (loads the bundled demo into an empty database).",
                    "triage --db team.duckdb app --port 8502 -- --theme.base dark")
    p.add_argument("--port", type=int, metavar="PORT", help="port to serve on (Streamlit's default 8501)")
    p.add_argument("streamlit_args", nargs=argparse.REMAINDER, metavar="-- ARGS",
                   help="anything after -- is passed to `streamlit run`")
    p.set_defaults(func=_app)
    d = add_command(sub, "demo", "Load the bundled demo (300 transcripts with synthetic labels).",
                    "triage --db demo.duckdb demo")
    d.add_argument("--force-into-nonempty", action="store_true",
                   help="load it even though the database already holds other transcripts")
    d.set_defaults(func=_demo)


def app_script() -> Path:
    """Where the installed triage_app.py is."""
    spec = importlib.util.find_spec("triage_app")
    if spec is None or not spec.origin:
        raise TriageError("triage_app.py is not installed with this package; reinstall Triage")
    return Path(spec.origin)


def streamlit_command(script: Path, port: int | None, extra: list[str]) -> list[str]:
    """The `streamlit run` command line: headless, no usage statistics, and a fixed address to
    print (else headless Streamlit asks a web service for this machine's external IP)."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--browser.serverAddress", "localhost",
           "--client.toolbarMode", "minimal"]
    if port is not None:
        cmd += ["--server.port", str(port)]
    return cmd + [a for i, a in enumerate(extra) if not (i == 0 and a == "--")]


def prepare_database(settings: Settings) -> str:
    """Open the database once for writing, load the demo when it is empty; returns what
    happened, in one line. AppAlreadyRunning when another process holds the file."""
    try:
        db = connect(settings.db_path)
    except DatabaseLocked as e:
        raise AppAlreadyRunning(str(settings.db_path), e.holder) from e
    try:
        if is_empty(db):
            return load_demo(db, load_taxonomy("default")).message()
        return f"Opening {settings.db_path} ({count_transcripts(db)} transcripts)."
    finally:
        db.close()


def run_child(cmd: list[str], env: dict[str, str]) -> int:
    """Run the server in the foreground; SIGTERM/SIGINT are passed on to it."""
    proc = subprocess.Popen(cmd, env=env)

    def forward(signum: int, _frame: object) -> None:
        proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _app(args: argparse.Namespace, settings: Settings) -> int:
    print(prepare_database(settings), flush=True)
    cmd = streamlit_command(app_script(), args.port, args.streamlit_args)
    code = run_child(cmd, child_environment(settings))
    return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else 2


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    db = connect(settings.db_path)
    try:
        return _load_demo_into(db, args.force_into_nonempty)
    finally:
        db.close()


def _load_demo_into(db: Database, force: bool) -> int:
    if demo_present(db):
        print("The demo is already loaded; nothing to do.")
        return 0
    n = count_transcripts(db, include_archived=True)
    if n and not force:
        raise UsageError(
            f"{db.path} already holds {n} transcripts; the demo's labels would mix into your "
            "report. Use a new database (triage --db demo.duckdb demo), or pass --force-into-nonempty.")
    print(load_demo(db, load_taxonomy("default")).message())
    return 0
