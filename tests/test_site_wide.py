"""A box repeated on most pages of a site ("More stories": the same links everywhere) is
site furniture, not each page's related block: crawled from a small site the test
writes and serves on 127.0.0.1, in generic mode."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from conftest import run_relnews

TOPICS = ["night trains", "ferries", "bicycles", "trams", "canal boats", "cable cars",
          "sleeper buses", "river cruises"]  # fmt: skip


def slug(topic: str) -> str:
    return topic.replace(" ", "-")


def article(n: int, topic: str) -> str:
    own = [TOPICS[(n + 1) % len(TOPICS)], TOPICS[(n + 3) % len(TOPICS)]]
    related = "".join(
        f"<li><a href='/posts/{slug(t)}.html'>A guide to travelling by {t} in Europe</a></li>"
        for t in own
    )
    box = "".join(  # the same two links on every page
        f"<li><a href='/posts/{slug(t)}.html'>Everything about {t} this summer</a></li>"
        for t in TOPICS[:2]
    )
    prose = "".join(
        f"<p>Paragraph {k} on {topic}: how the timetable works, what a ticket costs and "
        "why the slow way round is often the better one for a traveller.</p>"
        for k in range(4)
    )
    return (
        f"<html><head><title>Travelling by {topic}</title></head><body>"
        f"<main><article><h1>Travelling by {topic}</h1>{prose}"
        f"<h3>Related posts</h3><ul>{related}</ul></article></main>"
        f"<div class='box'><h3>More stories</h3><ul>{box}</ul></div></body></html>"
    )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "posts").mkdir()
    links = "".join(f"<a href='/posts/{slug(t)}.html'>{t}</a> " for t in TOPICS)
    (root / "index.html").write_text(f"<html><body>{links}</body></html>")
    for n, topic in enumerate(TOPICS):
        (root / "posts" / f"{slug(topic)}.html").write_text(article(n, topic))

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    db = root.parent / "site.duckdb"
    try:
        # no --profile: a site no built-in profile is written for is read in generic mode
        result = run_relnews("crawl", "--url", url, "--db", str(db))
        assert "profile: generic" in result.stderr
    finally:
        httpd.shutdown()
        httpd.server_close()
    con = duckdb.connect(str(db), read_only=True)
    yield url, con
    con.close()


def test_a_box_repeated_on_most_pages_is_site_wide_furniture(crawled):
    url, con = crawled
    page = f"{url}posts/trams.html"
    rows = con.execute(
        "SELECT heading, target_url, found_by, confidence FROM related_links"
        " WHERE source_url = ? ORDER BY position",
        [page],
    ).fetchall()
    by_heading: dict[str, set[tuple[str, float]]] = {}
    for heading, _target, found_by, confidence in rows:
        by_heading.setdefault(heading, set()).add((found_by, confidence))
    assert by_heading["More stories"] == {("site-wide", 0.0)}
    assert by_heading["Related posts"] == {("heading", 0.9)}


def test_the_pages_own_block_is_what_the_archive_serves(crawled):
    url, con = crawled
    current = con.execute(
        "SELECT target_url FROM current_links WHERE source_url = ? ORDER BY position",
        [f"{url}posts/trams.html"],
    ).fetchall()
    own = [TOPICS[(3 + 1) % len(TOPICS)], TOPICS[(3 + 3) % len(TOPICS)]]
    assert [target for (target,) in current] == [f"{url}posts/{slug(t)}.html" for t in own]
