"""The ten example queries of docs/queries.md, each run through `relnews sql` against a
demo archive crawled twice (an article deleted, one corrected and one related block
edited in between) and fitted: each runs, returns the columns the page names, and
several give numbers counted here another way."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, run_relnews
from demosite.content import RelatedItem

PAGE = ROOT / "docs" / "queries.md"


@dataclass(frozen=True)
class Example:
    number: int
    title: str
    columns: list[str]
    sql: str


def examples() -> list[Example]:
    """Each ``## N. Title`` section's ``Columns:`` line and ``sql`` block."""
    text = PAGE.read_text("utf-8")
    found = []
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        heading = re.match(r"(\d+)\. (.+)", section)
        columns = re.search(r"^Columns: (.+)$", section, re.M)
        blocks = re.findall(r"^```sql\n(.*?)^```", section, re.M | re.S)
        assert heading and columns and len(blocks) == 1, section[:80]
        names = [name.strip().strip("`") for name in columns.group(1).split(",")]
        found.append(Example(int(heading.group(1)), heading.group(2), names, blocks[0]))
    return found


EXAMPLES = examples()


def test_the_page_holds_ten_numbered_queries_each_said_what_it_answers():
    assert [example.number for example in EXAMPLES] == list(range(1, 11))
    text = PAGE.read_text("utf-8")
    for example in EXAMPLES:
        section = text.split(f"## {example.number}. ", 1)[1].split("\nColumns:", 1)[0]
        assert len(section.split("\n\n", 1)[1].strip()) > 40, example.title  # a sentence


@dataclass(frozen=True)
class History:
    db: Path
    base: str
    deleted: str  # an article other blocks link to, deleted before the second crawl
    corrected: str  # an article whose last paragraph was rewritten
    edited: str  # the article whose block lost its first link for a newcomer
    second_crawl: int


@pytest.fixture(scope="module")
def history(crawled_demo, demo_server, tmp_path_factory) -> History:
    db = tmp_path_factory.mktemp("queries") / "news.duckdb"
    shutil.copy2(crawled_demo[0], db)
    site, base = demo_server.site, demo_server.base_url
    linked = Counter(item.path for article in site.articles for item in article.related)
    deleted = next(a for a in site.articles if linked[a.path] >= 2)
    changed = next(a for a in site.articles if len(a.related) >= 3 and a is not deleted)
    newcomer = next(
        a for a in site.articles
        if a not in (deleted, changed) and a.path not in {i.path for i in changed.related}
    )  # fmt: skip
    corrected = next(a for a in site.articles[100:] if a not in (deleted, changed, newcomer))
    replaced = {
        changed.path: dataclasses.replace(
            changed, related=(RelatedItem(newcomer.path, newcomer.title), *changed.related[1:])
        ),
        corrected.path: dataclasses.replace(
            corrected,
            paragraphs=(*corrected.paragraphs[:-1], "Correction : les chiffres ont été revus."),
            modified=datetime.now(UTC).replace(tzinfo=None),
        ),
    }
    demo_server.site = dataclasses.replace(
        site,
        articles=tuple(replaced.get(a.path, a) for a in site.articles if a is not deleted),
    )
    try:
        run_relnews("crawl", "--profile", "demo", "--url", demo_server.url,
                    "--revisit-days", "0", "--db", str(db), check=False)  # fmt: skip
    finally:
        demo_server.site = site
    run_relnews("fit", "--db", str(db))
    (second_crawl,) = query(db, "SELECT max(run_id) FROM crawl_runs")[0]
    assert second_crawl == 2
    return History(
        db, base, base + deleted.path, base + corrected.path, base + changed.path, second_crawl
    )


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def run_example(db: Path, example: Example) -> tuple[list[str], list[dict]]:
    result = run_relnews("sql", example.sql, "--format", "csv", "--db", str(db))
    header = result.stdout.splitlines()[0].split(",")
    rows = json.loads(run_relnews("sql", example.sql, "--format", "json", "--db", str(db)).stdout)
    return header, rows


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.number}-{e.title}")
def test_example_query_runs_and_returns_its_columns(history, example):
    header, rows = run_example(history.db, example)
    assert header == example.columns
    assert rows, f"query {example.number} returned no row on the demo archive"
    CHECKS.get(example.number, lambda history, rows: None)(history, rows)


# -- numbers counted another way ---------------------------------------------------


def live_dated(history: History) -> int:
    return query(
        history.db,
        "SELECT count(*) FROM articles a JOIN article_versions v"
        " ON v.version_id = a.latest_version_id"
        " WHERE a.gone_at IS NULL AND v.published_at IS NOT NULL",
    )[0][0]


def links_now(history: History) -> list[tuple[str, str]]:
    """(source, target article) of every link the second crawl read on a live page, to
    an archived article (through a redirect or not)."""
    rows = query(
        history.db,
        "SELECT l.source_url, l.target_url FROM related_links l"
        " JOIN articles a ON a.url = l.source_url"
        " WHERE l.last_seen_run = ? AND a.gone_at IS NULL",
        [history.second_crawl],
    )
    aliases = dict(query(history.db, "SELECT alias_url, url FROM url_aliases"))
    archived = {url for (url,) in query(history.db, "SELECT url FROM articles")}
    resolved = [(source, aliases.get(target, target)) for source, target in rows]
    return [(source, target) for source, target in resolved if target in archived]


def check_per_rubrique(history, rows):
    assert sum(row["articles"] for row in rows) == live_dated(history)
    assert len({row["rubrique"] for row in rows}) >= 5


def check_most_linked(history, rows):
    counts = Counter(target for _, target in links_now(history))
    assert rows[0]["links_in"] == max(counts.values())
    assert counts[rows[0]["url"]] == rows[0]["links_in"]


def check_reciprocity(history, rows):
    pairs = {(s, t) for s, t in links_now(history) if s != t}
    (row,) = rows
    assert row["reciprocated"] == sum((t, s) in pairs for s, t in pairs)
    assert row["links"] == len(pairs)


def check_block_changes(history, rows):
    first, second = rows
    first_links = query(history.db, "SELECT count(*) FROM related_links WHERE first_seen_run = 1")
    assert (first["appeared"], first["disappeared"]) == (first_links[0][0], 0)
    # the edited block: one link gone, one new; the deleted page was not read
    assert (second["run_id"], second["appeared"], second["disappeared"]) == (2, 1, 1)
    assert second["pages_read"] == first["pages_read"] - 1


def check_editors_vs_model(history, rows):
    stored = query(
        history.db,
        "SELECT count(*) FROM recommendations WHERE model_id ="
        " (SELECT model_id FROM models ORDER BY created_at DESC LIMIT 1)",
    )[0][0]
    assert sum(row["suggestions"] for row in rows) == stored
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))
    assert all(0 <= row["share_picked"] <= 1 for row in rows)


def check_orphans(history, rows):
    live = {url for (url,) in query(history.db, "SELECT url FROM articles WHERE gone_at IS NULL")}
    linked = {target for _, target in links_now(history)}
    assert {row["url"] for row in rows} == live - linked


def check_gone(history, rows):
    (row,) = rows
    assert row["url"] == history.deleted
    still = sum(target == history.deleted for _, target in links_now(history))
    assert row["still_linked_from"] == still >= 2


def check_pace(history, rows):
    assert sum(row["articles"] for row in rows) == live_dated(history)


def check_age_gap(history, rows):
    # the demo's editors link backwards in time only
    assert all(row["newer_targets"] == 0 and row["median_days_older"] > 0 for row in rows)


def check_changed(history, rows):
    by_url = {row["url"]: row for row in rows}
    assert by_url[history.corrected]["versions"] == 2
    # the others: pages whose theme line counts the theme's articles ("Plus de 9 études
    # sur l'Insomnie") changed when the deleted article left its theme
    several = query(history.db, "SELECT url FROM article_versions GROUP BY url HAVING count(*) > 1")
    assert set(by_url) == {url for (url,) in several}


CHECKS = {
    1: check_per_rubrique,
    2: check_most_linked,
    3: check_reciprocity,
    4: check_block_changes,
    5: check_editors_vs_model,
    6: check_orphans,
    7: check_gone,
    8: check_pace,
    9: check_age_gap,
    10: check_changed,
}
