"""Candidates and pair features for the learned recommender.

For a block of source articles, :class:`PairFeaturizer` gathers candidate targets (the
best by TF-IDF, by BM25 and, for archived sources, by the link graph) and describes
each (source, target) pair with numbers a ranker can learn from.

Everything stays sparse, so the cost grows with the candidates, not with the square of
the archive: scores come from sparse products against *pruned* posting lists (each
term keeps the ``index_depth`` articles where it weighs most), each source keeps its
best ``n_candidates`` per kind by a per-row selection on the nonzero scores, and the
features of the chosen pairs are read back through one reusable block buffer.

The link graph is read without the source's own out-links: a page's related block is
what we want to predict, so none of its links may describe it. What other pages link
(to the source, or to the source and the target together) may be used: it is known
when a site regenerates its lists. A new article (cold start) has no place in the graph;
its pairs carry the text, metadata and target-only features, and the graph columns are
left out (see ``COLD_FEATURES``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from scipy import sparse

from ..candidates import published_after
from .sparse_rows import block_rows, prune_rows, top_per_row

__all__ = [
    "COLD_FEATURES",
    "FEATURES",
    "Metadata",
    "PairBlock",
    "PairFeaturizer",
    "url_folder",
]

#: Every feature, in column order.
FEATURES = (
    "tfidf_cosine",  # source query (its strongest terms) against the target's vector
    "tfidf_rank",  # 1 / rank of the target among the source's TF-IDF candidates, 0 beyond
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
#: Columns of FEATURES that COLD_FEATURES keeps.
COLD_COLUMNS = np.array([FEATURES.index(name) for name in COLD_FEATURES])

#: A source's head of TF-IDF and BM25 scores, in multiples of ``n_candidates``.
HEAD_FACTOR = 3
#: Folder levels compared by ``same_folder``.
_MAX_FOLDERS = 8
#: Code of a metadata value that the fitted archive never saw (differs from all).
_UNSEEN = -2


def url_folder(url: str) -> tuple[str, ...]:
    """The folders of a URL's path (site excluded), e.g. ``("news", "sante")``."""
    parts = urlsplit(url).path.split("/")
    return tuple(part for part in parts[1:-1] if part)


@dataclass
class Metadata:
    """Sources' metadata, encoded against the fitted archive's."""

    published: np.ndarray  # POSIX seconds, NaN unknown
    rubriques: np.ndarray  # code, -1 unknown, -2 unseen
    tags: sparse.csr_matrix  # sources x fitted tags, 1 where tagged
    n_tags: np.ndarray  # every tag counted, seen or not
    folders: np.ndarray  # sources x levels: code of each folder prefix, -1 none, -2 unseen
    folder_depth: np.ndarray


@dataclass
class PairBlock:
    """Candidate pairs: ``sources[i]`` (a source position, or a fitted row once
    gathered), ``targets[i]`` (a fitted row), ``X[i]`` their features, and
    ``from_text[i]``: the candidate came from TF-IDF or BM25 (what cold start has)."""

    sources: np.ndarray
    targets: np.ndarray
    X: np.ndarray
    from_text: np.ndarray

    def select(self, keep: np.ndarray) -> PairBlock:
        return PairBlock(self.sources[keep], self.targets[keep], self.X[keep], self.from_text[keep])

    @classmethod
    def concatenate(cls, blocks: Sequence[PairBlock], n_features: int) -> PairBlock:
        if not blocks:
            empty = np.zeros(0, dtype=np.intp)
            return cls(empty, empty, np.zeros((0, n_features)), np.zeros(0, dtype=bool))
        return cls(
            np.concatenate([b.sources for b in blocks]),
            np.concatenate([b.targets for b in blocks]),
            np.vstack([b.X for b in blocks]),
            np.concatenate([b.from_text for b in blocks]),
        )


@dataclass
class PairFeaturizer:
    """Everything fitted that pair features read (built by LearnedRecommender.fit).

    Queries are blocks of sources, either fitted articles (``rows`` given) or new ones
    (cold start), described by their TF-IDF, BM25 and title query vectors and their
    :class:`Metadata`.
    """

    tfidf: sparse.csr_matrix  # n x terms, L2
    tfidf_queries: sparse.csr_matrix  # n x terms: each row's strongest terms
    bm25_weights: sparse.csr_matrix  # n x terms
    titles: sparse.csr_matrix  # n x terms, L2
    graph: sparse.csr_matrix  # n x n, 1 where row's block links column
    published: np.ndarray  # POSIX seconds, NaN unknown
    rubriques: np.ndarray  # object, None unknown
    tags: list[frozenset[str]]
    folders: list[tuple[str, ...]]
    n_candidates: int
    before_only: bool
    index_depth: int | None = None

    def __post_init__(self) -> None:
        def index(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
            # float32 halves the memory the products stream through; scores need no more
            return prune_rows(sparse.csr_matrix(matrix.T), self.index_depth).astype(np.float32)

        self.tfidf_index = index(self.tfidf)
        self.bm25_index = index(self.bm25_weights)
        self.title_index = index(self.titles)
        self.graph_t = sparse.csr_matrix(self.graph.T)
        self.in_degree = np.asarray(self.graph.sum(axis=0)).ravel()
        self.out_degree = np.asarray(self.graph.sum(axis=1)).ravel()
        self.rubrique_codes = {r: i for i, r in enumerate(sorted({r for r in self.rubriques if r}))}
        self.tag_codes = {t: i for i, t in enumerate(sorted(set().union(*self.tags)))}
        self.folder_codes: dict[tuple[str, ...], int] = {}
        for folders in self.folders:
            for level in range(1, min(len(folders), _MAX_FOLDERS) + 1):
                self.folder_codes.setdefault(folders[:level], len(self.folder_codes))
        self.metadata = self.encode(self.published, self.rubriques, self.tags, self.folders)
        self._local = threading.local()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["_local"]  # the block buffers are scratch space: never saved
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    @property
    def n_articles(self) -> int:
        return self.tfidf.shape[0]

    def block_size(self) -> int:
        """Sources per block: the block buffer (float32) stays under ``MAX_BLOCK_CELLS``."""
        return block_rows(self.n_articles, 2048)

    def encode(
        self,
        published: np.ndarray,
        rubriques: Sequence[str | None] | np.ndarray,
        tags: Sequence[frozenset[str]],
        folders: Sequence[tuple[str, ...]],
    ) -> Metadata:
        """Encode sources' metadata with the fitted archive's codes."""
        n = len(rubriques)
        codes = self.rubrique_codes
        rubrique = np.array([codes.get(r, _UNSEEN) if r else -1 for r in rubriques], np.intp)
        tag_rows = [[self.tag_codes[t] for t in ts if t in self.tag_codes] for ts in tags]
        indptr = np.concatenate(([0], np.cumsum([len(r) for r in tag_rows])))
        indices = np.fromiter((c for r in tag_rows for c in r), np.intp, count=int(indptr[-1]))
        tag_matrix = sparse.csr_matrix(
            (np.ones(indices.size), indices, indptr), shape=(n, max(len(self.tag_codes), 1))
        )
        folder = np.full((n, _MAX_FOLDERS), -1, dtype=np.intp)
        for i, path in enumerate(folders):
            for level in range(min(len(path), _MAX_FOLDERS)):
                folder[i, level] = self.folder_codes.get(path[: level + 1], _UNSEEN)
        return Metadata(
            published=np.asarray(published, dtype=np.float64),
            rubriques=rubrique,
            tags=tag_matrix,
            n_tags=np.array([len(ts) for ts in tags], dtype=np.float64),
            folders=folder,
            folder_depth=np.array([len(path) for path in folders], dtype=np.float64),
        )

    def metadata_of_rows(self, rows: np.ndarray) -> Metadata:
        m = self.metadata
        return Metadata(
            m.published[rows],
            m.rubriques[rows],
            m.tags[rows],
            m.n_tags[rows],
            m.folders[rows],
            m.folder_depth[rows],
        )

    # -- one block ---------------------------------------------------------------------

    def pairs(
        self,
        *,
        tfidf_queries: sparse.csr_matrix,
        bm25_queries: sparse.csr_matrix,
        title_queries: sparse.csr_matrix,
        metadata: Metadata,
        rows: np.ndarray | None,
        cold: bool,
    ) -> PairBlock:
        """Candidates and features of one block of sources.

        ``rows`` are the sources' fitted rows (None for new articles: nothing excluded,
        no graph). ``cold`` drops the graph candidates and the graph features (the
        columns of ``COLD_FEATURES``); otherwise every column of ``FEATURES``.
        """
        n_sources = tfidf_queries.shape[0]
        use_graph = rows is not None and not cold
        # Each text score keeps a head of HEAD_FACTOR x n_candidates per source: the
        # first n_candidates are candidates, the whole head gives the features (a
        # score beyond a source's head reads as 0).
        head = HEAD_FACTOR * self.n_candidates
        tfidf = self._top(tfidf_queries @ self.tfidf_index, metadata, rows, head)
        bm25 = self._top(bm25_queries @ self.bm25_index, metadata, rows, head)
        kinds = [tfidf, bm25]
        if use_graph:
            in_links = sparse.csr_matrix(self.graph_t[rows])  # [i, t]: t links to the source
            co_cited = sparse.csr_matrix(in_links @ self.graph)
            kinds += [  # copies: _top zeroes banned entries, and both are read below
                self._top(in_links.copy(), metadata, rows, self.n_candidates),
                self._top(co_cited.copy(), metadata, rows, self.n_candidates),
            ]
        n = self.n_articles
        kind_keys = [
            kind[0][kind[3] < self.n_candidates] * n + kind[1][kind[3] < self.n_candidates]
            for kind in kinds
        ]  # (source, target) of each kind's candidates, as source * n + target
        text_keys = _unique(np.concatenate(kind_keys[:2]))
        keys = _unique(np.concatenate(kind_keys))
        source, target = keys // n, keys % n
        from_text = np.isin(keys, text_keys, assume_unique=True)

        buffer = Buffer(self._scratch(n_sources * n), n, source, target)
        bm25_best = np.zeros(n_sources)
        bm25_best[bm25[0][bm25[3] == 0]] = bm25[2][bm25[3] == 0]
        columns: dict[str, np.ndarray] = {
            "tfidf_cosine": buffer.read_entries(*tfidf[:3]),
            "tfidf_rank": buffer.read_entries(*tfidf[:2], 1.0 / (1.0 + tfidf[3])),
            "bm25_score": buffer.read_entries(*bm25[:3]) / np.maximum(bm25_best[source], 1e-12),
            "bm25_rank": buffer.read_entries(*bm25[:2], 1.0 / (1.0 + bm25[3])),
            "title_title_cosine": buffer.read(title_queries @ self.title_index),
            "title_body_cosine": _pair_dot(title_queries, self.tfidf_queries, source, target),
        }
        columns.update(self._metadata_features(metadata, source, target))
        popularity = self.in_degree[target].astype(np.float64)
        if rows is not None:  # the source's own link to the target does not count
            popularity -= buffer.read(sparse.csr_matrix(self.graph[rows]))
        columns["target_popularity"] = np.log1p(np.maximum(popularity, 0))
        columns["target_out_links"] = np.log1p(self.out_degree[target])
        if not cold:
            if use_graph:
                columns["target_links_source"] = buffer.read(in_links)
                columns["co_cited"] = np.log1p(buffer.read(co_cited))
                columns["source_in_links"] = np.log1p(self.in_degree[rows][source])
            else:
                for name in ("target_links_source", "co_cited", "source_in_links"):
                    columns[name] = np.zeros(source.size)
        names = COLD_FEATURES if cold else FEATURES
        X = np.empty((source.size, len(names)))
        for j, name in enumerate(names):
            X[:, j] = columns[name]
        # Unknown (NaN) becomes -1, below every real value: a column with nothing known
        # (no site dates, no rubriques) must still be a column the ranker can bin.
        np.nan_to_num(X, copy=False, nan=-1.0)
        return PairBlock(source, target, X, from_text)

    def _scratch(self, size: int) -> np.ndarray:
        # Kept from block to block (one per thread): a fresh array of this size would
        # cost its page faults again on every block.
        cells = getattr(self._local, "cells", None)
        if cells is None or cells.size < size:
            cells = self._local.cells = np.zeros(size, dtype=np.float32)
        return cells

    def _top(
        self, scores: sparse.csr_matrix, metadata: Metadata, rows: np.ndarray | None, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The ``n`` best allowed targets of each source: (source, target, score, rank).

        Allowed: never the source itself, nor (before_only) an article published
        after it. The scores of the others are set to 0 in ``scores`` itself (no copy:
        the products are temporaries).
        """
        scores = sparse.csr_matrix(scores)
        lengths = np.diff(scores.indptr)
        if rows is not None:
            np.putmask(scores.data, scores.indices == np.repeat(rows, lengths), 0)
        if self.before_only:  # NaN on either side compares False: kept
            newer = published_after(
                self.published[scores.indices], np.repeat(metadata.published, lengths)
            )
            np.putmask(scores.data, newer, 0)  # top_per_row keeps positive scores only
        return top_per_row(scores, n)

    def _metadata_features(
        self, metadata: Metadata, source: np.ndarray, target: np.ndarray
    ) -> dict[str, np.ndarray]:
        fitted = self.metadata
        mine, theirs = metadata.rubriques[source], fitted.rubriques[target]
        known = (mine != -1) & (theirs != -1)
        same_rubrique = np.where(known, (mine == theirs).astype(np.float64), np.nan)

        shared = np.asarray(metadata.tags[source].multiply(fitted.tags[target]).sum(axis=1)).ravel()
        n_mine, n_theirs = metadata.n_tags[source], fitted.n_tags[target]
        union = n_mine + n_theirs - shared
        with np.errstate(invalid="ignore", divide="ignore"):
            shared_tags = np.where((n_mine > 0) & (n_theirs > 0), shared / union, np.nan)

        # A folder code stands for the whole path down to it: equal codes at a level
        # mean the same path so far, so the levels in common are the equal codes.
        mine, theirs = metadata.folders[source], fitted.folders[target]
        common = ((mine == theirs) & (theirs >= 0)).sum(axis=1)
        deepest = np.maximum(metadata.folder_depth[source], fitted.folder_depth[target])
        with np.errstate(invalid="ignore", divide="ignore"):
            same_folder = np.where(deepest > 0, common / deepest, 1.0)

        return {
            "same_rubrique": same_rubrique,
            "shared_tags": shared_tags,
            "date_gap_days": np.abs(metadata.published[source] - fitted.published[target]) / 86400,
            "same_folder": same_folder,
        }


def _pair_dot(
    a: sparse.csr_matrix, b: sparse.csr_matrix, rows_a: np.ndarray, rows_b: np.ndarray
) -> np.ndarray:
    """``a[rows_a[i]] . b[rows_b[i]]`` for every i."""
    return np.asarray(a[rows_a].multiply(b[rows_b]).sum(axis=1), dtype=np.float64).ravel()


def _unique(keys: np.ndarray) -> np.ndarray:
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if keys.size else keys


class Buffer:
    """Reads the values of a block's candidate pairs out of sparse score blocks.

    A zeroed float32 array of (sources x articles) cells, filled with a score block's
    nonzeros, read at the pairs, then cleared again: a lookup in constant time per pair,
    with no sort of the scores. The array is zero again after every read.
    """

    def __init__(self, cells: np.ndarray, n_articles: int, source: np.ndarray, target: np.ndarray):
        self.cells = cells
        self.n_articles = n_articles
        self.pairs = source * n_articles + target

    def read(self, scores: sparse.csr_matrix) -> np.ndarray:
        scores = sparse.csr_matrix(scores)
        source = np.repeat(np.arange(scores.shape[0]), np.diff(scores.indptr))
        return self.read_entries(source, scores.indices, scores.data)

    def read_entries(
        self, source: np.ndarray, target: np.ndarray, values: np.ndarray
    ) -> np.ndarray:
        where = source * self.n_articles + target
        self.cells[where] = values
        found = self.cells[self.pairs].astype(np.float64)
        self.cells[where] = 0.0
        return found
