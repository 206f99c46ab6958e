"""Which method serves the lists: the one that finds the editors' links best on pages
held out for it.

``relnews fit`` chooses between the learned ranker, TF-IDF and BM25 (:data:`CANDIDATES`)
by nDCG@10 in the ``"existing"`` mode (the lists it stores are for archived articles):

1. the pages that ``relnews evaluate`` holds out (its default split, see
   :func:`~recommender.evaluation.split_articles`) are set aside, never read here, so
   that the evaluation stays a fair test of the choice;
2. of the other pages, ``validation_fraction`` is held out by the same rule
   (:func:`~recommender.evaluation.hold_out`: the newest when the site has dates, a
   seeded draw otherwise): the validation pages;
3. every candidate is fitted on all the articles and on the links of the remaining
   pages only, and judged on the validation pages' links
   (:func:`~recommender.evaluation.evaluate`);
4. the best score wins; on a tie the simpler method, in the order of
   :data:`CANDIDATES`.

The chosen method is then fitted again on every article and link (:func:`fit_chosen`),
unless it reads no link (TF-IDF, BM25: the model fitted while choosing is that model
already; :func:`choose_and_fit` does both). Without an editorial link, or without a
validation page that has some, TF-IDF serves (it needs no link), and the record says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sklearn.base import clone

from warehouse.model import Article, EditorialLink

from .candidates import to_timestamp
from .comparison import default_methods
from .evaluation import evaluate, hold_out, relevant_targets, split_articles
from .models.learned import NothingToLearn

__all__ = [
    "CANDIDATES",
    "METHODS",
    "MethodChoice",
    "best_method",
    "choose_and_fit",
    "choose_method",
    "fit_chosen",
]

#: The methods ``fit`` chooses between, simplest first (the order that breaks ties).
CANDIDATES = ("tfidf", "bm25", "learned")
#: What ``--method`` accepts.
METHODS = ("auto", *CANDIDATES)
#: The score that decides, and its protocol.
METRIC = "nDCG@10"
MODE = "existing"


@dataclass(frozen=True)
class MethodChoice:
    """The method chosen to serve the lists, and why.

    Attributes
    ----------
    method : str
        One of :data:`CANDIDATES`.
    reason : str
        Why, in words (shown by ``relnews fit``).
    forced : bool
        Chosen by the owner (``--method``), not by validation.
    metric : str
        The score compared, e.g. ``"nDCG@10"`` (mode ``"existing"``).
    scores : dict of str to float or None
        Each candidate's validation score; None for one that could not be fitted.
    intervals : dict of str to list of float
        The 95% bootstrap interval of each score, over validation pages.
    notes : dict of str to str
        Why a candidate has no score.
    split : str
        How the validation pages were held out.
    n_validation : int
        Validation pages judged (those with editorial links).
    n_train_links : int
        Editorial links the candidates were fitted on while being judged.
    """

    method: str
    reason: str
    forced: bool = False
    metric: str = METRIC
    scores: dict[str, float | None] = field(default_factory=dict)
    intervals: dict[str, list[float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    split: str = ""
    n_validation: int = 0
    n_train_links: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The record stored with the model (``models.choice``)."""
        return asdict(self)

    def with_method(self, method: str, why: str) -> MethodChoice:
        """The same record with another method served, and why (the chosen one could
        not be fitted on everything)."""
        return MethodChoice(**{**asdict(self), "method": method, "reason": why})


def best_method(scores: Mapping[str, float | None]) -> str:
    """The candidate with the best score (None: not scored); on a tie, the simpler, in
    the order of :data:`CANDIDATES`."""
    scored = [name for name in CANDIDATES if scores.get(name) is not None]
    if not scored:
        raise ValueError("no candidate was scored")
    return max(scored, key=lambda name: (scores[name], -CANDIDATES.index(name)))


def _scored_reason(choice_scores: dict[str, float | None], best: str, n: int) -> str:
    ranked = sorted(
        (name for name, value in choice_scores.items() if value is not None),
        key=lambda name: (-(choice_scores[name] or 0.0), CANDIDATES.index(name)),
    )
    listed = ", ".join(f"{name} {choice_scores[name]:.3f}" for name in ranked)
    tie = [name for name in ranked if name != best and choice_scores[name] == choice_scores[best]]
    why = f"best {METRIC} on {n} validation pages ({listed})"
    return why + (f"; tied with {', '.join(tie)}, the simpler kept" if tie else "")


def choose_method(
    articles: Sequence[Article],
    links: Sequence[EditorialLink],
    *,
    method: str = "auto",
    validation_fraction: float = 0.2,
    test_fraction: float = 0.2,
    random_state: int = 0,
    n_bootstrap: int = 1000,
    on_step: Callable[[str], None] = lambda message: None,
) -> MethodChoice:
    """Choose the method that serves the lists (see the module docstring).

    Parameters
    ----------
    articles : sequence of Article
        The archive.
    links : sequence of EditorialLink
        Editorial links between archived articles.
    method : {"auto", "tfidf", "bm25", "learned"}, default="auto"
        "auto" chooses by validation; a method's name forces it.
    validation_fraction : float, default=0.2
        Share of the pages left after the evaluation's held out, held out to choose.
    test_fraction : float, default=0.2
        The share ``relnews evaluate`` holds out (set aside here).
    random_state : int, default=0
        Seeds the draws of undated sites, the learned model and the bootstrap.
    n_bootstrap : int, default=1000
        Resamples behind the intervals (0: none).
    on_step : callable, default=no-op
        Hears each candidate's score as it comes.

    Returns
    -------
    MethodChoice

    Raises
    ------
    ValueError
        For an unknown ``method``.
    """
    return _choose(
        articles,
        links,
        method=method,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        random_state=random_state,
        n_bootstrap=n_bootstrap,
        on_step=on_step,
    )[0]


def _choose(
    articles: Sequence[Article],
    links: Sequence[EditorialLink],
    *,
    method: str = "auto",
    validation_fraction: float = 0.2,
    test_fraction: float = 0.2,
    random_state: int = 0,
    n_bootstrap: int = 1000,
    on_step: Callable[[str], None] = lambda message: None,
) -> tuple[MethodChoice, dict[str, Any]]:
    """:func:`choose_method`, and the candidates it fitted while choosing, by name."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method != "auto":
        return MethodChoice(method, f"forced (--method {method})", forced=True), {}
    urls = {article.url for article in articles}
    joined = [link for link in links if link.source_url in urls and link.target_url in urls]
    if not joined:
        return MethodChoice(
            "tfidf", "no editorial link joins two archived articles: TF-IDF, text alone"
        ), {}
    _, test, _ = split_articles(articles, test_fraction=test_fraction, random_state=random_state)
    held = set(test)
    rest = [article for article in articles if article.url not in held]
    split = hold_out(
        [article.url for article in rest],
        [to_timestamp(article.published) for article in rest],
        validation_fraction,
        random_state,
        minimum=1,
    )
    validation = [rest[i].url for i in split.held]
    training = {rest[i].url for i in split.kept}
    how = (
        f"{'newest' if split.by_date else 'a seeded draw of'} {validation_fraction:.0%} "
        f"of the pages outside the evaluation's held-out {test_fraction:.0%}"
        + ("" if split.by_date else f" (seed {random_state})")
    )
    train_links = [link for link in joined if link.source_url in training]
    relevant = relevant_targets(joined, validation)
    record: dict[str, Any] = {"split": how, "n_train_links": len(train_links)}
    if not relevant:
        return MethodChoice(
            "tfidf",
            "no validation page has editorial links to judge on: TF-IDF, the simplest",
            **record,
        ), {}
    methods = default_methods(random_state)
    fitted: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for name in CANDIDATES:
        try:
            fitted[name] = clone(methods[name], safe=False).fit(articles, train_links)
        except NothingToLearn as error:
            notes[name] = str(error)
    report = evaluate(
        fitted,
        validation,
        relevant,
        mode=MODE,
        articles=articles,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        split=how,
    )
    scores: dict[str, float | None] = {name: None for name in CANDIDATES}
    intervals: dict[str, list[float]] = {}
    for name in fitted:
        row = report.row(name, METRIC, MODE)
        scores[name] = row.value
        if row.ci_low is not None and row.ci_high is not None:
            intervals[name] = [row.ci_low, row.ci_high]
        on_step(f"validation {METRIC} of {name}: {row.value:.3f}")
    n_validation = report.row(next(iter(fitted)), METRIC, MODE).n_queries
    best = best_method(scores)
    choice = MethodChoice(
        best,
        _scored_reason(scores, best, n_validation),
        scores=scores,
        intervals=intervals,
        notes=notes,
        n_validation=n_validation,
        **record,
    )
    return choice, fitted


def fit_chosen(
    articles: Sequence[Article],
    links: Sequence[EditorialLink],
    choice: MethodChoice,
    random_state: int = 0,
) -> tuple[Any, MethodChoice]:
    """The chosen method fitted on every article and link, and the choice as served.

    A learned model that finds nothing to learn in all the links gives way to TF-IDF,
    and the returned choice says so.
    """
    model = clone(default_methods(random_state)[choice.method], safe=False)
    try:
        return model.fit(articles, links), choice
    except NothingToLearn as error:
        tfidf = clone(default_methods(random_state)["tfidf"], safe=False)
        why = f"{choice.reason}; but the learned ranker had nothing to learn ({error}): TF-IDF"
        return tfidf.fit(articles, links), choice.with_method("tfidf", why)


def choose_and_fit(
    articles: Sequence[Article],
    links: Sequence[EditorialLink],
    *,
    method: str = "auto",
    random_state: int = 0,
    on_step: Callable[[str], None] = lambda message: None,
) -> tuple[Any, MethodChoice]:
    """:func:`choose_method`, then the chosen method fitted on every article and link
    (:func:`fit_chosen`), and the choice as served; ``on_step`` hears the choice too.

    A chosen candidate that reads no link (it has no ``link_sources_``) is served as
    fitted while choosing: on every link it would be the same model.
    """
    choice, fitted = _choose(
        articles, links, method=method, random_state=random_state, on_step=on_step
    )
    on_step(f"{choice.method}: {choice.reason}")
    model = fitted.get(choice.method)
    if model is not None and getattr(model, "link_sources_", None) is None:
        return model, choice
    return fit_chosen(articles, links, choice, random_state)
