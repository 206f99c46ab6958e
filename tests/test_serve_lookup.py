"""Lists for the URL a reader is really on, and for articles crawled since the last fit,
over real HTTP on 127.0.0.1 (`relnews serve`) and from `relnews recommend`; HTTP
caching as proxies expect it (weak and "*" ETags, compression, one Vary)."""

from __future__ import annotations

import gzip
import json
import pickle
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_serve import Running, call, related, sql

from conftest import archive_article, run_relnews
from relnews.serve import ServeSettings
from warehouse import Article, DateValue

TODAY_TEXT = (
    "Une marche rapide de trente minutes chaque jour réduit la tension artérielle des "
    "adultes hypertendus, selon un essai mené dans douze hôpitaux. "
)


def todays_article(base: str, number: int, published: datetime) -> Article:
    return Article(
        url=f"{base}/news/cardiologie/la-marche-et-la-tension_{number}.htm",
        title=f"La marche quotidienne fait baisser la tension ({number})",
        lead="Trente minutes de marche par jour suffisent.",
        body=TODAY_TEXT * 6,
        published=DateValue(published, "json-ld", "day"),
        rubrique="Cardiologie",
    )


@pytest.fixture(scope="module")
def archive(refreshed_demo, tmp_path_factory):
    """A fitted copy of the demo archive, and an article crawled after the fit."""
    db = refreshed_demo.copy_to(tmp_path_factory.mktemp("lookup"))
    source, newest = sql(
        db,
        "SELECT url, published_at FROM latest_articles WHERE published_at IS NOT NULL"
        " ORDER BY published_at DESC, url LIMIT 1",
    )[0]
    base = source.split("/news/")[0]
    today = todays_article(base, 9990, newest + timedelta(days=1))
    archive_article(db, today, fetched_at=newest + timedelta(days=1))
    return {"db": db, "source": source, "today": today, "base": base, "newest": newest}


@pytest.fixture(scope="module")
def served(archive):
    running = Running(
        archive["db"],
        ServeSettings(max_age=60, cors_origins=("https://www.example.org",), reload_interval=0.3),
    )
    yield running
    running.close()


def spellings_of(url: str) -> list[str]:
    parts = urllib.parse.urlsplit(url)
    return [
        url + "?utm_source=newsletter&utm_medium=email",
        url + "#comments",
        urllib.parse.urlunsplit(("HTTP", parts.netloc.upper(), parts.path, "", "")),
        url + "/",
        url + "?fbclid=IwAR0x&utm_campaign=spring#top",
    ]


def test_a_list_is_found_for_every_spelling_a_reader_arrives_with(archive, served):
    source = archive["source"]
    _, _, body = call(related(served, source, k="5"))
    expected = json.loads(body)["related"]
    for spelling in spellings_of(source):
        status, _, body = call(related(served, spelling, k="5"))
        assert status == 200, (spelling, body)
        data = json.loads(body)
        assert data["url"] == source and data["related"] == expected, spelling
        html_url = served.url + "related.html?" + urllib.parse.urlencode({"url": spelling})
        assert call(html_url)[0] == 200, spelling


def test_recommend_pin_and_block_take_any_spelling_too(archive, tmp_path):
    db = archive["db"]
    source, spelling = archive["source"], spellings_of(archive["source"])[0]
    shown = run_relnews("recommend", spelling, "-k", "3", "--format", "json", "--db", str(db))
    assert len(json.loads(shown.stdout)) == 3
    target = json.loads(shown.stdout)[0]["url"]
    copy = tmp_path / "rules.duckdb"
    copy.write_bytes(db.read_bytes())
    shouted = spellings_of(target)[2] + "#x"  # scheme and host in capitals, a fragment
    run_relnews("block", shouted, "--source", spelling, "--db", str(copy))
    rules = "SELECT source_url, target_url, rule FROM editor_rules"
    assert sql(copy, rules) == [(source, target, "block")]
    # the same pair under other spellings (a trailing slash): the block becomes a pin
    run_relnews("pin", spellings_of(source)[3], spellings_of(target)[3], "--db", str(copy))
    assert sql(copy, rules) == [(source, target, "pin")]


def test_an_article_crawled_after_the_fit_gets_a_list_at_once(archive, served):
    today = archive["today"]
    status, _, body = call(related(served, today.url, k="5"))
    assert status == 200, body
    items = json.loads(body)["related"]
    assert len(items) == 5 and today.url not in {item["url"] for item in items}
    # its words choose the list: the demo's heart articles come first
    assert any("cardio" in item["url"] for item in items[:3]), items
    shown = run_relnews("recommend", today.url, "-k", "5", "--format", "json",
                        "--db", str(archive["db"]))  # fmt: skip
    assert [item["url"] for item in json.loads(shown.stdout)] == [i["url"] for i in items]
    # the curation page shows the same list for it, and the newest queue lists it first
    query = urllib.parse.urlencode({"url": today.url})
    view = json.loads(call(f"{served.url}api/article?{query}")[2])
    assert [item["url"] for item in view["relnews"][:5]] == [i["url"] for i in items]
    queues = json.loads(call(f"{served.url}api/queues")[2])
    assert queues["newest"][0]["url"] == today.url


def test_an_article_crawled_while_the_server_runs_is_answered_after_its_next_look(archive, served):
    later = todays_article(archive["base"], 9991, archive["newest"] + timedelta(days=2))
    assert call(related(served, later.url))[0] == 404
    # stored by another process, as a crawl would (DuckDB allows one process to write
    # while the server's own process reads, not both in one process)
    script = (
        "import pickle, sys; from conftest import archive_article; "
        "archive_article(*pickle.loads(sys.stdin.buffer.read()))"
    )
    when = archive["newest"] + timedelta(days=2)
    subprocess.run(
        [sys.executable, "-c", script],
        input=pickle.dumps((archive["db"], later, when)),
        cwd=Path(__file__).parent,
        check=True,
        timeout=120,
    )
    deadline = time.monotonic() + 30  # a busy machine: the look is every 0.3 s
    while (status := call(related(served, later.url))[0]) != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status == 200


def test_weak_and_star_etags_answer_not_modified(archive, served):
    url = related(served, archive["source"], k="4")
    status, headers, _ = call(url)
    etag = headers["ETag"]
    assert status == 200 and etag.startswith('W/"')
    strong = etag.removeprefix("W/")
    for match in (etag, strong, "*", f'"other", {strong}', f'W/{strong}, W/"x"'):
        status, again, body = call(url, headers={"If-None-Match": match})
        assert (status, body) == (304, b""), match
        assert again["ETag"] == etag
    assert call(url, headers={"If-None-Match": 'W/"something-else"'})[0] == 200


def test_answers_are_compressed_with_one_vary(archive, served):
    url = related(served, archive["source"], k="10")
    status, headers, body = call(
        url, headers={"Accept-Encoding": "gzip", "Origin": "https://www.example.org"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(body))["url"] == archive["source"]
    assert len(headers.get_all("Vary")) == 1
    vary = [value.strip() for value in headers["Vary"].split(",")]
    assert sorted(vary) == ["Accept-Encoding", "Origin"]
    _, plain, body = call(url)
    assert "Content-Encoding" not in plain and json.loads(body)["url"] == archive["source"]


def test_the_json_answer_says_what_a_widget_shows(archive, served):
    items = json.loads(call(related(served, archive["source"], k="10"))[2])["related"]
    for item in items:
        assert {"published", "precision", "excerpt", "rubrique", "author", "image"} <= set(item)
        if item["published"] is not None:  # written at the precision the archive knows
            length = {"year": 4, "month": 7}.get(item["precision"], 10)
            assert len(item["published"]) == length, item
    assert all(item["excerpt"] and item["rubrique"] for item in items)
    assert any(item["published"] for item in items)
    assert all(item["image"].startswith("http") for item in items)  # the demo's og:image
    # the widget shows them too, styled by the stylesheet the server ships
    page = call(served.url + "related.html?" + urllib.parse.urlencode({"url": archive["source"]}))
    assert 'class="relnews-rubrique"' in page[2].decode("utf-8")
    status, headers, css = call(served.url + "related.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert b".relnews-related" in css
