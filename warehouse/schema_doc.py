"""The archive's schema page, written from the archive's own catalog: each table and
view with its description and its columns' (``COMMENT ON``, stored by the migrations),
so that the page and the database never say different things."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from warehouse.database import apply_migrations

#: Where the page says it comes from, and how to write it again.
HEADER = """\
# The archive's schema

Every table and view of a relnews archive, with what each column means. This page is
written by `relnews schema --new` from the descriptions the archive itself holds
(`COMMENT ON`, set by the migrations in `warehouse/migrations/`): do not edit it by
hand; change the comments in a migration, then run `relnews schema --new > docs/schema.md`.
In SQL, the same descriptions are in `duckdb_tables()`, `duckdb_views()` and
`duckdb_columns()`:

```sql
SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal;
```

Times the archive records itself (fetches, crawls, sightings, fits) are UTC, stored
without a time zone.
"""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    nullable: bool
    comment: str | None


@dataclass(frozen=True)
class Relation:
    """A table or a view of the archive, with its columns in their order."""

    name: str
    kind: str  # "table" or "view"
    comment: str | None
    columns: tuple[Column, ...]


def relations(con: duckdb.DuckDBPyConnection) -> list[Relation]:
    """The archive's tables, then its views, each by name, as its catalog describes them."""
    listed = con.execute(
        "SELECT table_name, 'table', comment FROM duckdb_tables()"
        " WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"
        " UNION ALL"
        " SELECT view_name, 'view', comment FROM duckdb_views()"
        " WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"
        " ORDER BY 2, 1"
    ).fetchall()
    columns: dict[str, list[Column]] = {}
    for table, name, data_type, nullable, comment in con.execute(
        "SELECT table_name, column_name, data_type, is_nullable, comment FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"
        " ORDER BY table_name, column_index"
    ).fetchall():
        columns.setdefault(table, []).append(Column(name, data_type, bool(nullable), comment))
    return [
        Relation(name, kind, comment, tuple(columns.get(name, ())))
        for name, kind, comment in listed
    ]


def macros(con: duckdb.DuckDBPyConnection) -> list[tuple[str, tuple[str, ...], str | None]]:
    """The archive's macros (``link_changes(run_a, run_b)``...) by name, as ``(name,
    parameters, comment)``."""
    return [
        (name, tuple(parameters), comment)
        for name, parameters, comment in con.execute(
            "SELECT DISTINCT function_name, parameters, comment FROM duckdb_functions()"
            " WHERE database_name = current_database() AND schema_name = 'main'"
            " AND NOT internal AND function_type IN ('macro', 'table_macro') ORDER BY 1"
        ).fetchall()
    ]


def undescribed(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables, views (``name``), columns (``name.column``) and macros
    (``name()``) that have no description, in page order: what a migration forgot to
    comment."""
    missing = []
    for relation in relations(con):
        if not relation.comment:
            missing.append(relation.name)
        missing += [f"{relation.name}.{c.name}" for c in relation.columns if not c.comment]
    missing += [f"{name}()" for name, _, comment in macros(con) if not comment]
    return missing


def schema_markdown(con: duckdb.DuckDBPyConnection) -> str:
    """The schema page of the archive open on ``con``, as Markdown."""
    parts = [HEADER]
    found = relations(con)
    for kind, title in (("table", "Tables"), ("view", "Views")):
        parts.append(f"## {title}\n")
        for relation in (r for r in found if r.kind == kind):
            # Rows unpadded: a long description would widen every line of the table.
            rows = ["| column | type | description |", "| --- | --- | --- |"] + [
                f"| `{column.name}` | `{column.data_type}`"
                + ("" if column.nullable else " not null")
                + f" | {_cell(column.comment or '(no description)')} |"
                for column in relation.columns
            ]
            parts.append(
                f"### `{relation.name}` ({kind})\n\n"
                f"{relation.comment or '(no description)'}\n\n" + "\n".join(rows) + "\n"
            )
    found_macros = macros(con)
    if found_macros:
        parts.append("## Macros\n")
        parts += [
            f"### `{name}({', '.join(parameters)})`\n\n{comment or '(no description)'}\n"
            for name, parameters, comment in found_macros
        ]
    return "\n".join(parts)


def new_archive_markdown() -> str:
    """The schema page of a new archive: this relnews's migrations applied to an empty
    database in memory."""
    con = duckdb.connect()
    try:
        apply_migrations(con)
        return schema_markdown(con)
    finally:
        con.close()


def _cell(text: str) -> str:
    """Text that stays in its Markdown table cell (a pipe would end it)."""
    return " ".join(text.split()).replace("|", "\\|")
