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

import numbers
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import numpy as np
from joblib import effective_n_jobs
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from warehouse.model import Article, DateValue, EditorialLink

from ..candidates import to_timestamp
from ..evaluation.metrics import ndcg_at_k
from ..evaluation.split import check_fraction, hold_out
from ..suggestion import Suggestion
from ._base import ArchiveMixin, check_k
from .bm25 import Bm25Recommender
from .features import COLD_COLUMNS, FEATURES, PairBlock, PairFeaturizer, url_folder
from .sparse_rows import prune_rows
from .text import TextAnalyzer
from .tfidf import TfidfRecommender

__all__ = ["LearnedRecommender", "NothingToLearn"]


class NothingToLearn(ValueError):
    """The editorial links give the learned model nothing to learn from: none joins two
    articles of the corpus, or none is ever among the candidates. A caller falls back to
    a method that needs no links (TF-IDF)."""


#: Settings tried on the validation split when ``param_grid`` is None.
DEFAULT_GRID = (
    {"learning_rate": 0.2, "max_iter": 50, "max_leaf_nodes": 15},
    {"learning_rate": 0.2, "max_iter": 50, "max_leaf_nodes": 31, "l2_regularization": 1.0},
)

#: Default ``index_depth``: articles kept in each term's posting list.
INDEX_DEPTH = 100
#: Default ``max_train_sources``.
MAX_TRAIN_SOURCES = 5000

#: Negative pairs kept per training source (all positives are kept): the ranker learns
#: as well from a sample, in a fraction of the time.
MAX_NEGATIVES = 40


def _both_classes(labels: np.ndarray) -> bool:
    """Whether a ranker can learn from these labels: some positive, some negative."""
    return bool(labels.any() and not labels.all())


def _binary(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(matrix, copy=True)
    matrix.data = np.ones_like(matrix.data)
    return matrix


#: Above this share of forward links in the training data, "auto" lets candidates be
#: newer than the article (the seed site's editors link only backwards: share 0).
FORWARD_SHARE = 0.2


class LearnedRecommender(ArchiveMixin, BaseEstimator):
    """Rank candidates with a classifier trained on editorial links.

    Parameters
    ----------
    n_candidates : int, default=20
        Candidates taken from each source of candidates (TF-IDF, BM25, and for
        archived articles the pages linking to the source and those cited with it).
    query_terms : int or None, default=20
        A source is matched on its strongest terms only (by TF-IDF weight; BM25: its
        rarest terms): keeps scoring sparse on large archives. None uses every term.
    index_depth : int or None, default=INDEX_DEPTH
        Each term's posting list keeps the articles where the term weighs most, this
        many: what a source is scored against. Bounds the work per source whatever the
        size of the archive; None keeps every article.
    max_train_sources : int or None, default=MAX_TRAIN_SOURCES
        Sources with links that the rankers learn from, a seeded sample when more have
        links (the ranker has a few dozen settings to learn, not one per page). None
        learns from all of them.
    param_grid : sequence of dict or None, default=None
        Settings of ``HistGradientBoostingClassifier`` tried on the validation split;
        None tries a small built-in grid.
    validation_fraction : float, default=0.2
        Share of the training sources held out to choose the settings.
    random_state : int, default=0
        Seeds the classifier and the random validation split of undated sites.
    before_only : bool or "auto", default="auto"
        Only suggest articles published at or before the source (both dates known).
        "auto" learns it from the site's own links: candidates may be newer when more
        than ``FORWARD_SHARE`` of the dated training links point forward in time (a
        block rendered when the page is served, not when it was written); the fitted
        choice is ``before_only_``, the share ``forward_share_``.
    n_explain : int, default=3
        Shared terms given with each suggestion.
    n_threads : int or None, default=1
        OpenMP threads of the ranker (None: the library's default, one per core).
    n_jobs : int or None, default=None
        Blocks of sources listed at once, each in its own thread (None: 1; -1: one per
        core), as in scikit-learn.

    Attributes
    ----------
    urls_, index_, published_, rubriques_
        The fitted corpus.
    tfidf_ : TfidfRecommender
    bm25_ : Bm25Recommender
    tfidf_queries_, bm25_queries_ : scipy.sparse.csr_matrix
        Each fitted article as a query (its ``query_terms`` strongest terms).
    featurizer_ : recommender.features.PairFeaturizer
        Candidates and pair features (pruned posting lists, metadata codes, the graph).
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
        Each setting tried, with its validation nDCG@10 for both rankers; when too few
        pages have links to hold some out, only the first setting, scores None.
    """

    def __init__(
        self,
        *,
        n_candidates: int = 20,
        query_terms: int | None = 20,
        index_depth: int | None = INDEX_DEPTH,
        max_train_sources: int | None = MAX_TRAIN_SOURCES,
        param_grid: Sequence[dict[str, Any]] | None = None,
        validation_fraction: float = 0.2,
        random_state: int = 0,
        before_only: bool | str = "auto",
        n_explain: int = 3,
        n_threads: int | None = 1,
        n_jobs: int | None = None,
    ):
        self.n_threads = n_threads
        self.n_jobs = n_jobs
        self.n_candidates = n_candidates
        self.query_terms = query_terms
        self.index_depth = index_depth
        self.max_train_sources = max_train_sources
        self.param_grid = param_grid
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.before_only = before_only  # type: ignore[assignment]  # "auto" is learned at fit
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
        links = list(links or ())
        graph = self._graph(links)
        self.forward_share_ = self._forward_share(graph)
        self.before_only_ = (
            self.forward_share_ <= FORWARD_SHARE
            if self.before_only == "auto"
            else bool(self.before_only)
        )
        self.tfidf_ = TfidfRecommender(before_only=self.before_only_, n_explain=self.n_explain)
        # Both models read the same text with the same default analyser: analyse it once.
        analyser = self.tfidf_.analyser_for(articles)
        tokens = [analyser(text) for text in self.tfidf_._documents(articles)]
        self.tfidf_.fit(articles, tokens=tokens)
        self.bm25_ = Bm25Recommender(before_only=self.before_only_).fit(articles, tokens=tokens)
        del tokens
        self.link_sources_ = frozenset(link.source_url for link in links)
        if graph.nnz == 0:
            raise NothingToLearn(
                "no editorial link joins two articles of the corpus: nothing to learn"
            )
        # Every archived article as a query: its strongest terms (see _queries_of_rows)
        self.tfidf_queries_ = self._tfidf_queries(self.tfidf_.matrix_)
        self.bm25_queries_ = self._bm25_queries(self.bm25_.queries_)
        self.featurizer_ = PairFeaturizer(
            tfidf=self.tfidf_.matrix_,
            tfidf_queries=self.tfidf_queries_,
            bm25_weights=self.bm25_.weights_,
            titles=self._titles(articles),
            graph=graph,
            published=self.published_,
            rubriques=self.rubriques_,
            tags=[frozenset(a.tags) for a in articles],
            folders=[url_folder(a.url) for a in articles],
            n_candidates=int(self.n_candidates),
            before_only=self.before_only_,
            index_depth=self.index_depth,
        )
        sources = self._training_sources(graph)
        truth_keys = self._truth_keys(graph)
        train_rows, validation_rows = self._validation_split(sources)
        existing = self._sample(self._pairs(sources), truth_keys)
        cold = existing.select(existing.from_text)
        cold.X = cold.X[:, COLD_COLUMNS]
        pairs = {False: existing, True: cold}
        labels = {key: self._labels(block, truth_keys) for key, block in pairs.items()}
        if not _both_classes(labels[False]):
            raise NothingToLearn(
                "the editorial links are never among the candidates (or are all of them): "
                "nothing to learn"
            )
        if not _both_classes(labels[True]):  # no linked page among the text candidates
            pairs[True] = PairBlock(
                existing.sources, existing.targets, existing.X[:, COLD_COLUMNS], existing.from_text
            )
            labels[True] = labels[False]
        grid = list(self.param_grid) if self.param_grid is not None else list(DEFAULT_GRID)
        fit_parts = {key: np.isin(block.sources, train_rows) for key, block in pairs.items()}
        self.validation_scores_: list[dict[str, Any]] = []
        if all(_both_classes(labels[key][fit_parts[key]]) for key in pairs):
            for params in grid:
                scores = {}
                for is_cold, block in pairs.items():
                    part = fit_parts[is_cold]
                    model = self._classifier(params).fit(block.X[part], labels[is_cold][part])
                    scores["cold" if is_cold else "existing"] = self._validation_ndcg(
                        model, block, validation_rows, graph
                    )
                self.validation_scores_.append({"params": dict(params), **scores})
        else:  # too few pages with links to hold some out: the first setting
            self.validation_scores_.append(
                {"params": dict(grid[0]), "existing": None, "cold": None}
            )
            self.best_params_ = self.best_cold_params_ = dict(grid[0])
        if self.validation_scores_[0]["existing"] is not None:
            best = max(self.validation_scores_, key=lambda s: (s["existing"], s["cold"]))
            best_cold = max(self.validation_scores_, key=lambda s: s["cold"])
            self.best_params_ = best["params"]
            self.best_cold_params_ = best_cold["params"]
        self.ranker_ = self._classifier(self.best_params_).fit(pairs[False].X, labels[False])
        self.cold_ranker_ = self._classifier(self.best_cold_params_).fit(
            pairs[True].X, labels[True]
        )
        return self

    def _analyser(self) -> TextAnalyzer:
        """The analyser of both fitted text models (built with the same defaults)."""
        analyser: TextAnalyzer = self.tfidf_.vectorizer_.analyzer
        return analyser

    def _check_params(self) -> None:
        for name in ("n_candidates", "n_explain"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if self.n_candidates < 1:
            raise ValueError(f"n_candidates must be >= 1, got {self.n_candidates!r}")
        for name in ("query_terms", "index_depth", "max_train_sources"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1
            ):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        check_fraction(self.validation_fraction, "validation_fraction")
        if self.before_only not in (True, False, "auto"):
            raise ValueError(f"before_only must be True, False or 'auto', got {self.before_only!r}")

    def _forward_share(self, graph: sparse.csr_matrix) -> float:
        """The share of the links between two dated articles whose target was published
        more than a day after its source (0.0 when no link has both dates)."""
        sources, targets = graph.nonzero()
        times_from, times_to = self.published_[sources], self.published_[targets]
        dated = ~(np.isnan(times_from) | np.isnan(times_to))
        if not dated.any():
            return 0.0
        forward = times_to[dated] > times_from[dated] + 86400.0
        return float(forward.mean())

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
        return sparse.csr_matrix(normalize(titles), dtype=np.float32)

    def _validation_split(self, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sources held out for validation, by the evaluation's own rule."""
        split = hold_out(
            [self.urls_[row] for row in sources],
            self.published_[sources],
            self.validation_fraction,
            self.random_state,
            minimum=1,
        )
        return sources[split.kept], sources[split.held]

    def _training_sources(self, graph: sparse.csr_matrix) -> np.ndarray:
        """Rows with links, a seeded sample of ``max_train_sources`` when more."""
        sources = np.flatnonzero(np.diff(graph.indptr) > 0)
        limit = self.max_train_sources
        if limit is not None and sources.size > limit:
            rng = np.random.RandomState(self.random_state)
            sources = np.sort(rng.choice(sources, size=limit, replace=False))
        return sources

    def _truth_keys(self, graph: sparse.csr_matrix) -> np.ndarray:
        """``source * n + target`` of every link, sorted."""
        rows = np.repeat(np.arange(graph.shape[0]), np.diff(graph.indptr))
        return np.sort(rows * graph.shape[1] + graph.indices)

    def _labels(self, block: PairBlock, truth_keys: np.ndarray) -> np.ndarray:
        keys = block.sources * len(self.urls_) + block.targets
        return np.isin(keys, truth_keys).astype(np.int8)

    def _sample(self, block: PairBlock, truth_keys: np.ndarray) -> PairBlock:
        """Every positive pair, and at most MAX_NEGATIVES negatives per source (seeded)."""
        labels = self._labels(block, truth_keys)
        keys = np.random.RandomState(self.random_state).random_sample(labels.size)
        keys[labels == 1] = -1.0  # positives first, then a random order
        order = np.lexsort((keys, block.sources))
        sources = block.sources[order]
        starts = np.searchsorted(sources, sources)  # first pair of each pair's source
        positives = np.bincount(block.sources[labels == 1], minlength=sources.max(initial=0) + 1)
        position = np.arange(sources.size) - starts
        keep = order[position < positives[sources] + MAX_NEGATIVES]
        keep.sort()
        return block.select(keep)

    def _validation_ndcg(
        self,
        model: HistGradientBoostingClassifier,
        block: PairBlock,
        rows: np.ndarray,
        graph: sparse.csr_matrix,
    ) -> float:
        part = np.isin(block.sources, rows)
        sources, targets = block.sources[part], block.targets[part]
        scores = model.predict_proba(block.X[part])[:, 1]
        order = np.lexsort((targets, -scores, sources))
        sources, targets = sources[order], targets[order]
        values = []
        for row in rows:
            lo, hi = np.searchsorted(sources, [row, row + 1])
            truth = graph.indices[graph.indptr[row] : graph.indptr[row + 1]]
            ranked = [int(t) for t in targets[lo : min(hi, lo + 10)]]
            values.append(ndcg_at_k(ranked, {int(t) for t in truth}, 10))
        return float(np.mean(values)) if values else 0.0

    # -- pairs -------------------------------------------------------------------------

    def _queries_of_rows(self, rows: np.ndarray) -> dict[str, Any]:
        f = self.featurizer_
        return {
            "tfidf_queries": self.tfidf_queries_[rows],
            "bm25_queries": self.bm25_queries_[rows],
            "title_queries": f.titles[rows],
            "metadata": f.metadata_of_rows(rows),
        }

    def _queries_of_articles(self, articles: Sequence[Article]) -> dict[str, Any]:
        # One analysis of the new texts for both models, as in fit.
        tokens = [self._analyser()(text) for text in self.tfidf_._documents(articles)]
        tfidf = self.tfidf_.vectorizer_.transform(tokens)
        return {
            "tfidf_vectors": sparse.csr_matrix(tfidf),  # whole, to explain suggestions
            "tfidf_queries": self._tfidf_queries(tfidf),
            "bm25_queries": self._bm25_queries(
                self.bm25_.transform_queries(articles, tokens=tokens)
            ),
            "title_queries": self._titles(articles),
            "metadata": self.featurizer_.encode(
                np.array([to_timestamp(a.published) for a in articles], dtype=np.float64),
                [a.rubrique or None for a in articles],
                [frozenset(a.tags) for a in articles],
                [url_folder(a.url) for a in articles],
            ),
        }

    def _tfidf_queries(self, vectors: sparse.csr_matrix) -> sparse.csr_matrix:
        return prune_rows(vectors, self.query_terms).astype(np.float32)

    def _bm25_queries(self, queries: sparse.csr_matrix) -> sparse.csr_matrix:
        # The rarest terms carry a BM25 query: keep those.
        weighted = sparse.csr_matrix(queries.multiply(self.bm25_.idf_[None, :]))
        return _binary(prune_rows(weighted, self.query_terms)).astype(np.float32)

    def _pairs(self, rows: np.ndarray) -> PairBlock:
        """Candidate pairs of archived sources (all features), sources as fitted rows."""
        step = self.featurizer_.block_size()
        blocks = []
        for start in range(0, rows.size, step):
            part = rows[start : start + step]
            block = self.featurizer_.pairs(**self._queries_of_rows(part), rows=part, cold=False)
            block.sources = part[block.sources]
            blocks.append(block)
        return PairBlock.concatenate(blocks, len(FEATURES))

    # -- suggestions -------------------------------------------------------------------

    def recommend(self, url: str, k: int = 10) -> list[Suggestion]:
        """The ``k`` best candidates for an archived article."""
        return self.recommend_all(k, urls=[url])[url]

    def recommend_all(
        self,
        k: int = 10,
        urls: Sequence[str] | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, list[Suggestion]]:
        """Lists for archived articles (their own links never read), block by block
        (``n_jobs`` blocks at a time); ``progress(done, total)`` after each block."""
        check_is_fitted(self)
        k = check_k(k)
        urls = list(self.urls_) if urls is None else list(urls)
        rows = np.array([self.index_.get(url, -1) for url in urls], dtype=np.intp)
        if (rows < 0).any():
            self._row(urls[int(np.argmax(rows < 0))])  # raises the KeyError

        def lists_of(part: np.ndarray) -> list[list[Suggestion]]:
            block = self.featurizer_.pairs(**self._queries_of_rows(part), rows=part, cold=False)
            explain = (self.tfidf_queries_[part], self.tfidf_.matrix_[part])
            return self._rank(block, part.size, self.ranker_, k, explain)

        lists = self._by_blocks(lists_of, rows, progress)
        return dict(zip(urls, lists, strict=True))

    def recommend_new(
        self, articles: Sequence[Article], k: int = 10
    ) -> dict[str, list[Suggestion]]:
        """Cold start: each article as new and unseen (text and metadata only; its own
        url, if archived, is never suggested)."""
        check_is_fitted(self)
        k = check_k(k)
        articles = list(articles)

        def lists_of(part: np.ndarray) -> list[list[Suggestion]]:
            chosen = [articles[i] for i in part]
            queries = self._queries_of_articles(chosen)
            vectors = queries.pop("tfidf_vectors")  # for the explanations only
            block = self.featurizer_.pairs(**queries, rows=None, cold=True)
            own = np.array([self.index_.get(a.url, -1) for a in chosen])
            block = block.select(block.targets != own[block.sources])
            explain = (queries["tfidf_queries"], vectors)
            return self._rank(block, part.size, self.cold_ranker_, k, explain)

        lists = self._by_blocks(lists_of, np.arange(len(articles)))
        return {a.url: found for a, found in zip(articles, lists, strict=True)}

    def _by_blocks(
        self,
        lists_of: Callable[[np.ndarray], list[list[Suggestion]]],
        items: np.ndarray,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[list[Suggestion]]:
        """``lists_of`` each block of ``items``, in order, in ``n_jobs`` threads (the
        sparse products, sorts and the ranker release the GIL)."""
        step = self.featurizer_.block_size()
        parts = [items[start : start + step] for start in range(0, items.size, step)]
        n_jobs = effective_n_jobs(self.n_jobs)
        results: list[list[Suggestion]] = []
        with self._threads(), ThreadPoolExecutor(max(1, n_jobs)) as pool:
            blocks = map(lists_of, parts) if n_jobs == 1 else pool.map(lists_of, parts)
            for lists in blocks:
                results += lists
                if progress is not None:
                    progress(len(results), items.size)
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

    def _shared_terms(
        self,
        explain: tuple[sparse.csr_matrix, sparse.csr_matrix],
        sources: np.ndarray,
        targets: np.ndarray,
    ) -> list[tuple[str, ...]]:
        """Terms explaining each pair: first from both sides' strongest terms (gathering
        whole target vectors for every pair would cost more than the ranking); a pair
        left with none is explained again on whole vectors."""
        queries, whole = explain
        tfidf = self.tfidf_
        terms = tfidf.shared_terms_of_pairs(queries, sources, targets, self.tfidf_queries_)
        short: np.ndarray | list[bool] = (
            np.array([not found for found in terms], dtype=bool) if self.n_explain else []
        )
        if np.any(short):
            again = tfidf.shared_terms_of_pairs(whole, sources[short], targets[short])
            for position, found in zip(np.flatnonzero(short).tolist(), again, strict=True):
                terms[position] = found
        return terms

    def _rank(
        self,
        block: PairBlock,
        n_sources: int,
        ranker: HistGradientBoostingClassifier,
        k: int,
        explain: tuple[sparse.csr_matrix, sparse.csr_matrix],
    ) -> list[list[Suggestion]]:
        """The best ``k`` pairs of each source, as suggestions (OpenMP threads limited
        by the caller). ``explain``: the sources' query vectors and whole vectors."""
        scores = ranker.predict_proba(block.X)[:, 1] if block.X.shape[0] else np.zeros(0)
        order = np.lexsort((block.targets, -scores, block.sources))
        sources = block.sources[order]
        starts = np.searchsorted(sources, sources)
        best = order[np.arange(order.size) - starts < k]  # still by source, then score
        sources, targets, scores = block.sources[best], block.targets[best], scores[best]
        terms = self._shared_terms(explain, sources, targets)
        target_urls = self.urls_[targets].tolist()
        scores = scores.tolist()
        suggestions = list(map(Suggestion, target_urls, scores, terms))
        bounds = np.searchsorted(sources, np.arange(n_sources + 1)).tolist()
        return [suggestions[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
