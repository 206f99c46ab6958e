"""Every table and view of an archive as Parquet files, for the tools analysts already
have (pandas, polars, Spark, DuckDB itself): one file per table or view, named after it,
written by DuckDB's own Parquet writer."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.schema_doc import relations


def export_parquet(con: duckdb.DuckDBPyConnection, folder: str | Path) -> dict[str, int]:
    """Write each table and view of ``con`` to ``folder/NAME.parquet`` (zstd); return the
    rows written per name. Files of the same names are replaced, nothing else is touched."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for name in (relation.name for relation in relations(con)):
        target = folder / f"{name}.parquet"
        quoted = '"' + name.replace('"', '""') + '"'
        path = str(target).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM {quoted}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
        count = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()
        written[name] = int(count[0]) if count else 0
    return written
