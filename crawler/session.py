"""The archive as the crawl's components share it: one file, one run, opened on demand."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import duckdb
from scrapy.crawler import Crawler

from warehouse import ArchiveLock, Reader, Writer, connect
from warehouse.model import Validator


class WarehouseSession:
    """The crawl's view of the archive, shared by the pipeline and the middlewares.

    The connection opens when a component needs it and is released after each batch of
    pages is written, so other processes (analysts) can read between two batches.
    """

    def __init__(
        self, db: str, site: str, profile: str, resume: bool = True, wait: float = 120.0
    ) -> None:
        self.db = db
        self.wait = wait
        self.site = site
        self.profile = profile
        self.resume = resume
        self.run_id: int | None = None
        self.resumed = False
        self.lock: ArchiveLock | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    @classmethod
    def of(cls, crawler: Crawler) -> WarehouseSession:
        """The session of this crawl (made on first use from the spider's profile)."""
        session = getattr(crawler, "relnews_session", None)
        if session is None:
            spider = crawler.spider
            profile = spider.profile
            urls = profile.start_urls + profile.sitemap_urls
            session = cls(
                db=crawler.settings.get("RELNEWS_DB"),
                # host:port, as the archive's URLs spell it
                site=urlsplit(urls[0]).netloc if urls else spider.name,
                profile=profile.name,
                resume=crawler.settings.getbool("RELNEWS_RESUME", True),
                wait=crawler.settings.getfloat("RELNEWS_DB_WAIT", 120.0),
            )
            crawler.relnews_session = session
        return session

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            # An analyst may be reading between two batches: wait for the file.
            self._con = connect(self.db, wait=self.wait)
        return self._con

    def end(self) -> None:
        """Close the file and let go of the lock: the crawl is over."""
        self.release()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def release(self) -> None:
        """Close the file until a component needs it again."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def begin_run(self) -> int:
        """Take the archive's lock, then start this crawl's run, or take up the one a
        killed crawl left unfinished."""
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
        return Reader(self.con).validators(self.site)

    def run_fetches(self) -> dict[str, tuple[Any, ...]]:
        return Reader(self.con).run_fetches(self.begin_run()) if self.resumed else {}

    def capture(self, content_hash: str) -> bytes | None:
        return Reader(self.con).capture(content_hash)
