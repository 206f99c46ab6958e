"""Jobs that chain the packages: read the archive, call the recommender, write back.

Each job is a few calls into ``crawler``, ``warehouse`` and ``recommender``; the
logic lives in those packages. The command line calls these.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import joblib

from crawler.profiles import SiteProfile
from recommender.policy import ANY_SOURCE, BLOCK, PIN, Rules, ruled_lists
from recommender.suggestion import Suggestion
from relnews.exit_codes import EXIT_OF_STATUS, EXIT_OK, EXIT_PARTIAL
from warehouse import ArchiveLock, QueryResult, Reader, WarehouseError, Writer, opened

if TYPE_CHECKING:  # scikit-learn and Scrapy load only in the jobs that need them
    from crawler.run import CrawlSummary
    from recommender import EvaluationReport, TfidfRecommender


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


def fit(
    db: str | Path,
    k: int = 10,
    models_dir: str | Path | None = None,
    n_jobs: int | None = None,
    on_step: Callable[[str], None] = lambda message: None,
) -> FitResult:
    """Fit the recommender on the archive and store its top-k lists.

    The learned ranker when the archive holds editorial links between its articles (it
    learns from them); plain TF-IDF otherwise. The model file is saved beside the
    archive, and the ``models`` table records its id, settings and validation scores.
    ``n_jobs`` threads compute the learned model's lists (the lists are the same).
    ``on_step`` hears what is being done, and how far the lists are, every tenth.
    """
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        articles = reader.articles()
        links = reader.editorial_links()
    if len(articles) < 2:
        raise WarehouseError(f"{db} holds {len(articles)} article(s): crawl a site first")
    started = time.monotonic()
    on_step(f"fitting on {len(articles):,} articles and {len(links):,} editorial links")
    from recommender import LearnedRecommender, TfidfRecommender

    model: Any
    try:
        model = LearnedRecommender().fit(articles, links)
        method = "learned"
        params: dict[str, Any] = {
            **model.get_params(),
            "best_params": model.best_params_,
            "best_cold_params": model.best_cold_params_,
            "validation_ndcg@10": model.validation_scores_,
            "n_links": len(links),
        }
    except ValueError:  # no editorial link to learn from: text similarity alone
        model = TfidfRecommender().fit(articles)
        method = "tfidf"
        params = model.get_params()
    digest = hashlib.sha256(
        json.dumps([params, list(model.urls_)], sort_keys=True, default=str).encode()
    ).hexdigest()[:10]
    model_id = f"{method}-{digest}"
    folder = Path(models_dir) if models_dir else models_dir_for(db)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model_id}.joblib"
    joblib.dump(model, path)
    on_step(f"{model_id} fitted in {time.monotonic() - started:.0f} s; listing")
    if method == "learned":  # after the id and the file: threads change no result
        model.set_params(n_jobs=n_jobs)
        shown = [0]

        def progress(done: int, total: int) -> None:
            if done * 10 // total > shown[0] * 10 // total or done == total:
                shown[0] = done
                on_step(f"lists: {done:,} of {total:,} articles")

        lists = model.recommend_all(k=k, progress=progress)
    else:
        lists = model.recommend_all(k=k)
    rows = [
        (source, rank, suggestion.target_url, suggestion.score, suggestion.shared_terms)
        for source, suggestions in lists.items()
        for rank, suggestion in enumerate(suggestions, start=1)
    ]
    on_step(f"storing {len(rows):,} suggestions")
    with opened(db) as con:
        writer = Writer(con)
        writer.save_model(model_id, method, params, len(articles), str(path))
        n_lists = writer.save_recommendations(model_id, rows)
    return FitResult(model_id, path, len(articles), n_lists)


def load_model(db: str | Path, model_id: str | None = None) -> tuple[str, TfidfRecommender]:
    """The newest fitted model of an archive (or the one named), loaded from its file."""
    with opened(db, read_only=True) as con:
        model_id, path = model_file(Reader(con), db, model_id)
    return model_id, joblib.load(path)


def model_file(reader: Reader, db: str | Path, model_id: str | None = None) -> tuple[str, Path]:
    """The id and file of the newest fitted model (or the one named), or a clear error."""
    model_id = model_id or reader.latest_model_id()
    stored_path = reader.model_path(model_id) if model_id else None
    if not model_id or stored_path is None:
        raise WarehouseError(f"{db} has no fitted model{f' {model_id}' if model_id else ''}: "
                             "run `relnews fit` first")  # fmt: skip
    stored = Path(stored_path)
    # Beside the archive first: an archive folder moved, or used from another working
    # folder, still finds its models.
    beside = models_dir_for(db) / stored.name
    path = beside if beside.exists() else stored
    if not path.exists():
        raise WarehouseError(
            f"model file {stored.name} is missing from {models_dir_for(db)}: "
            "run `relnews fit` again"
        )
    return model_id, path


@dataclass(frozen=True)
class RelatedArticle:
    """One line of a list as shown: ``score`` is None for a pin the model did not rank."""

    rank: int
    title: str
    url: str
    score: float | None
    shared_terms: tuple[str, ...]
    pinned: bool = False


def related_lists(
    model: Any,
    sources: Sequence[str | None],
    k: int,
    rules: Rules,
    titles: Mapping[str, str],
    *,
    fresh_days: float | None = None,
    now: float | None = None,
    text: str = "",
    title: str = "",
    published: Mapping[str, float] | None = None,
) -> dict[str | None, list[RelatedArticle]]:
    """The lists readers see for archived sources (or, for the source None, for ``text``):
    the model's ranking with the editors' rules and the freshness window applied.

    ``titles`` holds the live articles: suggestions outside it (gone since the fit) are
    dropped. The model only needs ``recommend_all``, ``recommend_text``, ``urls_``,
    ``index_`` and ``published_`` (``published``, from :func:`published_times`, saves
    rebuilding the dates on every call).
    """
    now = time.time() if now is None else now
    missing = [s for s in sources if s is not None and s not in model.index_]
    if missing:
        raise WarehouseError(
            f"{missing[0]} is not among the articles the model was fitted on (archived "
            "since, or gone): run `relnews fit` again"
        )

    def rank(pending: list[str | None], depth: int) -> Mapping[str | None, list[Suggestion]]:
        if pending == [None]:
            before = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)
            return {None: model.recommend_text(text, depth, before, title=title)}
        return model.recommend_all(depth, urls=pending)

    published = published_times(model) if published is None else published
    lists = ruled_lists(
        rank,
        list(sources),
        k,
        rules,
        max_depth=len(model.urls_),
        published=published,
        source_times=cast("Mapping[str | None, float]", published),  # None: no time
        fresh_days=fresh_days,
        now=now,
        live=titles,
    )
    return {
        source: [
            RelatedArticle(
                rank,
                titles.get(s.target_url, ""),
                s.target_url,
                None if math.isnan(s.score) else s.score,
                tuple(s.shared_terms),
                s.pinned,
            )
            for rank, s in enumerate(suggestions, start=1)
        ]
        for source, suggestions in lists.items()
    }


def published_times(model: Any) -> dict[str, float]:
    """Each fitted article's publication time (POSIX seconds, NaN when unknown)."""
    return dict(zip(model.urls_, map(float, model.published_), strict=True))


def _archived(reader: Reader, url: str, db: str | Path) -> str:
    """The archived URL for ``url`` (through aliases and redirects), or a clear error."""
    resolved = reader.resolve_url(url)
    if resolved is None:
        raise WarehouseError(f"{url} is not in {db}: crawl it first")
    return resolved


def recommend(
    db: str | Path, url: str, k: int = 10, fresh_days: float | None = None
) -> list[RelatedArticle]:
    """Suggestions for an archived article (found by its URL or an alias of it), with the
    editors' rules and the freshness window applied."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        resolved = _archived(reader, url, db)
        rules = Rules.from_rows(reader.editor_rules(resolved).rows)
        titles = reader.live_titles()
    _, model = load_model(db)
    return related_lists(model, [resolved], k, rules, titles, fresh_days=fresh_days)[resolved]


def split_title(text: str) -> tuple[str, str]:
    """A plain-text article as ``(title, body)``: its first non-blank line, then the rest."""
    lines = text.strip().splitlines()
    return (lines[0].strip(), "\n".join(lines[1:]).strip()) if lines else ("", "")


def recommend_text(
    db: str | Path,
    text: str,
    title: str = "",
    k: int = 10,
    fresh_days: float | None = None,
) -> list[RelatedArticle]:
    """Suggestions for a new article, not archived (cold start): archived articles
    published up to now, the '*' blocks applied, the window counted back from now."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        rules = Rules.from_rows(reader.editor_rules().rows)
        titles = reader.live_titles()
    _, model = load_model(db)
    lists = related_lists(
        model, [None], k, rules, titles, fresh_days=fresh_days, text=text, title=title
    )
    return lists[None]


def export_lists(
    db: str | Path, k: int = 10, fresh_days: float | None = None
) -> dict[str, list[RelatedArticle]]:
    """Every live article's list from the newest fitted model, rules applied, by URL."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        rules = Rules.from_rows(reader.editor_rules().rows)
        titles = reader.live_titles()
    _, model = load_model(db)
    sources = [url for url in model.urls_ if url in titles]
    lists = related_lists(model, sources, k, rules, titles, fresh_days=fresh_days)
    return {str(source): items for source, items in lists.items()}


# -- editors' rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class RuleChange:
    """What `pin`/`block` did, with the URLs as archived."""

    rule: str
    source_url: str
    target_url: str
    status: str  # added, replaced (the other rule of the pair), kept
    warning: str | None = None


def set_rule(
    db: str | Path, rule: str, source: str, target: str, note: str | None = None
) -> RuleChange:
    """Pin a target for a source, or block it (for one source, or '*' for all)."""
    if rule not in (PIN, BLOCK):
        raise ValueError(f"unknown rule {rule!r}")
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        if source == ANY_SOURCE and rule == PIN:
            raise WarehouseError("a pin needs a source article: only blocks hold everywhere")
        source_url = source if source == ANY_SOURCE else _archived(reader, source, db)
        target_url = _archived(reader, target, db)
        everywhere = Rules.from_rows(reader.editor_rules(ANY_SOURCE).rows).blocks_for(None)
    if source_url == target_url:
        raise WarehouseError(f"{target_url} is the source itself: it is never suggested")
    warning = None
    if rule == PIN and target_url in everywhere:
        warning = (
            f"{target_url} is blocked everywhere, and a block wins over a pin: "
            f"`relnews unblock {target_url}` to show it"
        )
    with opened(db) as con:
        status = Writer(con).set_editor_rule(source_url, target_url, rule, note)
    return RuleChange(rule, source_url, target_url, status, warning)


def remove_rule(db: str | Path, rule: str, source: str, target: str) -> RuleChange:
    """Drop a pin or a block (URLs resolved as when they were set)."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        source_url = source if source == ANY_SOURCE else reader.resolve_url(source) or source
        target_url = reader.resolve_url(target) or target
    with opened(db) as con:
        removed = Writer(con).remove_editor_rule(source_url, target_url, rule)
    if not removed:
        where = "every list" if source_url == ANY_SOURCE else source_url
        raise WarehouseError(f"no {rule} of {target_url} for {where} in {db}")
    return RuleChange(rule, source_url, target_url, "removed")


def list_rules(db: str | Path, source: str | None = None) -> QueryResult:
    """The pins and blocks (of one source, with the '*' blocks), with the targets' titles."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        source_url = None if source is None else _archived(reader, source, db)
        rules = reader.editor_rules(source_url).rows
        titles = reader.titles([row[1] for row in rules])
    columns = ["rule", "source_url", "target_url", "title", "note", "created_at"]
    rows = [
        (rule, source_url, target, titles.get(target, ""), note, created)
        for source_url, target, rule, created, note in rules
    ]
    return QueryResult(columns, rows)


def evaluate(
    db: str | Path,
    test_fraction: float = 0.2,
    k: int = 4,
    ndcg_k: int = 10,
    random_state: int = 0,
) -> EvaluationReport:
    """Evaluate the learned model beside TF-IDF, BM25 and the baselines on one split
    (by publication date, or a fixed random split of pages when the site has no dates),
    in both modes, and store the scores with their intervals."""
    from recommender import compare_methods

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
    with opened(db) as con:
        Writer(con).save_evaluation(report.split, report.rows, model_id=model_id)
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
        code = EXIT_OF_STATUS[self.crawl.status]
        return EXIT_PARTIAL if code == EXIT_OK and self.notes else code

    @property
    def outcome(self) -> str:
        """One word for the whole refresh: done, partial, interrupted or failed."""
        if self.exit_code == EXIT_OK:
            return "done"
        return self.crawl.status if self.crawl.status != "finished" else "partial"


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
        from crawler.run import crawl  # Scrapy: only the jobs that crawl load it

        summary = crawl(db, profile, url=list(urls), overrides=overrides, lock=False)
        on_step(f"crawl {summary.status}: {summary.describe()}")
        with opened(db, read_only=True) as con:
            has_model = Reader(con).latest_model_id() is not None
        # A known dead link fetched again changes nothing; an article found gone does.
        changed = (
            summary.articles_new
            or summary.versions_new
            or summary.links_new
            or summary.articles_gone
        )
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
