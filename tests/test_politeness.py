"""Crawl-delay and Retry-After are obeyed (tested on 127.0.0.1 with politeness forced on:
relnews turns it off for sites served on the machine itself)."""

from __future__ import annotations

import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run_relnews
from crawler.politeness import retry_after_seconds


class PoliteSite:
    """robots.txt with Crawl-delay: 0.5; an index of two pages; /busy answers 503 with
    Retry-After: 1 the first time."""

    def __init__(self) -> None:
        self.log: list[tuple[float, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site.log.append((time.monotonic(), self.path))
                status, headers, body = 200, {}, b""
                if self.path == "/robots.txt":
                    body = b"User-agent: *\nCrawl-delay: 0.5\n"
                elif self.path == "/":
                    links = "".join(f'<a href="/p{n}.html">p{n}</a>' for n in range(2))
                    body = f'<html><body>{links}<a href="/busy">b</a></body></html>'.encode()
                elif self.path == "/busy" and sum(p == "/busy" for _, p in site.log) == 1:
                    status, headers = 503, {"Retry-After": "1"}
                else:
                    body = b"<html><body><h1>Page</h1><article><p>Text.</p></article></body></html>"
                self.send_response(status)
                for name, value in {"Content-Type": "text/html", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self) -> PoliteSite:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def polite_crawl(tmp_path_factory):
    db = tmp_path_factory.mktemp("polite") / "p.duckdb"
    with PoliteSite() as site:
        result = run_relnews(
            "crawl", "--profile", "generic", "--url", site.url, "--db", str(db),
            "-s", "RELNEWS_POLITE=true", "-s", "RETRY_TIMES=2", check=False,
        )  # fmt: skip
    return site, result


def test_crawl_delay_is_obeyed(polite_crawl):
    site, result = polite_crawl
    assert result.returncode == 0, result.stderr
    times = [at for at, path in site.log if path != "/robots.txt"]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert len(times) >= 5  # /, two pages, /busy twice
    assert min(gaps) >= 0.45, gaps  # Crawl-delay: 0.5, with no jitter below it
    assert statistics.median(gaps) < 1.25, gaps  # and not much more than asked


def test_retry_after_is_obeyed(polite_crawl):
    site, _ = polite_crawl
    busy = [at for at, path in site.log if path == "/busy"]
    assert len(busy) == 2  # the 503, then the retry
    assert busy[1] - busy[0] >= 0.95


def test_retry_after_is_read_in_both_forms():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0
    assert retry_after_seconds("") is None
