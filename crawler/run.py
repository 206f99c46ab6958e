"""Running a crawl from Python: what ``relnews crawl`` and ``relnews demo`` call."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler import settings as default_settings
from crawler.pipelines import finish_cause
from crawler.profiles import SiteProfile, load_profile
from crawler.spiders.articles import ArticleSpider
from warehouse import ArchiveLock, opened
from warehouse.search_index import keep_fresh


@dataclass(frozen=True)
class CrawlSummary:
    """What one crawl did."""

    run_id: int | None
    finish_reason: str
    pages_fetched: int  # fetch rows of the run, failed attempts included
    errors: int  # network errors, server errors (5xx), pages that could not be read
    gone: int  # 404 / 410 answers
    not_modified: int
    articles_new: int
    versions_new: int
    links_new: int
    stats: dict[str, Any]
    #: As in ``crawl_runs.status`` (:func:`crawler.pipelines.run_status`): 'finished',
    #: 'partial', 'interrupted' or 'failed'.
    status: str = "failed"
    #: Why it stopped early or failed, in one line (None: it ran to its end).
    cause: str | None = None
    answered: int = 0  # fetches the server answered, with any status
    articles_gone: int = 0  # articles this run found gone
    warnings: int = 0  # pages stored with a warning (fetches.warnings says what)

    @property
    def changed(self) -> int:
        """Known articles that this run found changed (a new version each)."""
        return max(0, self.versions_new - self.articles_new)

    def describe(self) -> str:
        """The run in one line: what the pages fetched were (a page the site confirmed
        unchanged is one, not a missing article), then why it stopped early if it did."""
        counts = (
            f"{self.answered} pages fetched: {self.articles_new} new articles, "
            f"{self.changed} changed, {self.not_modified} unchanged, {self.gone} gone, "
            f"{self.errors} errors; {self.links_new} new related links"
            + (f", {self.articles_gone} articles gone" if self.articles_gone else "")
            + (f", {self.warnings} pages with warnings" if self.warnings else "")
        )
        return f"{counts}; {self.cause}" if self.cause else counts


def is_local(url: str) -> bool:
    """Whether ``url`` points at this machine (no politeness delay needed there)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
        except OSError:
            return False


class OneLineLogs(logging.Filter):
    """Log records without their tracebacks: a page that failed is one line (the reason
    is recorded on its fetch), never a stack an operator has to read. ``-v`` keeps them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            error = record.exc_info[1]
            detail = " ".join(str(error).split()) if error is not None else ""
            message = record.getMessage()
            if detail and detail not in message:
                message = f"{message} ({type(error).__name__}: {detail})"
            record.msg, record.args = message, ()
            record.exc_info, record.exc_text = None, None
        return True


class OwnLinesOnly(logging.Filter):
    """Only relnews's own log records (and Scrapy's critical ones, a bug's last words):
    Scrapy's lines (a retry given up, robots.txt unreachable...) are its way of saying
    what the run's one-line outcome says in the user's words. ``-v`` shows them all."""

    OWN = ("crawler", "warehouse", "relnews", ArticleSpider.name)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.split(".")[0] in self.OWN or record.levelno >= logging.CRITICAL


def _answered(stats: dict[str, Any]) -> int:
    """Pages the site answered; after a failed write, the pages the archive holds."""
    answered = stats.get("relnews/answered")
    return int(answered if answered is not None else stats.get("relnews/pages_fetched") or 0)


def _one_line_logs() -> None:
    for handler in logging.getLogger().handlers:
        for kind in (OwnLinesOnly, OneLineLogs):
            if not any(isinstance(f, kind) for f in handler.filters):
                handler.addFilter(kind())


def crawl_settings(
    db: str | Path,
    profile: SiteProfile,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """The Scrapy settings for one crawl of ``profile``'s site into ``db``."""
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    settings.set("RELNEWS_DB", str(db), priority="cmdline")
    contact = (overrides or {}).get("RELNEWS_CONTACT") or settings.get("RELNEWS_CONTACT")
    if contact:
        settings.set("USER_AGENT", f"relnews/0.1 (+{contact})", priority="cmdline")
    if profile.start_urls and all(is_local(url) for url in profile.start_urls):
        # A site served on this machine: no need to be gentle, and no one to be gentle to.
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 16, priority="cmdline")
        settings.set("RELNEWS_POLITE", False, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def crawl(
    db: str | Path,
    profile: str | SiteProfile = "demo",
    url: str | Sequence[str] | None = None,
    overrides: dict[str, Any] | None = None,
    lock: bool = True,
) -> CrawlSummary:
    """Crawl a site into the archive ``db`` and return a summary.

    The archive's lock is held for the whole crawl (``lock=False`` when the caller holds
    it already); a crawl that was killed is taken up where it stopped.

    Twisted's reactor runs once per process: call this once per process (the command
    line does), or run ``relnews crawl`` in a subprocess.
    """
    if lock:
        with ArchiveLock(db):
            return crawl(db, profile, url, overrides, lock=False)
    if not isinstance(profile, SiteProfile):
        profile = load_profile(profile)
    resolved = profile.resolve(url)
    # Open the archive once before the crawl starts: a file that is no archive, or one
    # that cannot be written, is a one-line error here, not a failure inside Scrapy.
    with opened(db):
        pass
    settings = crawl_settings(db, resolved, overrides)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ArticleSpider)
    if settings.get("LOG_LEVEL") not in ("DEBUG", "INFO"):
        # Scrapy installs its log handler when the crawl starts: filter it from then on
        # (``-v`` sets INFO: every line, as Scrapy writes it).
        crawler.signals.connect(_one_line_logs, signal=signals.engine_started)
    process.crawl(crawler, profile=profile, url=url)
    process.start()
    keep_fresh(db)  # the archive's search index, if it has one, follows the crawl
    stats = crawler.stats.get_stats()
    return CrawlSummary(
        run_id=stats.get("relnews/run_id"),
        finish_reason=str(stats.get("finish_reason", "unknown")),
        pages_fetched=int(stats.get("relnews/pages_fetched", 0)),
        errors=int(stats.get("relnews/errors", 0)),
        gone=int(stats.get("relnews/gone", 0)),
        not_modified=int(stats.get("relnews/not_modified", 0)),
        articles_new=int(stats.get("relnews/articles_new", 0)),
        versions_new=int(stats.get("relnews/versions_new", 0)),
        links_new=int(stats.get("relnews/links_new", 0)),
        stats=stats,
        status=str(stats.get("relnews/status") or "failed"),
        articles_gone=int(stats.get("relnews/articles_gone", 0)),
        warnings=int(stats.get("relnews/warnings", 0)),
        answered=_answered(stats),
        cause=finish_cause(str(stats.get("finish_reason", "unknown")), stats),
    )
