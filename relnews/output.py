"""Printing rows the same way in every command: an aligned table, CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from collections.abc import Sequence
from typing import Any

FORMATS = ("table", "csv", "json")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _cell(value: Any, width: int) -> str:
    value = _plain(value)
    if value is None:
        text = ""
    elif isinstance(value, float):
        text = f"{value:.4f}"
    elif isinstance(value, list):
        text = ", ".join(str(item) for item in value)
    else:
        text = str(value)
    text = " ".join(text.split())
    if len(text) <= width or text.startswith(("http://", "https://")):
        return text  # a cut URL is useless: print it whole
    return text[: width - 1] + "…"


def format_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: str = "table",
    max_width: int = 60,
) -> str:
    """Render rows as an aligned text table, CSV, or a JSON list of objects."""
    if fmt == "json":
        records = [dict(zip(columns, map(_plain, row), strict=True)) for row in rows]
        return json.dumps(records, ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                [
                    json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
                    for v in map(_plain, row)
                ]
            )
        return out.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    cells = [[_cell(value, max_width) for value in row] for row in rows]
    widths = [
        max([len(str(column))] + [len(row[i]) for row in cells]) for i, column in enumerate(columns)
    ]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.rjust(width) if is_number else value.ljust(width)
            for value, width, is_number in zip(values, widths, numeric, strict=True)
        ).rstrip()

    parts = [line([str(column) for column in columns]), line(["-" * w for w in widths])]
    parts += [line(row) for row in cells]
    return "\n".join(parts)
