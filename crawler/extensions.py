"""Crawler extensions: small components switched on by settings."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

#: Seconds between two redraws of the progress line on a terminal.
TERMINAL_EVERY = 0.5


@dataclass(frozen=True)
class CrawlProgress:
    """Where a crawl stands, in the user's words: pages are requests sent to the site
    (robots.txt and sitemaps too, as ``--max-pages`` counts them)."""

    pages: int
    articles: int
    errors: int
    queued: int
    elapsed: float
    limit: int | None  # --max-pages

    @property
    def rate(self) -> float:
        return self.pages / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def left(self) -> int:
        """Pages still to fetch as far as is known now (links found later add to it)."""
        return self.queued if self.limit is None else min(self.queued, self.limit - self.pages)

    @property
    def total(self) -> int:
        return self.pages + max(self.left, 0)

    def line(self, final: bool = False) -> str:
        """The state in one line, what matters most first (a narrow terminal cuts its end)."""
        line = f"{self.pages} pages" + (f" (limit {self.limit})" if self.limit else "")
        line += f", {self.rate:.1f} pages/s"
        if not final and self.left > 0 and self.rate > 0:
            # what is known to be left, at the rate so far
            about = "about" if self.limit is not None and self.left < self.queued else "at least"
            line += f", {about} {_duration(self.left / self.rate)} left"
        return (
            f"{line}; {self.articles} articles, {self.errors} errors, {self.queued} queued "
            f"({_duration(self.elapsed)})"
        )


class ProgressReporter:
    """Shows how a crawl goes while it runs, on standard error: on a terminal, one line
    redrawn in place (with a bar) by ``rich``; in a log (not a terminal) or with ``-v``, a
    plain line every ``RELNEWS_PROGRESS_EVERY`` seconds. A timer drives it, so it goes on
    while the crawl waits for a slow site. It ends with the line as it stands; the
    command prints the run's outcome after it.

    Switched off with ``RELNEWS_PROGRESS_EVERY = 0`` (``--quiet``).
    """

    def __init__(self, crawler: Crawler, every: float, stream: TextIO, live: bool) -> None:
        self.crawler = crawler
        self.every = every
        self.stream = stream
        self.started = time.monotonic()
        self._timer: LoopingCall | None = None
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if live:
            self._bar = Progress(
                BarColumn(bar_width=12),
                TextColumn("{task.fields[line]}"),
                console=Console(file=stream),
                auto_refresh=False,  # redrawn by the timer, from the reactor's thread
                redirect_stdout=False,
                redirect_stderr=False,
            )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressReporter:
        every = crawler.settings.getfloat("RELNEWS_PROGRESS_EVERY", 2.0)
        if every <= 0:
            raise NotConfigured
        # Scrapy's own log (-v) would write through a line redrawn in place
        verbose = crawler.settings.get("LOG_LEVEL") in ("DEBUG", "INFO")
        stream = sys.stderr
        live = stream.isatty() and not verbose
        reporter = cls(crawler, TERMINAL_EVERY if live else every, stream, live)
        crawler.signals.connect(reporter.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(reporter.spider_closed, signal=signals.spider_closed)
        return reporter

    def state(self) -> CrawlProgress:
        stats = self.crawler.stats
        errors = stats.get_value("relnews/fetch_errors", 0) + stats.get_value(
            "relnews/analysis_errors", 0
        )
        queued = stats.get_value("scheduler/enqueued", 0) - stats.get_value("scheduler/dequeued", 0)
        return CrawlProgress(
            pages=stats.get_value("relnews/requests", 0),
            articles=stats.get_value("relnews/articles", 0),
            errors=errors,
            queued=queued,
            elapsed=time.monotonic() - self.started,
            limit=stats.get_value("relnews/max_pages") or None,
        )

    def spider_opened(self, spider: Any = None) -> None:
        self.started = time.monotonic()
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("crawl", total=None, line="starting")
        self._timer = LoopingCall(self.report)
        self._timer.start(self.every, now=False)

    def report(self, final: bool = False) -> None:
        state = self.state()
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task, completed=state.pages, total=state.total, line=state.line(final)
            )
            self._bar.refresh()
        else:
            print(f"crawl: {state.line(final)}", file=self.stream, flush=True)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.report(final=True)
        if self._bar is not None:
            self._bar.stop()


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 20 s``, ``2 h 05 min``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
