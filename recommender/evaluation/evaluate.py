"""Judge fitted recommenders against the editors' own related links.

Evaluation never fits: it takes fitted models, the query urls and what the editors
linked from each query, and scores every model on the same queries.

Typical use::

    train, test, how = split_articles(articles)
    train_set = set(train)
    train_links = [link for link in links if link.source_url in train_set]
    relevant = relevant_targets(links, test)
    models = {name: model.fit(articles, train_links) for name, model in candidates.items()}
    report = evaluate(models, test, relevant, split=how)
    print(report.format_table())

Two protocols (``mode``):

``"existing"``
    The held-out page is in the archive and the model may use everything about it
    except its own outgoing editorial links: ``model.recommend_all(depth, urls=queries)``.
``"cold_start"``
    The held-out page is new: only its text and metadata are given,
    ``model.recommend_new(articles, depth)``.

In both, a model must never have been fitted with the links of a query: a model that
exposes ``link_sources_`` (the sources whose links it learned from) is checked, and
:func:`evaluate` refuses to score it if a query is among them.

Every per-query score comes with a 95% percentile bootstrap interval over queries
(:func:`bootstrap_interval`): the queries are resampled with replacement
``n_bootstrap`` times, with the same resamples for every method and metric.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import tabulate as tabulate_module
from scipy import stats
from tabulate import tabulate

from warehouse.model import Article, EditorialLink

from ..suggestion import Suggestion
from .metrics import (
    catalogue_coverage,
    hit_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
)

# Headers get no extra space: a column is as wide as its widest cell, header included.
tabulate_module.MIN_PADDING = 0

__all__ = [
    "AUTOMATIC_BASELINE",
    "AUTOMATIC_BASELINE_AT_CRAWL",
    "AUTOMATIC_BASELINE_TAG_AT_CRAWL",
    "AUTOMATIC_BASELINES",
    "AUTOMATIC_THRESHOLD",
    "MODES",
    "EvaluationReport",
    "EvaluationRow",
    "ListRow",
    "Recommender",
    "bootstrap_interval",
    "evaluate",
    "looks_automatic",
    "relevant_targets",
]

#: The two evaluation protocols, see the module docstring.
MODES = ("existing", "cold_start")

#: How each mode is described in reports.
MODE_TITLES = {
    "existing": "existing articles (the held-out pages are archived; their own links unseen)",
    "cold_start": "cold start (the held-out pages are new: only their text and metadata)",
}

#: The baseline that reproduces a CMS's automatic related block.
AUTOMATIC_BASELINE = "same rubrique, newest"
#: The same rule as the page is served: the rubrique's newest at crawl time, newer
#: articles included (a block rendered by the CMS on every request).
AUTOMATIC_BASELINE_AT_CRAWL = "same rubrique, newest at crawl"
#: ...and the same rule by tag: the newest sharing a tag with the page, at crawl time.
AUTOMATIC_BASELINE_TAG_AT_CRAWL = "same tag, newest at crawl"
AUTOMATIC_BASELINES = (
    AUTOMATIC_BASELINE,
    AUTOMATIC_BASELINE_AT_CRAWL,
    AUTOMATIC_BASELINE_TAG_AT_CRAWL,
)

#: When :data:`AUTOMATIC_BASELINE` reaches this ``R@k`` or ``nDCG@ndcg_k``, the related
#: block is taken to be automatic, see :func:`looks_automatic`.
AUTOMATIC_THRESHOLD = 0.9

AUTOMATIC_WARNING = (
    "the site's related block looks automatic (the newest articles of the same "
    "rubrique), not editorial: scores against it say little about editorial relatedness"
)

COVERAGE_NOTE = (
    "coverage@k has no interval: it is a property of the whole set of lists, not a mean "
    "over queries (resampling queries could only lower it)"
)


@runtime_checkable
class Recommender(Protocol):
    """What :func:`evaluate` needs of a fitted model.

    ``recommend_all`` serves the ``"existing"`` mode, ``recommend_new`` the
    ``"cold_start"`` mode. A model that learns from editorial links should expose
    ``link_sources_``, the set of source urls whose links it was fitted with, so that
    :func:`evaluate` can refuse a leak.
    """

    def recommend_all(
        self, k: int = 10, urls: Sequence[str] | None = None
    ) -> dict[str, list[Suggestion]]: ...

    def recommend_new(
        self, articles: Sequence[Article], k: int = 10
    ) -> dict[str, list[Suggestion]]: ...


def relevant_targets(
    links: Iterable[EditorialLink], urls: Iterable[str] | None = None
) -> dict[str, set[str]]:
    """What the editors linked from each source: the ground truth of :func:`evaluate`.

    Parameters
    ----------
    links : iterable of EditorialLink
        Editorial links between archived articles.
    urls : iterable of str or None, default=None
        Only keep these sources; ``None`` for every source.

    Returns
    -------
    dict of str to set of str
        Source url -> target urls, for sources with at least one link. Self-links are
        dropped (an article is never its own candidate).
    """
    wanted = None if urls is None else set(urls)
    relevant: dict[str, set[str]] = {}
    for link in links:
        if link.source_url == link.target_url:
            continue
        if wanted is not None and link.source_url not in wanted:
            continue
        relevant.setdefault(link.source_url, set()).add(link.target_url)
    return relevant


# -- the report ------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationRow:
    """One score: a method's value of one metric over ``n_queries`` queries.

    Attributes
    ----------
    method, metric : str
        Names, e.g. ``"tfidf"`` and ``"nDCG@10"``.
    value : float
        The mean over queries (for ``coverage@k``: the share of the catalogue).
    n_queries : int
        Queries judged.
    ci_low, ci_high : float or None
        Bounds of the bootstrap confidence interval; None when there is none.
    mode : str
        ``"existing"`` or ``"cold_start"``.
    """

    method: str
    metric: str
    value: float
    n_queries: int
    ci_low: float | None = None
    ci_high: float | None = None
    mode: str = "existing"


@dataclass(frozen=True)
class ListRow:
    """One suggestion of a list that :func:`evaluate` judged: ``relevant`` when the
    query's editors link to the target."""

    mode: str
    method: str
    source_url: str
    rank: int
    target_url: str
    score: float
    relevant: bool


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def format_interval(row: EvaluationRow) -> str:
    """``"0.512 [0.47, 0.55]"``, or the value alone when the row has no interval."""
    if row.ci_low is None or row.ci_high is None:
        return _fmt(row.value)
    return f"{_fmt(row.value)} [{_fmt(row.ci_low, 2)}, {_fmt(row.ci_high, 2)}]"


@dataclass(frozen=True)
class EvaluationReport:
    """The scores of several methods on the same queries, in one or more modes.

    Attributes
    ----------
    rows : tuple of EvaluationRow
        One row per mode, method and metric, in the order evaluated.
    split : str
        How the queries were held out (see :func:`split_articles`); empty if unknown.
    confidence : float
        Level of the intervals, e.g. 0.95.
    n_bootstrap : int
        Bootstrap resamples behind the intervals (0: no intervals).
    sources : tuple of (int, int, int) or None
        Archived articles with a related block, archived articles, and editorial links:
        what the scores stand on (a score on a few detected blocks is not the site's).
    lists : tuple of ListRow
        The lists judged, when asked for (``keep_lists``): out of sample, one row per
        (mode, method, query, rank).
    """

    rows: tuple[EvaluationRow, ...]
    split: str = ""
    confidence: float = 0.95
    n_bootstrap: int = 0
    sources: tuple[int, int, int] | None = None
    lists: tuple[ListRow, ...] = ()

    @property
    def modes(self) -> list[str]:
        """Modes, in order."""
        return list(dict.fromkeys(row.mode for row in self.rows))

    @property
    def methods(self) -> list[str]:
        """Method names, in order."""
        return list(dict.fromkeys(row.method for row in self.rows))

    @property
    def metrics(self) -> list[str]:
        """Metric names, in order."""
        return list(dict.fromkeys(row.metric for row in self.rows))

    def for_mode(self, mode: str) -> EvaluationReport:
        """The report restricted to one mode."""
        rows = tuple(row for row in self.rows if row.mode == mode)
        if not rows:
            raise KeyError(mode)
        return EvaluationReport(rows, self.split, self.confidence, self.n_bootstrap)

    def row(self, method: str, metric: str, mode: str | None = None) -> EvaluationRow:
        """The row of ``method`` and ``metric`` in ``mode`` (default: the first mode)."""
        mode = self.modes[0] if mode is None and self.rows else mode
        for row in self.rows:
            if row.method == method and row.metric == metric and row.mode == mode:
                return row
        raise KeyError((method, metric, mode))

    def value(self, method: str, metric: str, mode: str | None = None) -> float:
        """The score of ``method`` for ``metric`` in ``mode`` (default: the first mode)."""
        return self.row(method, metric, mode).value

    def interval(
        self, method: str, metric: str, mode: str | None = None
    ) -> tuple[float, float] | None:
        """The confidence interval of a score, or None."""
        row = self.row(method, metric, mode)
        if row.ci_low is None or row.ci_high is None:
            return None
        return (row.ci_low, row.ci_high)

    @property
    def automatic_block(self) -> str | None:
        """A warning when the related block looks automatic, see :func:`looks_automatic`."""
        return looks_automatic(self)

    @property
    def warnings(self) -> list[str]:
        """What a reader must know before trusting the scores."""
        automatic = self.automatic_block
        return [automatic] if automatic else []

    def as_dicts(self) -> list[dict[str, object]]:
        """The rows as plain dicts, e.g. to write back to the warehouse."""
        return [
            {
                "method": r.method,
                "metric": r.metric,
                "value": r.value,
                "n_queries": r.n_queries,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "mode": r.mode,
            }
            for r in self.rows
        ]

    def _cells(self, mode: str) -> tuple[list[str], list[list[str]]]:
        """Metrics as rows, methods as columns (a score with its interval is wide)."""
        part = self.for_mode(mode)
        header = ["metric", *part.methods]
        body = [
            [metric, *(format_interval(part.row(method, metric)) for method in part.methods)]
            for metric in part.metrics
        ]
        n_queries = {row.method: row.n_queries for row in part.rows}
        body.append(["queries", *(str(n_queries[method]) for method in part.methods)])
        return header, body

    def _caption(self, mode: str) -> str:
        title = MODE_TITLES.get(mode, mode)
        return f"{title}" + (f"; split: {self.split}" if self.split else "")

    @property
    def notes(self) -> list[str]:
        """What the tables' intervals and coverage mean, for every rendering."""
        notes = []
        if self.sources is not None:
            with_block, archived, n_links = self.sources
            notes.append(
                f"related blocks: detected on {with_block} of {archived} archived articles "
                f"({with_block / archived if archived else 0:.0%}), {n_links} links between "
                "archived articles"
            )
        if self.n_bootstrap:
            notes.append(
                f"[low, high]: {self.confidence:.0%} percentile bootstrap interval over "
                f"queries ({self.n_bootstrap} resamples)"
            )
            if any(row.metric.startswith("coverage@") for row in self.rows):
                notes.append(COVERAGE_NOTE)
        return notes

    def format_table(self) -> str:
        """Aligned text tables, one per mode: metrics as rows, methods as columns."""
        blocks = []
        for mode in self.modes:
            header, body = self._cells(mode)
            table = tabulate(
                body, header, "simple", colalign=_aligned(header), disable_numparse=True
            )
            blocks.append(f"{self._caption(mode)}\n\n{table}")
        text = "\n\n".join(blocks)
        footer = self.notes + [f"warning: {warning}" for warning in self.warnings]
        return text + ("\n\n" + "\n".join(footer) if footer else "")

    def to_markdown(self, *, warnings: bool = True) -> str:
        """The same tables as Markdown, one per mode (``warnings``: end with them)."""
        blocks = []
        for mode in self.modes:
            header, body = self._cells(mode)
            table = tabulate(
                [list(map(_md_escape, cells)) for cells in body],
                list(map(_md_escape, header)),
                "pipe",
                colalign=_aligned(header),
                disable_numparse=True,
            )
            blocks.append(f"**{_md_escape(self._caption(mode))}**\n\n{table}")
        text = "\n\n".join(blocks)
        footer = self.notes + [f"**Warning:** {w}" for w in self.warnings if warnings]
        return text + ("\n\n" + "\n\n".join(footer) if footer else "")

    def __str__(self) -> str:
        return self.format_table()


def _aligned(header: list[str]) -> list[str]:
    """Metric names to the left, scores to the right."""
    return ["left"] + ["right"] * (len(header) - 1)


def _md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    for char in "\\|*_`<>":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def looks_automatic(
    report: EvaluationReport | Mapping[str, float],
    *,
    baseline: str | None = None,
    threshold: float = AUTOMATIC_THRESHOLD,
) -> str | None:
    """Whether the "related" block looks generated by a rule rather than by editors.

    A CMS often fills the block with the newest articles of the same rubrique. The
    baseline ``baseline`` follows exactly that rule: when it finds the block almost
    perfectly (``R@k`` or ``nDCG@...`` at or above ``threshold``, 0.9 by default, in
    the ``"existing"`` mode, else the first mode), the block is most likely automatic
    and no score against it measures editorial relatedness.

    Parameters
    ----------
    report : EvaluationReport or mapping of str to float
        A report holding ``baseline``, or the baseline's scores as metric -> value.
    baseline : str or None, default=None
        Method name of a same-rubrique, newest-first baseline; None checks both
        :data:`AUTOMATIC_BASELINES` (by rubrique, before the page or at crawl time, and by
        tag at crawl time).
    threshold : float, default=0.9
        Score at or above which the block is called automatic.

    Returns
    -------
    str or None
        The warning, or None when the block does not look automatic (or the report has
        no such baseline).
    """
    if not isinstance(report, EvaluationReport):
        values = dict(report)
        metric_names = [m for m in values if m.startswith(("R@", "nDCG@"))]
        return AUTOMATIC_WARNING if any(values[m] >= threshold for m in metric_names) else None
    mode = "existing" if "existing" in report.modes else report.modes[0]
    for name in (baseline,) if baseline else AUTOMATIC_BASELINES:
        if name not in report.methods:
            continue
        values = {
            row.metric: row.value for row in report.rows if row.method == name and row.mode == mode
        }
        if looks_automatic(values, threshold=threshold):
            return AUTOMATIC_WARNING
    return None


# -- scoring ---------------------------------------------------------------------------


def bootstrap_interval(
    scores: np.ndarray,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
) -> tuple[Any, Any]:  # floats, or arrays for 2-d scores
    """Percentile bootstrap interval of the mean of per-query scores
    (``scipy.stats.bootstrap``, seeded).

    Parameters
    ----------
    scores : array-like of shape (n_queries,) or (n_series, n_queries)
        Per-query scores; with 2 dimensions every row gets an interval, all from the
        same resamples of the queries.
    n_bootstrap : int, default=1000
        Resamples of the queries (with replacement).
    confidence : float, default=0.95
        Level of the interval.
    random_state : int, numpy.random.Generator or None, default=0
        Seeds the resampling.

    Returns
    -------
    low, high : float or numpy.ndarray
        The ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` percentiles of the
        resampled means (arrays of shape (n_series,) for 2-d ``scores``).
    """
    scores = np.asarray(scores, dtype=np.float64)
    flat = scores.ndim == 1
    matrix = scores[np.newaxis, :] if flat else scores
    n_queries = matrix.shape[1]
    if n_queries == 0:
        raise ValueError("no score to resample")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if n_queries == 1:  # every resample is the one query (scipy wants two or more)
        low, high = matrix[:, 0].copy(), matrix[:, 0].copy()
    else:
        # scipy's percentile bootstrap; every row resampled with the same queries, in
        # batches so that memory stays bounded however many queries there are.
        result = stats.bootstrap(
            (matrix,),
            np.mean,
            n_resamples=n_bootstrap,
            confidence_level=confidence,
            method="percentile",
            axis=-1,
            vectorized=True,
            batch=max(1, (1 << 22) // n_queries),
            random_state=np.random.default_rng(random_state),
        )
        low, high = result.confidence_interval
    if flat:
        return float(low[0]), float(high[0])
    return low, high


def _check_cutoff(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _metric_functions(k: int, ks: Sequence[int], ndcg_k: int, depth: int) -> dict:
    metrics = {
        f"P@{k}": lambda ranked, rel: precision_at_k(ranked, rel, k),
        f"R@{k}": lambda ranked, rel: recall_at_k(ranked, rel, k),
        f"hit@{k}": lambda ranked, rel: hit_at_k(ranked, rel, k),
    }
    for cut in ks:
        if cut != k:
            metrics[f"R@{cut}"] = functools.partial(recall_at_k, k=cut)
            metrics[f"hit@{cut}"] = functools.partial(hit_at_k, k=cut)
    metrics[f"nDCG@{ndcg_k}"] = lambda ranked, rel: ndcg_at_k(ranked, rel, ndcg_k)
    metrics["MRR"] = lambda ranked, rel: reciprocal_rank(ranked, rel, depth)
    return metrics


def _check_no_leak(name: str, model: object, judged: Sequence[str]) -> None:
    sources = getattr(model, "link_sources_", None)
    if sources is None:
        return
    sources = set(sources)
    for query in judged:
        if query in sources:
            raise ValueError(
                f"model {name!r} was fitted with the editorial links of held-out page "
                f"{query}: refit it on training links only"
            )


def _catalogue(model: object, articles: Sequence[Article] | None) -> list[str] | None:
    urls = getattr(model, "urls_", None)
    if urls is not None:
        return list(urls)
    if articles is not None:
        return [article.url for article in articles]
    return None


def evaluate(
    models: Mapping[str, Recommender],
    queries: Sequence[str],
    relevant: Mapping[str, Iterable[str]],
    k: int = 4,
    ndcg_k: int = 10,
    *,
    mode: str = "existing",
    articles: Sequence[Article] | None = None,
    ks: Sequence[int] = (5, 10),
    coverage: bool = True,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int = 0,
    split: str = "",
    keep_lists: bool = False,
) -> EvaluationReport:
    """Score fitted recommenders on the queries the editors linked from.

    Parameters
    ----------
    models : mapping of str to fitted recommender
        Method name -> a fitted model (see :class:`Recommender`).
    queries : sequence of str
        Source urls to judge (e.g. the test part of :func:`split_articles`). Only those
        with at least one relevant target count.
    relevant : mapping of str to iterable of str
        Source url -> the urls the editors linked (see :func:`relevant_targets`).
    k : int, default=4
        Main cut-off: ``P@k``, ``R@k``, ``hit@k`` and ``coverage@k`` (the size of the
        site's related block is a good choice).
    ndcg_k : int, default=10
        Cut-off of ``nDCG@ndcg_k``.
    mode : {"existing", "cold_start"}, default="existing"
        ``"existing"`` calls ``model.recommend_all(depth, urls=judged)``;
        ``"cold_start"`` calls ``model.recommend_new(judged_articles, depth)``.
    articles : sequence of Article or None, default=None
        The articles of the queries (others are ignored); required by ``"cold_start"``.
        Also the catalogue of ``coverage@k`` for a model without ``urls_``.
    ks : sequence of int, default=(5, 10)
        More cut-offs: ``R@c`` and ``hit@c`` for each ``c`` (other than ``k``).
    coverage : bool, default=True
        Add ``coverage@k``: the share of the model's catalogue (its fitted ``urls_``,
        else ``articles``) that appears in at least one top-``k`` list of the judged
        queries. It has no interval (it is not a mean over queries).
    n_bootstrap : int, default=1000
        Bootstrap resamples of the queries for the intervals (0: no intervals).
    confidence : float, default=0.95
        Level of the intervals.
    random_state : int, default=0
        Seeds the bootstrap; every method and metric uses the same resamples.
    split : str, default=""
        How the queries were held out, kept in the report.
    keep_lists : bool, default=False
        Keep the lists judged in the report (``lists``), e.g. to store them.

    Returns
    -------
    EvaluationReport
        For each model, in order: ``P@k``, ``R@k``, ``hit@k``, then ``R@c``, ``hit@c``
        for each other ``c`` in ``ks``, ``nDCG@ndcg_k``, ``MRR`` (first relevant among
        the first ``max(k, ndcg_k, *ks)`` suggestions), ``coverage@k``: means over the
        judged queries, with intervals.

    Raises
    ------
    ValueError
        If no model is given, a cut-off is not a positive integer, the mode is unknown,
        no query has a relevant target, a cold-start query has no article, or a model
        was fitted with the links of a query (``link_sources_``).
    """
    k = _check_cutoff("k", k)
    ndcg_k = _check_cutoff("ndcg_k", ndcg_k)
    ks = [_check_cutoff("ks", cut) for cut in ks]
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, numbers.Integral):
        raise ValueError(f"n_bootstrap must be an integer >= 0, got {n_bootstrap!r}")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be an integer >= 0, got {n_bootstrap!r}")
    if not models:
        raise ValueError("no model to evaluate")
    judged = list(dict.fromkeys(q for q in queries if relevant.get(q)))
    if not judged:
        raise ValueError("no query has a relevant target")
    for name, model in models.items():
        _check_no_leak(name, model, judged)
    query_articles: list[Article] = []
    if mode == "cold_start":
        by_url = {article.url: article for article in articles or ()}
        missing = [q for q in judged if q not in by_url]
        if missing:
            raise ValueError(f"cold_start needs the article of every query; none for {missing[0]}")
        query_articles = [by_url[q] for q in judged]

    truth = {query: set(relevant[query]) for query in judged}
    depth = max(k, ndcg_k, *ks)
    metrics = _metric_functions(k, ks, ndcg_k, depth)
    rows = []
    lists: list[ListRow] = []
    for method, model in models.items():
        if mode == "existing":
            suggestions = model.recommend_all(depth, urls=judged)
        else:
            suggestions = model.recommend_new(query_articles, depth)
        ranked = {q: [s.target_url for s in suggestions[q]] for q in judged}
        if keep_lists:
            lists += [
                ListRow(mode, method, q, rank, s.target_url, s.score, s.target_url in truth[q])
                for q in judged
                for rank, s in enumerate(suggestions[q][:depth], start=1)
            ]
        scores = np.array(
            [[score(ranked[q], truth[q]) for q in judged] for score in metrics.values()]
        )
        if n_bootstrap:
            lows, highs = bootstrap_interval(scores, n_bootstrap, confidence, random_state)
        else:
            lows = highs = [None] * len(metrics)
        for metric, per_query, low, high in zip(metrics, scores, lows, highs, strict=True):
            rows.append(
                EvaluationRow(
                    method,
                    metric,
                    float(per_query.mean()),
                    len(judged),
                    None if low is None else float(low),
                    None if high is None else float(high),
                    mode,
                )
            )
        catalogue = _catalogue(model, articles) if coverage else None
        if catalogue:
            share = catalogue_coverage([ranked[q] for q in judged], catalogue, k)
            rows.append(EvaluationRow(method, f"coverage@{k}", share, len(judged), mode=mode))
    return EvaluationReport(
        tuple(rows),
        split=split,
        confidence=confidence,
        n_bootstrap=int(n_bootstrap),
        lists=tuple(lists),
    )
