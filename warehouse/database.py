"""Opening the DuckDB file and keeping its schema up to date.

The schema changes only through the ordered, named SQL files in ``migrations/``;
each is applied in its own transaction and recorded in ``schema_migrations``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb


class WarehouseError(Exception):
    """A problem with the archive file that the user can act on."""


def one_row(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The row of a query that always returns one (an aggregate, ``RETURNING``...)."""
    row = cursor.fetchone()
    if row is None:
        raise WarehouseError("the archive answered no row where one was expected")
    return row


def sql_identifier(name: str) -> str:
    """``name`` quoted as an SQL identifier (a table, view or database name)."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """``text`` as an SQL string literal (a file path in COPY or ATTACH)."""
    return "'" + text.replace("'", "''") + "'"


def migrations() -> list[tuple[str, str]]:
    """The schema migrations as ``(name, sql)``, in the order they apply."""
    folder = resources.files("warehouse") / "migrations"
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return [(entry.name.removesuffix(".sql"), entry.read_text("utf-8")) for entry in files]


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every migration not yet recorded; return the names applied now."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL DEFAULT now())"
    )
    done = {row[0] for row in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for name, sql in migrations():
        if name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (name) VALUES (?)", [name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


#: The storage format a new archive is written in: DuckDB 2.0 writes its own (storage
#: version 69) by default, which no 1.x release opens, and the DuckDB shells analysts
#: install (duckdb-cli 1.5 reads 64-68) are 1.x. "v1.0.0" is storage version 64, the
#: oldest DuckDB 2.0 can write, read by DuckDB 0.10.0 and every release since; it
#: holds all the archive uses (JSON, lists, sequences, indexes, views, macros,
#: comments). Set when the file is created; DuckDB keeps writing the file in it.
STORAGE_VERSION = "v1.0.0"

#: DuckDB settings of a sandboxed connection (``relnews sql``): the archive and nothing
#: else: no file read or written, no ATTACH, no extension installed or loaded, and no
#: way to change that from SQL.
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


def connect(
    path: str | Path, read_only: bool = False, wait: float = 0.0, sandboxed: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the archive at ``path``; a writable open creates it (in
    :data:`STORAGE_VERSION`) and migrates it.

    ``wait`` is how many seconds to keep trying while another process holds the file
    (DuckDB lets one process write or several read, never both at once). ``sandboxed``
    (read-only opens): the connection reaches nothing but the archive (:data:`SANDBOX`).

    Raises
    ------
    WarehouseError
        When a read-only open finds no archive, or another process holds the file.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(
            f"no archive at {path}: run `relnews crawl` or `relnews demo` first, "
            "or pass --db with the right file"
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists() and path.stat().st_size > 0
    config: dict[str, str | bool | int | float | list[str]] = (
        dict(SANDBOX) if sandboxed and read_only else {}
    )
    if not read_only and not existed:
        config["storage_compatibility_version"] = STORAGE_VERSION
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config)
            break
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():  # not busy: not a DuckDB file, unreadable...
                raise WarehouseError(
                    f"cannot open {path}: {' '.join(str(error).split())}"
                ) from error
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise WarehouseError(
                f"cannot open {path}: another process holds it"
                + (f" (waited {wait:g} s)" if wait else "")
                + ". DuckDB lets one process write or many read, never both: "
                "try again once the running crawl's batch is written"
            ) from error
        except duckdb.Error as error:
            raise WarehouseError(f"cannot open {path}: {' '.join(str(error).split())}") from error
    if not read_only:
        if existed:
            _check_migrated(con, path, allow_empty=True)
        apply_migrations(con)
    else:
        _check_migrated(con, path)
    return con


def _check_migrated(con: duckdb.DuckDBPyConnection, path: Path, allow_empty: bool = False) -> None:
    """Refuse a DuckDB file that holds something other than a relnews archive (an empty
    one, with ``allow_empty``, becomes an archive)."""
    tables = {
        row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if "schema_migrations" not in tables and (tables or not allow_empty):
        con.close()
        raise WarehouseError(
            f"{path} is a DuckDB file but not a relnews archive: pass --db with another file"
        )


#: Seconds a command waits for the archive while another process holds it (a crawl
#: writing a batch, `relnews serve` looking for a new model, an analyst's query)
#: before it says so: an unattended job must not fail on a few milliseconds' overlap.
BUSY_WAIT = 30.0


@contextlib.contextmanager
def opened(
    path: str | Path, read_only: bool = False, wait: float = BUSY_WAIT
) -> Iterator[duckdb.DuckDBPyConnection]:
    """``connect`` as a context manager that always closes the file; it waits up to
    ``wait`` seconds while another process holds the file."""
    con = connect(path, read_only=read_only, wait=wait)
    try:
        yield con
    finally:
        con.close()
