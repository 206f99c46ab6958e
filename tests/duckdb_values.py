"""Every DuckDB type a SELECT can build, with the text DuckDB writes for it and the JSON
value it stands for: a battery that any test of `relnews sql`'s output can run through
all three formats (``pytest.mark.parametrize("value", DUCKDB_VALUES)``)."""

from __future__ import annotations

import csv
import decimal
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import run_relnews
from relnews import exit_codes


@dataclass(frozen=True)
class Value:
    """One value: its SQL, the cell a table and a CSV file show, and what the JSON holds
    (read with decimals exact); ``check``, a test of the text and of the JSON string,
    stands in for both when the value depends on the machine (``text`` None)."""

    def expected(self, fmt: str) -> Any:
        """What ``cell_of`` must find in ``fmt`` (None with ``check``)."""
        if fmt == "json":
            return self.json
        return (self.table if fmt == "table" else self.csv) or self.text

    sql: str
    text: str | None
    json: Any
    check: Any = None  # a function of the cell's text, for ``text`` None
    table: str | None = None  # where a table shows other than ``text``
    csv: str | None = None  # where a CSV file shows other than ``text``


def _instant(text: str) -> bool:
    # a TIMESTAMPTZ prints in the session's time zone: the same instant, any offset
    return datetime.fromisoformat(text) == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


_D = decimal.Decimal
DUCKDB_VALUES = [
    pytest.param(Value(sql, text, value, *more), id=name)
    for name, sql, text, value, *more in [
        ("tinyint", "(-128)::TINYINT", "-128", -128),
        ("smallint", "32767::SMALLINT", "32767", 32767),
        ("integer", "(-2147483648)::INTEGER", "-2147483648", -2147483648),
        ("bigint", "9223372036854775807::BIGINT", "9223372036854775807", 2**63 - 1),
        (
            "hugeint",
            "(-170141183460469231731687303715884105727)::HUGEINT",
            "-170141183460469231731687303715884105727",
            -(2**127) + 1,
        ),
        ("utinyint", "255::UTINYINT", "255", 255),
        ("ubigint", "18446744073709551615::UBIGINT", "18446744073709551615", 2**64 - 1),
        (
            "uhugeint",
            "340282366920938463463374607431768211455::UHUGEINT",
            "340282366920938463463374607431768211455",
            2**128 - 1,
        ),
        ("decimal", "1.50::DECIMAL(9,2)", "1.50", _D("1.50")),
        (
            "decimal_38",
            "(-12345678901234567890.123)::DECIMAL(38,3)",
            "-12345678901234567890.123",
            _D("-12345678901234567890.123"),
        ),
        ("double", "0.1::DOUBLE", "0.1", _D("0.1")),
        ("double_rounded", "round(2 / 3, 2)", "0.67", _D("0.67")),
        ("float", "(-0.5)::FLOAT", "-0.5", _D("-0.5")),
        ("double_nan", "'nan'::DOUBLE", "nan", None),
        ("double_infinity", "'inf'::DOUBLE", "inf", None),
        ("float_minus_infinity", "'-inf'::FLOAT", "-inf", None),
        ("boolean", "true", "true", True),
        ("varchar", "'l’été, \"chaud\"'", 'l’été, "chaud"', 'l’été, "chaud"'),
        (
            "varchar_escape_sequences",
            "'x' || chr(27) || ']0;t' || chr(7) || chr(155) || '2J'",
            "x\\x1b]0;t\\x07\\x9b2J",
            "x\x1b]0;t\x07\x9b2J",
        ),
        (
            "varchar_formula",
            "'=HYPERLINK(1)'",
            "=HYPERLINK(1)",
            "=HYPERLINK(1)",
            None,
            None,
            "'=HYPERLINK(1)",
        ),  # a spreadsheet shows it as text
        ("varchar_html", "'</script>&'", "</script>&", "</script>&"),
        ("date", "DATE '2024-02-29'", "2024-02-29", "2024-02-29"),
        ("date_infinity", "'-infinity'::DATE", "-infinity", "-infinity"),
        ("time", "TIME '10:11:12.5'", "10:11:12.5", "10:11:12.5"),
        ("timetz", "'10:00:00+02'::TIMETZ", "10:00:00+02", "10:00:00+02"),
        (
            "timestamp",
            "TIMESTAMP '2024-01-02 03:04:05.123'",
            "2024-01-02 03:04:05.123",
            "2024-01-02 03:04:05.123",
        ),
        (
            "timestamp_ns",
            "'2024-01-02 03:04:05.123456789'::TIMESTAMP_NS",
            "2024-01-02 03:04:05.123456789",
            "2024-01-02 03:04:05.123456789",
        ),
        ("timestamptz", "TIMESTAMPTZ '2024-01-02 03:04:05+00'", None, None, _instant),
        (
            "interval",
            "INTERVAL '1 year 2 months 3 days 04:05:06'",
            "1 year 2 months 3 days 04:05:06",
            "1 year 2 months 3 days 04:05:06",
        ),
        ("interval_negative", "-INTERVAL 90 MINUTE", "-01:30:00", "-01:30:00"),
        (
            "uuid",
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        ),
        ("blob", "'\\x00\\xFFab'::BLOB", "\\x00\\xFFab", "\\x00\\xFFab"),
        (
            "json",
            "'{\"a\": [1, 2.5, null]}'::JSON",
            '{"a": [1, 2.5, null]}',
            {"a": [1, _D("2.5"), None]},
        ),
        ("json_string", "'\"text\"'::JSON", '"text"', "text"),
        ("list", "[1, 2, NULL]", "[1, 2, NULL]", [1, 2, None]),
        ("list_of_doubles", "[1.5, 'nan'::DOUBLE]::DOUBLE[]", "[1.5, nan]", [_D("1.5"), None]),
        ("list_of_json", "['{\"a\": 1}'::JSON]", '[{"a": 1}]', [{"a": 1}]),
        ("array", "[1, 2]::INTEGER[2]", "[1, 2]", [1, 2]),
        ("struct", "{'x': 1, 'y': 'z'}", "{'x': 1, 'y': z}", {"x": 1, "y": "z"}),
        ("map", "MAP {'k': [1]}", "{k=[1]}", {"k": [1]}),
        ("enum", "'b'::ENUM('a', 'b')", "b", "b"),
        ("null", "NULL", "", None, None, "NULL"),
        ("bit", "'1010'::BIT", "1010", "1010"),
        ("union", "union_value(num := 2)::UNION(num INTEGER, str VARCHAR)", "2", {"num": 2}),
    ]  # fmt: skip
]


def run_sql_cleanly(db: Path, query: str, fmt: str) -> str:
    """``relnews sql QUERY --format FMT``, which must end well (exit 0, no traceback,
    nothing on stderr); its stdout."""
    result = run_relnews("sql", query, "--db", str(db), "--format", fmt, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def cell_of(stdout: str, fmt: str) -> Any:
    """The one value of a one-column, one-row output: the table's or CSV's cell text, or
    the JSON value (decimals exact; a NaN or Infinity would fail: JSON has none)."""
    if fmt == "json":
        rows = json.loads(stdout, parse_float=decimal.Decimal, parse_constant=_no_constant)
        assert isinstance(rows, list) and len(rows) == 1 and len(rows[0]) == 1, stdout
        return next(iter(rows[0].values()))
    if fmt == "csv":
        header, *rows = list(csv.reader(io.StringIO(stdout)))
        assert len(rows) == 1, stdout
        return rows[0][0]
    header, rule, *rows = stdout.rstrip("\n").split("\n")
    assert set(rule) == {"-"} and len(rows) == 1, stdout
    return rows[0].strip()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def usage_exit_code() -> int:
    """The exit code of a usage error."""
    return exit_codes.EXIT_USAGE


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
