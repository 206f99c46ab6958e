"""Ranking metrics: one ranked list of urls against the set of relevant urls.

Relevance is binary. A url repeated in the ranked list only counts at its first
position. A list shorter than ``k`` counts its missing positions as non-relevant.
Every function raises ``ValueError`` on an empty relevant set (the query cannot be
judged) or a ``k`` that is not a positive integer.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Hashable, Iterable, Sequence

__all__ = [
    "catalogue_coverage",
    "hit_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank",
]


def _check(relevant: Collection[Hashable], k: int | None) -> None:
    if len(relevant) == 0:
        raise ValueError("relevant set is empty: the query cannot be judged")
    if k is not None and (isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1):
        raise ValueError(f"k must be a positive integer, got {k!r}")


def _hits(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int | None) -> list[bool]:
    """For each of the first ``k`` positions, whether it holds a not yet seen relevant url."""
    seen: set[Hashable] = set()
    hits = []
    for url in ranked if k is None else ranked[:k]:
        hits.append(url in relevant and url not in seen)
        seen.add(url)
    return hits


def precision_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Share of the first ``k`` positions that hold a relevant url.

    Parameters
    ----------
    ranked : sequence of str
        Suggested urls, best first.
    relevant : collection of str
        The urls that should have been suggested (non-empty).
    k : int
        Cut-off; the denominator even when ``ranked`` is shorter.

    Returns
    -------
    float
        In [0, 1].
    """
    _check(relevant, k)
    return sum(_hits(ranked, relevant, k)) / k


def recall_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Share of the relevant urls found in the first ``k`` positions.

    Parameters
    ----------
    ranked : sequence of str
        Suggested urls, best first.
    relevant : collection of str
        The urls that should have been suggested (non-empty).
    k : int
        Cut-off.

    Returns
    -------
    float
        In [0, 1].
    """
    _check(relevant, k)
    return sum(_hits(ranked, relevant, k)) / len(set(relevant))


def ndcg_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Normalised discounted cumulative gain, binary relevance.

    ``DCG = sum(1 / log2(i + 1))`` over the relevant positions ``i`` (1-based) among the
    first ``k``, divided by the DCG of an ideal list with ``min(len(relevant), k)``
    relevant urls first.

    Parameters
    ----------
    ranked : sequence of str
        Suggested urls, best first.
    relevant : collection of str
        The urls that should have been suggested (non-empty).
    k : int
        Cut-off.

    Returns
    -------
    float
        In [0, 1].
    """
    _check(relevant, k)
    dcg = sum(1.0 / math.log2(i + 2) for i, hit in enumerate(_hits(ranked, relevant, k)) if hit)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(set(relevant)), k)))
    return dcg / ideal


def reciprocal_rank(
    ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int | None = None
) -> float:
    """``1 / rank`` of the first relevant url, 0 when none is found.

    Parameters
    ----------
    ranked : sequence of str
        Suggested urls, best first.
    relevant : collection of str
        The urls that should have been suggested (non-empty).
    k : int or None, default=None
        Only look at the first ``k`` positions; ``None`` for the whole list.

    Returns
    -------
    float
        In [0, 1]; averaged over queries it is the MRR.
    """
    _check(relevant, k)
    for rank, hit in enumerate(_hits(ranked, relevant, k), start=1):
        if hit:
            return 1.0 / rank
    return 0.0


def hit_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """1.0 when a relevant url is among the first ``k`` positions, else 0.0.

    Parameters
    ----------
    ranked : sequence of str
        Suggested urls, best first.
    relevant : collection of str
        The urls that should have been suggested (non-empty).
    k : int
        Cut-off.

    Returns
    -------
    float
        0.0 or 1.0.
    """
    _check(relevant, k)
    return 1.0 if any(_hits(ranked, relevant, k)) else 0.0


def catalogue_coverage(
    ranked_lists: Iterable[Sequence[Hashable]], catalogue: Collection[Hashable], k: int
) -> float:
    """Share of the catalogue that appears in at least one top-``k`` list.

    Unlike the other metrics this judges a whole set of lists, not one query: a method
    that suggests the same few articles everywhere covers little of the catalogue.

    Parameters
    ----------
    ranked_lists : iterable of sequence of str
        One ranked list per query, best first.
    catalogue : collection of str
        Every url that could be suggested (non-empty); urls outside it do not count.
    k : int
        Cut-off: only the first ``k`` positions of each list count.

    Returns
    -------
    float
        In [0, 1].
    """
    catalogue = set(catalogue)
    if not catalogue:
        raise ValueError("catalogue is empty")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    shown = {url for ranked in ranked_lists for url in ranked[:k]}
    return len(shown & catalogue) / len(catalogue)
