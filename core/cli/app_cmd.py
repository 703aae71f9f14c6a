"""`triage app` (open the app: the team's database, or the demo in a database of its own) and
`triage demo` (load the demo into its own database, or remove it from an older one)."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import signal
import subprocess
import sys
from pathlib import Path

from core.cli.common import add_command, refresh_snapshot
from core.config import Settings, child_environment
from core.demo import load_demo
from core.demo.apart import DEMO_DB_NAME, app_database, demo_target, open_for_app
from core.errors import NotFound, TriageError
from core.store.connection import connect
from core.store.demo_rows import remove_demo_rows
from core.taxonomy import load_taxonomy


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "app", "Open the Triage app: the database named by --db / TRIAGE_DB, "
                    "else ./triage.duckdb once it is in use, else the bundled demo in a database "
                    f"of its own ({DEMO_DB_NAME} beside it).",
                    "triage --db team.duckdb app --port 8502 -- --theme.base dark")
    p.add_argument("--port", type=int, metavar="PORT", help="port to serve on (Streamlit's default 8501)")
    p.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                   help="address to listen on (default 127.0.0.1: this machine only). Another "
                        "address shares the app: without OIDC, typed names are then unverified "
                        "and get no analyst or admin powers (README: Sharing the app)")
    p.add_argument("streamlit_args", nargs=argparse.REMAINDER, metavar="-- ARGS",
                   help="anything after -- is passed to `streamlit run`")
    p.set_defaults(func=_app)
    d = add_command(sub, "demo", "Load the bundled demo (300 transcripts with synthetic labels) "
                    f"into its own database ({DEMO_DB_NAME} unless --db names one that holds "
                    "no other transcripts), or --remove it from a database.",
                    "triage --db triage.duckdb demo --remove")
    d.add_argument("--remove", action="store_true",
                   help="delete every demo row (transcripts, labels, pre-labels, samples, batches, "
                        "settings it set) from the database (--db, else ./triage.duckdb), in one "
                        "transaction")
    d.set_defaults(func=_demo)


def app_script() -> Path:
    """Where the installed triage_app.py is."""
    spec = importlib.util.find_spec("triage_app")
    if spec is None or not spec.origin:
        raise TriageError("triage_app.py is not installed with this package; reinstall Triage")
    return Path(spec.origin)


def streamlit_command(script: Path, port: int | None, extra: list[str],
                      host: str = "127.0.0.1", demo: bool = False) -> list[str]:
    """The server's command line: core/cli/app_server.py (which takes the database first),
    then `streamlit run`'s arguments: headless, no usage statistics, listening on `host`, and
    a fixed address to print (else headless Streamlit asks a web service for this machine's
    external IP)."""
    cmd = [sys.executable, "-m", "core.cli.app_server", *(["--demo"] if demo else []),
           str(script), "--server.headless", "true", "--server.address", host,
           "--browser.gatherUsageStats", "false", "--browser.serverAddress", "localhost",
           "--client.toolbarMode", "minimal"]
    if port is not None:
        cmd += ["--server.port", str(port)]
    return cmd + [a for i, a in enumerate(extra) if not (i == 0 and a == "--")]


def prepare_database(settings: Settings, demo: bool = False) -> str:
    """Open the database once for writing, load the demo into it when it is the demo's own
    (`demo`); returns what happened, in one line. AppAlreadyRunning when another process
    holds the file."""
    db, said = open_for_app(settings, demo)
    db.close()
    return said


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
    # Which database to serve (the demo apart) is decided here, once; the server gets its path.
    served = app_database(settings)
    settings = dataclasses.replace(settings, db_path=served.path, db_given=True)
    # The server process takes the database before Streamlit starts (core/cli/app_server.py).
    cmd = streamlit_command(app_script(), args.port, args.streamlit_args, args.host, served.demo)
    code = run_child(cmd, child_environment(settings))
    return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else 2


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    if args.remove:
        return _remove_demo(settings)
    db = connect(demo_target(settings))
    try:
        summary = load_demo(db, load_taxonomy("default"))
    finally:
        db.close()
    print(summary.message() if summary.loaded else
          f"The demo is already loaded in {db.path}; nothing to do.")
    return 0


def _remove_demo(settings: Settings) -> int:
    if not settings.db_path.exists():
        raise NotFound(f"no database at {settings.db_path}; nothing to remove")
    db = connect(settings.db_path)
    try:
        print(remove_demo_rows(db).message(str(settings.db_path)))
        refresh_snapshot(db)  # the analysts' copy must not keep the demo either
    finally:
        db.close()
    return 0
