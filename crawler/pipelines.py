"""Item pipelines: where analysed pages leave the crawler."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.session import WarehouseSession
from warehouse import Writer
from warehouse.model import PageRecord


class WarehousePipeline:
    """Stores every page in the DuckDB archive, in batches.

    Each batch is one transaction, so a crash loses at most the pages of the batch under
    way and never leaves half a page behind; between batches the file is closed, so
    analysts can read it while the crawl runs.
    """

    def __init__(self, crawler: Crawler, batch_size: int) -> None:
        self.crawler = crawler
        self.batch_size = batch_size
        self.buffer: list[PageRecord] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarehousePipeline:
        if not crawler.settings.get("RELNEWS_DB"):
            raise NotConfigured("set RELNEWS_DB to the archive file to store pages")
        return cls(crawler, crawler.settings.getint("RELNEWS_BATCH_SIZE", 100))

    @property
    def session(self) -> WarehouseSession:
        return WarehouseSession.of(self.crawler)

    def open_spider(self, spider: Any = None) -> None:
        run_id = self.session.begin_run()
        self.session.release()
        stats = self.crawler.stats
        stats.set_value("relnews/run_id", run_id)
        stats.set_value("relnews/resumed", self.session.resumed)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, PageRecord):
            self.buffer.append(item)
            if len(self.buffer) >= self.batch_size:
                self.flush()
        return item

    def flush(self) -> None:
        if self.buffer:
            Writer(self.session.con).write_pages(self.session.run_id, self.buffer)
            self.crawler.stats.inc_value("relnews/pages_stored", len(self.buffer))
            self.buffer = []
        self.session.release()

    def close_spider(self, spider: Any = None) -> None:
        self.flush()
        reason = self.crawler.stats.get_value("finish_reason") or "finished"
        # Ctrl-C or SIGTERM: the next crawl takes the run up again; a limit reached
        # (pages, time) ends it as partial.
        status = {"finished": "finished", "shutdown": "interrupted"}.get(reason, "partial")
        counts = Writer(self.session.con).finish_run(
            self.session.run_id, status, stats=self.crawler.stats.get_stats()
        )
        self.session.end()
        for key, value in counts.items():
            self.crawler.stats.set_value(f"relnews/{key}", value)
