"""Reading dates off pages: absolute dates and displayed ages ("il y a 8 années 4 mois").

Time is always an argument: a displayed age is read against the fetch time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

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
    from dateparser.date import DateDataParser

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
