"""Generic page analysis, for sites without selectors: metadata from the page's own
declarations, the related block found by its heading, name or shape, and the main text
through trafilatura.

``analyse_generic`` is called by :func:`crawler.page.analysis.analyse_page` for profiles in
``generic`` mode, on the tree that function parsed.
"""

from __future__ import annotations

import copy
from datetime import datetime

from lxml import etree

from crawler.page.html import fold, word_count
from crawler.page.listing import page_kind
from crawler.page.metadata import read_metadata
from crawler.page.related_detection import take_related_blocks
from crawler.page.urls import article_url
from crawler.profiles import SiteProfile
from warehouse.model import Article, DateValue, RelatedLink

_MIN_BODY_WORDS = 5


def analyse_generic(
    root: etree._Element,
    url: str,
    base: str,
    profile: SiteProfile,
    fetched_at: datetime,
) -> tuple[Article | None, tuple[RelatedLink, ...]]:
    """The page's article (None when it has no title or no main text) and its related links.

    Every related block found is taken out of ``root`` (the caller then reads the page's
    other links from it), and the main text is extracted only after that, so the block
    can never reach the article's lead or body. Pure: no clock, network or database.
    """
    if not profile.is_article_url(url):
        return None, ()
    related = take_related_blocks(root, url, base, fetched_at)
    meta = read_metadata(root, url, base, fetched_at, profile.language)
    has_block = any(link.heading for link in related)  # found under a heading of its own
    if page_kind(root, url, base, meta.json_ld_types, meta.og_type, has_block).listing:
        return None, ()  # followed and recorded as a fetch, but not an article
    body = _without_title(main_text(root, url), meta.title)
    # A few stray words (a menu's "Home") are not the text of an article.
    if not meta.title or word_count(body) < _MIN_BODY_WORDS:
        return None, related
    published = meta.published
    if published is None or published.source not in _DECLARED_DATES:
        # Measured on trafilatura-eval: a date the page declares (JSON-LD, OpenGraph, a
        # meta tag) is right more often than htmldate, htmldate more often than our own
        # reading of <time>, the URL or the text (tests/benchmarks/trafilatura_eval.py).
        # htmldate reads the tree already parsed (its related blocks out: no teaser's date).
        found = _htmldate(root, url, fetched_at)
        if found is not None and (
            published is None or found.value.date() != published.value.date()
        ):
            published = found  # where both read the same day, ours keeps its source and time
    # The lead is the page's own summary, unless it only repeats the title.
    lead = meta.description if fold(meta.description) not in ("", fold(meta.title)) else ""
    canonical = meta.canonical_url
    return (
        Article(
            url=article_url(url, canonical),
            title=meta.title,
            lead=lead,
            body=body,
            canonical_url=canonical,
            published=published,
            modified=meta.modified,
            rubrique=meta.rubrique,
            tags=meta.tags,
            author=meta.author,
            language=meta.language,
            date_conflicts=meta.date_conflicts,
            image=meta.image,
        ),
        related,
    )


_DECLARED_DATES = frozenset(("json-ld", "opengraph", "meta"))


def _htmldate(root: etree._Element, url: str, fetched_at: datetime) -> DateValue | None:
    """The publication day as htmldate's extensive search reads it (on a copy of the
    tree: htmldate cleans what it is given), never after the fetch."""
    from htmldate import find_date  # comes with trafilatura; loaded by generic crawls only

    try:
        found = find_date(
            copy.deepcopy(root),
            extensive_search=True,
            url=url,
            max_date=fetched_at.strftime("%Y-%m-%d"),
        )
    except (ValueError, TypeError):
        return None
    if not found:
        return None
    return DateValue(datetime.strptime(found, "%Y-%m-%d"), "htmldate", "day")


def main_text(root: etree._Element, url: str) -> str:
    """The page's main text through trafilatura, paragraphs separated by a blank line."""
    # Settings measured on tests/benchmarks/extraction.py: trafilatura's own extractor
    # alone ("fast", no readability/jusText fallback) is more precise there, and tables
    # hold article text more often than layout.
    paragraphs = _extract(root, url, fast=True)
    if _menu_like(paragraphs):
        # On a few pages the fast path returns the site's menu, one entry a line: the
        # fallback extractors then find the article.
        paragraphs = _extract(root, url, fast=False)
    return "\n\n".join(paragraphs)


def _extract(root: etree._Element, url: str, fast: bool) -> list[str]:
    import trafilatura  # slow to import: only generic crawls pay for it

    # trafilatura changes the tree it reads: it gets a copy.
    tree = copy.deepcopy(root)
    # Comments and processing instructions split text runs in trafilatura's eyes, and it
    # drops them itself when it parses a page from a string.
    etree.strip_elements(tree, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    text = trafilatura.extract(
        tree,
        url=url,
        fast=fast,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )
    lines = (" ".join(line.split()) for line in (text or "").splitlines())
    return [line for line in lines if line]


def _menu_like(paragraphs: list[str]) -> bool:
    """A long text made mostly of lines of one to three words: a menu, not an article."""
    counts = [word_count(paragraph) for paragraph in paragraphs]
    total = sum(counts)
    return total > 300 and sum(count for count in counts if count < 4) > total / 2


def _without_title(body: str, title: str) -> str:
    """The body without a first paragraph that only repeats the title (it is stored as
    the title already)."""
    first, _blank, rest = body.partition("\n\n")
    return rest if rest and fold(first) == fold(title) else body
