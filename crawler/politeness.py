"""What a remote site asks of its crawlers: robots.txt's Crawl-delay, a 503's Retry-After.

Scrapy reads robots.txt for its rules but ignores its ``Crawl-delay``, and its retry
middleware asks again at once after a ``503 Service Unavailable`` or ``429 Too Many
Requests``, whatever ``Retry-After`` says. This downloader middleware keeps, per host, a
floor under the download delay of Scrapy's slot for that host: the Crawl-delay, raised
for a while to the Retry-After of the last 503/429 (both capped, so a hostile site
cannot stall a crawl for days).
"""

from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached

#: Answers whose Retry-After is obeyed.
BUSY_STATUSES = (429, 503)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date).

    >>> retry_after_seconds("120")
    120.0
    >>> now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", now)
    30.0
    >>> retry_after_seconds("soon") is None
    True
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Politeness:
    """Obey Crawl-delay and Retry-After, per host.

    Settings: ``RELNEWS_POLITE`` (default True; ``relnews crawl`` turns it off for a site
    served on this machine), ``RELNEWS_MAX_CRAWL_DELAY`` (seconds, default 30),
    ``RELNEWS_MAX_RETRY_AFTER`` (seconds, default 300).
    """

    def __init__(self, crawler: Crawler, max_crawl_delay: float, max_retry_after: float) -> None:
        self.crawler = crawler
        self.max_crawl_delay = max_crawl_delay
        self.max_retry_after = max_retry_after
        self.crawl_delay: dict[str, float] = {}
        self.busy_until: dict[str, float] = {}
        self._raised: dict[str, tuple[float, float]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Politeness:
        if not crawler.settings.getbool("RELNEWS_POLITE", True):
            raise NotConfigured
        middleware = cls(
            crawler,
            crawler.settings.getfloat("RELNEWS_MAX_CRAWL_DELAY", 30.0),
            crawler.settings.getfloat("RELNEWS_MAX_RETRY_AFTER", 300.0),
        )
        crawler.signals.connect(middleware.robots_parsed, signal=signals.robots_parsed)
        return middleware

    def robots_parsed(self, robotparser: Any, request: Request, **kwargs: Any) -> None:
        user_agent = self.crawler.settings.get("USER_AGENT", "*")
        try:
            delay = robotparser.crawl_delay(user_agent)
        except Exception:  # a parser without crawl_delay, or a broken value
            delay = None
        if delay:
            host = urlparse_cached(request).hostname or ""
            self.crawl_delay[host] = min(float(delay), self.max_crawl_delay)
            self.crawler.stats.set_value(f"relnews/crawl_delay/{host}", self.crawl_delay[host])

    def _floor(self, host: str) -> float:
        floor = self.crawl_delay.get(host, 0.0)
        remaining = self.busy_until.get(host, 0.0) - time.monotonic()
        return max(floor, remaining)

    def process_request(self, request: Request, spider: Any = None) -> None:
        engine = self.crawler.engine
        if engine is None:
            return
        floor = self._floor(urlparse_cached(request).hostname or "")
        key, slot = engine.downloader._get_slot(request)
        if floor > 0:
            # the slot's own settings come back once no floor applies
            self._raised.setdefault(key, (slot.delay, slot.jitter))
            slot.delay, slot.jitter = max(slot.delay, floor), 0.0  # a floor, not an average
        elif key in self._raised:
            slot.delay, slot.jitter = self._raised.pop(key)

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        if response.status in BUSY_STATUSES:
            seconds = retry_after_seconds(
                (response.headers.get("Retry-After") or b"").decode("latin-1")
            )
            if seconds:
                host = urlparse_cached(request).hostname or ""
                seconds = min(seconds, self.max_retry_after)
                self.busy_until[host] = time.monotonic() + seconds
                self.crawler.stats.inc_value("relnews/retry_after_obeyed")
        return response
