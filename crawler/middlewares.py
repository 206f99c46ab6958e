"""Downloader middlewares that let the archive answer for the network when it can."""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request, Response

from crawler.session import WarehouseSession
from warehouse.model import Validator

#: Flag on a response rebuilt from the archive for a page this run already stored
#: before it was cut off: the spider follows its links and stores nothing.
REPLAYED = "relnews-replayed"
#: Flag on a 304 response that carries the stored page the server confirmed.
NOT_MODIFIED = "relnews-not-modified"


class ArchiveMiddleware:
    """Conditional requests, and resumption from the archive.

    - A page the archive holds is asked for with ``If-None-Match`` / ``If-Modified-Since``;
      a ``304 Not Modified`` answer is handed on with the stored page as its body, so the
      spider still finds its links without downloading it again.
    - When a killed crawl is taken up again, the pages its run already stored are replayed
      from the archive instead of fetched: the crawl walks the site again for free up to
      where it stopped, and no page is fetched or stored twice.

    Settings: ``RELNEWS_CONDITIONAL`` (default True).
    """

    def __init__(self, crawler: Crawler, conditional: bool) -> None:
        self.crawler = crawler
        self.conditional = conditional
        self.validators: dict[str, Validator] = {}
        self.replays: dict[str, tuple[Any, ...]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        if not crawler.settings.get("RELNEWS_DB"):
            raise NotConfigured
        middleware = cls(crawler, crawler.settings.getbool("RELNEWS_CONDITIONAL", True))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    @property
    def session(self) -> WarehouseSession:
        return WarehouseSession.of(self.crawler)

    def spider_opened(self, spider: Any = None) -> None:
        session = self.session
        session.begin_run()
        if self.conditional:
            self.validators = session.validators()
        self.replays = session.run_fetches()
        live = session.live_articles()
        session.release()
        spider = spider or self.crawler.spider
        # The spider skips sitemap entries whose lastmod is older than the stored page,
        # but not the pages this run stored before it was cut off: they are replayed, so
        # that the links they hold are followed.
        spider.stored_pages = {
            url: validator for url, validator in self.validators.items() if url not in self.replays
        }
        # ...and revisits, when the crawl is done, the live articles it did not ask for.
        spider.live_articles = live
        self.crawler.stats.set_value("relnews/replayable", len(self.replays))

    def _is_page(self, request: Request) -> bool:
        return getattr(request.callback, "__name__", "") == "parse_page"

    def process_request(self, request: Request, spider: Any = None) -> Response | None:
        if not self._is_page(request):
            return None
        replay = self.replays.pop(request.url, None)
        if replay is not None:
            return self._replay(request, *replay)
        validator = self.validators.get(request.url)
        if validator is not None:
            if validator.etag:
                request.headers.setdefault("If-None-Match", validator.etag)
            if validator.last_modified:
                request.headers.setdefault("If-Modified-Since", validator.last_modified)
            request.meta["relnews_validator"] = validator
            self.crawler.stats.inc_value("relnews/conditional_requests")
        return None

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response | Request:
        validator = request.meta.get("relnews_validator")
        if response.status != 304 or validator is None:
            return response
        body = self.session.capture(validator.content_hash)
        if body is None:  # the capture is gone: fetch the page for real
            retry = request.replace(dont_filter=True)
            retry.meta.pop("relnews_validator", None)
            self.validators.pop(request.url, None)
            return retry
        self.crawler.stats.inc_value("relnews/not_modified")
        return HtmlResponse(
            url=response.url,
            status=304,
            headers=response.headers,
            body=body,
            encoding=validator.encoding or "utf-8",
            request=request,
            flags=[NOT_MODIFIED],
        )

    def _replay(
        self, request: Request, status: int | None, final_url: str | None, content_hash: str | None
    ) -> Response:
        self.crawler.stats.inc_value("relnews/replayed")
        body = self.session.capture(content_hash) if content_hash else None
        if body is not None:
            return HtmlResponse(
                url=request.url, status=status or 200, body=body, request=request, flags=[REPLAYED]
            )
        headers = {"Location": final_url} if final_url and final_url != request.url else {}
        return Response(
            url=request.url, status=status or 0, headers=headers, request=request, flags=[REPLAYED]
        )
