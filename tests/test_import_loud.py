"""Inputs that fail loudly (issue 15.5): a CSV quote that swallows rows is named with the line
where it opened; a file that is not UTF-8 text gets one sentence, never its bytes; nothing is
written. Well-formed multi-line quoted fields and CRLF files stay valid."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.ingest_helpers import cli, count
from tests.seed_helpers import app

HEADER = "id,user,assistant\n"
ROWS = "".join(f"r{i},question {i},answer {i}\n" for i in range(1, 8))
RECORD = json.dumps({"id": "t1", "messages": [{"role": "user", "content": "hi"}]}) + "\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\xff\xfe\x80"


def nothing_written(tmp_path, db_path) -> bool:
    rejects = tmp_path / "rejects"
    return (count(db_path) == 0 and count(db_path, "SELECT count(*) FROM import_batches") == 0
            and not (rejects.exists() and any(rejects.iterdir())))


def test_open_quote_names_its_line_and_the_rows_it_swallows(tmp_path, db_path, capsys):
    lines = ROWS.splitlines(keepends=True)
    lines[2] = 'r3,"never closed,answer 3\n'  # line 4 of the file, 4 rows after it
    (tmp_path / "open.csv").write_text(HEADER + "".join(lines))
    code, out, err = cli(capsys, db_path, "import", str(tmp_path / "open.csv"))
    assert (code, out) == (2, "")
    assert err == ("error: open.csv: line 4: a quoted field opened here never closes and "
                   "swallows what look like 4 rows; fix the quote (nothing was imported)\n")
    assert nothing_written(tmp_path, db_path)


def test_quote_that_closes_rows_later_names_both_lines(tmp_path, db_path, capsys):
    lines = ROWS.splitlines(keepends=True)
    lines[1] = 'r2,"oops,answer 2\n'
    lines[4] = 'r5,"quoted" text,answer 5\n'
    (tmp_path / "pair.csv").write_text(HEADER + "".join(lines))
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "pair.csv"))
    assert code == 2
    assert ("pair.csv: line 3: a quoted field opened here swallows what look like 3 rows "
            "(it closes on line 6, followed by more text); fix the quote") in err
    assert nothing_written(tmp_path, db_path)


def test_stray_quote_followed_by_text(tmp_path, db_path, capsys):
    (tmp_path / "stray.csv").write_text(HEADER + 'a,"hello" here,ok\nb,hi,ok\n')
    code, _, err = cli(capsys, db_path, "import", str(tmp_path / "stray.csv"))
    assert code == 2
    assert 'stray.csv: line 2: a quoted field closes and is followed by more text ("…" here)' in err
    assert nothing_written(tmp_path, db_path)


def test_crlf_and_multiline_quoted_fields_stay_valid(tmp_path, db_path, capsys):
    data = (HEADER + 'a,"first line\nsecond, with ""quotes""",ok\n\nb,hi,ok\n').replace("\n", "\r\n")
    (tmp_path / "ok.csv").write_bytes(data.encode())
    code, out, _ = cli(capsys, db_path, "import", str(tmp_path / "ok.csv"))
    assert code == 0
    assert "rows read           2  (from 5 lines in the file, header included)" in out
    stored = count(db_path, "SELECT messages FROM transcripts WHERE transcript_id = 'a'")
    assert json.loads(stored)[0]["content"] == 'first line\r\nsecond, with "quotes"'


@pytest.mark.parametrize(("name", "data", "sentence"), [
    ("logs.jsonl", RECORD.encode("utf-16"), "logs.jsonl is UTF-16 text (by its byte-order mark), "
     "and imports read UTF-8 text only: save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`) and "
     "import that; nothing was imported"),
    ("logs.jsonl", gzip.compress(RECORD.encode()), "logs.jsonl is a gzip-compressed file, not a "
     "text file of transcripts: decompress it (`gunzip`) and import the result; nothing was "
     "imported"),
    ("shot.csv", PNG, "shot.csv is a PNG image, not a text file of transcripts: export the "
     "transcripts as JSONL, CSV or Parquet; nothing was imported"),
])
def test_a_file_that_is_not_utf8_text_gets_one_sentence(tmp_path, db_path, capsys, name, data,
                                                        sentence):
    (tmp_path / name).write_bytes(data)
    code, out, err = cli(capsys, db_path, "import", str(tmp_path / name))
    assert (code, out, err) == (2, "", f"error: {sentence}\n")  # never the file's bytes
    assert nothing_written(tmp_path, db_path)


def test_jsonl_summary_shows_lines_beside_rows(tmp_path, db_path, capsys):
    (tmp_path / "a.jsonl").write_text(RECORD + "\n")
    code, out, _ = cli(capsys, db_path, "import", str(tmp_path / "a.jsonl"))
    assert code == 0 and "rows read           1  (from 2 lines in the file)" in out


def test_import_page_refuses_a_gzip_upload_and_stores_nothing(db, db_path, monkeypatch):
    at = app("pages/import.py", db_path, "ann", monkeypatch).run()
    data = gzip.compress(RECORD.encode())
    at.file_uploader(key="import_file").set_value(("logs.jsonl", data, "application/jsonl")).run()
    assert [e.value for e in at.error] == [
        "logs.jsonl is a gzip-compressed file, not a text file of transcripts: decompress it "
        "(`gunzip`) and import the result; nothing was imported"]
    assert "import_confirm" not in [b.key for b in at.button]  # no way to import it
    assert db.con.execute("SELECT count(*) FROM import_batches").fetchone() == (0,)
    assert db.con.execute("SELECT count(*) FROM transcripts").fetchone() == (0,)
