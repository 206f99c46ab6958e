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
