"""Full-text search over the archive's live articles, offline.

DuckDB's own full-text index is an extension that ``INSTALL fts`` fetches from the
network; this one is built from the archive when asked, with the text analysis and the
Okapi BM25 weights the recommender uses (:mod:`recommender.models.text`,
:class:`recommender.models.bm25.Bm25Recommender`): title (counted twice), lead and body;
case and accents folded, French elisions split off, stop words dropped, plurals lightly
stemmed. A query matches an article through any of its terms, scored by BM25.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from warehouse import Reader, opened
from warehouse.model import Article

from .models.bm25 import Bm25Recommender
from .models.sparse_rows import top_k

__all__ = ["SEARCH_COLUMNS", "SearchHit", "search_archive", "search_articles"]

#: The columns of a hit, as ``relnews search`` prints them.
SEARCH_COLUMNS = ["rank", "title", "url", "published", "rubrique", "score", "matched_terms"]


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
        The article's BM25 score for the query's terms (comparable within one search).
    matched_terms : tuple of str
        The query's terms the article holds, as analysed (lowercase, accents folded).
    """

    rank: int
    url: str
    title: str
    published: date | None
    rubrique: str | None
    score: float
    matched_terms: tuple[str, ...]

    def row(self) -> tuple:
        """The hit's values in the order of :data:`SEARCH_COLUMNS`."""
        return (self.rank, self.title, self.url, self.published, self.rubrique, self.score,
                list(self.matched_terms))  # fmt: skip


def search_articles(articles: Sequence[Article], query: str, k: int = 10) -> list[SearchHit]:
    """The ``k`` articles that best match ``query``, best first (ties by URL); an empty
    list when no article holds any of its terms (or it has none: only stop words)."""
    if not articles:
        return []
    index = Bm25Recommender(stem=True, before_only=False).fit(articles)
    vocabulary = index.vectorizer_.vocabulary_
    terms = [
        term
        for term in dict.fromkeys(index.vectorizer_.build_analyzer()(query))
        if term in vocabulary
    ]
    if not terms:
        return []
    # One column per query term: each article's BM25 weight of that term.
    weights = index.weights_[:, [vocabulary[term] for term in terms]].toarray()
    scores = weights.sum(axis=1)
    rows = np.flatnonzero(scores > 0)
    best, values = top_k(rows, scores[rows], k)
    by_url = {article.url: article for article in articles}
    hits = []
    for rank, (row, score) in enumerate(zip(best, values, strict=True), start=1):
        article = by_url[index.urls_[row]]
        hits.append(
            SearchHit(
                rank=rank,
                url=article.url,
                title=article.title,
                published=article.published.value.date() if article.published else None,
                rubrique=article.rubrique,
                score=float(score),
                matched_terms=tuple(
                    term for term, w in zip(terms, weights[row], strict=True) if w > 0
                ),
            )
        )
    return hits


def search_archive(db: str | Path, query: str, k: int = 10) -> list[SearchHit]:
    """Search the live articles of the archive at ``db`` (opened read-only)."""
    with opened(db, read_only=True) as con:
        articles = Reader(con).articles()
    return search_articles(articles, query, k=k)
