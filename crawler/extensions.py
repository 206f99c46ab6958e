"""Crawler extensions: small components switched on by settings."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class ProgressReporter:
    """Prints a progress line every few seconds while a crawl runs, and a summary at its end.

    Switched off with ``RELNEWS_PROGRESS_EVERY = 0``.
    """

    def __init__(self, crawler: Crawler, every: float, stream: TextIO) -> None:
        self.crawler = crawler
        self.every = every
        self.stream = stream
        self.last = 0.0
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressReporter:
        every = crawler.settings.getfloat("RELNEWS_PROGRESS_EVERY", 2.0)
        if every <= 0:
            raise NotConfigured
        reporter = cls(crawler, every, sys.stderr)
        crawler.signals.connect(reporter.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(reporter.spider_closed, signal=signals.spider_closed)
        return reporter

    def _line(self) -> str:
        stats = self.crawler.stats
        pages = stats.get_value("response_received_count", 0)
        articles = stats.get_value("relnews/articles", 0)
        errors = stats.get_value("relnews/fetch_errors", 0) + stats.get_value(
            "relnews/analysis_errors", 0
        )
        queued = stats.get_value("scheduler/enqueued", 0) - stats.get_value("scheduler/dequeued", 0)
        elapsed = time.monotonic() - self.started
        return (
            f"crawl: {pages} responses, {articles} articles, {errors} errors, "
            f"{queued} queued ({elapsed:.0f} s)"
        )

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            print(self._line(), file=self.stream, flush=True)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        print(self._line().replace("crawl:", f"crawl {reason}:", 1), file=self.stream, flush=True)
