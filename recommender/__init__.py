"""Related-article recommenders learned from a news archive.

Inputs are :class:`warehouse.model.Article` and :class:`warehouse.model.EditorialLink`
lists read by the caller; outputs are :class:`Suggestion` lists and an
:class:`EvaluationReport` that the caller writes back. Nothing here touches DuckDB.
"""

from .baselines import RandomRecommender, SameRubriqueRecentRecommender
from .candidates import candidate_mask, is_candidate, published_timestamps, to_timestamp
from .evaluation import (
    EvaluationReport,
    EvaluationRow,
    evaluate,
    relevant_targets,
    temporal_split,
)
from .metrics import hit_at_k, ndcg_at_k, precision_at_k, recall_at_k, reciprocal_rank
from .suggestion import Suggestion
from .text import TextAnalyzer
from .tfidf import TfidfRecommender

__all__ = [
    "EvaluationReport",
    "EvaluationRow",
    "RandomRecommender",
    "SameRubriqueRecentRecommender",
    "Suggestion",
    "TextAnalyzer",
    "TfidfRecommender",
    "candidate_mask",
    "evaluate",
    "hit_at_k",
    "is_candidate",
    "ndcg_at_k",
    "precision_at_k",
    "published_timestamps",
    "recall_at_k",
    "reciprocal_rank",
    "relevant_targets",
    "temporal_split",
    "to_timestamp",
]
