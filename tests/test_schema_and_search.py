"""`relnews schema` (the schema page written from the archive's own comments) and
`relnews search` (offline full-text search) as an analyst runs them; the search's query
syntax, snippets and kept index in test_search.py."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from conftest import ROOT, run_relnews
from warehouse import connect
from warehouse.schema_doc import undescribed


def test_docs_schema_page_is_the_one_a_new_archive_prints():
    page = (ROOT / "docs" / "schema.md").read_text("utf-8")
    printed = run_relnews("schema", "--new").stdout
    assert page == printed, "docs/schema.md is stale: run `relnews schema --new > docs/schema.md`"
    assert "### `related_links` (table)" in page and "### `current_links` (view)" in page


def test_every_table_view_and_column_of_a_new_archive_is_described(tmp_path: Path):
    con = connect(tmp_path / "new.duckdb")
    try:
        assert undescribed(con) == []
        columns = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE NOT internal AND schema_name = 'main'"
        ).fetchone()[0]
    finally:
        con.close()
    page = run_relnews("schema", "--db", str(tmp_path / "new.duckdb")).stdout
    assert page == run_relnews("schema", "--new").stdout
    # one table row per column, none of them without a description
    assert page.count("\n| `") == columns
    assert "(no description)" not in page


def test_schema_of_a_missing_archive_is_a_clean_error(tmp_path: Path):
    result = run_relnews("schema", "--db", str(tmp_path / "none.duckdb"), check=False)
    assert result.returncode == 1
    assert "no archive at" in result.stderr and "Traceback" not in result.stderr


def test_a_title_word_finds_its_article_first(crawled_demo):
    db, _ = crawled_demo
    con = duckdb.connect(str(db), read_only=True)
    try:
        titled = con.execute(
            "SELECT url FROM latest_articles WHERE gone_at IS NULL"
            " AND lower(title) LIKE '%cortisol%'"
        ).fetchall()
        mentioned = con.execute(
            "SELECT count(*) FROM latest_articles WHERE gone_at IS NULL"
            " AND lower(title || ' ' || coalesce(lead, '') || ' ' || coalesce(body, ''))"
            " LIKE '%cortisol%'"
        ).fetchone()[0]
    finally:
        con.close()
    # One title holds the word, several texts do: the search has to rank, not just filter.
    assert len(titled) == 1 and mentioned >= 5
    result = run_relnews("search", "Cortisol", "-k", "5", "--format", "json", "--db", str(db))
    hits = json.loads(result.stdout)
    assert hits[0]["url"] == titled[0][0]
    assert [hit["rank"] for hit in hits] == [1, 2, 3, 4, 5]
    assert all("[cortisol]" in hit["snippet"].lower() for hit in hits)
    assert hits[0]["score"] > hits[1]["score"]


def test_search_folds_accents_and_prints_a_table(crawled_demo):
    db, _ = crawled_demo
    con = duckdb.connect(str(db), read_only=True)
    try:
        titled = {
            url
            for (url,) in con.execute(
                "SELECT url FROM latest_articles WHERE lower(title) LIKE '%phytostérol%'"
            ).fetchall()
        }
    finally:
        con.close()
    assert len(titled) == 2
    # typed without its accent, as a search box gets it
    plain = json.loads(
        run_relnews("search", "phytosterols", "-k", "2", "--format", "json", "--db", str(db)).stdout
    )
    assert {hit["url"] for hit in plain} == titled
    table = run_relnews("search", "Phytostérols", "-k", "2", "--db", str(db)).stdout
    assert table.splitlines()[0].split() == [
        "rank", "title", "url", "published", "rubrique", "score", "snippet"
    ]  # fmt: skip
    assert all(url in table for url in titled)
