"""`relnews search` through its kept full-text index: phrases, prefixes, exclusions,
snippets, an index that follows crawls, and queries that are not what FTS5 expects."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import duckdb
import pytest

from conftest import archive_article, run_relnews
from recommender.models.text import stemmer_for
from recommender.search import parse_query
from warehouse import Article
from warehouse.search_index import SearchIndex, index_path_for


def folded_words(text: str) -> list[str]:
    """A text's words as a reader compares them: lower case, accents off."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", text)


def live_texts(db: Path) -> dict[str, list[str]]:
    """Every live article's words (title, lead, body), by URL, read from the archive."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT url, title || ' ' || coalesce(lead, '') || ' ' || coalesce(body, '')"
            " FROM latest_articles WHERE gone_at IS NULL"
        ).fetchall()
    finally:
        con.close()
    return {url: folded_words(text) for url, text in rows}


def holds_phrase(words: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def search(db: Path, query: str, k: int = 500) -> list[dict]:
    # "--": a query may start with "-" (an exclusion), which is no option
    result = run_relnews("search", "-k", str(k), "--format", "json", "--db", str(db), "--", query)
    return json.loads(result.stdout)


@pytest.fixture
def demo_copy(crawled_demo, tmp_path) -> Path:
    """A copy of the crawled demo archive, without a search index yet."""
    db = tmp_path / "news.duckdb"
    shutil.copy2(crawled_demo[0], db)
    return db


def test_first_search_builds_the_index_and_says_so_then_only_searches(demo_copy):
    db = demo_copy
    first = run_relnews("search", "sommeil", "--format", "json", "--db", str(db))
    assert "building the search index news.duckdb.search" in first.stderr
    assert index_path_for(db).exists()
    texts = live_texts(db)
    assert re.search(rf"search index built: {len(texts):,} articles", first.stderr)
    again = run_relnews("search", "sommeil", "--format", "json", "--db", str(db))
    assert again.stderr == "" and again.stdout == first.stdout


def test_a_phrase_finds_exactly_the_articles_holding_its_words_in_order(demo_copy):
    db = demo_copy
    texts = live_texts(db)
    phrase = ["vitamine", "d"]
    holding = {url for url, words in texts.items() if holds_phrase(words, phrase)}
    both_words = {url for url, words in texts.items() if set(phrase) <= set(words)}
    # the phrase is a narrower question than its words: else this test proves nothing
    assert holding and len(holding) < len(both_words)
    assert {hit["url"] for hit in search(db, '"vitamine D"')} == holding
    # typed with accents it lacks or in capitals, the same articles
    assert {hit["url"] for hit in search(db, '"VITAMINÉ d"')} == holding


def test_a_prefix_finds_every_word_that_starts_so(demo_copy):
    db = demo_copy
    texts = live_texts(db)
    starting = {url for url, words in texts.items() if any(w.startswith("phytost") for w in words)}
    assert len(starting) >= 2
    assert search(db, "phytost") == []  # a word cut short is no word
    assert {hit["url"] for hit in search(db, "phytost*")} == starting


def test_an_exclusion_leaves_out_every_article_holding_the_word(demo_copy):
    db = demo_copy
    texts = live_texts(db)
    sleeping = {url for url, words in texts.items() if "sommeil" in words}
    without = {url for url, words in texts.items() if "sommeil" in words and "apnee" not in words}
    assert 0 < len(without) < len(sleeping)
    assert {hit["url"] for hit in search(db, "sommeil -apnée")} == without
    # an excluded phrase leaves out only the articles holding it in that order
    no_phrase = {u for u in sleeping if not holds_phrase(texts[u], ["apnee", "du", "sommeil"])}
    assert {hit["url"] for hit in search(db, 'sommeil -"apnée du sommeil"')} == no_phrase


def test_a_plain_word_finds_its_plural_and_all_words_must_be_there(demo_copy):
    db = demo_copy
    texts = live_texts(db)
    stemmers = [stemmer_for("fr"), stemmer_for("en")]
    stems = {stemmer.stemWord("etude") for stemmer in stemmers}
    # the forms the recommender's stemmers give the same stem: plural, and more
    forms = {w for words in texts.values() for w in words
             if any(stemmer.stemWord(w) in stems for stemmer in stemmers)}  # fmt: skip
    assert {"etude", "etudes"} <= forms
    either = {url for url, words in texts.items() if forms & set(words)}
    plural_only = {
        url for url, words in texts.items() if "etudes" in words and "etude" not in words
    }
    assert plural_only, "the demo site should hold an article with 'études' but not 'étude'"
    assert {hit["url"] for hit in search(db, "étude")} == either
    both = {url for url in either if "sommeil" in texts[url]}
    assert {hit["url"] for hit in search(db, "étude sommeil")} == both


def test_a_hit_shows_a_snippet_with_its_matched_words_marked(demo_copy):
    db = demo_copy
    hits = search(db, "cortisol", k=5)
    assert hits and hits[0]["title"].lower().count("cortisol") == 1  # the title counts most
    for hit in hits:
        marked = re.findall(r"\[([^\]]+)\]", hit["snippet"])
        assert marked and all(folded_words(word) == ["cortisol"] for word in marked)
        assert "<mark>" in hit["snippet_html"]
    # the table shows the snippet column too
    table = run_relnews("search", "cortisol", "-k", "2", "--db", str(db)).stdout
    assert table.splitlines()[0].split() == [
        "rank", "title", "url", "published", "rubrique", "score", "snippet"
    ]  # fmt: skip
    assert "[" in table and "<mark>" not in table


def test_snippets_are_safe_for_html_and_for_a_terminal(demo_copy):
    db = demo_copy
    run_relnews("search", "sommeil", "--db", str(db))  # the index exists before the write
    archive_article(
        db,
        Article(
            url="http://news.example.org/news/x/hostile_1.htm",
            title="Quokka <script>alert(1)</script> & co",
            lead="Un quokka \x1b[2J\x1b]0;pwned\x07 efface l'écran.",
            body="Le quokka <b>sourit</b> \ue000 toujours.",
        ),
    )
    result = run_relnews("search", "quokka", "--format", "json", "--db", str(db))
    assert "search index brought up to date: 1 new" in result.stderr
    (hit,) = json.loads(result.stdout)
    html = hit["snippet_html"]
    assert "<mark>" in html and "<script>" not in html and "<b>" not in html
    table = run_relnews("search", "quokka", "--db", str(db)).stdout
    assert "\x1b" not in table and "\x07" not in table and "\ue000" not in table
    assert "[Quokka]" in table or "[quokka]" in table


def test_an_article_crawled_later_is_found_after_the_crawl_without_a_rebuild(
    crawled_demo, editable_demo, tmp_path
):
    server = editable_demo
    db = tmp_path / "news.duckdb"
    shutil.copy2(crawled_demo[0], db)
    run_relnews("search", "sommeil", "--db", str(db))  # builds the index
    with sqlite3.connect(index_path_for(db)) as con:
        ids_before = dict(con.execute("SELECT url, id FROM docs").fetchall())
    site, base = server.site, server.base_url
    model = site.articles[0]
    newcomer = dataclasses.replace(
        model,
        id=max(a.id for a in site.articles) + 1,
        slug="le-zygomorphe-apprivoise",
        title="Le zygomorphe apprivoisé par des chercheurs",
        related=(),
    )
    victim = site.articles[-1]
    server.site = dataclasses.replace(site, articles=(*site.articles[:-1], newcomer))
    assert search(db, "zygomorphe") == []

    run_relnews("crawl", "--profile", "demo", "--url", base, "--db", str(db))

    # the crawl brought the index up to date: the search has nothing to do but search
    result = run_relnews("search", "zygomorphe", "--format", "json", "--db", str(db))
    assert result.stderr == ""
    assert [hit["url"] for hit in json.loads(result.stdout)] == [base + newcomer.path]
    with sqlite3.connect(index_path_for(db)) as con:
        ids_after = dict(con.execute("SELECT url, id FROM docs").fetchall())
    # incrementally: the articles that did not change kept their rows, the gone one left
    assert base + victim.path in ids_before and base + victim.path not in ids_after
    kept = {url: i for url, i in ids_before.items() if url in ids_after}
    assert len(kept) == len(ids_before) - 1
    assert sum(ids_after[url] == i for url, i in kept.items()) >= len(kept) - 5
    assert set(ids_after) == set(live_texts(db))


MALFORMED = [
    '"apnée du sommeil',  # an unbalanced quote closes at the end
    'sommeil "',
    "-",
    "*",
    "- * -- **",
    "sommeil -",
    "NEAR(sommeil apnée",
    "NEAR(sommeil apnée, 2)",
    "title:sommeil",
    "{title lead}: sommeil",
    "^sommeil + apnée",
    "sommeil AND OR NOT apnée",
    "OR",
    "OR sommeil OR",
    "sommeil\x00\x1b[31m apnée\x07",
    '""',
    '"" sommeil',
    "-sommeil",
    "le la les",
    "l'apnée",
    "sommeil)",
    "(((",
    "'",
    "\u2063\ue000\ue001",
    "x" * 5000,
]


@pytest.mark.parametrize("query", MALFORMED)
def test_a_malformed_query_gives_results_or_one_clear_line(crawled_demo, query):
    db, _ = crawled_demo
    result = run_relnews("search", "--format", "json", "--db", str(db), "--", query, check=False)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0
    assert isinstance(json.loads(result.stdout), list)
    index_notes = ("  indexed", "building the search index", "search index")
    said = [line for line in result.stderr.splitlines() if not line.startswith(index_notes)]
    assert len(said) <= 1


def test_what_a_query_means_when_it_cannot_be_searched():
    assert parse_query("-sommeil").problem.startswith("the query only excludes")
    assert "stop words" in parse_query("le la les").problem
    assert parse_query('- * ""').problem == "the query holds no word to look for"
    # FTS5 syntax is text: a column filter and NEAR are words, not operators
    assert parse_query("title:sommeil").expression == '"title:sommeil"'
    assert parse_query("NEAR(apnée sommeil)").expression == '"NEAR(apnée" AND "sommeil"'
    for query in MALFORMED:
        # outside FTS5 strings, only the operators the parser writes itself
        outside = re.sub(r'"(?:[^"]|"")*"', "", parse_query(query).expression)
        assert re.fullmatch(r"[\s()*]*((AND|OR|NOT)[\s()*]*)*", outside), query
    assert parse_query('"a b" -c d*').expression.startswith('("a b" AND "d" *) NOT')


def test_a_query_of_stop_words_says_so(crawled_demo):
    db, _ = crawled_demo
    result = run_relnews("search", "le la les", "--format", "json", "--db", str(db))
    assert json.loads(result.stdout) == []
    assert "only stop words" in result.stderr
    # in quotes they are searched
    assert search(db, '"de la"', k=3)


def test_a_busy_archive_does_not_hold_the_search_up(demo_copy):
    db = demo_copy
    run_relnews("search", "sommeil", "--db", str(db))
    archive_article(
        db, Article(url="http://news.example.org/news/x/late_1.htm", title="Ornithorynque")
    )
    # another process writes the archive (a crawl's batch) for longer than a search waits
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(30)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        result = run_relnews("search", "sommeil", "--format", "json", "--db", str(db))
        assert time.monotonic() - started < 10
        assert (
            "busy" in result.stderr and "searched the index as of its last update" in result.stderr
        )
        assert json.loads(result.stdout)
    finally:
        holder.kill()
        holder.wait()
    # once the writer is gone, the next search catches up
    result = run_relnews("search", "ornithorynque", "--format", "json", "--db", str(db))
    assert "1 new" in result.stderr and len(json.loads(result.stdout)) == 1


def test_a_damaged_index_is_rebuilt(demo_copy):
    db = demo_copy
    index_path_for(db).write_bytes(b"not an index at all" * 100)
    result = run_relnews("search", "sommeil", "--format", "json", "--db", str(db))
    assert "building the search index" in result.stderr and json.loads(result.stdout)
    assert SearchIndex(db).is_current() or SearchIndex(db).size() > 0


def test_search_without_an_archive_is_one_clear_line(tmp_path):
    result = run_relnews("search", "sommeil", "--db", str(tmp_path / "none.duckdb"), check=False)
    assert result.returncode == 1 and "no archive at" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not index_path_for(tmp_path / "none.duckdb").exists()
