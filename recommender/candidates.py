"""The candidate rule every recommender follows.

A target is a candidate for a source article when it is in the same fitted corpus, is
not the source itself, and, by default (``before_only=True``), was published at or
before the source, since editors link backwards in time. The date test only applies
when both dates are known: an article without a date is always a candidate, and a
source without a date accepts every other article.

Dates are compared as POSIX timestamps (float seconds, NaN when unknown). A naive
``datetime`` is taken to be UTC.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Container, Iterable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from warehouse.model import Article, DateValue

__all__ = [
    "candidate_mask",
    "check_articles",
    "is_candidate",
    "published_after",
    "published_timestamps",
    "to_timestamp",
]


def draw_key(url: str, seed: int) -> str:
    """A url's place in a seeded random draw (a hex digest; sort by it to shuffle).

    Only the url's path and query count, not its scheme, host or port: the same site
    served from another host (a mirror, a move to https, a local copy on a random port)
    draws the same pages.
    """
    parts = urlsplit(url)
    where = urlunsplit(("", "", parts.path, parts.query, ""))
    return hashlib.sha256(f"{int(seed)}:{where}".encode()).hexdigest()


def to_timestamp(value: DateValue | datetime | None) -> float:
    """A date as a POSIX timestamp, NaN when unknown.

    Parameters
    ----------
    value : DateValue, datetime or None
        The date; a naive ``datetime`` is read as UTC.

    Returns
    -------
    float
        Seconds since the epoch, or ``nan`` for ``None``.
    """
    if value is None:
        return math.nan
    if isinstance(value, DateValue):
        value = value.value
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime or DateValue, not {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def published_timestamps(articles: Iterable[Article]) -> np.ndarray:
    """Publication timestamps of ``articles`` (float64, NaN where the date is unknown).

    Parameters
    ----------
    articles : iterable of Article
        The articles, in the order wanted.

    Returns
    -------
    numpy.ndarray of float64
        One timestamp per article.
    """
    return np.array([to_timestamp(article.published) for article in articles], dtype=np.float64)


def is_candidate(source: Article, target: Article, *, before_only: bool = True) -> bool:
    """Whether ``target`` may be suggested as related to ``source``.

    Both articles are assumed to belong to the same corpus.

    Parameters
    ----------
    source, target : Article
        The article being read and the one that may be suggested.
    before_only : bool, default=True
        Only accept targets published at or before the source, when both dates are known.

    Returns
    -------
    bool
        ``False`` when ``target`` is ``source`` (same URL) or, with ``before_only``, is
        newer than it; ``True`` otherwise.
    """
    if source.url == target.url:
        return False
    if not before_only:
        return True
    return not published_after(to_timestamp(target.published), to_timestamp(source.published))


def published_after(
    target_times: np.ndarray | float, source_times: np.ndarray | float
) -> np.ndarray:
    """The date rule: True where a target was published after its source.

    An unknown date (NaN) on either side is never "after": an undated article is always a
    candidate, and an undated source accepts every article. Arrays broadcast.
    """
    return np.greater(target_times, source_times)


def candidate_mask(
    published: np.ndarray,
    source_time: float,
    *,
    exclude: int | None = None,
    before_only: bool = True,
) -> np.ndarray:
    """Boolean mask of the candidates for one source among a corpus.

    Parameters
    ----------
    published : numpy.ndarray of float64
        Timestamps of the corpus articles (NaN when unknown), see
        :func:`published_timestamps`.
    source_time : float
        Timestamp of the source (NaN when unknown).
    exclude : int or None, default=None
        Row of the source itself in the corpus, never a candidate.
    before_only : bool, default=True
        Only accept articles published at or before ``source_time`` when both are known.

    Returns
    -------
    numpy.ndarray of bool
        ``True`` for every candidate row.
    """
    if before_only:
        mask = ~published_after(published, source_time)
    else:
        mask = np.ones(published.shape[0], dtype=bool)
    if exclude is not None:
        mask[exclude] = False
    return mask


def check_articles(articles: Sequence[Article]) -> list[Article]:
    """Validate a corpus and return it sorted by URL.

    Sorting makes a fitted model independent of the order articles were read in, and
    makes ties break by URL.

    Parameters
    ----------
    articles : sequence of Article
        The corpus.

    Returns
    -------
    list of Article
        The same articles, sorted by URL.

    Raises
    ------
    TypeError
        If an item is not an :class:`~warehouse.model.Article`.
    ValueError
        If the corpus is empty or two articles share a URL.
    """
    if isinstance(articles, (str, bytes)) or not isinstance(articles, Iterable):
        raise TypeError("articles must be a sequence of warehouse.model.Article")
    articles = list(articles)
    if not articles:
        raise ValueError("cannot fit on an empty corpus")
    for article in articles:
        if not isinstance(article, Article):
            raise TypeError(f"expected warehouse.model.Article, got {type(article).__name__}")
    articles.sort(key=lambda article: article.url)
    for previous, current in zip(articles, articles[1:], strict=False):
        if previous.url == current.url:
            raise ValueError(f"duplicate article url: {current.url!r}")
    return articles


def unfitted_sources(
    model_index: Container[str], articles: Iterable[Article]
) -> tuple[dict[str, tuple[str, str]], dict[str, float]]:
    """Archived articles a model was not fitted on (crawled since the fit), as
    :func:`recommender.rules.related_lists` ranks them from their words: each one's
    (title, text: lead and body) and its publication time (POSIX seconds, NaN unknown)."""
    texts: dict[str, tuple[str, str]] = {}
    times: dict[str, float] = {}
    for article in articles:
        if article.url in model_index:
            continue
        texts[article.url] = (article.title, f"{article.lead}\n{article.body}".strip())
        times[article.url] = to_timestamp(article.published)
    return texts, times
