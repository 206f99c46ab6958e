"""Jobs that chain the packages: read the archive, call the recommender, write back.

Each job is a few calls into ``crawler``, ``warehouse`` and ``recommender``; the
logic lives in those packages. The command line calls these.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.page.urls import url_spellings
from crawler.profiles import SiteProfile
from recommender.candidates import unfitted_sources
from recommender.persistence import load_model, model_id_for, models_dir_for, save_model
from recommender.rules import (
    ANY_SOURCE,
    RelatedArticle,
    RuleError,
    Rules,
    check_rule,
    parse_scope,
    published_times,
    related_lists,
    scope_matches,
    scope_suggestion,
)
from relnews.errors import JobError, NotInArchive
from relnews.exit_codes import EXIT_OF_STATUS, EXIT_OK, EXIT_PARTIAL
from warehouse import (
    ArchiveLock,
    Article,
    QueryResult,
    Reader,
    WarehouseError,
    Writer,
    opened,
)

if TYPE_CHECKING:  # scikit-learn and Scrapy load only in the jobs that need them
    from crawler.run import CrawlSummary
    from recommender import EvaluationReport


@dataclass(frozen=True)
class FitResult:
    model_id: str
    path: Path
    n_articles: int
    n_lists: int
    method: str = ""
    choice: str = ""  # why this method, in words
    n_backfill: int = 0  # stored suggestions that fill a list the model left short


def fit(
    db: str | Path,
    k: int = 10,
    models_dir: str | Path | None = None,
    n_jobs: int | None = None,
    on_step: Callable[[str], None] = lambda message: None,
    method: str = "auto",
) -> FitResult:
    """Fit the recommender on the archive and store its top-k lists.

    ``method`` "auto" chooses between the learned ranker, TF-IDF and BM25 by nDCG@10 on
    validation pages (see :mod:`recommender.choice`); a method's name forces it. The
    chosen one is fitted on everything, its file saved beside the archive, and the
    ``models`` table records its id, settings and the choice with every candidate's
    score. Lists the model leaves short of ``k`` are filled (``backfill``), and each
    list says whether the model was fitted on its source's own links (``in_sample``).
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
    from recommender.backfill import fill_lists
    from recommender.choice import choose_and_fit

    model, choice = choose_and_fit(articles, links, method=method, on_step=on_step)
    params: dict[str, Any] = model.get_params()
    if choice.method == "learned":
        params |= {
            "best_params": model.best_params_,
            "best_cold_params": model.best_cold_params_,
            "validation_ndcg@10": model.validation_scores_,
            "n_links": len(links),
            # the date rule as fitted: may candidates be newer than the article?
            "before_only_fitted": model.before_only_,
            "forward_share": round(model.forward_share_, 4),
        }
    model_id = model_id_for(choice.method, params, model.urls_)
    path = save_model(model, model_id, models_dir or models_dir_for(db))
    on_step(f"{model_id} fitted in {time.monotonic() - started:.0f} s; listing")
    if choice.method == "learned":  # after the id and the file: threads change no result
        model.set_params(n_jobs=n_jobs)
    shown = [0]

    def progress(done: int, total: int) -> None:
        if done * 10 // total > shown[0] * 10 // total or done == total:
            shown[0] = done
            on_step(f"lists: {done:,} of {total:,} articles")

    if choice.method == "learned":
        lists = model.recommend_all(k=k, progress=progress)
    else:
        lists = _all_lists(model, k, progress)
    own_links: frozenset[str] = getattr(model, "link_sources_", frozenset())
    rows = [
        (source, rank, item.target_url, item.score, item.shared_terms, rank > len(found),
         source in own_links)
        for source, (found, extra) in fill_lists(model, lists, k).items()
        for rank, item in enumerate([*found, *extra], start=1)
    ]  # fmt: skip
    n_backfill = sum(row[5] for row in rows)
    on_step(f"storing {len(rows):,} suggestions ({n_backfill:,} backfill)")
    with opened(db) as con:
        writer = Writer(con)
        writer.save_model(
            model_id, choice.method, params, len(articles), str(path), choice=choice.as_dict()
        )
        n_lists = writer.save_recommendations(model_id, rows)
    return FitResult(
        model_id, path, len(articles), n_lists, choice.method, choice.reason, n_backfill
    )


#: Past this share of articles new since the fit, refresh refits instead of listing them.
REFIT_SHARE = 0.1


def only_new_articles(summary: CrawlSummary, fitted_on: int) -> bool:
    """Whether a crawl brought new articles and nothing else a model learns from (no new
    editors' link, none changed or gone), few beside the ``fitted_on`` articles of the
    model: they are then listed from their words, and the refit waits until they are many."""
    return (
        summary.articles_new > 0
        and not (summary.links_new or summary.articles_gone)
        and summary.versions_new == summary.articles_new
        and summary.articles_new <= REFIT_SHARE * fitted_on
    )


def list_new_articles(db: str | Path, k: int = 10) -> int:
    """Store lists for the live articles the newest model was not fitted on (crawled
    since), ranked from their words as drafts are, without refitting: they are answered
    at once, while the model's other lists stay. Returns how many were listed."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        model_id = reader.latest_model_id()
        if model_id is None:
            return 0
        titles = reader.live_titles()
        new = unlisted_articles(reader, titles, reader.listed_sources(model_id))
    _, model = load_model(db)
    texts, published = from_words(model, new)
    if not texts:
        return 0
    empty = Rules.from_rows(())  # rules apply when a list is shown, not when it is stored
    lists = related_lists(model, list(texts), k, empty, titles, published=published, texts=texts)
    rows = [
        (source, item.rank, item.url, item.score or 0.0, item.shared_terms, False, False)
        for source, items in lists.items()
        for item in items
    ]
    with opened(db) as con:
        Writer(con).add_recommendations(model_id, rows)
    return len(texts)


def unlisted_articles(
    reader: Reader, titles: Iterable[str], stored: Container[str]
) -> list[Article]:
    """The live articles (``titles``) without a list in ``stored``: crawled since the fit."""
    return reader.articles(urls=[url for url in titles if url not in stored])


def from_words(
    model: Any, articles: Iterable[Article]
) -> tuple[dict[str, tuple[str, str]], dict[str, float]]:
    """Those of ``articles`` the model was not fitted on, as :func:`related_lists` ranks
    them from their words (``texts=``), and the publication times it needs (``published=``):
    the fitted articles' and theirs."""
    texts, times = unfitted_sources(model.index_, articles)
    return texts, {**published_times(model), **times}


def _all_lists(
    model: Any, k: int, progress: Callable[[int, int], None], block: int = 2000
) -> dict[str, list]:
    """Every fitted article's top-k in about ten blocks of at least ``block`` articles,
    ``progress(done, total)`` after each (progress is shown every tenth; each call may
    prepare the whole model again: a TF-IDF model transposes its matrix)."""
    urls = list(model.urls_)
    step = max(block, -(-len(urls) // 10))
    lists: dict[str, list] = {}
    for start in range(0, len(urls), step):
        lists |= model.recommend_all(k, urls=urls[start : start + step])
        progress(len(lists), len(urls))
    return lists


def _rule_side(reader: Reader, text: str, db: str | Path) -> str:
    """One side of a rule as stored: '*', a scope (``rubrique:...``, checked by
    :func:`check_rule`), or the archived URL of an article."""
    if text == ANY_SOURCE or parse_scope(text) is not None:
        return text
    return _archived(reader, text, db)


def archived_url(reader: Reader, url: str) -> str | None:
    """The archived article a reader at ``url`` sees, whatever its spelling (tracking
    parameters, fragment, case, trailing slash, index file, alias, canonical link)."""
    return reader.resolve_url(url_spellings(url))


def _archived(reader: Reader, url: str, db: str | Path) -> str:
    """The archived URL for ``url`` (through aliases and redirects), or a clear error."""
    resolved = archived_url(reader, url)
    if resolved is None:
        raise NotInArchive(f"{url} is not in {db}: crawl it first")
    return resolved


def recommend(
    db: str | Path, url: str, k: int = 10, fresh_days: float | None = None
) -> list[RelatedArticle]:
    """Suggestions for an archived article (found by its URL or an alias of it), with the
    editors' rules and the freshness window applied."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        resolved = _archived(reader, url, db)
        rules = Rules.from_rows(reader.editor_rules(resolved).rows, reader.article_facts())
        titles = reader.live_titles()
        source = reader.articles(urls=[resolved])
    _, model = load_model(db)
    # An article crawled since the fit is ranked from its archived words, as a draft.
    texts, published = from_words(model, source)
    return related_lists(
        model,
        [resolved],
        k,
        rules,
        titles,
        fresh_days=fresh_days,
        published=published,
        texts=texts,
    )[resolved]


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
        rules = Rules.from_rows(reader.editor_rules().rows, reader.article_facts())
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
        rules = Rules.from_rows(reader.editor_rules().rows, reader.article_facts())
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
    # how many live articles each scope side matches, e.g. {"rubrique:Sport": 41}
    matches: tuple[tuple[str, int], ...] = ()


def set_rule(
    db: str | Path,
    rule: str,
    source: str,
    target: str,
    note: str | None = None,
    force: bool = False,
) -> RuleChange:
    """Pin a target for a source, or block it (for one source, or '*' for all).

    A scope that matches no live article (a misspelt rubrique, an unknown tag) is refused,
    with the nearest archived name, unless ``force`` (a section not crawled yet)."""
    check_rule(rule, source, target, ())  # before any lookup: a pin for every list
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        source_url = _rule_side(reader, source, db)
        target_url = _rule_side(reader, target, db)
        everywhere = Rules.from_rows(reader.editor_rules(ANY_SOURCE).rows).blocks_for(None)
        scopes = [side for side in (source_url, target_url) if parse_scope(side) is not None]
        facts = reader.article_facts() if scopes else {}
    warning = check_rule(rule, source_url, target_url, everywhere)
    matches = tuple((scope, len(scope_matches(scope, facts))) for scope in scopes)
    for scope, count in matches:
        if count == 0 and not force:
            nearest = scope_suggestion(scope, facts)
            hint = f"did you mean {nearest}? " if nearest else ""
            raise RuleError(
                f"{scope} matches no archived article: {hint}(--force stores it all the same)"
            )
    with opened(db) as con:
        status = Writer(con).set_editor_rule(source_url, target_url, rule, note)
    return RuleChange(rule, source_url, target_url, status, warning, matches)


def remove_rule(db: str | Path, rule: str, source: str, target: str) -> RuleChange:
    """Drop a pin or a block (URLs resolved as when they were set)."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        source_url = source if source == ANY_SOURCE else archived_url(reader, source) or source
        target_url = archived_url(reader, target) or target
    with opened(db) as con:
        removed = Writer(con).remove_editor_rule(source_url, target_url, rule)
    if not removed:
        where = "every list" if source_url == ANY_SOURCE else source_url
        raise NotInArchive(f"no {rule} of {target_url} for {where} in {db}")
    return RuleChange(rule, source_url, target_url, "removed")


def list_rules(db: str | Path, source: str | None = None) -> QueryResult:
    """The pins and blocks (of one source, with the '*' blocks), with the targets' titles."""
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        source_url = None if source is None else _rule_side(reader, source, db)
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
    in both modes, and store the scores with their intervals, and the lists judged
    (out of sample) apart from the lists served (``evaluation_lists``)."""
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
        keep_lists=True,
    )
    with opened(db) as con:
        writer = Writer(con)
        evaluation_id = writer.save_evaluation(report.split, report.rows, model_id=model_id)
        writer.save_evaluation_lists(evaluation_id, report.lists)
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
    method: str = "auto",
) -> RefreshResult:
    """Incremental crawl, then refit (``method`` as :func:`fit`'s), new lists and
    evaluation when the archive changed.

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
            reader = Reader(con)
            model_id = reader.latest_model_id()
            has_model = model_id is not None
            fitted_on = reader.model_info(model_id).get("n_articles", 0) if model_id else 0
        # A known dead link fetched again changes nothing; an article found gone does.
        changed = (
            summary.articles_new
            or summary.versions_new
            or summary.links_new
            or summary.articles_gone
        )
        fitted, report = None, None
        if changed and has_model and only_new_articles(summary, fitted_on):
            listed = list_new_articles(db, k=k)
            on_step(f"{listed} new article(s) listed from their words; the model stays")
        elif changed or not has_model:
            on_step("fitting the model and writing new lists")
            try:
                fitted = fit(db, k=k, method=method)
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


@dataclass(frozen=True)
class DemoResult:
    crawl: CrawlSummary
    fitted: FitResult
    report: EvaluationReport
    counts: dict[str, int]
    seconds: float


def demo(
    db: str | Path,
    port: int,
    overrides: dict[str, Any] | None = None,
    on_step: Callable[[str], None] = lambda message: None,
) -> DemoResult:
    """Serve the bundled demo site, crawl it, fit and evaluate: the whole pipeline once."""
    from crawler.run import crawl  # Scrapy: only the jobs that crawl load it
    from demosite.server import DemoServer

    started = time.monotonic()
    try:
        server = DemoServer(port=port)
        server.__enter__()
    except OSError as error:
        raise JobError(
            f"cannot serve the demo site on port {port}: {error}. Pass --port with a free one"
        ) from error
    try:
        on_step(f"[1/4] demo site at {server.url} ({len(server.site.articles)} articles)")
        on_step(f"[2/4] crawling it into {db}")
        summary = crawl(db, "demo", url=server.url, overrides=overrides)
    finally:
        server.close()
    on_step(f"      {summary.describe()}")
    on_step("[3/4] fitting the recommender (the learned ranker, TF-IDF or BM25: the best "
            "on validation pages)")  # fmt: skip
    fitted = fit(db)
    on_step(f"      {fitted.model_id}: {fitted.n_lists} suggestions for "
            f"{fitted.n_articles} articles; {fitted.method}: {fitted.choice}")  # fmt: skip
    on_step("[4/4] evaluating against the editors' links (newest 20% of articles held out)")
    report = evaluate(db)
    with opened(db, read_only=True) as con:
        counts = Reader(con).counts()
    return DemoResult(summary, fitted, report, counts, time.monotonic() - started)
