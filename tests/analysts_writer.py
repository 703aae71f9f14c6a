"""An app-like writer for the lock tests, run as a real subprocess:
`python -m tests.analysts_writer DB INTERVAL`. It holds the live database, writes labels in a
loop with the snapshot scheduler installed (as the app does), until a line arrives on stdin.
Prints `ready`, then at the end `done N R F`: labels whose save returned, snapshot
refreshes written, refreshes failed."""

from __future__ import annotations

import sys
import threading

from core.store.annotations import NewAnnotation, add_annotation
from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.store.snapshot import install_scheduler
from core.taxonomy import load_taxonomy
from tests.conftest import add_transcripts, make_record


def main(db_path: str, interval: float) -> None:
    db = connect(db_path)
    taxonomy = load_taxonomy("default")
    register_taxonomy(db, taxonomy)
    add_transcripts(db, [make_record(i) for i in range(50)])
    scheduler = install_scheduler(db, lambda: interval)
    scheduler.refresh_now()
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    print("ready", flush=True)
    saved = 0
    while not stop.is_set():
        add_annotation(db, NewAnnotation(
            transcript_id=f"t{saved % 50}", annotator=f"r{saved // 50}",
            primary_label=taxonomy.keys[saved % len(taxonomy.keys)],
            taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version), taxonomy.keys)
        saved += 1
        stop.wait(0.01)  # reviewers label at human speed; leave the shared CPU to the readers
    scheduler.cancel()
    scheduler.refresh_now()
    print(f"done {saved} {scheduler.refreshes} {scheduler.failures}", flush=True)
    sys.stdin.readline()  # hold the file until the test has checked `triage snapshot`
    db.close()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
