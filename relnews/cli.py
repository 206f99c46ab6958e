"""The ``relnews`` command line: each command parses its options, calls one function of
the packages (or a job of :mod:`relnews.jobs`), and prints through shared output options."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from crawler.profiles import ProfileError, builtin_profiles, load_profile
from relnews.exit_codes import EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL
from relnews.output import FORMATS, format_rows
from warehouse import ArchiveLock, LockHeld, Reader, WarehouseError, opened

DEFAULT_DB = "relnews.duckdb"
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
        help="The archive file (DuckDB). Also read from $RELNEWS_DB.",
    )


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
        except (WarehouseError, ProfileError) as error:
            raise click.ClickException(str(error)) from error

    return wrapper


def echo_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    click.echo(format_rows(columns, rows, fmt))


@click.group()
@click.version_option(package_name="relnews")
def cli() -> None:
    """relnews: archive a news site's articles and their editorial "related news"
    blocks into DuckDB, and learn to propose related articles.

    Start with `relnews demo`, then query the archive with `relnews sql`.
    """


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
    from crawler.run import crawl
    from demosite.server import DemoServer

    started = time.monotonic()
    try:
        server = DemoServer(port=port)
        server.__enter__()
    except OSError as error:
        raise click.ClickException(
            f"cannot serve the demo site on port {port}: {error}. Pass --port with a free one"
        ) from error
    try:
        click.echo(f"[1/4] demo site at {server.url} ({len(server.site.articles)} articles)")
        click.echo(f"[2/4] crawling it into {db}")
        summary = crawl(db, "demo", url=server.url, overrides=_log_settings(verbose))
    finally:
        server.close()
    click.echo(f"      {summary.describe()}")
    click.echo("[3/4] fitting the TF-IDF model")
    fitted = _jobs().fit(db)
    click.echo(f"      {fitted.model_id}: {fitted.n_lists} suggestions for "
               f"{fitted.n_articles} articles")  # fmt: skip
    click.echo("[4/4] evaluating against the editors' links (newest 20% of articles held out)")
    report = _jobs().evaluate(db)
    click.echo("")
    click.echo(report.format_table())
    with opened(db, read_only=True) as con:
        counts = Reader(con).counts()
    click.echo("")
    click.echo(
        f"Done in {time.monotonic() - started:.0f} s. {db} holds {counts['articles']} articles, "
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
        click.option("--profile", "profile_name", default="demo", show_default=True,
                     help="A built-in profile name (see `relnews profiles`) or a TOML file."),
        click.option("--url", "urls", multiple=True,
                     help="The site's address (for profiles with relative start URLs), or a "
                          "page to start from; repeat for several."),
        click.option("--max-pages", type=int, help="Stop after this many pages."),
        click.option("--max-depth", type=int, help="Follow links this many hops at most."),
        click.option("--max-time", type=float, help="Stop after this many seconds."),
        click.option("--max-age-days", type=float,
                     help="Skip related articles older than this (by their displayed age)."),
        click.option("--contact", help="A URL or e-mail added to the User-Agent."),
        click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
                     help="Any Scrapy setting, e.g. -s DOWNLOAD_DELAY=2."),
        click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def crawl_overrides(
    max_pages: int | None,
    max_depth: int | None,
    max_time: float | None,
    max_age_days: float | None,
    contact: str | None,
    settings: tuple[str, ...],
    verbose: bool,
) -> dict[str, Any]:
    """Scrapy settings from the shared crawl options."""
    overrides = _log_settings(verbose)
    for name, value in (
        ("CLOSESPIDER_PAGECOUNT", max_pages),
        ("DEPTH_LIMIT", max_depth),
        ("CLOSESPIDER_TIMEOUT", max_time),
        ("RELNEWS_MAX_AGE_DAYS", max_age_days),
        ("RELNEWS_CONTACT", contact),
    ):
        if value is not None:
            overrides[name] = value
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--set")
        overrides[name.strip()] = value
    return overrides


@cli.command()
@db_option()
@crawl_options
@clean_errors
def crawl(db: Path, profile_name: str, urls: tuple[str, ...], **options: Any) -> None:
    """Crawl a site into the archive.

    A second crawl asks only for what changed (conditional requests, sitemap lastmod);
    a crawl that was killed is taken up where it stopped. Exit code: 0 done, 1 failed,
    2 partial (stopped early, or some pages failed), 3 another crawl holds the archive.

    Example: relnews crawl --profile demo --url http://127.0.0.1:8765/ --db news.duckdb
    """
    from crawler.run import crawl as run_crawl

    profile = load_profile(profile_name)
    summary = run_crawl(db, profile, url=list(urls), overrides=crawl_overrides(**options))
    click.echo(f"run {summary.run_id} {summary.status}: {summary.describe()}")
    sys.exit({"finished": EXIT_OK, "partial": EXIT_PARTIAL}.get(summary.status, 1))


@cli.command()
@db_option()
@crawl_options
@click.option("-k", default=10, show_default=True, help="Suggestions stored per article.")
@clean_errors
def refresh(db: Path, profile_name: str, urls: tuple[str, ...], k: int, **options: Any) -> None:
    """Incremental crawl, then refit, new lists and evaluation if anything changed.

    For cron and systemd timers. Exit code: 0 done, 1 failed, 2 partial (stopped early,
    some pages failed, or no model could be fitted), 3 another run holds the archive.

    Example: relnews refresh --profile demo --url http://127.0.0.1:8765/ --db news.duckdb
    """
    profile = load_profile(profile_name)
    result = _jobs().refresh(
        db,
        profile,
        urls,
        overrides=crawl_overrides(**options),
        k=k,
        on_step=lambda message: click.echo(f"refresh: {message}"),
    )
    if result.report is not None:
        click.echo(result.report.format_table())
    for note in result.notes:
        click.echo(f"refresh: {note}", err=True)
    click.echo(f"refresh: {['done', 'failed', 'partial'][result.exit_code]}")
    sys.exit(result.exit_code)


@cli.command()
@db_option()
@click.option("-k", default=10, show_default=True, help="Suggestions stored per article.")
@clean_errors
def fit(db: Path, k: int) -> None:
    """Fit the TF-IDF model on the archive and store every article's top-k list.

    Example: relnews fit --db news.duckdb
    """
    result = _jobs().fit(db, k=k)
    click.echo(
        f"{result.model_id}: fitted on {result.n_articles} articles, {result.n_lists} "
        f"suggestions stored; model saved to {result.path}"
    )


@cli.command()
@db_option()
@click.option("--test-fraction", default=0.2, show_default=True,
              help="Share of the newest articles held out as test queries.")  # fmt: skip
@click.option("--seed", default=0, show_default=True, help="Seed of the random baseline.")
@output_options
@clean_errors
def evaluate(db: Path, test_fraction: float, seed: int, fmt: str) -> None:
    """Score the model and the baselines against the editors' own related links.

    Example: relnews evaluate --db news.duckdb
    """
    report = _jobs().evaluate(db, test_fraction=test_fraction, random_state=seed)
    if fmt == "table":
        click.echo(report.format_table())
    else:
        rows = [(row.method, row.metric, row.value, row.n_queries) for row in report.rows]
        echo_rows(["method", "metric", "value", "n_queries"], rows, fmt)


@cli.command()
@click.argument("url")
@db_option()
@click.option("-k", default=10, show_default=True, help="How many suggestions.")
@output_options
@clean_errors
def recommend(url: str, db: Path, k: int, fmt: str) -> None:
    """Suggest related articles for an archived article.

    Example: relnews recommend http://127.0.0.1:8765/news/sommeil/apnee-du-sommeil_12.htm
    """
    rows = [
        (r.rank, r.title, r.url, r.score, list(r.shared_terms))
        for r in _jobs().recommend(db, url, k=k)
    ]
    echo_rows(["rank", "title", "url", "score", "shared_terms"], rows, fmt)


@cli.command()
@click.argument("query")
@db_option()
@output_options
@clean_errors
def sql(query: str, db: Path, fmt: str) -> None:
    """Run a read-only SQL query on the archive.

    Example: relnews sql "select count(*) from articles" --db relnews-demo.duckdb
    """
    import duckdb

    with opened(db, read_only=True) as con:
        try:
            result = Reader(con).query(query)
        except duckdb.Error as error:
            raise click.ClickException(str(error).strip()) from error
    echo_rows(result.columns, result.rows, fmt)


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
        resolved = Reader(con).resolve_url(url) or url
        old, new, text = diff_article(con, resolved, old_id, new_id)
    click.echo(f"{resolved}: version {old['version_id']} -> {new['version_id']}")
    click.echo(text or "(no difference in the stored fields)")


@cli.command()
@db_option()
@click.option(
    "--profile",
    "profile_name",
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


def main() -> None:
    logging.getLogger("scrapy").propagate = True
    cli(prog_name="relnews")


if __name__ == "__main__":
    main()
