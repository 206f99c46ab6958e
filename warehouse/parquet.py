"""Every table and view of an archive as Parquet files, for the tools analysts already
have (pandas, polars, Spark, DuckDB itself): one file per table or view, named after it,
written by DuckDB's own Parquet writer (JSON columns marked with Parquet's JSON type).

Each file carries the archive's descriptions (``COMMENT ON``, :mod:`warehouse.schema_doc`)
in its Arrow schema: a column's in its field's metadata, the table's in the schema's,
under ``description`` (``pyarrow.parquet.read_schema(path).field("url").metadata``); the
table's also as the file's own ``description`` key (DuckDB: ``parquet_kv_metadata``)."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import duckdb

from warehouse.database import sql_identifier, sql_literal
from warehouse.schema_doc import Relation, relations

#: The metadata key of a description, in fields, schemas and the file.
DESCRIPTION = "description"
#: Where Arrow readers (pyarrow, pandas, polars) find a Parquet file's Arrow schema.
ARROW_SCHEMA = "ARROW:schema"


def export_parquet(con: duckdb.DuckDBPyConnection, folder: str | Path) -> dict[str, int]:
    """Write each table and view of ``con`` to ``folder/NAME.parquet`` (zstd); return the
    rows written per name. Files of the same names are replaced, nothing else is touched."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for relation in relations(con):
            target = folder / f"{relation.name}.parquet"
            select = "SELECT * FROM " + sql_identifier(relation.name)
            metadata = {ARROW_SCHEMA: _arrow_schema(con, select, relation, Path(scratch))}
            if relation.comment:
                metadata[DESCRIPTION] = relation.comment
            pairs = ", ".join(
                f"{sql_literal(key)}: {sql_literal(value)}" for key, value in metadata.items()
            )
            con.execute(
                f"COPY ({select}) TO {sql_literal(str(target))}"
                f" (FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{pairs}}})"
            )
            count = con.execute(
                f"SELECT count(*) FROM read_parquet({sql_literal(str(target))})"
            ).fetchone()
            written[relation.name] = int(count[0]) if count else 0
    return written


def _arrow_schema(
    con: duckdb.DuckDBPyConnection, select: str, relation: Relation, scratch: Path
) -> str:
    """The Arrow schema an Arrow reader derives from DuckDB's Parquet file of ``select``
    (read from an empty file DuckDB writes the same way), each field with its column's
    description; serialized as Arrow keeps it in Parquet (base64 of the IPC message)."""
    import pyarrow as pa  # the export alone needs it
    import pyarrow.parquet as pq

    empty = scratch / "empty.parquet"
    con.execute(f"COPY ({select} LIMIT 0) TO {sql_literal(str(empty))} (FORMAT parquet)")
    comments = {column.name: column.comment for column in relation.columns}
    fields = [
        # the data decides if a column is required; nullable claims nothing it may break
        field.with_nullable(True).with_metadata(
            {DESCRIPTION: comments[field.name]} if comments.get(field.name) else None
        )
        for field in pq.read_schema(empty)
    ]
    schema = pa.schema(
        fields, metadata={DESCRIPTION: relation.comment} if relation.comment else None
    )
    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")
