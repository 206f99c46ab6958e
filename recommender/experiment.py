"""Comparing methods on one split: fit each, then judge all on the same held-out queries."""

from __future__ import annotations

from collections.abc import Sequence

from warehouse.model import Article, EditorialLink

from .baselines import RandomRecommender, SameRubriqueRecentRecommender
from .evaluation import EvaluationReport, evaluate, relevant_targets, temporal_split
from .tfidf import TfidfRecommender

__all__ = ["EvaluationReport", "compare_methods"]


def compare_methods(
    articles: Sequence[Article],
    links: Sequence[EditorialLink],
    *,
    test_fraction: float = 0.2,
    k: int = 4,
    ndcg_k: int = 10,
    random_state: int = 0,
) -> EvaluationReport:
    """Fit the TF-IDF model and the baselines, and judge them on the newest articles.

    The newest ``test_fraction`` of articles (by publication date) are the queries;
    their editorial links are the truth. Only links from training articles are given
    to ``fit``, so no method can see the answers (TF-IDF and the baselines ignore
    links anyway; every method still gets the same inputs).
    """
    train, test = temporal_split(articles, test_fraction=test_fraction)
    train_set = set(train)
    train_links = [link for link in links if link.source_url in train_set]
    methods = {
        "tfidf": TfidfRecommender(),
        "same rubrique, newest": SameRubriqueRecentRecommender(),
        "random": RandomRecommender(random_state=random_state),
    }
    fitted = {name: model.fit(articles, train_links) for name, model in methods.items()}
    relevant = relevant_targets(links, test)
    return evaluate(fitted, test, relevant, k=k, ndcg_k=ndcg_k)
