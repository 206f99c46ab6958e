"""The recommenders, each a scikit-learn estimator fitted on archived articles.

Text similarity (:class:`TfidfRecommender`, :class:`Bm25Recommender`), the baselines a
CMS could produce without editors, and :class:`LearnedRecommender`, a ranker of pair
features learned from the editors' own links. The modules below them hold the text
analysis, the pair features and the row-wise selections they share.
"""

from .baselines import RandomRecommender, SameRubriqueRecentRecommender
from .bm25 import Bm25Recommender
from .learned import LearnedRecommender, NothingToLearn
from .tfidf import TfidfRecommender

__all__ = [
    "Bm25Recommender",
    "LearnedRecommender",
    "NothingToLearn",
    "RandomRecommender",
    "SameRubriqueRecentRecommender",
    "TfidfRecommender",
]
