"""Crawler extensions: small components switched on by settings."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall


class ProgressReporter:
    """Prints a progress line every few seconds while a crawl runs (a timer, so lines come
    while the crawl waits for a slow site too), with the rate and an estimate of what is
    left, and a summary at its end.

    Switched off with ``RELNEWS_PROGRESS_EVERY = 0``.
    """

    def __init__(self, crawler: Crawler, every: float, stream: TextIO) -> None:
        self.crawler = crawler
        self.every = every
        self.stream = stream
        self.started = time.monotonic()
        self._timer: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressReporter:
        every = crawler.settings.getfloat("RELNEWS_PROGRESS_EVERY", 2.0)
        if every <= 0:
            raise NotConfigured
        reporter = cls(crawler, every, sys.stderr)
        crawler.signals.connect(reporter.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(reporter.spider_closed, signal=signals.spider_closed)
        return reporter

    def _line(self, final: bool = False) -> str:
        stats = self.crawler.stats
        pages = stats.get_value("response_received_count", 0)
        articles = stats.get_value("relnews/articles", 0)
        errors = stats.get_value("relnews/fetch_errors", 0) + stats.get_value(
            "relnews/analysis_errors", 0
        )
        queued = stats.get_value("scheduler/enqueued", 0) - stats.get_value("scheduler/dequeued", 0)
        elapsed = time.monotonic() - self.started
        rate = pages / elapsed if elapsed > 0 else 0.0
        line = (
            f"{pages} responses ({rate:.1f}/s), {articles} articles, {errors} errors, "
            f"{queued} queued"
        )
        if not final and queued and rate > 0:
            # what is queued now, at the rate so far (links found later add to it)
            line += f", at least {_duration(queued / rate)} left"
        return f"{line} ({_duration(elapsed)})"

    def spider_opened(self, spider: Any = None) -> None:
        self.started = time.monotonic()
        self._timer = LoopingCall(self.report)
        self._timer.start(self.every, now=False)

    def report(self) -> None:
        print(f"crawl: {self._line()}", file=self.stream, flush=True)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        print(f"crawl {reason}: {self._line(final=True)}", file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 20 s``, ``2 h 05 min``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
