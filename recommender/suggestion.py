"""What a recommender returns for one source article."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Suggestion"]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One suggested related article.

    Attributes
    ----------
    target_url : str
        URL of the suggested article.
    score : float
        Higher is more related. For TF-IDF, the cosine similarity; for the baselines,
        a rank-derived score (``1 / rank``) that only orders the list.
    shared_terms : tuple of str
        A few terms that explain the suggestion (for TF-IDF: the terms with the highest
        weight in both the source and the target vector); empty when the method has no
        explanation.
    """

    target_url: str
    score: float
    shared_terms: tuple[str, ...] = ()
