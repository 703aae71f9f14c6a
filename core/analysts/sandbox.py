"""The SQL page's results as downloads: CSV (lists and structs as JSON text) and Parquet.
The query itself runs in the store (core/store/sandbox.py)."""

from __future__ import annotations

import io

import pyarrow.parquet as pq

from core.analysts.files import table_csv_bytes
from core.store.sandbox import QueryResult


def result_csv(result: QueryResult) -> bytes:
    """The result as CSV (lists and structs as JSON text)."""
    return table_csv_bytes(result.table)


def result_parquet(result: QueryResult) -> bytes:
    """The result as a Parquet file."""
    buf = io.BytesIO()
    pq.write_table(result.table, buf)
    return buf.getvalue()
