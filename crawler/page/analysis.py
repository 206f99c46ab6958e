"""Page analysis: one parse of a page's HTML gives its Article and its related links.

``analyse_page`` is a pure function of ``(html, url, profile, fetched_at)``: no Scrapy,
no clock, no network, no database. Test it on saved pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from crawler.page.dates import parse_date, parse_relative_age
from crawler.page.html import (
    clean_url,
    is_malformed_url,
    number_related_links,
    parse_html,
    select,
    text_of,
)
from crawler.page.metadata import page_image
from crawler.page.urls import article_url
from crawler.profiles import SiteProfile
from warehouse.model import Article, DateValue, RelatedLink


@dataclass(frozen=True)
class PageAnalysis:
    """What one page holds: an article (None for listings and other pages), its
    editorial related links in page order, and every link worth following."""

    url: str
    article: Article | None
    related_links: tuple[RelatedLink, ...]
    links: tuple[str, ...]
    # What could not be read, the page analysed all the same ("control characters: 2").
    warnings: tuple[str, ...] = ()


def _first_text(node: etree._Element, selector: str) -> str:
    for found in select(node, selector):
        text = text_of(found)
        if text:
            return text
    return ""


def _all_texts(node: etree._Element, selector: str) -> tuple[str, ...]:
    return tuple(text for text in (text_of(found) for found in select(node, selector)) if text)


def analyse_page(
    html: str | bytes, url: str, profile: SiteProfile, fetched_at: datetime
) -> PageAnalysis:
    """Read one page: its article (if it is one), related links, and outgoing links.

    Parameters
    ----------
    html : the page, decoded (or bytes, for lxml to decode from its meta charset).
    url : the URL the page was served from (after redirects).
    profile : the site's profile: which URLs are articles, where the parts are.
    fetched_at : when the page was fetched (naive UTC); displayed ages count from it.
    """
    root = parse_html(html)
    base = url
    for href in root.xpath("//base/@href")[:1]:
        base = urljoin(url, href.strip())
    if profile.mode == "generic":
        # Imported here: trafilatura is only loaded by crawls that need it.
        from crawler.page.generic import analyse_generic

        article, related_links = analyse_generic(root, url, base, profile, fetched_at)
    else:
        related_links = tuple(_related_by_selectors(root, base, profile, fetched_at))
        article = None
        title = _first_text(root, profile.selectors.title)
        if profile.is_article_url(url) and title:
            article = _article(root, url, base, title, profile, fetched_at)

    hrefs = root.xpath("//a/@href")  # read once: for the links and for the warnings
    links = tuple(
        dict.fromkeys(
            link for link in (clean_url(href, base) for href in hrefs) if link is not None
        )
    ) + tuple(link.target_url for link in related_links)
    return PageAnalysis(
        url=url,
        article=article,
        related_links=tuple(related_links) if article else (),
        links=tuple(dict.fromkeys(links)),
        warnings=page_warnings(html, hrefs),
    )


# C0 controls other than tab, newline and carriage return, and DEL: no page means them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def page_warnings(html: str | bytes, hrefs: list[str]) -> tuple[str, ...]:
    """What was wrong with a page that was analysed all the same, one short line each:
    control characters (lxml drops them) and links that are no URL at all."""
    warnings = []
    pattern = _CONTROL_BYTES if isinstance(html, bytes) else _CONTROL
    controls = len(pattern.findall(html))  # type: ignore[arg-type]
    if controls:
        warnings.append(f"control characters: {controls}")
    malformed = [href for href in hrefs if is_malformed_url(href)]
    if malformed:
        first = ascii(malformed[0][:80])
        warnings.append(f"malformed links: {len(malformed)} (first {first})")
    return tuple(warnings)


def _related_by_selectors(
    root: etree._Element, base: str, profile: SiteProfile, fetched_at: datetime
) -> list[RelatedLink]:
    """The related links where the profile's selectors say; each block is then taken out
    of the tree, so that it can never reach the article's text."""
    selectors = profile.selectors
    candidates = []
    for block in select(root, selectors.related_block):
        heading = _first_text(block, selectors.related_heading) or None
        for item in select(block, selectors.related_item):
            anchors = select(item, selectors.related_link) or ([item] if item.tag == "a" else [])
            anchor = next((a for a in anchors if a.get("href")), None)
            target = clean_url(anchor.get("href", ""), base) if anchor is not None else None
            if target is None:
                continue
            age = _first_text(item, selectors.related_age) or None
            published = parse_relative_age(age, fetched_at) if age else None
            candidates.append((target, text_of(anchor), age, published, heading, "profile"))
        block.drop_tree()
    return list(number_related_links(candidates))


def _article(
    root: etree._Element,
    url: str,
    base: str,
    title: str,
    profile: SiteProfile,
    fetched_at: datetime,
) -> Article:
    selectors = profile.selectors
    canonical = None
    for href in root.xpath("//link[@rel='canonical']/@href")[:1]:
        canonical = clean_url(href, base)
    key_url = article_url(url, canonical)

    theme, theme_url = None, None
    for anchor in select(root, selectors.theme)[:1]:
        theme = text_of(anchor) or None
        theme_url = clean_url(anchor.get("href", ""), base)
    language = (root.get("lang") or "").split("-")[0].lower() or profile.language
    body = select(root, selectors.body)  # for the text, then for its first picture

    return Article(
        url=key_url,
        title=title,
        lead=_first_text(root, selectors.lead),
        body="\n\n".join(text for text in map(text_of, body) if text),
        canonical_url=canonical,
        published=_date(root, selectors.published, fetched_at, profile),
        modified=_date(root, selectors.modified, fetched_at, profile),
        rubrique=_first_text(root, selectors.rubrique) or None,
        tags=_all_texts(root, selectors.tags),
        author=_first_text(root, selectors.author) or None,
        language=language,
        sources=_all_texts(root, selectors.sources),
        theme=theme,
        theme_url=theme_url,
        image=page_image(root, base, body or None),
    )


def _date(
    root: etree._Element, selector: str, fetched_at: datetime, profile: SiteProfile
) -> DateValue | None:
    languages = tuple(dict.fromkeys(lang for lang in (profile.language, "fr", "en") if lang))
    for node in select(root, selector):
        # A <time datetime="..."> or <meta content="..."> says it exactly.
        raw = node.get("datetime") or node.get("content") or text_of(node)
        date = parse_date(raw, fetched_at, "selector", languages)
        if date is not None:
            return date
    return None
