"""Crawling the demo site over real HTTP into a real DuckDB file."""

from __future__ import annotations

import re
import shutil

import duckdb
import pytest

from conftest import run_relnews
from warehouse import Reader, opened


def query(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_every_article_is_archived(crawled_demo, demo_server):
    db, result = crawled_demo
    site = demo_server.site
    urls = {row[0] for row in query(db, "SELECT url FROM articles")}
    assert urls == {demo_server.base_url + article.path for article in site.articles}
    assert "finished" in result.stdout
    # every article stored once, with a title and a body
    assert query(db, "SELECT count(*) FROM latest_articles WHERE title = '' OR body = ''") == [(0,)]


def test_every_related_link_is_stored_in_order(crawled_demo, demo_server):
    db, _ = crawled_demo
    base = demo_server.base_url
    stored = {}
    for source, target, position, anchor, age in query(
        db,
        "SELECT source_url, target_url, position, anchor_text, displayed_age FROM related_links",
    ):
        stored.setdefault(source, []).append((position, target, anchor, age))
    expected_links = 0
    for article in demo_server.site.articles:
        got = sorted(stored.get(base + article.path, []))
        assert [(p, t, a) for p, t, a, _ in got] == [
            (position, base + item.path, item.title)
            for position, item in enumerate(article.related, start=1)
        ], article.path
        assert all(age and age.startswith("Actualité publiée il y a") for *_, age in got)
        expected_links += len(article.related)
    assert sum(len(v) for v in stored.values()) == expected_links


def test_displayed_ages_become_approximate_dates(crawled_demo, demo_server):
    db, _ = crawled_demo
    site = demo_server.site
    rows = query(
        db,
        "SELECT url, published_at, published_source, published_precision FROM latest_articles",
    )
    assert {(source, precision) for _, _, source, precision in rows} <= {
        ("relative-age", "month"),
        ("relative-age", "year"),
        ("relative-age", "day"),
    }
    by_url = {url: published for url, published, _, _ in rows}
    for article in site.articles:
        published = by_url[demo_server.base_url + article.path]
        # month precision: within about a month of the true date
        assert abs((published - article.published).days) <= 31, article.path


def test_faults_are_recorded_not_fatal(crawled_demo, demo_server):
    db, _ = crawled_demo
    base = demo_server.base_url
    faults = demo_server.site.faults
    assert query(db, "SELECT status FROM fetches WHERE url = ?", [base + faults.dead_path]) == [
        (404,)
    ]
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        assert reader.resolve_url(base + faults.redirect_from) == base + faults.redirect_to
        graph = reader.query(
            "SELECT target_article FROM link_graph WHERE target_url = ?",
            [base + faults.redirect_from],
        ).rows
    assert graph == [(base + faults.redirect_to,)]
    # the windows-1252 page is read with its declared charset
    cp1252 = demo_server.site.article_by_path(faults.windows1252_path)
    title, body, encoding = query(
        db,
        "SELECT v.title, v.body, f.encoding FROM latest_articles v"
        " JOIN fetches f ON f.url = v.url WHERE v.url = ?",
        [base + faults.windows1252_path],
    )[0]
    assert encoding == "cp1252"
    assert title == cp1252.title
    # white space (no-break spaces included) is folded to plain spaces by the analysis
    assert body.split() == "\n\n".join(cp1252.paragraphs).split()
    assert any(char in body for char in "œ’«»")


def test_robots_txt_is_obeyed(crawled_demo):
    db, _ = crawled_demo
    # the profile follows every link on the site: only robots.txt keeps /admin/ out
    assert query(db, "SELECT count(*) FROM fetches WHERE url LIKE '%/admin/%'") == [(0,)]
    forbidden = query(db, "SELECT stats->>'robotstxt/forbidden' FROM crawl_runs")[0][0]
    assert int(forbidden) >= 1


def test_raw_pages_are_kept(crawled_demo):
    db, _ = crawled_demo
    missing = query(
        db,
        "SELECT count(*) FROM fetches f LEFT JOIN captures c USING (content_hash)"
        " WHERE f.status = 200 AND c.content_hash IS NULL",
    )
    assert missing == [(0,)]


def test_crawling_twice_adds_no_duplicates(crawled_demo, demo_server, tmp_path):
    db = tmp_path / "twice.duckdb"
    shutil.copy2(crawled_demo[0], db)  # a first crawl of the same server
    tables = ("articles", "article_versions", "related_links", "url_aliases", "captures")

    def counts():
        return {t: query(db, f"SELECT count(*) FROM {t}")[0][0] for t in (*tables, "fetches")}

    first = counts()
    second_run = run_relnews(
        "crawl", "--profile", "demo", "--url", demo_server.url, "--db", str(db)
    )
    second = counts()
    assert {t: second[t] for t in tables} == {t: first[t] for t in tables}
    # the second crawl asked only for what may have changed
    assert 0 < second["fetches"] - first["fetches"] < first["fetches"] / 2
    # what was confirmed unchanged is said so, not left out as "0 articles"
    unchanged = re.search(r"0 new articles, 0 changed, (\d+) unchanged, ", second_run.stdout)
    assert unchanged and int(unchanged[1]) > 0, second_run.stdout
    assert "; 0 new related links" in second_run.stdout
    runs = query(db, "SELECT run_id, status, articles_new FROM crawl_runs ORDER BY run_id")
    assert runs == [(1, "finished", first["articles"]), (2, "finished", 0)]


@pytest.mark.parametrize("bad", ["nosuchprofile", "missing.toml"])
def test_unknown_profile_is_a_clear_error(bad, tmp_path):
    result = run_relnews("crawl", "--profile", bad, "--db", str(tmp_path / "x.duckdb"), check=False)
    assert result.returncode == 1
    assert "no profile" in result.stderr
