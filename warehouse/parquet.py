"""Every table and view of an archive as Parquet files, for the tools analysts already
have (pandas, polars, Spark, DuckDB itself): one file per table or view, named after it,
written by DuckDB's own Parquet writer."""

from __future__ import annotations

from pathlib import Path

import duckdb


def relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The archive's tables and views as ``(name, "table" or "view")``, by name."""
    rows = con.execute(
        "SELECT table_name, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END"
        " FROM information_schema.tables"
        " WHERE table_schema = 'main' AND table_catalog = current_database()"
        " ORDER BY table_name"
    ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def export_parquet(con: duckdb.DuckDBPyConnection, folder: str | Path) -> dict[str, int]:
    """Write each table and view of ``con`` to ``folder/NAME.parquet`` (zstd); return the
    rows written per name. Files of the same names are replaced, nothing else is touched."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for name, _kind in relations(con):
        target = folder / f"{name}.parquet"
        quoted = '"' + name.replace('"', '""') + '"'
        path = str(target).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM {quoted}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
        count = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()
        written[name] = int(count[0]) if count else 0
    return written
