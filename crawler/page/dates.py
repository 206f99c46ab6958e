"""Reading dates off pages: absolute dates, displayed ages ("il y a 8 années 4 mois"), and
the date a page shows beside its title.

Time is always an argument: a displayed age is read against the fetch time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

from lxml import etree

from crawler.page.html import fold, text_of
from warehouse.model import DateValue

# "il y a 8 années 4 mois", "publié il y a 3 jours", "2 years 3 months ago"
_RELATIVE = re.compile(
    r"(il y a\s+[\w\s]+?|\d+\s+[a-z]+(?:\s*,?\s*(?:and\s+)?\d+\s+[a-z]+)*\s+ago)\s*[.)]?\s*$",
    re.IGNORECASE,
)

# dateparser's "period" says how precise the date it read is.
_PRECISION = {"year": "year", "month": "month", "week": "day", "day": "day"}


@lru_cache(maxsize=8)
def _parser(languages: tuple[str, ...], base: datetime | None):
    # dateparser is slow to import and to build a parser: load both once.
    from dateparser.data.languages_info import language_order
    from dateparser.date import DateDataParser

    # A page's language code dateparser does not know ("no" for Norwegian, which it
    # calls "nb") would make it refuse every date.
    languages = tuple(language for language in languages if language in language_order)

    # A date that names its time zone comes back aware (see split_offset).
    settings: dict[str, object] = {}
    if base is not None:
        settings["RELATIVE_BASE"] = base
    else:
        # "mars 2019" means the month, not today's day of it.
        settings["PREFER_DAY_OF_MONTH"] = "first"
    return DateDataParser(languages=list(languages) or None, settings=settings)


def _naive_utc(value: datetime) -> datetime:
    return split_offset(value)[0]


def split_offset(value: datetime) -> tuple[datetime, int | None]:
    """A date as stored: the naive UTC instant and the offset the page gave (minutes
    east of UTC), or the date as written and None when it named no time zone."""
    offset = value.utcoffset()
    if offset is None:
        return value.replace(tzinfo=None), None
    return value.astimezone(UTC).replace(tzinfo=None), round(offset.total_seconds() / 60)


def parse_relative_age(
    text: str, fetched_at: datetime, languages: tuple[str, ...] = ("fr", "en")
) -> DateValue | None:
    """The approximate date a displayed age points to, or None if ``text`` holds no age.

    >>> from datetime import datetime
    >>> parse_relative_age("Actualité publiée il y a 8 années 4 mois", datetime(2026, 11, 23))
    DateValue(value=datetime.datetime(2018, 7, 23, 0, 0), source='relative-age', precision='month')
    """
    match = _RELATIVE.search(text.strip())
    if not match:
        return None
    # Read against the fetch day, not the second: the parser is cached per base, and
    # an age is never more precise than a day.
    base = _naive_utc(fetched_at).replace(hour=0, minute=0, second=0, microsecond=0)
    data = _parser(languages, base).get_date_data(match.group(1))
    if data.date_obj is None:
        return None
    precision = _PRECISION.get(data.period or "", "exact")
    return DateValue(_naive_utc(data.date_obj), "relative-age", precision)


def parse_date(
    text: str,
    fetched_at: datetime,
    source: str,
    languages: tuple[str, ...] = ("fr", "en"),
) -> DateValue | None:
    """A date written on a page (absolute, ISO 8601, or a displayed age), or None.

    ``source`` names where the text came from (``"selector"``, ``"meta"``...); a
    displayed age is always recorded with the source ``"relative-age"``.
    """
    text = " ".join(text.split())
    if not text:
        return None
    relative = parse_relative_age(text, fetched_at, languages)
    if relative is not None:
        return relative
    try:
        iso = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        iso = None
    if iso is not None:
        precision = "day" if len(text) <= 10 else "exact"
        value, offset = split_offset(iso)
        return DateValue(value, source, precision, offset)
    parser = _parser(languages, None)
    data = parser.get_date_data(text)
    if data.date_obj is None:
        # A leading label such as "Publié le" that dateparser does not read.
        data = parser.get_date_data(re.sub(r"^.*?\b(?:le|on|du|:)\s+", "", text, count=1))
    if data.date_obj is None:
        return None
    precision = _PRECISION.get(data.period or "", "exact")
    value, offset = split_offset(data.date_obj)
    return DateValue(value, source, precision, offset)


# --- the date shown beside the title ---------------------------------------------------

_YEAR = r"(?:19|20)\d\d"
# 2024-03-05, 5.3.2024, 5/3/2024, 5 mars 2024, 5. März 2024, 5 de marzo de 2024,
# March 5, 2024, 2024年3月5日: a day, a month and a year, written out.
_SHOWN_DATE = re.compile(
    rf"{_YEAR}-\d\d-\d\d"
    rf"|\b\d{{1,2}}\.\s?\d{{1,2}}\.\s?{_YEAR}"
    rf"|\b\d{{1,2}}/\d{{1,2}}/{_YEAR}"
    rf"|\b\d{{1,2}}\.?\s+(?:de\s+)?[^\W\d_]{{3,}}\.?,?\s+(?:de\s+)?{_YEAR}"
    rf"|\b[^\W\d_]{{3,}}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR}"
    rf"|{_YEAR}年\d{{1,2}}月\d{{1,2}}日"
)
# Day and month in numbers (ISO dates are parse_date's): which is which is read here.
_NUMERIC = re.compile(r"(\d{1,2})([./])\s?(\d{1,2})\2\s?(\d{4})")
# A date after one of these words is when the page was changed, not published.
_UPDATED = re.compile(
    r"updat|modif|aktualisiert|änderung|geändert|bearbeitet|mis à jour|actualiz|last edit",
    re.IGNORECASE,
)
# Text a reader does not see as the page's own line: code, links (a teaser's date), forms.
_NOT_SHOWN = frozenset(
    ("script", "style", "noscript", "template", "a", "option", "select", "button")
)
# How near the title a date still reads as its byline, in elements before and after the
# title's heading in page order (measured on trafilatura-eval's even-numbered pages,
# tests/benchmarks/trafilatura_eval.py: 10 and 40, the middle of what did as well).
_BEFORE_TITLE, _AFTER_TITLE = 10, 40
_LONGEST_LINE = 120  # characters: a longer text is a paragraph, whose dates are its story's


def shown_date(
    root: etree._Element, title: str, fetched_at: datetime, languages: tuple[str, ...]
) -> DateValue | None:
    """The date the page shows beside its title (its byline or dateline: "Written:
    2023-11-07", "20.12.2022", "7 April 2020"), as a reader would read it, or None.

    The nearest date after the title's heading counts first, then the nearest before it;
    a date labelled as an update, or inside a link, does not count. Numeric dates are
    read day first, except month first for English pages (5/3/2024).
    """
    heading = _title_heading(root, title)
    if heading is None:
        return None
    # Page order: the heading's own elements and those after it, then those before it
    # (its ancestors included), nearest first.
    after = heading.xpath(f"(descendant::* | following::*)[position() <= {_AFTER_TITLE}]")
    before = heading.xpath(f"(ancestor::* | preceding::*)[position() > last() - {_BEFORE_TITLE}]")
    nearby = after + before[::-1]
    for node in nearby:
        outside = not any(n.tag in _NOT_SHOWN for n in node.iterancestors())
        shown = outside and node.tag not in _NOT_SHOWN
        for text, visible in ((node.text, shown), (node.tail, outside)):
            if not visible or not text or len(text) > _LONGEST_LINE:
                continue
            match = _SHOWN_DATE.search(text)
            if match is None or _UPDATED.search(text[: match.start()]):
                continue
            date = _numeric_date(match.group(0), languages) or parse_date(
                match.group(0), fetched_at, "text", languages
            )
            if date is not None and date.precision in ("exact", "day") and date.value <= fetched_at:
                return DateValue(date.value, "text", "day")
    return None


def _title_heading(root: etree._Element, title: str) -> etree._Element | None:
    """The heading that shows the page's title (not the site's logo in an <h1>), else
    the first <h1>."""
    wanted = fold(title)
    for heading in root.xpath("//h1 | //h2"):
        shown = fold(text_of(heading))
        if shown and (
            shown == wanted
            or (min(len(shown), len(wanted)) >= 10 and (shown in wanted or wanted in shown))
        ):
            return heading
    return next(iter(root.xpath("//h1")), None)


def _numeric_date(text: str, languages: tuple[str, ...]) -> DateValue | None:
    """A date of numbers with its day and month in either order: day first (5.3.2024,
    5/3/2024), month first only where the page is English and the numbers allow it.
    None for any other text (an ISO date is :func:`parse_date`'s)."""
    match = _NUMERIC.fullmatch(text)
    if match is None:
        return None
    first, second, year = int(match[1]), int(match[3]), int(match[4])
    english = languages[:1] == ("en",)
    if match[2] == "/" and (second > 12 or (english and first <= 12)):
        day, month = second, first
    else:
        day, month = first, second
    try:
        return DateValue(datetime(year, month, day), "text", "day")
    except ValueError:
        return None
