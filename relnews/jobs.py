"""Jobs that chain the packages: read the archive, call the recommender, write back.

Each job is a few calls into ``crawler``, ``warehouse`` and ``recommender``; the
logic lives in those packages. The command line calls these.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib

from crawler.profiles import SiteProfile
from crawler.run import CrawlSummary, crawl
from recommender import TfidfRecommender
from recommender.experiment import EvaluationReport, compare_methods
from relnews.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from warehouse import ArchiveLock, Reader, WarehouseError, Writer, opened


def models_dir_for(db: str | Path) -> Path:
    """Where the fitted models of an archive are saved: beside it."""
    db = Path(db)
    return db.with_name(db.stem + ".models")


@dataclass(frozen=True)
class FitResult:
    model_id: str
    path: Path
    n_articles: int
    n_lists: int


def fit(db: str | Path, k: int = 10, models_dir: str | Path | None = None) -> FitResult:
    """Fit the TF-IDF model on the archive's latest articles and store its top-k lists."""
    with opened(db, read_only=True) as con:
        articles = Reader(con).articles()
    if len(articles) < 2:
        raise WarehouseError(f"{db} holds {len(articles)} article(s): crawl a site first")
    model = TfidfRecommender().fit(articles)
    params = model.get_params()
    digest = hashlib.sha256(
        json.dumps([params, model.urls_], sort_keys=True, default=str).encode()
    ).hexdigest()[:10]
    model_id = f"tfidf-{digest}"
    folder = Path(models_dir) if models_dir else models_dir_for(db)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model_id}.joblib"
    joblib.dump(model, path)
    lists = model.recommend_all(k=k)
    rows = [
        (source, rank, suggestion.target_url, suggestion.score, suggestion.shared_terms)
        for source, suggestions in lists.items()
        for rank, suggestion in enumerate(suggestions, start=1)
    ]
    with opened(db) as con:
        writer = Writer(con)
        writer.save_model(model_id, "tfidf", params, len(articles), str(path))
        n_lists = writer.save_recommendations(model_id, rows)
    return FitResult(model_id, path, len(articles), n_lists)


def load_model(db: str | Path, model_id: str | None = None) -> tuple[str, TfidfRecommender]:
    """The newest fitted model of an archive (or the one named), loaded from its file."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        model_id = model_id or reader.latest_model_id()
        rows = reader.query("SELECT path FROM models WHERE model_id = ?", [model_id]).rows
    if not model_id or not rows:
        raise WarehouseError(f"{db} has no fitted model{f' {model_id}' if model_id else ''}: "
                             "run `relnews fit` first")  # fmt: skip
    path = Path(rows[0][0])
    if not path.exists():
        raise WarehouseError(f"model file {path} is missing: run `relnews fit` again")
    return model_id, joblib.load(path)


@dataclass(frozen=True)
class RelatedArticle:
    rank: int
    title: str
    url: str
    score: float
    shared_terms: tuple[str, ...]


def recommend(db: str | Path, url: str, k: int = 10) -> list[RelatedArticle]:
    """Suggestions for an archived article (found by its URL or an alias of it)."""
    with opened(db, read_only=True) as con:
        resolved = Reader(con).resolve_url(url)
    if resolved is None:
        raise WarehouseError(f"{url} is not in {db}: crawl it first")
    _, model = load_model(db)
    suggestions = model.recommend(resolved, k=k)
    with opened(db, read_only=True) as con:
        titles = Reader(con).titles([s.target_url for s in suggestions])
    return [
        RelatedArticle(rank, titles.get(s.target_url, ""), s.target_url, s.score, s.shared_terms)
        for rank, s in enumerate(suggestions, start=1)
    ]


def evaluate(
    db: str | Path,
    test_fraction: float = 0.2,
    k: int = 4,
    ndcg_k: int = 10,
    random_state: int = 0,
) -> EvaluationReport:
    """Evaluate the model beside the baselines on a split by publication date, and store it."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        articles = reader.articles()
        links = reader.editorial_links()
        model_id = reader.latest_model_id()
    report = compare_methods(
        articles,
        links,
        test_fraction=test_fraction,
        k=k,
        ndcg_k=ndcg_k,
        random_state=random_state,
    )
    split = f"newest {test_fraction:.0%} by publication date"
    with opened(db) as con:
        rows = [(row.method, row.metric, row.value, row.n_queries) for row in report.rows]
        Writer(con).save_evaluation(split, rows, model_id=model_id)
    return report


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class RefreshResult:
    crawl: CrawlSummary
    fitted: FitResult | None
    report: EvaluationReport | None
    notes: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        if self.crawl.status == "failed":
            return EXIT_FAILED
        if self.crawl.status == "partial" or self.notes:
            return EXIT_PARTIAL
        return EXIT_OK


def refresh(
    db: str | Path,
    profile: str | SiteProfile,
    urls: Sequence[str] = (),
    overrides: dict[str, Any] | None = None,
    k: int = 10,
    on_step: Callable[[str], None] = lambda message: None,
) -> RefreshResult:
    """Incremental crawl, then refit, new lists and evaluation when the archive changed.

    Holds the archive's lock throughout, so two refreshes never overlap (the second one
    raises :class:`warehouse.LockHeld` at once).
    """
    notes: list[str] = []
    with ArchiveLock(db):
        on_step(f"crawling into {db}")
        summary = crawl(db, profile, url=list(urls), overrides=overrides, lock=False)
        on_step(f"crawl {summary.status}: {summary.describe()}")
        with opened(db, read_only=True) as con:
            has_model = Reader(con).latest_model_id() is not None
        changed = summary.articles_new or summary.versions_new or summary.gone
        fitted, report = None, None
        if changed or not has_model:
            on_step("fitting the model and writing new lists")
            try:
                fitted = fit(db, k=k)
            except WarehouseError as error:
                notes.append(f"not fitted: {error}")
        else:
            on_step("nothing changed: the model and its lists stay as they are")
        if fitted is not None or changed:
            on_step("evaluating against the editors' links")
            try:
                report = evaluate(db)
            except ValueError as error:  # e.g. no held-out article has editorial links
                notes.append(f"not evaluated: {error}")
    return RefreshResult(summary, fitted, report, tuple(notes))
