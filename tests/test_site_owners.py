"""For site owners: lists for new texts, editors' pins and blocks, a freshness window,
exports for page templates and an HTTP endpoint, on a real crawl of the demo site."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import duckdb
import pytest
from click.testing import CliRunner

from conftest import ROOT, archive_article, run_relnews
from recommender import Suggestion
from recommender.rules import Rules, apply_rules, fresh_since, ruled_lists
from relnews.cli import cli
from relnews.exit_codes import EXIT_USAGE
from relnews.serve import make_server
from warehouse import Article, DateValue

SCRIPT_TITLE = "Le sommeil <script>alert(1)</script> des adolescents & les écrans"
NEW_TEXT = """Les écrans du soir retardent l'endormissement des adolescents
Une équipe a suivi pendant deux ans des lycéens qui regardaient leur téléphone au lit.
Le sommeil, la mélatonine et l'insomnie : la lumière bleue du soir décale l'horloge
interne, et les nuits raccourcissent d'une demi-heure en moyenne.
"""


def sql(db, query: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def recommend_json(db, *args: str) -> list[dict]:
    return json.loads(run_relnews("recommend", *args, "--db", str(db), "--format", "json").stdout)


@pytest.fixture(scope="module")
def site(crawled_demo, tmp_path_factory):
    """A copy of the crawled demo archive, plus an article whose title holds markup,
    fitted, with an editor's pin and block set through the command line."""
    crawled, _ = crawled_demo
    db = tmp_path_factory.mktemp("site") / "site.duckdb"
    shutil.copy(crawled, db)
    newest = sql(
        db,
        "SELECT url, published_at FROM latest_articles WHERE published_at IS NOT NULL"
        " ORDER BY published_at DESC, url LIMIT 1",
    )[0]
    source, source_date = newest
    base = re.match(r"https?://[^/]+/", source).group(0)
    script_url = f"{base}news/sommeil/le-sommeil-des-adolescents_9999.htm"
    when = source_date - timedelta(days=1)
    article = Article(
        url=script_url,
        title=SCRIPT_TITLE,
        lead="Les écrans le soir décalent le sommeil.",
        body="Le sommeil des adolescents souffre des écrans et de la lumière bleue le soir.",
        published=DateValue(when, "json-ld", "day"),
        rubrique="Sommeil",
    )
    archive_article(db, article)
    run_relnews("fit", "--db", str(db))

    default = recommend_json(db, source, "-k", "5")
    oldest = sql(
        db,
        "SELECT url FROM latest_articles WHERE published_at IS NOT NULL"
        " ORDER BY published_at, url LIMIT 1",
    )[0][0]
    blocked = default[0]["url"]
    assert oldest not in {s["url"] for s in default} and oldest != source
    run_relnews("pin", source, oldest, "--note", "the first study", "--db", str(db))
    run_relnews("pin", source, script_url, "--db", str(db))
    run_relnews("block", blocked, "--note", "retracted", "--db", str(db))
    return {
        "db": db,
        "source": source,
        "source_date": source_date,
        "pins": [oldest, script_url],
        "blocked": blocked,
        "script_url": script_url,
        "default": default,
        "archived": {row[0] for row in sql(db, "SELECT url FROM articles")},
    }


# -- recommend ----------------------------------------------------------------------


def test_recommend_text_suggests_archived_articles_with_shared_terms(site, tmp_path):
    draft = tmp_path / "draft.txt"
    draft.write_text(NEW_TEXT, encoding="utf-8")
    suggestions = recommend_json(site["db"], "--text", str(draft), "-k", "5")
    assert [s["rank"] for s in suggestions] == [1, 2, 3, 4, 5]
    assert all(s["url"] in site["archived"] for s in suggestions)
    assert all(s["shared_terms"] and s["title"] for s in suggestions)
    assert not any(s["pinned"] for s in suggestions)  # a new text has no pins
    assert site["blocked"] not in {s["url"] for s in suggestions}  # '*' blocks hold
    # The terms explain the suggestion by the new text's own words.
    folded = unicodedata.normalize("NFKD", NEW_TEXT.lower()).encode("ascii", "ignore").decode()
    assert all(any(term in folded for term in s["shared_terms"]) for s in suggestions)


def test_recommend_text_from_stdin(site):
    result = CliRunner().invoke(
        cli,
        ["recommend", "--text", "-", "--title", "Insomnie", "-k", "3", "--db", str(site["db"])],
        input=NEW_TEXT,
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "rank", "title", "url", "score", "shared_terms", "pinned", "backfill"
    ]  # fmt: skip
    assert len(lines) == 2 + 3


def test_recommend_needs_a_url_or_a_text(site):
    result = run_relnews("recommend", "--db", str(site["db"]), check=False)
    assert result.returncode == EXIT_USAGE and "--text" in result.stderr


def test_pins_come_first_and_blocks_never_show(site):
    suggestions = recommend_json(site["db"], site["source"], "-k", "5")
    urls = [s["url"] for s in suggestions]
    assert urls[:2] == site["pins"]  # in the order pinned
    assert [s["pinned"] for s in suggestions] == [True, True, False, False, False]
    assert site["blocked"] not in urls
    assert site["source"] not in urls and len(set(urls)) == 5
    # The rest is the model's list, in its order, without the block.
    default = [s["url"] for s in site["default"] if s["url"] != site["blocked"]]
    assert urls[2:] == [url for url in default if url not in site["pins"]][:3]
    # A pin the model did not rank has no score to show.
    assert suggestions[0]["score"] is None and suggestions[0]["shared_terms"] == []


def test_fresh_days_drops_old_targets_but_keeps_pins(site):
    everything = recommend_json(site["db"], site["source"], "-k", "40")
    fresh = recommend_json(site["db"], site["source"], "-k", "40", "--fresh-days", "365")
    dates = dict(sql(site["db"], "SELECT url, published_at FROM latest_articles"))
    oldest_allowed = site["source_date"] - timedelta(days=365)
    assert [s["url"] for s in fresh][:2] == site["pins"]
    assert dates[site["pins"][0]] < oldest_allowed  # the pin is old, and still there
    unpinned = [s["url"] for s in fresh if not s["pinned"]]
    assert unpinned, "the window left nothing to test"
    assert all(dates[url] is None or dates[url] >= oldest_allowed for url in unpinned)
    dropped = [s["url"] for s in everything if s["url"] not in {f["url"] for f in fresh}]
    assert any(dates[url] is not None and dates[url] < oldest_allowed for url in dropped)


def test_rules_lists_pins_and_blocks(site):
    rows = json.loads(run_relnews("rules", "--db", str(site["db"]), "--format", "json").stdout)
    assert [(r["rule"], r["source_url"], r["target_url"]) for r in rows] == [
        ("pin", site["source"], site["pins"][0]),
        ("pin", site["source"], site["pins"][1]),
        ("block", "*", site["blocked"]),
    ]
    assert rows[0]["note"] == "the first study" and rows[1]["title"] == SCRIPT_TITLE


def test_rules_need_archived_urls(site, tmp_path):
    db = str(site["db"])
    result = run_relnews(
        "pin", site["source"], "http://nowhere.test/x.htm", "--db", db, check=False
    )
    assert result.returncode == 1 and "is not in" in result.stderr
    result = run_relnews("pin", site["source"], site["source"], "--db", db, check=False)
    assert result.returncode == 1 and "source itself" in result.stderr
    result = run_relnews("unblock", site["pins"][0], "--db", db, check=False)
    assert result.returncode == 1 and "no block" in result.stderr


# -- export -------------------------------------------------------------------------


def test_export_json_and_csv_apply_the_rules(site, tmp_path):
    db = str(site["db"])
    lists = json.loads(run_relnews("export", "--db", db, "-k", "4").stdout)
    live = sql(site["db"], "SELECT count(*) FROM articles WHERE gone_at IS NULL")[0][0]
    assert len(lists) == live
    assert [item["url"] for item in lists[site["source"]][:2]] == site["pins"]
    assert all(len(items) <= 4 for items in lists.values())
    assert all(item["url"] != site["blocked"] for items in lists.values() for item in items)
    assert all(item["url"] != source for source, items in lists.items() for item in items)

    out = tmp_path / "lists.csv"
    result = run_relnews("export", "--db", db, "-k", "4", "--format", "csv", "--output", str(out))
    assert result.stdout == "" and str(out) in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    first = [r for r in rows if r["source_url"] == site["source"]]
    assert [(r["rank"], r["url"]) for r in first[:2]] == [
        ("1", site["pins"][0]),
        ("2", site["pins"][1]),
    ]
    assert all(r["url"] != site["blocked"] for r in rows)


def test_export_html_escapes_titles(site):
    page = run_relnews("export", "--db", str(site["db"]), "--format", "html", "-k", "3").stdout
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&amp; les écrans" in page
    block = page.split(f'data-source="{site["source"]}"')[1].split("</aside>")[0]
    links = re.findall(r'<li><a href="([^"]+)">', block)
    assert links[:2] == site["pins"] and len(links) == 3
    assert f'href="{site["blocked"]}"' not in page
    assert page.count('<aside class="relnews-related"') >= 300


# -- serve --------------------------------------------------------------------------


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def server(site):
    server = make_server(site["db"], port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


def related_url(server, url: str, **params: str) -> str:
    return server.url + "related?" + urllib.parse.urlencode({"url": url, **params})


def test_serve_answers_related_lists(site, server):
    assert server.server_address[0] == "127.0.0.1"
    status, data = get(related_url(server, site["source"], k="3"))
    assert status == 200
    assert data["url"] == site["source"]
    assert [item["url"] for item in data["related"]][:2] == site["pins"]
    assert len(data["related"]) == 3 and data["related"][1]["title"] == SCRIPT_TITLE
    assert site["blocked"] not in {item["url"] for item in data["related"]}
    assert set(data["related"][2]) == {
        "url", "title", "score", "shared_terms", "pinned", "backfill",
        "published", "precision", "excerpt", "rubrique", "author", "image",
    }  # fmt: skip
    status, data = get(related_url(server, site["source"], k="40", fresh_days="60"))
    assert status == 200 and [item["url"] for item in data["related"]][:2] == site["pins"]

    status, data = get(related_url(server, "http://nowhere.test/x.htm"))
    assert status == 404 and "not archived" in data["error"]
    for bad in ({"k": "0"}, {"k": "many"}, {"k": "1000"}):
        assert get(related_url(server, site["source"], **bad))[0] == 400
    assert get(server.url + "related")[0] == 400
    assert get(server.url + "nothing")[0] == 404
    status, data = get(server.url + "health")
    assert status == 200 and data["status"] == "ok" and data["articles"] >= 360


def first_of_list_within(server, url: str, pinned_before: bool, seconds: float = 10.0) -> dict:
    """The first item of a list once the server has looked at the archive again (once
    its pinned flag is no longer ``pinned_before``, or after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while True:
        status, data = get(related_url(server, url, k="3"))
        assert status == 200
        if time.monotonic() > deadline or data["related"][0]["pinned"] != pinned_before:
            return data["related"][0]
        time.sleep(0.2)


def test_serve_keeps_the_archive_free_and_applies_new_rules(site, server):
    # The server holds no connection between its looks at the archive: a writer gets
    # the file, and the server takes the new rule in at its next look (every 2 s).
    other = site["default"][1]["url"]
    target = site["default"][-1]["url"]
    run_relnews("pin", other, target, "--db", str(site["db"]), own_process=True)
    try:
        first = first_of_list_within(server, other, pinned_before=False)
        assert (first["url"], first["pinned"]) == (target, True)
    finally:
        run_relnews("unpin", other, target, "--db", str(site["db"]), own_process=True)
    assert not first_of_list_within(server, other, pinned_before=True)["pinned"]


def test_serve_command_listens_on_localhost_by_default(site):
    process = subprocess.Popen(
        [sys.executable, "-m", "relnews", "serve", "--port", "0", "--db", str(site["db"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"on (http://([\d.]+):(\d+)/)", line)
        if not match:
            process.terminate()
            pytest.fail(f"no address in {line!r}: {process.communicate(timeout=10)[1]}")
        assert match.group(2) == "127.0.0.1"
        status, data = get(match.group(1) + "health")
        assert status == 200 and data["status"] == "ok"
    finally:
        process.terminate()
        process.wait(10)


# -- the policy itself, on plain lists ---------------------------------------------


def test_apply_rules_orders_dedupes_and_fills_to_k():
    ranked = [Suggestion(url, 1.0 / i, (url,)) for i, url in enumerate("sabcdb", start=1)]
    out = apply_rules(ranked, "s", 4, pins=["c", "x", "c", "s"], blocks={"a", "x"})
    assert [(s.target_url, s.pinned) for s in out] == [
        ("c", True),
        ("b", False),
        ("d", False),
    ]
    assert out[0].score == ranked[3].score  # a pin the model ranked keeps its score
    out = apply_rules(ranked, "s", 2, pins=["z", "y", "c"], live={"z", "y", "c", "b"})
    assert [s.target_url for s in out] == ["z", "y"] and math.isnan(out[0].score)


def test_freshness_keeps_undated_targets_and_pins():
    ranked = [Suggestion(url, 1.0) for url in ("old", "undated", "new")]
    published = {"old": 0.0, "undated": math.nan, "new": 100 * 86400.0}
    since = fresh_since(published["new"] + 86400.0, 30, now=math.nan)
    out = apply_rules(ranked, "s", 5, published=published, fresh_since=since)
    assert [s.target_url for s in out] == ["undated", "new"]
    out = apply_rules(ranked, "s", 5, pins=["old"], published=published, fresh_since=since)
    assert [s.target_url for s in out] == ["old", "undated", "new"]
    assert fresh_since(math.nan, 1, now=10 * 86400.0) == 9 * 86400.0  # undated source: today


def test_ruled_lists_asks_the_model_for_more_when_rules_leave_a_list_short():
    corpus = [f"t{i}" for i in range(50)]
    asked = []

    def rank(sources, depth):
        asked.append(depth)
        return {source: [Suggestion(url, 1.0) for url in corpus[:depth]] for source in sources}

    rules = Rules.from_rows([("s", url, "block") for url in corpus[:20]])
    lists = ruled_lists(rank, ["s"], 5, rules, max_depth=len(corpus))
    assert [s.target_url for s in lists["s"]] == corpus[20:25]
    assert asked[0] < 25 < asked[-1] <= len(corpus)


def test_fit_with_threads_shows_progress_and_stores_the_same_lists(crawled_demo, tmp_path):
    crawled, _ = crawled_demo
    lists = []
    for jobs in ("1", "2"):
        db = tmp_path / f"jobs{jobs}.duckdb"
        shutil.copy(crawled, db)
        result = run_relnews("fit", "--db", str(db), "--jobs", jobs)
        assert "fit: lists: 360 of 360 articles" in result.stderr
        assert result.stderr.index("fit: fitting on") < result.stderr.index("fit: storing")
        assert "suggestions stored" in result.stdout
        lists.append(
            sql(
                db,
                "SELECT source_url, rank, target_url, score FROM recommendations"
                " ORDER BY source_url, rank",
            )
        )
    assert lists[0] and lists[0] == lists[1]


def test_serve_health_and_errors_tell_no_secrets_and_idle_connections_close(site, tmp_path):
    db = tmp_path / "moved.duckdb"
    shutil.copy(site["db"], db)
    shutil.copytree(site["db"].with_suffix(".models"), db.with_suffix(".models"))
    server = make_server(db, port=0, idle_timeout=1.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, data = get(server.url + "health")
        assert status == 200 and data["status"] == "ok"
        idle = socket.create_connection(server.server_address[:2])
        db.rename(tmp_path / "elsewhere.duckdb")  # the archive can no longer be read
        deadline = time.monotonic() + 10
        while data["archive"] == "readable" and time.monotonic() < deadline:
            time.sleep(0.2)
            status, data = get(server.url + "health")
        # the lists keep being served from memory; health says the archive is not read
        assert status == 200 and data["archive"] == "unavailable"
        status, listed = get(related_url(server, site["source"]))
        assert status == 200 and listed["related"]
        status, error = get(related_url(server, "http://nowhere.test/x.htm"))
        assert status == 404
        for text in (json.dumps(error), json.dumps(data)):
            assert str(tmp_path) not in text and "PID" not in text and sys.executable not in text
        idle.settimeout(10)
        started = time.monotonic()
        assert idle.recv(1) == b""  # closed by the server after its idle timeout
        assert time.monotonic() - started < 5
        idle.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_a_moved_archive_folder_finds_its_models(site, tmp_path):
    moved = tmp_path / "moved"
    moved.mkdir()
    db = moved / "news.duckdb"
    shutil.copy(site["db"], db)
    original = site["db"].with_suffix(".models")
    shutil.copytree(original, moved / "news.models")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    original.rename(original.with_suffix(".away"))  # where `fit` saved it: gone now
    try:
        result = subprocess.run(
            [sys.executable, "-m", "relnews", "recommend", site["source"],
             "--db", "../moved/news.duckdb"],
            capture_output=True, text=True, cwd=elsewhere,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    finally:
        original.with_suffix(".away").rename(original)
    assert result.returncode == 0, result.stderr
    assert site["pins"][0] in result.stdout
