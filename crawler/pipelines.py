"""Item pipelines: where analysed pages leave the crawler."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from warehouse import Writer, opened
from warehouse.model import PageRecord


class WarehousePipeline:
    """Stores every page in the DuckDB archive, in batches.

    The file is opened only while a batch is written, so analysts can read it between
    two batches; each batch is one transaction, so a crash loses at most the pages of
    the batch under way and never leaves half a page behind.
    """

    def __init__(self, db: str, batch_size: int, site: str, profile: str) -> None:
        self.db = db
        self.batch_size = batch_size
        self.site = site
        self.profile = profile
        self.buffer: list[PageRecord] = []
        self.run_id: int | None = None
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarehousePipeline:
        db = crawler.settings.get("RELNEWS_DB")
        if not db:
            raise NotConfigured("set RELNEWS_DB to the archive file to store pages")
        spider_cls = crawler.spidercls
        pipeline = cls(
            db=db,
            batch_size=crawler.settings.getint("RELNEWS_BATCH_SIZE", 100),
            site=crawler.settings.get("RELNEWS_SITE", ""),
            profile=getattr(spider_cls, "name", ""),
        )
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        profile = getattr(spider, "profile", None)
        site = self.site or (profile.allowed_domains[0] if profile else spider.name)
        with opened(self.db) as con:
            self.run_id = Writer(con).start_run(site, profile.name if profile else self.profile)
        self.crawler.stats.set_value("relnews/run_id", self.run_id)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, PageRecord):
            self.buffer.append(item)
            if len(self.buffer) >= self.batch_size:
                self.flush()
        return item

    def flush(self) -> None:
        if not self.buffer:
            return
        with opened(self.db) as con:
            Writer(con).write_pages(self.run_id, self.buffer)
        self.crawler.stats.inc_value("relnews/pages_stored", len(self.buffer))
        self.buffer = []

    def close_spider(self, spider: Any = None) -> None:
        self.flush()
        reason = self.crawler.stats.get_value("finish_reason") or "finished"
        status = "finished" if reason == "finished" else "partial"
        with opened(self.db) as con:
            counts = Writer(con).finish_run(
                self.run_id, status, stats=self.crawler.stats.get_stats()
            )
        for key, value in counts.items():
            self.crawler.stats.set_value(f"relnews/{key}", value)
