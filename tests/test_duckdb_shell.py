"""The DuckDB command-line shell from PyPI (duckdb-cli 1.x, which reads storage versions
64-68 only) opens the archive `relnews demo` writes, and the copy `relnews export-db`
makes of an archive written in DuckDB 2's own format, and reads in them what DuckDB's
Python package reads."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import run_relnews
from warehouse.database import apply_migrations

SHELL = shutil.which("duckdb")

pytestmark = pytest.mark.skipif(
    SHELL is None,
    reason="no `duckdb` shell on PATH: `pip install duckdb-cli` (in the test extras) gives it",
)

#: A table, two views and a macro an analyst starts with.
COUNTS = {
    "articles": "SELECT count(*) FROM articles",
    "current_links": "SELECT count(*) FROM current_links",
    "latest_articles rubriques": "SELECT count(DISTINCT rubrique) FROM latest_articles",
    # a table macro: every link of the first crawl appeared since "run 0"
    "link_changes": "SELECT count(*) FROM link_changes(0, 1) WHERE change = 'appeared'",
}


def shell(db: Path, query: str) -> subprocess.CompletedProcess:
    """``duckdb -readonly DB -c QUERY``, as an analyst types it, printing bare CSV."""
    assert SHELL is not None
    return subprocess.run(
        [SHELL, "-readonly", "-csv", "-noheader", str(db), "-c", query],
        capture_output=True,
        text=True,
        timeout=120,
    )


def python_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(query).fetchone()[0] for name, query in COUNTS.items()}
    finally:
        con.close()


def shell_counts(db: Path) -> dict[str, int]:
    counts = {}
    for name, query in COUNTS.items():
        result = shell(db, query)
        assert result.returncode == 0, result.stderr
        counts[name] = int(result.stdout.strip())
    return counts


def test_the_shell_opens_the_archive_relnews_demo_writes(tmp_path: Path):
    db = tmp_path / "relnews-demo.duckdb"
    run_relnews("demo", "--port", "0", "--db", str(db))
    expected = python_counts(db)
    assert expected["articles"] >= 300 and expected["current_links"] >= 1000
    assert expected["link_changes"] >= 1000
    assert shell_counts(db) == expected
    version = shell(db, "SELECT version()")
    assert version.stdout.strip().startswith("v1."), version.stdout  # a 1.x shell indeed


def archive_in_latest_storage(path: Path, rows_from: Path) -> None:
    """A relnews archive written in this DuckDB's own storage format (as relnews wrote
    them before archives were created in v1.0.0), holding the rows of ``rows_from``."""
    con = duckdb.connect(str(path), config={"storage_compatibility_version": "latest"})
    try:
        apply_migrations(con)
        quoted = str(rows_from).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS source (READ_ONLY)")
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ?"
            " AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'",
            [path.stem],
        ).fetchall()
        for (table,) in tables:
            con.execute(f'INSERT INTO main."{table}" BY NAME SELECT * FROM source.main."{table}"')
        con.execute("DETACH source")
    finally:
        con.close()


def test_export_db_copies_a_newer_archive_for_the_shell(crawled_demo, tmp_path: Path):
    source, _ = crawled_demo
    newer = tmp_path / "newer.duckdb"
    archive_in_latest_storage(newer, source)
    expected = python_counts(newer)
    assert expected == python_counts(source)

    refused = shell(newer, "SELECT count(*) FROM articles")
    assert refused.returncode != 0
    assert "version number" in refused.stderr and "64" in refused.stderr

    copy = tmp_path / "copy.duckdb"
    result = run_relnews("export-db", str(copy), "--db", str(newer))
    assert "storage version v1.0.0" in result.stdout
    assert shell_counts(copy) == expected
    # still a relnews archive: the CLI reads it as it read the original
    total = run_relnews("sql", "SELECT count(*) AS n FROM link_graph", "--format", "csv",
                        "--db", str(copy))  # fmt: skip
    assert total.stdout.split() == ["n", str(count(source, "SELECT count(*) FROM link_graph"))]


def test_export_db_will_not_overwrite_a_file(crawled_demo, tmp_path: Path):
    source, _ = crawled_demo
    taken = tmp_path / "taken.duckdb"
    taken.write_bytes(b"someone's file")
    result = run_relnews("export-db", str(taken), "--db", str(source), check=False)
    assert result.returncode == 1 and "exists already" in result.stderr
    assert taken.read_bytes() == b"someone's file"


def count(db: Path, query: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query).fetchone()[0]
    finally:
        con.close()
