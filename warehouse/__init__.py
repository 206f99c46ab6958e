"""The relnews archive: a DuckDB file, its schema, and the API that reads and writes it.

It knows nothing of Scrapy or scikit-learn: the crawler and the recommender talk to it
through the plain records of :mod:`warehouse.model`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse.database import WarehouseError, apply_migrations, connect, opened
    from warehouse.lock import ArchiveLock, LockHeld
    from warehouse.model import (
        Article,
        DateValue,
        EditorialLink,
        Fetch,
        PageRecord,
        RelatedLink,
    )
    from warehouse.reader import QueryResult, Reader
    from warehouse.writer import Writer

#: Where each public name lives. They load on first use (PEP 562), so that a module that
#: needs only the records (page analysis: warehouse.model) does not load DuckDB.
_HOMES = {
    "WarehouseError": "database", "apply_migrations": "database", "connect": "database",
    "opened": "database", "ArchiveLock": "lock", "LockHeld": "lock", "Article": "model",
    "DateValue": "model", "EditorialLink": "model", "Fetch": "model", "PageRecord": "model",
    "RelatedLink": "model", "QueryResult": "reader", "Reader": "reader", "Writer": "writer",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'warehouse' has no attribute {name!r}")
    value = getattr(import_module(f"warehouse.{home}"), name)
    globals()[name] = value
    return value


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
