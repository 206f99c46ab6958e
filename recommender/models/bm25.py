"""Okapi BM25: the classic ranking function of search engines, an article as the query."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils.validation import check_is_fitted

from warehouse.model import Article, EditorialLink

from ..candidates import published_after, to_timestamp
from ..suggestion import Suggestion
from ._base import ArchiveMixin, check_k
from .sparse_rows import block_rows, top_k
from .text import TextAnalyzer, article_text, corpus_language, resolve_stop_words

__all__ = ["Bm25Recommender", "top_k_rows"]


def top_k_rows(
    scores: sparse.csr_matrix,
    k: int,
    *,
    exclude: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``k`` best positive columns of each row of a sparse score block.

    Parameters
    ----------
    scores : scipy.sparse.csr_matrix of shape (n_rows, n_columns)
    k : int
    exclude : numpy.ndarray of int or None
        One column per row never returned (the source itself), or -1 for none.

    Returns
    -------
    list of (columns, values), best first, ties broken by column.
    """
    out = []
    for i in range(scores.shape[0]):
        lo, hi = scores.indptr[i], scores.indptr[i + 1]
        columns, values = scores.indices[lo:hi], scores.data[lo:hi]
        keep = values > 0
        if exclude is not None and exclude[i] >= 0:
            keep &= columns != exclude[i]
        out.append(top_k(columns[keep], values[keep], k))
    return out


class Bm25Recommender(ArchiveMixin, BaseEstimator):
    """Suggest the archived articles that score best under Okapi BM25, with the source
    article's distinct terms as the query.

    Parameters
    ----------
    k1 : float, default=1.2
        Term-frequency saturation.
    b : float, default=0.75
        Length normalisation (0: none, 1: full).
    title_weight : int, default=2
        How many times the title is repeated in the indexed text.
    stop_words : str, iterable of str or None, default="auto"
        See :func:`recommender.text.resolve_stop_words`.
    stem : bool, default=False
        Snowball stemming in the site's language, as in
        :class:`~recommender.tfidf.TfidfRecommender`.
    before_only : bool, default=True
        Only suggest articles published at or before the source (both dates known).

    Attributes
    ----------
    urls_, index_, published_, rubriques_
        The fitted corpus, as in :class:`~recommender.tfidf.TfidfRecommender`.
    vectorizer_ : sklearn.feature_extraction.text.CountVectorizer
    idf_ : numpy.ndarray
        BM25 inverse document frequency of each term, ``log(1 + (n - df + .5) / (df + .5))``.
    weights_ : scipy.sparse.csr_matrix of shape (n_articles, n_terms)
        Each article's BM25 term weights (saturated, length-normalised tf times idf).
    queries_ : scipy.sparse.csr_matrix of shape (n_articles, n_terms)
        Each article as a query: 1 for each distinct term.
    """

    # Learned state (set by fit), declared for mypy.
    vectorizer_: CountVectorizer
    idf_: np.ndarray
    avg_length_: float
    weights_: sparse.csr_matrix
    queries_: sparse.csr_matrix

    def __init__(
        self,
        *,
        k1: float = 1.2,
        b: float = 0.75,
        title_weight: int = 2,
        stop_words: str | Sequence[str] | None = "auto",
        stem: bool = False,
        before_only: bool = True,
    ):
        self.k1 = k1
        self.b = b
        self.title_weight = title_weight
        self.stop_words = stop_words
        self.stem = stem
        self.before_only = before_only

    def fit(
        self,
        articles: Sequence[Article],
        links: Sequence[EditorialLink] | None = None,
        *,
        tokens: Sequence[list[str]] | None = None,
    ) -> Bm25Recommender:
        """Index the corpus (``links`` are ignored: BM25 reads text only).

        ``tokens``: each article's text (articles sorted by url) already analysed by an
        identical analyser, as in :meth:`TfidfRecommender.fit`.
        """
        if not isinstance(self.k1, numbers.Real) or self.k1 < 0:
            raise ValueError(f"k1 must be a number >= 0, got {self.k1!r}")
        if not isinstance(self.b, numbers.Real) or not 0 <= self.b <= 1:
            raise ValueError(f"b must be in [0, 1], got {self.b!r}")
        resolve_stop_words(self.stop_words)
        articles = self._check_articles(articles)
        vectorizer = CountVectorizer(
            analyzer=TextAnalyzer(self.stop_words, self.stem, corpus_language(articles)),
            dtype=np.float64,
        )
        if tokens is not None and len(tokens) != len(articles):
            raise ValueError(f"{len(tokens)} token lists for {len(articles)} articles")
        documents = [self._document(a) for a in articles] if tokens is None else tokens
        counts = sparse.csr_matrix(vectorizer.fit_transform(documents))
        counts.sort_indices()
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        for name, value in self._archive_state(articles).items():
            setattr(self, name, value)
        self.vectorizer_ = vectorizer
        self.idf_ = idf
        self.avg_length_ = float(counts.sum() / max(n, 1))
        self.weights_ = self._weights(counts)
        self.queries_ = self._queries(counts)
        return self

    def _document(self, article: Article) -> str:
        return article_text(article.title, article.lead, article.body, self.title_weight)

    def _weights(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        norm = self.k1 * (1 - self.b + self.b * lengths / max(self.avg_length_, 1e-9))
        row_norm = np.repeat(norm, np.diff(counts.indptr))
        tf = counts.data
        data = tf * (self.k1 + 1) / (tf + row_norm) * self.idf_[counts.indices]
        return sparse.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)

    @staticmethod
    def _queries(counts: sparse.csr_matrix) -> sparse.csr_matrix:
        queries = counts.copy()
        queries.data = np.ones_like(queries.data)
        return queries

    # -- scores ------------------------------------------------------------------------

    def score_block(self, queries: sparse.csr_matrix) -> sparse.csr_matrix:
        """BM25 scores of each query row against every fitted article."""
        check_is_fitted(self)
        # The articles' matrix times the queries, not the queries times its transpose:
        # that would copy the whole matrix into another layout on every call.
        scores = sparse.csr_matrix((self.weights_ @ queries.T).T)
        scores.sort_indices()
        return scores

    def transform_queries(
        self, articles: Sequence[Article], *, tokens: Sequence[list[str]] | None = None
    ) -> sparse.csr_matrix:
        """New articles as BM25 queries (distinct known terms); ``tokens``: their texts
        already analysed, as in :meth:`fit`."""
        check_is_fitted(self)
        documents = [self._document(a) for a in articles] if tokens is None else tokens
        counts = sparse.csr_matrix(self.vectorizer_.transform(documents))
        counts.sort_indices()
        return self._queries(counts)

    # -- suggestions -------------------------------------------------------------------

    def recommend(self, url: str, k: int = 10) -> list[Suggestion]:
        """The ``k`` best-scoring archived articles for an archived one."""
        return self.recommend_all(k, urls=[url])[url]

    def recommend_text(
        self,
        text: str,
        k: int = 10,
        published_before: datetime | None = None,
        *,
        title: str = "",
    ) -> list[Suggestion]:
        """Cold start for a new text."""
        article = Article(url="about:new", title=title, body=text)
        when = to_timestamp(published_before)
        return self._suggest(
            self.transform_queries([article]), [when], [-1], [not math.isnan(when)], k
        )[0]

    def recommend_all(
        self, k: int = 10, urls: Sequence[str] | None = None
    ) -> dict[str, list[Suggestion]]:
        """Suggestions for many archived articles, block by block."""
        check_is_fitted(self)
        urls = list(self.urls_) if urls is None else list(urls)
        rows = np.array([self._row(url) for url in urls], dtype=np.intp)
        lists = self._suggest(
            self.queries_[rows],
            self.published_[rows],
            rows,
            [self.before_only] * rows.size,
            k,
        )
        return dict(zip(urls, lists, strict=True))

    def recommend_new(
        self, articles: Sequence[Article], k: int = 10
    ) -> dict[str, list[Suggestion]]:
        """Cold start: each article as new and unseen (its own url never suggested)."""
        check_is_fitted(self)
        queries = self.transform_queries(articles)
        times = [to_timestamp(a.published) for a in articles]
        exclude = [self.index_.get(a.url, -1) for a in articles]
        lists = self._suggest(queries, times, exclude, [self.before_only] * len(articles), k)
        return {a.url: found for a, found in zip(articles, lists, strict=True)}

    def _suggest(self, queries, times, exclude, before, k: int) -> list[list[Suggestion]]:
        k = check_k(k)
        times = np.asarray(times, dtype=np.float64)
        exclude = np.asarray(exclude, dtype=np.intp)
        n_articles = self.weights_.shape[0]
        step = block_rows(n_articles, 1000)
        results: list[list[Suggestion]] = []
        for start in range(0, queries.shape[0], step):
            scores = self.score_block(queries[start : start + step])
            for i in range(scores.shape[0]):
                j = start + i
                if before[j]:
                    lo, hi = scores.indptr[i], scores.indptr[i + 1]
                    newer = published_after(self.published_[scores.indices[lo:hi]], times[j])
                    scores.data[lo:hi][newer] = 0.0
            for columns, values in top_k_rows(scores, k, exclude=exclude[start : start + step]):
                results.append(
                    [
                        Suggestion(target_url=self.urls_[c], score=float(v))
                        for c, v in zip(columns, values, strict=True)
                    ]
                )
        return results
