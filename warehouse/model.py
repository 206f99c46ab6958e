"""The records the warehouse stores and hands back.

These plain frozen dataclasses are the shared vocabulary of relnews: the crawler
produces them from pages, the warehouse stores them, the recommender reads them.
They know nothing of Scrapy, DuckDB or scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

#: How precise a date is: an exact timestamp, or only its day / month / year.
PRECISIONS = ("exact", "day", "month", "year")


@dataclass(frozen=True)
class DateValue:
    """A date with where it came from and how precise it is.

    ``source`` names what gave the date: ``"relative-age"`` (a displayed age such as
    "il y a 8 années 4 mois", read against the fetch time), ``"selector"`` (the site
    profile's date selector), ``"json-ld"``, ``"meta"``, ``"time"``, ``"url"``, ``"text"``
    (the date shown beside the title), ``"htmldate"``...

    ``value`` is naive: the instant in UTC when the page gave a time zone (its offset is
    then ``utc_offset``, minutes east of UTC), else the time as written.
    """

    value: datetime
    source: str
    precision: str = "exact"
    utc_offset: int | None = None

    @property
    def is_relative(self) -> bool:
        """True when the date was derived from a displayed age, so it drifts with time."""
        return self.source == "relative-age"

    @property
    def local_time(self) -> datetime:
        """The time on the page's own clock (naive): ``value`` moved by ``utc_offset``."""
        return self.value + timedelta(minutes=self.utc_offset or 0)

    @property
    def local_day(self) -> date:
        """The day on the page's own calendar: "2024-03-05T07:30:00+08:00" is the 5th,
        though its instant in UTC is the 4th."""
        return self.local_time.date()


@dataclass(frozen=True)
class RelatedLink:
    """One item of a page's editorial "related news" block, in page order."""

    target_url: str
    anchor_text: str
    position: int  # 1-based, in the order the editors show them
    displayed_age: str | None = None  # e.g. "Actualité publiée il y a 8 années 4 mois"
    target_published: DateValue | None = None  # what the displayed age says of the target
    heading: str | None = None  # e.g. "Autres actualités sur le même thème"
    found_by: str | None = None  # how the block was found: one of FOUND_BY
    confidence: float | None = None  # how sure that way of finding it is, 0 to 1


#: How a related block is found, and how far each way is trusted: a profile's selectors,
#: then generic mode's heading ("See also"), class or id ("related-posts"), shape (a list
#: of title-like links after the text); "site-wide" marks a block whose links are the
#: same on most pages of the site (furniture: not a page's related block).
FOUND_BY = {"profile": 1.0, "heading": 0.9, "name": 0.8, "shape": 0.6, "site-wide": 0.0}


@dataclass(frozen=True)
class Article:
    """What one article page says, apart from its related block."""

    url: str
    title: str
    lead: str = ""
    body: str = ""
    canonical_url: str | None = None
    published: DateValue | None = None
    modified: DateValue | None = None
    rubrique: str | None = None
    tags: tuple[str, ...] = ()
    author: str | None = None
    language: str | None = None
    sources: tuple[str, ...] = ()
    theme: str | None = None  # e.g. "Plus de 20 études sur la Fibromyalgie"
    theme_url: str | None = None
    # Disagreements between the page's date sources, e.g. "published: json-ld 2019-03-01
    # != meta 2019-03-05": the date kept is the first source's, the conflict is flagged.
    date_conflicts: tuple[str, ...] = ()
    # The page's image (og:image, twitter:image, JSON-LD image, else the main text's
    # first picture), an absolute http(s) URL.
    image: str | None = None

    @property
    def text(self) -> str:
        """Title, lead and body: the only text a recommender may read."""
        return "\n".join(part for part in (self.title, self.lead, self.body) if part)

    def content_hash(self) -> str:
        """A hash of what the article says.

        A date derived from a displayed relative age is left out: it moves as time
        passes even though the page did not change.
        """
        content = {
            "title": self.title,
            "lead": self.lead,
            "body": self.body,
            "canonical_url": self.canonical_url,
            "published": _date_key(self.published),
            "modified": _date_key(self.modified),
            "rubrique": self.rubrique,
            "tags": list(self.tags),
            "author": self.author,
            "language": self.language,
            "sources": list(self.sources),
            "theme": self.theme,
            "theme_url": self.theme_url,
        }
        if self.image is not None:  # absent, it leaves the hashes of older versions as they were
            content["image"] = self.image
        encoded = json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()


def _date_key(date: DateValue | None) -> str | None:
    if date is None or date.is_relative:
        return None
    key = f"{date.value.isoformat()}|{date.source}|{date.precision}"
    # Without an offset, the key stays what it was before offsets were kept.
    return key if date.utc_offset is None else f"{key}|{date.utc_offset}"


@dataclass(frozen=True)
class Fetch:
    """One HTTP fetch (or failed attempt), whatever came of it."""

    url: str
    fetched_at: datetime
    status: int | None = None  # None when no HTTP answer came (DNS, refused, timeout)
    final_url: str | None = None  # after redirects
    content_type: str | None = None
    encoding: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body: bytes | None = None  # raw bytes as served, kept compressed by the warehouse
    error: str | None = None
    # For a 304 Not Modified: the hash of the stored capture the server confirmed.
    stored_hash: str | None = None
    # What went wrong reading a page that was stored all the same (control characters,
    # malformed links), in one line.
    warnings: str | None = None

    @property
    def content_hash(self) -> str | None:
        if self.body is None:
            return self.stored_hash
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class Validator:
    """What the archive knows of a URL's last good fetch, for a conditional request."""

    url: str
    fetched_at: datetime
    content_hash: str
    etag: str | None = None
    last_modified: str | None = None
    encoding: str | None = None
    final_url: str | None = None


@dataclass(frozen=True)
class PageRecord:
    """What the crawler hands the warehouse for one fetched URL."""

    fetch: Fetch
    article: Article | None = None
    related_links: tuple[RelatedLink, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class EditorialLink:
    """A related link as the recommender sees it: both ends are archived articles."""

    source_url: str
    target_url: str
    position: int


@dataclass(frozen=True)
class ArticleFacts:
    """What an editor's scoped rule reads of an article: its section and tags."""

    rubrique: str | None = None
    tags: tuple[str, ...] = ()
