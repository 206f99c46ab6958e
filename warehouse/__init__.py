"""The relnews archive: a DuckDB file, its schema, and the API that reads and writes it.

It knows nothing of Scrapy or scikit-learn: the crawler and the recommender talk to it
through the plain records of :mod:`warehouse.model`.
"""

from warehouse.database import WarehouseError, apply_migrations, connect, opened
from warehouse.lock import ArchiveLock, LockHeld
from warehouse.model import Article, DateValue, EditorialLink, Fetch, PageRecord, RelatedLink
from warehouse.reader import QueryResult, Reader
from warehouse.writer import Writer

__all__ = [
    "ArchiveLock",
    "LockHeld",
    "Article",
    "DateValue",
    "EditorialLink",
    "Fetch",
    "PageRecord",
    "QueryResult",
    "Reader",
    "RelatedLink",
    "WarehouseError",
    "Writer",
    "apply_migrations",
    "connect",
    "opened",
]
