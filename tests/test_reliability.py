"""The reliability suite: a crawl of a hostile site (tests/faultsite.py) on 127.0.0.1.

Nothing outside http(s) of the site is fetched, however the URL arrives (link, redirect,
meta refresh, sitemap entry, start URL); every fault leaves a fetch row with a readable
reason; no page is lost or stored twice.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from faultsite import (
    CP1252_TITLE,
    PROFILE,
    SECRET,
    TWIN_SPELLINGS,
    FaultSite,
    Tripwire,
    check_crawl,
    crawl_command,
)
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from conftest import run_relnews
from crawler.guard import RefusedRequest, UrlGuard, private_address
from crawler.page.urls import canonical_url, fetch_refusal
from crawler.profiles import load_profile
from crawler.spiders.articles import ArticleSpider


@pytest.fixture(scope="module")
def tripwire():
    with Tripwire() as wire:
        yield wire


@pytest.fixture(scope="module")
def fault_crawl(tripwire, tmp_path_factory):
    """One crawl of the fault site, with a secret in the crawler's environment."""
    folder = tmp_path_factory.mktemp("faults")
    profile = folder / "faultsite.toml"
    profile.write_text(PROFILE)
    db = folder / "faults.duckdb"
    os.environ["RELNEWS_TEST_SECRET"] = SECRET  # what /proc/self/environ would show
    try:
        with FaultSite(tripwire) as site:
            result = run_relnews(*crawl_command(site, str(db), str(profile)), check=False)
    finally:
        del os.environ["RELNEWS_TEST_SECRET"]
    return site, db, result


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_no_forbidden_target_is_fetched(fault_crawl, tripwire):
    site, db, result = fault_crawl
    check = check_crawl(str(db), site)
    assert tripwire.total == 0, tripwire.hits
    assert check.forbidden_fetched == []
    assert check.leaked == []
    # every URL that is not http(s) of the site, if recorded at all, is recorded refused
    base = site.url.rstrip("/")
    for url, status, error in query(db, "SELECT url, status, error FROM fetches"):
        if not url.startswith(base + "/"):
            assert status is None and error.startswith("refused: "), (url, error)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("channel", ["redirect", "refresh"])
def test_redirects_and_meta_refreshes_out_of_the_site_are_refused(fault_crawl, channel):
    site, db, _ = fault_crawl
    for name in site.forbidden_urls:
        rows = query(
            db,
            "SELECT error, final_url FROM fetches WHERE url = ?",
            [f"{site.url}{channel}/{name}"],
        )
        assert rows, name
        ((error, final_url),) = rows
        assert error.startswith("redirect refused: "), (name, error)
        assert "not http or https" in error or "is not an allowed site" in error
    # a refused hop is no alias of the page
    assert query(db, "SELECT count(*) FROM url_aliases WHERE url NOT LIKE 'http%'") == [(0,)]


def test_sitemap_entries_out_of_the_site_are_recorded_refused(fault_crawl):
    site, db, _ = fault_crawl
    refused = dict(query(db, "SELECT url, error FROM fetches WHERE error LIKE 'refused: %'"))
    for name in ("file", "ftp", "other-port", "other-address"):
        url = site.forbidden_urls[name]
        assert any(stored.startswith(url.rstrip("/")) for stored in refused), (name, refused)
    # the nested sitemap on another address, named by the site's sitemap index
    assert any("127.0.0.2" in url and url.endswith("/sitemap.xml") for url in refused)


def test_every_fault_is_survived_and_recorded(fault_crawl):
    site, db, result = fault_crawl
    check = check_crawl(str(db), site)
    assert check.failed_faults == []
    assert check.rows_lost == []
    assert check.duplicate_rows == 0
    errors = dict(query(db, "SELECT url, error FROM fetches WHERE error IS NOT NULL"))
    url = site.url
    assert errors[url + "truncated"].startswith("truncated")
    assert errors[url + "huge/length"].startswith("too large")
    assert errors[url + "huge/chunked"].startswith("too large")
    assert "once decompressed" in errors[url + "bomb/gzip"]
    assert "once decompressed" in errors[url + "bomb/deflate"]
    assert errors[url + "hang"].startswith("timed out")
    assert errors[url + "reset"].startswith("connection lost")
    assert errors[url + "loop/b"].startswith("redirect loop")
    assert "redirect chain cut" in errors[url + "chain/19"]
    assert all(text.strip() and not text.endswith(": ") for text in errors.values())
    assert result.returncode == 2  # some pages failed: partial


def test_one_page_under_many_spellings_is_one_article(fault_crawl):
    site, db, _ = fault_crawl
    for name in ("twin", "spelled"):
        rows = query(
            db, "SELECT url FROM articles WHERE lower(url) LIKE ?", [f"%/article/%{name}%"]
        )
        assert len(rows) == 1, rows
    aliases = dict(query(db, "SELECT alias_url, url FROM url_aliases"))
    twin = site.url + "article/twin/"
    for spelling in TWIN_SPELLINGS:
        url = canonical_url(site.url.rstrip("/") + spelling)
        assert url == twin or aliases.get(url) == twin, (spelling, aliases.get(url))


def test_pages_with_bad_bytes_are_stored_as_articles(fault_crawl):
    site, db, _ = fault_crawl
    titles = dict(query(db, "SELECT url, title FROM latest_articles"))
    assert titles[site.url + "article/latin1.html"] == "Café crème à Besançon"
    assert titles[site.url + "article/cp1252.html"] == CP1252_TITLE
    assert titles[site.url + "article/lying-charset.html"] == CP1252_TITLE
    for path in ("control", "bad-links", "malformed", "bad-charset", "huge-attribute"):
        assert site.url + f"article/{path}.html" in titles, path


def test_what_could_not_be_read_is_recorded_on_the_fetch_and_counted(fault_crawl):
    site, db, result = fault_crawl
    warnings = dict(query(db, "SELECT url, warnings FROM fetches WHERE warnings IS NOT NULL"))
    assert warnings[site.url + "article/control.html"].startswith("control characters: ")
    assert (
        "malformed links: 3 (first 'http://[ccpa-preferences]')"
        in (warnings[site.url + "article/bad-links.html"])
    )
    assert site.url + "article/latin1.html" not in warnings  # a clean page has none
    assert query(db, "SELECT url FROM fetches WHERE url LIKE '%replytocom%'") == []
    summary = next(line for line in result.stdout.splitlines() if line.startswith("run "))
    assert f"{len(warnings)} pages with warnings" in summary


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "data:text/html,<h1>x</h1>", "ftp://127.0.0.1/", "127.0.0.1:8765"],
)
def test_a_start_url_that_is_not_http_is_refused_in_one_line(url, tmp_path):
    result = run_relnews(
        "crawl", "--profile", "generic", "--url", url, "--db", str(tmp_path / "x.duckdb"),
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "is not an http(s) address" in result.stderr
    assert not (tmp_path / "x.duckdb").exists()


def test_a_profile_start_url_on_another_port_is_refused(tripwire, tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text(
        f'name = "p"\nallowed_domains = ["127.0.0.1:9"]\nstart_urls = ["{tripwire.url()}"]\n'
    )
    result = run_relnews(
        "crawl", "--profile", str(profile), "--db", str(tmp_path / "x.duckdb"), check=False
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "is not an allowed site" in result.stderr
    assert tripwire.total == 0


def test_a_name_that_resolves_to_a_private_address_is_refused(tripwire, tmp_path):
    """The resolved address is checked, not the name: 'localhost' is 127.0.0.1."""
    with FaultSite(tripwire) as site:
        profile = tmp_path / "p.toml"
        profile.write_text(
            'name = "p"\nallow_private_addresses = false\n'
            f'start_urls = ["http://localhost:{site.port}/"]\n'
        )
        db = tmp_path / "x.duckdb"
        result = run_relnews("crawl", "--profile", str(profile), "--db", str(db), check=False)
        assert sum(site.requests.values()) == 0
    assert "Traceback" not in result.stderr
    ((error,),) = query(db, "SELECT error FROM fetches")
    assert error == "refused: localhost resolves to 127.0.0.1, a private address"


def test_the_guard_refuses_what_the_profile_does_not_allow():
    profile = load_profile("demo").resolve("http://127.0.0.1:8765/")
    crawler = get_crawler(ArticleSpider, {"RELNEWS_DB": ""})
    crawler.spider = ArticleSpider(profile=profile)
    guard = UrlGuard.from_crawler(crawler)
    crawler.stats.open_spider()
    assert guard.process_request(Request("http://127.0.0.1:8765/news/")) is None
    for url in (
        "file://127.0.0.1/etc/passwd",
        "ftp://127.0.0.1:8765/",
        "http://127.0.0.1:8766/",
        "http://127.0.0.2:8765/",
        "https://127.0.0.1/",
        "s3://127.0.0.1/bucket",
    ):
        with pytest.raises(RefusedRequest):
            guard.process_request(Request(url))
    assert crawler.stats.get_value("relnews/refused") == 6


def test_fetch_refusal_rule():
    allowed = ["example.org", "127.0.0.1:8765"]
    assert fetch_refusal("https://example.org/a", allowed) is None
    assert fetch_refusal("http://news.example.org/a", allowed) is None  # subdomain
    assert fetch_refusal("http://127.0.0.1:8765/", allowed) is None
    assert fetch_refusal("http://evilexample.org/", allowed) is not None
    assert fetch_refusal("http://example.org:8080/", allowed) is not None
    assert fetch_refusal("http://127.0.0.1/", allowed) is not None
    assert fetch_refusal("http://1.0.0.127.example.org.evil/", allowed) is not None
    assert fetch_refusal("file://example.org/etc/passwd", allowed) is not None
    assert fetch_refusal("http://[ccpa-preferences]/", allowed).startswith("malformed")
    assert private_address("127.0.0.1") == "127.0.0.1"
    assert private_address("169.254.169.254") == "169.254.169.254"
    assert private_address("::ffff:10.0.0.1") is not None  # IPv4-mapped
    assert private_address("93.184.216.34") is None


def test_other_download_handlers_are_off():
    from crawler.run import crawl_settings

    profile = load_profile("demo").resolve("http://127.0.0.1:8765/")
    handlers = crawl_settings("x.duckdb", profile).getdict("DOWNLOAD_HANDLERS")
    assert {handlers[scheme] for scheme in ("file", "data", "ftp", "s3")} == {None}


def test_the_resolver_checks_the_address_a_connection_would_use():
    """A name that passed the guard and then resolves to a private address (DNS
    rebinding) fails to resolve."""
    from types import SimpleNamespace

    from twisted.internet.error import DNSLookupError

    from crawler.guard import GuardedResolver

    remote = load_profile("generic").resolve("http://news.example.invalid/")
    resolver = GuardedResolver(None, 0, 5.0)
    resolver.crawler = SimpleNamespace(spider=SimpleNamespace(profile=remote))
    assert resolver._check("93.184.216.34", "news.example.invalid") == "93.184.216.34"
    for address in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1"):
        with pytest.raises(DNSLookupError, match="a private address"):
            resolver._check(address, "news.example.invalid")
    local = load_profile("demo").resolve("http://127.0.0.1:8765/")
    resolver.crawler = SimpleNamespace(spider=SimpleNamespace(profile=local))
    assert resolver._check("127.0.0.1", "127.0.0.1") == "127.0.0.1"


REBIND_CRAWL = """
import sys
from crawler.profiles import profile_from_dict
from crawler.run import crawl
from crawler.settings import DOWNLOADER_MIDDLEWARES
profile = profile_from_dict({"name": "p", "allow_private_addresses": False,
                             "start_urls": [sys.argv[1]]})
# the guard switched off: only the resolver stands between the crawl and 127.0.0.1
middlewares = {**DOWNLOADER_MIDDLEWARES, "crawler.guard.UrlGuard": None}
summary = crawl(sys.argv[2], profile, overrides={
    "DOWNLOADER_MIDDLEWARES": middlewares, "ROBOTSTXT_OBEY": False, "RETRY_TIMES": 0})
print(summary.status)
"""


def test_the_resolver_refuses_a_private_address_at_connection_time(tripwire, tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    db = tmp_path / "rebind.duckdb"
    with FaultSite(tripwire) as site:
        result = subprocess.run(
            [sys.executable, "-c", REBIND_CRAWL, f"http://localhost:{site.port}/", str(db)],
            capture_output=True, text=True, cwd=ROOT, timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert sum(site.requests.values()) == 0, site.requests
    assert result.stdout.strip() == "failed", result.stderr
    assert query(db, "SELECT error FROM fetches") == [
        ("refused: localhost resolves to 127.0.0.1, a private address",)
    ]
