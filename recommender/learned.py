"""A ranker learned from the editors' own related links.

Candidates come from TF-IDF, BM25 and the link graph (see :mod:`recommender.features`);
a gradient-boosted classifier (scikit-learn's ``HistGradientBoostingClassifier``) scores
each (source, candidate) pair with the probability that an editor would link it, trained
on the editorial links given to ``fit``. Its settings are chosen on a validation part of
the training sources (the newest ones when the site has dates, a fixed random part
otherwise), then it is refitted on all of them.

Two rankers are fitted: one for archived articles (it may read what *other* pages link,
never the article's own block) and one for new articles (cold start: text, metadata and
how often editors link the target).
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from warehouse.model import Article, DateValue, EditorialLink

from ._base import ArchiveMixin, check_k
from .bm25 import Bm25Recommender
from .candidates import to_timestamp
from .features import COLD_FEATURES, FEATURES, PairBlock, PairFeaturizer, url_folder
from .metrics import ndcg_at_k
from .suggestion import Suggestion
from .tfidf import TfidfRecommender

__all__ = ["LearnedRecommender"]

#: Settings tried on the validation split when ``param_grid`` is None.
DEFAULT_GRID = (
    {"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 15},
    {"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31, "l2_regularization": 1.0},
)

#: Negative pairs kept per training source (all positives are kept): the ranker learns
#: as well from a sample, in a fraction of the time.
MAX_NEGATIVES = 40


def _prune(matrix: sparse.csr_matrix, keep: int | None) -> sparse.csr_matrix:
    """Each row reduced to its ``keep`` largest entries (all when None)."""
    if keep is None:
        return matrix
    matrix = sparse.csr_matrix(matrix, copy=True)
    lengths = np.diff(matrix.indptr)
    for row in np.nonzero(lengths > keep)[0]:
        lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
        data = matrix.data[lo:hi]
        cut = np.partition(data, data.size - keep)[data.size - keep]
        data[data < cut] = 0.0
    matrix.eliminate_zeros()
    return matrix


def _binary(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(matrix, copy=True)
    matrix.data = np.ones_like(matrix.data)
    return matrix


class LearnedRecommender(ArchiveMixin, BaseEstimator):
    """Rank candidates with a classifier trained on editorial links.

    Parameters
    ----------
    n_candidates : int, default=30
        Candidates taken from each source of candidates (TF-IDF, BM25, and for
        archived articles the pages linking to the source and those cited with it).
    query_terms : int or None, default=60
        A source is matched on its strongest terms only (by TF-IDF weight; BM25: its
        rarest terms): keeps scoring sparse on large archives. None uses every term.
    param_grid : sequence of dict or None, default=None
        Settings of ``HistGradientBoostingClassifier`` tried on the validation split;
        None tries a small built-in grid.
    validation_fraction : float, default=0.2
        Share of the training sources held out to choose the settings.
    random_state : int, default=0
        Seeds the classifier and the random validation split of undated sites.
    before_only : bool, default=True
        Only suggest articles published at or before the source (both dates known).
    n_explain : int, default=3
        Shared terms given with each suggestion.
    n_threads : int or None, default=1
        OpenMP threads of the ranker (None: the library's default, one per core).

    Attributes
    ----------
    urls_, index_, published_, rubriques_
        The fitted corpus.
    tfidf_ : TfidfRecommender
    bm25_ : Bm25Recommender
    link_sources_ : frozenset of str
        Sources whose editorial links the model was trained with (the evaluation's
        leakage guard reads it).
    ranker_ : HistGradientBoostingClassifier
        The ranker for archived articles, on :data:`recommender.features.FEATURES`.
    cold_ranker_ : HistGradientBoostingClassifier
        The ranker for new articles, on :data:`recommender.features.COLD_FEATURES`.
    best_params_ : dict
        The chosen settings.
    validation_scores_ : list of dict
        Each setting tried, with its validation nDCG@10 for both rankers.
    """

    def __init__(
        self,
        *,
        n_candidates: int = 30,
        query_terms: int | None = 60,
        param_grid: Sequence[dict[str, Any]] | None = None,
        validation_fraction: float = 0.2,
        random_state: int = 0,
        before_only: bool = True,
        n_explain: int = 3,
        n_threads: int | None = 1,
    ):
        self.n_threads = n_threads
        self.n_candidates = n_candidates
        self.query_terms = query_terms
        self.param_grid = param_grid
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.before_only = before_only
        self.n_explain = n_explain

    # -- fitting -----------------------------------------------------------------------

    def fit(
        self, articles: Sequence[Article], links: Sequence[EditorialLink]
    ) -> LearnedRecommender:
        """Fit the text models, build the link graph, train and select the rankers.

        Parameters
        ----------
        articles : sequence of Article
            Every article that may be a source or a suggestion.
        links : sequence of EditorialLink
            The editorial links to learn from: only those of training pages when the
            model is to be evaluated (see :func:`recommender.evaluation.evaluate`).

        Raises
        ------
        ValueError
            If a parameter is invalid, or no link joins two articles of the corpus.
        """
        with self._threads():
            return self._fit(articles, links)

    def _threads(self) -> threadpool_limits:
        # The boosted trees use OpenMP; on a machine whose cores are busy with other work,
        # its threads spin-wait and a fit of seconds takes minutes. One thread costs
        # little here (the trees are small) and never stalls.
        return threadpool_limits(limits=self.n_threads, user_api="openmp")

    def _fit(
        self, articles: Sequence[Article], links: Sequence[EditorialLink]
    ) -> LearnedRecommender:
        self._check_params()
        articles = self._check_articles(articles)
        for name, value in self._archive_state(articles).items():
            setattr(self, name, value)
        self.tfidf_ = TfidfRecommender(before_only=self.before_only, n_explain=self.n_explain)
        self.tfidf_.fit(articles)
        self.bm25_ = Bm25Recommender(before_only=self.before_only).fit(articles)
        links = list(links or ())
        self.link_sources_ = frozenset(link.source_url for link in links)
        graph = self._graph(links)
        if graph.nnz == 0:
            raise ValueError("no editorial link joins two articles of the corpus: nothing to learn")
        self.featurizer_ = PairFeaturizer(
            tfidf=self.tfidf_.matrix_,
            bm25_weights=self.bm25_.weights_,
            titles=self._titles(articles),
            graph=graph,
            published=self.published_,
            rubriques=self.rubriques_,
            tags=[frozenset(a.tags) for a in articles],
            folders=[url_folder(a.url) for a in articles],
            n_candidates=int(self.n_candidates),
            before_only=self.before_only,
        )
        sources = np.nonzero(np.diff(graph.indptr) > 0)[0]
        truth = {
            int(row): set(graph.indices[graph.indptr[row] : graph.indptr[row + 1]])
            for row in sources
        }
        train_rows, validation_rows = self._validation_split(sources)
        pairs = {cold: self._sample(self._pairs(sources, cold), truth) for cold in (False, True)}
        grid = list(self.param_grid) if self.param_grid is not None else list(DEFAULT_GRID)
        self.validation_scores_ = []
        for params in grid:
            scores = {}
            for cold in (False, True):
                block = pairs[cold]
                fit_part = np.isin(block.sources, train_rows)
                model = self._classifier(params).fit(
                    block.X[fit_part], self._labels(block, truth)[fit_part]
                )
                scores["cold" if cold else "existing"] = self._validation_ndcg(
                    model, block, validation_rows, truth
                )
            self.validation_scores_.append({"params": dict(params), **scores})
        best = max(self.validation_scores_, key=lambda s: (s["existing"], s["cold"]))
        best_cold = max(self.validation_scores_, key=lambda s: s["cold"])
        self.best_params_ = best["params"]
        self.best_cold_params_ = best_cold["params"]
        self.ranker_ = self._classifier(self.best_params_).fit(
            pairs[False].X, self._labels(pairs[False], truth)
        )
        self.cold_ranker_ = self._classifier(self.best_cold_params_).fit(
            pairs[True].X, self._labels(pairs[True], truth)
        )
        return self

    def _check_params(self) -> None:
        for name in ("n_candidates", "n_explain"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if self.n_candidates < 1:
            raise ValueError(f"n_candidates must be >= 1, got {self.n_candidates!r}")
        if self.query_terms is not None and (
            not isinstance(self.query_terms, numbers.Integral) or self.query_terms < 1
        ):
            raise ValueError(
                f"query_terms must be a positive integer or None, got {self.query_terms!r}"
            )
        if (
            not isinstance(self.validation_fraction, numbers.Real)
            or not 0 < self.validation_fraction < 1
        ):
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}"
            )

    def _classifier(self, params: dict[str, Any]) -> HistGradientBoostingClassifier:
        base = HistGradientBoostingClassifier(early_stopping=False, random_state=self.random_state)
        return clone(base).set_params(**params)

    def _graph(self, links: Iterable[EditorialLink]) -> sparse.csr_matrix:
        pairs = {
            (self.index_[link.source_url], self.index_[link.target_url])
            for link in links
            if link.source_url != link.target_url
            and link.source_url in self.index_
            and link.target_url in self.index_
        }
        n = len(self.urls_)
        if not pairs:
            return sparse.csr_matrix((n, n), dtype=np.float64)
        rows, columns = zip(*sorted(pairs), strict=True)
        data = np.ones(len(rows), dtype=np.float64)
        return sparse.csr_matrix((data, (rows, columns)), shape=(n, n))

    def _titles(self, articles: Sequence[Article]) -> sparse.csr_matrix:
        titles = self.tfidf_.vectorizer_.transform([a.title for a in articles])
        return sparse.csr_matrix(normalize(titles))

    def _validation_split(self, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The newest sources when dated, else a fixed random part, are for validation."""
        times = self.published_[sources]
        n_validation = max(1, round(self.validation_fraction * sources.size))
        if np.mean(~np.isnan(times)) >= 0.5:
            order = np.lexsort((sources, np.nan_to_num(times, nan=-np.inf)))
        else:
            keys = [
                hashlib.sha256(f"{self.random_state}:{self.urls_[row]}".encode()).hexdigest()
                for row in sources
            ]
            order = np.argsort(keys, kind="stable")
        ordered = sources[order]
        return ordered[:-n_validation], ordered[-n_validation:]

    def _sample(self, block: PairBlock, truth: dict[int, set[int]]) -> PairBlock:
        """Every positive pair, and at most MAX_NEGATIVES negatives per source (seeded)."""
        labels = self._labels(block, truth)
        keys = np.random.RandomState(self.random_state).random_sample(labels.size)
        keys[labels == 1] = -1.0  # positives first, then a random order
        order = np.lexsort((keys, block.sources))
        sources = block.sources[order]
        starts = np.searchsorted(sources, sources)  # first pair of each pair's source
        positives = np.bincount(block.sources[labels == 1], minlength=sources.max(initial=0) + 1)
        position = np.arange(sources.size) - starts
        keep = order[position < positives[sources] + MAX_NEGATIVES]
        keep.sort()
        return PairBlock(block.sources[keep], block.targets[keep], block.X[keep])

    @staticmethod
    def _labels(block: PairBlock, truth: dict[int, set[int]]) -> np.ndarray:
        return np.array(
            [t in truth.get(int(s), ()) for s, t in zip(block.sources, block.targets, strict=True)],
            dtype=np.int8,
        )

    def _validation_ndcg(
        self,
        model: HistGradientBoostingClassifier,
        block: PairBlock,
        rows: np.ndarray,
        truth: dict[int, set[int]],
    ) -> float:
        part = np.isin(block.sources, rows)
        sources, targets = block.sources[part], block.targets[part]
        scores = model.predict_proba(block.X[part])[:, 1]
        values = []
        for row in rows:
            mine = sources == row
            ranked = targets[mine][np.lexsort((targets[mine], -scores[mine]))][:10]
            values.append(
                ndcg_at_k([int(t) for t in ranked], {int(t) for t in truth[int(row)]}, 10)
            )
        return float(np.mean(values)) if values else 0.0

    # -- pairs -------------------------------------------------------------------------

    def _queries_of_rows(self, rows: np.ndarray) -> dict[str, Any]:
        f = self.featurizer_
        return {
            "tfidf_queries": _prune(f.tfidf[rows], self.query_terms),
            "bm25_queries": self._bm25_queries(self.bm25_.queries_[rows]),
            "title_queries": f.titles[rows],
            "published": self.published_[rows],
            "rubriques": self.rubriques_[rows],
            "tags": [f.tags[row] for row in rows],
            "folders": [f.folders[row] for row in rows],
        }

    def _queries_of_articles(self, articles: Sequence[Article]) -> dict[str, Any]:
        tfidf = self.tfidf_.vectorizer_.transform(
            [self.tfidf_._document(a.title, a.lead, a.body) for a in articles]
        )
        return {
            "tfidf_queries": _prune(sparse.csr_matrix(tfidf), self.query_terms),
            "bm25_queries": self._bm25_queries(self.bm25_.transform_queries(articles)),
            "title_queries": self._titles(articles),
            "published": np.array([to_timestamp(a.published) for a in articles], dtype=np.float64),
            "rubriques": np.array([a.rubrique or None for a in articles], dtype=object),
            "tags": [frozenset(a.tags) for a in articles],
            "folders": [url_folder(a.url) for a in articles],
        }

    def _bm25_queries(self, queries: sparse.csr_matrix) -> sparse.csr_matrix:
        # The rarest terms carry a BM25 query: keep those.
        weighted = sparse.csr_matrix(queries.multiply(self.bm25_.idf_[None, :]))
        return _binary(_prune(weighted, self.query_terms))

    def _pairs(self, rows: np.ndarray, cold: bool) -> PairBlock:
        """Candidate pairs of archived sources, block by block, concatenated."""
        step = self.featurizer_.block_size()
        blocks = []
        for start in range(0, rows.size, step):
            part = rows[start : start + step]
            block = self.featurizer_.pairs(**self._queries_of_rows(part), rows=part, cold=cold)
            blocks.append(PairBlock(part[block.sources], block.targets, block.X))
        n_features = len(COLD_FEATURES if cold else FEATURES)
        if not blocks:
            return PairBlock(np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros((0, n_features)))
        return PairBlock(
            np.concatenate([b.sources for b in blocks]),
            np.concatenate([b.targets for b in blocks]),
            np.vstack([b.X for b in blocks]),
        )

    # -- suggestions -------------------------------------------------------------------

    def recommend(self, url: str, k: int = 10) -> list[Suggestion]:
        """The ``k`` best candidates for an archived article."""
        return self.recommend_all(k, urls=[url])[url]

    def recommend_all(
        self, k: int = 10, urls: Sequence[str] | None = None
    ) -> dict[str, list[Suggestion]]:
        """Lists for archived articles (their own links never read), block by block."""
        check_is_fitted(self)
        k = check_k(k)
        urls = list(self.urls_) if urls is None else list(urls)
        rows = np.array([self._row(url) for url in urls], dtype=np.intp)
        results: dict[str, list[Suggestion]] = {}
        step = self.featurizer_.block_size()
        for start in range(0, rows.size, step):
            part = rows[start : start + step]
            block = self.featurizer_.pairs(**self._queries_of_rows(part), rows=part, cold=False)
            lists = self._rank(block, part.size, self.ranker_, k, self.tfidf_.matrix_[part])
            results.update(zip(urls[start : start + step], lists, strict=True))
        return results

    def recommend_new(
        self, articles: Sequence[Article], k: int = 10
    ) -> dict[str, list[Suggestion]]:
        """Cold start: each article as new and unseen (text and metadata only; its own
        url, if archived, is never suggested)."""
        check_is_fitted(self)
        k = check_k(k)
        results: dict[str, list[Suggestion]] = {}
        step = self.featurizer_.block_size()
        for start in range(0, len(articles), step):
            part = list(articles[start : start + step])
            queries = self._queries_of_articles(part)
            block = self.featurizer_.pairs(**queries, rows=None, cold=True)
            own = np.array([self.index_.get(a.url, -1) for a in part])
            keep = block.targets != own[block.sources]
            block = PairBlock(block.sources[keep], block.targets[keep], block.X[keep])
            lists = self._rank(block, len(part), self.cold_ranker_, k, queries["tfidf_queries"])
            results.update({a.url: found for a, found in zip(part, lists, strict=True)})
        return results

    def recommend_text(
        self,
        text: str,
        k: int = 10,
        published_before: datetime | None = None,
        *,
        title: str = "",
    ) -> list[Suggestion]:
        """Cold start for a new text (optionally dated: only older articles then)."""
        published = DateValue(published_before, "day") if published_before else None
        article = Article(url="about:new-article", title=title, body=text, published=published)
        return self.recommend_new([article], k)[article.url]

    def _rank(
        self,
        block: PairBlock,
        n_sources: int,
        ranker: HistGradientBoostingClassifier,
        k: int,
        source_vectors: sparse.csr_matrix,
    ) -> list[list[Suggestion]]:
        with self._threads():
            scores = ranker.predict_proba(block.X)[:, 1] if block.X.shape[0] else np.zeros(0)
        order = np.lexsort((block.targets, -scores, block.sources))
        sources, targets, scores = block.sources[order], block.targets[order], scores[order]
        bounds = np.searchsorted(sources, np.arange(n_sources + 1))
        lists = []
        for i in range(n_sources):
            lo, hi = bounds[i], min(bounds[i + 1], bounds[i] + k)
            vector = source_vectors[i]
            lists.append(
                [
                    Suggestion(
                        target_url=self.urls_[t],
                        score=float(s),
                        shared_terms=self.tfidf_._shared_terms(vector.indices, vector.data, int(t)),
                    )
                    for t, s in zip(targets[lo:hi], scores[lo:hi], strict=True)
                ]
            )
        return lists
