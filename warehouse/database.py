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

import duckdb


class WarehouseError(Exception):
    """A problem with the archive file that the user can act on."""


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


def connect(
    path: str | Path, read_only: bool = False, wait: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open the archive at ``path``; a writable open creates it and migrates it.

    ``wait`` is how many seconds to keep trying while another process holds the file
    (DuckDB lets one process write or several read, never both at once).

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
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as error:
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise WarehouseError(
                f"cannot open {path}: {error}. DuckDB lets one process write or many read, "
                "never both: wait for the running crawl's batch to finish and try again"
            ) from error
    if not read_only:
        apply_migrations(con)
    else:
        _check_migrated(con, path)
    return con


def _check_migrated(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    tables = {
        row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if "schema_migrations" not in tables:
        con.close()
        raise WarehouseError(f"{path} is a DuckDB file but not a relnews archive")


@contextlib.contextmanager
def opened(path: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """``connect`` as a context manager that always closes the file."""
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()
