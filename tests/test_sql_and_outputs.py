"""`relnews sql` reads the archive and nothing else, waits for a crawl, and never stops one;
outputs are safe for spreadsheets, HTML pages and terminals."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time

import duckdb
import pytest
from duckdb_values import CONTROL, DUCKDB_VALUES, cell_of, run_sql_cleanly, usage_exit_code
from test_outcomes import _crawl_process, wait_for_stored_pages

from conftest import run_relnews
from relnews.output import FORMATS, csv_safe, format_rows, json_for_html, terminal_safe
from warehouse import connect


@pytest.mark.parametrize(
    "query",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/passwd')",
        "copy (select 1) to '{tmp}/out.csv'",
        "attach '{tmp}/other.duckdb' as other",
        "install fts",
        "set enable_external_access = true",
    ],
)
def test_sql_reaches_nothing_but_the_archive(crawled_demo, tmp_path, query):
    db, _ = crawled_demo
    result = run_relnews("sql", query.format(tmp=tmp_path), "--db", str(db), check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_sql_unsafe_lifts_the_sandbox(crawled_demo, tmp_path):
    db, _ = crawled_demo
    out = tmp_path / "out.csv"
    run_relnews("sql", f"copy (select 1 as a) to '{out}'", "--db", str(db), "--unsafe")
    assert out.read_text().splitlines() == ["a", "1"]


def test_sql_stops_a_query_past_its_time_limit(crawled_demo):
    db, _ = crawled_demo
    started = time.monotonic()
    result = run_relnews(
        "sql", "select count(*) from range(1000000000000) a", "--db", str(db),
        "--timeout", "1", check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "ran past --timeout 1 s" in result.stderr
    assert time.monotonic() - started < 30


def _seconds_query(seconds: float) -> str:
    """A query that takes about ``seconds`` on this machine (measured first)."""
    con = duckdb.connect()
    n = 5_000_000
    started = time.monotonic()
    con.execute(f"select sum(hash(i)) from range({n}) t(i)").fetchall()
    per_row = (time.monotonic() - started) / n
    con.close()
    return f"select sum(hash(i)) from range({int(seconds / per_row)}) t(i)"


def test_a_query_longer_than_the_crawls_waits_during_a_crawl_both_complete(demo_server, tmp_path):
    # The crawl waits for the file in rounds of RELNEWS_DB_WAIT_NOTICE seconds (30 by
    # default); a query of several rounds checks that it keeps waiting, never fails.
    db = tmp_path / "busy.duckdb"
    crawl = _crawl_process(
        demo_server, db, "-s", "RELNEWS_DB_WAIT_NOTICE=0.5", "-s", "DOWNLOAD_DELAY=0",
        "-s", "CONCURRENT_REQUESTS=4", "-s", "RELNEWS_BATCH_SIZE=40",
        "-s", "RELNEWS_RELEASE_EVERY=1",
    )  # fmt: skip
    wait_for_stored_pages(db, crawl)
    started = time.monotonic()
    query = run_relnews("sql", _seconds_query(2.5), "--db", str(db), "--timeout", "0")
    took = time.monotonic() - started
    assert query.returncode == 0, query.stderr
    assert crawl.poll() is None or took < 1.7, "the crawl ended before the query held the file"
    stdout, stderr = crawl.communicate(timeout=600)
    assert crawl.returncode == 0, (stdout, stderr[-3000:])
    assert "run 1 finished" in stdout
    assert "so far for a reader to let go" in stderr  # it said it was waiting
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == len(
            demo_server.site.articles
        )
    finally:
        con.close()


def test_db_that_is_not_an_archive_is_refused(tmp_path):
    plain = tmp_path / "mine.duckdb"
    con = duckdb.connect(str(plain))
    con.execute("CREATE TABLE precious (a INTEGER)")
    con.close()
    for args in (
        ["sql", "select 1"],
        ["crawl", "--profile", "demo", "--url", "http://127.0.0.1:9/"],
    ):
        result = run_relnews(*args, "--db", str(plain), check=False)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert "is a DuckDB file but not a relnews archive" in result.stderr
    con = duckdb.connect(str(plain), read_only=True)
    tables = {
        row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    con.close()
    assert tables == {"precious"}  # untouched


def test_csv_cells_that_look_like_formulas_are_neutralised():
    rows = [('=HYPERLINK("http://evil")', 1), ("+1", -2), ("@SUM(A1)", 3.5), ("-x", None)]
    text = format_rows(["title", "n"], rows, "csv")
    cells = list(csv.reader(io.StringIO(text)))[1:]
    assert [cell[0] for cell in cells] == ['\'=HYPERLINK("http://evil")', "'+1", "'@SUM(A1)", "'-x"]
    assert [cell[1] for cell in cells] == ["1", "-2", "3.5", ""]  # numbers stay numbers
    assert csv_safe("plain") == "plain"


def test_json_is_safe_inside_a_script_block():
    data = {"title": "</script><script>alert(1)</script> & \u2028"}
    text = json_for_html(data)
    assert "</script" not in text and "<" not in text and "\u2028" not in text
    assert json.loads(text) == data


def test_sql_never_prints_control_sequences(crawled_demo):
    db, _ = crawled_demo
    result = run_relnews(
        "sql", "select chr(27) || ']0;pwned' || chr(7) || 'x' as t, chr(155) || '2J' as u",
        "--db", str(db),
    )  # fmt: skip
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\x9b" not in result.stdout
    assert "\\x1b]0;pwned\\x07x" in result.stdout
    assert terminal_safe("a\tb") == "a\tb"


@pytest.fixture(scope="module")
def empty_archive(tmp_path_factory):
    """A new archive with no crawl: enough for SQL that reads no table."""
    db = tmp_path_factory.mktemp("sql") / "empty.duckdb"
    connect(db).close()
    return db


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", DUCKDB_VALUES)
def test_every_duckdb_type_prints_as_duckdb_writes_it(empty_archive, value, fmt):
    out = run_sql_cleanly(empty_archive, f"SELECT {value.sql} AS v", fmt)
    assert not CONTROL.search(out), out  # nothing a terminal would obey
    assert "<" not in out or fmt != "json"  # JSON safe in a <script> block
    cell = cell_of(out, fmt)
    if value.text is None:
        assert value.check(cell), cell
    else:
        assert cell == value.expected(fmt)


SCRIPT = """select 1 as a, 'x' as b;  -- several statements, each one's rows shown
set variable k = 2;
select getvariable('k') * 10 as c;
create temp table t as select 3 as n;  -- a count of rows: not shown
insert into t values (4) returning n;
select sum(n) as total from t
"""


def test_a_script_prints_the_rows_of_each_statement_in_order(empty_archive):
    db = str(empty_archive)
    table = run_relnews("sql", SCRIPT, "--db", db).stdout
    assert table == "a  b\n-  -\n1  x\n\n c\n--\n20\n\nn\n-\n4\n\ntotal\n-----\n    7\n"
    csv_out = run_relnews("sql", SCRIPT, "--db", db, "--format", "csv").stdout
    assert csv_out == "a,b\n1,x\n\nc\n20\n\nn\n4\n\ntotal\n7\n"
    json_out = run_relnews("sql", SCRIPT, "--db", db, "--format", "json").stdout
    assert _json_stream(json_out) == [[{"a": 1, "b": "x"}], [{"c": 20}], [{"n": 4}], [{"total": 7}]]


def _json_stream(text: str) -> list:
    """The JSON documents of ``text``, one after another (as ``jq -s`` reads them)."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    while text[at:].strip():
        at += len(text[at:]) - len(text[at:].lstrip())
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
    return documents


def test_sql_reads_a_script_from_a_file_or_standard_input(empty_archive, tmp_path):
    script = tmp_path / "q.sql"
    # a byte-order mark, as some editors save UTF-8
    script.write_bytes("\ufeffselect 'été' as mot;\nselect 2 as deux;\n".encode())
    expected = "mot\n---\nété\n\ndeux\n----\n   2\n"
    assert run_relnews("sql", "--file", str(script), "--db", str(empty_archive)).stdout == expected
    for args in (["-"], ["--file", "-"]):
        result = subprocess.run(
            [sys.executable, "-m", "relnews", "sql", *args, "--db", str(empty_archive)],
            input=script.read_bytes(), capture_output=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.decode() == expected


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["--file", "{file}"], b"select 1;\n-- caf\xe9\n", "is not UTF-8 text (byte 0xe9"),
        (["--file", "{file}"], b"", "holds no statement"),
        (["--file", "{file}"], b"-- only a comment\n", "holds no statement"),
        ([" "], None, "holds no statement"),
        (["select 1", "--file", "{file}"], b"select 2", "not both"),
        ([], None, "give a QUERY"),
        (["--file", "{missing}"], None, "does not exist"),
    ],
)
def test_sql_it_cannot_read_is_a_usage_error_in_one_line(
    empty_archive, tmp_path, args, content, message
):
    file = tmp_path / "q.sql"
    if content is not None:
        file.write_bytes(content)
    args = [arg.format(file=file, missing=tmp_path / "missing.sql") for arg in args]
    result = run_relnews("sql", *args, "--db", str(empty_archive), check=False)
    assert result.returncode == usage_exit_code()
    assert "Traceback" not in result.stderr and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and message in errors[0], result.stderr


def test_an_error_ends_the_script_after_the_rows_already_printed(empty_archive):
    result = run_relnews(
        "sql", "select 41 as a; select * from no_such_table; select 43 as c",
        "--db", str(empty_archive), check=False,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout == " a\n--\n41\n"
    assert len(result.stderr.strip().splitlines()) == 1 and "no_such_table" in result.stderr


def test_the_time_limit_holds_for_the_whole_script(empty_archive):
    started = time.monotonic()
    result = run_relnews(
        "sql", "select 42 as a; select count(*) from range(1000000000000) t",
        "--db", str(empty_archive), "--timeout", "1", check=False,
    )  # fmt: skip
    assert result.returncode == 1 and "ran past --timeout 1 s" in result.stderr
    assert result.stdout == " a\n--\n42\n"
    assert time.monotonic() - started < 30


def test_csv_never_prints_control_sequences():
    text = format_rows(["t"], [("a\x1b[2Jb\x9b",)], "csv")
    assert text == "t\na\\x1b[2Jb\\x9b"


def test_json_rows_keep_every_column_whatever_its_name(empty_archive):
    out = run_sql_cleanly(empty_archive, 'select 1 as row_0, 2 as a, 3 as a, 4 as "x""y"', "json")
    assert json.loads(out) == [{"row_0": 1, "a": 2, "a_1": 3, 'x"y': 4}]
