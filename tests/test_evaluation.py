"""Evaluation protocols, bootstrap intervals, the automatic-block flag and the reports.

The automatic-block tests crawl real demo sites over HTTP on 127.0.0.1 into real DuckDB
files, as a user would.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pytest

from conftest import run_relnews
from demosite.content import AUTOMATIC_RELATED
from demosite.server import DemoServer
from recommender import (
    RandomRecommender,
    SameRubriqueRecentRecommender,
    TfidfRecommender,
    compare_methods,
    evaluate,
    split_articles,
    write_report,
)
from recommender.comparison import default_methods
from recommender.evaluation import (
    AUTOMATIC_WARNING,
    EvaluationReport,
    EvaluationRow,
    bootstrap_interval,
    looks_automatic,
    relevant_targets,
    temporal_split,
)
from recommender.evaluation.metrics import catalogue_coverage
from recommender.evaluation.report import report_html, report_markdown
from warehouse import Reader, Writer, opened
from warehouse.database import migrations
from warehouse.model import Article, DateValue, EditorialLink

SITE = "https://news.example"


def make_article(slug, title, body="", date=None, rubrique="sante"):
    published = DateValue(datetime.fromisoformat(date), "json-ld") if date else None
    return Article(
        url=f"{SITE}/{rubrique}/{slug}.htm",
        title=title,
        body=body,
        published=published,
        rubrique=rubrique,
    )


def topic_corpus(n_topics=8, per_topic=6, dated=True):
    """Articles on distinct topics; editors link each to the earlier ones of its topic."""
    rng = np.random.default_rng(1)
    start = datetime(2022, 1, 1)
    articles, topic = [], {}
    for number in range(n_topics * per_topic):
        t = number % n_topics
        words = [f"theme{chr(97 + t)}mot{chr(97 + j)}" for j in range(10)]
        body = " ".join(rng.choice(words, 12)) + " " + " ".join(rng.choice(["commun"] * 3, 3))
        date = (start + timedelta(days=number)).isoformat() if dated else None
        item = make_article(f"a{number:03d}", " ".join(rng.choice(words, 3)), body, date)
        articles.append(item)
        topic[item.url] = t
    links = [
        EditorialLink(source.url, target.url, rank)
        for position, source in enumerate(articles)
        for rank, target in enumerate(
            [a for a in articles[:position] if topic[a.url] == topic[source.url]][-3:], start=1
        )
    ]
    return articles, links


# -- the automatic related block, on crawled demo sites -------------------------------


@pytest.fixture(scope="module")
def automatic_demo(tmp_path_factory):
    """A demo site whose related block is the newest articles of the rubrique, crawled."""
    db = tmp_path_factory.mktemp("automatic") / "automatic.duckdb"
    with DemoServer(port=0, related="latest-same-rubrique") as server:
        run_relnews("crawl", "--profile", "demo", "--url", server.url, "--db", str(db))
        site = server.site
    return db, site


def read_archive(db):
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        return reader.articles(), reader.editorial_links()


def test_automatic_site_blocks_are_the_newest_of_the_rubrique(automatic_demo):
    _, site = automatic_demo
    ordered = list(site.articles)  # oldest first
    article = ordered[200]
    older = [a for a in ordered[:200] if a.rubrique == article.rubrique]
    expected = [a.path for a in reversed(older)][:AUTOMATIC_RELATED]
    if article.path not in (site.faults.dead_source, site.faults.redirect_source):
        assert [item.path for item in article.related] == expected


def test_automatic_related_block_is_flagged(automatic_demo):
    db, _ = automatic_demo
    articles, links = read_archive(db)
    report = compare_methods(articles, links, n_bootstrap=200)
    assert report.modes == ["existing", "cold_start"]
    assert report.value("same rubrique, newest", "nDCG@10") >= 0.9
    assert report.automatic_block == AUTOMATIC_WARNING
    assert report.warnings == [AUTOMATIC_WARNING]
    assert "looks automatic" in report.format_table()
    assert "looks automatic" in report_markdown(report)
    assert "looks automatic" in report_html(report, charts=False)


def crawl_variant(tmp_path_factory, related: str):
    db = tmp_path_factory.mktemp(related) / f"{related}.duckdb"
    with DemoServer(port=0, related=related) as server:
        run_relnews("crawl", "--profile", "demo", "--url", server.url, "--db", str(db))
    return db


def test_a_block_of_the_rubriques_newest_as_served_is_flagged(tmp_path_factory):
    # the CMS renders "the 3 newest of the rubrique" when the page is served: most links
    # point forward in time, and no rule "older than the article" could find them
    db = crawl_variant(tmp_path_factory, "latest-same-rubrique-served")
    result = run_relnews("evaluate", "--db", str(db))
    assert "looks automatic" in result.stdout
    articles, links = read_archive(db)
    report = compare_methods(articles, links, n_bootstrap=0)
    assert report.value("same rubrique, newest at crawl", "R@4") >= 0.9
    assert report.value("same rubrique, newest", "R@4") < 0.5


def test_a_block_of_the_tags_newest_as_served_is_flagged():
    # one rubrique, four tags; each page's block: the 3 newest other articles sharing its
    # tag when the page is served (newer ones included)
    articles, _ = topic_corpus(n_topics=4, per_topic=12)
    articles = [
        replace(article, tags=(f"tag{number % 4}",)) for number, article in enumerate(articles)
    ]
    links = [
        EditorialLink(source.url, target.url, rank)
        for source in articles
        for rank, target in enumerate(
            [a for a in reversed(articles) if a.tags == source.tags and a is not source][:3],
            start=1,
        )
    ]
    report = compare_methods(articles, links, n_bootstrap=0)
    assert report.value("same tag, newest at crawl", "R@4") >= 0.9
    assert report.value("same rubrique, newest at crawl", "R@4") < 0.5
    assert report.automatic_block is not None


def test_on_a_site_whose_editors_link_forward_the_learned_model_suggests_newer(
    tmp_path_factory,
):
    db = crawl_variant(tmp_path_factory, "editorial-forward")
    articles, links = read_archive(db)
    report = compare_methods(articles, links, n_bootstrap=0)
    for mode in report.modes:
        assert report.value("learned", "nDCG@10", mode) > report.value("tfidf", "nDCG@10", mode)
    assert report.automatic_block is None


def test_editorial_related_block_is_not_flagged(crawled_demo):
    db, _ = crawled_demo
    articles, links = read_archive(db)
    report = compare_methods(articles, links, n_bootstrap=200)
    assert report.automatic_block is None
    assert report.warnings == []
    assert report.split == "newest 20% by publication date"
    for mode in report.modes:
        assert report.value("tfidf", "nDCG@10", mode) > report.value(
            "same rubrique, newest", "nDCG@10", mode
        )
    assert "warning" not in report.format_table()


def test_looks_automatic_threshold():
    assert looks_automatic({"R@4": 0.95, "nDCG@10": 0.5}) == AUTOMATIC_WARNING
    assert looks_automatic({"R@4": 0.5, "nDCG@10": 0.9}) == AUTOMATIC_WARNING
    assert looks_automatic({"R@4": 0.89, "nDCG@10": 0.89, "hit@4": 1.0}) is None
    # a report without the baseline cannot tell
    assert looks_automatic(EvaluationReport((EvaluationRow("tfidf", "R@4", 1.0, 5),))) is None


# -- bootstrap intervals ---------------------------------------------------------------


def test_bootstrap_interval_covers_the_true_mean_as_often_as_it_says():
    # 200 samples of 50 queries from a known hit rate: a 90% interval must hold it in
    # about 90% of them (a percentile interval of 50 yes/no scores covers a bit less).
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(200):
        scores = (rng.random(50) < 0.4).astype(float)
        low, high = bootstrap_interval(scores, n_bootstrap=400, confidence=0.9, random_state=0)
        covered += low <= 0.4 <= high
    assert 0.8 <= covered / 200 <= 0.97


def test_bootstrap_interval_is_the_percentile_interval_and_narrows_with_more_queries():
    rng = np.random.default_rng(0)
    scores = rng.random(40)
    resampled = scores[rng.integers(0, 40, size=(20000, 40))].mean(axis=1)
    by_hand = np.percentile(resampled, [2.5, 97.5])
    assert bootstrap_interval(scores, n_bootstrap=20000) == pytest.approx(by_hand, abs=0.005)
    widths = []
    for n_queries in (20, 200, 2000):
        scores = (rng.random(n_queries) < 0.4).astype(float)
        low, high = bootstrap_interval(scores, n_bootstrap=1000, random_state=0)
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2]
    assert widths[2] < 0.05
    # seeded: the same scores and seed give the same interval
    scores = rng.random(50)
    assert bootstrap_interval(scores, random_state=3) == bootstrap_interval(scores, random_state=3)
    # constant scores: a zero-width interval
    assert bootstrap_interval(np.ones(10)) == (1.0, 1.0)
    # several series at once, from the same resamples as one at a time
    both = np.vstack([scores, 1 - scores])
    lows, highs = bootstrap_interval(both, random_state=3)
    assert (lows[0], highs[0]) == pytest.approx(bootstrap_interval(scores, random_state=3))


def test_evaluate_gives_every_score_an_interval_narrower_with_more_queries():
    articles, links = topic_corpus(n_topics=8, per_topic=12)
    model = {"tfidf": TfidfRecommender().fit(articles)}
    relevant = relevant_targets(links)
    urls = [a.url for a in articles[::-1]]  # newest first
    few = evaluate(model, urls[:10], relevant, n_bootstrap=500)
    many = evaluate(model, urls[:80], relevant, n_bootstrap=500)
    for report in (few, many):
        for row in report.rows:  # every score has an interval, the catalogue coverage none
            assert (row.ci_low is None) == row.metric.startswith("coverage@")
    assert few.row("tfidf", "MRR").n_queries == 10
    width = {
        name: report.row("tfidf", "nDCG@10").ci_high - report.row("tfidf", "nDCG@10").ci_low
        for name, report in (("few", few), ("many", many))
    }
    assert width["many"] < width["few"]
    no_ci = evaluate(model, urls[:10], relevant, n_bootstrap=0)
    assert all(row.ci_low is None for row in no_ci.rows)
    assert no_ci.value("tfidf", "MRR") == few.value("tfidf", "MRR")


# -- coverage ----------------------------------------------------------------------------


class FixedLists:
    """A stand-in model whose lists are given: to compute metrics by hand."""

    def __init__(self, catalogue, lists):
        self.urls_ = np.array(catalogue, dtype=object)
        self.lists = lists

    def recommend_all(self, k=10, urls=None):
        from recommender import Suggestion

        return {
            u: [Suggestion(t, 1.0 / r) for r, t in enumerate(self.lists[u][:k], 1)] for u in urls
        }


def test_coverage_by_hand():
    # top-2 lists: q1 -> a, b; q2 -> b, d: {a, b, d} of a catalogue of 5
    assert catalogue_coverage([["a", "b", "c"], ["b", "d"]], "abcde", 2) == pytest.approx(3 / 5)
    assert catalogue_coverage([["a", "zz"]], ["a", "b"], 2) == 0.5  # outside the catalogue
    with pytest.raises(ValueError):
        catalogue_coverage([["a"]], [], 1)

    model = FixedLists(list("abcde"), {"q1": ["a", "b", "c"], "q2": ["b", "d"], "q3": ["e"]})
    relevant = {"q1": {"b"}, "q2": {"c"}}  # q3 is not judged: its list does not count
    report = evaluate({"fixed": model}, ["q1", "q2", "q3"], relevant, k=2, ndcg_k=3, ks=())
    coverage = report.row("fixed", "coverage@2")
    assert coverage.value == pytest.approx(3 / 5)
    assert coverage.ci_low is None and coverage.ci_high is None
    assert report.value("fixed", "P@2") == pytest.approx((1 / 2 + 0) / 2)
    assert report.value("fixed", "hit@2") == pytest.approx(0.5)
    assert report.value("fixed", "MRR") == pytest.approx((1 / 2 + 0) / 2)


# -- leakage guard -----------------------------------------------------------------------


class LinkAwareTfidf(TfidfRecommender):
    """TF-IDF that records the sources of the links it was given, as learned models do."""

    def fit(self, articles, links=None):
        super().fit(articles, links)
        self.link_sources_ = {link.source_url for link in links or ()}
        return self


def test_a_model_fitted_with_the_answers_is_refused():
    articles, links = topic_corpus()
    train, test = temporal_split(articles)
    relevant = relevant_targets(links, test)
    leaky = LinkAwareTfidf().fit(articles, links)
    judged = [q for q in test if relevant.get(q)]
    with pytest.raises(ValueError, match="refit it on training links only") as error:
        evaluate({"learned": leaky}, test, relevant)
    assert "'learned'" in str(error.value) and judged[0] in str(error.value)
    with pytest.raises(ValueError, match="held-out page"):
        evaluate({"learned": leaky}, test, relevant, mode="cold_start", articles=articles)

    train_set = set(train)
    honest = LinkAwareTfidf().fit(articles, [li for li in links if li.source_url in train_set])
    report = evaluate({"learned": honest}, test, relevant)
    assert report.value("learned", "MRR") > 0


# -- cold start --------------------------------------------------------------------------


@pytest.mark.parametrize("before_only", [True, False])
def test_cold_start_never_suggests_the_query_itself(before_only):
    articles, links = topic_corpus()
    for model in (
        TfidfRecommender(before_only=before_only),
        RandomRecommender(random_state=0, before_only=before_only),
        SameRubriqueRecentRecommender(before_only=before_only),
    ):
        model.fit(articles)
        lists = model.recommend_new(articles, k=len(articles))
        assert list(lists) == [a.url for a in articles]
        published = {a.url: a.published.value for a in articles}
        for source, suggestions in lists.items():
            targets = [s.target_url for s in suggestions]
            assert source not in targets
            assert len(set(targets)) == len(targets)
            if before_only:
                assert all(published[t] <= published[source] for t in targets)
        # an archived article, as a new one, gets what the archive gives it
        existing = model.recommend_all(5, urls=[a.url for a in articles])
        new = model.recommend_new(articles, 5)
        for url in existing:
            assert [s.target_url for s in new[url]] == [s.target_url for s in existing[url]]


def test_cold_start_works_for_a_text_only_article_not_in_the_archive():
    articles, links = topic_corpus()
    topic_a = articles[0]  # topic "a"
    new = Article(
        url=f"{SITE}/sante/brand-new.htm",
        title=topic_a.title,
        body=topic_a.body,
        published=DateValue(datetime(2030, 1, 1), "json-ld"),
        rubrique="sante",
    )
    undated = Article(url=f"{SITE}/x/undated.htm", title="", body=topic_a.body)
    for model in (TfidfRecommender(), RandomRecommender(), SameRubriqueRecentRecommender()):
        model.fit(articles)
        lists = model.recommend_new([new, undated], k=4)
        assert set(lists) == {new.url, undated.url}
        assert all(len(suggestions) == 4 for suggestions in lists.values())
        archived = {a.url for a in articles}
        assert all(s.target_url in archived for ss in lists.values() for s in ss)
    tfidf = TfidfRecommender().fit(articles)
    assert tfidf.recommend_new([new], 1)[new.url][0].target_url == topic_a.url
    with pytest.raises(ValueError, match="duplicate"):
        tfidf.recommend_new([new, new])


def test_cold_start_mode_needs_the_articles():
    articles, links = topic_corpus()
    model = {"tfidf": TfidfRecommender().fit(articles)}
    _, test = temporal_split(articles)
    relevant = relevant_targets(links, test)
    with pytest.raises(ValueError, match="needs the article"):
        evaluate(model, test, relevant, mode="cold_start")
    with pytest.raises(ValueError, match="mode"):
        evaluate(model, test, relevant, mode="warm")
    report = evaluate(model, test, relevant, mode="cold_start", articles=articles)
    assert report.modes == ["cold_start"]
    assert {row.mode for row in report.rows} == {"cold_start"}


# -- splits ------------------------------------------------------------------------------


def test_split_by_date_when_most_articles_are_dated():
    articles, _ = topic_corpus()
    train, test, how = split_articles(articles)
    assert (train, test) == temporal_split(articles)
    assert how == "newest 20% by publication date"


def test_split_falls_back_to_a_fixed_random_split_without_dates():
    articles, _ = topic_corpus(dated=False)
    train, test, how = split_articles(articles, test_fraction=0.25, random_state=7)
    assert how == "random 25% of pages (seed 7), the site has no dates"
    assert len(test) == 12 and len(train) == 36
    assert set(train) | set(test) == {a.url for a in articles}
    assert not set(train) & set(test)
    # stable: input order does not matter, the seed does
    assert split_articles(articles[::-1], 0.25, 7) == (train, test, how)
    assert split_articles(articles, 0.25, 8)[1] != test
    # adding an article does not move the others
    more = [*articles, make_article("extra", "t")]
    _, more_test, _ = split_articles(more, 0.25, 7)
    assert len(set(more_test) ^ set(test)) <= 2
    # the same site crawled from another host or port: the same pages held out
    moved = [
        Article(re.sub(r"^https?://[^/]+", "http://127.0.0.1:43129", a.url), a.title, body=a.body)
        for a in articles
    ]
    assert {a.url for a in moved} != {a.url for a in articles}
    _, moved_test, _ = split_articles(moved, 0.25, 7)
    path = lambda url: re.sub(r"^https?://[^/]+", "", url)  # noqa: E731
    assert sorted(map(path, moved_test)) == sorted(map(path, test))

    dated, _ = topic_corpus()
    # a third of the pages dated: too few to split by date
    third = [a if i % 3 == 0 else Article(a.url, a.title, body=a.body) for i, a in enumerate(dated)]
    *_, how = split_articles(third)
    assert how == "random 20% of pages (seed 0), only 16 of 48 pages have a publication date"
    # half of them dated is enough
    half = [a if i % 2 == 0 else Article(a.url, a.title, body=a.body) for i, a in enumerate(dated)]
    assert split_articles(half)[2] == "newest 20% by publication date"


def test_compare_methods_on_an_undated_site_uses_the_random_split():
    articles, links = topic_corpus(dated=False)
    report = compare_methods(articles, links, n_bootstrap=100, modes=("cold_start",))
    assert report.split.startswith("random 20% of pages")
    assert report.modes == ["cold_start"]
    assert report.value("tfidf", "MRR") > report.value("random", "MRR")


def test_compare_methods_leaves_the_given_estimators_unfitted():
    articles, links = topic_corpus()
    methods = default_methods(random_state=0)
    assert list(methods) == [
        "learned", "tfidf", "bm25", "same rubrique, newest", "same rubrique, newest at crawl",
        "same tag, newest at crawl", "random",
    ]  # fmt: skip
    report = compare_methods(articles, links, methods=methods, n_bootstrap=50)
    assert report.methods == list(methods)
    assert not hasattr(methods["tfidf"], "matrix_")
    old_keywords = compare_methods(
        articles, links, test_fraction=0.2, k=4, ndcg_k=10, random_state=0, n_bootstrap=50
    )
    assert old_keywords.as_dicts() == report.as_dicts()


# -- reports -----------------------------------------------------------------------------


def hostile_report():
    articles, links = topic_corpus()
    methods = {
        "<script>alert('x')</script>": TfidfRecommender(),
        "same rubrique, newest": SameRubriqueRecentRecommender(),
        "a|b & c": RandomRecommender(random_state=0),
    }
    return compare_methods(articles, links, methods=methods, n_bootstrap=100)


def test_html_report_is_self_contained_and_escaped(tmp_path):
    report = hostile_report()
    page = report_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page  # the method name is escaped, and no script is needed
    assert "&lt;script&gt;" in page and "a|b &amp; c" in page
    assert page.count("<svg") == len(report.modes)
    assert page.count("<table>") == len(report.modes)
    # nothing fetched from elsewhere: no external stylesheet, script, image or font
    # (the charts' clip paths point inside the page: url(#...))
    assert not re.search(r"<link|src=|@import|url\((?!#)", page, re.IGNORECASE)
    assert not re.search(r"href=\"(?!#)", page, re.IGNORECASE)
    row = report.row("<script>alert('x')</script>", "nDCG@10")
    assert f"{row.value:.3f}" in page and f"[{row.ci_low:.2f}, {row.ci_high:.2f}]" in page
    assert "newest 20% by publication date" in page

    md_path, html_path = write_report(report, tmp_path / "out")
    assert html_path.read_text(encoding="utf-8") == page
    markdown = md_path.read_text(encoding="utf-8")
    assert markdown == report_markdown(report)
    assert markdown.startswith("# ")
    assert "a\\|b & c" in markdown  # a pipe would break the table
    assert len(re.findall(r"^\| metric +\|", markdown, re.MULTILINE)) == len(report.modes)


# -- the warehouse -----------------------------------------------------------------------


def test_both_modes_are_stored_under_one_evaluation(tmp_path):
    articles, links = topic_corpus()
    report = compare_methods(articles, links, n_bootstrap=50)
    with opened(tmp_path / "a.duckdb") as con:
        writer = Writer(con)
        first = writer.save_evaluation(report.split, report.rows, model_id="m1")
        # the old 4-tuples still work, even with both modes in them (mode not recorded)
        rows = [(r.method, r.metric, r.value, r.n_queries) for r in report.rows]
        second = writer.save_evaluation(report.split, rows)
        third = writer.save_evaluation(report.split, report.as_dicts())
        stored = con.execute(
            "SELECT mode, count(*), count(ci_low) FROM evaluations WHERE evaluation_id = ?"
            " GROUP BY mode ORDER BY mode",
            [first],
        ).fetchall()
        latest = Reader(con).latest_evaluation()
        legacy = con.execute(
            "SELECT count(*), count(mode) FROM evaluations WHERE evaluation_id = ?", [second]
        ).fetchone()
    n_per_mode = len(report.rows) // 2
    n_coverage = len(report.methods)
    assert stored == [
        ("cold_start", n_per_mode, n_per_mode - n_coverage),
        ("existing", n_per_mode, n_per_mode - n_coverage),
    ]
    assert legacy == (len(report.rows), 0)
    assert third == second + 1
    assert latest.columns == [
        "method", "metric", "value", "n_queries", "mode", "ci_low", "ci_high",
    ]  # fmt: skip
    assert len(latest.rows) == len(report.rows)


def test_migration_keeps_old_evaluations_as_existing_mode(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_migrations ("
        " name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL DEFAULT now())"
    )
    for name, sql in migrations():
        if name >= "0004":
            break
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations (name) VALUES (?)", [name])
    con.execute(
        "INSERT INTO evaluations VALUES (nextval('evaluation_ids'), NULL, now(), 'newest 20%',"
        " 'tfidf', 'MRR', 0.8, 72)"
    )
    con.close()
    with opened(path) as con:
        rows = con.execute("SELECT method, metric, value, mode, ci_low FROM evaluations").fetchall()
        assert rows == [("tfidf", "MRR", 0.8, "existing", None)]
        assert Writer(con).save_evaluation("s", [("tfidf", "MRR", 0.5, 3)]) == 2
        assert con.execute("SELECT count(*) FROM editors_vs_model").fetchone() == (0,)
