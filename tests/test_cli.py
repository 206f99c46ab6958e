"""The command line, run as a user runs it: a fresh process, a real archive file."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import duckdb
import pytest

from conftest import ROOT, run_relnews


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "relnews-demo.duckdb"
    result = run_relnews("demo", "--port", "0", "--db", str(db))
    return db, result.stdout


def report_scores(stdout: str) -> dict[str, dict[str, float]]:
    """Parse the first table (existing-article mode) printed by `relnews demo` /
    `relnews evaluate`: metrics as rows, methods as columns, values with intervals."""
    lines = stdout.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("metric "))
    methods = re.split(r"\s{2,}", lines[header_at].strip())[1:]
    scores: dict[str, dict[str, float]] = {method: {} for method in methods}
    for line in lines[header_at + 2 :]:
        if not line.strip():
            break
        metric, *cells = re.split(r"\s{2,}", line.strip())
        for method, cell in zip(methods, cells, strict=True):
            scores[method][metric] = float(cell.split()[0])
    return scores


def test_demo_reports_model_beside_baselines(demo_run):
    db, stdout = demo_run
    scores = report_scores(stdout)
    assert set(scores) == {
        "learned", "tfidf", "bm25", "same rubrique, newest", "same rubrique, newest at crawl",
        "same tag, newest at crawl", "random",
    }  # fmt: skip
    assert {"P@4", "R@4", "R@5", "nDCG@10", "MRR", "hit@5", "coverage@4", "queries"} <= set(
        scores["tfidf"]
    )
    ndcg = {method: values["nDCG@10"] for method, values in scores.items()}
    for method in ("learned", "tfidf", "bm25"):
        assert ndcg[method] > ndcg["same rubrique, newest"] > ndcg["random"]
    assert "cold start" in stdout
    assert scores["tfidf"]["queries"] >= 60  # the newest 20% of 360 articles
    assert "relnews sql" in stdout and str(db) in stdout


def test_demo_archive_opens_with_plain_duckdb(demo_run):
    db, _ = demo_run
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] >= 300
        lists = con.execute(
            "SELECT count(DISTINCT source_url), max(rank) FROM recommendations"
        ).fetchone()
        evaluations = con.execute("SELECT count(DISTINCT method) FROM evaluations").fetchone()
    finally:
        con.close()
    assert lists == (360, 10)
    assert evaluations == (7,)  # one per method compared


def test_sql_prints_table_csv_and_json(demo_run):
    db, _ = demo_run
    query = "select count(*) as n from articles"
    table = run_relnews("sql", query, "--db", str(db)).stdout
    assert table.split() == ["n", "---", "360"]
    rows = list(
        csv.reader(
            io.StringIO(run_relnews("sql", query, "--db", str(db), "--format", "csv").stdout)
        )
    )
    assert rows == [["n"], ["360"]]
    data = json.loads(run_relnews("sql", query, "--db", str(db), "--format", "json").stdout)
    assert data == [{"n": 360}]


def test_sql_error_is_one_clean_line(demo_run):
    db, _ = demo_run
    result = run_relnews("sql", "select nope from articles", "--db", str(db), check=False)
    assert result.returncode == 1
    assert "Error:" in result.stderr and "Traceback" not in result.stderr


def test_recommend_an_archived_article(demo_run):
    db, _ = demo_run
    con = duckdb.connect(str(db), read_only=True)
    url = con.execute("SELECT url FROM articles ORDER BY url DESC LIMIT 1").fetchone()[0]
    con.close()
    result = run_relnews("recommend", url, "--db", str(db), "-k", "5", "--format", "json")
    suggestions = json.loads(result.stdout)
    assert [s["rank"] for s in suggestions] == [1, 2, 3, 4, 5]
    assert all(s["url"] != url for s in suggestions)
    assert all(s["shared_terms"] for s in suggestions)
    scores = [s["score"] for s in suggestions]
    assert scores == sorted(scores, reverse=True)


def test_recommend_unknown_url_is_a_clear_error(demo_run):
    db, _ = demo_run
    result = run_relnews("recommend", "http://nowhere.test/x.htm", "--db", str(db), check=False)
    assert result.returncode == 1
    assert "is not in" in result.stderr


def test_evaluate_stores_a_new_evaluation(demo_run):
    db, _ = demo_run
    result = run_relnews("evaluate", "--db", str(db), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    methods = {
        "learned", "tfidf", "bm25", "same rubrique, newest", "same rubrique, newest at crawl",
        "same tag, newest at crawl", "random",
    }  # fmt: skip
    assert {row["method"] for row in rows} == methods
    assert {"P@4", "R@4", "R@5", "nDCG@10", "MRR", "hit@5"} <= {row["metric"] for row in rows}
    assert {row["mode"] for row in rows} == {"existing", "cold_start"}
    for row in rows:  # every score has an interval, the catalogue coverage none
        assert (row["ci_low"] == "") == row["metric"].startswith("coverage@"), row
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(DISTINCT evaluation_id) FROM evaluations").fetchone()[0] == 2
    con.close()


def test_commands_on_a_missing_archive_say_so(tmp_path):
    missing = str(tmp_path / "missing.duckdb")
    for args in (["sql", "select 1"], ["fit"], ["evaluate"], ["recommend", "http://x/y"]):
        result = run_relnews(*args, "--db", missing, check=False)
        assert result.returncode == 1, args
        assert "no archive at" in result.stderr, args
    assert not (tmp_path / "missing.duckdb").exists()


def test_profiles_lists_the_demo():
    result = run_relnews("profiles", "--format", "json")
    names = [row["name"] for row in json.loads(result.stdout)]
    assert "demo" in names


NO_SCRAPY_PROBE = """
import json, sys
from click.testing import CliRunner
from relnews.cli import cli
report = []
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(cli, args, prog_name="relnews", catch_exceptions=False)
    scrapy = sorted(name for name in sys.modules if name.split(".")[0] == "scrapy")
    report.append({"args": args, "exit": result.exit_code, "scrapy": scrapy[:3]})
import crawler.run  # the probe itself: the crawler's Scrapy half does import Scrapy
report.append({"args": "import crawler.run", "exit": 0, "scrapy": ["scrapy" in sys.modules]})
print(json.dumps(report))
"""


def test_commands_that_do_not_crawl_do_not_import_scrapy(refreshed_demo, tmp_path):
    db = str(refreshed_demo.copy_to(tmp_path))  # pin writes to the archive
    with duckdb.connect(db, read_only=True) as con:
        query = "select url from articles where gone_at is null order by url limit 2"
        first, second = (row[0] for row in con.execute(query).fetchall())
    commands = [
        ["profiles"],
        ["rules", "--db", db],
        ["sql", "select 1", "--db", db],
        ["recommend", first, "--db", db],
        ["pin", first, second, "--db", db],
        ["rules", "--db", db],
        ["crawl", "--help"],
    ]
    # one fresh interpreter runs them in turn: what is in sys.modules after each
    # command is what that command and the ones before it imported
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", NO_SCRAPY_PROBE, json.dumps(commands)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert [line["exit"] for line in report] == [0] * (len(commands) + 1), report
    assert [bool(line["scrapy"]) for line in report] == [False] * len(commands) + [True], report
