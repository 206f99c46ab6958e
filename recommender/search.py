"""Full-text search over the archive's live articles, offline, through its kept index.

The index is the archive's (:mod:`warehouse.search_index`: SQLite FTS5 beside the
archive, updated by crawls and, when it is behind, by the search itself); this module
holds the query language a user types and turns it into an FTS5 expression, so that no
user input reaches FTS5's own syntax:

- ``word word``: articles holding every word (title, lead or body; case and accents
  folded). A plain word also finds the index's words of the same stem (``étude`` finds
  ``études``, ``hôpital`` finds ``hôpitaux``: the recommender's French and English
  Snowball stemmers, :func:`~recommender.models.text.stemmer_for`), French
  elisions are dropped (``l'apnée`` looks for ``apnée``), and stop words are not
  searched (``le``, ``the``), except inside a phrase.
- ``"a phrase"``: those words in that order (stop words included).
- ``word*`` (or ``"a phr"*``): any word starting so.
- ``-word``, ``-"a phrase"``, ``-word*``: articles holding it are left out.
- ``a OR b``: either (binds tighter than the implicit AND: ``a b OR c`` is a and (b or c)).

Anything else is text: FTS5 operators (``NEAR(``, ``col:``, ``^``, ``+``) and stray
punctuation are read as words or dropped, an unbalanced quote closes at the end, and
control characters are spaces. Hits are ranked by bm25 (title first, then lead, body),
each with a snippet of its best passage.
"""

from __future__ import annotations

import html
import os
import re
import sqlite3
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from warehouse import WarehouseError, opened
from warehouse.search_index import (
    MARK_END,
    MARK_START,
    IndexUpdate,
    SearchIndex,
    prepare_text,
)

from .models.text import (
    ELISIONS,
    FALLBACK_STOP_WORDS,
    normalize,
    resolve_stop_words,
    stemmer_for,
)

__all__ = [
    "SEARCH_COLUMNS",
    "Query",
    "SearchHit",
    "SearchResult",
    "parse_query",
    "search_archive",
]

#: The columns of a hit, as ``relnews search`` prints them.
SEARCH_COLUMNS = ["rank", "title", "url", "published", "rubrique", "score", "snippet"]

#: Seconds a search waits for an archive being written before it searches the index as
#: it last was (a crawl must not be held up, nor hold the search up long).
BUSY_ARCHIVE_WAIT = 2.0

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A quoted phrase (its closing quote optional: it closes at the end), or a bare word.
_ITEM = re.compile(r'(-?)"([^"]*)"?(\*?)|(-?)([^\s"]+)')
_WORD_CHAR = re.compile(r"[^\W_]")
_SIMPLE_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = re.compile("['\u2019\u2018\u02bc]")
_STOP_WORDS = resolve_stop_words(FALLBACK_STOP_WORDS)
#: At most this many forms of one word are searched.
MAX_FORMS = 12


def _fts_string(text: str) -> str:
    """``text`` as an FTS5 string: everything inside is tokenised, none of it is syntax."""
    return '"' + prepare_text(text).replace('"', '""') + '"'


@cache
def _stemmers() -> tuple[Any, ...]:
    """The Snowball stemmers of the languages searched (those of the fallback stop words:
    French and English)."""
    return tuple(stemmer_for(language) for language in FALLBACK_STOP_WORDS.split("+"))


def _word_forms(word: str, terms: Callable[[str], list[str]] | None) -> list[str]:
    """A plain (folded) word and the index's words of the same stem in French or English
    (``etude`` -> etude, etudes; ``hopital`` -> hopital, hopitaux): the recommender's
    stemmers, asked about the words the index holds that start like the stem."""
    if terms is None:
        return [word]
    stems = [(stemmer, stemmer.stemWord(word)) for stemmer in _stemmers()]
    start = os.path.commonprefix([word, *(stem for _, stem in stems)])
    if len(start) < 3:  # too short a start to list the words sharing it
        return [word]
    forms = [
        term
        for term in terms(start)
        if any(stemmer.stemWord(term) == stem for stemmer, stem in stems)
    ]
    return [word, *(form for form in forms if form != word)][:MAX_FORMS]


@dataclass(frozen=True)
class Query:
    """A user's query as read: the FTS5 expression, or why there is nothing to search."""

    #: The FTS5 expression (empty when there is nothing to look for).
    expression: str
    #: Why nothing is searched, in words for the user (empty when something is).
    problem: str = ""
    #: What was read, for the user: one entry per item kept, e.g. ``"apnee du"``, ``-enfant``.
    items: tuple[str, ...] = field(default=())


def parse_query(text: str, terms: Callable[[str], list[str]] | None = None) -> Query:
    """Read a query of words, ``"phrases"``, ``prefix*``, ``-exclusions`` and ``OR``
    (module docstring) into an FTS5 expression. ``terms(start)``: the index's words
    that begin with ``start``, to find a word's other forms (without it, a word is
    searched as typed). Never raises: a query with nothing to search says why in
    :attr:`Query.problem`."""
    text = _CONTROL.sub(" ", text)
    groups: list[list[str]] = []  # positive items: AND between groups, OR inside one
    excluded: list[str] = []
    shown: list[str] = []
    join_next = False
    stop_words_dropped = False
    for match in _ITEM.finditer(text):
        phrase_minus, phrase, phrase_star, word_minus, word = match.groups()
        if word == "OR":
            join_next = bool(groups)
            continue
        negative = bool(phrase_minus or word_minus)
        if phrase is not None:
            prefix = bool(phrase_star)
            item = _phrase_item(phrase, prefix)
            label = f'"{phrase.strip()}"' + ("*" if prefix else "")
        else:
            prefix = word.endswith("*")
            item, dropped = _word_item(_trimmed(word.rstrip("*")), prefix, negative, terms)
            stop_words_dropped |= dropped
            label = word
        if item is None:
            continue
        shown.append(("-" if negative else "") + label)
        if negative:
            excluded.append(item)
        elif join_next:
            groups[-1].append(item)
        else:
            groups.append([item])
        join_next = False
    if not groups:
        if excluded:
            problem = "the query only excludes: give at least one word to look for"
        elif stop_words_dropped:
            problem = (
                'the query holds only stop words, which are not searched (put them in "quotes")'
            )
        else:
            problem = "the query holds no word to look for"
        return Query("", problem, tuple(shown))
    expression = " AND ".join(
        group[0] if len(group) == 1 else "(" + " OR ".join(group) + ")" for group in groups
    )
    if excluded:
        expression = f"({expression}) NOT ({' OR '.join(excluded)})"
    return Query(expression, "", tuple(shown))


def _phrase_item(phrase: str, prefix: bool) -> str | None:
    if not _WORD_CHAR.search(phrase):
        return None
    return _fts_string(phrase) + (" *" if prefix else "")


def _trimmed(word: str) -> str:
    """A bare word without the punctuation and symbols around it: ``(sommeil),`` is
    ``sommeil`` (and may be a plural), not a compound."""
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(word[end - 1])[0] in "PS":
        end -= 1
    return word[start:end]


def _word_item(
    word: str, prefix: bool, negative: bool, terms: Callable[[str], list[str]] | None
) -> tuple[str | None, bool]:
    """A bare word's FTS5 item, and whether it was dropped as a stop word."""
    parts = _APOSTROPHES.split(word)
    # "l'apnée" -> "apnée": the elided article is no word to look for
    while len(parts) > 1 and normalize(parts[0]) in ELISIONS:
        parts = parts[1:]
    word = " ".join(part for part in parts if part)
    if not _WORD_CHAR.search(word):
        return None, False
    folded = normalize(word)
    if not prefix and not negative and folded in _STOP_WORDS:
        return None, True
    if prefix or not _SIMPLE_WORD.fullmatch(folded):
        # a compound ("covid-19", CJK) is its words in a row; a prefix, as typed
        return _fts_string(word) + (" *" if prefix else ""), False
    forms = _word_forms(folded, terms)
    if len(forms) == 1:
        return _fts_string(forms[0]), False
    return "(" + " OR ".join(_fts_string(form) for form in forms) + ")", False


@dataclass(frozen=True)
class SearchHit:
    """One article found, best first.

    Attributes
    ----------
    rank : int
        1 for the best.
    url, title : str
        The article's URL and title.
    published : datetime.date or None
        Its publication day (None when the archive does not know it).
    rubrique : str or None
    score : float
        The article's bm25 score for the query (comparable within one search).
    snippet : str
        Words around its best match; matched words between ``[`` and ``]``; "…" where
        text was cut. Plain text (a terminal shows it through ``relnews.output``).
    snippet_html : str
        The same, HTML-escaped, matched words in ``<mark>``: safe to put in a page.
    """

    rank: int
    url: str
    title: str
    published: date | None
    rubrique: str | None
    score: float
    snippet: str
    snippet_html: str

    def row(self) -> tuple:
        """The hit's values in the order of :data:`SEARCH_COLUMNS`."""
        return (self.rank, self.title, self.url, self.published, self.rubrique,
                round(self.score, 4), self.snippet)  # fmt: skip


def _marked(snippet: str, start: str, end: str, escape: Callable[[str], str]) -> str:
    """A snippet with the index's marks replaced, every other part passed to ``escape``."""
    parts = re.split(f"([{MARK_START}{MARK_END}])", snippet)
    marks = {MARK_START: start, MARK_END: end}
    return "".join(marks.get(part) or escape(part) for part in parts)


@dataclass(frozen=True)
class SearchResult:
    """A search's hits, and what the user should know about how they were found."""

    hits: list[SearchHit]
    query: Query
    #: What the search did before searching (index built or updated, archive busy), for
    #: stderr; empty when nothing worth saying.
    notes: tuple[str, ...] = ()


def search_archive(
    db: str | Path,
    query: str,
    k: int = 10,
    on_note: Callable[[str], None] | None = None,
) -> SearchResult:
    """Search the live articles of the archive at ``db`` for ``query`` (module
    docstring); its index is built or brought up to date first when the archive changed
    since it was last (``on_note`` hears about it as it happens: a first build on a big
    archive takes a while).

    Raises
    ------
    WarehouseError
        No archive at ``db``, or no index and the archive or index busy for long.
    """
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        if on_note is not None:
            on_note(message)

    index = SearchIndex(db)
    if not index.is_current():
        _bring_up_to_date(index, note)
    parsed = parse_query(query, terms=index.terms)
    if parsed.problem:
        return SearchResult([], parsed, tuple(notes))
    try:
        found = index.search(parsed.expression, k)
    except sqlite3.Error as error:  # the expression is ours: a bug, said in one line
        raise WarehouseError(f"the search index could not run the query: {error}") from error
    hits = [
        SearchHit(
            rank=rank,
            url=hit.url,
            title=hit.title,
            published=hit.published,
            rubrique=hit.rubrique,
            score=hit.score,
            snippet=_marked(hit.snippet, "[", "]", str),
            snippet_html=_marked(hit.snippet, "<mark>", "</mark>", html.escape),
        )
        for rank, hit in enumerate(found, start=1)
    ]
    return SearchResult(hits, parsed, tuple(notes))


def _bring_up_to_date(index: SearchIndex, note: Callable[[str], None]) -> None:
    if not index.db.exists():
        with opened(index.db, read_only=True):  # the usual one-line "no archive at ..."
            pass
    had = index.size()
    first = not index.exists() or had == 0

    def progress(done: int, total: int) -> None:
        if total > 5_000:
            note(f"  indexed {done:,}/{total:,} articles")

    if first:
        note(f"building the search index {index.path.name} (first search on this archive)…")
    try:
        # With an index to fall back on, a busy archive is not waited for long.
        update = index.update(wait=BUSY_ARCHIVE_WAIT if had else 30.0, progress=progress)
    except WarehouseError:
        if not had or not index.db.exists():
            raise
        note(
            "the archive or its search index is busy (another process is writing it): "
            f"searched the index as of its last update ({had:,} articles)"
        )
        return
    if update.built or first:
        note(f"search index built: {update.total:,} articles")
    elif update.changes:
        note(_describe(update))


def _describe(update: IndexUpdate) -> str:
    return (
        f"search index brought up to date: {update.added:,} new, {update.changed:,} "
        f"changed, {update.removed:,} gone ({update.total:,} articles)"
    )
