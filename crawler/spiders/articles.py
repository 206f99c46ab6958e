"""The spider: schedules pages of one site and hands each one, analysed, to the pipelines.

It finds articles through the site's sitemaps, its listings (start URLs and the links
the profile allows) and the related links themselves. All reading of pages is done by
:func:`crawler.analysis.analyse_page`; the spider only fetches and hands over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spiders import SitemapSpider
from twisted.python.failure import Failure

from crawler.analysis import AnalysisError, analyse_page
from crawler.profiles import SiteProfile, load_profile
from warehouse.model import Fetch, PageRecord

#: Redirects the spider follows itself, so that each hop is recorded as a fetch and
#: the old URL becomes an alias of the new one (Scrapy's redirect middleware would hide
#: the hop, and drop it when the target was already crawled).
REDIRECT_STATUSES = [301, 302, 303, 307, 308]


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
        super().__init__(**kwargs)

    async def start(self) -> AsyncIterator[Any]:
        async for request in super().start():
            yield request
        for url in self.start_urls:
            yield self._request(url)

    def _request(self, url: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.on_error,
            meta={"handle_httpstatus_all": True},
        )

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        for entry in entries:
            if self.profile.should_follow(entry.get("loc", "")):
                yield entry

    def _parse_sitemap(self, response: Response) -> Iterable[scrapy.Request]:
        for request in super()._parse_sitemap(response):
            if request.callback == self.parse_page:
                request = self._request(request.url)
            yield request

    def parse_page(self, response: Response) -> Iterable[Any]:
        fetched_at = datetime.now(UTC).replace(tzinfo=None)
        location = _header(response, "Location") if response.status in REDIRECT_STATUSES else None
        target = response.urljoin(location) if location else None
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
            yield PageRecord(fetch)
            if self.profile.should_follow(target):
                yield self._request(target)
            return
        if response.status >= 300 or not isinstance(response, TextResponse):
            yield PageRecord(fetch)
            return
        try:
            page = analyse_page(response.text, response.url, self.profile, fetched_at)
        except (AnalysisError, ValueError) as error:
            self.crawler.stats.inc_value("relnews/analysis_errors")
            self.logger.warning("cannot analyse %s: %s", response.url, error)
            yield PageRecord(Fetch(**{**fetch.__dict__, "error": f"analysis: {error}"}))
            return
        if page.article is not None:
            self.crawler.stats.inc_value("relnews/articles")
        yield PageRecord(fetch, page.article, page.related_links)
        for link in page.links:
            if self.profile.should_follow(link):
                yield self._request(link)

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
