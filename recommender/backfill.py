"""Filling a list that the model leaves shorter than ``k``.

A model's list can run short: the oldest articles have few older candidates (the date
rule), a new page shares words with few others, and the editors' blocks take items
out. Readers still expect a full block, so the list is filled with the next best
candidates, which the output marks as *backfill*:

1. the articles most similar in text whatever their date (the date rule relaxed), by
   the model's own text similarity (TF-IDF cosine, or BM25 for a BM25 model);
2. then the others: same rubrique first, newest first (undated last), by URL.

Duck-typed on the fitted model (``urls_``, ``index_``, ``published_``, and where it has
them ``rubriques_`` and a text matrix: ``matrix_``, ``tfidf_.matrix_`` or BM25's
``queries_`` and ``score_block``), so that any recommender of the package, loaded from a file,
fits. Pure: no archive.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import sparse

from .suggestion import Suggestion

__all__ = ["MAX_CELLS", "backfill_candidates", "fill_lists", "text_scores"]

#: Most similarities held at once by :func:`text_scores` (dense float64: 32 MB).
MAX_CELLS = 4_000_000


def _tfidf_part(model: Any) -> Any | None:
    """The TF-IDF model inside ``model`` (itself, or a learned model's), or None."""
    for part in (model, getattr(model, "tfidf_", None)):
        if part is not None and hasattr(part, "matrix_") and hasattr(part, "terms_"):
            return part
    return None


def _text_scores(model: Any, rows: np.ndarray) -> np.ndarray | None:
    """Text similarity of each of ``rows`` with every fitted article, no date rule:
    a dense array of shape (len(rows), n_articles), or None when the model reads no text."""
    tfidf = _tfidf_part(model)
    if tfidf is not None:
        # The articles' matrix times the rows, not the rows times its transpose: that
        # would copy the whole matrix into another layout on every call.
        matrix = tfidf.matrix_
        product = (matrix @ matrix[rows].T).T
    elif hasattr(model, "score_block") and hasattr(model, "queries_"):  # BM25
        product = model.score_block(model.queries_[rows])
    else:
        return None
    return np.asarray(sparse.csr_matrix(product).todense(), dtype=np.float64)


def text_scores(
    model: Any, sources: Sequence[str], chunk_size: int = 256
) -> Iterator[tuple[str, np.ndarray | None]]:
    """Each source's text similarity with every fitted article (the ``scores`` of
    :func:`backfill_candidates`; None when the model reads no text), computed
    ``chunk_size`` sources at once (fewer on a large corpus: at most :data:`MAX_CELLS`
    similarities at once), in the order of ``sources``."""
    step = max(1, min(chunk_size, MAX_CELLS // max(1, len(model.urls_))))
    for start in range(0, len(sources), step):
        block = sources[start : start + step]
        scores = _text_scores(model, np.array([model.index_[s] for s in block], dtype=np.intp))
        for i, source in enumerate(block):
            yield source, None if scores is None else scores[i]


#: Each model's rows newest first, found once: (the ``published_`` it was found from,
#: the order).
_NEWEST: weakref.WeakKeyDictionary[Any, tuple[np.ndarray, np.ndarray]] = weakref.WeakKeyDictionary()


def _newest_first(model: Any) -> np.ndarray:
    """The fitted rows newest first, undated last, ties by URL."""
    published = model.published_
    cached = _NEWEST.get(model)
    if cached is not None and cached[0] is published:
        return cached[1]
    times = np.asarray(published, dtype=np.float64)
    undated = np.isnan(times)
    order = np.lexsort((np.arange(times.size), np.where(undated, 0.0, -times), undated))
    _NEWEST[model] = (published, order)
    return order


def _order(model: Any, row: int, scores: np.ndarray | None, depth: int) -> np.ndarray:
    """The first ``depth`` other fitted rows in backfill order (see the module docstring)."""
    if scores is not None:
        similar = scores.copy()
        similar[row] = 0.0
        positive = np.flatnonzero(similar > 0)
    else:
        similar, positive = np.zeros(0), np.zeros(0, dtype=np.intp)
    if positive.size > depth:  # keep the best, ties at the cut included (sorted below)
        values = similar[positive]
        positive = positive[values >= np.partition(values, positive.size - depth)[-depth]]
    # rows are URLs in order, so ties break by URL
    positive = positive[np.lexsort((positive, -similar[positive]))][:depth]
    if positive.size >= depth:
        return positive
    newest = _newest_first(model)
    taken = np.zeros(len(model.urls_), dtype=bool)
    taken[positive] = True
    taken[row] = True
    rest = newest[~taken[newest]]
    rubriques = getattr(model, "rubriques_", None)
    if rubriques is not None and rubriques[row] is not None:
        same = rubriques[rest] == rubriques[row]
        rest = np.concatenate([rest[same], rest[~same]])
    return np.concatenate([positive, rest[: depth - positive.size]]).astype(np.intp)


def _shared_terms(model: Any, row: int, targets: np.ndarray) -> list[tuple[str, ...]]:
    tfidf = _tfidf_part(model)
    if tfidf is None or not targets.size:
        return [()] * int(targets.size)
    sources = np.full(targets.size, row, dtype=np.intp)
    return list(tfidf.shared_terms_of_pairs(tfidf.matrix_, sources, targets))


def backfill_candidates(
    model: Any, source_url: str, depth: int, scores: np.ndarray | None = None
) -> list[Suggestion]:
    """The first ``depth`` candidates that fill ``source_url``'s list, best first.

    Parameters
    ----------
    model : fitted recommender
        See the module docstring for what it needs.
    source_url : str
        An article the model was fitted on (never suggested for itself).
    depth : int
        How many to return at most.
    scores : numpy.ndarray or None, default=None
        The source's text similarity with every fitted article, when already computed.

    Returns
    -------
    list of Suggestion
        The model's text similarity as ``score`` (0.0 past the similar articles), with
        the shared terms where the model has TF-IDF vectors. The caller drops what its
        list already holds.
    """
    row = model.index_[source_url]
    if scores is None:
        found = _text_scores(model, np.array([row], dtype=np.intp))
        scores = None if found is None else found[0]
    targets = _order(model, row, scores, max(0, int(depth)))
    values = np.zeros(targets.size) if scores is None else np.maximum(scores[targets], 0.0)
    terms = [
        found if value > 0 else ()
        for found, value in zip(_shared_terms(model, row, targets), values, strict=True)
    ]
    return [
        Suggestion(str(model.urls_[target]), float(value), found)
        for target, value, found in zip(targets.tolist(), values.tolist(), terms, strict=True)
    ]


def fill_lists(
    model: Any, lists: Mapping[str, Sequence[Suggestion]], k: int, *, chunk_size: int = 256
) -> dict[str, tuple[list[Suggestion], list[Suggestion]]]:
    """Each list as ``(the model's, the backfill)``, together ``k`` long where the corpus
    holds ``k`` other articles.

    Parameters
    ----------
    model : fitted recommender
    lists : mapping of str to sequence of Suggestion
        The model's lists by source URL (sources the model was fitted on).
    k : int
        The length wanted.
    chunk_size : int, default=256
        Short sources whose similarities are computed at once (fewer on a large corpus:
        at most ``MAX_CELLS`` similarities at once).
    """
    filled: dict[str, tuple[list[Suggestion], list[Suggestion]]] = {
        source: (list(items), []) for source, items in lists.items()
    }
    short = [source for source, items in lists.items() if len(items) < k]
    for source, scores in text_scores(model, short, chunk_size):
        own, extra = filled[source]
        taken = {item.target_url for item in own}
        need = k - len(own)
        found = backfill_candidates(model, source, need + len(taken), scores)
        extra += [item for item in found if item.target_url not in taken][:need]
    return filled
