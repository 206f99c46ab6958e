"""The archive as the crawl's components share it: one file, one run, opened on demand."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import duckdb
from scrapy.crawler import Crawler

from warehouse import ArchiveLock, Reader, WarehouseError, Writer, connect
from warehouse.model import PageRecord, Validator

logger = logging.getLogger(__name__)


class WarehouseSession:
    """The crawl's view of the archive, shared by the pipeline and the middlewares.

    The connection opens when a component needs it. The pipeline keeps it open across
    batches of pages and releases it every few seconds (``release``), so that other
    processes (analysts) can read the file between two batches.

    Threads: pages are written by the pipeline's writer thread (``write_pages``) through
    a cursor of its own, while the reactor thread reads through the session's connection
    (``capture``, ``validators``...). DuckDB connections are not safe to share between
    threads, cursors are: ``_lock`` guards the connection (opening, closing, the reactor's
    reads), ``_writing`` is held while a batch is written, so the file is never closed
    under a write.
    """

    def __init__(
        self,
        db: str,
        site: str,
        profile: str,
        resume: bool = True,
        wait: float = 0.0,
        notice_every: float = 30.0,
    ) -> None:
        self.db = db
        self.wait = wait
        self.notice_every = notice_every
        self.site = site
        self.profile = profile
        self.resume = resume
        self.run_id: int | None = None
        self.resumed = False
        self.lock: ArchiveLock | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._cursor: duckdb.DuckDBPyConnection | None = None  # the writer thread's
        self._opened_at = 0.0
        self._released_at = float("-inf")
        # Lock order: _writing, then _lock.
        self._lock = threading.RLock()
        self._writing = threading.Lock()

    @classmethod
    def of(cls, crawler: Crawler) -> WarehouseSession:
        """The session of this crawl (made on first use from the spider's profile)."""
        session = getattr(crawler, "relnews_session", None)
        if session is None:
            spider = crawler.spider
            assert spider is not None, "the crawl's spider is made before its components"
            profile = spider.profile  # type: ignore[attr-defined]  # ArticleSpider's
            urls = profile.start_urls + profile.sitemap_urls
            session = cls(
                db=crawler.settings.get("RELNEWS_DB"),
                # host:port, as the archive's URLs spell it
                site=urlsplit(urls[0]).netloc if urls else spider.name,
                profile=profile.name,
                resume=crawler.settings.getbool("RELNEWS_RESUME", True),
                wait=crawler.settings.getfloat("RELNEWS_DB_WAIT", 0.0),
                notice_every=crawler.settings.getfloat("RELNEWS_DB_WAIT_NOTICE", 30.0),
            )
            crawler.relnews_session = session  # type: ignore[attr-defined]  # one per crawl
        return session

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, for the thread that is not the writer's (the reactor's)."""
        with self._lock:
            if self._con is None:
                self._con = self._open()
                self._opened_at = time.monotonic()
            return self._con

    def _open(self) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting while analysts read it: ``wait`` seconds at most, or for
        as long as they read when ``wait`` is 0 (a long query never fails the crawl),
        saying so every ``notice_every`` seconds."""
        started = time.monotonic()
        step = max(self.notice_every, 0.1)
        while True:
            budget = step if self.wait <= 0 else min(step, self.wait - (time.monotonic() - started))
            try:
                return connect(self.db, wait=max(budget, 0.0))
            except WarehouseError as error:
                waited = time.monotonic() - started
                if "holds it" not in str(error) or (self.wait > 0 and waited >= self.wait):
                    raise
                logger.warning(
                    "waiting %.0f s so far for a reader to let go of %s", waited, self.db
                )

    def held_for(self) -> float | None:
        """How long the file has been open, in seconds (None: it is closed)."""
        with self._lock:
            return None if self._con is None else time.monotonic() - self._opened_at

    def end(self) -> None:
        """Close the file and let go of the lock: the crawl is over."""
        self.release()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def release(self) -> None:
        """Close the file until a component needs it again (after the batch being written)."""
        with self._writing, self._lock:
            if self._cursor is not None:
                self._cursor.close()
                self._cursor = None
            if self._con is not None:
                self._con.close()
                self._con = None
                self._released_at = time.monotonic()

    def write_pages(self, records: Iterable[PageRecord], pause: float = 0.0) -> int:
        """Store a batch of pages in this crawl's run, in one transaction (any thread, one
        at a time). When the file was released less than ``pause`` seconds ago, wait that
        long before opening it again, so that a reader waiting for it gets its turn."""
        with self._writing:
            wait = self._released_at + pause - time.monotonic()
            if self._con is None and wait > 0:
                time.sleep(wait)
            with self._lock:
                if self._cursor is None:
                    self._cursor = self.con.cursor()
                cursor = self._cursor
            return Writer(cursor).write_pages(self.begin_run(), records)

    def begin_run(self) -> int:
        """Take the archive's lock, then start this crawl's run, or take up the one a
        killed crawl left unfinished."""
        with self._lock:
            if self.run_id is None:
                self.lock = ArchiveLock(self.db).acquire()
                writer = Writer(self.con)
                previous = writer.resumable_run(self.site, self.profile) if self.resume else None
                self.resumed = previous is not None
                self.run_id = (
                    previous if previous is not None else writer.start_run(self.site, self.profile)
                )
            return self.run_id

    def validators(self) -> dict[str, Validator]:
        with self._lock:
            return Reader(self.con).validators(self.site)

    def live_articles(self) -> dict[str, Any]:
        with self._lock:
            return Reader(self.con).live_articles(self.site)

    def run_fetches(self) -> dict[str, tuple[Any, ...]]:
        with self._lock:
            return Reader(self.con).run_fetches(self.begin_run()) if self.resumed else {}

    def capture(self, content_hash: str) -> bytes | None:
        with self._lock:
            return Reader(self.con).capture(content_hash)
