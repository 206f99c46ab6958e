"""The small HTML steps every part of page analysis shares: parsing, selecting, text,
links, and numbering a related block. Imported by the analysis of profiles and by the
generic readers alike (so none of them imports another to get these)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

from crawler.page.selection import compile_selector
from crawler.page.urls import canonical_url
from warehouse.model import FOUND_BY, DateValue, RelatedLink
from warehouse.scripts import UNSPACED


class AnalysisError(ValueError):
    """The page could not be read at all (empty, or not HTML)."""


def select(node: etree._Element, selector: str) -> list[etree._Element]:
    """Elements under ``node`` matching a CSS selector (or ``xpath:`` expression)."""
    if not selector:
        return []
    return [
        found for found in compile_selector(selector)(node) if isinstance(found, etree._Element)
    ]


def fold(text: str) -> str:
    """Lower case, no accents, punctuation as spaces, spaces collapsed: for comparing
    headings, titles and names whatever their case, accents or punctuation."""
    text = text.lower()
    if not text.isascii():  # ASCII has no accents to take off
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", text).split())


_NOT_WORD = re.compile(r"[\W_]+")


#: Elements whose text no reader sees.
INVISIBLE_TAGS = frozenset(("script", "style", "noscript", "template"))
_SPACED_WORD = re.compile(r"\w*[^\W\d_]\w*")


def word_count(text: str) -> int:
    """How many words ``text`` holds, in any script: words between spaces for scripts that
    use them, and for scripts that do not (Chinese, Japanese, Thai...) one word per two
    characters, about a word's mean length there."""
    unspaced = len(UNSPACED.findall(text))
    if not unspaced:
        return len(_SPACED_WORD.findall(text))
    return len(_SPACED_WORD.findall(UNSPACED.sub(" ", text))) + (unspaced + 1) // 2


def text_of(node: etree._Element) -> str:
    """The visible text of an element with white space collapsed."""
    return " ".join(node.text_content().split())


def clean_url(href: str, base: str) -> str | None:
    """``href`` made absolute against ``base`` and canonical; None unless http(s)."""
    href = href.strip()
    if not href or href.startswith(("javascript:", "mailto:", "tel:", "data:")):
        return None
    if not href.startswith(("?", "#")) and base.find("/", base.find("//") + 2) != -1:
        # Only the base's folder matters then: pages of one folder share their results.
        base = base[: base.rfind("/") + 1]
    return _resolve(href, base)


def is_malformed_url(href: str) -> bool:
    """Whether a link is no URL at all (``http://[ccpa-preferences]``, a port of 99999,
    ``http://`` with no host): skipped, and worth a warning on the page's fetch."""
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return False
    try:
        parts = urlsplit(href)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        return True
    if parts.scheme not in ("http", "https"):
        return False
    return not parts.hostname or any(c in _NOT_IN_HOSTS for c in parts.hostname)


_NOT_IN_HOSTS = frozenset('%<>"{}|\\^` ')


@lru_cache(maxsize=1 << 16)  # the same links recur on every page of a site
def _resolve(href: str, base: str) -> str | None:
    try:
        url, _fragment = urldefrag(urljoin(base, href))
        return canonical_url(url) if urlsplit(url).scheme in ("http", "https") else None
    except ValueError:  # e.g. href="http://[ccpa-preferences]": one bad link, not a bad page
        return None


def parse_html(html: str | bytes) -> etree._Element:
    """Parse a page once with lxml; raise AnalysisError when there is nothing to parse."""
    if isinstance(html, str):
        # lxml refuses str input that carries an XML encoding declaration.
        html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html, count=1)
    if not html or not html.strip():
        raise AnalysisError("empty page")
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as error:
        raise AnalysisError(f"not an HTML page: {error}") from error


def number_related_links(
    candidates: Iterable[tuple[str, str, str | None, DateValue | None, str | None, str]],
) -> tuple[RelatedLink, ...]:
    """Related links from ``(target, anchor text, displayed age, its date, heading, how
    the block was found)`` in page order: positions 1, 2, 3...; a target listed twice
    keeps its first place."""
    links: list[RelatedLink] = []
    seen: set[str] = set()
    for target, anchor_text, age, published, heading, found_by in candidates:
        if target in seen:
            continue
        seen.add(target)
        links.append(
            RelatedLink(
                target_url=target,
                anchor_text=anchor_text,
                position=len(links) + 1,
                displayed_age=age,
                target_published=published,
                heading=heading,
                found_by=found_by,
                confidence=FOUND_BY[found_by],
            )
        )
    return tuple(links)
