"""What changed between two versions of an article, as a unified diff."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import duckdb

from warehouse.database import WarehouseError
from warehouse.reader import Reader

FIELDS = ("title", "lead", "body", "published_at", "rubrique", "tags", "author", "sources")


def versions(con: duckdb.DuckDBPyConnection, url: str) -> list[dict[str, Any]]:
    """Every version of an article, oldest first."""
    return Reader(con).versions(url, FIELDS)


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [str(item) for item in value]
    return str(value).split("\n")


def _label(field: str, version: dict[str, Any]) -> str:
    return f"{field} (version {version['version_id']}, {version['fetched_at']:%Y-%m-%d %H:%M})"


def diff_versions(old: dict[str, Any], new: dict[str, Any]) -> str:
    """A unified diff of the fields that differ between two versions ('' if none)."""
    parts: list[str] = []
    for field in FIELDS:
        if old.get(field) == new.get(field):
            continue
        parts.extend(
            difflib.unified_diff(
                _lines(old.get(field)),
                _lines(new.get(field)),
                fromfile=_label(field, old),
                tofile=_label(field, new),
                lineterm="",
            )
        )
    return "\n".join(parts)


def diff_article(
    con: duckdb.DuckDBPyConnection, url: str, old_id: int | None = None, new_id: int | None = None
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Diff two versions of an article: by default its last two."""
    found = versions(con, url)
    if not found:
        raise WarehouseError(f"{url} has no stored version")
    by_id = {version["version_id"]: version for version in found}
    for wanted in (old_id, new_id):
        if wanted is not None and wanted not in by_id:
            raise WarehouseError(f"{url} has no version {wanted}: it has {sorted(by_id)}")
    if len(found) < 2 and (old_id is None or new_id is None):
        raise WarehouseError(f"{url} has only one version (version {found[0]['version_id']})")
    new = by_id[new_id] if new_id is not None else found[-1]
    old = by_id[old_id] if old_id is not None else found[found.index(new) - 1]
    return old, new, diff_versions(old, new)
