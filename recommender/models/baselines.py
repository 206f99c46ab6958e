"""Baselines every learned method must beat, with the same interface and candidate rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from warehouse.model import Article, EditorialLink

from ..candidates import candidate_mask, draw_key, to_timestamp
from ..suggestion import Suggestion
from ._base import ArchiveMixin, check_k

__all__ = ["RandomRecommender", "SameRubriqueRecentRecommender"]


def _new_articles(articles: Sequence[Article]) -> list[Article]:
    """The articles given to ``recommend_new``, checked for duplicate urls."""
    articles = list(articles)
    for article in articles:
        if not isinstance(article, Article):
            raise TypeError(f"expected warehouse.model.Article, got {type(article).__name__}")
    if len({article.url for article in articles}) != len(articles):
        raise ValueError("duplicate article urls")
    return articles


def _new_candidates(model: ArchiveMixin, article: Article) -> np.ndarray:
    """Candidate rows for a new article: its own date decides, its own url is excluded."""
    return candidate_mask(
        model.published_,
        to_timestamp(article.published),
        exclude=model.index_.get(article.url),
        before_only=model.before_only,
    )


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
        return self._draw(url, self._candidates(row), check_k(k))

    def recommend_new(
        self, articles: Sequence[Article], k: int = 10
    ) -> dict[str, list[Suggestion]]:
        """Cold start: ``k`` random candidates for each article, as if it were new.

        Only the article's url (which seeds the draw, and is never suggested) and
        publication date (the candidate rule) are used; an archived article gets the
        same list as from :meth:`recommend`.

        Parameters
        ----------
        articles : sequence of Article
            The new articles (in the fitted corpus or not), distinct urls.
        k : int, default=10
            Maximum number of suggestions per article.

        Returns
        -------
        dict of str to list of Suggestion
            One list per article url, in the order given.
        """
        check_is_fitted(self)
        k = check_k(k)
        return {
            article.url: self._draw(article.url, _new_candidates(self, article), k)
            for article in _new_articles(articles)
        }

    def _draw(self, url: str, mask: np.ndarray, k: int) -> list[Suggestion]:
        """``k`` rows drawn among ``mask``, seeded by ``seed_`` and ``url``."""
        candidates = np.flatnonzero(mask)
        digest = bytes.fromhex(draw_key(url, 0))  # the url's path: the same on any host
        rng = np.random.default_rng([self.seed_, *np.frombuffer(digest[:16], dtype=np.uint32)])
        drawn = rng.choice(candidates.size, size=min(k, candidates.size), replace=False)
        return _ranked(self.urls_, candidates[drawn])


class SameRubriqueRecentRecommender(ArchiveMixin, BaseEstimator):
    """The usual CMS rule: the most recent candidates of the same rubrique (or sharing a
    tag with the source, with ``by="tag"``).

    When the rubrique has fewer than ``k`` candidates, the list is filled with the most
    recent other candidates. A source without rubrique (or tags) gets the most recent
    candidates. Undated articles come after dated ones; equal dates break by url.

    Parameters
    ----------
    before_only : bool, default=True
        Only suggest articles published at or before the source (when both dates are
        known).
    by : {"rubrique", "tag"}, default="rubrique"
        What the candidates must share with the source to come first: its rubrique, or
        at least one of its tags.

    Attributes
    ----------
    urls_, index_, published_, rubriques_
        The fitted corpus, as in :class:`~recommender.tfidf.TfidfRecommender`.
    tags_ : list of frozenset of str
        Each fitted article's tags.
    tag_rows_ : dict of str to numpy.ndarray of int
        The rows of each tag.
    order_ : numpy.ndarray of int
        Rows from the most recent to the oldest, undated last.
    """

    def __init__(self, *, before_only: bool = True, by: str = "rubrique"):
        self.before_only = before_only
        self.by = by

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
        if self.by not in ("rubrique", "tag"):
            raise ValueError(f"by must be 'rubrique' or 'tag', got {self.by!r}")
        articles = self._check_articles(articles)
        state = self._archive_state(articles)
        state["tags_"] = [frozenset(article.tags) for article in articles]
        tag_rows: dict[str, list[int]] = {}
        for row, article in enumerate(articles):
            for tag in set(article.tags):
                tag_rows.setdefault(tag, []).append(row)
        state["tag_rows_"] = {tag: np.array(rows) for tag, rows in tag_rows.items()}
        published = cast(np.ndarray, state["published_"])
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
        return self._newest(
            self._candidates(row), self.rubriques_[row], self.tags_[row], check_k(k)
        )

    def recommend_new(
        self, articles: Sequence[Article], k: int = 10
    ) -> dict[str, list[Suggestion]]:
        """Cold start: the newest candidates of the article's rubrique, then others.

        Only the article's rubrique and publication date are used; its own url is never
        suggested. An archived article gets the same list as from :meth:`recommend`.

        Parameters
        ----------
        articles : sequence of Article
            The new articles (in the fitted corpus or not), distinct urls.
        k : int, default=10
            Maximum number of suggestions per article.

        Returns
        -------
        dict of str to list of Suggestion
            One list per article url, in the order given.
        """
        check_is_fitted(self)
        k = check_k(k)
        return {
            article.url: self._newest(
                _new_candidates(self, article), article.rubrique or None, frozenset(article.tags), k
            )
            for article in _new_articles(articles)
        }

    def _newest(
        self, mask: np.ndarray, rubrique: str | None, tags: frozenset[str], k: int
    ) -> list[Suggestion]:
        """The ``k`` newest rows of ``mask``, those of ``rubrique`` (or sharing one of
        ``tags``) first."""
        ordered = self.order_[mask[self.order_]]
        same = None
        if self.by == "tag" and tags:
            tagged = [self.tag_rows_[tag] for tag in tags if tag in self.tag_rows_]
            same = np.isin(ordered, np.concatenate(tagged)) if tagged else None
        elif self.by == "rubrique" and rubrique is not None:
            same = self.rubriques_[ordered] == rubrique
        if same is not None and same.size:
            ordered = np.concatenate([ordered[same], ordered[~same]])
        return _ranked(self.urls_, ordered[:k])
