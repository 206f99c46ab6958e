"""Printing rows the same way in every command: an aligned table, CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import tabulate as tabulate_module
from tabulate import tabulate

if TYPE_CHECKING:
    from relnews.widgets import ItemFacts
    from warehouse.sql_script import StatementRows

# Headers get no extra space: a column is as wide as its widest cell, header included.
tabulate_module.MIN_PADDING = 0

FORMATS = ("table", "csv", "json")

#: C0 and C1 control characters (and DEL), which a terminal would obey as commands; tab
#: and newline are left to the formats that keep them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: A cell a spreadsheet would read as a formula (OWASP's list of first characters).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def terminal_safe(text: str) -> str:
    """``text`` with every control character shown as a visible escape (``\\x1b``), so
    that crawled text printed to a terminal cannot move the cursor, recolour or retitle
    it."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def csv_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: one starting like a formula gets a
    leading apostrophe (numbers are left alone)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def json_for_html(data: Any, indent: int | None = 2) -> str:
    """JSON that is also safe inside an HTML ``<script>`` block: ``<``, ``>``, ``&`` and
    the line separators U+2028/U+2029 are written as escapes (still the same JSON)."""
    return _script_safe(json.dumps(data, ensure_ascii=False, indent=indent))


def _script_safe(text: str) -> str:
    """JSON ``text`` with the characters an HTML page or a terminal would obey escaped
    (they occur inside JSON strings only, where an escape means the same)."""
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(char, escape)
    # json escapes C0 controls itself; C1 ones (U+0080-U+009F) too, for terminals
    return re.sub(r"[\x7f-\x9f]", lambda match: f"\\u{ord(match.group()):04x}", text)


EXPORT_FORMATS = ("json", "csv", "html")
LIST_COLUMNS = ["rank", "title", "url", "score", "shared_terms", "pinned", "backfill"]


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
    return _fit(text, width)


def _fit(text: str, width: int) -> str:
    """A table cell: on one line, control characters escaped, cut to ``width``."""
    text = terminal_safe(" ".join(text.split()))
    if len(text) <= width or text.startswith(("http://", "https://")):
        return text  # a cut URL is useless: print it whole
    return text[: width - 1] + "…"


def _csv_cell(value: Any) -> Any:
    """A CSV cell safe for spreadsheets and terminals (numbers are left alone)."""
    return csv_safe(terminal_safe(value)) if isinstance(value, str) else value


def format_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: str = "table",
    max_width: int = 60,
) -> str:
    """Render rows as an aligned text table, CSV, or a JSON list of objects."""
    if fmt == "json":
        records = [dict(zip(columns, map(_plain, row), strict=True)) for row in rows]
        return json_for_html(records)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([_csv_cell(column) for column in columns])
        for row in rows:
            writer.writerow(
                [
                    _csv_cell(json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)
                    for v in map(_plain, row)
                ]
            )
        return out.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    cells = [[_cell(value, max_width) for value in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(columns))
    ]
    return tabulate(
        cells,
        [terminal_safe(str(column)) for column in columns],
        "simple",
        colalign=["right" if is_number else "left" for is_number in numeric],
        disable_numparse=True,  # cells are already formatted
    )


#: A bare NaN or Infinity in DuckDB's JSON (not valid JSON), or a string to step over.
_NON_FINITE = re.compile(r'"(?:[^"\\]|\\.)*"|-?Infinity|NaN')


def format_results(
    results: Iterable[StatementRows], fmt: str, max_width: int = 60
) -> Iterator[str]:
    """The text of each statement's rows of a script (:func:`warehouse.sql_script.run_script`:
    ``text`` rendering for table and csv, ``json`` for json), as each comes, every value
    as DuckDB writes it.

    table: one table per statement, a blank line between, NULL shown as ``NULL``,
    numbers aligned right; csv: one header and rows per statement, a blank line between,
    NULL empty; json: one array of row objects per statement, one after another (``jq``
    reads the stream; ``jq -s`` makes it one array), NaN and infinities as ``null``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    for count, result in enumerate(results):
        text = _format_result(result, fmt, max_width)
        yield text if count == 0 or fmt == "json" else "\n" + text


def _format_result(result: StatementRows, fmt: str, max_width: int) -> str:
    if fmt == "json":
        objects = [
            _NON_FINITE.sub(lambda m: m.group() if m.group()[0] == '"' else "null", str(row[0]))
            for row in result.rows
        ]
        return _script_safe(
            "[\n" + ",\n".join(f"  {o}" for o in objects) + "\n]" if objects else "[]"
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([_csv_cell(column) for column in result.columns])
        for row in result.rows:
            writer.writerow(
                # DuckDB's text of a number or a date ("-2", "-infinity") is no formula
                [
                    _csv_cell(value) if kind == "text" else value
                    for value, kind in zip(row, result.kinds, strict=True)
                ]
            )
        return out.getvalue().rstrip("\n")
    align = ["right" if kind == "number" and result.rows else "left" for kind in result.kinds]
    return tabulate(
        [
            ["NULL" if value is None else _fit(value, max_width) for value in row]
            for row in result.rows
        ],
        [terminal_safe(column) for column in result.columns],
        "simple",
        colalign=align,
        disable_numparse=True,  # DuckDB's own text of each value
    )


class ListItem(Protocol):
    """One line of a related list (:class:`recommender.rules.RelatedArticle`)."""

    # read-only, as a frozen dataclass's fields are
    @property
    def rank(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def score(self) -> float | None: ...
    @property
    def shared_terms(self) -> tuple[str, ...]: ...
    @property
    def pinned(self) -> bool: ...
    @property
    def backfill(self) -> bool: ...


def list_rows(items: Sequence[ListItem], fmt: str) -> list[tuple]:
    """A list's rows for :func:`format_rows` under ``LIST_COLUMNS``; a table marks pins
    and backfill (filling a list the model left short) with a word, csv and json keep
    the flags."""
    return [
        (
            item.rank,
            item.title,
            item.url,
            item.score,
            list(item.shared_terms),
            ("pinned" if item.pinned else "") if fmt == "table" else item.pinned,
            ("backfill" if item.backfill else "") if fmt == "table" else item.backfill,
        )
        for item in items
    ]


def item_json(item: ListItem, facts: ItemFacts | None = None) -> dict[str, Any]:
    """One suggestion as JSON, the same in ``relnews export`` and ``relnews serve``; with
    its ``facts`` (date and precision, excerpt, rubrique, author, image) when given."""
    data = {
        "url": item.url,
        "title": item.title,
        "score": item.score,
        "shared_terms": list(item.shared_terms),
        "pinned": item.pinned,
        "backfill": item.backfill,
    }
    return data if facts is None else data | facts.as_json()


def format_export(
    lists: Mapping[str, Sequence[ListItem]],
    fmt: str,
    heading: str | None = None,
    *,
    language: str | None = None,
    facts: Mapping[str, ItemFacts] | None = None,
    templates: str | Path | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Every article's list, for a site's templates.

    json: ``{source_url: [{rank, url, title, score, shared_terms, pinned, backfill},
    ...]}``, one key per article, so a template looks its list up by URL (``backfill``:
    the item fills a list the model left short); csv: one row per (source,
    rank); html: one block per article (none for an empty list) rendered by
    :func:`relnews.widgets.render_export` with ``heading``, ``language``, ``facts``
    (dates, excerpts), the site's ``templates`` folder and ``now`` (for ages).
    """
    if fmt == "json":
        data = {
            source: [
                {
                    "rank": item.rank,
                    **item_json(item, None if facts is None else facts.get(item.url)),
                }
                for item in items
            ]
            for source, items in lists.items()
        }
        return json_for_html(data)
    if fmt == "csv":
        rows = [
            (source, *row) for source, items in lists.items() for row in list_rows(items, "csv")
        ]
        return format_rows(["source_url", *LIST_COLUMNS], rows, "csv")
    if fmt == "html":
        from relnews.widgets import render_export  # Jinja2 loads for html only

        return render_export(
            lists, language=language, facts=facts, templates=templates, heading=heading, now=now
        )
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
