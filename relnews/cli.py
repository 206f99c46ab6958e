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
from relnews import jobs
from relnews.output import FORMATS, format_rows
from warehouse import Reader, WarehouseError, opened

DEFAULT_DB = "relnews.duckdb"
DEMO_DB = "relnews-demo.duckdb"
DEMO_PORT = 8765


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
    click.echo(
        f"      {summary.pages_fetched} pages fetched, {summary.errors} errors, "
        f"{summary.articles_new} new articles, {summary.versions_new} new versions, "
        f"{summary.links_new} new related links"
    )
    click.echo("[3/4] fitting the TF-IDF model")
    fitted = jobs.fit(db)
    click.echo(f"      {fitted.model_id}: {fitted.n_lists} suggestions for "
               f"{fitted.n_articles} articles")  # fmt: skip
    click.echo("[4/4] evaluating against the editors' links (newest 20% of articles held out)")
    report = jobs.evaluate(db)
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


@cli.command()
@db_option()
@click.option(
    "--profile",
    "profile_name",
    default="demo",
    show_default=True,
    help="A built-in profile name (see `relnews profiles`) or a TOML file.",
)
@click.option("--url", "urls", multiple=True,
              help="The site's address (for profiles with relative start URLs), or a page "
                   "to start from; repeat for several.")  # fmt: skip
@click.option("--max-pages", type=int, help="Stop after this many pages.")
@click.option("--contact", help="A URL or e-mail added to the User-Agent.")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Any Scrapy setting, e.g. -s DOWNLOAD_DELAY=2.")  # fmt: skip
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log.")
@clean_errors
def crawl(
    db: Path,
    profile_name: str,
    urls: tuple[str, ...],
    max_pages: int | None,
    contact: str | None,
    settings: tuple[str, ...],
    verbose: bool,
) -> None:
    """Crawl a site into the archive.

    Example: relnews crawl --profile demo --url http://127.0.0.1:8765/ --db news.duckdb
    """
    from crawler.run import crawl as run_crawl

    overrides = _log_settings(verbose)
    if max_pages:
        overrides["CLOSESPIDER_PAGECOUNT"] = max_pages
    if contact:
        overrides["RELNEWS_CONTACT"] = contact
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--set")
        overrides[name.strip()] = value
    profile = load_profile(profile_name)
    summary = run_crawl(db, profile, url=list(urls), overrides=overrides)
    click.echo(
        f"run {summary.run_id} {summary.finish_reason}: {summary.pages_fetched} pages fetched, "
        f"{summary.errors} errors, {summary.articles_new} new articles, "
        f"{summary.versions_new} new versions, {summary.links_new} new related links"
    )
    if summary.finish_reason != "finished":
        sys.exit(2)


@cli.command()
@db_option()
@click.option("-k", default=10, show_default=True, help="Suggestions stored per article.")
@clean_errors
def fit(db: Path, k: int) -> None:
    """Fit the TF-IDF model on the archive and store every article's top-k list.

    Example: relnews fit --db news.duckdb
    """
    result = jobs.fit(db, k=k)
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
    report = jobs.evaluate(db, test_fraction=test_fraction, random_state=seed)
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
        for r in jobs.recommend(db, url, k=k)
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


def main() -> None:
    logging.getLogger("scrapy").propagate = True
    cli(prog_name="relnews")


if __name__ == "__main__":
    main()
