"""The page limit (``--max-pages``): never more requests to the site than the limit.

Scrapy's ``CLOSESPIDER_PAGECOUNT`` counts responses and closes the crawl once it has
that many, after the requests already sent have come back: ``--max-pages 20`` fetched 33
pages. Here the limit is counted on the requests themselves, as they leave for the site,
and the first request past it is dropped and stops the crawl: the requests sent (fewer
than the limit, or the limit itself) come back and are stored, none more goes out.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import deferred_from_coro

#: The finish reason of a crawl stopped by ``RELNEWS_MAX_PAGES``.
PAGE_LIMIT = "relnews_page_limit"

logger = logging.getLogger(__name__)


class PageLimitReached(IgnoreRequest):
    """A request the page limit kept from the site: nothing was fetched, nothing recorded."""


def stop_crawl(crawler: Crawler, reason: str) -> None:
    """Ask the engine to close the crawl with ``reason`` (the requests under way end first)."""
    engine = crawler.engine
    assert engine is not None, "the crawl is running"
    if hasattr(engine, "close_spider_async"):  # Scrapy 2.14 and later
        closing = deferred_from_coro(engine.close_spider_async(reason=reason))
    else:
        closing = engine.close_spider(crawler.spider, reason)  # type: ignore[arg-type]
    closing.addErrback(lambda failure: logger.error("cannot stop the crawl: %s", failure.value))


class PageLimit:
    """A downloader middleware that lets ``RELNEWS_MAX_PAGES`` requests go to the site,
    every request counted (pages, redirect hops, retries, robots.txt, sitemaps): what a
    person counting the pages fetched would count. Pages replayed from the archive (a
    resumed crawl) are not fetched, and not counted: it sits after the archive's
    middleware. The count is kept in the ``relnews/requests`` stat (the progress line's
    "pages").

    Switched off when ``RELNEWS_MAX_PAGES`` is 0 (the default); it counts all the same.
    """

    def __init__(self, crawler: Crawler, limit: int) -> None:
        self.crawler = crawler
        self.limit = limit
        self.sent = 0
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageLimit:
        limit = crawler.settings.getint("RELNEWS_MAX_PAGES", 0)
        if limit < 0:
            raise NotConfigured
        middleware = cls(crawler, limit)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider: Any = None) -> None:
        self.crawler.stats.set_value("relnews/max_pages", self.limit or None)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if self.limit and self.sent >= self.limit:
            if not self.stopping:
                self.stopping = True
                stop_crawl(self.crawler, PAGE_LIMIT)
            raise PageLimitReached(f"not fetched: the page limit ({self.limit}) was reached")
        self.sent += 1
        self.crawler.stats.set_value("relnews/requests", self.sent)
