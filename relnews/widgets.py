"""Related-article widgets: a list rendered as HTML through a Jinja2 template.

The default template is ``relnews/templates/related.html``; a site puts its own
``related.html`` in a folder and passes that folder (``relnews export --format html
--templates DIR``). Templates are always autoescaped: a title or URL from a crawled page
cannot inject markup unless a site's template says ``|safe`` on purpose.

What a template gets:

``source``
    the URL of the article the list is for;
``heading``
    the block's heading (``--heading``, else "Related articles" in the site's language);
``language``
    the site's language (ISO 639-1 code, ``en`` when the archive says none);
``items``
    the list, best first, each with:

    - ``rank`` (1, 2...), ``title``;
    - ``url``: the link, or None when it is not an ``http(s)://`` address (a
      ``javascript:`` URL is never a link; the default template shows the title alone);
    - ``published``: a ``datetime`` or None; ``date_iso``: ``2024-03-05`` (``2024-03``,
      ``2024`` when only the month or year is known) or None; ``date_text``: the same date
      written for the language by Babel ("5 mars 2024", "mars 2024"; ISO for a language
      CLDR lacks); ``age_text``: how long ago ("il y a 3 jours", "8 years ago"), or None
      (no time given to count to, or a language CLDR lacks);
    - ``excerpt``: the article's lead, else the start of its body, cut to about
      ``EXCERPT_WORDS`` words ("…" marks the cut);
    - ``image``: the article's image (its og:image...), an ``http(s)`` URL, or None;
    - ``rubrique``, ``author``: as the archive holds them, or None;
    - ``pinned`` (an editor's pin), ``backfill`` (filled from the next best candidates),
      ``score`` (None for a pin the model did not rank), ``shared_terms``.

The facts beside each title (date, excerpt, language) come from the archive in one query
(:func:`gather_facts`), so a server gathers them once and renders each request from memory.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import (
    TIMEDELTA_UNITS,
    format_date,
    format_skeleton,
    format_timedelta,
    get_relative_name,
)

from relnews.errors import JobError
from relnews.words import DEFAULT_LANGUAGE, words_for
from warehouse import Reader, opened
from warehouse.scripts import UNSPACED

if TYPE_CHECKING:
    from relnews.output import ListItem

TEMPLATE = "related.html"
#: How long an excerpt runs; a character of a script written without spaces (Han,
#: kana...) counts as a word.
EXCERPT_WORDS = 30


class TemplateProblem(JobError):
    """A site's template that cannot be found, parsed or rendered."""


@dataclass(frozen=True)
class ItemFacts:
    """What a widget shows of an article beside its title, read from the archive."""

    published: datetime | None = None
    precision: str = "exact"  # exact, day, month, year (as the archive stores it)
    excerpt: str = ""
    image: str | None = None
    language: str | None = None
    rubrique: str | None = None
    author: str | None = None

    def as_json(self) -> dict[str, str | None]:
        """The facts a JSON answer carries beside a suggestion's title: its date at the
        precision the archive knows (``2024-03`` for a month) and that precision, the
        excerpt, rubrique, author and image (None where unknown)."""
        return {
            "published": date_iso(self.published, self.precision),
            "precision": self.precision if self.published is not None else None,
            "excerpt": self.excerpt or None,
            "rubrique": self.rubrique,
            "author": self.author,
            "image": web_url(self.image),
        }


@dataclass(frozen=True)
class WidgetItem:
    """One line of a widget, as a template sees it (see the module's docstring)."""

    rank: int
    title: str
    url: str | None
    published: datetime | None
    date_iso: str | None
    date_text: str | None
    age_text: str | None
    excerpt: str
    image: str | None
    rubrique: str | None
    author: str | None
    pinned: bool
    backfill: bool
    score: float | None
    shared_terms: tuple[str, ...]


def language_code(value: str | None) -> str | None:
    """``fr`` for ``fr-FR``, ``FR`` or ``fr_CA``; None for no code or a malformed one."""
    code = re.split(r"[-_]", (value or "").strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def site_language(facts: Iterable[ItemFacts]) -> str:
    """The language most of these articles are stored in, else ``en``.

    The stored language is the page's ``<html lang>``, or its site profile's language.
    """
    counts = Counter(code for fact in facts if (code := language_code(fact.language)))
    return counts.most_common(1)[0][0] if counts else DEFAULT_LANGUAGE


def heading_for(language: str) -> str:
    """'Related articles' in ``language`` (:mod:`relnews.words`), English for a language
    not written there."""
    return words_for(language_code(language))["heading"]


@functools.lru_cache(maxsize=64)
def babel_locale(language: str | None) -> Locale | None:
    """Babel's locale for ``language`` (``fr-FR``, ``fr``), None for one CLDR lacks."""
    code = language_code(language)
    try:
        return Locale.parse(code) if code else None
    except (UnknownLocaleError, ValueError):
        return None


def date_iso(published: datetime | None, precision: str = "exact") -> str | None:
    """The date as ISO 8601, no more precise than it is known (``2024-03``, ``2024``)."""
    if published is None:
        return None
    if precision == "year":
        return f"{published.year:04d}"
    if precision == "month":
        return f"{published.year:04d}-{published.month:02d}"
    return published.date().isoformat()


def date_text(published: datetime | None, precision: str, language: str) -> str | None:
    """The date written for readers of ``language`` by Babel, no more precise than it is
    known ("5 mars 2024", "mars 2024", "2024"); ISO for a language CLDR lacks."""
    locale = babel_locale(language)
    if published is None or locale is None:
        return date_iso(published, precision)
    if precision == "year":
        return format_skeleton("y", published, locale=locale)
    if precision == "month":
        return format_skeleton("yMMMM", published, locale=locale)
    return format_date(published, "long", locale=locale)


#: Seconds per unit as Babel counts them (a month is 30 days, a year 365).
_UNIT_SECONDS = dict(TIMEDELTA_UNITS)


def age_text(
    published: datetime | None, precision: str, language: str, now: datetime | None
) -> str | None:
    """How long ago, in the largest whole calendar unit the date's precision allows,
    written by Babel ("il y a 3 jours", "8 years ago", "today"); None without ``now``,
    for a future date, a language CLDR lacks, or an age below the date's precision
    (this year, this month)."""
    locale = babel_locale(language)
    if published is None or now is None or locale is None or published > now:
        return None
    months = (now.year - published.year) * 12 + now.month - published.month
    months -= now.day < published.day  # a month is whole on the same day of the month
    years = months // 12
    unit: Literal["year", "month", "day"]
    if years or precision == "year":
        count, unit = years, "year"
    elif months or precision == "month":
        count, unit = months, "month"
    else:
        count, unit = (now.date() - published.date()).days, "day"
    if count == 0:
        return get_relative_name("day", 0, locale=locale) if unit == "day" else None
    # an infinite threshold makes Babel write the count in `unit` itself, never rounded
    # up to a larger unit (11 months stay 11 months, 20 days are not 3 weeks)
    return format_timedelta(
        timedelta(seconds=-count * _UNIT_SECONDS[unit]),
        granularity=unit,
        threshold=math.inf,
        add_direction=True,
        locale=locale,
    )


_UNSPACED_CHAR = UNSPACED.pattern
_WORD = re.compile(rf"{_UNSPACED_CHAR}|(?:(?!{_UNSPACED_CHAR})\S)+")


def excerpt(lead: str | None, body: str | None, words: int = EXCERPT_WORDS) -> str:
    """The lead, else the body, whitespace folded and cut after ``words`` words ("…")."""
    text = " ".join((lead or "").split()) or " ".join((body or "").split())
    end = None
    for count, match in enumerate(_WORD.finditer(text)):
        if count == words:
            return text[:end].rstrip(" ,;:–—-") + "…"
        end = match.end()
    return text


#: A URL a browser opens as a page: http(s), a host, no whitespace or control character
#: (which browsers drop, turning "java\tscript:" into a script).
_WEB_URL = re.compile(r"https?://[^\s/?#\x00-\x1f\x7f]+(?:[/?#][^\s\x00-\x1f\x7f]*)?", re.I)


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) address, else None: never a ``javascript:`` link."""
    return url if url and _WEB_URL.fullmatch(url) else None


def gather_facts(reader: Reader, urls: Iterable[str] | None = None) -> dict[str, ItemFacts]:
    """The date, excerpt, image and language of each archived URL among ``urls`` (of
    every live article when None), latest version, in one query."""
    rows = reader.teasers(None if urls is None else sorted(set(urls)))
    return {
        url: ItemFacts(
            published=published,
            precision=precision or "exact",
            excerpt=excerpt(lead, body),
            image=image,
            language=language,
            rubrique=rubrique,
            author=author,
        )
        for url, (published, precision, lead, body, language, _day, image, rubrique, author) in (
            rows.items()
        )
    }


def archive_facts(db: str | Path, lists: Mapping[str, Sequence[ListItem]]) -> dict[str, ItemFacts]:
    """:func:`gather_facts` for every source and suggestion of ``lists``, the archive
    opened read-only for that one query."""
    urls = {*lists, *(item.url for items in lists.values() for item in items)}
    with opened(db, read_only=True) as con:
        return gather_facts(Reader(con), urls)


def widget_items(
    items: Sequence[ListItem],
    facts: Mapping[str, ItemFacts],
    language: str,
    now: datetime | None = None,
) -> list[WidgetItem]:
    """The list's items with their facts, as templates see them (ages as at ``now``)."""
    lines = []
    for item in items:
        fact = facts.get(item.url) or ItemFacts()
        lines.append(
            WidgetItem(
                rank=item.rank,
                title=item.title or item.url,
                url=web_url(item.url),
                published=fact.published,
                date_iso=date_iso(fact.published, fact.precision),
                date_text=date_text(fact.published, fact.precision, language),
                age_text=age_text(fact.published, fact.precision, language, now),
                excerpt=fact.excerpt,
                image=web_url(fact.image),
                rubrique=fact.rubrique,
                author=fact.author,
                pinned=item.pinned,
                backfill=item.backfill,
                score=item.score,
                shared_terms=tuple(item.shared_terms),
            )
        )
    return lines


@functools.lru_cache(maxsize=8)
def _environment(templates: str | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("relnews", "templates")]
    if templates is not None:
        if not (Path(templates) / TEMPLATE).is_file():
            raise TemplateProblem(f"{templates} holds no {TEMPLATE}")
        loaders.insert(0, jinja2.FileSystemLoader(templates))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,  # every template, the site's own included
        undefined=jinja2.StrictUndefined,  # a misspelt variable is an error, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
    )


def package_template(name: str) -> jinja2.Template:
    """One of relnews's own templates (``relnews/templates/NAME``), in the environment
    the widgets use: autoescaped, strict about undefined variables."""
    return _environment(None).get_template(name)


def _template(templates: str | Path | None) -> jinja2.Template:
    try:
        return _environment(None if templates is None else str(templates)).get_template(TEMPLATE)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateProblem(
            f"{error.filename or TEMPLATE}, line {error.lineno}: {error.message}"
        ) from error


def render_related(
    source: str,
    items: Sequence[ListItem],
    *,
    language: str,
    facts: Mapping[str, ItemFacts] | None = None,
    templates: str | Path | None = None,
    heading: str | None = None,
    now: datetime | None = None,
) -> str:
    """One article's list as an HTML block, through ``templates``/related.html (a folder
    of the site's own) or the default template.

    Parameters
    ----------
    source
        The URL of the article the list is for.
    items
        The list, best first (:class:`recommender.rules.RelatedArticle` or alike).
    language
        The site's language (:func:`site_language`): the heading and date format.
    facts
        Dates and excerpts by URL (:func:`gather_facts`); an item without any shows its
        title alone.
    templates
        A folder holding the site's ``related.html``.
    heading
        The heading, instead of "Related articles" in ``language``.
    now
        The time ages are counted to (``item.age_text``, None without it); naive UTC,
        as the archive's dates.
    """
    code = language_code(language) or DEFAULT_LANGUAGE
    template = _template(templates)
    try:
        text = template.render(
            source=source,
            heading=heading if heading is not None else heading_for(code),
            language=code,
            items=widget_items(items, facts or {}, code, now),
        )
    except jinja2.TemplateError as error:
        raise TemplateProblem(f"{template.filename or TEMPLATE}: {error}") from error
    return text.strip("\n")


def render_export(
    lists: Mapping[str, Sequence[ListItem]],
    *,
    language: str | None = None,
    facts: Mapping[str, ItemFacts] | None = None,
    templates: str | Path | None = None,
    heading: str | None = None,
    now: datetime | None = None,
) -> str:
    """Every non-empty list as a block (:func:`render_related`), a blank line between
    blocks; ``language`` defaults to the one most of the facts' articles are in."""
    facts = facts or {}
    language = language or site_language(facts.values())
    return "\n\n".join(
        render_related(
            source,
            items,
            language=language,
            facts=facts,
            templates=templates,
            heading=heading,
            now=now,
        )
        for source, items in lists.items()
        if items
    )


@dataclass(frozen=True)
class Widgets:
    """What a server keeps to render any list of a site from memory: every live
    article's facts, the site's language and its templates folder.

    Build it with :meth:`from_reader` when the lists are loaded (one query), then call
    :meth:`render` per request; the facts do not change between two loads.
    """

    facts: Mapping[str, ItemFacts]
    language: str
    templates: str | Path | None = None

    @classmethod
    def from_reader(cls, reader: Reader, templates: str | Path | None = None) -> Widgets:
        """Every live article's facts, in the site's own language."""
        facts = gather_facts(reader)
        _template(templates)  # a missing or broken site template fails at load, not per request
        return cls(facts, site_language(facts.values()), templates)

    def render(self, source: str, items: Sequence[ListItem], *, now: datetime | None = None) -> str:
        """One list as HTML (:func:`render_related`), ages as at ``now``."""
        return render_related(
            source,
            items,
            language=self.language,
            facts=self.facts,
            templates=self.templates,
            now=now,
        )
