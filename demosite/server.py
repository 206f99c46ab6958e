"""A tiny HTTP server for the demo site, run in a background thread.

>>> with DemoServer() as server:          # doctest: +SKIP
...     server.url
'http://127.0.0.1:40123/'
"""

from __future__ import annotations

import hashlib
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from demosite import pages
from demosite.content import DEFAULT_SEED, DemoSite, build_site

Clock = Callable[[], datetime]

_LISTING = re.compile(r"^/news/([a-z0-9-]+)/$")
_THEME = re.compile(r"^/themes/([a-z0-9-]+)\.htm$")
_IMAGE = re.compile(r"^/images/([a-z0-9-]+)\.svg$")


def utc_now() -> datetime:
    """The current time as a naive UTC datetime, like the site's publication dates."""
    return datetime.now(UTC).replace(tzinfo=None)


class DemoServer:
    """Serve a demo site on ``host:port`` (0 = a free port) until closed.

    ``clock`` gives the time the displayed ages are computed against (the real current
    UTC time by default); tests may pass a fixed one. ``related`` is how the site's
    related blocks are filled (see :func:`demosite.content.build_site`) when no ``site``
    is given.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        site: DemoSite | None = None,
        seed: int = DEFAULT_SEED,
        verbose: bool = False,
        clock: Clock = utc_now,
        related: str = "editorial",
    ) -> None:
        self.site = site if site is not None else build_site(seed, related=related)
        self.verbose = verbose
        self.clock = clock
        self._httpd = ThreadingHTTPServer((host, port), _handler_class(self))
        self._httpd.daemon_threads = True
        bound_host, bound_port = self._httpd.server_address[:2]
        self.host = str(bound_host)
        self.port = int(bound_port)
        self._thread: threading.Thread | None = None
        self.stats: Counter[str] = Counter()  # requests served, 304s sent

    @property
    def url(self) -> str:
        """The site's root URL, with a trailing slash: ``http://127.0.0.1:PORT/``."""
        return f"{self.base_url}/"

    @property
    def base_url(self) -> str:
        """The root URL without its trailing slash, to prefix paths with."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> DemoServer:
        """Start serving in a daemon thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="demosite", daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (for ``python -m demosite``)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _handler_class(server: DemoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        demo = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    demo: DemoServer
    server_version = "SanteDemo/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive, as real sites do
    timeout = 30  # seconds an idle keep-alive connection may hold a thread

    # http.server dispatches to methods named after the HTTP verb.
    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        if self.demo.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def _respond(self, send_body: bool) -> None:
        status, headers, body = self._route()
        self.demo.stats["requests"] += 1
        if status == HTTPStatus.OK:
            # Conditional requests, as a well-run site answers them (RFC 9110 13.2.2:
            # If-None-Match wins over If-Modified-Since).
            headers["ETag"] = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if_none_match = self.headers.get("If-None-Match")
            if_modified_since = self.headers.get("If-Modified-Since")
            not_modified = False
            if if_none_match is not None:
                not_modified = headers["ETag"] in [tag.strip() for tag in if_none_match.split(",")]
            elif if_modified_since and "Last-Modified" in headers:
                try:
                    since = parsedate_to_datetime(if_modified_since)
                    not_modified = parsedate_to_datetime(headers["Last-Modified"]) <= since
                except (TypeError, ValueError):
                    not_modified = False
            if not_modified:
                self.demo.stats["not_modified"] += 1
                status, body = HTTPStatus.NOT_MODIFIED, b""
                headers.pop("Content-Type", None)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _route(self) -> tuple[int, dict[str, str], bytes]:
        demo = self.demo
        site = demo.site
        faults = site.faults
        url = urlsplit(self.path)
        path = url.path
        now = demo.clock()

        if path == "/":
            return _html(pages.home_page(site, now))
        if path == "/robots.txt":
            return _text(pages.robots_txt(demo.base_url), "text/plain")
        if path == "/sitemap.xml":
            return _text(pages.sitemap_xml(site, demo.base_url), "application/xml")
        if path == "/admin/login":
            return _html(pages.admin_page(site))
        if path == faults.redirect_from:
            location = demo.base_url + faults.redirect_to
            return HTTPStatus.MOVED_PERMANENTLY, {"Location": location}, b""

        article = site.article_by_path(path)
        if article is not None:
            charset = "windows-1252" if path == faults.windows1252_path else "utf-8"
            text = pages.article_page(site, article, demo.base_url, now, charset)
            status, headers, body = _html(text, charset)
            headers["Last-Modified"] = format_datetime(
                article.last_changed.replace(tzinfo=UTC), usegmt=True
            )
            return status, headers, body

        match = _LISTING.match(path)
        rubrique = site.rubrique(match.group(1)) if match else None
        if rubrique is not None:
            values = parse_qs(url.query).get("page", ["1"])
            page = int(values[0]) if re.fullmatch(r"[0-9]{1,6}", values[0]) else 0
            listing = pages.listing_page(site, rubrique, page, now)
            if listing is not None:
                return _html(listing)

        match = _THEME.match(path)
        theme = site.theme(match.group(1)) if match else None
        if theme is not None:
            return _html(pages.theme_page(site, theme, now))

        match = _IMAGE.match(path)
        rubrique = site.rubrique(match.group(1)) if match else None
        if rubrique is not None:
            return _text(pages.rubrique_image(rubrique), "image/svg+xml")

        status, headers, body = _html(pages.not_found_page(site))
        return HTTPStatus.NOT_FOUND, headers, body


def _html(text: str, charset: str = "utf-8") -> tuple[int, dict[str, str], bytes]:
    # A character the charset lacks becomes a character reference, not an error.
    body = text.encode(charset, errors="xmlcharrefreplace")
    return HTTPStatus.OK, {"Content-Type": f"text/html; charset={charset}"}, body


def _text(text: str, content_type: str) -> tuple[int, dict[str, str], bytes]:
    return HTTPStatus.OK, {"Content-Type": f"{content_type}; charset=utf-8"}, text.encode()
