"""Files that must fail loudly, before a row is read: a file that is not text at all (by its
magic bytes: archives, Parquet read as text, images, PDF) or text in UTF-16/32 (by its
byte-order mark) gets one sentence naming what it is, never its bytes. And a CSV quote that
swallows rows is named with the line where it opened. A single undecodable line in a text
file is not this: it stays a rejected row."""

from __future__ import annotations

from pathlib import Path

from core.errors import ImportFailed

# (leading bytes, what the file is, what to do); longer prefixes first where they overlap.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xfe\x00\x00", "UTF-32 text (by its byte-order mark)",
     "save it as UTF-8 (e.g. `iconv -f UTF-32 -t UTF-8`) and import that"),
    (b"\x00\x00\xfe\xff", "UTF-32 text (by its byte-order mark)",
     "save it as UTF-8 (e.g. `iconv -f UTF-32 -t UTF-8`) and import that"),
    (b"\xff\xfe", "UTF-16 text (by its byte-order mark)",
     "save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`) and import that"),
    (b"\xfe\xff", "UTF-16 text (by its byte-order mark)",
     "save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`) and import that"),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it (`gunzip`) and import the result"),
    (b"PK\x03\x04", "a zip archive (or an Excel/Office file, which is one)",
     "extract the file (or export the sheet as CSV) and import that"),
    (b"PK\x05\x06", "an empty zip archive", "extract the file you meant and import that"),
    (b"BZh", "a bzip2-compressed file", "decompress it (`bunzip2`) and import the result"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it (`unxz`) and import the result"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", "decompress it (`unzstd`) and import the result"),
    (b"PAR1", "a Parquet file", "import it with --format parquet (or name it .parquet)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "export the transcripts as JSONL, CSV or Parquet"),
    (b"\xff\xd8\xff", "a JPEG image", "export the transcripts as JSONL, CSV or Parquet"),
    (b"GIF87a", "a GIF image", "export the transcripts as JSONL, CSV or Parquet"),
    (b"GIF89a", "a GIF image", "export the transcripts as JSONL, CSV or Parquet"),
    (b"%PDF-", "a PDF document", "export the transcripts as JSONL, CSV or Parquet"),
)
_PARQUET_READERS = ("auto", "parquet", "langsmith")  # formats that may read a PAR1 file


def file_kind(head: bytes) -> tuple[str, str] | None:
    """(what the file is, what to do) when its first bytes say it is not UTF-8 text."""
    for magic, what, fix in _MAGIC:
        if head.startswith(magic):
            return what, fix
    return None


def refuse_non_text(path: Path, fmt: str) -> None:
    """ImportFailed, in one sentence, when the file cannot be read as `fmt` at all: a binary
    file by its magic bytes, or UTF-16/32 by its byte-order mark (a Parquet file is fine for
    the formats that read Parquet)."""
    with path.open("rb") as f:
        head = f.read(8)
    kind = file_kind(head)
    if kind is None or (head.startswith(b"PAR1") and fmt in _PARQUET_READERS):
        return
    what, fix = kind
    if what.startswith("UTF"):
        raise ImportFailed(f"{path.name} is {what}, and imports read UTF-8 text only: {fix}; "
                           "nothing was imported")
    as_fmt = "" if fmt == "auto" else f" ({fmt.upper()})"
    raise ImportFailed(f"{path.name} is {what}, not a text file of transcripts{as_fmt}: {fix}; "
                       "nothing was imported")


def count_lines(path: Path) -> int:
    """Physical lines in a text file (a last line without a newline counts)."""
    n, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _rows_after(path: Path, line: int, until: int | None) -> int:
    """Non-blank physical lines after `line`, up to `until` (the end of the file if None)."""
    n = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if until is not None and number > until:
                break
            if number > line and raw.strip():
                n += 1
    return n


def _rows(n: int) -> str:
    return "1 row" if n == 1 else f"{n:,} rows"


def csv_quote_error(path: Path, opened: int, stopped: int, reason: str) -> ImportFailed:
    """The file-level error for a CSV record that the strict reader could not finish: it
    began on line `opened`, the reader gave up on line `stopped` (csv's own `reason`)."""
    name = path.name
    if "unexpected end of data" in reason:
        swallowed = _rows_after(path, opened, None)
        what = (f" and swallows what look like {_rows(swallowed)}" if swallowed else "")
        return ImportFailed(f"{name}: line {opened}: a quoted field opened here never closes"
                            f"{what}; fix the quote (nothing was imported)")
    if "expected after" in reason and stopped > opened:
        swallowed = _rows_after(path, opened, stopped)
        return ImportFailed(f"{name}: line {opened}: a quoted field opened here swallows what "
                            f"look like {_rows(swallowed)} (it closes on line {stopped}, followed "
                            "by more text); fix the quote (nothing was imported)")
    if "expected after" in reason:
        return ImportFailed(f"{name}: line {opened}: a quoted field closes and is followed by "
                            'more text ("…" here); quote the whole cell and double the quotes '
                            'inside it ("") (nothing was imported)')
    return ImportFailed(f"{name}: line {opened}: not valid CSV ({reason}); nothing was imported")
