"""The spider: schedules pages of one site and hands each one, analysed, to the pipelines.

It finds articles through the site's sitemaps, its listings (start URLs and the links
the profile allows) and the related links themselves. All reading of pages is done by
:func:`crawler.page.analysis.analyse_page`; the spider only fetches and hands over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DontCloseSpider,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.http import Response, TextResponse
from scrapy.spiders import SitemapSpider
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
)
from twisted.python.failure import Failure

from crawler.guard import RefusedRequest, resolver_refusal
from crawler.limits import PageLimitReached
from crawler.middlewares import NOT_MODIFIED, REPLAYED
from crawler.page.analysis import analyse_page
from crawler.page.charset import declared_encoding, decode_html
from crawler.page.html import AnalysisError
from crawler.page.urls import canonical_url, meta_refresh
from crawler.profiles import SiteProfile, load_profile
from warehouse.model import Fetch, PageRecord, RelatedLink

#: Redirects the spider follows itself, so that each hop is recorded as a fetch and
#: the old URL becomes an alias of the new one (Scrapy's redirect middleware would hide
#: the hop, and drop it when the target was already crawled).
REDIRECT_STATUSES = [301, 302, 303, 307, 308]


def _parse_lastmod(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class ArticleSpider(SitemapSpider):
    """Crawl one site as its profile says.

    Arguments (``-a`` on the ``scrapy crawl`` command line): ``profile`` (a built-in
    name or a TOML file, default ``demo``) and ``url`` (the site's address, needed when
    the profile's start URLs are relative; several start pages separated by spaces).
    """

    name = "articles"

    def __init__(
        self,
        profile: str | SiteProfile = "demo",
        url: str | Sequence[str] | None = None,
        max_age_days: float | str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(profile, SiteProfile):
            profile = load_profile(profile)
        urls = url.split() if isinstance(url, str) else list(url or [])
        self.profile = profile.resolve(urls)
        self.sitemap_urls = self.profile.sitemap_urls
        self.start_urls = list(self.profile.start_urls)
        self.allowed_domains = list(self.profile.allowed_domains)
        self.sitemap_rules = [("", "parse_page")]
        self.max_age_days = float(max_age_days) if max_age_days not in (None, "") else None
        self.skipped_unchanged: set[str] = set()
        self.requested: set[str] = set()
        self.stored_pages: dict[str, Any] = {}
        self.live_articles: dict[str, datetime] = {}
        self.sitemap_locs: set[str] = set()
        self.revisit_days = 7.0
        self._revisits_scheduled = False
        self.max_redirects = 20
        self.max_refresh_delay = 100.0
        self._refused_entries: list[str] = []
        super().__init__(**kwargs)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ArticleSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_redirects = crawler.settings.getint("REDIRECT_MAX_TIMES", 20)
        spider.revisit_days = crawler.settings.getfloat("RELNEWS_REVISIT_DAYS", 7.0)
        crawler.signals.connect(spider.revisit_when_idle, signal=signals.spider_idle)
        spider.max_refresh_delay = crawler.settings.getfloat("METAREFRESH_MAXDELAY", 100)
        if spider.max_age_days is None:
            spider.max_age_days = crawler.settings.getfloat("RELNEWS_MAX_AGE_DAYS") or None
        return spider

    async def start(self) -> AsyncIterator[Any]:
        async for request in super().start():
            yield request
        for url in self.start_urls:
            # Start pages are always fetched, even when the profile would not follow them.
            yield scrapy.Request(
                canonical_url(url),
                callback=self.parse_page,
                errback=self.on_error,
                meta={"handle_httpstatus_all": True},
            )

    def _schedule(
        self, url: str, kind: str = "link", hops: Sequence[str] = ()
    ) -> Iterator[scrapy.Request | PageRecord]:
        """A request for a page, nothing when the profile or the limits rule it out, or a
        refusal recorded as a fetch.

        A link the profile does not allow (another site, another scheme) is skipped and
        counted. A redirect hop, a sitemap entry or a start page the profile does not allow
        is recorded as a refused fetch, with the reason; what reaches the downloader passes
        :class:`crawler.guard.UrlGuard` again, with redirects and meta refreshes.
        """
        try:
            url = canonical_url(url)
        except ValueError:
            url = url[:2000]  # recorded as it came, for the refusal below
        if url in self.requested or url in self.skipped_unchanged:
            return  # Scrapy's duplicate filter would drop it, at a higher cost
        refusal = self.profile.fetch_refusal(url)
        if kind == "link":
            if refusal is not None:
                self.crawler.stats.inc_value("relnews/links_not_allowed")
                return
            if not self.profile.should_follow(url):
                return
        self.requested.add(url)
        if refusal is not None:
            self.crawler.stats.inc_value("relnews/refused")
            yield self._failed(url, f"refused: {refusal}")
            return
        meta: dict[str, Any] = {"handle_httpstatus_all": True}
        if hops:
            meta["relnews_hops"] = tuple(hops)
        yield scrapy.Request(url, callback=self.parse_page, errback=self.on_error, meta=meta)

    def _failed(self, url: str, error: str) -> PageRecord:
        """The record of a URL that got no answer, with the reason."""
        return PageRecord(
            Fetch(url=url, fetched_at=datetime.now(UTC).replace(tzinfo=None), error=error)
        )

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        stored = getattr(self, "stored_pages", {})
        for entry in entries:
            try:
                url = canonical_url(entry.get("loc", ""))
            except ValueError:
                url = entry.get("loc", "")[:2000]
            if not url:
                continue
            if self.profile.fetch_refusal(url) is not None:
                # recorded by _parse_sitemap: Scrapy would build a request of it
                self._refused_entries.append(url)
                continue
            if not self.profile.should_follow(url):
                continue
            lastmod = _parse_lastmod(entry.get("lastmod"))
            cutoff = self._cutoff()
            if lastmod is not None and cutoff is not None and lastmod < cutoff:
                self.crawler.stats.inc_value("relnews/skipped_too_old")
                continue
            self.sitemap_locs.add(url)
            validator = stored.get(url)
            if (
                lastmod is not None
                and validator is not None
                and lastmod <= validator.fetched_at
                and not self._revisit_due(validator.fetched_at)
            ):
                # The site says the page has not changed since we stored it.
                self.skipped_unchanged.add(url)
                self.crawler.stats.inc_value("relnews/skipped_by_lastmod")
                continue
            entry["loc"] = url
            yield entry

    def _parse_sitemap(self, response: Response) -> Iterable[Any]:  # requests and records
        for request in super()._parse_sitemap(response):
            if request.callback == self.parse_page:
                yield from self._schedule(request.url, kind="sitemap")
            else:  # a nested sitemap
                yield request.replace(errback=self.on_error)
        # The entries sitemap_filter refused, recorded by whichever sitemap finishes
        # first: two sitemaps may be read interleaved, and each entry is taken once.
        while self._refused_entries:
            yield from self._schedule(self._refused_entries.pop(), kind="sitemap")

    def parse_page(self, response: Response) -> Iterable[Any]:
        fetched_at = datetime.now(UTC).replace(tzinfo=None)
        replayed = REPLAYED in response.flags
        not_modified = NOT_MODIFIED in response.flags
        text, encoding = self._text(response, not_modified)
        location = self._location(response, text)
        target, redirect_error = self._redirect_target(response, location)
        if not_modified:
            validator = response.meta["relnews_validator"]
            fetch = Fetch(
                url=response.url,
                final_url=response.url,
                fetched_at=fetched_at,
                status=304,
                encoding=encoding,
                etag=_header(response, "ETag") or validator.etag,
                last_modified=_header(response, "Last-Modified") or validator.last_modified,
                stored_hash=validator.content_hash,
            )
        else:
            fetch = Fetch(
                url=response.url,
                final_url=target or response.url,
                fetched_at=fetched_at,
                status=response.status,
                content_type=_header(response, "Content-Type"),
                encoding=encoding,
                etag=_header(response, "ETag"),
                last_modified=_header(response, "Last-Modified"),
                body=response.body if isinstance(response, TextResponse) else None,
                error=redirect_error,
            )
        if location is not None:
            if not replayed:
                yield PageRecord(fetch)
            if redirect_error is None and target is not None:
                hops = (*response.meta.get("relnews_hops", ()), response.url)
                yield from self._schedule(target, kind="redirect", hops=hops)
            return
        ok = 200 <= response.status < 300 or not_modified
        if not ok or not isinstance(response, TextResponse):
            if not replayed:
                yield PageRecord(fetch)
            return
        try:
            page = analyse_page(text, response.url, self.profile, fetched_at)
        except (AnalysisError, ValueError) as error:
            self.crawler.stats.inc_value("relnews/analysis_errors")
            self.logger.warning("cannot analyse %s: %s", response.url, error)
            if not replayed:
                yield PageRecord(replace(fetch, error=f"analysis: {error}"))
            return
        if page.article is not None:
            self.crawler.stats.inc_value("relnews/articles")
        if page.warnings:
            fetch = replace(fetch, warnings="; ".join(page.warnings))
        if not replayed:
            yield PageRecord(fetch, page.article, page.related_links)
        too_old = self._too_old(page.related_links)
        for link in page.links:
            if link not in too_old:
                yield from self._schedule(link)

    def _text(self, response: Response, not_modified: bool) -> tuple[str, str | None]:
        """The page as text, and the encoding it was read with (:mod:`crawler.page.charset`:
        Scrapy's own guess misreads undeclared or wrongly declared pages)."""
        if not isinstance(response, TextResponse):
            return "", None
        if not_modified:  # the stored page, read as it was the first time
            return response.text, response.encoding
        declared = declared_encoding(_header(response, "Content-Type"), response.body)
        return decode_html(response.body, declared)

    def _location(self, response: Response, text: str) -> str | None:
        """Where a redirect, or a meta refresh, sends the reader (None: nowhere).

        The spider follows meta refreshes itself, as it does redirects, so that each hop
        is recorded, checked and counted the same way (Scrapy's middleware is off)."""
        if response.status in REDIRECT_STATUSES:
            return _header(response, "Location")
        if response.status == 200 and (refresh := meta_refresh(text, response.url)):
            interval, url = refresh
            if interval < self.max_refresh_delay:
                return url
        return None

    def _redirect_target(
        self, response: Response, location: str | None
    ) -> tuple[str | None, str | None]:
        """Where a redirect leads, and why it is not followed (None: it is)."""
        if location is None:
            return None, None
        try:
            target = canonical_url(response.urljoin(location))
        except ValueError:
            return None, f"redirect to a malformed URL: {location[:200]!r}"
        if (refusal := self.profile.fetch_refusal(target)) is not None:
            return target, f"redirect refused: {refusal}"
        hops = response.meta.get("relnews_hops", ())
        if target in hops or target == response.url:
            return target, f"redirect loop: {target} was already a hop of this chain"
        if len(hops) + 1 >= self.max_redirects:
            return (
                target,
                f"redirect chain cut after {len(hops) + 1} hops (limit {self.max_redirects})",
            )
        return target, None

    def _revisit_due(self, last_seen: datetime) -> bool:
        """Whether a stored page was last seen ``revisit_days`` ago or more."""
        now = datetime.now(UTC).replace(tzinfo=None)
        return last_seen <= now - timedelta(days=self.revisit_days)

    def revisits(self) -> list[str]:
        """The live articles this crawl has not asked for, that are due a conditional
        request: last seen ``revisit_days`` ago or more, or gone from the site's sitemaps
        (when the crawl read any). A deleted article is so found gone, and an article
        whose related block changed without a new sitemap lastmod is read again."""
        return sorted(
            url
            for url, last_seen in self.live_articles.items()
            if url not in self.requested
            and (
                self._revisit_due(last_seen) or (self.sitemap_locs and url not in self.sitemap_locs)
            )
        )

    def revisit_when_idle(self, spider: Any = None) -> None:
        """Once the crawl has nothing left to do, schedule the revisits (once)."""
        if self._revisits_scheduled or self.crawler.engine is None:
            return
        self._revisits_scheduled = True
        urls = self.revisits()
        self.crawler.stats.set_value("relnews/revisits", len(urls))
        scheduled = 0
        for url in urls:
            for request in self._schedule(url, kind="revisit"):
                if isinstance(request, scrapy.Request):
                    self.crawler.engine.crawl(request)
                    scheduled += 1
        if scheduled:
            raise DontCloseSpider

    def _cutoff(self) -> datetime | None:
        if self.max_age_days is None:
            return None
        return datetime.now(UTC).replace(tzinfo=None) - timedelta(days=self.max_age_days)

    def _too_old(self, related: Sequence[RelatedLink]) -> set[str]:
        """Related targets whose displayed age puts them past the article-age limit."""
        cutoff = self._cutoff()
        if cutoff is None:
            return set()
        return {
            link.target_url
            for link in related
            if link.target_published is not None and link.target_published.value < cutoff
        }

    def on_error(self, failure: Failure) -> Iterable[Any]:
        """Record a fetch that got no usable answer (refused, timed out, too large...)."""
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(PageLimitReached):
            return  # never sent: the page limit was reached
        if failure.check(scrapy.exceptions.IgnoreRequest) and not failure.check(RefusedRequest):
            message = failure.getErrorMessage()
            if "robots.txt" in message:
                return  # disallowed by the site: nothing was fetched
        self.crawler.stats.inc_value("relnews/fetch_errors")
        yield self._failed(request.url, describe_failure(failure, self.crawler.settings))


def describe_failure(failure: Failure, settings: Any) -> str:
    """One readable line for a failed fetch (Scrapy's own texts are sometimes empty)."""
    message = " ".join(failure.getErrorMessage().split())
    limit = settings.getint("DOWNLOAD_MAXSIZE", 0)
    if failure.check(RefusedRequest):
        return f"refused: {message}"
    if failure.check(ResponseDataLossError):
        return "truncated: the connection closed before the whole body arrived"
    if failure.check(DownloadCancelledError):
        return f"too large: the body passed the {limit:,}-byte limit (DOWNLOAD_MAXSIZE)"
    if failure.check(scrapy.exceptions.IgnoreRequest) and "decompress" in message:
        return f"too large: the body passed the {limit:,}-byte limit once decompressed (a bomb?)"
    if failure.check(DownloadTimeoutError):
        timeout = settings.getfloat("DOWNLOAD_TIMEOUT", 0)
        return f"timed out: no whole answer within {timeout:g} s (DOWNLOAD_TIMEOUT)"
    if failure.check(ConnectionLost, ConnectionDone) or "ConnectionLost" in message:
        return "connection lost: the server closed or reset the connection mid-answer"
    if failure.check(ConnectionRefusedError, DownloadConnectionRefusedError):
        return "connection refused: nothing listens there"
    if failure.check(DNSLookupError, CannotResolveHostError):
        host = urlsplit(failure.request.url).hostname or ""  # type: ignore[attr-defined]
        if (refusal := resolver_refusal(host)) is not None:
            return f"refused: {refusal}"
        return f"unknown host: {message}"
    name = failure.type.__name__ if failure.type else "error"
    return f"{name}: {message}" if message else f"{name} (no message)"
