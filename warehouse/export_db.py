"""A copy of the archive in a DuckDB storage version that older DuckDB tools open.

An archive keeps the storage version it was created in: one created by an earlier
relnews in DuckDB 2.0's own format (storage version 69) opens in no DuckDB 1.x shell.
The copy holds every table (rows, keys, indexes), view, sequence (at its current
value), macro and comment: it is a relnews archive like the original.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb

from warehouse.database import (
    STORAGE_VERSION,
    WarehouseError,
    opened,
    sql_identifier,
    sql_literal,
)

#: The name the copy is attached under while it is written.
_COPY = "relnews_copy"


def export_db(
    db: str | Path, target: str | Path, version: str = STORAGE_VERSION
) -> dict[str, str | int]:
    """Write a copy of the archive ``db`` to the new file ``target`` in DuckDB storage
    ``version`` (a DuckDB release such as "v1.0.0", or "latest": this DuckDB's own); the
    archive is opened read-only.

    Returns
    -------
    dict
        ``storage_version`` of the copy (as DuckDB names it), and how many ``tables``
        and ``views`` it holds.

    Raises
    ------
    WarehouseError
        When ``target`` exists already, or ``version`` is no DuckDB release.
    """
    target = Path(target)
    if target.exists():
        raise WarehouseError(f"{target} exists already: give the copy a new file name")
    if not target.parent.is_dir():
        raise WarehouseError(f"cannot write {target}: its folder {target.parent} does not exist")
    with opened(db, read_only=True) as con:
        source = _quoted_name(con)
        try:
            # READ_WRITE: a database attached to a read-only connection is read-only too.
            con.execute(
                f"ATTACH {sql_literal(str(target))} AS {_COPY} (READ_WRITE, STORAGE_VERSION ?)",
                [version],
            )
        except duckdb.InvalidInputException as error:
            if "not a known DuckDB version" not in str(error):
                raise
            raise WarehouseError(
                f"unknown storage version {version!r}: give a DuckDB release such as "
                f"{STORAGE_VERSION} (read by DuckDB 0.10 and later), or latest"
            ) from error
        try:
            con.execute(f"COPY FROM DATABASE {source} TO {_COPY}")
            written = _storage_version(con, _COPY)
            kinds = dict(
                con.execute(
                    "SELECT table_type, count(*) FROM information_schema.tables"
                    " WHERE table_catalog = ? GROUP BY table_type",
                    [_COPY],
                ).fetchall()
            )
            con.execute(f"DETACH {_COPY}")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DETACH {_COPY}")
            for path in (target, target.with_name(target.name + ".wal")):
                path.unlink(missing_ok=True)  # no half copy left behind
            raise
    return {
        "storage_version": written,
        "tables": int(kinds.get("BASE TABLE", 0)),
        "views": int(kinds.get("VIEW", 0)),
    }


def _quoted_name(con: duckdb.DuckDBPyConnection) -> str:
    """``con``'s own database name (DuckDB names it after the file), quoted for SQL."""
    row = con.execute("SELECT current_database()").fetchone()
    name = str(row[0]) if row else ""
    return sql_identifier(name)


def _storage_version(con: duckdb.DuckDBPyConnection, database: str) -> str:
    """The storage version the database attached as ``database`` is written in, as DuckDB
    names it ("v1.0.0+": read by that DuckDB release and later ones)."""
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = ?",
        [database],
    ).fetchone()
    return str(row[0]) if row and row[0] is not None else "unknown"
