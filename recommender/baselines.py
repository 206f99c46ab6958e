"""Baselines every learned method must beat, with the same interface and candidate rule."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from warehouse.model import Article, EditorialLink

from ._base import ArchiveMixin, check_k
from .suggestion import Suggestion

__all__ = ["RandomRecommender", "SameRubriqueRecentRecommender"]


def _ranked(urls: np.ndarray, rows: np.ndarray) -> list[Suggestion]:
    """Suggestions in the given order, scored ``1 / rank``."""
    return [
        Suggestion(target_url=urls[row], score=1.0 / rank)
        for rank, row in enumerate(rows.tolist(), start=1)
    ]


class RandomRecommender(ArchiveMixin, BaseEstimator):
    """Suggest ``k`` candidates drawn at random.

    The draw for a source depends only on ``random_state``, the source url and the
    fitted corpus: the same model gives the same list for a url every time.

    Parameters
    ----------
    random_state : int, numpy.random.RandomState or None, default=0
        Seeds the draws; ``None`` draws a fresh seed at each ``fit``.
    before_only : bool, default=True
        Only suggest articles published at or before the source (when both dates are
        known).

    Attributes
    ----------
    urls_, index_, published_, rubriques_
        The fitted corpus, as in :class:`~recommender.tfidf.TfidfRecommender`.
    seed_ : int
        Seed drawn from ``random_state`` at fit time.
    """

    def __init__(
        self, *, random_state: int | np.random.RandomState | None = 0, before_only: bool = True
    ):
        self.random_state = random_state
        self.before_only = before_only

    def fit(
        self, articles: Sequence[Article], links: Sequence[EditorialLink] | None = None
    ) -> RandomRecommender:
        """Remember the corpus.

        Parameters
        ----------
        articles : sequence of Article
            The archive.
        links : sequence of EditorialLink or None, default=None
            Ignored.

        Returns
        -------
        self : RandomRecommender
        """
        articles = self._check_articles(articles)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        for name, value in self._archive_state(articles).items():
            setattr(self, name, value)
        self.seed_ = seed
        return self

    def recommend(self, url: str, k: int = 10) -> list[Suggestion]:
        """``k`` random candidates for an archived article.

        Parameters
        ----------
        url : str
            An article of the fitted corpus.
        k : int, default=10
            Maximum number of suggestions.

        Returns
        -------
        list of Suggestion
            In draw order, scored ``1 / rank``.
        """
        row = self._row(url)
        k = check_k(k)
        candidates = np.flatnonzero(self._candidates(row))
        digest = hashlib.sha256(url.encode("utf-8")).digest()
        rng = np.random.default_rng([self.seed_, *np.frombuffer(digest[:16], dtype=np.uint32)])
        drawn = rng.choice(candidates.size, size=min(k, candidates.size), replace=False)
        return _ranked(self.urls_, candidates[drawn])


class SameRubriqueRecentRecommender(ArchiveMixin, BaseEstimator):
    """The usual CMS rule: the most recent candidates of the same rubrique.

    When the rubrique has fewer than ``k`` candidates, the list is filled with the most
    recent other candidates. A source without rubrique gets the most recent candidates.
    Undated articles come after dated ones; equal dates break by url.

    Parameters
    ----------
    before_only : bool, default=True
        Only suggest articles published at or before the source (when both dates are
        known).

    Attributes
    ----------
    urls_, index_, published_, rubriques_
        The fitted corpus, as in :class:`~recommender.tfidf.TfidfRecommender`.
    order_ : numpy.ndarray of int
        Rows from the most recent to the oldest, undated last.
    """

    def __init__(self, *, before_only: bool = True):
        self.before_only = before_only

    def fit(
        self, articles: Sequence[Article], links: Sequence[EditorialLink] | None = None
    ) -> SameRubriqueRecentRecommender:
        """Remember the corpus and order it by date.

        Parameters
        ----------
        articles : sequence of Article
            The archive.
        links : sequence of EditorialLink or None, default=None
            Ignored.

        Returns
        -------
        self : SameRubriqueRecentRecommender
        """
        articles = self._check_articles(articles)
        state = self._archive_state(articles)
        published = state["published_"]
        undated = np.isnan(published)
        newest_first = -np.where(undated, 0.0, published)
        order = np.lexsort((np.arange(published.size), newest_first, undated))
        for name, value in state.items():
            setattr(self, name, value)
        self.order_ = order
        return self

    def recommend(self, url: str, k: int = 10) -> list[Suggestion]:
        """Most recent same-rubrique candidates, then most recent others.

        Parameters
        ----------
        url : str
            An article of the fitted corpus.
        k : int, default=10
            Maximum number of suggestions.

        Returns
        -------
        list of Suggestion
            Scored ``1 / rank``.
        """
        row = self._row(url)
        k = check_k(k)
        ordered = self.order_[self._candidates(row)[self.order_]]
        rubrique = self.rubriques_[row]
        if rubrique is not None:
            same = self.rubriques_[ordered] == rubrique
            ordered = np.concatenate([ordered[same], ordered[~same]])
        return _ranked(self.urls_, ordered[:k])
