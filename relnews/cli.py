"""The ``relnews`` command line: each command parses its options, calls one function of
the packages (or a job of :mod:`relnews.jobs`), and prints through shared output options."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crawler.page.urls import site_entry
from crawler.profiles import ProfileError, SiteProfile, builtin_profiles, load_profile, profile_for
from recommender.rules import ANY_SOURCE, NotFitted, RuleError
from relnews.config import NameOrFile, default_map, find_config, load_config
from relnews.errors import JobError
from relnews.exit_codes import EXIT_LOCKED, EXIT_OF_STATUS, EXIT_OK, EXIT_USAGE
from relnews.inputs import FiniteFloat, TextFile
from relnews.output import (
    EXPORT_FORMATS,
    FORMATS,
    LIST_COLUMNS,
    format_export,
    format_rows,
    list_rows,
    terminal_safe,
)
from warehouse import ArchiveLock, LockHeld, Reader, WarehouseError, opened
from warehouse.database import STORAGE_VERSION
from warehouse.lock import lock_holder

DEFAULT_DB = "relnews.duckdb"
#: A --profile value: a built-in profile's name, else a TOML file.
PROFILE = NameOrFile(builtin_profiles, "profile")
DEMO_DB = "relnews-demo.duckdb"
DEMO_PORT = 8765


def _jobs():
    # The jobs pull in scikit-learn: load them only for the commands that fit or rank,
    # so that a crawl starts fast.
    from relnews import jobs

    return jobs


def db_option(default: str = DEFAULT_DB) -> Callable:
    return click.option(
        "--db",
        default=default,
        envvar="RELNEWS_DB",
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        callback=_nonempty_path,
        help="The archive file (DuckDB). Also read from $RELNEWS_DB.",
    )


def _nonempty_path(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and str(value) in ("", "."):
        raise click.BadParameter("give a file name", param_hint="--db")
    return value


def output_options(command: Callable) -> Callable:
    """``--format table|csv|json``, shared by every command that prints rows."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="How to print the rows.",
    )(command)


def clean_errors(command: Callable) -> Callable:
    """Turn the packages' user-facing errors into a one-line message and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except LockHeld as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(EXIT_LOCKED)
        except (WarehouseError, ProfileError, RuleError, NotFitted, JobError) as error:
            message = str(error)
            if (pid := _crawl_holding(kwargs.get("db"))) is not None:
                # what the command found may be a crawl's work half done: say so first
                message = (
                    f"the archive is being written by a crawl (pid {pid}): try again once "
                    f"it ends ({message})"
                )
            raise click.ClickException(terminal_safe(message)) from error
        except OSError as error:  # a file that cannot be read or written
            where = f": {error.filename}" if error.filename else ""
            raise click.ClickException(f"{error.strerror or error}{where}") from error

    return wrapper


def _crawl_holding(db: Path | None) -> int | None:
    """The process id of a crawl or refresh writing ``db`` now, if any."""
    return lock_holder(db) if db is not None else None


def echo_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    click.echo(format_rows(columns, rows, fmt))


class RelnewsGroup(click.Group):
    """The command group, whose usage errors exit with :data:`EXIT_USAGE`, not click's 2.

    Click turns a bad command line into ``UsageError`` (``BadParameter`` for a bad value,
    from the command line, the environment or the configuration file) with exit code 2,
    which is a partial run's: an operator's timer would count a misconfigured run as a
    success. Every usage error passes here, whichever command raised it: the group's own
    options in ``make_context``, a command's options and body in ``invoke``.
    """

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _usage_exit_code():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_exit_code():
            return super().invoke(ctx)


@contextlib.contextmanager
def _usage_exit_code() -> Iterator[None]:
    try:
        yield
    except click.UsageError as error:
        # click reads the code from the error it shows (a class variable, set per error)
        error.exit_code = EXIT_USAGE  # type: ignore[misc]
        raise


@click.group(cls=RelnewsGroup)
@click.version_option(package_name="relnews")
@click.option("--config", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              envvar="RELNEWS_CONFIG",
              help="A TOML file of option values (default: ./relnews.toml if there); "
                   "the command line wins. Also read from $RELNEWS_CONFIG.")  # fmt: skip
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """relnews: archive a news site's articles and their editorial "related news"
    blocks into DuckDB, and learn to propose related articles.

    Start with `relnews demo`, then query the archive with `relnews sql`.
    """
    path = find_config(config, Path.cwd())
    if path is not None:
        ctx.default_map = default_map(load_config(path), cli.commands, path.parent)


@cli.command()
@db_option(DEMO_DB)
@click.option("--port", default=DEMO_PORT, show_default=True,
              help="Port for the demo site on 127.0.0.1 (kept the same so reruns "
                   "update the same URLs; 0 picks a free one).")  # fmt: skip
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log.")
@clean_errors
def demo(db: Path, port: int, verbose: bool) -> None:
    """Serve the bundled demo site, crawl it, fit, evaluate, and print a report.

    Example: relnews demo
    """
    result = _jobs().demo(db, port, _log_settings(verbose), on_step=click.echo)
    click.echo("")
    click.echo(result.report.format_table())
    counts = result.counts
    click.echo("")
    click.echo(
        f"Done in {result.seconds:.0f} s. {db} holds {counts['articles']} articles, "
        f"{counts['article_versions']} versions, {counts['related_links']} related links."
    )
    click.echo("Query it:")
    click.echo(f'  relnews sql "select title, published_at from latest_articles limit 5" --db {db}')
    click.echo(f'  relnews sql "select * from link_graph limit 5" --db {db}')
    click.echo(f"  python -c \"import duckdb; print(duckdb.connect('{db}', read_only=True)"
               ".sql('select count(*) from articles'))\"")  # fmt: skip


def _log_settings(verbose: bool) -> dict[str, Any]:
    return {"LOG_LEVEL": "INFO" if verbose else "WARNING"}


def crawl_options(command: Callable) -> Callable:
    """The options shared by `relnews crawl` and `relnews refresh`."""
    options = [
        click.option("--profile", "profile_name", type=PROFILE,
                     help="A built-in profile name (see `relnews profiles`) or a TOML file "
                          "[default: the built-in profile written for the --url's site, "
                          "else generic]."),
        click.option("--url", "urls", multiple=True,
                     help="The site's address (for profiles with relative start URLs), or a "
                          "page to start from; repeat for several."),
        click.option("--max-pages", type=click.IntRange(min=1),
                     help="Fetch this many pages at most (robots.txt and sitemaps count)."),
        click.option("--max-depth", type=click.IntRange(min=0),
                     help="Follow links this many hops at most."),
        click.option("--max-time", type=FiniteFloat(min=0, min_open=True),
                     help="Stop after this many seconds."),
        click.option("--max-age-days", type=FiniteFloat(min=0, min_open=True),
                     help="Skip related articles older than this (by their displayed age)."),
        click.option("--revisit-days", type=FiniteFloat(min=0),
                     help="Ask again (a cheap conditional request) for every stored article "
                          "not seen for this many days, so deletions and changed related "
                          "blocks are seen [default: 7]; articles gone from the sitemap are "
                          "asked for at once."),
        click.option("--contact", help="A URL or e-mail added to the User-Agent."),
        click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
                     help="Any Scrapy setting, e.g. -s DOWNLOAD_DELAY=2."),
        click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log."),
        click.option("-q", "--quiet", is_flag=True,
                     help="Print nothing when the run ends well (for cron); warnings, "
                          "errors and the outcome of a run that did not still go to "
                          "standard error."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def crawl_overrides(
    max_pages: int | None,
    max_depth: int | None,
    max_time: float | None,
    max_age_days: float | None,
    revisit_days: float | None,
    contact: str | None,
    settings: tuple[str, ...],
    verbose: bool,
    quiet: bool = False,
) -> dict[str, Any]:
    """Scrapy settings from the shared crawl options."""
    overrides = _log_settings(verbose)
    if quiet:  # warnings and errors still show
        overrides.update(RELNEWS_PROGRESS_EVERY=0)
    for name, value in (
        ("RELNEWS_MAX_PAGES", max_pages),
        ("DEPTH_LIMIT", max_depth),
        ("CLOSESPIDER_TIMEOUT", max_time),
        ("RELNEWS_MAX_AGE_DAYS", max_age_days),
        ("RELNEWS_REVISIT_DAYS", revisit_days),
        ("RELNEWS_CONTACT", contact),
    ):
        if value is not None:
            overrides[name] = value
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--set")
        overrides[name.strip()] = _setting_value(name.strip(), value)
    return overrides


def _setting_value(name: str, value: str) -> Any:
    """``-s NAME=VALUE`` checked against the type of the setting's default, so that a
    bad value is a one-line error before the crawl starts, not a failure inside it."""
    from scrapy.settings import default_settings as scrapy_defaults

    from crawler import settings as relnews_defaults

    default = getattr(relnews_defaults, name, getattr(scrapy_defaults, name, None))
    try:
        if isinstance(default, bool):
            lowered = value.strip().lower()
            if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(value)
            return lowered in ("1", "true", "yes", "on")
        if isinstance(default, int):
            try:
                return int(value)
            except ValueError:
                return float(value)  # a number all the same (timeouts, delays)
        if isinstance(default, float):
            return float(value)
    except ValueError:
        kind = "true or false" if isinstance(default, bool) else "a number"
        raise click.BadParameter(
            f"{name} must be {kind}, got {value!r}",
            param_hint="--set",
        ) from None
    return value


def _crawl_profile(name: str | None, urls: tuple[str, ...], quiet: bool) -> SiteProfile:
    """The profile named, else the one chosen by the site's host (said on stderr)."""
    if name:
        return load_profile(name)
    profile = profile_for(urls)
    if not quiet and urls and site_entry(urls[0]) is not None:  # a bad URL: its error alone
        click.echo(
            f"profile: {profile.name} (chosen for {terminal_safe(urls[0])}; --profile sets one)",
            err=True,
        )
    return profile


@cli.command()
@db_option()
@crawl_options
@clean_errors
def crawl(db: Path, profile_name: str, urls: tuple[str, ...], **options: Any) -> None:
    """Crawl a site into the archive.

    A second crawl asks only for what changed (conditional requests, sitemap lastmod);
    a crawl that was killed is taken up where it stopped. Exit code: 0 done, 1 failed
    (nothing answered, or the archive cannot be written), 2 partial (stopped by a limit,
    or some pages failed), 3 another crawl holds the archive, 4 interrupted by a signal
    (the next crawl takes it up), 64 a wrong option or configuration (nothing was run).

    Example: relnews crawl --profile demo --url http://127.0.0.1:8765/ --db news.duckdb
    """
    from crawler.run import crawl as run_crawl

    profile = _crawl_profile(profile_name, urls, options.get("quiet", False))
    summary = run_crawl(db, profile, url=list(urls), overrides=crawl_overrides(**options))
    code = EXIT_OF_STATUS[summary.status]
    _echo_outcome(f"run {summary.run_id} {summary.status}: {summary.describe()}", code, options)
    sys.exit(code)


def _echo_outcome(line: str, code: int, options: dict[str, Any]) -> None:
    """A run's one-line outcome: on standard output, or with --quiet only when the run
    did not end well, on standard error (cron mails whatever a job prints)."""
    if not options.get("quiet"):
        click.echo(line)
    elif code != EXIT_OK:
        click.echo(line, err=True)


@cli.command()
@db_option()
@crawl_options
@click.option("-k", default=10, show_default=True, help="Suggestions stored per article.")
@click.option("--method", type=click.Choice(["auto", "learned", "tfidf", "bm25"]),
              default="auto", show_default=True,
              help="The method of the refit, as `relnews fit --method`.")  # fmt: skip
@clean_errors
def refresh(
    db: Path, profile_name: str, urls: tuple[str, ...], k: int, method: str, **options: Any
) -> None:
    """Incremental crawl, then refit, new lists and evaluation if anything changed.

    For cron and systemd timers (--quiet: nothing printed when it ends well). Exit code:
    0 done, 1 failed, 2 partial (stopped by a limit, some pages failed, or no model could
    be fitted), 3 another run holds the archive, 4 interrupted by a signal, 64 a wrong
    option or configuration (nothing was run).

    Example: relnews refresh --profile demo --url http://127.0.0.1:8765/ --db news.duckdb
    """
    quiet = options.get("quiet", False)
    profile = _crawl_profile(profile_name, urls, quiet)
    result = _jobs().refresh(
        db,
        profile,
        urls,
        overrides=crawl_overrides(**options),
        k=k,
        method=method,
        on_step=(lambda message: None) if quiet else lambda m: click.echo(f"refresh: {m}"),
    )
    if result.report is not None and not quiet:
        click.echo(result.report.format_table())
    for note in result.notes:
        click.echo(f"refresh: {note}", err=True)
    if quiet:  # the one line cron mails when the job did not end well
        line = f"refresh {result.outcome}: crawl {result.crawl.status}: {result.crawl.describe()}"
    else:
        line = f"refresh: {result.outcome}"
    _echo_outcome(line, result.exit_code, options)
    sys.exit(result.exit_code)


@cli.command()
@db_option()
@click.option("-k", default=10, show_default=True, help="Suggestions stored per article.")
@click.option("--jobs", "n_jobs", type=int, default=1, show_default=True,
              help="Threads computing the lists (-1: one per core).")  # fmt: skip
@click.option("--method", type=click.Choice(["auto", "learned", "tfidf", "bm25"]),
              default="auto", show_default=True,
              help="auto: the best of the learned ranker, TF-IDF and BM25 by nDCG@10 on "
                   "validation pages (ties: the simpler); a name forces that method.")  # fmt: skip
@clean_errors
def fit(db: Path, k: int, n_jobs: int, method: str) -> None:
    """Fit the recommender on the archive and store every article's top-k list.

    With --method auto, the method that finds the editors' links best on validation
    pages (held out of the newest pages that `relnews evaluate` does not hold out)
    serves; TF-IDF when the archive has no editorial links. A list the model leaves
    short of k is filled (backfill).

    Example: relnews fit --db news.duckdb --jobs -1
    """
    crawl_pid = _crawl_holding(db)
    result = _jobs().fit(
        db,
        k=k,
        n_jobs=n_jobs,
        method=method,
        on_step=lambda message: click.echo(f"fit: {message}", err=True),
    )
    click.echo(
        f"{result.model_id}: fitted on {result.n_articles} articles, {result.n_lists} "
        f"suggestions stored ({result.n_backfill} backfill); {result.method}: "
        f"{result.choice}; model saved to {result.path}"
    )
    if crawl_pid is not None:
        click.echo(
            f"Warning: the archive was being written by a crawl (pid {crawl_pid}): fitted "
            "on the pages it had stored so far",
            err=True,
        )


@cli.command()
@db_option()
@click.option("--test-fraction", default=0.2, show_default=True,
              type=FiniteFloat(0, 1, min_open=True, max_open=True),
              help="Share of the articles held out as test queries (the newest when the "
                   "site has dates, a fixed random share of pages otherwise).")  # fmt: skip
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1),
              help="Seed of the random baseline, the bootstrap and undated splits.")  # fmt: skip
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the report as evaluation.md and evaluation.html (with plots; opens "
    "offline) into this folder.",
)
@output_options
@clean_errors
def evaluate(db: Path, test_fraction: float, seed: int, report_dir: Path | None, fmt: str) -> None:
    """Score the model, TF-IDF, BM25 and the baselines against the editors' own links.

    Two modes: existing article (the held-out page's own links hidden) and cold start
    (text only). Every score comes with a 95% bootstrap interval.

    Example: relnews evaluate --db news.duckdb --report reports/
    """
    report = _jobs().evaluate(db, test_fraction=test_fraction, random_state=seed)
    if fmt == "table":
        click.echo(report.format_table())
    else:
        columns = ["mode", "method", "metric", "value", "ci_low", "ci_high", "n_queries"]
        rows = [tuple(row[name] for name in columns) for row in report.as_dicts()]
        echo_rows(columns, rows, fmt)
    if report_dir is not None:
        from recommender.evaluation.report import write_report

        markdown, html = write_report(report, report_dir)
        click.echo(f"report written to {markdown} and {html}", err=fmt != "table")


def fresh_days_option(command: Callable) -> Callable:
    """``--fresh-days N``, shared by the commands that show lists."""
    return click.option(
        "--fresh-days",
        type=FiniteFloat(min=0),
        help="Only suggest articles published at most N days before the source (before "
        "today for --text or an undated source). Pins and undated articles are kept.",
    )(command)


def echo_list(items: list, fmt: str) -> None:
    echo_rows(LIST_COLUMNS, list_rows(items, fmt), fmt)


@cli.command()
@click.argument("url", required=False)
@db_option()
@click.option(
    "--text",
    "text_file",
    type=TextFile(),
    help="A new article instead of an archived one: a UTF-8 text file whose first line "
    "is the title and the rest the body ('-' reads standard input).",
)
@click.option("--title", help="The new article's title (with --text; default: its first line).")
@click.option(
    "-k", default=10, show_default=True, type=click.IntRange(min=1), help="How many suggestions."
)
@fresh_days_option
@output_options
@clean_errors  # fmt: skip
def recommend(
    url: str | None,
    db: Path,
    text_file: str | None,
    title: str | None,
    k: int,
    fresh_days: float | None,
    fmt: str,
) -> None:
    """Suggest related articles for an archived article, or for a new text.

    The editors' pins come first and their blocks never show (see `relnews rules`);
    each suggestion comes with the terms it shares with the article.

    Example: relnews recommend http://127.0.0.1:8765/news/sommeil/apnee-du-sommeil_12.htm

    Example: relnews recommend --text draft.txt -k 5 --db news.duckdb
    """
    if (url is None) == (text_file is None):
        raise click.UsageError("give either an article URL or --text FILE")
    if text_file is None:
        if title is not None:
            raise click.UsageError("--title goes with --text")
        items = _jobs().recommend(db, url, k=k, fresh_days=fresh_days)
    else:
        first_line, body = _jobs().split_title(text_file)
        if not (first_line or body):
            raise click.UsageError("the --text file is empty")
        items = _jobs().recommend_text(
            db, body, title=first_line if title is None else title, k=k, fresh_days=fresh_days
        )
        if not items:
            click.echo("no suggestion: the text shares no term with the archive", err=True)
    echo_list(items, fmt)


def _echo_change(change: Any) -> None:
    where = "every article" if change.source_url == ANY_SOURCE else change.source_url
    verb = {"pin": "pinned", "block": "blocked"}[change.rule]
    if change.status == "removed":
        click.echo(f"un{verb} {change.target_url} for {where}")
        return
    note = {"added": "", "replaced": " (replacing the opposite rule)", "kept": " (already)"}
    matched = "".join(
        f" ({scope} matches {count} archived article{'s' if count != 1 else ''})"
        for scope, count in change.matches
    )
    click.echo(
        terminal_safe(f"{verb} {change.target_url} for {where}{note[change.status]}{matched}")
    )
    if change.warning:
        click.echo(f"Warning: {change.warning}", err=True)


@cli.command()
@click.argument("source")
@click.argument("target")
@db_option()
@click.option("--note", help="Why, for the other editors (shown by `relnews rules`).")
@clean_errors
def pin(source: str, target: str, db: Path, note: str | None) -> None:
    """Always show TARGET first in SOURCE's related list (pins keep the order made).

    Both are archived articles' URLs (or aliases of them). Pins escape the freshness
    window, but not a block.

    Example: relnews pin http://127.0.0.1:8765/news/a_1.htm http://127.0.0.1:8765/news/b_2.htm
    """
    _echo_change(_jobs().set_rule(db, "pin", source, target, note))


@cli.command()
@click.argument("source")
@click.argument("target")
@db_option()
@clean_errors
def unpin(source: str, target: str, db: Path) -> None:
    """Remove a pin made by `relnews pin`.

    Example: relnews unpin http://127.0.0.1:8765/news/a_1.htm http://127.0.0.1:8765/news/b_2.htm
    """
    _echo_change(_jobs().remove_rule(db, "pin", source, target))


@cli.command()
@click.argument("target")
@click.option(
    "--source",
    default=ANY_SOURCE,
    show_default=True,
    help="Only in this article's list, or in the lists of a scope (rubrique:NAME, "
    "tag:NAME, url:PATTERN) (default: in every list).",
)
@db_option()
@click.option("--note", help="Why, for the other editors (shown by `relnews rules`).")
@click.option(
    "--force",
    is_flag=True,
    help="Store a scope that matches no archived article yet (a section not "
    "crawled yet); without it, such a scope is taken for a typo.",
)
@clean_errors  # fmt: skip
def block(target: str, source: str, db: Path, note: str | None, force: bool) -> None:
    """Never suggest TARGET: in any list, or only in --source's list. A block wins over a pin.

    TARGET (and --source) may be a scope instead of an article: rubrique:NAME, tag:NAME
    or url:PATTERN (a glob on the URL's path, or a part of it without wildcards). A scope
    must match at least one archived article (unless --force); the answer says how many.

    Example: relnews block http://127.0.0.1:8765/news/retracted_7.htm --note "retracted"

    Example: relnews block url:/cancer/ --source url:/sport/
    """
    _echo_change(_jobs().set_rule(db, "block", source, target, note, force=force))


@cli.command()
@click.argument("target")
@click.option(
    "--source",
    default=ANY_SOURCE,
    show_default=True,
    help="The block of this article's list (default: the block of every list).",
)
@db_option()
@clean_errors  # fmt: skip
def unblock(target: str, source: str, db: Path) -> None:
    """Remove a block made by `relnews block`.

    Example: relnews unblock http://127.0.0.1:8765/news/retracted_7.htm
    """
    _echo_change(_jobs().remove_rule(db, "block", source, target))


@cli.command()
@click.option("--source", help="Only the rules that apply to this article's list.")
@db_option()
@output_options
@clean_errors
def rules(source: str | None, db: Path, fmt: str) -> None:
    """List the editors' pins and blocks (source '*': every list).

    Example: relnews rules --db news.duckdb
    """
    result = _jobs().list_rules(db, source)
    echo_rows(result.columns, result.rows, fmt)


@cli.command()
@db_option()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default="json",
    show_default=True,
    help="json: {source url: [suggestions]}; csv: one row per "
    "(source, rank); html: an <aside> per article for the page templates (title, date, "
    "excerpt).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: standard output).",
)
@click.option(
    "-k", default=5, show_default=True, type=click.IntRange(min=1), help="Suggestions per article."
)
@fresh_days_option
@click.option(
    "--heading",
    help="The heading of each html block (default: 'Related articles' in the site's language).",
)
@click.option(
    "--language",
    help="The site's language for html (heading, dates), e.g. fr (default: the one most "
    "archived articles are in, else en).",
)
@click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder whose related.html renders each html block instead of relnews's own "
    "(Jinja2, autoescaped; its variables are listed in the README).",
)
@clean_errors  # fmt: skip
def export(
    db: Path,
    fmt: str,
    output: Path | None,
    k: int,
    fresh_days: float | None,
    heading: str | None,
    language: str | None,
    templates: Path | None,
) -> None:
    """Write every article's related list, editors' rules applied, from the newest model.

    Example: relnews export --format html -k 4 --output related.html --db news.duckdb
    """
    if fmt != "html" and (heading, language, templates) != (None, None, None):
        raise click.UsageError("--heading, --language and --templates are for --format html")
    lists = _jobs().export_lists(db, k=k, fresh_days=fresh_days)
    facts = None
    if fmt in ("html", "json"):
        from relnews.widgets import archive_facts

        facts = archive_facts(db, lists)  # dates, excerpts, images..., one query
    text = format_export(
        lists,
        fmt,
        heading=heading,
        language=language,
        facts=facts,
        templates=templates,
        now=datetime.now(UTC).replace(tzinfo=None),  # ages as of the export
    )
    if output is None:
        click.echo(terminal_safe(text) if sys.stdout.isatty() else text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    click.echo(f"{len(lists)} lists written to {output}", err=True)


@cli.command()
@db_option()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on (0.0.0.0 opens it to the network).",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="The port (0 picks a free one).",
)
@fresh_days_option
@click.option(
    "--max-age",
    default=60,
    show_default=True,
    type=click.IntRange(0),
    help="Seconds a browser or cache may keep a list (Cache-Control; 0: no-cache).",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A site whose pages may call the service from the browser "
    "(https://www.example.org); repeat for more.",
)
@click.option(
    "--editor",
    is_flag=True,
    help="Let the curation page (/curate) pin, unpin and block: from loopback, or with --token.",
)
@click.option(
    "--token",
    envvar="RELNEWS_EDITOR_TOKEN",
    default=None,
    help="The secret a change needs (Authorization: Bearer ...); required for "
    "--editor beyond loopback. Also read from RELNEWS_EDITOR_TOKEN.",
)
@click.option(
    "--reload-interval",
    default=2.0,
    show_default=True,
    type=FiniteFloat(0),
    help="Seconds between two looks at the archive for a new model or rules.",
)
@click.option(
    "--templates",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A folder whose related.html replaces the widget template of GET /related.html.",
)
@click.option(
    "--access-log",
    is_flag=True,
    help="Log every request: client, method, path, status and milliseconds.",
)
@clean_errors  # fmt: skip
def serve(
    db: Path,
    host: str,
    port: int,
    fresh_days: float | None,
    max_age: int,
    cors_origins: tuple[str, ...],
    editor: bool,
    token: str | None,
    reload_interval: float,
    access_log: bool,
    templates: Path | None,
) -> None:
    """Serve the lists: GET /related?url=URL&k=5 (JSON; /related.html: the widget),
    POST /related with a draft's title and text, GET /health, and the curation page
    /curate.

    Lists are answered from memory and reloaded when a newer model or new rules are
    stored, so the service keeps answering while a crawl writes the archive.

    Example: relnews serve --port 8000 --db news.duckdb --editor
    """
    from relnews.serve import ServeSettings, make_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings = ServeSettings(
        max_age=max_age,
        cors_origins=cors_origins,
        editor=editor,
        token=token or None,
        reload_interval=reload_interval,
        access_log=access_log,
    )
    try:
        server = make_server(
            db, host, port, fresh_days=fresh_days, settings=settings, templates=templates
        )
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from error
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    mode = "editor" if editor else "read-only"
    click.echo(
        f"serving {db} on {server.url} (GET /related?url=...&k=5, POST /related, "
        f"GET /health; curation page {server.url}curate, {mode})"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command()
@click.argument("query", required=False)
@click.option(
    "-f",
    "--file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    help="Read the SQL from FILE (UTF-8) instead of QUERY; - reads standard input.",
)
@db_option()
@output_options
@click.option(
    "--wait",
    type=FiniteFloat(min=0),
    default=60,
    show_default=True,
    help="Seconds to wait for a running crawl to let go of the file.",
)
@click.option(
    "--timeout",
    type=FiniteFloat(min=0),
    default=300,
    show_default=True,
    help="Seconds the SQL may run before it is stopped (0: no limit).",
)
@click.option(
    "--unsafe",
    is_flag=True,
    help="Let the query read and write local files, ATTACH other databases and "
    "load extensions (off by default: the archive only).",
)
@clean_errors
def sql(
    query: str | None, file: Path | None, db: Path, fmt: str, wait: float, timeout: float,
    unsafe: bool,
) -> None:  # fmt: skip
    """Run read-only SQL on the archive, and on nothing else: QUERY, or a script from
    --file FILE, or from standard input (QUERY or FILE -).

    A script's statements run in order; each one that answers rows prints them, values
    written as DuckDB writes them. The SQL sees the archive's tables and views only: no
    local file is read or written, no other database attached, no extension installed
    (unless --unsafe). While a crawl writes, it waits for its turn (--wait); it is
    stopped after --timeout seconds.

    Example: relnews sql "select count(*) from articles" --db relnews-demo.duckdb
    """
    from relnews.sql_command import echo_script, read_script

    echo_script(read_script(query, file), db, fmt, wait, timeout, unsafe)


@cli.command()
@click.argument("query")
@db_option()
@click.option(
    "-k", default=10, show_default=True, type=click.IntRange(1, 10_000), help="How many articles."
)
@output_options
@clean_errors
def search(query: str, db: Path, k: int, fmt: str) -> None:
    """Full-text search over the archive's live articles (title, lead and body; accents
    and case folded; ranked by bm25), with a snippet per hit, through the index kept
    beside the archive (<db>.search; crawls keep it up to date, a search brings it up to
    date first if the archive changed otherwise). Offline: no DuckDB extension needed.

    Query: words (all must be there; plural or singular alike), "a phrase", prefix*,
    -excluded (a word, "phrase" or prefix*), a OR b. Matched words show in [brackets]
    (in <mark> in the snippet_html of CSV and JSON).

    Example: relnews search '"apnée du sommeil" -enfant' -k 5 --db relnews-demo.duckdb
    """
    from recommender.search import SEARCH_COLUMNS, search_archive

    result = search_archive(db, query, k=k, on_note=lambda note: click.echo(note, err=True))
    if result.query.problem:
        click.echo(f"nothing searched: {result.query.problem}", err=True)
    elif not result.hits:
        click.echo("no article matches the query", err=True)
    # HTML consumers read CSV and JSON: they get the snippet escaped, its matches marked
    columns = SEARCH_COLUMNS if fmt == "table" else [*SEARCH_COLUMNS, "snippet_html"]
    rows = [hit.row() + (() if fmt == "table" else (hit.snippet_html,)) for hit in result.hits]
    echo_rows(columns, rows, fmt)


@cli.command()
@click.option(
    "--new",
    "new_archive",
    is_flag=True,
    help="The schema of a new archive made by this relnews (no file read), instead of "
    "the --db archive's own.",
)
@db_option()
@clean_errors
def schema(new_archive: bool, db: Path) -> None:
    """Print the archive's schema page (Markdown): every table, view and column with its
    description, as the archive itself stores them (COMMENT ON).

    Example: relnews schema --new > docs/schema.md
    """
    from warehouse.schema_doc import new_archive_markdown, schema_markdown

    if new_archive:
        page = new_archive_markdown()
    else:
        with opened(db, read_only=True) as con:
            page = schema_markdown(con)
    click.echo(page, nl=False)


@cli.command()
@output_options
@clean_errors
def profiles(fmt: str) -> None:
    """List the built-in site profiles.

    Example: relnews profiles
    """
    rows = []
    for name, path in sorted(builtin_profiles().items()):
        profile = load_profile(path)
        rows.append((name, profile.description, str(path)))
    echo_rows(["name", "description", "file"], rows, fmt)


@cli.command()
@click.argument("url")
@db_option()
@click.option(
    "--from", "old_id", type=int, help="The older version's id (default: the one before --to)."
)
@click.option("--to", "new_id", type=int, help="The newer version's id (default: the latest).")
@clean_errors  # fmt: skip
def diff(url: str, db: Path, old_id: int | None, new_id: int | None) -> None:
    """Show what changed between two versions of an article.

    Example: relnews diff http://127.0.0.1:8765/news/sommeil/x_12.htm --db news.duckdb
    """
    from warehouse.diff import diff_article

    with opened(db, read_only=True) as con:
        resolved = _jobs().archived_url(Reader(con), url) or url
        old, new, text = diff_article(con, resolved, old_id, new_id)
    click.echo(terminal_safe(f"{resolved}: version {old['version_id']} -> {new['version_id']}"))
    click.echo(terminal_safe(text) or "(no difference in the stored fields)")


@cli.command()
@db_option()
@click.option(
    "--profile",
    "profile_name",
    type=PROFILE,
    required=True,
    help="The profile to read the pages with (a name or a TOML file).",
)
@click.option("--site", help="Only pages of this host:port.")
@clean_errors  # fmt: skip
def reanalyse(db: Path, profile_name: str, site: str | None) -> None:
    """Read every stored page again with a (changed) profile, without fetching.

    Example: relnews reanalyse --profile mysite.toml --db news.duckdb
    """
    from crawler.reanalyse import reanalyse as run_reanalyse

    def progress(done: int, total: int) -> None:
        click.echo(f"reanalyse: {done}/{total} pages", err=True)

    profile = load_profile(profile_name)
    with ArchiveLock(db):
        counts = run_reanalyse(db, profile, site=site, on_progress=progress)
    click.echo(
        f"reanalysed {counts['pages']} pages: {counts['versions_new']} new versions, "
        f"{counts['links_new']} new related links, {counts['unreadable']} unreadable"
    )


@cli.command("export-warc")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@db_option()
@click.option("--latest", is_flag=True, help="Only each URL's newest capture.")
@clean_errors
def export_warc(file: Path, db: Path, latest: bool) -> None:
    """Write the stored pages as a WARC file (gzipped when FILE ends in .gz).

    Example: relnews export-warc archive.warc.gz --db news.duckdb
    """
    from warehouse.warc import export_warc as write_warc

    with opened(db, read_only=True) as con:
        count = write_warc(con, file, latest_only=latest)
    click.echo(f"{count} records written to {file}")


@cli.command("export-parquet")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@db_option()
@clean_errors
def export_parquet(folder: Path, db: Path) -> None:
    """Write every table and view of the archive as FOLDER/NAME.parquet, readable by
    DuckDB, pandas, polars and Spark.

    Example: relnews export-parquet parquet/ --db news.duckdb
    """
    from warehouse.parquet import export_parquet as write_parquet

    with opened(db, read_only=True) as con:
        written = write_parquet(con, folder)
    rows = sum(written.values())
    click.echo(f"{len(written)} tables and views ({rows} rows) written to {folder}")


@cli.command("export-db")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--storage-version",
    "version",
    default=STORAGE_VERSION,
    show_default=True,
    help="The DuckDB release whose storage format the copy is written in (v1.0.0: "
    "read by DuckDB 0.10 and later; latest: this DuckDB's own).",
)
@db_option()
@clean_errors
def export_db(file: Path, version: str, db: Path) -> None:
    """Write a copy of the archive to the new FILE in a storage version that older
    DuckDB tools (the DuckDB shell from PyPI...) open.

    Example: relnews export-db news-v1.duckdb --db news.duckdb
    """
    from warehouse.export_db import export_db as copy_archive

    copied = copy_archive(db, file, version)
    click.echo(
        f"{copied['tables']} tables and {copied['views']} views copied to {file}"
        f" (storage version {copied['storage_version']})"
    )


def main() -> None:
    logging.getLogger("scrapy").propagate = True
    cli(prog_name="relnews")


if __name__ == "__main__":
    main()
