"""Related-article recommenders learned from a news archive.

Inputs are :class:`warehouse.model.Article` and :class:`warehouse.model.EditorialLink`
lists read by the caller; outputs are :class:`Suggestion` lists and an
:class:`EvaluationReport` that the caller writes back. Nothing here touches DuckDB.

The package is in layers, each importing only those below it (an import-linter
contract in pyproject.toml)::

    comparison, persistence   fit several methods and judge them on one split; save,
                              find and load fitted models beside an archive
    models                    the estimators (text analysis, TF-IDF, BM25, baselines,
                              pair features, learned)
    evaluation                split, metrics, evaluate, report
    candidates, rules         the candidate rule; the editors' pins and blocks, lists
    suggestion                one suggested article

Importing the package is cheap: each name loads its module (and scikit-learn, where
that module needs it) when first used, so ``recommender.rules`` can be imported by a
command that never fits a model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .comparison import compare_methods
    from .evaluation import EvaluationReport, evaluate, split_articles
    from .evaluation.report import write_report
    from .models import (
        Bm25Recommender,
        LearnedRecommender,
        NothingToLearn,
        RandomRecommender,
        SameRubriqueRecentRecommender,
        TfidfRecommender,
    )
    from .rules import Rules, ruled_lists
    from .suggestion import Suggestion

#: Where each public name lives.
_MODULES = {
    "Bm25Recommender": "models",
    "LearnedRecommender": "models",
    "NothingToLearn": "models",
    "RandomRecommender": "models",
    "SameRubriqueRecentRecommender": "models",
    "TfidfRecommender": "models",
    "EvaluationReport": "evaluation",
    "evaluate": "evaluation",
    "split_articles": "evaluation",
    "write_report": "evaluation.report",
    "compare_methods": "comparison",
    "Rules": "rules",
    "ruled_lists": "rules",
    "Suggestion": "suggestion",
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
    "EvaluationReport",
    "LearnedRecommender",
    "NothingToLearn",
    "RandomRecommender",
    "Rules",
    "SameRubriqueRecentRecommender",
    "Suggestion",
    "TfidfRecommender",
    "compare_methods",
    "evaluate",
    "ruled_lists",
    "split_articles",
    "write_report",
]
