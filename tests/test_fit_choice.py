"""`relnews fit` chooses its method on validation pages, fills short lists, and says which
lists are in-sample; `relnews evaluate` keeps the lists it judged apart (issue 12, item 3).

On the demo archive, through the real command line."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import datetime

import duckdb
import pytest

from recommender import TfidfRecommender
from recommender.backfill import fill_lists
from recommender.choice import CANDIDATES, best_method, choose_method
from recommender.rules import Rules, related_lists
from tests.conftest import run_relnews
from warehouse import Reader, opened
from warehouse.model import Article, DateValue

K = 10


def sql(db, query, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def newest_model(db) -> tuple[str, str, dict]:
    model_id, method, choice = sql(
        db, "SELECT model_id, method, choice FROM models ORDER BY created_at DESC LIMIT 1"
    )[0]
    return model_id, method, json.loads(choice)


@pytest.fixture(scope="module")
def chosen(crawled_demo, tmp_path_factory):
    """The demo archive after `relnews fit` (auto) and `relnews evaluate`."""
    crawled, _ = crawled_demo
    db = tmp_path_factory.mktemp("choice") / "demo.duckdb"
    shutil.copy(crawled, db)
    fitted = run_relnews("fit", "--db", str(db))
    evaluated = run_relnews("evaluate", "--db", str(db), "--format", "json")
    return db, fitted, json.loads(evaluated.stdout)


def test_fit_chooses_the_best_validation_score_and_says_why(chosen):
    db, fitted, _ = chosen
    model_id, method, choice = newest_model(db)
    assert method == choice["method"] and model_id.startswith(f"{method}-")
    assert not choice["forced"] and choice["metric"] == "nDCG@10"
    scores = choice["scores"]
    assert set(scores) == set(CANDIDATES) and all(v is not None for v in scores.values())
    assert all(scores[method] >= value for value in scores.values())
    assert choice["n_validation"] >= 40 and choice["n_train_links"] > 0
    assert "outside the evaluation's held-out" in choice["split"]
    # the one-line summary names the method and every candidate's score
    summary = fitted.stdout.strip()
    assert len(summary.splitlines()) == 1 and summary.startswith(model_id)
    for name, value in scores.items():
        assert f"{name} {value:.3f}" in summary


def test_the_choice_holds_on_the_pages_evaluate_holds_out(chosen):
    db, _, evaluation = chosen
    _, method, _ = newest_model(db)
    ndcg = {
        row["method"]: row["value"]
        for row in evaluation
        if row["metric"] == "nDCG@10" and row["mode"] == "existing"
    }
    assert set(CANDIDATES) <= set(ndcg)
    assert all(ndcg[method] >= ndcg[other] for other in ndcg), ndcg
    # evaluate judged the model it stored beside the baselines
    assert sql(db, "SELECT DISTINCT model_id FROM evaluations") == [(newest_model(db)[0],)]


def test_evaluation_lists_are_the_out_of_sample_lists_judged(chosen):
    db, _, evaluation = chosen
    precision = {
        (row["mode"], row["method"]): (row["value"], row["n_queries"])
        for row in evaluation
        if row["metric"] == "P@4"
    }
    stored = sql(
        db,
        "SELECT mode, method, count(DISTINCT source_url),"
        " count(*) FILTER (WHERE rank <= 4 AND editors_picked_it)"
        " FROM evaluation_lists GROUP BY ALL",
    )
    assert {(mode, method) for mode, method, *_ in stored} == set(precision)
    for mode, method, n_pages, hits in stored:
        value, n_queries = precision[mode, method]
        assert n_pages == n_queries
        assert hits / (4 * n_pages) == pytest.approx(value)
    assert sql(db, "SELECT DISTINCT evaluation_id FROM evaluation_lists") == sql(
        db, "SELECT max(evaluation_id) FROM evaluations"
    )


def test_every_demo_list_is_k_long_stored_and_exported(chosen, tmp_path):
    db = tmp_path / "demo.duckdb"
    shutil.copy(chosen[0], db)
    shutil.copytree(chosen[0].with_suffix(".models"), db.with_suffix(".models"))
    model_id, _, _ = newest_model(db)
    live = {row[0] for row in sql(db, "SELECT url FROM latest_articles WHERE gone_at IS NULL")}
    lists = sql(
        db,
        "SELECT source_url, list(target_url ORDER BY rank), list(backfill ORDER BY rank),"
        " list(rank ORDER BY rank) FROM recommendations WHERE model_id = ? GROUP BY 1",
        [model_id],
    )
    assert {source for source, *_ in lists} == live
    for source, targets, backfill, ranks in lists:
        assert ranks == list(range(1, K + 1)), source
        assert len(set(targets)) == K and source not in targets
        assert backfill == sorted(backfill)  # the model's own first, then the filling
    filled = [(source, targets, flags) for source, targets, flags, _ in lists if any(flags)]
    assert filled, "no list needed filling: the test proves nothing"
    # the oldest articles' lists were filled past the date rule, with newer articles
    dates = dict(sql(db, "SELECT url, published_at FROM latest_articles"))
    oldest = min(live, key=lambda url: dates[url] or datetime.max)
    oldest_list = next(item for item in filled if item[0] == oldest)
    assert any((dates[target] or datetime.min) > dates[oldest] for target in oldest_list[1])

    # a block everywhere takes an item out; the exported lists are still k long
    blocked = oldest_list[1][0]
    run_relnews("block", blocked, "--db", str(db))
    exported = json.loads(run_relnews("export", "--db", str(db), "-k", "5").stdout)
    assert set(exported) == live
    assert all(len(items) == 5 for items in exported.values())
    assert all(blocked not in {item["url"] for item in items} for items in exported.values())
    assert [item["backfill"] for item in exported[oldest]] == sorted(
        item["backfill"] for item in exported[oldest]
    )
    assert any(item["backfill"] for item in exported[oldest])
    rows = list(
        csv.DictReader(
            io.StringIO(run_relnews("export", "--db", str(db), "--format", "csv").stdout)
        )
    )
    assert rows and {row["backfill"] for row in rows} == {"True", "False"}
    shown = run_relnews("recommend", oldest, "--db", str(db), "-k", "5").stdout.splitlines()
    assert shown[0].split()[-2:] == ["pinned", "backfill"]
    assert shown[-1].rstrip().endswith("backfill")


def test_in_sample_says_where_the_model_read_the_page_own_links(crawled_demo, tmp_path):
    db = tmp_path / "demo.duckdb"
    shutil.copy(crawled_demo[0], db)
    run_relnews("fit", "--db", str(db), "--method", "learned")
    with_links = {row[0] for row in sql(db, "SELECT DISTINCT source_url FROM current_links")}
    flags = dict(sql(db, "SELECT DISTINCT source_url, in_sample FROM editors_vs_model"))
    assert len(flags) == len(sql(db, "SELECT url FROM latest_articles WHERE gone_at IS NULL"))
    assert {url for url, flag in flags.items() if flag} <= with_links
    assert sum(flags.values()) >= 0.9 * len(with_links)
    # in-sample agreement is what the view warns of: it is higher there than on new pages
    (in_sample_share,) = sql(
        db, "SELECT avg(editors_picked_it::int) FROM editors_vs_model WHERE rank <= 4 AND in_sample"
    )[0]
    assert in_sample_share > 0.55

    result = run_relnews("fit", "--db", str(db), "--method", "tfidf")
    model_id, method, choice = newest_model(db)
    assert method == "tfidf" and choice["forced"] and "forced" in result.stdout
    assert choice["scores"] == {}
    assert sql(db, "SELECT DISTINCT in_sample FROM editors_vs_model") == [(False,)]
    with opened(db, read_only=True) as con:
        assert Reader(con).latest_model_id() == model_id
        described = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns()"
            " WHERE table_name IN ('editors_vs_model', 'evaluation_lists', 'recommendations',"
            " 'models') AND (comment IS NULL OR comment = '')"
        ).fetchall()
        views = con.execute(
            "SELECT comment FROM duckdb_views() WHERE view_name = 'editors_vs_model'"
        ).fetchall()
    assert described == [] and "in_sample" in views[0][0]


def test_tie_goes_to_the_simpler_and_no_link_means_tfidf(crawled_demo):
    assert best_method({"learned": 0.5, "bm25": 0.5, "tfidf": 0.5}) == "tfidf"
    assert best_method({"learned": 0.5, "bm25": 0.5, "tfidf": 0.4}) == "bm25"
    assert best_method({"learned": 0.61, "bm25": None, "tfidf": 0.6}) == "learned"
    with opened(crawled_demo[0], read_only=True) as con:
        articles = Reader(con).articles()
    choice = choose_method(articles, [])
    assert choice.method == "tfidf" and "no editorial link" in choice.reason


def _article(name: str, day: int, rubrique: str, words: str) -> Article:
    published = DateValue(datetime(2024, 1, day), "meta", "day")
    return Article(f"https://news.test/{name}.htm", name, body=words, published=published,
                   rubrique=rubrique)  # fmt: skip


def test_backfill_order_relaxes_the_date_rule_then_takes_the_rubrique_newest():
    corpus = [
        _article("a", 1, "x", "alpha beta"),  # the oldest: no older candidate at all
        _article("b", 2, "x", "alpha gamma"),  # newer, shares a word with a
        _article("c", 3, "y", "delta"),
        _article("d", 5, "y", "epsilon"),
        _article("e", 4, "x", "zeta"),
    ]
    model = TfidfRecommender(max_df=1.0).fit(corpus)
    source = "https://news.test/a.htm"
    lists = model.recommend_all(4)
    assert lists[source] == []
    own, extra = fill_lists(model, lists, 4)[source]
    names = [item.target_url.rsplit("/", 1)[1] for item in extra]
    # the similar one whatever its date, then rubrique x's newest, then the newest
    assert own == [] and names == ["b.htm", "e.htm", "d.htm", "c.htm"]
    assert extra[0].score > 0 and extra[0].shared_terms == ("alpha",)
    assert [item.score for item in extra[1:]] == [0.0, 0.0, 0.0]
    # the lists readers see: same order, marked, and a block still holds
    blocked = Rules.from_rows([("*", "https://news.test/e.htm", "block")])
    titles = {article.url: article.title for article in corpus}
    shown = related_lists(model, [source], 3, blocked, titles)[source]
    assert [(item.title, item.backfill) for item in shown] == [
        ("b", True), ("d", True), ("c", True)
    ]  # fmt: skip
