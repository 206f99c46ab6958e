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
``weights_``/``queries_``), so that any recommender of the package, loaded from a file,
fits. Pure: no archive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import sparse

from .suggestion import Suggestion

__all__ = ["backfill_candidates", "fill_lists"]


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
        matrix = tfidf.matrix_
        product = matrix[rows] @ matrix.T
    elif hasattr(model, "weights_") and hasattr(model, "queries_"):  # BM25
        product = model.queries_[rows] @ model.weights_.T
    else:
        return None
    return np.asarray(sparse.csr_matrix(product).todense(), dtype=np.float64)


def _order(model: Any, row: int, scores: np.ndarray | None) -> np.ndarray:
    """Every other fitted row, in backfill order (see the module docstring)."""
    n = len(model.urls_)
    similar = np.zeros(n, dtype=np.float64) if scores is None else scores
    published = np.asarray(model.published_, dtype=np.float64)
    rubriques = getattr(model, "rubriques_", None)
    if rubriques is not None and rubriques[row] is not None:
        other_rubrique = rubriques != rubriques[row]
    else:
        other_rubrique = np.ones(n, dtype=bool)
    positive = similar > 0
    undated = np.isnan(published) & ~positive
    newest = np.where(undated | positive, 0.0, -published)
    # lexsort: the last key sorts first. Rows are URLs in order, so ties break by URL.
    order = np.lexsort(
        (
            np.arange(n),
            newest,
            undated,
            np.where(positive, False, other_rubrique),
            np.where(positive, -similar, 0.0),
            ~positive,
        )
    )
    return order[order != row]


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
    targets = _order(model, row, scores)[: max(0, int(depth))]
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
        Short sources whose similarities are computed at once.
    """
    filled: dict[str, tuple[list[Suggestion], list[Suggestion]]] = {
        source: (list(items), []) for source, items in lists.items()
    }
    short = [source for source, items in lists.items() if len(items) < k]
    for start in range(0, len(short), chunk_size):
        block = short[start : start + chunk_size]
        rows = np.array([model.index_[source] for source in block], dtype=np.intp)
        scores = _text_scores(model, rows)
        for i, source in enumerate(block):
            own, extra = filled[source]
            taken = {item.target_url for item in own}
            need = k - len(own)
            found = backfill_candidates(
                model, source, need + len(taken), None if scores is None else scores[i]
            )
            extra += [item for item in found if item.target_url not in taken][:need]
    return filled
