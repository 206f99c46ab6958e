"""A hostile site for the reliability suite: every fault a real server can throw at a crawl.

``FaultSite`` serves, on 127.0.0.1, a few ordinary articles beside pages that answer
500, 503 with Retry-After, slowly or never, reset the connection, truncate their body,
grow past any limit with or without Content-Length, gzip and deflate bombs, binary
bodies served as HTML, bad and missing charsets, control characters, malformed HTML and
URLs, redirect loops and long chains, redirects, meta refreshes, links and sitemap
entries to ``file:``, ``ftp:``, ``data:``, ``javascript:``, another port and another
loopback address, one page under many spellings, an endless calendar and pagination,
and a robots.txt with Disallow and Crawl-delay.

``Tripwire`` is the other side of the fence: a server on another port of 127.0.0.1 and
on 127.0.0.2 that counts every connection made to it. A crawl of the fault site must
leave it at zero.

It is written on the standard library's socket server on purpose: a fault injector
must be able to send what no web framework would (a short body, a reset, a lie in
Content-Length).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

#: Secret that a crawl could only store by reading this machine's environment.
SECRET = "relnews-tripwire-secret-4f1c"

#: The title of the windows-1252 pages: curly quotes, the euro sign, û.
CP1252_TITLE = "L’été coûte 5 € : “garanti”"

#: Spellings of /article/twin/, a page that has no canonical link.
TWIN_SPELLINGS = (
    "/article/twin",
    "/article/twin/index.html",
    "/article/TWIN/",
    "/article//twin/",
    "/article/twin/?print=1",
    "/article/twin/?page=1",
    "/article/twin/?lang=fr",
)

#: Bodies past relnews' 10 MB limit.
HUGE = 12 * 1024 * 1024


class Tripwire:
    """Counts every TCP connection on ``port`` of each of ``hosts`` (HTTP or not)."""

    def __init__(self, hosts: tuple[str, ...] = ("127.0.0.1", "127.0.0.2")) -> None:
        self.hits: Counter[str] = Counter()
        self._servers: list[socketserver.ThreadingTCPServer] = []
        port = 0
        for host in hosts:
            server = socketserver.ThreadingTCPServer((host, port), self._handler())
            server.daemon_threads = True
            port = server.server_address[1]
            self._servers.append(server)
        self.port = port
        self.hosts = hosts

    def _handler(self) -> type[socketserver.BaseRequestHandler]:
        tripwire = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                host = self.request.getsockname()[0]
                tripwire.hits[host] += 1
                with contextlib.suppress(OSError):
                    self.request.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\nstolen!")

        return Handler

    def url(self, host: str = "127.0.0.1", path: str = "/stolen") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def total(self) -> int:
        return sum(self.hits.values())

    def __enter__(self) -> Tripwire:
        for server in self._servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()


def _article(title: str, body: str, related: tuple[str, ...] = (), extra: str = "") -> str:
    items = "".join(f'<li><a href="{href}">Related {href}</a></li>' for href in related)
    block = f'<aside class="related"><h2>Related</h2><ul>{items}</ul></aside>' if related else ""
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><h1>{title}</h1><article><p>{body}</p></article>{block}{extra}"
        "</body></html>"
    )


@functools.cache
def _bomb(encoding: str) -> bytes:
    """About 100 kB that inflate to 100 MB."""
    plain = b"<p>" + b"0" * (100 * 1024 * 1024)
    return gzip.compress(plain, compresslevel=6) if encoding == "gzip" else zlib.compress(plain, 6)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # resets and cut connections are the point here


@dataclass
class Fault:
    """One fault the site injects: where, what, and how a surviving crawl records it."""

    path: str
    kind: str
    #: "row" the fault page gets a fetch row (with an error or status); "article": it is
    #: stored as an article all the same; "none": nothing fetched, nothing stored.
    expect: str = "row"


@dataclass
class FaultSite:
    """The hostile site. ``url`` is its address once entered; ``faults`` what it injects."""

    tripwire: Tripwire
    hang_seconds: float = 6.0
    requests: Counter[str] = field(default_factory=Counter)
    log: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._stop = threading.Event()

    # -- what is served -------------------------------------------------------------------

    @property
    def forbidden_urls(self) -> dict[str, str]:
        """Targets a crawl must never fetch, by name."""
        other_port = self.tripwire.url("127.0.0.1")
        return {
            "file": "file://127.0.0.1/etc/passwd",
            "file-environ": "file:///proc/self/environ",
            "file-zero": "file://127.0.0.1/dev/zero",
            "ftp": f"ftp://127.0.0.1:{self.tripwire.port}/",
            "data": "data:text/html,<h1>data</h1><p>injected</p>",
            "javascript": "javascript:alert(1)",
            "other-port": other_port,
            "other-address": self.tripwire.url("127.0.0.2"),
            "other-port-https": f"https://127.0.0.1:{self.tripwire.port}/s",
        }

    @property
    def articles(self) -> list[str]:
        """The ordinary articles, which every crawl must store."""
        return [f"/article/{n}.html" for n in range(1, 9)] + [
            "/article/latin1.html",
            "/article/cp1252.html",
            "/article/lying-charset.html",
            "/article/control.html",
            "/article/bad-links.html",
            "/article/malformed.html",
            "/article/bad-charset.html",
            "/article/huge-attribute.html",
            "/article/spelled.html",
            "/article/twin/",
        ]

    @property
    def faults(self) -> list[Fault]:
        faults = [
            Fault("/status/500", "server error"),
            Fault("/status/503", "503 with Retry-After"),
            Fault("/slow", "slow answer"),
            Fault("/hang", "answer that never comes"),
            Fault("/reset", "connection reset"),
            Fault("/truncated", "truncated body"),
            Fault("/huge/length", "oversized body with Content-Length"),
            Fault("/huge/chunked", "oversized body without Content-Length"),
            Fault("/bomb/gzip", "gzip bomb"),
            Fault("/bomb/deflate", "deflate bomb"),
            Fault("/binary", "binary served as HTML"),
            Fault("/loop/a", "redirect loop"),
            Fault("/chain/0", "60-hop redirect chain"),
            Fault("/calendar?month=0", "endless calendar", expect="none"),
            Fault("/list/page/1", "endless pagination", expect="none"),
            Fault("/private/secret.html", "disallowed by robots.txt", expect="none"),
            Fault("/article/latin1.html", "latin-1 without a charset", expect="article"),
            Fault("/article/cp1252.html", "windows-1252 without a charset", expect="article"),
            Fault(
                "/article/lying-charset.html", "windows-1252 declared as UTF-8", expect="article"
            ),
            Fault("/article/control.html", "control characters", expect="article"),
            Fault("/article/bad-links.html", "malformed URLs", expect="article"),
            Fault("/article/malformed.html", "malformed HTML", expect="article"),
            Fault("/article/bad-charset.html", "unknown charset", expect="article"),
            Fault("/article/huge-attribute.html", "huge attribute", expect="article"),
            Fault("/article/spelled.html", "one page, many spellings", expect="article"),
            Fault("/article/twin/", "many spellings, no canonical link", expect="article"),
        ]
        for name in self.forbidden_urls:
            faults.append(Fault(f"/redirect/{name}", f"redirect to {name}"))
            faults.append(Fault(f"/refresh/{name}", f"meta refresh to {name}"))
        faults.append(Fault("/", "links to every forbidden target", expect="row"))
        faults.append(Fault("/robots.txt", "sitemap entries to forbidden targets", expect="none"))
        return faults

    def _index(self) -> str:
        links = [*self.articles, *(f.path for f in self.faults if f.path != "/")]
        links += list(self.forbidden_urls.values())
        links += [
            "/article/spelled.html/",  # spellings of one page
            "/article/spelled.html?print=1",
            "/article//spelled.html",
            "http://[ccpa-preferences]",
            *TWIN_SPELLINGS,
        ]
        items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
        return f"<!doctype html><html><body><h1>Fault site</h1><ul>{items}</ul></body></html>"

    def _sitemap(self) -> str:
        locs = [self.url.rstrip("/") + path for path in self.articles[:4]]
        locs += list(self.forbidden_urls.values())
        entries = "".join(f"<url><loc>{loc.replace('&', '&amp;')}</loc></url>" for loc in locs)
        return (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</urlset>"
        )

    def _sitemap_index(self) -> str:
        """A sitemap index naming a sitemap on the tripwire beside the site's own."""
        locs = [self.tripwire.url("127.0.0.2", "/sitemap.xml"), f"{self.url}sitemap-pages.xml"]
        entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
        return (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            f'sitemap/0.9">{entries}</sitemapindex>'
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site.requests[self.path] += 1
                site.log.append((time.monotonic(), self.path))
                with contextlib.suppress(OSError):
                    site._serve(self)

        return Handler

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes = b"",
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:  # noqa: C901 - one route a fault
        parts = urlsplit(handler.path)
        path = parts.path
        html = "text/html; charset=utf-8"
        forbidden = self.forbidden_urls
        if path == "/robots.txt":
            body = b"User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n"
            body += f"Sitemap: {self.url}sitemap-index.xml\n".encode()
            return self._send(handler, 200, body, "text/plain")
        if path == "/sitemap-index.xml":
            return self._send(handler, 200, self._sitemap_index().encode(), "application/xml")
        if path == "/sitemap-pages.xml":
            return self._send(handler, 200, self._sitemap().encode(), "application/xml")
        if path == "/":
            return self._send(handler, 200, self._index().encode())
        if path.startswith("/article/") and path.endswith(".html") and path[9:-5].isdigit():
            n = int(path[9:-5])
            related = tuple(f"/article/{m}.html" for m in (n % 8 + 1, (n + 1) % 8 + 1))
            page = _article(f"Article {n}", f"Body of article number {n}. " * 20, related)
            return self._send(handler, 200, page.encode())
        if path == "/article/latin1.html":
            page = _article("Café crème à Besançon", "Un été où l'on mangea des crêpes. " * 20)
            body = page.replace("<meta charset='utf-8'>", "").encode("latin-1")
            return self._send(handler, 200, body, "text/html")
        if path in ("/article/cp1252.html", "/article/lying-charset.html"):
            said = "dit-il" if "lying" in path else "dit-elle"  # two pages, not one twice
            page = _article(CP1252_TITLE, f"Le “vrai” coût : 5 € l’unité, {said}. " * 20)
            if path == "/article/cp1252.html":
                page = page.replace("<meta charset='utf-8'>", "")
            return self._send(handler, 200, page.encode("cp1252"), "text/html")
        if path == "/article/control.html":
            page = _article(
                "Control\x1b[31m characters\x07 here", "Text with \x00\x1b\x07 bytes. " * 20
            )
            return self._send(handler, 200, page.encode())
        if path == "/article/bad-links.html":
            extra = '<a href="http://[ccpa-preferences]">x</a><a href="http://%zz/">y</a>'
            extra += '<a href="http://127.0.0.1:99999/">z</a><a href="\x00:">w</a>'
            # a comment-reply link (WordPress): the same page, never fetched again
            extra += '<a href="/article/bad-links.html?replytocom=7#respond">Reply</a>'
            page = _article("Bad links", "A page with malformed links. " * 20, extra=extra)
            return self._send(handler, 200, page.encode())
        if path == "/article/malformed.html":
            body = b"<html><body><h1>Malformed</h1><article><p>Unclosed <b><i>tags " * 3
            body += b"and text. " * 50 + b"</div></span><p><<<>>></article"
            return self._send(handler, 200, body)
        if path == "/article/bad-charset.html":
            page = _article("Bad charset", "Declared in an unknown charset. " * 20)
            return self._send(handler, 200, page.encode(), "text/html; charset=x-no-such-charset")
        if path == "/article/huge-attribute.html":
            extra = f'<div data-x="{"a" * 3_000_000}">x</div>'
            page = _article(
                "Huge attribute", "A page with a very long attribute. " * 20, extra=extra
            )
            return self._send(handler, 200, page.encode())
        if path.lower().replace("//", "/").startswith("/article/twin"):
            # one page, no canonical link, served under every spelling (a CMS would)
            page = _article("Twin", "The same page under many URL spellings. " * 20)
            return self._send(handler, 200, page.encode())
        if path.startswith("/article/") and "spelled" in path:
            page = _article("Spelled many ways", "One page under several URL spellings. " * 20)
            page = page.replace(
                "<head>", f"<head><link rel='canonical' href='{self.url}article/spelled.html'>"
            )
            return self._send(handler, 200, page.encode())
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            headers = {"Retry-After": "1"} if code == 503 else {}
            return self._send(handler, code, b"<h1>error</h1>", html, headers)
        if path == "/slow":
            time.sleep(0.3)  # under the crawl's DOWNLOAD_TIMEOUT
            return self._send(handler, 200, _article("Slow", "Slow page. " * 20).encode())
        if path == "/hang":
            self._stop.wait(self.hang_seconds)
            return None
        if path == "/reset":
            # SO_LINGER 0, then close every handle of the socket: the peer gets a RST
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.rfile.close()
            handler.wfile.close()
            handler.connection.close()
            handler.close_connection = True
            return None
        if path == "/truncated":
            body = _article("Truncated", "Cut short. " * 50).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", html)
            handler.send_header("Content-Length", str(len(body) * 2))
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
            handler.close_connection = True
            return None
        if path == "/huge/length":
            handler.send_response(200)
            handler.send_header("Content-Type", html)
            handler.send_header("Content-Length", str(HUGE))
            handler.end_headers()
            chunk = b"<p>" + b"x" * 65530 + b"</p>"
            for _ in range(HUGE // len(chunk) + 1):
                handler.wfile.write(chunk)
            return None
        if path == "/huge/chunked":
            handler.send_response(200)
            handler.send_header("Content-Type", html)
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            chunk = b"<p>" + b"x" * 65530 + b"</p>"
            for _ in range(HUGE // len(chunk) + 1):
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            handler.wfile.write(b"0\r\n\r\n")
            return None
        if path.startswith("/bomb/") and path[6:] in ("gzip", "deflate"):
            encoding = path[6:]
            return self._send(handler, 200, _bomb(encoding), html, {"Content-Encoding": encoding})
        if path == "/binary":
            body = bytes(range(256)) * 64
            return self._send(handler, 200, body, html)
        if path == "/loop/a":
            return self._send(handler, 302, headers={"Location": "/loop/b"})
        if path == "/loop/b":
            return self._send(handler, 302, headers={"Location": "/loop/a"})
        if path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            target = f"/chain/{n + 1}" if n < 59 else "/article/1.html"
            return self._send(handler, 301, headers={"Location": target})
        if path.startswith("/redirect/") and path[10:] in forbidden:
            return self._send(handler, 302, headers={"Location": forbidden[path[10:]]})
        if path.startswith("/refresh/") and path[9:] in forbidden:
            target = forbidden[path[9:]]
            page = (
                f'<html><head><meta http-equiv="refresh" content="0; url={target}"></head></html>'
            )
            return self._send(handler, 200, page.encode())
        if path == "/calendar":
            month = int((parts.query.partition("=")[2] or "0").split("&")[0] or 0)
            page = f"<html><body><a href='/calendar?month={month + 1}'>next</a></body></html>"
            return self._send(handler, 200, page.encode())
        if path.startswith("/list/page/"):
            n = int(path.rsplit("/", 1)[1])
            page = f"<html><body><a href='/list/page/{n + 1}'>next</a></body></html>"
            return self._send(handler, 200, page.encode())
        return self._send(handler, 404, b"<h1>not found</h1>")

    # -- lifetime -------------------------------------------------------------------------

    def __enter__(self) -> FaultSite:
        _bomb("gzip"), _bomb("deflate")  # made before the crawl asks for them
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()


PROFILE = """
name = "faultsite"
description = "The reliability suite's hostile site"
start_urls = ["/"]
sitemap_urls = ["/robots.txt"]
article_url_pattern = "^/article/"
deny_url_patterns = []

[selectors]
title = "h1"
body = "article p"
related_block = "aside.related"
related_heading = "h2"
related_item = "li"
related_link = "a"
"""


@dataclass
class CrawlCheck:
    """What a crawl of the fault site left in its archive, as the reliability suite
    judges it."""

    faults_injected: int
    faults_survived: int
    failed_faults: list[str]
    rows_with_reason: int
    rows_lost: list[str]  # paths the site answered that have no fetch row
    duplicate_rows: int
    forbidden_hits: int
    forbidden_fetched: list[str]  # non-http(s) or other-site URLs with an answer stored
    leaked: list[str]  # local file or environment contents found in the archive

    @property
    def ok(self) -> bool:
        return not (
            self.failed_faults
            or self.rows_lost
            or self.duplicate_rows
            or self.forbidden_hits
            or self.forbidden_fetched
            or self.leaked
        )


def check_crawl(db: str, site: FaultSite) -> CrawlCheck:
    """Judge the archive ``db`` of one crawl of ``site`` (read-only)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        fetches = con.execute("SELECT run_id, url, status, error FROM fetches").fetchall()
        articles = {row[0] for row in con.execute("SELECT url FROM articles").fetchall()}
        captures = con.execute("SELECT body FROM captures").fetchall()
        duplicates = con.execute(
            "SELECT count(*) FROM (SELECT run_id, url FROM fetches GROUP BY ALL"
            " HAVING count(*) > 1)"
        ).fetchone()[0]
        duplicates += con.execute(
            "SELECT count(*) FROM (SELECT source_url, position FROM related_links"
            " GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
    finally:
        con.close()
    base = site.url.rstrip("/")
    by_path: dict[str, list[tuple]] = {}
    forbidden_fetched = []
    for _run, url, status, error in fetches:
        if url.startswith(base + "/"):
            by_path.setdefault(url[len(base) :], []).append((status, error))
        elif status is not None:
            forbidden_fetched.append(url)
    failed = []
    for fault in site.faults:
        rows = by_path.get(fault.path, [])
        if fault.expect == "article":
            survived = base + fault.path in articles
        elif fault.expect == "row":
            survived = bool(rows) and all(error or status is not None for status, error in rows)
        else:
            survived = all(status is not None for status, _ in rows)
        if not survived:
            failed.append(f"{fault.kind} ({fault.path})")
    answered = {
        path
        for path in site.requests
        if not path.startswith(("/robots.txt", "/sitemap"))
        and path not in ("/hang", "/reset")  # the site never answers these
    }
    lost = sorted(path for path in answered if _canonical_path(path) not in by_path)
    leaked = []
    for (body,) in captures:
        text = zlib.decompress(body) if isinstance(body, bytes) else b""
        for marker in (b"root:x:0:0", SECRET.encode()):
            if marker in text:
                leaked.append(marker.decode())
    return CrawlCheck(
        faults_injected=len(site.faults),
        faults_survived=len(site.faults) - len(failed),
        failed_faults=failed,
        rows_with_reason=sum(1 for *_, error in fetches if error),
        rows_lost=lost,
        duplicate_rows=duplicates,
        forbidden_hits=site.tripwire.total,
        forbidden_fetched=forbidden_fetched,
        leaked=leaked,
    )


def _canonical_path(path: str) -> str:
    from crawler.page.urls import canonical_url

    return canonical_url("http://x" + path)[len("http://x") :]


def crawl_command(site: FaultSite, db: str, profile_file: str) -> list[str]:
    """``relnews crawl`` arguments for the fault site, with short timeouts."""
    return [
        "crawl", "--profile", profile_file, "--url", site.url, "--db", db,
        "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=1",
    ]  # fmt: skip
