"""The spider: schedules pages of one site and hands each one, analysed, to the pipelines.

It finds articles through the site's sitemaps, its listings (start URLs and the links
the profile allows) and the related links themselves. All reading of pages is done by
:func:`crawler.analysis.analyse_page`; the spider only fetches and hands over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spiders import SitemapSpider
from twisted.python.failure import Failure

from crawler.analysis import AnalysisError, analyse_page
from crawler.middlewares import NOT_MODIFIED, REPLAYED
from crawler.profiles import SiteProfile, load_profile
from crawler.urls import canonical_url
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
        self.start_urls = self.profile.start_urls
        self.allowed_domains = list(self.profile.allowed_domains)
        self.sitemap_rules = [("", "parse_page")]
        self.max_age_days = float(max_age_days) if max_age_days not in (None, "") else None
        self.skipped_unchanged: set[str] = set()
        self.requested: set[str] = set()
        self.stored_pages: dict[str, Any] = {}
        super().__init__(**kwargs)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ArticleSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
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

    def _request(self, url: str) -> scrapy.Request | None:
        """A request for a page, or None when the profile or the limits rule it out."""
        url = canonical_url(url)
        if url in self.requested or url in self.skipped_unchanged:
            return None  # Scrapy's duplicate filter would drop it, at a higher cost
        if not self.profile.should_follow(url):
            return None
        self.requested.add(url)
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.on_error,
            meta={"handle_httpstatus_all": True},
        )

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        stored = getattr(self, "stored_pages", {})
        for entry in entries:
            url = canonical_url(entry.get("loc", ""))
            if not url or not self.profile.should_follow(url):
                continue
            lastmod = _parse_lastmod(entry.get("lastmod"))
            if lastmod is not None and self._cutoff() and lastmod < self._cutoff():
                self.crawler.stats.inc_value("relnews/skipped_too_old")
                continue
            validator = stored.get(url)
            if lastmod is not None and validator is not None and lastmod <= validator.fetched_at:
                # The site says the page has not changed since we stored it.
                self.skipped_unchanged.add(url)
                self.crawler.stats.inc_value("relnews/skipped_by_lastmod")
                continue
            entry["loc"] = url
            yield entry

    def _parse_sitemap(self, response: Response) -> Iterable[scrapy.Request]:
        for request in super()._parse_sitemap(response):
            if request.callback == self.parse_page:
                request = self._request(request.url)
            if request is not None:
                yield request

    def parse_page(self, response: Response) -> Iterable[Any]:
        fetched_at = datetime.now(UTC).replace(tzinfo=None)
        replayed = REPLAYED in response.flags
        not_modified = NOT_MODIFIED in response.flags
        location = _header(response, "Location") if response.status in REDIRECT_STATUSES else None
        target = canonical_url(response.urljoin(location)) if location else None
        if not_modified:
            validator = response.meta["relnews_validator"]
            fetch = Fetch(
                url=response.url,
                final_url=response.url,
                fetched_at=fetched_at,
                status=304,
                encoding=response.encoding,
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
                encoding=getattr(response, "encoding", None),
                etag=_header(response, "ETag"),
                last_modified=_header(response, "Last-Modified"),
                body=response.body if isinstance(response, TextResponse) else None,
            )
        if target is not None:
            if not replayed:
                yield PageRecord(fetch)
            if (request := self._request(target)) is not None:
                yield request
            return
        ok = 200 <= response.status < 300 or not_modified
        if not ok or not isinstance(response, TextResponse):
            if not replayed:
                yield PageRecord(fetch)
            return
        try:
            page = analyse_page(response.text, response.url, self.profile, fetched_at)
        except (AnalysisError, ValueError) as error:
            self.crawler.stats.inc_value("relnews/analysis_errors")
            self.logger.warning("cannot analyse %s: %s", response.url, error)
            if not replayed:
                yield PageRecord(replace(fetch, error=f"analysis: {error}"))
            return
        if page.article is not None:
            self.crawler.stats.inc_value("relnews/articles")
        if not replayed:
            yield PageRecord(fetch, page.article, page.related_links)
        too_old = self._too_old(page.related_links)
        for link in page.links:
            if link not in too_old and (request := self._request(link)) is not None:
                yield request

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
        if failure.check(scrapy.exceptions.IgnoreRequest):
            return  # robots.txt, offsite: nothing was fetched
        self.crawler.stats.inc_value("relnews/fetch_errors")
        yield PageRecord(
            Fetch(
                url=request.url,
                fetched_at=datetime.now(UTC).replace(tzinfo=None),
                error=f"{failure.type.__name__}: {failure.getErrorMessage()}",
            )
        )
