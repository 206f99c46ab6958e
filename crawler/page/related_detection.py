"""Finding a page's editorial "related" block without a site profile.

A block is found in three ways, most trusted first:

1. by its heading ("À lire aussi", "See Also", "相关推荐", "参照"...), in any language of
   ``related_headings.toml``: the block is the smallest container after or around the heading
   that holds a link;
2. by its class, id or aria-label ("relatedtopics", "related-posts", "see-also"...);
3. by its shape, when nothing names it: a list of two or more links to pages of the
   same site and of the same kind as the page, with title-like anchors, after the start
   of the main text and outside navigation.

Links to tag, topic, category or author pages are not related articles and are left
out; a target listed twice keeps its first place. Every block that yields a link is
taken out of the tree, so that its text cannot reach the article's body, and its links
are returned in page order.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

from lxml import etree

from crawler.page.dates import parse_relative_age
from crawler.page.html import (
    INVISIBLE_TAGS,
    clean_url,
    fold,
    number_related_links,
    text_of,
    word_count,
)
from crawler.page.listing import listing_url
from warehouse.model import DateValue, RelatedLink


# Headings of related blocks, by language, from a data file: a heading matches when its
# folded text is one of the phrases, or starts with a prefix and stays short ("More from
# The Verge").
def _load_headings() -> tuple[frozenset[str], tuple[str, ...]]:
    data = tomllib.loads(Path(__file__).with_name("related_headings.toml").read_text("utf-8"))
    exact = {fold(phrase) for language in data.values() for phrase in language["exact"]}
    prefixes = {fold(prefix) + " " for language in data.values() for prefix in language["prefixes"]}
    return frozenset(exact), tuple(sorted(prefixes))


_HEADINGS, _HEADING_PREFIXES = _load_headings()
_HEADING_WORDS = 8
_HEADING_CHARS = 120
_HEADING_TAGS = frozenset(
    ("h1", "h2", "h3", "h4", "h5", "h6", "p", "span", "div", "strong", "b", "em", "li",
     "header", "legend", "dt", "summary", "caption", "label")
)  # fmt: skip
_HEADING_RANKS = {f"h{level}": level for level in range(1, 7)}

# Classes, ids and aria-labels that name a related block.
_RELATED_NAME = re.compile(r"related|see-?also|seealso|yarpp|read-?next|lire-?aussi|voir-?aussi")
# ...but not these, which name tags, videos or products rather than articles.
_NOT_RELATED_NAME = re.compile(r"unrelated|related-?(?:tags?|videos?|products?|search|entit)")
_BLOCK_TAGS = frozenset(
    ("div", "section", "aside", "ul", "ol", "nav", "dl", "p", "table", "footer", "span")
)

# Class and id words of page furniture that is never an editorial block.
_FURNITURE = frozenset(
    (
        "nav", "navbar", "navigation", "menu", "menus", "breadcrumb", "breadcrumbs",
        "pagination", "pager", "paging", "share", "sharing", "social", "comment", "comments",
        "footer", "header", "masthead", "toc", "sitemap", "tag", "tags", "tagcloud",
        "trending", "popular", "mostread", "most", "latest", "ad", "ads", "advert", "sponsor",
        "sponsored", "promo", "newsletter", "outbrain", "taboola", "widget", "cookie",
    )
)  # fmt: skip
_FURNITURE_TAGS = frozenset(("nav", "header", "footer", "form", "menu"))
_FURNITURE_ROLES = frozenset(("navigation", "menu", "menubar", "banner", "contentinfo"))

# Structural lists: anchors read like titles, targets like article URLs.
_MIN_ANCHOR_WORDS = 3
_MIN_MEAN_ANCHOR_WORDS = 4
# A paragraph of at least this many characters of its own text is article prose.
_PROSE = 100


@dataclass
class _Block:
    """A related block: the elements it spans, its heading and the anchors inside it."""

    elements: list[etree._Element]
    heading: str | None
    anchors: list[etree._Element]
    found_by: str = "heading"  # "heading", "name" or "shape" (see warehouse.model.FOUND_BY)

    def position(self, order: dict[etree._Element, int]) -> int:
        return order[self.elements[0]]


def take_related_blocks(
    root: etree._Element, url: str, base: str, fetched_at: datetime
) -> tuple[RelatedLink, ...]:
    """Find the page's related blocks, take them out of ``root``, return their links.

    Parameters
    ----------
    root : the parsed page; every block found is removed from it (``drop_tree``).
    url : the page's URL: links back to it are not related links.
    base : the base for relative links (the page's <base href>, else ``url``).
    fetched_at : the fetch time, which displayed ages ("il y a 3 jours") count back from.
    """
    body = root.find("body")
    if body is None:
        return ()
    order = {element: index for index, element in enumerate(root.iter())}
    page = urldefrag(url)[0]
    main = _main_container(body)
    blocks: list[_Block] = []

    def inside_found(element: etree._Element) -> bool:
        return any(
            element is found or _contains(found, element)
            for block in blocks
            for found in block.elements
        )

    for heading in _headings(body):
        if inside_found(heading):
            continue
        block = _block_after_heading(heading, base, page, main)
        if block is not None:
            block.found_by = "heading"
            _add(blocks, block)
    for named in _named_blocks(body):
        if inside_found(named):
            continue
        block = _named_block(named, base, page, main)
        if block is not None:
            block.found_by = "name"
            _add(blocks, block)
    if main is not None:
        for element in body.iter():
            if not isinstance(element.tag, str) or inside_found(element):
                continue
            block = _structural_block(element, base, page, url, main, order)
            if block is not None:
                block.found_by = "shape"
                _add(blocks, block)

    blocks.sort(key=lambda block: block.position(order))
    candidates = []
    kept: list[_Block] = []
    for block in blocks:
        targets = _targets(block, base, page)
        if not targets:
            continue  # only tag or author pages: not a related block, leave it be
        kept.append(block)
        for anchor, target in targets:
            age, published = _displayed_age(anchor, block, fetched_at)
            candidates.append(
                (target, _anchor_text(anchor), age, published, block.heading, block.found_by)
            )
    for block in kept:
        for element in block.elements:
            if element.getparent() is not None:
                element.drop_tree()
    return number_related_links(candidates)


# --- text helpers --------------------------------------------------------------------


@lru_cache(maxsize=1 << 12)  # a site's pages share most of their short texts
def is_related_heading(text: str) -> bool:
    """Whether ``text`` reads as the heading of a related block ("À lire aussi :")."""
    folded = fold(text)
    if not folded or word_count(folded) > _HEADING_WORDS:
        return False
    return folded in _HEADINGS or folded.startswith(_HEADING_PREFIXES)


class _TooLong(Exception):
    pass


def _collect_text(element: etree._Element, skip_links: bool, limit: int | None = None) -> str:
    """The text of ``element`` without scripts (and without links when ``skip_links``),
    white space collapsed; raises _TooLong once it passes ``limit`` characters (most
    elements of a page are far too long to be a heading: they are not read whole)."""
    parts: list[str] = []
    size = 0

    def add(text: str) -> None:
        nonlocal size
        parts.append(text)
        # The collapsed parts never add up to more than the collapsed whole.
        size += len(" ".join(text.split()))
        if limit is not None and size > limit:
            raise _TooLong

    def walk(node: etree._Element) -> None:
        if node.text:
            add(node.text)
        for child in node:
            is_link = child.tag == "a" and child.get("href")
            if (
                isinstance(child.tag, str)
                and child.tag not in INVISIBLE_TAGS
                and not (skip_links and is_link)
            ):
                walk(child)
            if child.tail:
                add(child.tail)

    walk(element)
    return " ".join("".join(parts).split())


def _visible_text(element: etree._Element) -> str:
    """The element's text as a reader sees it: no scripts, white space collapsed."""
    return _collect_text(element, skip_links=False)


def _own_text(element: etree._Element) -> str:
    """The element's text outside its links (a heading is not a link)."""
    return _collect_text(element, skip_links=True)


def _short_own_text(element: etree._Element, limit: int) -> str | None:
    """The element's own text if it is ``limit`` characters or less, else None."""
    try:
        return _collect_text(element, skip_links=True, limit=limit)
    except _TooLong:
        return None


def _heading_text(text: str) -> str | None:
    return " ".join(text.split()).rstrip(" :-–—").strip() or None


def _text_before(element: etree._Element, stop: etree._Element) -> str:
    """The text of ``element`` that comes before its descendant ``stop``."""
    parts: list[str] = []
    for event, node in etree.iterwalk(element, events=("start", "end")):
        if node is stop:
            break
        if event == "start" and isinstance(node.tag, str):
            parts.append(node.text or "")
        elif event == "end" and node is not element:
            parts.append(node.tail or "")
    return "".join(parts)


def _link_text_length(element: etree._Element) -> int:
    return sum(len(text_of(a)) for a in element.iter("a") if a.get("href"))


def _is_prose(element: etree._Element) -> bool:
    return len(_own_text(element)) >= _PROSE


def _contains(ancestor: etree._Element, element: etree._Element) -> bool:
    return any(parent is ancestor for parent in element.iterancestors())


# --- the main text -------------------------------------------------------------------


def _main_container(body: etree._Element) -> etree._Element | None:
    """The element holding most of the page's prose paragraphs, or None when there is none.

    Structural detection only looks at lists after the start of this container, and no
    block may swallow it.
    """
    scores: dict[etree._Element, int] = {}
    for paragraph in body.iter("p", "div", "td", "blockquote", "pre", "dd"):
        if paragraph.tag == "div" and any(
            isinstance(child.tag, str) and child.tag in ("p", "div") for child in paragraph
        ):
            continue
        own = len(_own_text(paragraph))
        parent = paragraph.getparent()
        if own >= _PROSE and parent is not None:
            scores[parent] = scores.get(parent, 0) + own
    # Teasers inside a block named "related" are not the page's own text.
    for element in list(scores):
        if any(_is_named_related(node) for node in (element, *element.iterancestors())):
            del scores[element]
    if not scores:
        return None
    return max(scores, key=scores.__getitem__)


def _swallows_main(element: etree._Element, main: etree._Element | None) -> bool:
    return main is not None and (element is main or _contains(element, main))


# --- blocks found by their heading ---------------------------------------------------


def _headings(body: etree._Element) -> list[etree._Element]:
    """Elements whose own text reads as a related heading, innermost first on a chain."""
    found: list[etree._Element] = []
    for element in body.iter(*_HEADING_TAGS):
        own = _short_own_text(element, _HEADING_CHARS)
        # "(see also ...)" in an index entry is a cross-reference, not a heading.
        if own is None or own.startswith(("(", "[")) or not is_related_heading(own):
            continue
        if element.xpath("ancestor::a[@href] or ancestor::nav"):
            continue
        # A <p><span>Rubriques connexes</span></p> matches twice: keep the inner one.
        if any(_contains(element, other) for other in found):
            continue
        found = [other for other in found if not _contains(other, element)] + [element]
    return found


def _block_after_heading(
    heading: etree._Element, base: str, page: str, main: etree._Element | None
) -> _Block | None:
    """The smallest container around or after ``heading`` that holds a link."""
    anchors = _anchors(heading, base, page)
    if anchors:
        # "À lire aussi : <a>...</a>" in one element: the element is the block, and the
        # heading is the text before the first link.
        before = _text_before(heading, anchors[0])
        return _checked(_Block([heading], _heading_text(before), anchors), main)
    title = _heading_text(_own_text(heading))
    child = heading
    for _level in range(6):
        parent = child.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return None
        before = (parent.text or "") + "".join(
            text_of(sibling) + (sibling.tail or "")
            for sibling in child.itersiblings(preceding=True)
            if isinstance(sibling.tag, str)
        )
        if word_count(before) > 2:
            # The heading sits inside a larger part of the page: the block is the run
            # of siblings that follows it.
            return _checked(_following_section(child, heading, title, base, page), main)
        anchors = _anchors(parent, base, page)
        if anchors:
            return _checked(_Block([parent], title, anchors), main)
        child = parent
    return None


def _following_section(
    child: etree._Element, heading: etree._Element, title: str | None, base: str, page: str
) -> _Block:
    """``child`` (which holds the heading) and the siblings after it that hold links,
    up to the next heading or paragraph of prose."""
    rank = _HEADING_RANKS.get(heading.tag, 7)
    elements = [child]
    anchors: list[etree._Element] = []
    for sibling in child.itersiblings():
        if not isinstance(sibling.tag, str):
            continue
        if _HEADING_RANKS.get(sibling.tag, 8) <= rank or is_related_heading(_own_text(sibling)):
            break
        found = _anchors(sibling, base, page)
        if not found and text_of(sibling):
            break
        if (
            found
            and len(_own_text(sibling)) > 2 * _link_text_length(sibling) + 50
            and not _is_link_list(sibling)
        ):
            break  # prose that happens to hold a link (a list of links with a description
            # each is not prose: "mod_proxy | Serves proxies for the server")
        elements.append(sibling)
        anchors += found
    return _Block(elements, title, anchors)


def _checked(block: _Block, main: etree._Element | None) -> _Block | None:
    """The block, unless it is empty or looks like a part of the article itself."""
    if not block.anchors:
        return None
    if any(_swallows_main(element, main) for element in block.elements):
        return None
    if block.heading and any(_is_named_related(element) for element in block.elements):
        return block  # both its heading and its name say so: teasers may be long
    own = sum(len(_own_text(element)) for element in block.elements)
    linked = sum(_link_text_length(element) for element in block.elements)
    # A list of links with a teaser each, not a run of prose with a few links in it.
    if own > max(300, 1.5 * linked) and not all(
        _is_link_list(element) or element.find(".//a[@href]") is None for element in block.elements
    ):
        return None
    return block


def _is_link_list(element: etree._Element) -> bool:
    """Whether ``element`` is a list (items, table rows, definition terms) whose every
    item starts with a link: names with a description each, not prose."""
    if element.tag in ("ul", "ol"):
        items = [child for child in element if child.tag == "li"]
    elif element.tag == "table":
        items = list(element.iter("tr"))
    elif element.tag == "dl":
        items = [child for child in element if child.tag == "dt"]
    else:
        return False
    if len(items) < 2:
        return False
    for item in items:
        anchor = next((a for a in item.iter("a") if a.get("href")), None)
        if anchor is None or word_count(_text_before(item, anchor)) > 2:
            return False
    return True


# --- blocks found by their name ------------------------------------------------------


def _names_of(element: etree._Element) -> str:
    return " ".join(element.get(a) or "" for a in ("class", "id", "aria-label")).lower()


def _is_named_related(element: etree._Element) -> bool:
    names = _names_of(element)
    return bool(_RELATED_NAME.search(names)) and not _NOT_RELATED_NAME.search(names)


def _named_blocks(body: etree._Element) -> list[etree._Element]:
    return [element for element in body.iter(*_BLOCK_TAGS) if _is_named_related(element)]


def _named_block(
    element: etree._Element, base: str, page: str, main: etree._Element | None
) -> _Block | None:
    anchors = _anchors(element, base, page)
    titles: dict[str | None, int] = {}
    for anchor in anchors:
        target = _target(anchor, base)
        titles[target] = max(titles.get(target, 0), word_count(_anchor_text(anchor)))
    # A name alone is a weaker sign than a heading: the links must read like titles.
    if len(titles) < 2 or 2 * sum(w >= _MIN_ANCHOR_WORDS for w in titles.values()) < len(titles):
        return None
    heading = None
    for candidate in element.iter(*_HEADING_TAGS):
        if candidate is element:
            continue
        if (
            candidate.tag in _HEADING_RANKS
            or "head" in _names_of(candidate)
            or "title" in _names_of(candidate)
        ):
            text = _own_text(candidate)
            if text and word_count(text) <= _HEADING_WORDS:
                heading = _heading_text(text)
            break
    return _checked(_Block([element], heading, anchors), main)


# --- blocks found by their shape -----------------------------------------------------


def _is_furniture(element: etree._Element) -> bool:
    for node in (element, *element.iterancestors()):
        if node.tag in _FURNITURE_TAGS or (node.get("role") or "").lower() in _FURNITURE_ROLES:
            return True
        if _FURNITURE & set(re.split(r"[\W_]+", _names_of(node))):
            return True
    return False


def _path_kind(url: str) -> tuple[int, str]:
    """A URL path's depth and its last segment's extension."""
    segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    last = segments[-1] if segments else ""
    extension = last.rsplit(".", 1)[1].lower() if "." in last else ""
    return len(segments), extension


def _looks_like_article(target: str, page_url: str) -> bool:
    """Same host, same kind of path as the page, and a slug or an id in it."""
    target_parts, page_parts = urlsplit(target), urlsplit(page_url)
    if (target_parts.hostname or "").removeprefix("www.") != (
        page_parts.hostname or ""
    ).removeprefix("www."):
        return False
    depth, extension = _path_kind(target)
    page_depth, page_extension = _path_kind(page_url)
    if extension != page_extension or abs(depth - page_depth) > 1 or depth == 0:
        return False
    path = target_parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    slug_words = [word for word in re.split(r"[-_+]", last) if word]
    return len(slug_words) >= 3 or bool(re.search(r"\d{4,}", path))


def _list_items(element: etree._Element) -> list[etree._Element]:
    """The repeated children of a list-like element (li, or same tag and class)."""
    children = [child for child in element if isinstance(child.tag, str)]
    if len(children) < 2:
        return []
    groups: dict[tuple[str, str], list[etree._Element]] = {}
    for child in children:
        groups.setdefault((child.tag, child.get("class") or ""), []).append(child)
    items = max(groups.values(), key=len)
    if len(items) < 2 or len(items) < 0.6 * len(children):
        return []
    return items


def _structural_block(
    element: etree._Element,
    base: str,
    page: str,
    page_url: str,
    main: etree._Element,
    order: dict[etree._Element, int],
) -> _Block | None:
    if element.tag not in ("ul", "ol", "div", "section", "aside"):
        return None
    items = _list_items(element)
    if not items:
        return None
    # After the start of the main text, within the article around it, and not inside
    # the text itself unless after its last prose.
    if order[element] < order[main] or not _contains(_article_scope(main), element):
        return None
    if _swallows_main(element, main):
        return None
    if _contains(main, element) and any(
        order[p] > order[element] and _is_prose(p) for p in main.iter("p")
    ):
        return None
    anchors: list[etree._Element] = []
    for item in items:
        found = _anchors(item, base, page)
        if not found or len({_target(anchor, base) for anchor in found}) > 3:
            return None  # an item is one article (with perhaps its section and author)
        # The article's own link is the one with the longest text: its title.
        anchor = max(found, key=lambda a: len(_anchor_text(a)))
        target = _target(anchor, base)
        words = word_count(_anchor_text(anchor))
        if target is None or words < _MIN_ANCHOR_WORDS or not _looks_like_article(target, page_url):
            return None
        anchors.append(anchor)
    if len(anchors) < 2:
        return None
    if sum(word_count(_anchor_text(a)) for a in anchors) < _MIN_MEAN_ANCHOR_WORDS * len(anchors):
        return None
    if _is_furniture(element) or _titled(element, items[0]):
        return None
    return _checked(_Block([element], None, _anchors(element, base, page)), main)


def _article_scope(main: etree._Element) -> etree._Element:
    """The article around the main text: the nearest <article> or <main>, else the
    main text's parent."""
    for node in (main, *main.iterancestors()):
        if node.tag in ("article", "main") or (node.get("role") or "") in ("main", "article"):
            return node
    parent = main.getparent()
    return parent if parent is not None and parent.tag != "body" else main


def _titled(element: etree._Element, first_item: etree._Element) -> bool:
    """Whether a list has a title of its own ("Latest videos", "Most read"): then it is
    some other named list, since a related heading would have been found first."""
    if word_count(_text_before(element, first_item)):
        return True
    node = element
    for _level in range(3):
        previous = node.getprevious()
        while previous is not None and (
            not isinstance(previous.tag, str)
            or previous.tag in INVISIBLE_TAGS
            or not _visible_text(previous)
        ):
            previous = previous.getprevious()
        if previous is not None:
            text = _own_text(previous)
            return bool(text) and (
                previous.tag in _HEADING_RANKS or previous.tag == "header" or word_count(text) <= 8
            )
        node = node.getparent()
        if node is None or node.tag == "body":
            return False
    return False


# --- links ---------------------------------------------------------------------------


def _target(anchor: etree._Element, base: str) -> str | None:
    return clean_url(anchor.get("href", ""), base)


def _anchors(element: etree._Element, base: str, page: str) -> list[etree._Element]:
    """The links under ``element`` that lead to another page."""
    return [
        anchor
        for anchor in element.iter("a")
        if (target := _target(anchor, base)) is not None and target != page
    ]


def _anchor_text(anchor: etree._Element) -> str:
    text = _visible_text(anchor)
    if text:
        return text
    # An image link: its title or alternative text says what it leads to.
    for candidate in (anchor.get("title"), *anchor.xpath(".//img/@alt")):
        if candidate and candidate.strip():
            return " ".join(candidate.split())
    return ""


def _targets(block: _Block, base: str, page: str) -> list[tuple[etree._Element, str]]:
    """Each target once, in page order, with its longest anchor (a card often links its
    picture, its section label and its title to the same article)."""
    chosen: dict[str, etree._Element] = {}
    for anchor in block.anchors:
        target = _target(anchor, base)
        if target is None or listing_url(target):  # a tag, author or date archive
            continue
        if target not in chosen or len(_anchor_text(anchor)) > len(_anchor_text(chosen[target])):
            chosen[target] = anchor
    return [(anchor, target) for target, anchor in chosen.items()]


def _item_of(anchor: etree._Element, block: _Block) -> etree._Element:
    """The largest element around ``anchor`` in the block that leads nowhere else."""
    item = anchor
    target = anchor.get("href")
    for parent in anchor.iterancestors():
        if any(parent is element for element in block.elements):
            break
        if any(a.get("href") != target for a in parent.iter("a") if a.get("href")):
            break
        item = parent
    return item


def _displayed_age(
    anchor: etree._Element, block: _Block, fetched_at: datetime
) -> tuple[str | None, DateValue | None]:
    """The relative age ("il y a 3 jours", "2 days ago") shown with a link, and the date
    it points to, read against the fetch time."""
    item = _item_of(anchor, block)
    texts = [text_of(node) for node in item.iter() if isinstance(node.tag, str)]
    # The shortest text that holds an age is the age itself, not the whole item.
    for text in sorted(dict.fromkeys(t for t in texts if t and len(t) <= 80), key=len):
        published = parse_relative_age(text, fetched_at)
        if published is not None:
            return text, published
    return None, None


def _add(blocks: list[_Block], block: _Block) -> None:
    """Add a block, dropping any block found earlier that lies inside it."""
    blocks[:] = [
        other
        for other in blocks
        if not any(
            _contains(element, other_element) or element is other_element
            for element in block.elements
            for other_element in other.elements
        )
    ]
    blocks.append(block)
