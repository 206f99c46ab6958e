"""Related-article recommenders learned from a news archive.

Inputs are :class:`warehouse.model.Article` and :class:`warehouse.model.EditorialLink`
lists read by the caller; outputs are :class:`Suggestion` lists and an
:class:`EvaluationReport` that the caller writes back. Nothing here touches DuckDB.

Importing the package is cheap: each name loads its module (and scikit-learn, where
that module needs it) when first used, so ``recommender.policy`` or
``recommender.suggestion`` can be imported by a command that never fits a model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .baselines import RandomRecommender, SameRubriqueRecentRecommender
    from .bm25 import Bm25Recommender
    from .candidates import candidate_mask, is_candidate, published_timestamps, to_timestamp
    from .evaluation import (
        MODES,
        EvaluationReport,
        EvaluationRow,
        Recommender,
        bootstrap_interval,
        evaluate,
        looks_automatic,
        relevant_targets,
        split_articles,
        temporal_split,
    )
    from .experiment import compare_methods, default_methods
    from .learned import LearnedRecommender
    from .metrics import (
        catalogue_coverage,
        hit_at_k,
        ndcg_at_k,
        precision_at_k,
        recall_at_k,
        reciprocal_rank,
    )
    from .report import report_html, report_markdown, write_report
    from .suggestion import Suggestion
    from .text import TextAnalyzer
    from .tfidf import TfidfRecommender

#: Where each public name lives.
_MODULES = {
    "RandomRecommender": "baselines",
    "SameRubriqueRecentRecommender": "baselines",
    "Bm25Recommender": "bm25",
    "candidate_mask": "candidates",
    "is_candidate": "candidates",
    "published_timestamps": "candidates",
    "to_timestamp": "candidates",
    "MODES": "evaluation",
    "EvaluationReport": "evaluation",
    "EvaluationRow": "evaluation",
    "Recommender": "evaluation",
    "bootstrap_interval": "evaluation",
    "evaluate": "evaluation",
    "looks_automatic": "evaluation",
    "relevant_targets": "evaluation",
    "split_articles": "evaluation",
    "temporal_split": "evaluation",
    "compare_methods": "experiment",
    "default_methods": "experiment",
    "LearnedRecommender": "learned",
    "catalogue_coverage": "metrics",
    "hit_at_k": "metrics",
    "ndcg_at_k": "metrics",
    "precision_at_k": "metrics",
    "recall_at_k": "metrics",
    "reciprocal_rank": "metrics",
    "report_html": "report",
    "report_markdown": "report",
    "write_report": "report",
    "Suggestion": "suggestion",
    "TextAnalyzer": "text",
    "TfidfRecommender": "tfidf",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # found once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Bm25Recommender",
    "LearnedRecommender",
    "MODES",
    "EvaluationReport",
    "EvaluationRow",
    "RandomRecommender",
    "Recommender",
    "SameRubriqueRecentRecommender",
    "Suggestion",
    "TextAnalyzer",
    "TfidfRecommender",
    "bootstrap_interval",
    "candidate_mask",
    "catalogue_coverage",
    "compare_methods",
    "default_methods",
    "evaluate",
    "hit_at_k",
    "is_candidate",
    "looks_automatic",
    "ndcg_at_k",
    "precision_at_k",
    "published_timestamps",
    "recall_at_k",
    "reciprocal_rank",
    "relevant_targets",
    "report_html",
    "report_markdown",
    "split_articles",
    "temporal_split",
    "to_timestamp",
    "write_report",
]
