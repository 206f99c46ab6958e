"""Related-article recommenders learned from a news archive.

Inputs are :class:`warehouse.model.Article` and :class:`warehouse.model.EditorialLink`
lists read by the caller; outputs are :class:`Suggestion` lists and an
:class:`EvaluationReport` that the caller writes back. Nothing here touches DuckDB.
"""

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
