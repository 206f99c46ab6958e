"""Site profiles: what to crawl on a site and where each part of a page lives.

A profile is data: a TOML file loaded into a frozen :class:`SiteProfile` and passed
to whatever needs it. Built-in profiles live in ``crawler/profiles/*.toml``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler.page.selection import compile_selector
from crawler.page.urls import fetch_refusal, site_entry


class ProfileError(ValueError):
    """A profile file that cannot be used, with the reason."""


@dataclass(frozen=True)
class Selectors:
    """CSS selectors (or XPath, when prefixed with ``xpath:``) for the parts of a page.

    The ``related_*`` item selectors are relative to their block; an empty selector
    means the profile does not extract that part.
    """

    title: str = "h1"
    lead: str = ""
    body: str = "article p"
    published: str = ""
    modified: str = ""
    rubrique: str = ""
    tags: str = ""
    author: str = ""
    sources: str = ""
    theme: str = ""
    related_block: str = ""
    related_heading: str = ""
    related_item: str = "li"
    related_link: str = "a"
    related_age: str = ""


@dataclass(frozen=True)
class SiteProfile:
    """Everything relnews needs to know about one site."""

    name: str
    description: str = ""
    # "selectors": the parts of a page are where the selectors say; "generic": found by
    # crawler.page.generic (metadata, main-text extraction, related-block detection).
    mode: str = "selectors"
    language: str | None = None
    start_urls: tuple[str, ...] = ()
    sitemap_urls: tuple[str, ...] = ()
    # The sites the crawl may fetch from: "host" (and its subdomains, on ports 80 and
    # 443) or "host:port". Default: the hosts and ports of the start URLs and sitemaps.
    allowed_domains: tuple[str, ...] = ()
    # Whether the allowed hosts may resolve to private, loopback or link-local addresses.
    # Default (None): only when the start URLs themselves point there (a local mirror,
    # the demo), so a remote site cannot turn the crawl against the machine's network.
    allow_private_addresses: bool | None = None
    article_url_pattern: str = ".*"
    follow_url_patterns: tuple[str, ...] = ()
    deny_url_patterns: tuple[str, ...] = ()
    selectors: Selectors = field(default_factory=Selectors)
    source: str = ""  # the file it was loaded from

    @cached_property
    def _article_re(self) -> re.Pattern[str]:
        return re.compile(self.article_url_pattern)

    @cached_property
    def _follow_res(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(pattern) for pattern in self.follow_url_patterns)

    @cached_property
    def _deny_res(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(pattern) for pattern in self.deny_url_patterns)

    def is_article_url(self, url: str) -> bool:
        """Whether ``url``'s path (and query) looks like one of the site's articles."""
        return bool(self._article_re.search(_path_and_query(url)))

    def should_follow(self, url: str) -> bool:
        """Whether the crawler fetches ``url`` when it finds a link to it."""
        path = _path_and_query(url)
        if any(pattern.search(path) for pattern in self._deny_res):
            return False
        if self.is_article_url(url):
            return True
        return not self._follow_res or any(pattern.search(path) for pattern in self._follow_res)

    def fetch_refusal(self, url: str) -> str | None:
        """Why the crawl must not fetch ``url`` (scheme, host or port), or None."""
        return fetch_refusal(url, self.allowed_domains)

    def resolve(self, site_urls: str | Sequence[str] | None) -> SiteProfile:
        """The profile with relative start URLs made absolute against the site's address.

        ``site_urls`` is the site's address, or several start pages: the first is the base
        of relative start URLs; a profile with no start URLs starts from all of them.
        Allowed domains default to the hosts of the start URLs.
        """
        if isinstance(site_urls, str):
            site_urls = [site_urls]
        site_urls = list(site_urls or [])
        for url in site_urls:
            if site_entry(url) is None:
                raise ProfileError(
                    f"--url {url!r} is not an http(s) address: give one such as "
                    "https://example.org/"
                )
        base_url = site_urls[0] if site_urls else None
        if not self.start_urls and not site_urls:
            raise ProfileError(
                f"profile {self.name!r} has no start URLs: give the pages to start from with --url"
            )
        urls = self.start_urls + self.sitemap_urls
        if any(not urlsplit(url).scheme for url in urls) and not base_url:
            raise ProfileError(
                f"profile {self.name!r} has relative start URLs: give the site's address "
                "with --url, e.g. --url http://127.0.0.1:8765/"
            )
        start = tuple(urljoin(base_url or "", url) for url in self.start_urls) or tuple(site_urls)
        sitemaps = tuple(urljoin(base_url or "", url) for url in self.sitemap_urls)
        own_sites: set[str] = set()
        for url in start + sitemaps:
            entry = site_entry(url)
            if entry is None:
                raise ProfileError(f"profile {self.name!r}: start URL {url!r} is not http(s)")
            own_sites.add(entry)
        domains = self.allowed_domains or tuple(sorted(own_sites))
        for url in start + sitemaps:
            if (why := fetch_refusal(url, domains)) is not None:
                raise ProfileError(f"profile {self.name!r}: cannot start from {url!r}: {why}")
        return SiteProfile(
            **{
                **{f.name: getattr(self, f.name) for f in fields(self)},
                "start_urls": start,
                "sitemap_urls": sitemaps,
                "allowed_domains": domains,
            }
        )


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def builtin_profiles() -> dict[str, Path]:
    """The profiles shipped with relnews, by name."""
    folder = resources.files("crawler") / "profiles"
    return {
        entry.name.removesuffix(".toml"): Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def load_profile(name_or_path: str | Path) -> SiteProfile:
    """Load a built-in profile by name, or a profile from a TOML file."""
    builtins = builtin_profiles()
    if str(name_or_path) in builtins:
        path = builtins[str(name_or_path)]
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ProfileError(
                f"no profile {str(name_or_path)!r}: give a TOML file or one of "
                + ", ".join(sorted(builtins))
            )
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ProfileError(f"{path} is not a readable TOML profile: {error}") from error
    return profile_from_dict(data, source=str(path))


#: The profile of a site no built-in profile names.
GENERIC_PROFILE = "generic"


def own_sites(profile: SiteProfile) -> tuple[str, ...]:
    """The sites a profile is written for: its allowed domains, else the hosts of its
    absolute start URLs and sitemaps (none for a profile of relative URLs, like the demo's,
    which fits whatever address it is given)."""
    if profile.allowed_domains:
        return profile.allowed_domains
    urls = profile.start_urls + profile.sitemap_urls
    return tuple(sorted({entry for url in urls if (entry := site_entry(url)) is not None}))


def profile_for(urls: Sequence[str]) -> SiteProfile:
    """The profile of a crawl started without one: the built-in profile written for the
    first URL's site, else generic mode (any site, no selectors).

    A built-in profile applies only where its own hosts match: the demo's, whose URLs are
    relative, and any other without hosts are chosen by name only.

    >>> profile_for(["https://www.santelog.com/news/"]).name
    'santelog'
    >>> profile_for(["http://news.example.org/"]).name
    'generic'
    """
    if urls:
        for _name, path in sorted(builtin_profiles().items()):
            profile = load_profile(path)
            sites = own_sites(profile)
            if sites and fetch_refusal(urls[0], sites) is None:
                return profile
    return load_profile(GENERIC_PROFILE)


def profile_from_dict(data: dict[str, Any], source: str = "") -> SiteProfile:
    """Build a profile from the parsed TOML, rejecting unknown keys and bad patterns."""
    data = dict(data)
    selector_data = data.pop("selectors", {})
    known = {f.name for f in fields(SiteProfile)} - {"selectors", "source"}
    unknown = set(data) - known
    if unknown:
        raise ProfileError(f"{source}: unknown profile keys {sorted(unknown)}")
    unknown = set(selector_data) - {f.name for f in fields(Selectors)}
    if unknown:
        raise ProfileError(f"{source}: unknown selectors {sorted(unknown)}")
    if "name" not in data:
        raise ProfileError(f"{source}: a profile needs a name")
    for key in ("start_urls", "sitemap_urls", "allowed_domains", "follow_url_patterns",
                "deny_url_patterns"):  # fmt: skip
        if key in data:
            data[key] = tuple(data[key])
    if data.get("mode", "selectors") not in ("selectors", "generic"):
        raise ProfileError(f"{source}: mode must be 'selectors' or 'generic'")
    for name, selector in selector_data.items():
        if not isinstance(selector, str):
            raise ProfileError(f"{source}: selector {name} must be a string")
        if selector:
            try:
                compile_selector(selector)
            except ValueError as error:
                raise ProfileError(f"{source}: selector {name}: {error}") from error
    try:
        profile = SiteProfile(**data, selectors=Selectors(**selector_data), source=source)
    except TypeError as error:
        raise ProfileError(f"{source}: {error}") from error
    for pattern in (profile.article_url_pattern, *profile.follow_url_patterns,
                    *profile.deny_url_patterns):  # fmt: skip
        try:
            re.compile(pattern)
        except re.error as error:
            raise ProfileError(f"{source}: bad URL pattern {pattern!r}: {error}") from error
    return profile
