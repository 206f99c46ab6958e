"""An analyst's SQL script on the archive (``relnews sql``): its statements run in order,
and each one that answers rows gives them back as DuckDB itself writes its values, so
that a query's own ``round()``, a DECIMAL's scale or a timestamp read the same here as
in the DuckDB shell."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import duckdb

from warehouse.database import WarehouseError

#: How the values come back: ``text``, each value cast to VARCHAR (DuckDB's own text of
#: every type; NULL stays None); ``json``, each row as one JSON object written by
#: DuckDB's ``to_json`` (a JSON column stays JSON, a list a list, a struct an object).
Rendering = Literal["text", "json"]

#: What a column holds, by its DuckDB type id: ``number`` (a table aligns it right),
#: ``value`` (a date, time, interval, UUID, boolean or bit string: text DuckDB writes,
#: never the web's), or, for any other type, ``text``.
Kind = Literal["number", "value", "text"]
KINDS: dict[str, Kind] = {
    **dict.fromkeys(
        ("tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint",
         "uinteger", "ubigint", "uhugeint", "float", "double", "decimal", "bignum"),
        "number"),
    **dict.fromkeys(
        ("date", "time", "time with time zone", "time_ns", "timestamp", "timestamp with time zone",
         "timestamp_s", "timestamp_ms", "timestamp_ns", "interval", "uuid", "boolean", "bit"),
        "value"),
}  # fmt: skip


class EmptyScript(WarehouseError):
    """The script holds no statement (nothing, or comments only)."""


@dataclass(frozen=True)
class StatementRows:
    """The rows one statement answered.

    ``types``: each column's DuckDB type (``INTEGER``, ``DECIMAL(9,2)``...); ``kinds``:
    what each holds (:data:`KINDS`). ``rows``: one tuple of texts per row (``text``), or one
    1-tuple holding the row's JSON object (``json``).
    """

    columns: list[str]
    types: list[str]
    kinds: list[Kind]
    rows: list[tuple[str | None, ...]]


def run_script(
    con: duckdb.DuckDBPyConnection,
    script: str,
    rendering: Rendering = "text",
    timeout: float | None = None,
) -> Iterator[StatementRows]:
    """Run every statement of ``script`` in order on ``con``, yielding the rows of each
    one that answers rows (queries, SHOW, DESCRIBE, PRAGMA, EXPLAIN, ... RETURNING) as
    soon as it has run; not the bare "Count" of a statement that changes rows, nor the
    nothing of SET.

    The whole script is parsed before any statement runs (a syntax error runs nothing).
    ``timeout``: seconds after which the running statement is interrupted (DuckDB raises
    ``InterruptException``); one limit for the whole script.

    Raises
    ------
    EmptyScript
        When the script holds no statement.
    """
    statements = con.extract_statements(script)
    if not statements:
        raise EmptyScript("the SQL holds no statement (only blanks or comments)")
    done = threading.Event()
    if timeout:
        threading.Thread(target=_interrupt_after, args=(con, timeout, done), daemon=True).start()
    try:
        for statement in statements:
            relation = con.sql(statement)
            if relation is not None and _answers_rows(statement, relation.columns):
                yield _rows_of(relation, rendering)
    finally:
        done.set()


def _interrupt_after(con: duckdb.DuckDBPyConnection, seconds: float, done: threading.Event) -> None:
    # DuckDB forgets an interrupt that comes between two statements: keep interrupting
    # until the script ends.
    if done.wait(seconds):
        return
    while True:
        con.interrupt()
        if done.wait(0.05):
            return


def _answers_rows(statement: duckdb.Statement, columns: list[str]) -> bool:
    expected = statement.expected_result_type
    if duckdb.ExpectedResultType.QUERY_RESULT not in expected:
        return False  # SET, PREPARE, BEGIN...
    # INSERT, UPDATE, DELETE, CREATE answer a count of changed rows, unless RETURNING
    return not (duckdb.ExpectedResultType.CHANGED_ROWS in expected and columns == ["Count"])


def _rows_of(relation: duckdb.DuckDBPyRelation, rendering: Rendering) -> StatementRows:
    types = [str(column_type) for column_type in relation.types]
    kinds = [KINDS.get(column_type.id, "text") for column_type in relation.types]
    if rendering == "json":
        # the row as a struct (duplicate column names become name_1...), named apart from
        # every column, which would stand first
        taken = {column.lower() for column in relation.columns}
        alias = next(f"row_{n}" for n in range(len(taken) + 1) if f"row_{n}" not in taken)
        rows = relation.set_alias(alias).select(f"to_json({alias})").fetchall()
    elif relation.columns:
        rows = relation.select("CAST(COLUMNS(*) AS VARCHAR)").fetchall()
    else:
        rows = []
    return StatementRows(list(relation.columns), types, kinds, rows)
