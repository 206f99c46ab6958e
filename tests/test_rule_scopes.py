"""Editors' rules say what they match: a scope that matches no archived article is taken
for a typo (with the nearest name) unless forced, an unknown prefix has its own error,
and a stored scope says how many articles it matches. Run as an editor would, through
`relnews block` on a copy of a crawled demo archive."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from conftest import run_relnews
from relnews.exit_codes import EXIT_USAGE


@pytest.fixture
def db(crawled_demo, tmp_path):
    copy = tmp_path / "rules.duckdb"
    shutil.copy(crawled_demo[0], copy)
    return copy


def stored_rules(db) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT source_url, target_url, rule FROM editor_rules").fetchall()
    finally:
        con.close()


def a_rubrique(db) -> tuple[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT rubrique, count(*) FROM latest_articles WHERE gone_at IS NULL"
            " AND rubrique IS NOT NULL GROUP BY rubrique ORDER BY rubrique LIMIT 1"
        ).fetchone()
    finally:
        con.close()


def test_a_scope_that_matches_articles_says_how_many(db):
    rubrique, count = a_rubrique(db)
    result = run_relnews("block", f"rubrique:{rubrique}", "--db", str(db))
    assert f"rubrique:{rubrique} matches {count} archived articles" in result.stdout
    assert stored_rules(db) == [("*", f"rubrique:{rubrique}", "block")]


def test_a_misspelt_scope_is_refused_with_the_nearest_name(db):
    rubrique, _ = a_rubrique(db)
    typo = rubrique[:-2] + rubrique[-1]  # one letter dropped
    result = run_relnews("block", f"rubrique:{typo}", "--db", str(db), check=False)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"rubrique:{typo} matches no archived article" in result.stderr
    assert f"did you mean rubrique:{rubrique}?" in result.stderr
    assert stored_rules(db) == []


@pytest.mark.parametrize("scope", ["tag:nosuchtag", "url:[", "url:/no/such/section/"])
def test_a_scope_matching_nothing_is_stored_only_when_forced(db, scope):
    refused = run_relnews("block", scope, "--db", str(db), check=False)
    assert refused.returncode != 0 and "matches no archived article" in refused.stderr
    assert stored_rules(db) == []
    forced = run_relnews("block", scope, "--force", "--db", str(db))
    assert f"{scope} matches 0 archived articles" in forced.stdout
    assert stored_rules(db) == [("*", scope, "block")]


def test_an_unknown_prefix_has_its_own_error(db):
    result = run_relnews("block", "bogus:x", "--db", str(db), check=False)
    assert result.returncode not in (0, EXIT_USAGE)
    assert "'bogus' is no scope" in result.stderr and "crawl it first" not in result.stderr
    assert stored_rules(db) == []
