"""Generic page analysis, for sites without selectors: metadata from the page's own
declarations, the related block found by its heading, name or shape, and the main text
through trafilatura.

``analyse_generic`` is called by :func:`crawler.page.analysis.analyse_page` for profiles in
``generic`` mode, on the tree that function parsed.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import date, datetime, timedelta

from lxml import etree

from crawler.page.dates import shown_date
from crawler.page.html import fold, word_count
from crawler.page.listing import page_kind
from crawler.page.metadata import Metadata, read_metadata
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
    published = _published(root, url, meta, fetched_at)
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


_DECLARED_DAYS = frozenset(("json-ld", "opengraph", "meta", "time"))


def _published(
    root: etree._Element, url: str, meta: Metadata, fetched_at: datetime
) -> DateValue | None:
    """The publication date, weighing what the page shows, declares and htmldate reads.

    Measured on trafilatura-eval (tests/benchmarks/trafilatura_eval.py, even-numbered
    pages), most trusted first:

    1. the date shown beside the title, as a reader sees it (``crawler.page.dates.
       shown_date``), unless the URL's day or two of the page's declarations (JSON-LD,
       OpenGraph, a meta tag, <time>) agree on another day;
    2. a date the page declares (JSON-LD, OpenGraph, a meta tag, a <time> of the
       article: ``crawler.page.metadata``), unless it is a time written in UTC and
       htmldate names a neighbouring day (the page's own, in its time zone);
    3. htmldate's publication date, else the URL's.

    Where two of them name the same day, the one with a time and an offset is kept.
    """
    declared = meta.published
    languages = tuple(dict.fromkeys(lang for lang in (meta.language, "en") if lang))
    shown = shown_date(root, meta.title, fetched_at, languages)
    if shown is not None and not _outvoted(shown, meta.published_candidates):
        same_day = [d for d in meta.published_candidates if d.local_day == shown.local_day]
        return next((d for d in same_day if d.precision == "exact"), shown)
    if declared is not None and declared.source in _DECLARED_DAYS and not _in_utc(declared):
        return declared
    # htmldate reads the tree already parsed (its related blocks out: no teaser's date).
    found = _htmldate(root, url, fetched_at)
    if declared is not None and declared.source in _DECLARED_DAYS:
        # A time written in UTC does not say on which day the page was: where htmldate
        # names a day that instant falls on in some time zone, that day is the page's.
        if (
            found is not None
            and found.local_day != declared.local_day
            and _falls_on(declared.value, found.local_day)
        ):
            return found
        return declared
    if found is not None and (declared is None or found.local_day != declared.local_day):
        return found  # where both read the same day, ours keeps its source and time
    return declared


# The time zones in use run from UTC-12 to UTC+14.
_WEST, _EAST = timedelta(hours=-12), timedelta(hours=14)


def _falls_on(instant: datetime, day: date) -> bool:
    """Whether an instant (naive UTC) is on ``day`` in some time zone."""
    return (instant + _WEST).date() <= day <= (instant + _EAST).date()


def _in_utc(date: DateValue) -> bool:
    """A time written in UTC ("Z", +00:00), not in the page's own zone."""
    return date.utc_offset == 0 and date.precision == "exact"


def _outvoted(shown: DateValue, declared: tuple[DateValue, ...]) -> bool:
    """Whether the page's URL day, or two of its declarations, name another day."""
    days: Counter[date] = Counter()
    for other in declared:
        if other.precision not in ("exact", "day") or other.local_day == shown.local_day:
            continue
        if other.source == "url":
            return True
        if other.source in _DECLARED_DAYS:
            days[other.local_day] += 1
    return any(count >= 2 for count in days.values())


def _htmldate(root: etree._Element, url: str, fetched_at: datetime) -> DateValue | None:
    """The publication day as htmldate reads it (extensive search, publication date
    rather than the latest: ``original_date``), on a copy of the tree (htmldate cleans
    what it is given), never after the fetch."""
    from htmldate import find_date  # comes with trafilatura; loaded by generic crawls only

    try:
        found = find_date(
            copy.deepcopy(root),
            extensive_search=True,
            original_date=True,
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
