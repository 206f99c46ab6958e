"""Telling articles from listing pages (tags, categories, authors, date archives, search
results, pagination, indexes) without a site profile.

The page is read for evidence that holds on any site, most trusted first:

1. what the page declares: a JSON-LD ``CollectionPage``, ``ProfilePage`` or
   ``SearchResultsPage`` and no article object; an article type says the opposite;
   OpenGraph's ``og:type`` only leans one way or the other;
2. its structure: a listing is mostly repeated teasers, sibling elements of one shape,
   each a title-like link to another page of the site with at most a short excerpt
   (a definition's term and its description, a table row and its description row, are
   one item; a menu's one-word entries and their submenus are not teasers), while an
   article's text is prose outside any such run; a page of links with little text of its
   own is an index; a folder's index page (``/howto/``) that links mostly to pages
   beneath its folder is one too;
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
_MAX_TEASER_LINKED_WORDS = 400  # with its links: a linked excerpt may run longer
_TITLE_LEAD_WORDS = 6  # words before a teaser's title: a date, a section label
_PROSE_WORDS = 15
_MIN_TITLE_WORDS = 3  # a listing's titles say what an article is about; a menu's do not
# A folder's index page links to at least this many pages under its folder.
_HUB_LINKS = 5
_HUB_SHARE = 0.3  # of the links to the site
_PAGE_VARIANTS = frozenset(("amp", "feed", "print", "embed", "comments", "page", "trackback"))
# An index: many links, nearly all of the text, little text of its own.
_INDEX_LINKS = 20
_INDEX_LINK_SHARE = 0.75
_INDEX_MAX_WORDS = 150
_MAX_DESCRIPTIONS = 2  # elements after an item's link that describe it
_MAX_ITEM_TARGETS = 6  # a teaser links its article, perhaps its section, tags, author
# Elements that hold prose of their own, and those whose text is not their parent's own.
_BLOCK_TAGS = ("div", "section", "article")
_PROSE_TAGS = ("p", "td", "dd", "blockquote", "pre", "li", *_BLOCK_TAGS)
_NOT_OWN_TEXT = frozenset(
    ("a", *_PROSE_TAGS, "ul", "ol", "dl", "table", "h1", "h2", "h3", "h4", "h5", "h6",
     "header", "footer", "nav", "aside", "main", "figure", "form", *INVISIBLE_TAGS)
)  # fmt: skip
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
    structure = _structure(root, url, base, 1 if by_url else _MIN_TEASERS - 1)
    share, items = structure.teaser_share, structure.teasers
    if declared_listing and not declared_article:
        return PageKind(True, f"json-ld {sorted(declared_listing)[0]}")
    if declared_article:
        # Some themes call every page an article: only an overwhelming run of teasers
        # at a listing URL overrides the declaration (measured: on article-extraction-
        # benchmark, two reviews with long "more stories" lists became listings).
        overwhelming = by_url and items >= 2 * _MIN_TEASERS and share >= 0.85
        reason = f"teasers {share:.2f} of the text ({items} items) despite json-ld article"
        return PageKind(overwhelming, reason if overwhelming else "json-ld article")
    # A page that says it is one article (og:type) is read as an index only at a
    # listing URL, as for teasers below.
    if og_type != "article" or by_url:
        hub = _pages_under(root, url, base)
        if hub >= _HUB_LINKS:
            return PageKind(True, f"a folder's index: links to {hub} pages under it")
        if structure.is_index:
            return PageKind(
                True,
                f"an index: {structure.links} links, {structure.link_share:.2f} of the "
                f"text, {structure.unlinked_words} words outside them",
            )
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


def _pages_under(root: etree._Element, url: str, base: str) -> int:
    """How many pages a folder's index page (``/howto/``, ``/howto/index.html``) links to
    beneath its folder, when they are a good share of its links to the site; 0 for any
    other page. A page number ("/2/") or a variant of the page (feed, AMP) does not
    count."""
    parts = urlsplit(url)
    folder, _slash, last = parts.path.rpartition("/")
    if last and not last.lower().startswith(("index.", "default.")):
        return 0
    folder += "/"
    if folder == "/":
        return 0  # a site's home page: its structure tells
    under: set[str] = set()
    site: set[str] = set()
    for anchor in root.iter("a"):
        target = clean_url(anchor.get("href") or "", base)
        if target is None:
            continue
        target_parts = urlsplit(target)
        path = target_parts.path
        if target_parts.netloc != parts.netloc:
            continue
        site.add(path)
        if not path.startswith(folder):
            continue
        rest = path[len(folder) :].strip("/")
        if not rest or rest.lower().startswith(("index.", "default.")):
            continue
        first = rest.split("/", 1)[0]
        if first.isdigit() or first in _PAGE_VARIANTS or not text_of(anchor):
            continue  # nor does a picture's page, linked from the picture
        under.add(path)
    # An article's pictures or comments may live beneath it too, but they are a small
    # share of its links; a folder's index links mostly to the folder.
    return len(under) if len(under) >= _HUB_SHARE * len(site) else 0


def _structure(root: etree._Element, url: str, base: str, min_run: int) -> _Structure:
    """The page's teasers and links (outside navigation and sidebars)."""
    body = root.find("body")
    if body is None:
        return _Structure(0.0, 0, 0.0, 0, 0)
    page = urldefrag(url)[0]
    host = urlsplit(page).netloc
    elements = [element for element in body.iter() if isinstance(element.tag, str)]
    # Linear passes, not a text search per element and level: a page of 5,000 elements
    # nested 30 deep would otherwise be read 30 times over.
    furniture = _furniture(elements)
    words, unlinked = _subtree_words(elements)
    teasers: list[etree._Element] = []
    for parent in elements:
        if parent in furniture:
            continue
        # A run: consecutive siblings of one tag that are each a teaser (classes vary
        # from item to item: "post-1477 tag-bangkok").
        run: list[list[etree._Element]] = []
        targets: set[str] = set()
        titles: list[tuple[int, bool]] = []  # each item's title words, and its excerpt
        for item in [*_items(parent), []]:  # an empty item ends the last run
            title = None
            all_words = 0
            if item and item[0].tag in _ITEM_TAGS:
                all_words = sum(words[element] for element in item)
                # a teaser's text is short, but for its links (a linked excerpt)
                if (
                    sum(unlinked[element] for element in item) <= _MAX_TEASER_WORDS
                    and all_words <= _MAX_TEASER_LINKED_WORDS
                ):
                    title = _title_link(item, base, page, host)
            if (
                title is not None
                and title[0] not in targets
                and (not run or item[0].tag == run[0][0].tag)
            ):
                run.append(item)
                targets.add(title[0])
                titles.append((title[1], all_words > title[1]))
                continue
            if len(run) >= min_run and _reads_as_teasers(titles):
                teasers.extend(element for each in run for element in each)
            run = [item] if title is not None else []
            targets = {title[0]} if title is not None else set()
            titles = [(title[1], all_words > title[1])] if title is not None else []
    chosen = set(teasers)
    outer = [item for item in teasers if not any(a in chosen for a in item.iterancestors())]
    in_teasers = {element for item in outer for element in item.iter()}
    teaser_words = sum(words[item] for item in outer)
    prose_words = _prose_words(body, furniture | in_teasers)
    # The links' share of the words outside furniture, and the words outside links.
    furniture_roots = [element for element in furniture if element.getparent() not in furniture]
    shown_words = words[body] - sum(words[element] for element in furniture_roots)
    unlinked_words = unlinked[body] - sum(unlinked[element] for element in furniture_roots)
    links = {
        anchor.get("href")
        for anchor in body.iter("a")
        if anchor.get("href") and anchor not in furniture
    }
    total = teaser_words + prose_words
    return _Structure(
        teaser_share=teaser_words / total if total else 0.0,
        teasers=len(outer),
        link_share=1 - unlinked_words / shown_words if shown_words else 0.0,
        unlinked_words=unlinked_words,
        links=len(links),
    )


@dataclass(frozen=True)
class _Structure:
    """What the page is made of, outside navigation, header, footer and sidebars."""

    teaser_share: float  # the share of its words in runs of teasers
    teasers: int
    link_share: float  # the share of its words inside links
    unlinked_words: int
    links: int  # distinct link targets

    @property
    def is_index(self) -> bool:
        """A page of links with little text of its own: an index, a sitemap."""
        return (
            self.links >= _INDEX_LINKS
            and self.link_share >= _INDEX_LINK_SHARE
            and self.unlinked_words < _INDEX_MAX_WORDS
        )


def _items(parent: etree._Element) -> list[list[etree._Element]]:
    """The parent's children as list items: one each, but for a child without a link
    after one with a link, which is that item's description (a definition list's
    ``dd`` after its ``dt``, a table's description row after the row that links)."""
    items: list[list[etree._Element]] = []
    last_linked = False  # whether the last item starts with a link
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        linked = any(a.get("href") for a in child.iter("a"))
        if not linked and last_linked and len(items[-1]) <= _MAX_DESCRIPTIONS:
            items[-1].append(child)
        else:
            items.append([child])
            last_linked = linked
    return items


def _reads_as_teasers(titles: list[tuple[int, bool]]) -> bool:
    """Whether items read as teasers, not as a menu: titles of a few words ("Amtliche
    Mitteilungen", "Kontakt") are a menu's, unless most items say more than the title
    (an excerpt, a date, a description)."""
    mean_words = sum(words for words, _excerpt in titles) / len(titles)
    with_more = sum(excerpt for _words, excerpt in titles)
    return mean_words >= _MIN_TITLE_WORDS or 2 * with_more >= len(titles)


def _furniture(elements: list[etree._Element]) -> set[etree._Element]:
    """The elements (in document order) that are navigation, header, footer, sidebar or
    form, or inside one."""
    furniture: set[etree._Element] = set()
    for element in elements:
        if (
            element.tag in _FURNITURE_TAGS
            or element.get("role") in _FURNITURE_ROLES
            or element.getparent() in furniture
        ):
            furniture.add(element)
    return furniture


def _subtree_words(
    elements: list[etree._Element],
) -> tuple[dict[etree._Element, int], dict[etree._Element, int]]:
    """How many visible words each element (in document order) holds, in all and
    outside links, children counted before their parents."""
    words: dict[etree._Element, int] = {}
    unlinked: dict[etree._Element, int] = {}
    for element in reversed(elements):
        count = own = 0
        if element.tag not in INVISIBLE_TAGS:
            count = own = _words(element.text)
            for child in element:
                tail = _words(child.tail)
                count += words.get(child, 0) + tail
                own += (0 if child.tag == "a" else unlinked.get(child, 0)) + tail
        words[element] = count
        unlinked[element] = own if element.tag != "a" else 0
    return words, unlinked


def _words(text: str | None) -> int:
    return word_count(text) if text and not text.isspace() else 0


def _title_link(
    item: list[etree._Element], base: str, page: str, host: str
) -> tuple[str, int] | None:
    """The item's title and its length in words: its link to another page of the site
    with the longest anchor, near the item's start (after a date or a label at most: a
    link inside a sentence is a reference, not a title), of two words or more, or of one
    with a description after it ("mod_proxy: a proxy for HTTP"); None when there is
    none, or when the item links to more pages than a teaser does (a menu and its
    submenu)."""
    text = " ".join(text_of(element) for element in item)
    best: tuple[int, str] | None = None
    targets: set[str] = set()
    for anchor in (a for element in item for a in element.iter("a")):
        target = clean_url(anchor.get("href") or "", base)
        if target is None:
            continue
        target = urldefrag(target)[0]
        if target == page or urlsplit(target).netloc != host:
            continue
        targets.add(target)
        anchor_text = text_of(anchor)
        words = word_count(anchor_text) or (2 if anchor.find(".//img") is not None else 0)
        at = text.find(anchor_text) if anchor_text else 0
        if not words or word_count(text[: max(at, 0)]) > _TITLE_LEAD_WORDS:
            continue
        if words == 1 and word_count(text) <= 1:
            continue  # a bare one-word link: "Next", "Home"
        if best is None or words > best[0]:
            best = (words, target)
    if best is None or len(targets) > _MAX_ITEM_TARGETS:
        return None
    return best[1], best[0]


def _prose_words(body: etree._Element, outside: set[etree._Element]) -> int:
    """Words in runs of prose, but for the elements ``outside`` (teasers, navigation and
    sidebars): paragraphs, cells, items, and blocks whose text is not in paragraphs at
    all (lines split by <br> in a <div>)."""
    words = 0
    for element in body.iter(*_PROSE_TAGS):
        if element in outside or (element.tag in _BLOCK_TAGS and element.find("br") is None):
            continue  # a <div> of one run of text is as often a footer's notice as prose
        own = word_count(_own_text(element))
        if own >= _PROSE_WORDS:
            words += own
    return words


def _own_text(element: etree._Element) -> str:
    """The element's text outside links and nested blocks (paragraphs, items, divs)."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _NOT_OWN_TEXT:
            parts.append(_own_text(child))
        parts.append(child.tail or "")
    return " ".join(" ".join(parts).split())
