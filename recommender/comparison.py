"""Comparing methods on one split: fit each, then judge all on the same held-out queries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sklearn.base import clone

from warehouse.model import Article, EditorialLink

from .evaluation import (
    AUTOMATIC_BASELINE,
    AUTOMATIC_BASELINE_AT_CRAWL,
    AUTOMATIC_BASELINE_TAG_AT_CRAWL,
    MODES,
    EvaluationReport,
    evaluate,
    relevant_targets,
    split_articles,
)
from .models.baselines import RandomRecommender, SameRubriqueRecentRecommender
from .models.bm25 import Bm25Recommender
from .models.learned import LearnedRecommender
from .models.tfidf import TfidfRecommender

__all__ = ["EvaluationReport", "compare_methods", "default_methods"]


def default_methods(random_state: int = 0) -> dict[str, Any]:
    """The methods compared by default, unfitted, in the order reports show them.

    Learned models come first, then content-only ones, then the baselines.

    Parameters
    ----------
    random_state : int, default=0
        Seed of the random baseline (and of any seeded method).

    Returns
    -------
    dict of str to estimator
        Method name -> unfitted recommender.
    """
    return {
        "learned": LearnedRecommender(random_state=random_state),
        "tfidf": TfidfRecommender(),
        "bm25": Bm25Recommender(),
        AUTOMATIC_BASELINE: SameRubriqueRecentRecommender(),
        AUTOMATIC_BASELINE_AT_CRAWL: SameRubriqueRecentRecommender(before_only=False),
        AUTOMATIC_BASELINE_TAG_AT_CRAWL: SameRubriqueRecentRecommender(before_only=False, by="tag"),
        "random": RandomRecommender(random_state=random_state),
    }


def compare_methods(
    articles: Sequence[Article],
    links: Sequence[EditorialLink],
    *,
    methods: Mapping[str, Any] | None = None,
    test_fraction: float = 0.2,
    k: int = 4,
    ndcg_k: int = 10,
    ks: Sequence[int] = (5, 10),
    random_state: int = 0,
    modes: Sequence[str] = MODES,
    n_bootstrap: int = 1000,
    keep_lists: bool = False,
) -> EvaluationReport:
    """Fit every method and judge them all on the same held-out pages, in every mode.

    The test pages are the newest ``test_fraction`` of the articles by publication date,
    or a fixed random share when most articles have no date (see
    :func:`~recommender.evaluation.split_articles`); their editorial links are the
    truth. Every method is fitted on all the articles but only on the links whose
    source is a training page, so no method can see the answers.

    Parameters
    ----------
    articles : sequence of Article
        The archive.
    links : sequence of EditorialLink
        Editorial links between archived articles.
    methods : mapping of str to estimator or None, default=None
        Method name -> unfitted recommender (cloned before fitting, so the given
        objects are left untouched); ``None`` for :func:`default_methods`.
    test_fraction : float, default=0.2
        Share of the articles held out.
    k, ndcg_k, ks
        Cut-offs, see :func:`~recommender.evaluation.evaluate`.
    random_state : int, default=0
        Seeds the default random baseline, a random split and the bootstrap.
    modes : sequence of str, default=("existing", "cold_start")
        The protocols to run, see :mod:`recommender.evaluation`.
    n_bootstrap : int, default=1000
        Bootstrap resamples behind the confidence intervals (0: none).
    keep_lists : bool, default=False
        Keep the lists judged (out of sample) in the report's ``lists``.

    Returns
    -------
    EvaluationReport
        Rows of every mode; ``split`` says how the pages were held out, and
        ``automatic_block`` warns when the related block looks automatic.
    """
    train, test, how = split_articles(
        articles, test_fraction=test_fraction, random_state=random_state
    )
    train_set = set(train)
    train_links = [link for link in links if link.source_url in train_set]
    if methods is None:
        methods = default_methods(random_state)
    fitted = {
        name: clone(model, safe=False).fit(articles, train_links) for name, model in methods.items()
    }
    relevant = relevant_targets(links, test)
    reports = [
        evaluate(
            fitted,
            test,
            relevant,
            k=k,
            ndcg_k=ndcg_k,
            ks=ks,
            mode=mode,
            articles=articles,
            n_bootstrap=n_bootstrap,
            random_state=random_state,
            split=how,
            keep_lists=keep_lists,
        )
        for mode in modes
    ]
    if not reports:
        raise ValueError("no mode to evaluate")
    rows = tuple(row for report in reports for row in report.rows)
    sources = (len({link.source_url for link in links}), len(articles), len(links))
    return EvaluationReport(
        rows,
        split=how,
        confidence=reports[0].confidence,
        n_bootstrap=reports[0].n_bootstrap,
        sources=sources,
        lists=tuple(row for report in reports for row in report.lists),
    )
