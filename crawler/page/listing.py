"""Telling articles from listing pages (tags, categories, authors, date archives, search
results, pagination, indexes) without a site profile.

The page is read for evidence that holds on any site, most trusted first:

1. what the page declares: a JSON-LD ``CollectionPage``, ``ProfilePage`` or
   ``SearchResultsPage`` and no article object; an article type says the opposite;
   OpenGraph's ``og:type`` only leans one way or the other;
2. its structure: a listing is mostly repeated teasers, sibling elements of one shape,
   each a title-like link to another page of the site with at most a short excerpt,
   while an article's text is prose outside any such run;
3. its URL, one signal among the others: a ``tag``, ``category``, ``author``, ``page/2``
   or ``search`` segment, a path that ends in a year or month, a ``?s=`` or ``?page=``.

Called on the tree with the related blocks already taken out, so that an article's own
related block never counts as teasers. Pure: no clock, network or database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urldefrag, urlsplit

from lxml import etree

from crawler.page.html import INVISIBLE_TAGS, clean_url, text_of, word_count

# JSON-LD types of pages that list others, and of pages that are one article.
LISTING_TYPES = frozenset(("collectionpage", "profilepage", "searchresultspage"))
# Structure: a run of at least this many teasers, holding this share of the page's text.
_MIN_TEASERS = 3
_TEASER_SHARE = 0.6
_MAX_TEASER_WORDS = 80  # a teaser's own text: a title and an excerpt, not an article
_TITLE_LEAD_WORDS = 6  # words before a teaser's title: a date, a section label
_PROSE_WORDS = 15  # a paragraph with this many words of its own is prose
# Elements that can be one teaser of a list (a bare link in a sentence is not).
_ITEM_TAGS = frozenset(
    ("li", "article", "div", "section", "tr", "dt", "dd", "p", "figure", "h2", "h3", "h4",
     "h5", "h6", "td")
)  # fmt: skip
_FURNITURE_TAGS = frozenset(("nav", "header", "footer", "aside", "form", "menu"))
_FURNITURE_ROLES = frozenset(("navigation", "banner", "contentinfo", "complementary", "menu"))
_LISTING_SEGMENTS = frozenset(
    ("tag", "tags", "category", "categories", "author", "authors", "archive", "archives",
     "search", "label", "labels", "topic", "topics", "keyword", "keywords")
)  # fmt: skip
_YEAR_OR_MONTH = re.compile(r"^(?:19|20)\d\d$|^(?:0?[1-9]|1[0-2])$")


@dataclass(frozen=True)
class PageKind:
    """Whether a page is a listing, and the evidence that decided it."""

    listing: bool
    reason: str  # e.g. "json-ld CollectionPage", "teasers 0.92 of the text (14 items)"


def listing_url(url: str) -> bool:
    """Whether the URL reads like a listing: a taxonomy or search segment, a page number
    after a listing word, a path ending in a year or month, a search or page query."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if {"s", "q", "search", "page", "paged"} & set(query):
        return True
    segments = [unquote(s).lower() for s in parts.path.split("/") if s]
    if any(segment in _LISTING_SEGMENTS for segment in segments[:-1]) or (
        segments and segments[-1] in _LISTING_SEGMENTS
    ):
        return True
    if len(segments) >= 2 and segments[-2] == "page" and segments[-1].isdigit():
        return True
    tail = [s for s in segments if s not in ("index.html", "index.htm")]
    return bool(tail) and tail[0].isdigit() and all(_YEAR_OR_MONTH.match(s) for s in tail)


def page_kind(
    root: etree._Element,
    url: str,
    base: str,
    json_ld_types: frozenset[str],
    og_type: str | None,
    has_related_block: bool = False,
) -> PageKind:
    """Whether the page is a listing (see the module's docstring for the evidence)."""
    declared_listing = json_ld_types & LISTING_TYPES
    declared_article = "article" in json_ld_types
    by_url = listing_url(url)
    # at a listing URL, even one teaser (a tag with one post) is a listing when it is
    # most of the text
    share, items = _teaser_share(root, url, base, 1 if by_url else _MIN_TEASERS - 1)
    if declared_listing and not declared_article:
        return PageKind(True, f"json-ld {sorted(declared_listing)[0]}")
    if declared_article:
        # Some themes call every page an article: only an overwhelming run of teasers
        # overrides the declaration.
        overwhelming = items >= 2 * _MIN_TEASERS and share >= 0.85
        reason = f"teasers {share:.2f} of the text ({items} items) despite json-ld article"
        return PageKind(overwhelming, reason if overwhelming else "json-ld article")
    threshold = _TEASER_SHARE
    if og_type == "article":
        # the page says it is one article: structure alone does not overrule it, only
        # structure at a listing URL (measured: article-extraction-benchmark's F1 0.915
        # when it did)
        threshold = 0.6 if by_url else 1.01
    elif og_type in ("website", "profile", "blog"):
        threshold -= 0.1
    if by_url:
        threshold -= 0.2
    if has_related_block and not by_url:
        # a "See also" block of its own is an article's habit, rare on tag or archive
        # pages: only a page made of teasers alone is a listing then
        threshold = max(threshold, 0.95)
    listing = items >= (1 if by_url else _MIN_TEASERS) and share >= threshold
    signals = "".join((f", og:type {og_type}" if og_type else "", ", listing URL" * by_url))
    return PageKind(listing, f"teasers {share:.2f} of the text ({items} items{signals})")


def _teaser_share(root: etree._Element, url: str, base: str, min_run: int) -> tuple[float, int]:
    """The share of the page's words (outside navigation and sidebars) held by runs of
    teasers, and how many teasers there are."""
    body = root.find("body")
    if body is None:
        return 0.0, 0
    page = urldefrag(url)[0]
    host = urlsplit(page).netloc
    teasers: list[etree._Element] = []
    for parent in body.iter():
        if not isinstance(parent.tag, str) or _in_furniture(parent):
            continue
        # A run: consecutive siblings of one tag that are each a teaser (classes vary
        # from item to item: "post-1477 tag-bangkok").
        run: list[etree._Element] = []
        targets: set[str] = set()
        for child in [*parent, None]:
            target = None
            if child is not None and isinstance(child.tag, str) and child.tag in _ITEM_TAGS:
                target = _teaser_target(child, base, page, host)
            if (
                target is not None
                and target not in targets
                and (not run or child.tag == run[0].tag)
            ):
                run.append(child)
                targets.add(target)
                continue
            if len(run) >= min_run:
                teasers.extend(run)
            run = [child] if target is not None else []
            targets = {target} if target is not None else set()
    outer = _outermost(teasers)
    teaser_words = sum(word_count(text_of(item)) for item in outer)
    prose_words = _prose_words(body, set(outer))
    total = teaser_words + prose_words
    return (teaser_words / total if total else 0.0), len(outer)


def _teaser_target(item: etree._Element, base: str, page: str, host: str) -> str | None:
    """Where the item links as a teaser would: its title-like link to another page of
    the site, if its own text stays short; else None."""
    text = text_of(item)
    if word_count(text) > _MAX_TEASER_WORDS:
        return None
    return _title_link(item, text, base, page, host)


def _title_link(item: etree._Element, text: str, base: str, page: str, host: str) -> str | None:
    """The item's title: its link to another page of the site with the longest anchor,
    near the item's start (after a date or a label at most: a link inside a sentence is
    a reference, not a title), of two words or more, or of one with a description after
    it ("mod_proxy: a proxy for HTTP"); None when there is none."""
    best: tuple[int, str] | None = None
    for anchor in item.iter("a"):
        target = clean_url(anchor.get("href") or "", base)
        if target is None:
            continue
        target = urldefrag(target)[0]
        if target == page or urlsplit(target).netloc != host:
            continue
        anchor_text = text_of(anchor)
        words = word_count(anchor_text) or (2 if anchor.find(".//img") is not None else 0)
        at = text.find(anchor_text) if anchor_text else 0
        if not words or word_count(text[: max(at, 0)]) > _TITLE_LEAD_WORDS:
            continue
        if words == 1 and word_count(text) <= 1:
            continue  # a bare one-word link: "Next", "Home"
        if best is None or words > best[0]:
            best = (words, target)
    return best[1] if best else None


def _outermost(elements: list[etree._Element]) -> list[etree._Element]:
    chosen = set(elements)
    return [
        element
        for element in elements
        if not any(ancestor in chosen for ancestor in element.iterancestors())
    ]


def _prose_words(body: etree._Element, teasers: set[etree._Element]) -> int:
    """Words in paragraphs of prose outside teasers, navigation and sidebars."""
    words = 0
    for element in body.iter("p", "td", "dd", "blockquote", "pre", "li"):
        if _in_furniture(element) or any(a in teasers for a in (element, *element.iterancestors())):
            continue
        own = word_count(_own_text(element))
        if own >= _PROSE_WORDS:
            words += own
    return words


def _own_text(element: etree._Element) -> str:
    """The element's text outside links and nested paragraphs."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in ("a", "p", "li", *INVISIBLE_TAGS):
            parts.append(_own_text(child))
        parts.append(child.tail or "")
    return " ".join(" ".join(parts).split())


def _in_furniture(element: etree._Element) -> bool:
    for node in (element, *element.iterancestors()):
        if node.tag in _FURNITURE_TAGS or node.get("role") in _FURNITURE_ROLES:
            return True
    return False
