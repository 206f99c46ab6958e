"""The recommenders, each a scikit-learn estimator fitted on archived articles.

Text similarity (:class:`TfidfRecommender`, :class:`Bm25Recommender`), the baselines a
CMS could produce without editors, and :class:`LearnedRecommender`, a ranker of pair
features learned from the editors' own links. The modules below them hold the text
analysis, the pair features and the row-wise selections they share.

Each name loads its module when first used (PEP 562), so that a module that needs only
the text analysis (``relnews search``'s query parsing) does not load scikit-learn.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .baselines import RandomRecommender, SameRubriqueRecentRecommender
    from .bm25 import Bm25Recommender
    from .learned import LearnedRecommender, NothingToLearn
    from .tfidf import TfidfRecommender

_HOMES = {
    "RandomRecommender": "baselines",
    "SameRubriqueRecentRecommender": "baselines",
    "Bm25Recommender": "bm25",
    "LearnedRecommender": "learned",
    "NothingToLearn": "learned",
    "TfidfRecommender": "tfidf",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Bm25Recommender",
    "LearnedRecommender",
    "NothingToLearn",
    "RandomRecommender",
    "SameRubriqueRecentRecommender",
    "TfidfRecommender",
]
