"""Incremental refresh, resumption after a kill, the archive lock, diff, reanalysis, WARC."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from conftest import ROOT, run_relnews
from demosite.content import RelatedItem
from demosite.server import DemoServer


def query(db, sql, params=()):
    deadline = time.monotonic() + 30
    while True:
        try:
            con = duckdb.connect(str(db), read_only=True)
            break
        except duckdb.IOException:  # the crawler is writing a batch
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def count(db, table):
    return query(db, f"SELECT count(*) FROM {table}")[0][0]


@pytest.fixture
def server():
    with DemoServer(port=0) as server:
        yield server


def refresh(server, db, *args, check=True):
    return run_relnews(
        "refresh", "--profile", "demo", "--url", server.url, "--db", str(db), *args, check=check
    )


def test_second_refresh_asks_only_what_changed(refreshed_demo, demo_server, tmp_path):
    assert "refresh: done" in refreshed_demo.result.stdout
    db = refreshed_demo.copy_to(tmp_path)
    versions, links = count(db, "article_versions"), count(db, "related_links")
    before = dict(demo_server.stats)

    second = refresh(demo_server, db)
    assert "refresh: done" in second.stdout
    assert "nothing changed" in second.stdout
    assert (count(db, "article_versions"), count(db, "related_links")) == (versions, links)
    # conditional requests were sent and answered 304; unchanged articles were skipped
    assert demo_server.stats["not_modified"] > before.get("not_modified", 0)
    requests = demo_server.stats["requests"] - before["requests"]
    assert requests < 0.3 * refreshed_demo.requests
    runs = query(db, "SELECT status, stats->>'relnews/skipped_by_lastmod' FROM crawl_runs")
    assert runs[1][0] == "finished" and int(runs[1][1]) >= 300
    assert query(db, "SELECT count(*) FROM fetches WHERE run_id = 2 AND status = 304")[0][0] > 0


def test_two_refreshes_never_overlap(server, tmp_path):
    db = tmp_path / "news.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    slow = subprocess.Popen(
        [sys.executable, "-m", "relnews", "refresh", "--profile", "demo", "--url", server.url,
         "--db", str(db),
         "-s", "DOWNLOAD_DELAY=0.2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        assert slow.stdout.readline().startswith("refresh: crawling")
        started = time.monotonic()
        second = refresh(server, db, check=False)
        assert time.monotonic() - started < 30  # at once, not after the first one
        assert second.returncode == 3
        assert f"{db.name}.lock" in second.stderr
    finally:
        slow.kill()
        slow.wait()


#: What an archive holds of a crawl, table by table, without ids, times and run numbers.
TABLES = {
    "fetches": "SELECT url, status, final_url, content_hash, error IS NULL FROM fetches",
    "articles": "SELECT url, gone_at IS NULL FROM articles",
    "article_versions": "SELECT url, content_hash, title FROM article_versions",
    "related_links": "SELECT source_url, position, target_url, anchor_text FROM related_links",
    "url_aliases": "SELECT alias_url, url, reason FROM url_aliases",
    "captures": "SELECT content_hash FROM captures",
}


def tables(db):
    return {name: sorted(query(db, sql)) for name, sql in TABLES.items()}


def test_crawl_killed_after_its_first_batch_loses_nothing(crawled_demo, demo_server, tmp_path):
    whole, _ = crawled_demo  # one uninterrupted crawl of the same server
    server = demo_server
    db = tmp_path / "news.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    crawl = subprocess.Popen(
        [sys.executable, "-m", "relnews", "crawl", "--profile", "demo", "--url", server.url,
         "--db", str(db),
         "-s", "RELNEWS_BATCH_SIZE=10", "-s", "DOWNLOAD_DELAY=0.02",
         "-s", "RELNEWS_RELEASE_EVERY=0.2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if db.exists() and count(db, "fetches") >= 10:
                break
        else:
            pytest.fail("the crawl stored no batch in time")
        crawl.send_signal(signal.SIGKILL)
    finally:
        crawl.wait()
    assert query(db, "SELECT status FROM crawl_runs") == [("running",)]
    assert count(db, "fetches") < 400

    result = run_relnews("crawl", "--profile", "demo", "--url", server.url, "--db", str(db))
    assert "run 1 finished" in result.stdout  # the same run, taken up again
    # every table as an uninterrupted crawl leaves it: nothing missing, nothing twice
    assert tables(db) == tables(whole)
    twice = query(db, "SELECT url FROM fetches GROUP BY url HAVING count(*) > 1")
    assert twice == []


def test_reanalyse_with_a_changed_profile(crawled_demo, demo_server, tmp_path):
    server = demo_server
    db = tmp_path / "news.duckdb"
    shutil.copy2(crawled_demo[0], db)
    fetches = count(db, "fetches")
    same = run_relnews("reanalyse", "--profile", "demo", "--db", str(db)).stdout
    assert "0 new versions" in same
    profile = (ROOT / "crawler" / "profiles" / "demo.toml").read_text("utf-8")
    changed = tmp_path / "demo-no-lead.toml"
    changed.write_text(profile.replace('lead = "p.news-lead"', 'lead = ""'), "utf-8")
    result = run_relnews("reanalyse", "--profile", str(changed), "--db", str(db)).stdout
    assert f"{len(server.site.articles)} new versions" in result
    assert count(db, "fetches") == fetches  # nothing was fetched again
    assert query(db, "SELECT count(*) FROM latest_articles WHERE lead <> ''") == [(0,)]


def test_export_warc_holds_every_capture(crawled_demo, demo_server, tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    server = demo_server
    db, _ = crawled_demo  # export-warc only reads it
    warc = tmp_path / "news.warc.gz"
    run_relnews("export-warc", str(warc), "--db", str(db))
    with open(warc, "rb") as stream:
        records = [
            (record.rec_headers.get_header("WARC-Target-URI"), record.content_stream().read())
            for record in ArchiveIterator(stream)
            if record.rec_type == "response"
        ]
    expected = query(
        db, "SELECT count(*) FROM fetches WHERE status = 200 AND content_hash IS NOT NULL"
    )[0][0]
    assert len(records) == expected
    cp1252 = server.base_url + server.site.faults.windows1252_path
    body = dict(records)[cp1252]
    assert "é".encode("cp1252") in body  # the bytes as served, not re-encoded


def test_refresh_sees_a_deleted_article_a_changed_related_block_and_a_corrected_page(
    refreshed_demo, editable_demo, tmp_path
):
    server = editable_demo
    db = refreshed_demo.copy_to(tmp_path)
    site, base = server.site, server.base_url
    lists = json.loads(run_relnews("export", "-k", "10", "--db", str(db)).stdout)
    suggested = {item["url"] for items in lists.values() for item in items}
    linked = {item.path for article in site.articles for item in article.related}
    # deleted: an article no editor links to (so only the sitemap and listings named it)
    victim = next(a for a in site.articles if a.path not in linked and base + a.path in suggested)
    # changed: another article's related block gets a new first link; sitemap untouched
    changed = next(a for a in site.articles if a.related and a is not victim)
    newcomer = next(
        a for a in site.articles
        if a not in (victim, changed) and a.path not in {i.path for i in changed.related}
    )  # fmt: skip
    edited = dataclasses.replace(
        changed, related=(RelatedItem(newcomer.path, newcomer.title), *changed.related[1:])
    )
    # corrected: a third article's last paragraph is rewritten, its date of change moved
    article = next(a for a in site.articles[100:] if a not in (victim, changed, newcomer))
    corrected = dataclasses.replace(
        article,
        paragraphs=(*article.paragraphs[:-1], "Correction : les auteurs ont revu leurs chiffres."),
        modified=datetime.now(UTC).replace(tzinfo=None),
    )
    replaced = {changed.path: edited, article.path: corrected}
    server.site = dataclasses.replace(
        site,
        articles=tuple(replaced.get(a.path, a) for a in site.articles if a is not victim),
    )
    versions_before = count(db, "article_versions")
    models_before = count(db, "models")

    result = refresh(server, db, "--revisit-days", "0")
    # everything was revisited, and the known dead link answered 404 again
    dead = base + site.faults.dead_path
    assert query(db, "SELECT status FROM fetches WHERE url = ? AND run_id = 2", [dead]) == [(404,)]
    assert query(db, "SELECT gone_at IS NOT NULL FROM articles WHERE url = ?",
                 [base + victim.path]) == [(True,)]  # fmt: skip
    current = query(
        db, "SELECT target_url FROM current_links WHERE source_url = ? ORDER BY position",
        [base + changed.path],
    )  # fmt: skip
    assert current[0] == (base + newcomer.path,)
    assert "fitting the model" in result.stdout and count(db, "models") == models_before + 1
    # the corrected page has a second version, and diff shows the correction
    assert count(db, "article_versions") > versions_before
    url = base + article.path
    assert query(db, "SELECT count(*) FROM article_versions WHERE url = ?", [url]) == [(2,)]
    diff = run_relnews("diff", url, "--db", str(db)).stdout
    assert "+Correction : les auteurs ont revu leurs chiffres." in diff
    assert "-" + article.paragraphs[-1] in diff
    lists = json.loads(run_relnews("export", "-k", "10", "--db", str(db)).stdout)
    assert base + victim.path not in lists
    assert all(item["url"] != base + victim.path for items in lists.values() for item in items)


@pytest.mark.parametrize(
    ("new", "versions", "links", "gone", "only_new"),
    [
        (3, 3, 0, 0, True),  # three articles published since: listed from their words
        (3, 4, 0, 0, False),  # and one corrected: refit
        (3, 3, 2, 0, False),  # with editors' links of their own: refit (they teach)
        (3, 3, 0, 1, False),  # one gone: refit
        (40, 40, 0, 0, False),  # more than a tenth of the model's 360 articles: refit
        (0, 0, 0, 0, False),  # nothing new
    ],
)
def test_refresh_refits_unless_only_a_few_new_articles_came(new, versions, links, gone, only_new):
    from crawler.run import CrawlSummary
    from relnews.jobs import only_new_articles

    summary = CrawlSummary(
        run_id=2, finish_reason="finished", pages_fetched=50, errors=0, gone=0,
        not_modified=40, articles_new=new, versions_new=versions, links_new=links,
        stats={}, status="finished", articles_gone=gone,
    )  # fmt: skip
    assert only_new_articles(summary, fitted_on=360) is only_new


def test_new_articles_are_listed_from_their_words_and_the_models_lists_stay(
    refreshed_demo, tmp_path
):
    from conftest import archive_article
    from relnews.jobs import list_new_articles
    from warehouse import Article, DateValue

    db = refreshed_demo.copy_to(tmp_path)
    newest = "SELECT model_id, n_articles FROM models ORDER BY created_at DESC LIMIT 1"
    model, fitted_on = query(db, newest)[0]
    source, published = query(
        db, "SELECT url, published_at FROM latest_articles WHERE published_at IS NOT NULL"
        " ORDER BY published_at DESC LIMIT 1",
    )[0]  # fmt: skip
    url = source.split("/news/")[0] + "/news/cardiologie/la-marche-rapide-et-la-tension_99001.htm"
    text = "La marche rapide de trente minutes par jour fait baisser la tension artérielle. "
    archive_article(db, Article(
        url=url, title="La marche rapide fait baisser la tension", lead=text, body=text * 6,
        published=DateValue(published + timedelta(hours=6), "json-ld", "day"),
        rubrique="Cardiologie",
    ))  # fmt: skip
    assert list_new_articles(db, k=10) == 1
    assert query(db, newest) == [(model, fitted_on)]  # no refit
    stored = query(
        db, "SELECT target_url FROM recommendations WHERE model_id = ? AND source_url = ?"
        " ORDER BY rank", [model, url],
    )  # fmt: skip
    assert len(stored) == 10 and (url,) not in stored
    sources = query(
        db, "SELECT count(DISTINCT source_url) FROM recommendations WHERE model_id = ?", [model]
    )[0][0]
    assert sources == fitted_on + 1  # the model's other lists are all still there
    shown = json.loads(run_relnews("recommend", url, "--format", "json", "--db", str(db)).stdout)
    assert [item["url"] for item in shown] == [row[0] for row in stored]
    assert list_new_articles(db, k=10) == 0  # listed once: nothing left to list
