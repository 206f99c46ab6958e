"""Item pipelines: where analysed pages leave the crawler."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.limits import PAGE_LIMIT, stop_crawl
from crawler.session import WarehouseSession
from warehouse import Writer
from warehouse.model import PageRecord

logger = logging.getLogger(__name__)

#: The finish reason of a crawl stopped because a batch could not be stored.
WRITE_FAILED = "relnews_write_failed"

#: What a run's status says, in ``crawl_runs.status`` and the command's exit code alike.
RUN_STATUSES = ("finished", "partial", "interrupted", "failed")


def run_status(finish_reason: str, answered: int, errors: int) -> str:
    """The status of a crawl run, the one rule ``crawl_runs`` and the exit code follow.

    - ``failed``: the site answered nothing (down, unreachable, every URL refused);
    - ``interrupted``: stopped by a signal (Ctrl-C, SIGTERM); the next crawl takes it up;
    - ``partial``: stopped by a limit (pages, time), or some pages failed;
    - ``finished``: every page the crawl found was fetched.
    """
    if answered == 0:
        return "failed"
    if finish_reason == "shutdown":
        return "interrupted"
    if finish_reason != "finished" or errors:
        return "partial"
    return "finished"


def finish_cause(finish_reason: str, stats: dict[str, Any]) -> str | None:
    """One line naming why a crawl stopped early or failed (None: it ran to its end)."""
    limit = stats.get("relnews/max_pages")
    causes = {
        PAGE_LIMIT: f"stopped at the page limit (--max-pages {limit})",
        "closespider_pagecount": "stopped after the page limit (CLOSESPIDER_PAGECOUNT)",
        "closespider_timeout": "stopped after the time limit (--max-time)",
        "closespider_itemcount": "stopped after the item limit",
        "shutdown": "interrupted by a signal: the next crawl takes it up",
        WRITE_FAILED: "the archive could not store a batch of pages",
    }
    write_error = stats.get("relnews/write_error_text")
    if write_error:
        return str(write_error)
    if not stats.get("relnews/answered") and finish_reason in ("finished", "shutdown", PAGE_LIMIT):
        return f"no page could be fetched: {_why_nothing(finish_reason, stats)}"
    if finish_reason == "finished":
        return None
    return causes.get(finish_reason, f"stopped ({finish_reason})")


def _why_nothing(finish_reason: str, stats: dict[str, Any]) -> str:
    first_error = stats.get("relnews/first_error")
    if first_error:
        return str(first_error)
    if stats.get("robotstxt/forbidden"):
        return "robots.txt forbids every page asked for"
    if finish_reason == PAGE_LIMIT:
        return "the page limit was reached first (robots.txt and sitemaps count)"
    return "the site answered nothing"


class WarehousePipeline:
    """Stores every page in the DuckDB archive, in batches.

    Each batch is one transaction, so a crash loses at most the pages of the batches not
    yet written and never leaves half a page behind. Batches are written in order by one
    writer thread, while the crawl goes on (DuckDB lets go of Python's lock while it
    works). The file stays open from one batch to the next, but once it has been open
    ``RELNEWS_RELEASE_EVERY`` seconds it is released (after the batch under way, for half
    a second at least when more batches wait), so analysts can read it while the crawl
    runs.

    A batch that cannot be stored stops the crawl (finish reason ``relnews_write_failed``)
    and ``close_spider`` logs its cause in one line: the run is left unfinished, as a killed crawl
    leaves it, and the next crawl takes it up.

    Settings: ``RELNEWS_BATCH_SIZE`` (pages per transaction, default 100),
    ``RELNEWS_RELEASE_EVERY`` (seconds, default 5.0; 0 releases the file after every
    batch).
    """

    def __init__(self, crawler: Crawler, batch_size: int, release_every: float = 5.0) -> None:
        self.crawler = crawler
        self.batch_size = batch_size
        self.release_every = release_every
        self.buffer: list[PageRecord] = []
        self.writer: BatchWriter | None = None
        self._stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarehousePipeline:
        if not crawler.settings.get("RELNEWS_DB"):
            raise NotConfigured("set RELNEWS_DB to the archive file to store pages")
        pipeline = cls(
            crawler,
            crawler.settings.getint("RELNEWS_BATCH_SIZE", 100),
            crawler.settings.getfloat("RELNEWS_RELEASE_EVERY", 5.0),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def session(self) -> WarehouseSession:
        return WarehouseSession.of(self.crawler)

    def open_spider(self, spider: Any = None) -> None:
        run_id = self.session.begin_run()
        self.session.release()
        stats = self.crawler.stats
        stats.set_value("relnews/run_id", run_id)
        stats.set_value("relnews/resumed", self.session.resumed)
        self.writer = BatchWriter(self.session, self.release_every)
        self.writer.start()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, PageRecord):
            if item.fetch.status is None and item.fetch.error:
                # the first fetch that got no answer: a crawl that got none says why
                stats = self.crawler.stats
                if stats.get_value("relnews/first_error") is None:
                    stats.set_value("relnews/first_error", f"{item.fetch.error} ({item.fetch.url})")
            if self.writer is not None and self.writer.error is not None:
                self._stop()  # nothing more can be stored: the next crawl fetches it again
                return item
            self.buffer.append(item)
            if len(self.buffer) >= self.batch_size:
                self.flush()
        return item

    def flush(self) -> None:
        """Hand the pages gathered so far to the writer thread."""
        if self.buffer:
            assert self.writer is not None, "the pipeline was not opened"
            self.writer.submit(self.buffer)
            self.buffer = []
            # (stats are not thread-safe: the reactor's thread copies the writer's count)
            self.crawler.stats.set_value("relnews/pages_stored", self.writer.stored)

    def _stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        stop_crawl(self.crawler, WRITE_FAILED)

    def close_spider(self, spider: Any = None) -> None:
        """Store what is left; the run is closed by :meth:`spider_closed`, which alone
        knows why the crawl ended (Scrapy closes the pipelines before it says)."""
        if self.writer is None:
            return
        if self.writer.error is None:
            self.flush()
        self.writer.close()  # waits for every batch handed over
        self.crawler.stats.set_value("relnews/pages_stored", self.writer.stored)

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        """Close the run with the status :func:`run_status` gives, then the file."""
        stats = self.crawler.stats
        try:
            if self.writer is not None and self.writer.error is not None:
                self._write_failed(self.writer.error)
                return
            writer = Writer(self.session.con)
            run_id = self.session.begin_run()  # this crawl's run, begun when it opened
            counts = writer.run_counts(run_id)
            status = run_status(reason, counts["answered"], counts["errors"])
            stats.set_value("relnews/status", status)
            for key, value in counts.items():
                stats.set_value(f"relnews/{key}", value)
            writer.finish_run(run_id, status, stats=stats.get_stats(), counts=counts)
        finally:
            try:
                self.session.end()
            except Exception as error:  # the file is broken: said once, with the cause
                logger.error("cannot close %s: %s", self.session.db, describe_write_error(error))

    def _write_failed(self, error: BaseException) -> None:
        """A batch could not be stored: the run stays open (the next crawl takes it up),
        and the cause is said in one line."""
        stats = self.crawler.stats
        text = describe_write_error(error)
        stats.set_value("relnews/write_error", repr(error))
        stats.set_value("relnews/write_error_text", text)
        stats.set_value("relnews/status", "failed")
        stored = self.writer.stored if self.writer is not None else 0
        stats.set_value("relnews/pages_fetched", stored)  # what the archive holds of the run
        logger.error(
            "%s (%s); %d pages were stored, the next crawl takes the run up",
            text,
            self.session.db,
            stored,
        )


def describe_write_error(error: BaseException) -> str:
    """One line for an archive write that failed: disk full, read-only, or DuckDB's text."""
    text = " ".join(str(error).split()) or type(error).__name__
    lowered = text.lower()
    if "no space left" in lowered or "disk is full" in lowered or "enospc" in lowered:
        return "disk full: the archive could not store a batch of pages"
    if "read-only" in lowered or "permission denied" in lowered:
        return f"cannot write the archive: {text}"
    return f"write failed: {text}"


#: Put on a BatchWriter's queue to end its thread.
_STOP = object()


class BatchWriter(threading.Thread):
    """The thread that writes batches of pages into the archive, one after the other.

    ``submit`` hands it a batch (and blocks while ``max_pending`` batches wait, so a crawl
    faster than its archive slows down instead of filling the memory); ``stored`` counts
    the pages written. The first batch that fails is logged and kept in ``error``; the
    batches after it are dropped.
    """

    def __init__(
        self, session: WarehouseSession, release_every: float = 5.0, max_pending: int = 4
    ) -> None:
        super().__init__(name="relnews-writer", daemon=True)
        self.session = session
        self.stored = 0
        self.release_every = release_every
        # After a release, the file stays closed at least this long (a reader's turn).
        self.pause = min(0.5, release_every / 10)
        self.error: BaseException | None = None
        self._jobs: queue.Queue[Any] = queue.Queue(maxsize=max_pending)

    def submit(self, records: list[PageRecord]) -> None:
        if not self.is_alive():
            raise RuntimeError("the archive's writer thread is not running")
        self._jobs.put(records)

    def close(self) -> None:
        """Write every batch handed over, then end the thread (the file stays open)."""
        if self.is_alive():
            self._jobs.put(_STOP)
            self.join()

    def run(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self._time_to_release())
            except queue.Empty:  # nothing to write for a while: let readers in
                self._release()
                continue
            if job is _STOP:
                return
            if self.error is not None:
                continue
            try:
                stored = self.session.write_pages(job, pause=self.pause)
            except BaseException as error:  # kept, and raised again by close_spider
                self.error = error
                logger.error(
                    "cannot store %d pages in %s: %s",
                    len(job),
                    self.session.db,
                    describe_write_error(error),
                )
                continue
            self.stored += stored
            if self._time_to_release() == 0:
                self._release()

    def _time_to_release(self) -> float:
        """Seconds until the file is due for a release (while it is closed, the reactor's
        thread may open it to read: look again in a second)."""
        held = self.session.held_for()
        return 1.0 if held is None else max(0.0, self.release_every - held)

    def _release(self) -> None:
        try:
            self.session.release()
        except Exception as error:
            if self.error is None:
                self.error = error
            logger.error("cannot close %s: %s", self.session.db, describe_write_error(error))
