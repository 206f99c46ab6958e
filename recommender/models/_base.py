"""State and helpers shared by the recommenders: the fitted corpus and its candidates."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from sklearn.utils.validation import check_is_fitted

from warehouse.model import Article

from ..candidates import candidate_mask, check_articles, published_timestamps
from ..suggestion import Suggestion


def check_k(k: int) -> int:
    """Validate a list length: a positive integer."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


class ArchiveMixin:
    """The fitted corpus: ``urls_``, ``index_``, ``published_``, ``rubriques_``.

    Rows are the articles sorted by URL, so ties between equal scores break by URL.
    Subclasses set ``before_only`` and implement ``recommend``.
    """

    # Set by fit (``_archive_state``) and by the subclass's __init__; declared for mypy.
    urls_: np.ndarray  # of str, dtype object
    index_: dict[str, int]
    published_: np.ndarray
    before_only: bool

    def _archive_state(self, articles: list[Article]) -> dict[str, object]:
        """The fitted attributes describing ``articles`` (already checked and sorted)."""
        urls = np.array([article.url for article in articles], dtype=object)
        return {
            "urls_": urls,
            "index_": {url: row for row, url in enumerate(urls)},
            "published_": published_timestamps(articles),
            "rubriques_": np.array(
                [article.rubrique or None for article in articles], dtype=object
            ),
        }

    @staticmethod
    def _check_articles(articles: Sequence[Article]) -> list[Article]:
        return check_articles(articles)

    def _row(self, url: str) -> int:
        """Row of an archived url; KeyError when the model was not fitted on it."""
        check_is_fitted(self)
        try:
            return self.index_[url]
        except KeyError:
            raise KeyError(f"url not in the fitted corpus: {url!r}") from None

    def _candidates(self, row: int) -> np.ndarray:
        """Boolean mask of the candidate rows for the article at ``row``."""
        return candidate_mask(
            self.published_,
            self.published_[row],
            exclude=row,
            # a model that learns the date rule from its links says so after fitting
            before_only=bool(getattr(self, "before_only_", self.before_only)),
        )

    def recommend(self, url: str, k: int = 10) -> list[Suggestion]:  # pragma: no cover
        raise NotImplementedError

    def recommend_all(
        self, k: int = 10, urls: Sequence[str] | None = None
    ) -> dict[str, list[Suggestion]]:
        """Suggestions for many archived articles.

        Parameters
        ----------
        k : int, default=10
            Length of each list (shorter when there are fewer candidates).
        urls : sequence of str or None, default=None
            The source articles; ``None`` for every fitted article.

        Returns
        -------
        dict of str to list of Suggestion
            One list per source url, in the order of ``urls``.
        """
        check_is_fitted(self)
        k = check_k(k)
        if urls is None:
            urls = list(self.urls_)
        return {url: self.recommend(url, k) for url in urls}
