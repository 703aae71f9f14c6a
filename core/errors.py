"""Errors a user can act on. Every message names the thing and what to do about it."""

from __future__ import annotations


def exit_code_for(rows_rejected: int, rows_applied: int) -> int:
    """PRODUCT.md's exit codes for a batch: 0 nothing rejected (duplicates only is fine),
    1 some rows rejected and the rest applied, 2 every row rejected (nothing applied)."""
    if rows_rejected and not rows_applied:
        return 2
    return 1 if rows_rejected else 0


class TriageError(Exception):
    """Base of every error Triage reports to a user (CLI message + exit code, page st.error)."""

    exit_code = 2


class UsageError(TriageError):
    """The command or its arguments cannot be carried out as given."""


class DatabaseLocked(TriageError):
    """Another process holds the DuckDB file; DuckDB lets no second process open it."""

    def __init__(self, path: str, holder: str | None, also: str | None = None) -> None:
        who = holder or "another process"
        super().__init__(
            f"{path} is held by {who}{', ' + also if also else ''}. DuckDB allows one process "
            "at a time: stop that process (for example the running `triage app`), or do this "
            "from the app."
        )
        self.path = path
        self.holder = holder


class DatabaseError(TriageError):
    """The database could not be read or written (a failing disk, a corrupt file)."""


class TaxonomyError(TriageError):
    """A taxonomy file is missing, malformed or inconsistent."""


class KeyClash(TaxonomyError):
    """Two things a page does are bound to one key (or to a key Streamlit keeps for itself)."""


class ImportFailed(TriageError):
    """Nothing could be imported: unreadable or empty file, every row rejected."""


class UnknownLabel(TriageError):
    """A label that is not a key of the active taxonomy."""

    def __init__(self, label: str, valid: list[str]) -> None:
        super().__init__(f"unknown label {label!r}; valid keys: {', '.join(valid)}")
        self.label = label


class NotFound(TriageError):
    """A named thing (transcript, sample, batch) does not exist."""


class PermissionDenied(TriageError):
    """The current user may not do this (admin actions)."""


class BrowserMissing(TriageError):
    """A headless browser is needed (PDF export) and none is installed."""


class AppAlreadyRunning(DatabaseLocked):
    """`triage app` found its database held: most likely another app is serving it."""

    def __init__(self, path: str, holder: str | None) -> None:
        super().__init__(path, holder)
        self.args = (
            f"{path} is held by {holder or 'another process'}: another `triage app` is probably "
            "running on this database. Open that one in your browser (its address is printed in "
            "its terminal), or stop it and run `triage app` again.",
        )


class ExportFailed(TriageError):
    """An export could not be produced (the browser printing the PDF failed or timed out)."""


class SnapshotHeld(DatabaseLocked):
    """`triage snapshot` while another process (the app) holds the database."""

    def __init__(self, path: str, holder: str | None) -> None:
        super().__init__(path, holder)
        self.args = (
            f"{path} is held by {holder or 'another process'}, so this command cannot read it. "
            "That app refreshes the snapshot itself after writes; to refresh it now, use the "
            "\"Refresh snapshot\" button on the app's SQL page.",
        )


class QueryRefused(TriageError):
    """The SQL page will not run this text (not one read-only query, a file access, too slow)."""


class RunInProgress(TriageError):
    """A pre-label run is already going on this database in this process."""


class DiscoveryFailed(TriageError):
    """Discovery could not finish (the embeddings endpoint failed or answered malformed data)."""


class DemoDatabase(TriageError):
    """An import into a database that holds the bundled demo: the team's transcripts would
    mix with the demo's synthetic labels. The demo lives in a database of its own."""

    def __init__(self, path: str, n_demo: int) -> None:
        super().__init__(
            f"{path} holds the bundled demo ({n_demo} transcripts with synthetic labels): "
            "importing your data here would mix it with the demo's. Import into your own "
            "database instead, e.g. `triage --db mine.duckdb import FILE` (the app: "
            "`triage --db mine.duckdb app`), or delete the demo from this one first with "
            f"`triage --db {path} demo --remove`.")
        self.path = path
