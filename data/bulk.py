"""Bulk loading with COPY: the one fast path for writing many rows from Python."""
from __future__ import annotations

from typing import IO, Sequence

from psycopg2 import sql

# psycopg2 reads the file in pieces of this size; 8 KiB (its default) costs a Python call per piece.
COPY_BUFFER = 1 << 20


def copy_rows(cur, table: str, columns: Sequence[str], rows_text_io: IO) -> int:
    """COPY CSV text (no header, empty unquoted field = NULL) into ``table``; return rows copied.

    ``table`` may be schema-qualified (``"staging.incident"``); every name is quoted as an
    identifier, never formatted into the statement.
    """
    target = sql.Identifier(*table.split("."))
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        target, sql.SQL(", ").join(sql.Identifier(c) for c in columns))
    cur.copy_expert(statement, rows_text_io, size=COPY_BUFFER)
    return cur.rowcount
