"""The archive on real DuckDB files: schema, idempotent writes, versions, aliases."""

import time
from dataclasses import replace
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


# -- batches: a batch ends as if its records had been stored one at a time -----------

TABLES = ("captures", "fetches", "url_aliases", "articles", "article_versions", "related_links")


def dump(db) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            table: sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in TABLES
        }
    finally:
        con.close()


def stored_one_by_one(tmp_path, records) -> dict[str, list[tuple]]:
    db = tmp_path / "one-by-one.duckdb"
    with opened(db) as con:
        writer = Writer(con)
        run = writer.start_run("news.test", "test", T0)
        for record in records:
            writer.write_pages(run, [record])
    return dump(db)


def stored_as_one_batch(tmp_path, records) -> dict[str, list[tuple]]:
    db = tmp_path / "one-batch.duckdb"
    with opened(db) as con:
        writer = Writer(con)
        run = writer.start_run("news.test", "test", T0)
        assert writer.write_pages(run, records) == len(records)
    return dump(db)


def at(record: PageRecord, when: datetime, **fetch) -> PageRecord:
    """``record`` fetched at another time (and with other fetch fields)."""
    return replace(record, fetch=replace(record.fetch, fetched_at=when, **fetch))


def test_same_article_twice_in_one_batch(tmp_path):
    first, again = page(1), at(page(1), T0.replace(minute=5))
    rows = stored_as_one_batch(tmp_path, [first, again])
    assert rows == stored_one_by_one(tmp_path, [first, again])
    assert len(rows["fetches"]) == 2
    assert len(rows["captures"]) == 1
    assert len(rows["article_versions"]) == 1
    ((url, _site, first_run, last_run, first_at, last_at, gone_at, latest),) = rows["articles"]
    assert (first_at, last_at, gone_at) == (T0, T0.replace(minute=5), None)
    assert latest == rows["article_versions"][0][0]


def test_article_changed_then_changed_back_in_one_batch(tmp_path):
    records = [
        page(1),
        at(page(1, body="Corrigé."), T0.replace(minute=1)),
        at(page(1), T0.replace(minute=2)),  # back to the first text
        page(2),
    ]
    rows = stored_as_one_batch(tmp_path, records)
    assert rows == stored_one_by_one(tmp_path, records)
    url = page(1).article.url
    versions = {row[8]: row for row in rows["article_versions"] if row[1] == url}  # by body
    assert len(versions) == 2
    latest = {row[0]: row[7] for row in rows["articles"]}
    assert latest[url] == versions["Un corps."][0]  # the last record's
    # each version points at the fetch that first showed it
    fetch_ids = sorted(row[0] for row in rows["fetches"])
    assert versions["Un corps."][4] == fetch_ids[0]
    assert versions["Corrigé."][4] == fetch_ids[1]


def related_link_rows(db, target: str) -> list[tuple]:
    """(position, anchor_text, heading, first_seen_run, last_seen_run) of links to target."""
    with opened(db, read_only=True) as con:
        return con.execute(
            "SELECT position, anchor_text, heading, first_seen_run, last_seen_run"
            " FROM related_links WHERE target_url = ?",
            [target],
        ).fetchall()


def test_duplicate_related_targets(tmp_path):
    db = tmp_path / "a.duckdb"
    target = f"{SITE}/news/sante/article_9.htm"
    base = page(1, links=())
    twice_in_one_page = replace(
        base,
        related_links=(
            RelatedLink(target, "Premier", 1, heading="A"),
            RelatedLink(f"{SITE}/news/sante/article_8.htm", "Autre", 2),
            RelatedLink(target, "Second", 3, heading="B"),
        ),
    )
    crawl(db, [twice_in_one_page])
    rows = related_link_rows(db, target)
    # the attributes of the last mention, the position of the first
    assert rows == [(1, "Second", "B", 1, 1)]

    # A second run shows the page twice: the last record of the batch gives the attributes.
    later = replace(base, related_links=(RelatedLink(target, "Plus tard", 4, heading="C"),))
    records = [at(twice_in_one_page, T1), at(later, T1.replace(minute=1))]
    crawl(db, records, when=T1)
    rows = related_link_rows(db, target)
    with opened(db, read_only=True) as con:
        versions = con.execute("SELECT count(*) FROM article_versions").fetchone()[0]
    assert rows == [(4, "Plus tard", "C", 1, 2)]
    assert versions == 1  # related links are not part of an article's content


def test_not_modified_record_confirms_the_stored_capture(tmp_path):
    db = tmp_path / "a.duckdb"
    crawl(db, [page(1)])
    stored = page(1).fetch.content_hash
    url = page(1).fetch.url
    not_modified = PageRecord(
        Fetch(url, T1, 304, url, etag='"v1"', stored_hash=stored),
        page(1).article,
        page(1).related_links,
    )
    # the same page twice in the batch: a 304, then a full answer with the same body
    crawl(db, [not_modified, at(page(1), T1.replace(minute=1))], when=T1)
    with opened(db, read_only=True) as con:
        fetches = con.execute(
            "SELECT status, content_hash, bytes, etag FROM fetches ORDER BY fetch_id"
        ).fetchall()
        captures = con.execute("SELECT count(*) FROM captures").fetchone()[0]
        last_seen = con.execute("SELECT last_seen_at, last_seen_run FROM articles").fetchall()
    size = len(page(1).fetch.body)
    assert fetches == [
        (200, stored, size, None),
        (304, stored, None, '"v1"'),
        (200, stored, size, None),
    ]
    assert captures == 1
    assert last_seen == [(T1.replace(minute=1), 2)]
    assert counts(db)["article_versions"] == 1


def test_alias_and_gone_in_one_batch(tmp_path):
    db = tmp_path / "a.duckdb"
    crawl(db, [page(1), page(2), page(3)])
    url1, url2, url3 = (page(n).article.url for n in (1, 2, 3))
    old = f"{SITE}/news/sante/ancien_1.htm"
    moved = PageRecord(Fetch(old, T1, 200, url1, body=page(1).fetch.body), page(1).article, ())
    records = [
        moved,  # a redirect to article 1: an alias
        PageRecord(Fetch(url1, T1.replace(minute=1), 404)),  # then 1 is gone
        PageRecord(Fetch(url2, T1.replace(minute=2), 410)),  # 2 is gone...
        at(page(2), T1.replace(minute=3)),  # ...and back
        PageRecord(Fetch(url3, T1.replace(minute=4), 404)),  # 3 is gone (twice:
        PageRecord(Fetch(url3, T1.replace(minute=5), 404)),  # the first answer counts)
        PageRecord(Fetch(f"{SITE}/news/jamais_vu.htm", T1, 404)),  # never an article
        PageRecord(Fetch(f"{SITE}/news/court.htm", T1, 301, url2)),  # a redirect, no article
    ]
    with opened(db) as con:
        writer = Writer(con)
        run = writer.start_run("news.test", "test", T1)
        writer.write_pages(run, records)
        assert writer.run_counts(run)["gone"] == 5
    with opened(db, read_only=True) as con:
        gone = dict(con.execute("SELECT url, gone_at FROM articles").fetchall())
        aliases = con.execute("SELECT * FROM url_aliases ORDER BY 1").fetchall()
        assert Reader(con).resolve_url(old) == url1
    assert gone == {url1: T1.replace(minute=1), url2: None, url3: T1.replace(minute=4)}
    assert aliases == [(f"{SITE}/news/court.htm", url2, "redirect", 2), (old, url1, "redirect", 2)]

    # A batch ends as if its records had been stored one at a time, here as anywhere.
    first_run = [page(1), page(2), page(3)]
    one_by_one = stored_one_by_one(tmp_path, first_run + records)
    assert stored_as_one_batch(tmp_path, first_run + records) == one_by_one


def test_canonical_alias_and_gone_then_seen_again(tmp_path):
    canonical = page(1)
    via_other_url = PageRecord(
        Fetch(f"{SITE}/amp/article_1.htm", T0, 200, body=b"<html>amp</html>"),
        canonical.article,
        canonical.related_links,
    )
    records = [
        PageRecord(Fetch(canonical.fetch.url, T0, 404)),  # gone before it was ever seen
        via_other_url,
        PageRecord(Fetch(canonical.fetch.url, T0.replace(minute=1), 404)),
        at(canonical, T0.replace(minute=2)),
        PageRecord(Fetch(canonical.fetch.url, T0.replace(minute=3), 410)),
    ]
    rows = stored_as_one_batch(tmp_path, records)
    assert rows == stored_one_by_one(tmp_path, records)
    assert rows["url_aliases"] == [
        (f"{SITE}/amp/article_1.htm", canonical.article.url, "canonical", 1)
    ]
    assert [row[6] for row in rows["articles"]] == [T0.replace(minute=3)]


def test_reanalysed_pages_in_one_batch(tmp_path):
    db = tmp_path / "a.duckdb"
    crawl(db, [page(1), page(2)])
    with opened(db) as con:
        writer = Writer(con)
        fetch_ids = dict(con.execute("SELECT url, fetch_id FROM fetches").fetchall())
        run = writer.start_run("news.test", "reanalyse", T1)
        changed = replace(page(1).article, lead="")
        analyses = [
            (fetch_ids[page(1).fetch.url], T0, changed, page(1).related_links),
            (fetch_ids[page(2).fetch.url], T0, page(2).article, page(2).related_links),
            (fetch_ids[page(1).fetch.url], T0, changed, ()),
        ]
        assert writer.write_analyses(run, analyses) == 3
        assert writer.write_analyses(run, []) == 0
        counted = writer.run_counts(run)
    assert (counted["pages_fetched"], counted["versions_new"], counted["links_new"]) == (0, 1, 0)
    with opened(db, read_only=True) as con:
        leads = dict(Reader(con).query("SELECT url, lead FROM latest_articles").rows)
        links = con.execute(
            "SELECT DISTINCT last_seen_run FROM related_links WHERE source_url = ?",
            [page(1).article.url],
        ).fetchall()
        sightings = con.execute(
            "SELECT DISTINCT run_id, kind FROM link_sightings WHERE source_url = ?",
            [page(1).article.url],
        ).fetchall()
    assert leads == {page(1).article.url: "", page(2).article.url: "Chapeau."}
    # the links' last crawl stays the crawl's: the reanalysis records its sightings apart
    assert links == [(1,)]
    assert sorted(sightings) == [(1, "crawl"), (2, "reanalyse")]


def test_failed_batch_in_the_middle_keeps_earlier_batches(tmp_path):
    db = tmp_path / "a.duckdb"
    broken = PageRecord(Fetch("x", T1, 200), Article(url="x", title=None), ())
    with opened(db) as con:
        writer = Writer(con)
        run = writer.start_run("news.test", "test")
        writer.write_pages(run, [page(1), page(2)])
        with pytest.raises(duckdb.Error):
            writer.write_pages(run, [page(3), broken, page(4)])
        writer.write_pages(run, [page(5)])  # the connection is still usable
    after = counts(db)
    assert (after["articles"], after["fetches"], after["related_links"]) == (3, 3, 6)


# -- the crawl's pipeline: batches written in order by a thread, file released -------


class FakeStats:
    def __init__(self):
        self.values = {}

    def set_value(self, key, value):
        self.values[key] = value

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count

    def get_value(self, key, default=None):
        return self.values.get(key, default)

    def get_stats(self):
        return dict(self.values)


class FakeEngine:
    def __init__(self):
        self.closed_for = []

    def close_spider_async(self, reason):
        from twisted.internet import defer

        self.closed_for.append(reason)
        return defer.succeed(None)


def pipeline_for(db, **settings):
    from types import SimpleNamespace

    from scrapy.settings import Settings
    from scrapy.signalmanager import SignalManager

    from crawler.pipelines import WarehousePipeline
    from crawler.session import WarehouseSession

    crawler = SimpleNamespace(
        signals=SignalManager(),
        settings=Settings({"RELNEWS_DB": str(db), **settings}),
        stats=FakeStats(),
        engine=FakeEngine(),
        spider=None,
        relnews_session=WarehouseSession(str(db), "news.test", "test"),
    )
    pipeline = WarehousePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return crawler, pipeline


def test_pipeline_writes_batches_in_order_and_lets_readers_in(tmp_path):
    db = tmp_path / "a.duckdb"
    crawler, pipeline = pipeline_for(db, RELNEWS_BATCH_SIZE=3, RELNEWS_RELEASE_EVERY=0)
    assert pipeline.release_every == 0
    records = [at(page(n % 4, body=f"Version {n}."), T0.replace(minute=n)) for n in range(10)]
    for record in records[:6]:
        pipeline.process_item(record)
    deadline = time.monotonic() + 30
    while pipeline.writer.stored != 6:  # two batches, then released
        assert time.monotonic() < deadline, "the writer thread did not store two batches"
        time.sleep(0.01)
    while True:  # the file is closed between two batches: a reader gets in
        try:
            reader = duckdb.connect(str(db), read_only=True)
            break
        except duckdb.IOException:
            assert time.monotonic() < deadline, "the file was never released"
            time.sleep(0.01)
    assert reader.execute("SELECT count(*) FROM fetches").fetchone()[0] == 6
    reader.close()
    for record in records[6:]:
        pipeline.process_item(record)
    pipeline.close_spider()
    pipeline.spider_closed(reason="finished")
    assert crawler.stats.get_value("relnews/pages_fetched") == 10
    assert crawler.stats.get_value("relnews/pages_stored") == 10
    assert crawler.engine.closed_for == []
    # in record order, as if stored one at a time
    assert dump(db) == stored_one_by_one(tmp_path, records)


def test_pipeline_keeps_the_file_open_between_batches(tmp_path):
    db = tmp_path / "a.duckdb"
    crawler, pipeline = pipeline_for(db, RELNEWS_BATCH_SIZE=2)
    assert pipeline.release_every == 5.0
    for n in range(4):
        pipeline.process_item(page(n))
    deadline = time.monotonic() + 30
    while pipeline.writer.stored != 4:
        assert time.monotonic() < deadline, "the writer thread did not store two batches"
        time.sleep(0.01)
    assert crawler.relnews_session.held_for() is not None  # not closed after each batch
    pipeline.close_spider()
    pipeline.spider_closed(reason="finished")
    assert crawler.relnews_session.held_for() is None
    assert counts(db)["fetches"] == 4


def test_pipeline_write_failure_stops_the_crawl_loudly(tmp_path, caplog):
    db = tmp_path / "a.duckdb"
    crawler, pipeline = pipeline_for(db, RELNEWS_BATCH_SIZE=2)
    broken = PageRecord(Fetch("x", T1, 200), Article(url="x", title=None), ())
    for record in (page(1), page(2), page(3), broken):
        pipeline.process_item(record)
    deadline = time.monotonic() + 30
    while pipeline.writer.error is None:
        assert time.monotonic() < deadline, "the failed batch went unnoticed"
        time.sleep(0.01)
    pipeline.process_item(page(4))  # noticed: the crawl is told to stop
    pipeline.process_item(page(5))
    assert crawler.engine.closed_for == ["relnews_write_failed"]
    pipeline.close_spider()
    pipeline.spider_closed(reason="relnews_write_failed")  # says why in one line
    assert crawler.stats.get_value("relnews/status") == "failed"
    assert crawler.stats.get_value("relnews/write_error_text").startswith("write failed: ")
    assert "cannot store 2 pages" in caplog.text
    assert "2 pages were stored, the next crawl takes the run up" in caplog.text
    assert "Traceback" not in caplog.text
    assert crawler.relnews_session.held_for() is None  # the file is closed
    after = counts(db)  # the batch before the failure is stored, the run left unfinished
    assert (after["fetches"], after["articles"]) == (2, 2)
    with opened(db, read_only=True) as con:
        assert con.execute("SELECT status FROM crawl_runs").fetchall() == [("running",)]
