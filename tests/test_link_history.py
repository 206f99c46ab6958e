"""Link history on the demo site: a related link's first and last sighting move only with
crawls that read its source page, a reanalysis records its sightings apart, and
link_changes(a, b) lists the links that appeared and disappeared between two crawls."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import duckdb

from conftest import run_relnews
from demosite.content import RelatedItem
from warehouse import connect
from warehouse.database import migrations


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def sql_rows(db: Path, sql: str) -> list[dict]:
    """``relnews sql`` as an analyst runs it, rows as JSON objects."""
    return json.loads(run_relnews("sql", sql, "--format", "json", "--db", str(db)).stdout)


def test_links_appear_and_disappear_between_crawls_and_reanalysis_moves_nothing(
    crawled_demo, editable_demo, tmp_path: Path
):
    server = editable_demo
    db = tmp_path / "news.duckdb"
    shutil.copy2(crawled_demo[0], db)
    site, base = server.site, server.base_url
    # One article's related block loses its first link to a newcomer.
    changed = next(a for a in site.articles if len(a.related) >= 3)
    removed = changed.related[0]
    newcomer = next(
        a for a in site.articles
        if a is not changed and a.path not in {item.path for item in changed.related}
    )  # fmt: skip
    edited = dataclasses.replace(
        changed, related=(RelatedItem(newcomer.path, newcomer.title), *changed.related[1:])
    )
    server.site = dataclasses.replace(
        site, articles=tuple(edited if a is changed else a for a in site.articles)
    )
    source = base + changed.path
    (first_crawl,) = query(db, "SELECT max(run_id) FROM crawl_runs")[0]

    # Every page asked again (unchanged ones answer 304, still a crawl's reading).
    run_relnews("crawl", "--profile", "demo", "--url", server.url, "--revisit-days", "0",
                "--db", str(db), check=False)  # fmt: skip
    (second_crawl,) = query(db, "SELECT max(run_id) FROM crawl_runs")[0]
    assert second_crawl > first_crawl

    changes = sql_rows(db, f"SELECT * FROM link_changes({first_crawl}, {second_crawl})")
    assert [(c["change"], c["source_url"], c["target_url"]) for c in changes] == [
        ("appeared", source, base + newcomer.path),
        ("disappeared", source, base + removed.path),
    ]
    assert changes[0]["target_article"] == base + newcomer.path
    assert (changes[0]["from_run"], changes[0]["to_run"]) == (first_crawl, second_crawl)
    assert sql_rows(db, f"SELECT * FROM link_changes({second_crawl}, {second_crawl})") == []

    runs = {
        target: (first, last)
        for target, first, last in query(
            db,
            "SELECT target_url, first_seen_run, last_seen_run FROM related_links"
            " WHERE source_url = ?",
            [source],
        )
    }
    assert runs[base + removed.path] == (first_crawl, first_crawl)  # last seen before
    assert runs[base + newcomer.path] == (second_crawl, second_crawl)
    assert runs[base + changed.related[1].path] == (first_crawl, second_crawl)
    current = query(
        db, "SELECT target_url FROM current_links WHERE source_url = ? ORDER BY position", [source]
    )
    assert current == [(base + item.path,) for item in edited.related]

    # A reanalysis reads every stored page again: its sightings are its own.
    history = "SELECT source_url, target_url, first_seen_run, last_seen_run FROM related_links"
    before = sorted(query(db, history))
    current_before = sorted(query(db, "SELECT source_url, target_url FROM current_links"))
    run_relnews("reanalyse", "--profile", "demo", "--db", str(db))
    (reanalysis,) = query(db, "SELECT max(run_id) FROM crawl_runs")[0]
    assert sorted(query(db, history)) == before  # no first or last sighting moved
    assert query(
        db,
        "SELECT count(*) FROM related_links WHERE first_seen_run = ? OR last_seen_run = ?",
        [reanalysis, reanalysis],
    ) == [(0,)]
    sightings = dict(
        query(db, "SELECT kind, count(*) FROM link_sightings WHERE run_id = ? GROUP BY kind",
              [reanalysis])
    )  # fmt: skip
    assert sightings == {"reanalyse": len(current_before)}
    assert sorted(query(db, "SELECT source_url, target_url FROM current_links")) == current_before
    # between two crawls, the reanalysis in between (or after) changes nothing
    assert sql_rows(db, f"SELECT * FROM link_changes({first_crawl}, {reanalysis})") == changes


def test_an_archive_from_before_link_history_keeps_its_links_and_loses_reanalysis_runs(
    crawled_demo, tmp_path: Path
):
    # An archive as relnews stored them before migration 0009: one crawl, then a
    # reanalysis that moved the links' last run of the pages it re-read.
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db), config={"storage_compatibility_version": "v1.0.0"})
    con.execute("CREATE TABLE schema_migrations (name VARCHAR PRIMARY KEY,"
                " applied_at TIMESTAMP NOT NULL DEFAULT now())")  # fmt: skip
    for name, sql in migrations():
        if name >= "0009":
            break
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations (name) VALUES (?)", [name])
    tables = [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'old'"
            " AND table_name <> 'schema_migrations'"
        ).fetchall()
    ]
    con.execute(f"ATTACH '{crawled_demo[0]}' AS crawled (READ_ONLY)")
    for table in tables:  # the columns the old schema has (later migrations add some)
        columns = ", ".join(
            name
            for (name,) in con.execute(
                "SELECT column_name FROM duckdb_columns()"
                " WHERE database_name = 'old' AND table_name = ?",
                [table],
            ).fetchall()
        )
        con.execute(f"INSERT INTO main.{table} SELECT {columns} FROM crawled.main.{table}")
    con.execute("DETACH crawled")
    (reanalysis,) = con.execute(
        "INSERT INTO crawl_runs (run_id, site, profile, started_at, status)"
        " SELECT max(run_id) + 1, 'all', 'reanalyse:demo', now(), 'finished' FROM crawl_runs"
        " RETURNING run_id"
    ).fetchone()
    reread = "(SELECT url FROM articles ORDER BY url LIMIT 100)"
    con.execute(f"UPDATE articles SET last_seen_run = ? WHERE url IN {reread}", [reanalysis])
    con.execute(f"UPDATE related_links SET last_seen_run = ? WHERE source_url IN {reread}",
                [reanalysis])  # fmt: skip
    current = sorted(con.execute("SELECT source_url, target_url FROM current_links").fetchall())
    moved = con.execute(
        "SELECT count(*) FROM related_links WHERE last_seen_run = ?", [reanalysis]
    ).fetchone()[0]
    con.close()
    assert len(current) >= 1000 and moved >= 100

    connect(db).close()  # migrates

    assert sorted(query(db, "SELECT source_url, target_url FROM current_links")) == current
    (crawl,) = query(db, "SELECT min(run_id) FROM crawl_runs")[0]
    assert query(db, "SELECT DISTINCT last_seen_run FROM related_links") == [(crawl,)]
    assert dict(query(db, "SELECT kind, count(*) FROM link_sightings GROUP BY kind")) == {
        "crawl": len(current),
        "reanalyse": moved,
    }
    assert (
        dict(query(db, "SELECT kind, count(*) FROM page_reads GROUP BY kind"))["reanalyse"] == 100
    )
    appeared = query(db, f"SELECT count(*) FROM link_changes(0, {crawl})")
    assert appeared == [(len(current),)]
