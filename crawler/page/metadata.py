"""Page metadata for generic analysis: title, dates, author, tags, section, language.

Each fact is looked up in the page's own declarations, most trusted first: JSON-LD, then
OpenGraph, then other meta tags, then ``<time>`` elements, then the URL. Dates keep the
name of the declaration they came from and how precise it is; when two declarations
disagree, the first is kept and the disagreement is recorded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from crawler.page.dates import parse_date, split_offset
from crawler.page.html import clean_url, fold, text_of
from warehouse.model import DateValue

# JSON-LD types that describe the page's own article, most specific first; a WebPage
# only answers when no article object is there.
_ARTICLE_TYPES = (
    "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "reviewnewsarticle", "backgroundnewsarticle", "askpublicnewsarticle", "article",
    "blogposting", "liveblogposting", "socialmediaposting", "techarticle",
    "scholarlyarticle", "report", "review", "medicalscholarlyarticle",
)  # fmt: skip
_PAGE_TYPES = ("webpage", "medicalwebpage", "itempage", "aboutpage", "qapage", "faqpage")

# Meta tags (name=, property= or itemprop=, compared in lower case) for each field;
# OpenGraph's own come first and count as the "opengraph" source.
_OG_PUBLISHED = ("article:published_time", "og:published_time")
_OG_MODIFIED = ("article:modified_time", "og:updated_time")
_META_PUBLISHED = (
    "datepublished", "date", "pubdate", "publishdate", "publish-date", "publish_date",
    "publication_date", "dc.date", "dc.date.issued", "dc.date.created", "dcterms.issued",
    "dcterms.created", "dcterms.date", "sailthru.date", "parsely-pub-date",
    "article.published", "citation_publication_date", "originalpublicationdate", "displaydate",
)  # fmt: skip
_META_MODIFIED = (
    "datemodified", "last-modified", "lastmod", "dc.date.modified", "dcterms.modified",
    "article.updated", "revised",
)  # fmt: skip
_META_KEYWORDS = ("news_keywords", "keywords", "parsely-tags", "sailthru.tags")
_META_SECTION = ("section", "article.section", "parsely-section", "category")
_META_DESCRIPTION = ("og:description", "description", "twitter:description", "dc.description")
_META_IMAGE = ("og:image", "og:image:url", "og:image:secure_url")
_TWITTER_IMAGE = ("twitter:image", "twitter:image:src")
# Where the main text sits, for its first picture: most specific first.
_TEXT_CONTAINERS = ("//*[@itemprop='articleBody']", "//article", "//main")
# Pictures smaller than this (pixels, as declared) are icons, spacers or trackers.
_MIN_IMAGE_SIDE = 50

# /2019/03/12/ or /2019-03-12/ in a path; /2019/03/ alone gives the month.
_URL_DAY = re.compile(
    r"(?<!\d)((?:19|20)\d\d)([/_-])(0?[1-9]|1[0-2])\2(0?[1-9]|[12]\d|3[01])(?!\d)"
)
_URL_MONTH = re.compile(r"/((?:19|20)\d\d)/(0?[1-9]|1[0-2])(?:/|$)")
_RFC_2822 = re.compile(r"^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—·»]+\s+|\s*[|·»]\s*")


@dataclass(frozen=True)
class Metadata:
    """What a page says about itself, apart from its text."""

    title: str
    canonical_url: str | None
    published: DateValue | None
    modified: DateValue | None
    author: str | None
    language: str | None
    tags: tuple[str, ...]
    rubrique: str | None
    description: str
    date_conflicts: tuple[str, ...]
    image: str | None = None
    # Every publication date the page declares, in the order above (published is the
    # first): for weighing them against other evidence.
    published_candidates: tuple[DateValue, ...] = ()
    # What the page says it is: its JSON-LD types (any article type as "article") and
    # og:type, for telling articles from listings.
    json_ld_types: frozenset[str] = frozenset()
    og_type: str | None = None


def read_metadata(
    root: etree._Element, url: str, base: str, fetched_at: datetime, language_hint: str | None
) -> Metadata:
    """Read the page's metadata from its declarations (see the module's docstring)."""
    ld_objects = list(_json_ld_objects(root))  # each script's JSON parsed once
    ld = _json_ld_article(ld_objects)
    metas = _metas(root)
    languages = tuple(dict.fromkeys(lang for lang in (language_hint, "fr", "en") if lang))

    def parse(raw: object, source: str) -> DateValue | None:
        text = _string(raw) if isinstance(raw, (str, list)) else ""
        if not text.strip():
            return None
        return _plausible(_parse_date(text, fetched_at, source, languages), fetched_at)

    published_candidates = [
        parse(ld.get("datePublished") or ld.get("dateCreated"), "json-ld"),
        parse(_first(metas, _OG_PUBLISHED), "opengraph"),
        parse(_first(metas, _META_PUBLISHED), "meta"),
        _time_date(root, fetched_at, languages, modified=False),
        _url_date(url),
    ]
    modified_candidates = [
        parse(ld.get("dateModified"), "json-ld"),
        parse(_first(metas, _OG_MODIFIED), "opengraph"),
        parse(_first(metas, _META_MODIFIED), "meta"),
        _time_date(root, fetched_at, languages, modified=True),
    ]
    published, conflicts = _agree("published", published_candidates)
    modified, modified_conflicts = _agree("modified", modified_candidates)

    site_names = _site_names(ld, metas, url)
    title = _title(root, ld, metas, site_names)
    description = _first(metas, _META_DESCRIPTION) or _string(ld.get("description"))
    description = _collapse(description)
    return Metadata(
        title=title,
        canonical_url=_canonical(root, ld, metas, base),
        published=published,
        modified=modified,
        author=_author(root, ld, metas),
        language=_language(root, ld, metas, language_hint),
        tags=_tags(ld, metas),
        rubrique=_collapse(
            _string(ld.get("articleSection")) or _first(metas, ("article:section", *_META_SECTION))
        )
        or None,
        description=description,
        date_conflicts=tuple(conflicts + modified_conflicts),
        image=_image(ld, metas, _text_containers(root), base),
        published_candidates=tuple(date for date in published_candidates if date is not None),
        json_ld_types=_json_ld_kinds(ld_objects),
        og_type=(_first(metas, ("og:type",)) or "").strip().lower() or None,
    )


# --- JSON-LD -------------------------------------------------------------------------


def _json_ld_objects(root: etree._Element) -> Iterator[dict[str, Any]]:
    """Every object of the page's JSON-LD scripts, flattening lists and @graph."""
    for script in root.xpath("//script[contains(translate(@type,'LDJSON','ldjson'),'ld+json')]"):
        raw = (script.text or "").strip()
        # Some CMSs wrap the JSON in a CDATA section or an HTML comment.
        raw = re.sub(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$", "", raw)
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack[0:0] = item
            elif isinstance(item, dict):
                yield item
                if isinstance(item.get("@graph"), list):
                    stack[0:0] = item["@graph"]


def _types(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower().rsplit("/", 1)[-1] for k in kinds if isinstance(k, str)}


def _json_ld_kinds(objects: list[dict[str, Any]]) -> frozenset[str]:
    """Every type the page's JSON-LD objects declare, article types as "article"."""
    kinds: set[str] = set()
    for item in objects:
        kinds |= {"article" if k in _ARTICLE_TYPES else k for k in _types(item)}
    return frozenset(kinds)


def _json_ld_article(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON-LD object describing the page: an article type first, else a WebPage."""
    best: tuple[int, dict[str, Any]] | None = None
    for item in objects:
        kinds = _types(item)
        rank = min(
            [_ARTICLE_TYPES.index(k) for k in kinds if k in _ARTICLE_TYPES]
            + [len(_ARTICLE_TYPES) + _PAGE_TYPES.index(k) for k in kinds if k in _PAGE_TYPES]
            + [999]
        )
        # An article type ranks by kind only; ties go to the first object on the page.
        if rank < 999 and (best is None or rank < best[0]):
            best = (rank, item)
    return best[1] if best else {}


def _string(value: object) -> str:
    """A JSON-LD value as text: a string, the first of a list, or an object's name."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return _string(value[0])
    if isinstance(value, dict):
        return _string(value.get("name") or value.get("@value") or "")
    return ""


def _names(value: object) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    name = _string(value).strip()
    return [name] if name else []


# --- meta tags -----------------------------------------------------------------------


def _metas(root: etree._Element) -> dict[str, list[str]]:
    """Meta tags by lower-cased name, property or itemprop, values in page order."""
    metas: dict[str, list[str]] = {}
    for meta in root.xpath("//meta[@content]"):
        content = meta.get("content", "").strip()
        if not content:
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = (meta.get(attribute) or "").strip().lower()
            if key:
                metas.setdefault(key, []).append(content)
    return metas


def _first(metas: dict[str, list[str]], keys: tuple[str, ...]) -> str:
    for key in keys:
        for value in metas.get(key, ()):
            if value.strip():
                return value.strip()
    return ""


# --- dates ---------------------------------------------------------------------------


def _time_date(
    root: etree._Element, fetched_at: datetime, languages: tuple[str, ...], modified: bool
) -> DateValue | None:
    """The date of the ``<time datetime>`` that most looks like the page's own.

    One marked as such (itemprop, pubdate) wins; then one in the article's header or
    byline; then the first inside the article element. Any other <time> may be the
    site's masthead, a comment or a teaser, so it is not used.
    """
    marks = ("datemodified", "modified", "updated") if modified else ("datepublished", "publish")
    ranked: list[tuple[int, int, etree._Element]] = []
    for order, node in enumerate(root.xpath("//time[@datetime]")):
        label = " ".join(node.get(a) or "" for a in ("itemprop", "class", "id")).lower()
        if any(mark in label for mark in marks) or (not modified and node.get("pubdate")):
            rank = 0
        elif modified:
            continue
        elif node.xpath(
            "ancestor::header[ancestor::article or ancestor::main]"
            " or ancestor::*[contains(@class,'byline')]"
        ):
            rank = 1
        elif node.xpath("ancestor::article"):
            rank = 2
        else:
            continue
        ranked.append((rank, order, node))
    for _rank, _order, node in sorted(ranked, key=lambda entry: entry[:2]):
        date = _parse_date(node.get("datetime", ""), fetched_at, "time", languages)
        if _plausible(date, fetched_at) is not None:
            return date
    return None


def _parse_date(
    raw: str, fetched_at: datetime, source: str, languages: tuple[str, ...]
) -> DateValue | None:
    # RSS-style dates ("Mon, 18 Nov 2019 16:07:38 -0600") carry a time zone that the
    # general parser would drop.
    if _RFC_2822.match(raw.strip()):
        try:
            value = parsedate_to_datetime(raw.strip())
        except (TypeError, ValueError):
            value = None
        if value is not None:
            instant, offset = split_offset(value)
            return DateValue(instant, source, "exact", offset)
    return parse_date(raw, fetched_at, source, languages)


def _plausible(date: DateValue | None, fetched_at: datetime) -> DateValue | None:
    """The date, unless it is a placeholder (0001-01-01) or later than the fetch."""
    if date is None or date.value.year < 1970 or date.value > fetched_at + timedelta(days=2):
        return None
    return date


def _url_date(url: str) -> DateValue | None:
    path = urlsplit(url).path
    match = _URL_DAY.search(path)
    if match:
        year, _sep, month, day = match.groups()
        try:
            return DateValue(datetime(int(year), int(month), int(day)), "url", "day")
        except ValueError:
            return None
    match = _URL_MONTH.search(path)
    if match:
        return DateValue(datetime(int(match[1]), int(match[2]), 1), "url", "month")
    return None


_PRECISION_RANK = {"exact": 0, "day": 1, "month": 2, "year": 3}


def _truncate(date: DateValue, precision: str) -> datetime:
    """The date on the page's own calendar, cut to ``precision``."""
    value = date.local_time
    if precision == "year":
        return datetime(value.year, 1, 1)
    if precision == "month":
        return datetime(value.year, value.month, 1)
    if precision == "day":
        return datetime(value.year, value.month, value.day)
    return value


def _shown(date: DateValue) -> str:
    if date.precision == "year":
        return f"{date.value:%Y}"
    if date.precision == "month":
        return f"{date.value:%Y-%m}"
    return f"{date.local_day:%Y-%m-%d}"


def _agree(field: str, candidates: list[DateValue | None]) -> tuple[DateValue | None, list[str]]:
    """The first date found, and a note for each other source more than a day away.

    Both dates are compared at the coarser of their precisions, so a URL's day does not
    clash with a timestamp late that evening in another time zone.
    """
    found = [date for date in candidates if date is not None]
    if not found:
        return None, []
    kept, conflicts = found[0], []
    for other in found[1:]:
        coarser = max(kept.precision, other.precision, key=_PRECISION_RANK.__getitem__)
        gap = abs(_truncate(kept, coarser) - _truncate(other, coarser))
        if gap > timedelta(days=1):
            conflicts.append(
                f"{field}: {kept.source} {_shown(kept)} != {other.source} {_shown(other)}"
            )
    return kept, conflicts


# --- image ---------------------------------------------------------------------------


def page_image(
    root: etree._Element, base: str, text: list[etree._Element] | None = None
) -> str | None:
    """The page's image as an absolute http(s) URL: its og:image, else twitter:image,
    else its JSON-LD article's image, else the first picture inside ``text`` (the nodes
    holding the main text; by default the article body, ``<article>`` or ``<main>``)."""
    ld = _json_ld_article(list(_json_ld_objects(root)))
    return _image(ld, _metas(root), _text_containers(root) if text is None else text, base)


def _image(
    ld: dict[str, Any], metas: dict[str, list[str]], text: list[etree._Element], base: str
) -> str | None:
    declared = (
        *(value for key in _META_IMAGE + _TWITTER_IMAGE for value in metas.get(key, ())),
        *_ld_images(ld.get("image")),
        *_ld_images(ld.get("thumbnailUrl")),
    )
    for candidate in declared:
        url = _web_url(candidate, base)
        if url:
            return url
    for node in text:
        for img in node.iter("img"):
            if _small(img):
                continue
            # Lazy-loading pages put a placeholder in src and the picture elsewhere.
            srcset = (img.get("srcset") or img.get("data-srcset") or "").strip()
            for candidate in (
                img.get("data-src"),
                img.get("data-lazy-src"),
                img.get("data-original"),
                img.get("src"),
                srcset.split(" ", 1)[0].rstrip(","),
            ):
                url = _web_url(candidate or "", base)
                if url:
                    return url
    return None


def _ld_images(value: object) -> list[str]:
    """The URLs of a JSON-LD image value: a URL, an ImageObject, or a list of either."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [url for item in value for url in _ld_images(item)]
    if isinstance(value, dict):
        url = value.get("url") or value.get("contentUrl") or value.get("@id")
        return [url] if isinstance(url, str) else []
    return []


def _text_containers(root: etree._Element) -> list[etree._Element]:
    for path in _TEXT_CONTAINERS:
        found = root.xpath(path)
        if found:
            return found[:1]
    return []


def _small(img: etree._Element) -> bool:
    for side in (img.get("width"), img.get("height")):
        digits = re.match(r"\s*(\d+)\s*(?:px)?\s*$", side or "")
        if digits and int(digits[1]) < _MIN_IMAGE_SIDE:
            return True
    return False


def _web_url(raw: str, base: str) -> str | None:
    """``raw`` made absolute against ``base`` when it is an http(s) URL with a host; never
    data:, javascript:, file: or the like. Kept as written otherwise: an image's query
    may be signed, so it is not put in canonical form as page URLs are."""
    raw = raw.strip().replace(" ", "%20")
    if not raw or any(ord(c) < 32 for c in raw):
        return None
    try:
        url = urljoin(base, raw)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


# --- title, names, the rest ----------------------------------------------------------


def _squeezed(text: str) -> str:
    """:func:`fold` without the spaces: letters and digits only, for comparing names."""
    return fold(text).replace(" ", "")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _site_names(ld: dict[str, Any], metas: dict[str, list[str]], url: str) -> list[str]:
    names = [
        _first(metas, ("og:site_name", "application-name", "apple-mobile-web-app-title")),
        _string(ld.get("publisher")),
    ]
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    names.append(host.rsplit(".", 1)[0] if "." in host else host)
    return [_squeezed(name) for name in names if _squeezed(name)]


def _same_name(edge: str, name: str) -> bool:
    """Whether a title's edge names the site: "CBSSports.com" names cbssports. Short
    names must match whole, or "ft" would be found in "Microsoft"."""
    if edge == name:
        return True
    return min(len(edge), len(name)) >= 4 and (edge in name or name in edge)


def _strip_site_name(title: str, site_names: list[str]) -> str:
    """Drop a trailing (or leading) " | Site name" when it names the site."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    for keep_end in (False, True):  # the site's name is usually last, sometimes first
        edge = _squeezed(parts[0] if keep_end else parts[-1])
        if edge and any(_same_name(edge, name) for name in site_names):
            separator = list(_TITLE_SEPARATORS.finditer(title))[0 if keep_end else -1]
            kept = title[separator.end() :] if keep_end else title[: separator.start()]
            return kept.strip() or title
    return title


def _title(
    root: etree._Element, ld: dict[str, Any], metas: dict[str, list[str]], site_names: list[str]
) -> str:
    h1 = next((text for text in (text_of(h) for h in root.xpath("//h1")) if text), "")
    html_title = next((text_of(t) for t in root.xpath("//title")), "")
    # "Night trains return | Rail Weekly" beside an <h1> "Night trains return": what the
    # <title> adds to the heading is the site's name, wherever the page declares none.
    parts = _TITLE_SEPARATORS.split(html_title)
    if len(parts) >= 2 and h1 and fold(h1) in (fold(parts[0]), fold(" ".join(parts[1:]))):
        edge = parts[-1] if fold(h1) == fold(parts[0]) else parts[0]
        site_names = [*site_names, _squeezed(edge)]
    for candidate in (
        _first(metas, ("og:title", "twitter:title")),
        _string(ld.get("headline")) or _string(ld.get("name")),
        h1,
        html_title,
    ):
        candidate = _collapse(candidate)
        if candidate:
            return _strip_site_name(candidate, site_names)
    return ""


def _canonical(
    root: etree._Element, ld: dict[str, Any], metas: dict[str, list[str]], base: str
) -> str | None:
    page = ld.get("mainEntityOfPage")
    page_id = page.get("@id") if isinstance(page, dict) else page
    for href in (
        *root.xpath("//link[translate(@rel,'CANONIL','canonil')='canonical']/@href")[:1],
        _first(metas, ("og:url",)),
        page_id if isinstance(page_id, str) else "",
        ld.get("url") if isinstance(ld.get("url"), str) else "",
    ):
        url = clean_url(href, base) if href else None
        if url:
            return url
    return None


def _author(root: etree._Element, ld: dict[str, Any], metas: dict[str, list[str]]) -> str | None:
    names = _names(ld.get("author") or ld.get("creator"))
    if not names:
        names = [
            value
            for value in (_first(metas, ("author", "article:author", "dc.creator", "byl")),)
            if value and not value.startswith(("http://", "https://"))
        ]
    if not names:
        names = [text for text in (text_of(a) for a in root.xpath("//a[@rel='author']")) if text]
    # "By Jane Doe" in a byline: the name is what follows.
    names = [re.sub(r"^(?:by|par)\s+", "", _collapse(name), flags=re.IGNORECASE) for name in names]
    names = list(dict.fromkeys(name for name in names if name))
    return ", ".join(names[:5]) or None


def _language(
    root: etree._Element, ld: dict[str, Any], metas: dict[str, list[str]], hint: str | None
) -> str | None:
    for raw in (
        root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or "",
        _string(ld.get("inLanguage")),
        _first(metas, ("og:locale", "content-language", "language", "dc.language")),
    ):
        code = re.split(r"[-_,;\s]", raw.strip().lower(), maxsplit=1)[0]
        if code.isalpha() and 2 <= len(code) <= 3:
            return code
    return hint


def _tags(ld: dict[str, Any], metas: dict[str, list[str]]) -> tuple[str, ...]:
    keywords = ld.get("keywords")
    sources: list[list[str]] = [
        keywords if isinstance(keywords, list) else [_string(keywords)],
        metas.get("article:tag", []),
    ]
    sources += [[value] for value in (_first(metas, (key,)) for key in _META_KEYWORDS)]
    for values in sources:
        tags = [
            _collapse(tag)
            for value in values
            if isinstance(value, str)
            for tag in re.split(r"[,;]", value)
        ]
        tags = list(dict.fromkeys(tag for tag in tags if tag))
        if tags:
            return tuple(tags[:50])
    return ()
