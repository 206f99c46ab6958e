"""Content-based related articles: TF-IDF vectors and cosine similarity."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from warehouse.model import Article, EditorialLink

from ..candidates import published_after, to_timestamp
from ..suggestion import Suggestion
from ._base import ArchiveMixin, check_k
from .sparse_rows import block_rows, top_k, top_per_row
from .text import TextAnalyzer, article_text, corpus_language, resolve_stop_words

__all__ = ["TfidfRecommender"]


class TfidfRecommender(ArchiveMixin, BaseEstimator):
    """Suggest the archived articles whose TF-IDF vectors are closest (cosine).

    The text of an article is its title (repeated ``title_weight`` times), lead and body,
    and nothing else: no tags, theme, sources, author or related block.

    Parameters
    ----------
    min_df : int or float, default=1
        Ignore terms in fewer documents (count) or a smaller proportion of them (float).
    max_df : int or float, default=0.8
        Ignore terms in more documents (count) or a larger proportion of them (float).
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)`` as term frequency.
    title_weight : int, default=2
        How many times the title is repeated in the text (0 leaves it out).
    stop_words : str, iterable of str or None, default="auto"
        Stop words, see :func:`recommender.text.resolve_stop_words` ("auto": the site's
        language's and English).
    stem : bool, default=False
        Snowball stemming in the site's language (the one most articles are in), see
        :class:`recommender.text.TextAnalyzer`.
    before_only : bool, default=True
        Only suggest articles published at or before the source (when both dates are
        known).
    n_explain : int, default=3
        How many shared terms explain each suggestion (0 for none).

    Attributes
    ----------
    urls_ : numpy.ndarray of object
        Fitted article urls, sorted; row ``i`` of ``matrix_`` is ``urls_[i]``.
    index_ : dict of str to int
        Row of each url.
    published_ : numpy.ndarray of float64
        Publication timestamps (POSIX seconds, naive dates read as UTC; NaN if unknown).
    rubriques_ : numpy.ndarray of object
        Rubrique of each article, or None.
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
        The fitted vectoriser (its analyzer is a :class:`~recommender.text.TextAnalyzer`).
    matrix_ : scipy.sparse.csr_matrix of shape (n_articles, n_terms)
        L2-normalised TF-IDF vectors, indices sorted.
    terms_ : numpy.ndarray of str
        A readable word for each column (its term, or for a stem the shortest word
        analysed into it), to explain suggestions.

    Examples
    --------
    >>> model = TfidfRecommender().fit(articles)  # doctest: +SKIP
    >>> model.recommend("https://example.org/news/sante/grippe_2.htm", k=4)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        min_df: int | float = 1,
        max_df: int | float = 0.8,
        sublinear_tf: bool = True,
        title_weight: int = 2,
        stop_words: str | Sequence[str] | None = "auto",
        stem: bool = False,
        before_only: bool = True,
        n_explain: int = 3,
    ):
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.title_weight = title_weight
        self.stop_words = stop_words
        self.stem = stem
        self.before_only = before_only
        self.n_explain = n_explain

    # -- fitting ---------------------------------------------------------------------

    def fit(
        self,
        articles: Sequence[Article],
        links: Sequence[EditorialLink] | None = None,
        *,
        tokens: Sequence[list[str]] | None = None,
    ) -> TfidfRecommender:
        """Vectorise the corpus.

        Parameters
        ----------
        articles : sequence of Article
            The archive: every article that may be a source or a suggestion.
        links : sequence of EditorialLink or None, default=None
            Ignored; accepted so every recommender has the same ``fit`` signature.
        tokens : sequence of list of str or None, default=None
            Each article's text (in the order of ``articles`` sorted by url) already
            analysed by an identical :class:`~recommender.text.TextAnalyzer`, to share
            one analysis between models; None analyses the articles.

        Returns
        -------
        self : TfidfRecommender
            The fitted model (any earlier fit is replaced).

        Raises
        ------
        ValueError
            If the corpus is empty, has duplicate urls, a parameter is invalid, or no
            term survives the document-frequency limits.
        """
        self._check_params()
        articles = self._check_articles(articles)
        analyzer = self.analyser_for(articles)
        vectorizer = TfidfVectorizer(
            analyzer=analyzer,
            min_df=self.min_df,
            max_df=self.max_df,
            sublinear_tf=self.sublinear_tf,
            norm="l2",
            dtype=np.float64,
        )
        if tokens is not None and len(tokens) != len(articles):
            raise ValueError(f"{len(tokens)} token lists for {len(articles)} articles")
        documents = self._documents(articles) if tokens is None else tokens
        matrix = sparse.csr_matrix(vectorizer.fit_transform(documents))
        matrix.sort_indices()

        for name, value in self._archive_state(articles).items():
            setattr(self, name, value)
        self.vectorizer_ = vectorizer
        self.matrix_ = matrix
        self.terms_ = np.array(analyzer.readable(vectorizer.get_feature_names_out()))
        return self

    def analyser_for(self, articles: Sequence[Article]) -> TextAnalyzer:
        """The text analysis of this model on ``articles``: in their language."""
        return TextAnalyzer(self.stop_words, self.stem, corpus_language(articles))

    def _check_params(self) -> None:
        if (
            isinstance(self.title_weight, bool)
            or not isinstance(self.title_weight, numbers.Integral)
            or self.title_weight < 0
        ):
            raise ValueError(f"title_weight must be an integer >= 0, got {self.title_weight!r}")
        if (
            isinstance(self.n_explain, bool)
            or not isinstance(self.n_explain, numbers.Integral)
            or self.n_explain < 0
        ):
            raise ValueError(f"n_explain must be an integer >= 0, got {self.n_explain!r}")
        resolve_stop_words(self.stop_words)

    def _documents(self, articles: Sequence[Article]) -> list[str]:
        """The texts vectorised for the (checked, sorted) articles."""
        return [self._document(a.title, a.lead, a.body) for a in articles]

    def _document(self, title: str, lead: str, body: str) -> str:
        """The text vectorised for one article (see :func:`~recommender.text.article_text`)."""
        return article_text(title, lead, body, self.title_weight)

    # -- suggestions -----------------------------------------------------------------

    def recommend(self, url: str, k: int = 10) -> list[Suggestion]:
        """The ``k`` archived articles most similar to an archived one.

        Parameters
        ----------
        url : str
            An article of the fitted corpus.
        k : int, default=10
            Maximum number of suggestions.

        Returns
        -------
        list of Suggestion
            Best first; only candidates (see :mod:`recommender.candidates`) with a
            positive similarity, so possibly fewer than ``k``.

        Raises
        ------
        KeyError
            If ``url`` is not in the fitted corpus.
        """
        return self.recommend_all(k, urls=[url])[url]

    def keep_term_index(self) -> TfidfRecommender:
        """Also keep the archive's vectors by term (``by_term_``: as much memory again as
        ``matrix_``), so that :meth:`recommend_text` reads only the rows of a new text's
        own terms: what a server answering many drafts wants (a 600-word draft against
        100,000 articles: 4 ms for the scores instead of 19). Not saved with the model."""
        check_is_fitted(self)
        self.by_term_ = self.matrix_.T.tocsr()
        return self

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        state.pop("by_term_", None)  # rebuilt in a second by whoever wants it
        return state

    def recommend_text(
        self,
        text: str,
        k: int = 10,
        published_before: datetime | None = None,
        *,
        title: str = "",
    ) -> list[Suggestion]:
        """Cold start: the ``k`` archived articles most similar to a new text.

        Parameters
        ----------
        text : str
            The new article's text (lead and body).
        k : int, default=10
            Maximum number of suggestions.
        published_before : datetime or None, default=None
            When given, only suggest articles published at or before it (undated
            articles stay candidates); naive datetimes are read as UTC.
        title : str, default=""
            The new article's title, weighted like the archived titles.

        Returns
        -------
        list of Suggestion
            Best first, positive similarities only.
        """
        check_is_fitted(self)
        k = check_k(k)
        vector = sparse.csr_matrix(self.vectorizer_.transform([self._document(title, "", text)]))
        vector.sort_indices()
        by_term = getattr(self, "by_term_", None)
        if by_term is not None:  # only the rows of the text's own terms
            scores = np.asarray(vector.data @ by_term[vector.indices]).ravel()
        else:
            # One pass over the archive's matrix with the new text as a dense vector: a
            # sparse product would pass twice (sizing, then filling) and copy the result.
            dense = np.zeros(self.matrix_.shape[1], dtype=self.matrix_.dtype)
            dense[vector.indices] = vector.data
            scores = self.matrix_ @ dense
        rows = np.flatnonzero(scores > 0)
        source_time = to_timestamp(published_before)
        return self._select(
            vector.indices,
            vector.data,
            rows,
            scores[rows],
            source_time=source_time,
            exclude=None,
            before=not math.isnan(source_time),
            k=k,
        )

    def recommend_all(
        self,
        k: int = 10,
        urls: Sequence[str] | None = None,
        *,
        chunk_size: int = 1000,
    ) -> dict[str, list[Suggestion]]:
        """Suggestions for many archived articles, computed block by block.

        Similarities are sparse products of a block of source rows with the whole
        matrix; no dense n x n matrix is ever built.

        Parameters
        ----------
        k : int, default=10
            Maximum number of suggestions per source.
        urls : sequence of str or None, default=None
            The sources; ``None`` for every fitted article.
        chunk_size : int, default=1000
            Source rows per block; lowered on large corpora so a block never exceeds
            ``MAX_BLOCK_CELLS`` similarities.

        Returns
        -------
        dict of str to list of Suggestion
            One list per source url, in the order of ``urls``.

        Raises
        ------
        KeyError
            If a url is not in the fitted corpus.
        """
        check_is_fitted(self)
        k = check_k(k)
        urls = list(self.urls_) if urls is None else list(urls)
        rows = np.array([self._row(url) for url in urls], dtype=np.intp)
        matrix = self.matrix_
        n_articles = matrix.shape[0]
        step = block_rows(n_articles, chunk_size)
        transposed = matrix.T.tocsr()

        results: dict[str, list[Suggestion]] = {}
        for start in range(0, rows.size, step):
            block = rows[start : start + step]
            scores = sparse.csr_matrix(matrix[block] @ transposed)
            for i, row in enumerate(block):
                lo, hi = scores.indptr[i], scores.indptr[i + 1]
                source_lo, source_hi = matrix.indptr[row], matrix.indptr[row + 1]
                results[urls[start + i]] = self._select(
                    matrix.indices[source_lo:source_hi],
                    matrix.data[source_lo:source_hi],
                    scores.indices[lo:hi],
                    scores.data[lo:hi],
                    source_time=self.published_[row],
                    exclude=row,
                    before=self.before_only,
                    k=k,
                )
        return results

    def recommend_new(
        self,
        articles: Sequence[Article],
        k: int = 10,
        *,
        chunk_size: int = 1000,
    ) -> dict[str, list[Suggestion]]:
        """Cold start: suggestions for each article as if it were new and unseen.

        Only the article's text (title, lead, body) and publication date are used, never
        a link from or to it, nor its fitted vector: the text is vectorised again with
        the fitted vocabulary. Its own url is never suggested, even when it is in the
        fitted corpus. Candidates follow the same rule as :meth:`recommend` (published
        at or before it when ``before_only`` and both dates are known).

        Parameters
        ----------
        articles : sequence of Article
            The new articles (in the fitted corpus or not), distinct urls.
        k : int, default=10
            Maximum number of suggestions per article.
        chunk_size : int, default=1000
            Articles vectorised and scored per block (lowered on large corpora as in
            :meth:`recommend_all`).

        Returns
        -------
        dict of str to list of Suggestion
            One list per article url, in the order given; best first, positive
            similarities only.

        Raises
        ------
        ValueError
            If two articles share a url.
        """
        check_is_fitted(self)
        k = check_k(k)
        articles = list(articles)
        urls = [article.url for article in articles]
        if len(set(urls)) != len(urls):
            raise ValueError("duplicate article urls")
        n_articles = self.matrix_.shape[0]
        step = block_rows(n_articles, chunk_size)
        transposed = self.matrix_.T.tocsr()

        results: dict[str, list[Suggestion]] = {}
        for start in range(0, len(articles), step):
            block = articles[start : start + step]
            vectors = sparse.csr_matrix(
                self.vectorizer_.transform([self._document(a.title, a.lead, a.body) for a in block])
            )
            vectors.sort_indices()
            scores = sparse.csr_matrix(vectors @ transposed)
            for i, article in enumerate(block):
                lo, hi = scores.indptr[i], scores.indptr[i + 1]
                source_lo, source_hi = vectors.indptr[i], vectors.indptr[i + 1]
                results[article.url] = self._select(
                    vectors.indices[source_lo:source_hi],
                    vectors.data[source_lo:source_hi],
                    scores.indices[lo:hi],
                    scores.data[lo:hi],
                    source_time=to_timestamp(article.published),
                    exclude=self.index_.get(article.url),
                    before=self.before_only,
                    k=k,
                )
        return results

    def _select(
        self,
        source_terms: np.ndarray,
        source_weights: np.ndarray,
        columns: np.ndarray,
        scores: np.ndarray,
        *,
        source_time: float,
        exclude: int | None,
        before: bool,
        k: int,
    ) -> list[Suggestion]:
        """Top ``k`` candidates among the nonzero similarities of one source.

        Ties break by row, that is by url.
        """
        keep = scores > 0
        if exclude is not None:
            keep &= columns != exclude
        if before:
            keep &= ~published_after(self.published_[columns], source_time)
        columns, scores = top_k(columns[keep], scores[keep], k)
        return [
            Suggestion(
                target_url=self.urls_[column],
                score=float(score),
                shared_terms=self._shared_terms(source_terms, source_weights, column),
            )
            for column, score in zip(columns, scores, strict=True)
        ]

    def shared_terms_of_pairs(
        self,
        sources: sparse.csr_matrix,
        pairs_source: np.ndarray,
        pairs_target: np.ndarray,
        targets: sparse.csr_matrix | None = None,
    ) -> list[tuple[str, ...]]:
        """Shared terms of many pairs at once: for pair ``i``, the ``n_explain`` terms
        with the highest product of weights in ``sources[pairs_source[i]]`` and the
        fitted row ``pairs_target[i]`` (ties by term), as :meth:`recommend` gives them.

        Parameters
        ----------
        sources : scipy.sparse.csr_matrix of shape (n_sources, n_terms)
            Source vectors (fitted rows, or new texts vectorised by ``vectorizer_``).
        pairs_source, pairs_target : numpy.ndarray of int
            Row in ``sources`` and fitted row of each pair.
        targets : scipy.sparse.csr_matrix or None, default=None
            The fitted rows' vectors, if not ``matrix_`` (e.g. pruned to their strongest
            terms, to explain many pairs fast).

        Returns
        -------
        list of tuple of str
            One tuple per pair.
        """
        n_pairs = len(pairs_source)
        if not self.n_explain or not n_pairs:
            return [()] * n_pairs
        products = sparse.csr_matrix(
            sparse.csr_matrix(sources)[pairs_source].multiply(
                (self.matrix_ if targets is None else targets)[pairs_target]
            )
        )
        owner, terms, _, _ = top_per_row(products, self.n_explain)
        words = self.terms_[terms].tolist()
        bounds = np.searchsorted(owner, np.arange(n_pairs + 1)).tolist()
        return [tuple(words[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]

    def _shared_terms(
        self, source_terms: np.ndarray, source_weights: np.ndarray, row: int
    ) -> tuple[str, ...]:
        """The ``n_explain`` terms with the highest product of weights in both vectors."""
        if not self.n_explain:
            return ()
        lo, hi = self.matrix_.indptr[row], self.matrix_.indptr[row + 1]
        common, in_source, in_target = np.intersect1d(
            source_terms, self.matrix_.indices[lo:hi], assume_unique=True, return_indices=True
        )
        weights = source_weights[in_source] * self.matrix_.data[lo:hi][in_target]
        order = np.lexsort((common, -weights))[: self.n_explain]
        return tuple(str(self.terms_[term]) for term in common[order])
