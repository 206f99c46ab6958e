"""The archive on real DuckDB files: schema, idempotent writes, versions, aliases."""

from datetime import datetime

import duckdb
import pytest

from warehouse import (
    Article,
    DateValue,
    Fetch,
    PageRecord,
    Reader,
    RelatedLink,
    WarehouseError,
    Writer,
    connect,
    opened,
)
from warehouse.database import migrations

T0 = datetime(2026, 11, 1, 12, 0)
T1 = datetime(2026, 11, 2, 12, 0)
SITE = "http://news.test"


def page(n: int, body: str = "Un corps.", when: datetime = T0, links=(1, 2)) -> PageRecord:
    url = f"{SITE}/news/sante/article_{n}.htm"
    article = Article(
        url=url,
        title=f"Titre {n}",
        lead="Chapeau.",
        body=body,
        # A date read from a displayed age moves with the fetch time: it must not
        # make a new version on its own.
        published=DateValue(when.replace(year=2020), "relative-age", "month"),
        rubrique="Santé",
        sources=("Une source",),
    )
    related = tuple(
        RelatedLink(
            f"{SITE}/news/sante/article_{target}.htm",
            f"Titre {target}",
            position,
            displayed_age="Actualité publiée il y a 6 années",
        )
        for position, target in enumerate(links, start=1)
    )
    fetch = Fetch(url, when, 200, url, body=f"<html>{n}{body}</html>".encode())
    return PageRecord(fetch, article, related)


def crawl(db, records, when=T0) -> int:
    with opened(db) as con:
        writer = Writer(con)
        run = writer.start_run("news.test", "test", when)
        writer.write_pages(run, records)
        writer.finish_run(run, "finished")
    return run


def counts(db) -> dict[str, int]:
    with opened(db, read_only=True) as con:
        return Reader(con).counts()


def test_migrations_are_ordered_and_recorded(tmp_path):
    db = tmp_path / "a.duckdb"
    connect(db).close()
    names = [name for name, _ in migrations()]
    assert names == sorted(names)
    con = duckdb.connect(str(db), read_only=True)
    recorded = [
        row[0] for row in con.execute("SELECT name FROM schema_migrations ORDER BY 1").fetchall()
    ]
    assert recorded == names
    con.close()
    # Opening again applies nothing twice.
    connect(db).close()
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(names)


def test_same_crawl_twice_adds_only_fetches(tmp_path):
    db = tmp_path / "a.duckdb"
    crawl(db, [page(1), page(2), page(3)])
    first = counts(db)
    assert (first["articles"], first["article_versions"], first["related_links"]) == (3, 3, 6)
    crawl(db, [page(1, when=T1), page(2, when=T1), page(3, when=T1)], when=T1)
    second = counts(db)
    assert second["fetches"] == 6
    assert {k: second[k] for k in ("articles", "article_versions", "related_links")} == {
        "articles": 3,
        "article_versions": 3,
        "related_links": 6,
    }
    with opened(db, read_only=True) as con:
        rows = Reader(con).query("SELECT first_seen_run, last_seen_run FROM related_links").rows
    assert set(rows) == {(1, 2)}


def test_changed_page_makes_one_new_version(tmp_path):
    db = tmp_path / "a.duckdb"
    crawl(db, [page(1), page(2)])
    crawl(db, [page(1, body="Un corps corrigé."), page(2)], when=T1)
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        assert reader.counts()["article_versions"] == 3
        latest = {a.url: a.body for a in reader.articles()}
    assert latest[f"{SITE}/news/sante/article_1.htm"] == "Un corps corrigé."


def test_raw_html_is_kept_once_per_content(tmp_path):
    db = tmp_path / "a.duckdb"
    crawl(db, [page(1)])
    crawl(db, [page(1)], when=T1)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM captures").fetchone()[0] == 1
    assert con.execute("SELECT count(DISTINCT content_hash) FROM fetches").fetchone()[0] == 1


def test_redirect_resolves_links_to_the_article(tmp_path):
    db = tmp_path / "a.duckdb"
    old = f"{SITE}/news/sante/ancien_2.htm"
    record = page(2)
    moved = PageRecord(
        Fetch(old, T0, 200, record.fetch.url, body=record.fetch.body), record.article, ()
    )
    source = page(1, links=())
    source = PageRecord(
        source.fetch,
        source.article,
        (RelatedLink(old, "Titre 2", 1), RelatedLink(f"{SITE}/mort_9.htm", "Mort", 2)),
    )
    crawl(db, [source, moved, PageRecord(Fetch(f"{SITE}/mort_9.htm", T0, 404))])
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        graph = reader.query("SELECT target_url, target_article FROM link_graph ORDER BY 1").rows
        links = reader.editorial_links()
        assert reader.resolve_url(old) == record.article.url
    assert graph == [(f"{SITE}/mort_9.htm", None), (old, record.article.url)]
    assert [(link.source_url, link.target_url) for link in links] == [
        (source.article.url, record.article.url)
    ]


def test_page_gone_is_marked_not_deleted(tmp_path):
    db = tmp_path / "a.duckdb"
    crawl(db, [page(1), page(2)])
    gone_url = page(2).fetch.url
    crawl(db, [page(1), PageRecord(Fetch(gone_url, T1, 410))], when=T1)
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        assert reader.counts()["articles"] == 2
        assert [a.url for a in reader.articles()] == [page(1).article.url]
        assert len(reader.articles(include_gone=True)) == 2


def test_failed_batch_leaves_nothing_behind(tmp_path):
    db = tmp_path / "a.duckdb"
    crawl(db, [page(1)])
    broken = PageRecord(Fetch("x", T1, 200), Article(url="x", title=None), ())  # title NOT NULL
    with opened(db) as con:
        writer = Writer(con)
        run = writer.start_run("news.test", "test")
        with pytest.raises(duckdb.Error):
            writer.write_pages(run, [page(2), broken])
    after = counts(db)
    assert (after["articles"], after["fetches"]) == (1, 1)


def test_read_only_open_of_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(WarehouseError, match="no archive"):
        connect(tmp_path / "missing.duckdb", read_only=True)
