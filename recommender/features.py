"""Candidates and pair features for the learned recommender.

For a block of source articles, :class:`PairFeaturizer` gathers candidate targets (the
best by TF-IDF, by BM25 and, for archived sources, by the link graph) and describes
each (source, target) pair with numbers a ranker can learn from.

The link graph is read without the source's own out-links: a page's related block is
what we want to predict, so none of its links may describe it. What other pages link
(to the source, or to the source and the target together) may be used: it is known
when a site regenerates its lists. A new article (cold start) has no place in the graph;
its pairs carry the text, metadata and target-only features, and the graph columns are
left out (see ``COLD_FEATURES``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from scipy import sparse

__all__ = ["COLD_FEATURES", "FEATURES", "PairBlock", "PairFeaturizer", "url_folder"]

#: Every feature, in column order.
FEATURES = (
    "tfidf_cosine",  # whole text, source query pruned to its strongest terms
    "tfidf_rank",  # 1 / rank of the target among the source's TF-IDF scores
    "bm25_score",  # BM25 score divided by the source's best
    "bm25_rank",
    "title_title_cosine",
    "title_body_cosine",  # source title against target text
    "same_rubrique",  # 1, 0, or -1 when either is unknown
    "shared_tags",  # Jaccard of tag sets, -1 when either has none
    "date_gap_days",  # |source - target| in days, -1 when unknown
    "same_folder",  # share of the URL folder path in common (0..1)
    "target_popularity",  # log(1 + editorial in-links of the target), own link excluded
    "target_out_links",  # log(1 + out-links of the target)
    "target_links_source",  # the target's related block names the source
    "co_cited",  # log(1 + pages whose block names both the source and the target)
    "source_in_links",  # log(1 + pages whose block names the source)
)
#: What a new article can have: no graph feature about the source.
COLD_FEATURES = tuple(
    name for name in FEATURES if name not in ("target_links_source", "co_cited", "source_in_links")
)


def url_folder(url: str) -> tuple[str, ...]:
    """The folders of a URL's path (site excluded), e.g. ``("news", "sante")``."""
    parts = urlsplit(url).path.split("/")
    return tuple(part for part in parts[1:-1] if part)


def _folder_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if not a and not b:
        return 1.0
    common = 0
    for x, y in zip(a, b, strict=False):  # the common prefix
        if x != y:
            break
        common += 1
    return common / max(len(a), len(b))


@dataclass
class PairBlock:
    """The candidate pairs of a block of sources: ``sources[i]`` (an index into the
    block's queries), ``targets[i]`` (a fitted row) and ``X[i]`` their features."""

    sources: np.ndarray
    targets: np.ndarray
    X: np.ndarray


@dataclass
class PairFeaturizer:
    """Everything fitted that pair features read (built by LearnedRecommender.fit).

    Queries (rows of ``tfidf_queries`` etc.) are either fitted articles (``rows`` given)
    or new ones (cold start).
    """

    tfidf: sparse.csr_matrix  # n x terms, L2
    bm25_weights: sparse.csr_matrix  # n x terms
    titles: sparse.csr_matrix  # n x terms, L2
    graph: sparse.csr_matrix  # n x n, 1 where row's block links column
    published: np.ndarray  # POSIX seconds, NaN unknown
    rubriques: np.ndarray  # object, None unknown
    tags: list[frozenset[str]]
    folders: list[tuple[str, ...]]
    n_candidates: int
    before_only: bool

    def __post_init__(self) -> None:
        self.graph_t = sparse.csr_matrix(self.graph.T)
        self.in_degree = np.asarray(self.graph.sum(axis=0)).ravel()
        self.out_degree = np.asarray(self.graph.sum(axis=1)).ravel()
        self.tfidf_t = sparse.csr_matrix(self.tfidf.T)
        self.bm25_t = sparse.csr_matrix(self.bm25_weights.T)
        self.titles_t = sparse.csr_matrix(self.titles.T)

    @property
    def n_articles(self) -> int:
        return self.tfidf.shape[0]

    def block_size(self, max_cells: int = 1 << 22) -> int:
        return max(1, min(512, max_cells // max(self.n_articles, 1)))

    def pairs(
        self,
        *,
        tfidf_queries: sparse.csr_matrix,
        bm25_queries: sparse.csr_matrix,
        title_queries: sparse.csr_matrix,
        published: np.ndarray,
        rubriques: np.ndarray,
        tags: list[frozenset[str]],
        folders: list[tuple[str, ...]],
        rows: np.ndarray | None,
        cold: bool,
    ) -> PairBlock:
        """Candidates and features of one block of queries.

        ``rows`` are the queries' fitted rows (None for new articles: excluded from
        nothing, no graph). ``cold`` drops the graph features and graph candidates.
        """
        n_queries = tfidf_queries.shape[0]
        dense = lambda m: np.asarray(m.todense(), dtype=np.float64)  # noqa: E731
        tfidf = dense(tfidf_queries @ self.tfidf_t)
        bm25 = dense(bm25_queries @ self.bm25_t)
        title = dense(title_queries @ self.titles_t)
        title_body = dense(title_queries @ self.tfidf_t)
        use_graph = rows is not None and not cold
        if rows is not None:
            own = dense(self.graph[rows])  # the source's own links: only to subtract them
        if use_graph:
            in_links = dense(self.graph_t[rows])  # [i, t]: t links to the source
            co_cited = dense(self.graph_t[rows] @ self.graph)  # pages naming both
        allowed = np.ones((n_queries, self.n_articles), dtype=bool)
        if rows is not None:
            allowed[np.arange(n_queries), rows] = False
        if self.before_only:
            newer = self.published[None, :] > published[:, None]  # NaN compares False
            allowed &= ~newer

        n = self.n_candidates
        chosen = np.zeros_like(allowed)
        for scores in (tfidf, bm25) + ((in_links, co_cited) if use_graph else ()):
            masked = np.where(allowed & (scores > 0), scores, -np.inf)
            top = np.argpartition(-masked, min(n, self.n_articles - 1), axis=1)[:, :n]
            picked = np.take_along_axis(masked, top, axis=1) > -np.inf
            np.put_along_axis(chosen, top, picked | np.take_along_axis(chosen, top, axis=1), 1)
        source, target = np.nonzero(chosen)

        def rank_feature(scores: np.ndarray) -> np.ndarray:
            order = np.argsort(-np.where(allowed, scores, -np.inf), axis=1, kind="stable")
            ranks = np.empty_like(order)
            np.put_along_axis(ranks, order, np.arange(self.n_articles)[None, :], axis=1)
            return 1.0 / (1.0 + ranks[source, target])

        best_bm25 = np.where(allowed, bm25, 0).max(axis=1)
        columns: dict[str, np.ndarray] = {
            "tfidf_cosine": tfidf[source, target],
            "tfidf_rank": rank_feature(tfidf),
            "bm25_score": bm25[source, target] / np.maximum(best_bm25[source], 1e-12),
            "bm25_rank": rank_feature(bm25),
            "title_title_cosine": title[source, target],
            "title_body_cosine": title_body[source, target],
        }
        src_rub, tgt_rub = rubriques[source], self.rubriques[target]
        known = np.array(
            [a is not None and b is not None for a, b in zip(src_rub, tgt_rub, strict=True)]
        )
        same = np.array([a == b for a, b in zip(src_rub, tgt_rub, strict=True)], dtype=np.float64)
        columns["same_rubrique"] = np.where(known, same, np.nan)
        columns["shared_tags"] = np.array(
            [
                len(tags[s] & self.tags[t]) / len(tags[s] | self.tags[t])
                if tags[s] and self.tags[t]
                else math.nan
                for s, t in zip(source, target, strict=True)
            ]
        )
        columns["date_gap_days"] = np.abs(published[source] - self.published[target]) / 86400
        columns["same_folder"] = np.array(
            [
                _folder_overlap(folders[s], self.folders[t])
                for s, t in zip(source, target, strict=True)
            ]
        )
        popularity = self.in_degree[target].astype(np.float64)
        if rows is not None:
            popularity = popularity - own[source, target]
        columns["target_popularity"] = np.log1p(np.maximum(popularity, 0))
        columns["target_out_links"] = np.log1p(self.out_degree[target])
        if not cold:
            if use_graph:
                columns["target_links_source"] = in_links[source, target]
                columns["co_cited"] = np.log1p(co_cited[source, target])
                columns["source_in_links"] = np.log1p(self.in_degree[rows][source])
            else:
                for name in ("target_links_source", "co_cited", "source_in_links"):
                    columns[name] = np.zeros(source.size)
        names = FEATURES if not cold else COLD_FEATURES
        X = (
            np.column_stack([columns[name] for name in names])
            if source.size
            else np.zeros((0, len(names)))
        )
        # Unknown (NaN) becomes -1, below every real value: a column with nothing known
        # (no site dates, no rubriques) must still be a column the ranker can bin.
        X = np.nan_to_num(X, nan=-1.0)
        return PairBlock(source, target, X)
