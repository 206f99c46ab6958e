"""Which pages are held out: one rule for the evaluation's test queries and for the
learned model's validation sources.

By publication date when at least half the pages (:data:`MIN_DATED_SHARE`) have one:
the newest are held out, undated pages never are. Otherwise a fixed random draw: the
pages are ordered by a seeded hash of their path and query
(:func:`~recommender.candidates.draw_key`) and the first ones are held out, so the same
archive and seed always hold out the same pages, whatever the input order or the host
the site was crawled from, and a page added later does not move the others.

The count is the fraction of all pages, rounded half up (``floor(f * n + 0.5)``), at
least ``minimum``, and never more than the dated pages in a split by date.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

from warehouse.model import Article

from ..candidates import draw_key, to_timestamp

__all__ = ["MIN_DATED_SHARE", "HeldOut", "hold_out", "split_articles", "temporal_split"]

#: Share of dated pages from which the split is by date.
MIN_DATED_SHARE = 0.5


@dataclass(frozen=True)
class HeldOut:
    """A split of a list of pages, as positions in that list.

    ``kept`` and ``held`` are ordered oldest to newest for a split by date (equal dates
    by url; the undated pages end ``kept``, by url), by url for a random draw.
    """

    kept: list[int]
    held: list[int]
    by_date: bool
    n_dated: int


def check_fraction(fraction: float, name: str = "test_fraction") -> None:
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
        raise ValueError(f"{name} must be in (0, 1), got {fraction!r}")


def hold_out(
    urls: Sequence[str],
    published: Sequence[float],
    fraction: float,
    random_state: int = 0,
    *,
    minimum: int = 0,
    by_date: bool | None = None,
) -> HeldOut:
    """Hold out ``fraction`` of the pages (see the module docstring for the rule).

    Parameters
    ----------
    urls : sequence of str
        The pages, distinct.
    published : sequence of float
        Their publication times (POSIX seconds, NaN when unknown), in the same order.
    fraction : float
        Share of the pages held out, in (0, 1).
    random_state : int, default=0
        Seed of the random draw (unused by a split by date).
    minimum : int, default=0
        Hold out at least this many (the learned model needs one validation source).
    by_date : bool or None, default=None
        Force the split by date (True) or the random draw (False); None follows the rule.

    Returns
    -------
    HeldOut
    """
    check_fraction(fraction)
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ValueError(f"random_state must be an integer, got {random_state!r}")
    if len(set(urls)) != len(urls):
        raise ValueError("duplicate article urls")
    n = len(urls)
    dated = [i for i in range(n) if not math.isnan(published[i])]
    n_held = min(max(minimum, math.floor(fraction * n + 0.5)), n)
    if by_date is None:
        by_date = bool(n) and len(dated) >= MIN_DATED_SHARE * n
    if by_date:
        by_time = sorted(dated, key=lambda i: (published[i], urls[i]))
        undated = sorted((i for i in range(n) if math.isnan(published[i])), key=urls.__getitem__)
        cut = len(by_time) - min(n_held, len(by_time))
        return HeldOut(by_time[:cut] + undated, by_time[cut:], True, len(dated))
    drawn = sorted(range(n), key=lambda i: (draw_key(urls[i], random_state), urls[i]))
    by_url = urls.__getitem__
    held, kept = sorted(drawn[:n_held], key=by_url), sorted(drawn[n_held:], key=by_url)
    return HeldOut(kept, held, False, len(dated))


def temporal_split(
    articles: Sequence[Article], test_fraction: float = 0.2
) -> tuple[list[str], list[str]]:
    """Split article urls in time: the newest ones are the test queries.

    Parameters
    ----------
    articles : sequence of Article
        The archive.
    test_fraction : float, default=0.2
        Share of all articles (rounded half up to a count) put in test, taken from the
        newest dated ones. Articles without a date always go to train.

    Returns
    -------
    train, test : list of str
        Urls from the oldest to the newest (equal dates ordered by url); undated
        articles end ``train``, ordered by url.

    Raises
    ------
    ValueError
        If ``test_fraction`` is not strictly between 0 and 1, or two articles share a url.
    """
    urls = [article.url for article in articles]
    times = [to_timestamp(article.published) for article in articles]
    split = hold_out(urls, times, test_fraction, by_date=True)
    return [urls[i] for i in split.kept], [urls[i] for i in split.held]


def split_articles(
    articles: Sequence[Article], test_fraction: float = 0.2, random_state: int = 0
) -> tuple[list[str], list[str], str]:
    """Hold out test queries by the rule of :func:`hold_out`.

    Parameters
    ----------
    articles : sequence of Article
        The archive.
    test_fraction : float, default=0.2
        Share of the articles (rounded half up to a count) put in test.
    random_state : int, default=0
        Seed of the random split (unused by the split by date).

    Returns
    -------
    train, test : list of str
        Urls (by date as in :func:`temporal_split`, or sorted by url for a random split).
    how : str
        How the split was made, for reports, e.g. ``"newest 20% by publication date"``
        or ``"random 20% of pages (seed 0), the site has no dates"``.

    Raises
    ------
    ValueError
        If ``test_fraction`` is not strictly between 0 and 1, ``random_state`` is not an
        integer, or two articles share a url.
    """
    urls = [article.url for article in articles]
    times = [to_timestamp(article.published) for article in articles]
    split = hold_out(urls, times, test_fraction, random_state)
    train, test = [urls[i] for i in split.kept], [urls[i] for i in split.held]
    if split.by_date:
        return train, test, f"newest {test_fraction:.0%} by publication date"
    why = (
        "the site has no dates"
        if split.n_dated == 0
        else f"only {split.n_dated} of {len(urls)} pages have a publication date"
    )
    return train, test, f"random {test_fraction:.0%} of pages (seed {int(random_state)}), {why}"
