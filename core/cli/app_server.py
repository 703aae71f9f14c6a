"""The server process of `triage app`: it takes the database (the DuckDB lock) before
Streamlit starts, so a second app or a writing command is refused from the first second, not
from the first page view; then it serves Streamlit in this same process, on that connection.

    python -m core.cli.app_server [--demo] SCRIPT [streamlit run options]"""

from __future__ import annotations

import sys

from core.config import load_settings
from core.demo.apart import open_for_app
from core.errors import TriageError
from core.logs import setup_logging
from core.store.snapshot import install_scheduler


def main(argv: list[str] | None = None) -> int:
    """Take the database, say so, serve the app until it stops; the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    demo = bool(argv) and argv[0] == "--demo"
    streamlit_args = argv[1:] if demo else argv
    settings = load_settings()
    setup_logging(settings.resolved_log_path, settings.log_level)
    try:
        db, said = open_for_app(settings, demo)
    except TriageError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    # Before it says so: a reading command from now on finds the snapshot current, or waits
    # for the check (milliseconds) and the refresh it starts (core/store/snapshot.py).
    install_scheduler(db).refresh_soon(only_if_stale=True)
    print(f"{said}\nThe app holds {settings.db_path} until it stops: another `triage app` or a "
          "command that writes is refused (\"held by\"); reading commands read the snapshot.",
          flush=True)
    from core.ui import serve  # Streamlit only once the database is held

    return serve(db, streamlit_args)


if __name__ == "__main__":
    sys.exit(main())
