"""`relnews sql` reads the archive and nothing else, waits for a crawl, and never stops one;
outputs are safe for spreadsheets, HTML pages and terminals."""

from __future__ import annotations

import csv
import io
import json
import time

import duckdb
import pytest
from test_outcomes import _crawl_process, wait_for_stored_pages

from conftest import run_relnews
from relnews.output import csv_safe, format_rows, json_for_html, terminal_safe


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
