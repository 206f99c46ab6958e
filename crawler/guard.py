"""The gate every request of a crawl passes: http(s) only, the profile's sites only.

Scrapy's own offsite check looks at the host alone, and its download handlers read
``file:``, ``ftp:``, ``data:`` and ``s3:`` URLs whatever their host: a redirect to
``file://<the site's host>/etc/passwd`` would be read from this machine's disk. This
middleware takes the place of Scrapy's offsite middleware, first in the downloader
chain, so that start URLs, links, redirect hops, meta refreshes, sitemaps and robots.txt
all pass it; the other download handlers are switched off in ``crawler.settings``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from crawler.page.urls import fetch_refusal, site_entry
from crawler.profiles import SiteProfile


class RefusedRequest(IgnoreRequest):
    """A request the guard would not send; its text says why."""


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []  # the download fails with its own lookup error, and is recorded
    found = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # no IPv6 zone
        try:
            found.append(ipaddress.ip_address(address))
        except ValueError:
            continue
    return found


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def private_address(host: str) -> str | None:
    """The first address of ``host`` that is not on the public internet (private,
    loopback, link-local, reserved...), or None."""
    for address in _addresses(host):
        mapped = getattr(address, "ipv4_mapped", None) or address
        if not mapped.is_global:
            return str(address)
    return None


def private_addresses_allowed(profile: SiteProfile) -> bool:
    """Whether ``profile``'s hosts may resolve to private addresses: as the profile says,
    else only when its own start URLs point at such an address (a mirror, the demo)."""
    if profile.allow_private_addresses is not None:
        return profile.allow_private_addresses
    own = profile.start_urls + profile.sitemap_urls
    return bool(own) and all(private_address(urlsplit(url).hostname or "") for url in own)


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's DNS resolver, checking the address a connection will really use: a name
    that resolves to a private address fails to resolve, with the reason, whatever it
    answered before (DNS rebinding) (``TWISTED_DNS_RESOLVER`` in ``crawler.settings``)."""

    crawler: Any = None  # the Crawler, or the CrawlerProcess that holds it

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refusals: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.crawler = crawler
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802
        return super().getHostByName(name, timeout).addCallback(self._check, name)

    def _profile(self) -> SiteProfile | None:
        # Scrapy builds its resolver from the CrawlerProcess, which holds the crawlers.
        crawlers = [self.crawler, *getattr(self.crawler, "crawlers", ())]
        for crawler in crawlers:
            profile = getattr(getattr(crawler, "spider", None), "profile", None)
            if profile is not None:
                return profile
        return None

    def _check(self, address: str, name: str) -> str:
        profile = self._profile()
        if profile is None or private_addresses_allowed(profile):
            return address
        ip = ipaddress.ip_address(address)
        if not (getattr(ip, "ipv4_mapped", None) or ip).is_global:
            # Twisted replaces this error's text on its way to the download: the reason
            # is kept here for the fetch row (:func:`resolver_refusal`).
            reason = f"{name} resolves to {address}, a private address"
            self.refusals[name] = reason
            raise DNSLookupError(reason)
        return address


def resolver_refusal(host: str) -> str | None:
    """Why the installed :class:`GuardedResolver` refused to resolve ``host``, if it did."""
    from twisted.internet import reactor

    refusals = getattr(getattr(reactor, "resolver", None), "refusals", {})
    return refusals.get(host)


class UrlGuard:
    """Refuses, with the reason, every request the profile does not allow.

    - the scheme must be http or https, the host and port one of the profile's
      ``allowed_domains`` (:func:`crawler.page.urls.fetch_refusal`);
    - unless the profile allows private addresses (by default: when its own start URLs
      point at one), a private, loopback or link-local address in the URL is refused; a
      name that resolves to one is refused by :class:`GuardedResolver`, which checks the
      address the connection really uses.

    A refused request fails with :class:`RefusedRequest`; the spider's errback records
    it as a fetch with the reason, and ``relnews/refused`` counts them.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.allowed: tuple[str, ...] | None = None
        self.private_ok = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UrlGuard:
        guard = cls(crawler)
        crawler.signals.connect(guard.spider_opened, signal=signals.spider_opened)
        return guard

    def spider_opened(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        profile = getattr(spider, "profile", None)
        if profile is not None:
            self.allowed = tuple(profile.allowed_domains)
            self.private_ok = private_addresses_allowed(profile)
        else:
            self.allowed = ()
            self.private_ok = True

    def refusal(self, url: str) -> str | None:
        """Why ``url`` must not be fetched, or None."""
        if self.allowed is None:
            self.spider_opened()
        # A spider without a profile (not relnews' own) is held to the scheme alone.
        allowed = self.allowed if self.allowed else (site_entry(url) or "",)
        why = fetch_refusal(url, allowed)
        if why is not None or self.private_ok:
            return why
        # An address written in the URL is checked here; a name is checked by
        # GuardedResolver when the connection resolves it (no lookup on this thread, and
        # the address checked is the one the connection uses).
        host = urlsplit(url).hostname or ""
        if _is_address(host) and private_address(host) is not None:
            return f"{host} is a private address"
        return None

    def process_request(self, request: Request, spider: Any = None) -> None:
        why = self.refusal(request.url)
        if why is not None:
            stats = self.crawler.stats
            assert stats is not None
            stats.inc_value("relnews/refused")
            raise RefusedRequest(why)
