"""Judge fitted recommenders against the editors' own related links.

Evaluation never fits: it takes fitted models, the query urls and what the editors
linked from each query, and scores every model on the same queries.

Typical use::

    train, test = temporal_split(articles)
    relevant = relevant_targets(links, test)
    models = {name: model.fit(articles) for name, model in candidates.items()}
    report = evaluate(models, test, relevant)
    print(report.format_table())

Content-only models (TF-IDF, the baselines) may be fitted on the whole archive: they
never see the links. A model that learns from links must only be given the links whose
source is in ``train``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from warehouse.model import Article, EditorialLink

from .candidates import to_timestamp
from .metrics import ndcg_at_k, precision_at_k, recall_at_k, reciprocal_rank
from .suggestion import Suggestion

__all__ = [
    "EvaluationReport",
    "EvaluationRow",
    "Recommender",
    "evaluate",
    "relevant_targets",
    "temporal_split",
]


class Recommender(Protocol):
    """What :func:`evaluate` needs of a fitted model."""

    def recommend_all(
        self, k: int = 10, urls: Sequence[str] | None = None
    ) -> dict[str, list[Suggestion]]: ...


def temporal_split(
    articles: Sequence[Article], test_fraction: float = 0.2
) -> tuple[list[str], list[str]]:
    """Split article urls in time: the newest ones are the test queries.

    Parameters
    ----------
    articles : sequence of Article
        The archive.
    test_fraction : float, default=0.2
        Share of all articles (rounded half up to a count) put in test, taken from the
        newest dated ones. Articles without a date always go to train.

    Returns
    -------
    train, test : list of str
        Urls from the oldest to the newest (equal dates ordered by url); undated
        articles end ``train``, ordered by url.

    Raises
    ------
    ValueError
        If ``test_fraction`` is not strictly between 0 and 1, or two articles share a url.
    """
    if not isinstance(test_fraction, numbers.Real) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    urls = [article.url for article in articles]
    if len(set(urls)) != len(urls):
        raise ValueError("duplicate article urls")
    dated = sorted(
        (to_timestamp(article.published), article.url)
        for article in articles
        if not math.isnan(to_timestamp(article.published))
    )
    undated = sorted(
        article.url for article in articles if math.isnan(to_timestamp(article.published))
    )
    n_test = min(math.floor(test_fraction * len(urls) + 0.5), len(dated))
    cut = len(dated) - n_test
    train = [url for _, url in dated[:cut]] + undated
    test = [url for _, url in dated[cut:]]
    return train, test


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


@dataclass(frozen=True)
class EvaluationRow:
    """One score: a method's mean of one metric over ``n_queries`` queries."""

    method: str
    metric: str
    value: float
    n_queries: int


@dataclass(frozen=True)
class EvaluationReport:
    """The scores of several methods on the same queries.

    Attributes
    ----------
    rows : tuple of EvaluationRow
        One row per method per metric, methods in the order given to :func:`evaluate`.
    """

    rows: tuple[EvaluationRow, ...]

    @property
    def methods(self) -> list[str]:
        """Method names, in order."""
        return list(dict.fromkeys(row.method for row in self.rows))

    @property
    def metrics(self) -> list[str]:
        """Metric names, in order."""
        return list(dict.fromkeys(row.metric for row in self.rows))

    def value(self, method: str, metric: str) -> float:
        """The score of ``method`` for ``metric``."""
        for row in self.rows:
            if row.method == method and row.metric == metric:
                return row.value
        raise KeyError((method, metric))

    def as_dicts(self) -> list[dict[str, object]]:
        """The rows as plain dicts, e.g. to write back to the warehouse."""
        return [
            {"method": r.method, "metric": r.metric, "value": r.value, "n_queries": r.n_queries}
            for r in self.rows
        ]

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        header = ["method", *self.metrics, "queries"]
        n_queries = {row.method: row.n_queries for row in self.rows}
        body = [
            [
                method,
                *(f"{self.value(method, m):.3f}" for m in self.metrics),
                str(n_queries[method]),
            ]
            for method in self.methods
        ]
        return header, body

    def format_table(self) -> str:
        """An aligned text table: methods as rows, metrics as columns."""
        header, body = self._cells()
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

        def line(cells: list[str]) -> str:
            first = cells[0].ljust(widths[0])
            rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
            return "  ".join([first, *rest])

        rule = "  ".join("-" * width for width in widths)
        return "\n".join([line(header), rule, *(line(cells) for cells in body)])

    def to_markdown(self) -> str:
        """The same table as Markdown."""
        header, body = self._cells()
        lines = [
            "| " + " | ".join(header) + " |",
            "| --- | " + " | ".join("---:" for _ in header[1:]) + " |",
        ]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_table()


def evaluate(
    models: Mapping[str, Recommender],
    queries: Sequence[str],
    relevant: Mapping[str, Iterable[str]],
    k: int = 4,
    ndcg_k: int = 10,
) -> EvaluationReport:
    """Score fitted recommenders on the queries the editors linked from.

    Parameters
    ----------
    models : mapping of str to fitted recommender
        Method name -> a fitted model with ``recommend_all(k, urls=...)``.
    queries : sequence of str
        Source urls to judge (e.g. the test part of :func:`temporal_split`). Only those
        with at least one relevant target count.
    relevant : mapping of str to iterable of str
        Source url -> the urls the editors linked (see :func:`relevant_targets`).
    k : int, default=4
        Cut-off of precision and recall (``P@k``, ``R@k``).
    ndcg_k : int, default=10
        Cut-off of ``nDCG@ndcg_k``. ``MRR`` looks at the first ``max(k, ndcg_k)``
        suggestions.

    Returns
    -------
    EvaluationReport
        Rows ``P@k``, ``R@k``, ``nDCG@ndcg_k``, ``MRR`` for each model: means over the
        judged queries.

    Raises
    ------
    ValueError
        If no model is given, a cut-off is not a positive integer, or no query has a
        relevant target.
    """
    for name, cutoff in (("k", k), ("ndcg_k", ndcg_k)):
        if isinstance(cutoff, bool) or not isinstance(cutoff, numbers.Integral) or cutoff < 1:
            raise ValueError(f"{name} must be a positive integer, got {cutoff!r}")
    if not models:
        raise ValueError("no model to evaluate")
    judged = list(dict.fromkeys(q for q in queries if relevant.get(q)))
    if not judged:
        raise ValueError("no query has a relevant target")
    truth = {query: set(relevant[query]) for query in judged}
    depth = max(k, ndcg_k)
    metrics = {
        f"P@{k}": lambda ranked, rel: precision_at_k(ranked, rel, k),
        f"R@{k}": lambda ranked, rel: recall_at_k(ranked, rel, k),
        f"nDCG@{ndcg_k}": lambda ranked, rel: ndcg_at_k(ranked, rel, ndcg_k),
        "MRR": lambda ranked, rel: reciprocal_rank(ranked, rel, depth),
    }
    rows = []
    for method, model in models.items():
        suggestions = model.recommend_all(depth, urls=judged)
        ranked = {q: [s.target_url for s in suggestions[q]] for q in judged}
        for metric, score in metrics.items():
            total = sum(score(ranked[q], truth[q]) for q in judged)
            rows.append(EvaluationRow(method, metric, total / len(judged), len(judged)))
    return EvaluationReport(tuple(rows))
