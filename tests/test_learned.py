"""The learned recommender and BM25, fitted for real on a crawl of the demo site."""

from __future__ import annotations

import copy
import math
from datetime import datetime

import joblib
import numpy as np
import pytest

from recommender import Bm25Recommender, LearnedRecommender, TfidfRecommender, evaluate
from recommender.candidates import check_articles
from recommender.evaluation import relevant_targets, split_articles
from recommender.models.features import COLD_FEATURES, FEATURES, url_folder
from recommender.models.text import TextAnalyzer
from warehouse import Reader, opened
from warehouse.model import Article, DateValue, EditorialLink


@pytest.fixture(scope="module")
def archive(crawled_demo):
    db, _ = crawled_demo
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        return reader.articles(), reader.editorial_links()


@pytest.fixture(scope="module")
def split_model(archive):
    articles, links = archive
    train, test, _ = split_articles(articles)
    train_links = [link for link in links if link.source_url in set(train)]
    model = LearnedRecommender(param_grid=[{"max_iter": 30, "max_leaf_nodes": 7}])
    return model.fit(articles, train_links), train, test


def test_learned_model_knows_which_links_it_saw(split_model, archive):
    model, train, test = split_model
    _, links = archive
    assert model.link_sources_ <= set(train)
    assert not model.link_sources_ & set(test)
    assert model.ranker_.n_features_in_ == len(FEATURES)
    assert model.cold_ranker_.n_features_in_ == len(COLD_FEATURES)
    assert model.best_params_ == {"max_iter": 30, "max_leaf_nodes": 7}


def test_leakage_guard_refuses_a_model_fitted_on_held_out_links(archive):
    articles, links = archive
    _, test, _ = split_articles(articles)
    leaky = LearnedRecommender(param_grid=[{"max_iter": 10}]).fit(articles, links)
    relevant = relevant_targets(links, test)
    with pytest.raises(ValueError, match="held-out page"):
        evaluate({"learned": leaky}, test, relevant)


def test_lists_never_hold_the_source_or_newer_articles(split_model, archive):
    model, _, test = split_model
    articles, _ = archive
    published = {a.url: a.published.value for a in articles if a.published}
    lists = model.recommend_all(5, urls=test[:30])
    assert all(lists.values())
    for source, suggestions in lists.items():
        assert len(suggestions) <= 5
        targets = [s.target_url for s in suggestions]
        assert source not in targets and len(set(targets)) == len(targets)
        scores = [s.score for s in suggestions]
        assert scores == sorted(scores, reverse=True)
        for target in targets:
            if source in published and target in published:
                assert published[target] <= published[source]
        assert any(s.shared_terms for s in suggestions)


def test_cold_start_on_a_text_not_in_the_archive(split_model, archive):
    model, _, _ = split_model
    articles, _ = archive
    sleepy = next(a for a in articles if "sommeil" in a.title.lower())
    text = "Le sommeil des adolescents, les écrans le soir et la mélatonine : une étude."
    suggestions = model.recommend_text(text, k=5, title="Écrans et sommeil des adolescents")
    archived = {a.url for a in articles}
    assert 1 <= len(suggestions) <= 5
    assert all(s.target_url in archived for s in suggestions)
    assert any("sommeil" in s.shared_terms for s in suggestions), sleepy.title


def test_cold_start_never_suggests_the_article_itself(split_model, archive):
    model, _, test = split_model
    articles, _ = archive
    queries = [a for a in articles if a.url in set(test[:20])]
    lists = model.recommend_new(queries, k=10)
    for article in queries:
        assert article.url not in {s.target_url for s in lists[article.url]}


def test_bm25_scores_shared_rare_terms_highest(archive):
    articles, _ = archive
    extra = [
        Article(url="http://x.test/a", title="zythum brassage", body="zythum houblon malt"),
        Article(url="http://x.test/b", title="zythum", body="zythum zythum levure"),
    ]
    model = Bm25Recommender().fit([*articles, *extra])
    best = model.recommend("http://x.test/a", k=1)[0]
    assert best.target_url == "http://x.test/b" and best.score > 0 and not math.isnan(best.score)
    assert model.recommend_new([extra[0]], k=3)["http://x.test/a"][0].target_url == best.target_url


@pytest.fixture(scope="module")
def unpruned_model(archive):
    """Every posting list whole: the sparse features must equal their plain definitions."""
    articles, links = archive
    model = LearnedRecommender(index_depth=None, param_grid=[{"max_iter": 10}])
    return model.fit(articles, links), articles


def test_pair_features_equal_their_plain_definitions(unpruned_model):
    model, articles = unpruned_model
    by_url = {a.url: a for a in articles}
    rows = np.arange(0, len(articles), 7)
    block = model._pairs(rows)
    assert block.sources.size > 10 * rows.size
    column = {name: block.X[:, j] for j, name in enumerate(FEATURES)}
    f = model.featurizer_
    text = (model.tfidf_queries_ @ f.tfidf.T).toarray()
    titles = (f.titles @ f.titles.T).toarray()
    graph = f.graph.toarray()
    for i, (s, t) in enumerate(zip(block.sources, block.targets, strict=True)):
        source, target = by_url[model.urls_[s]], by_url[model.urls_[t]]
        if column["tfidf_rank"][i] > 0:  # in the source's head: the exact score
            assert column["tfidf_cosine"][i] == pytest.approx(text[s, t], rel=1e-5)
        assert column["title_title_cosine"][i] == pytest.approx(titles[s, t], rel=1e-5, abs=1e-7)
        if source.rubrique and target.rubrique:
            assert column["same_rubrique"][i] == (source.rubrique == target.rubrique)
        else:
            assert column["same_rubrique"][i] == -1
        mine, theirs = set(source.tags), set(target.tags)
        expected = len(mine & theirs) / len(mine | theirs) if mine and theirs else -1
        assert column["shared_tags"][i] == pytest.approx(expected)
        a, b = url_folder(source.url), url_folder(target.url)
        pairs = enumerate(zip(a, b, strict=False))
        common = next((n for n, (x, y) in pairs if x != y), min(len(a), len(b)))
        expected = common / max(len(a), len(b)) if a or b else 1.0
        assert column["same_folder"][i] == pytest.approx(expected)
        in_links = graph[:, t].sum() - graph[s, t]  # the source's own link never counts
        assert column["target_popularity"][i] == pytest.approx(np.log1p(in_links))
        assert column["target_links_source"][i] == graph[t, s]
        co_cited = (graph[:, s] * graph[:, t]).sum()
        assert column["co_cited"][i] == pytest.approx(np.log1p(co_cited))


def test_threads_and_a_saved_model_give_the_same_lists(split_model, tmp_path):
    model, _, test = split_model
    expected = model.recommend_all(10)
    threaded = clone_fitted(model, n_jobs=2).recommend_all(10)
    assert threaded == expected
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    assert loaded.recommend_all(10) == expected
    text = "Le sommeil des adolescents et les écrans le soir."
    assert loaded.recommend_text(text, k=5) == model.recommend_text(text, k=5)


def test_training_sources_are_a_seeded_sample_when_many(archive):
    articles, links = archive
    grid = [{"max_iter": 10}]
    lists = [
        LearnedRecommender(max_train_sources=40, param_grid=grid)
        .fit(articles, links)
        .recommend_all(5)
        for _ in range(2)
    ]
    assert lists[0] == lists[1]
    everything = LearnedRecommender(param_grid=grid).fit(articles, links).recommend_all(5)
    assert everything != lists[0]  # learned from 40 pages, not from all of them


@pytest.mark.parametrize("name", ["index_depth", "max_train_sources", "query_terms"])
@pytest.mark.parametrize("value", [0, -3, 2.5, True])
def test_size_parameters_are_checked(archive, name, value):
    articles, links = archive
    with pytest.raises(ValueError, match=name):
        LearnedRecommender(**{name: value}).fit(articles, links)


def clone_fitted(model: LearnedRecommender, **params) -> LearnedRecommender:
    """The fitted model with other listing parameters (a shallow copy)."""
    other = copy.copy(model)
    return other.set_params(**params)


def tiny_archive() -> tuple[list[Article], list[EditorialLink]]:
    def article(path: str, title: str, body: str, day: int) -> Article:
        return Article(
            url=f"http://x.test/{path}",
            title=title,
            body=body,
            published=DateValue(datetime(2024, 1, day), "day"),
        )

    articles = [
        article("a/1", "chat noir", "le chat noir dort", 1),
        article("a/2", "chien", "le chien aboie fort", 2),
        article("b/3", "chat gris", "un chat gris mange", 3),
        article("c/5", "chat et chien", "chat chien gris noir", 4),
        article("c/6", "gris", "le gris du chat", 5),
    ]
    links = [
        EditorialLink("http://x.test/b/3", "http://x.test/a/1", 1),
        EditorialLink("http://x.test/c/6", "http://x.test/b/3", 1),
    ]
    return articles, links


def test_too_few_linked_pages_to_validate_fit_the_first_setting():
    articles, links = tiny_archive()
    grid = [{"max_iter": 5}, {"max_iter": 7}]
    model = LearnedRecommender(param_grid=grid).fit(articles, links)
    assert model.best_params_ == model.best_cold_params_ == {"max_iter": 5}
    assert model.validation_scores_ == [{"params": {"max_iter": 5}, "existing": None, "cold": None}]
    lists = model.recommend_all(3)
    assert [s.target_url for s in lists["http://x.test/b/3"]] == ["http://x.test/a/1"]


def test_links_never_among_the_candidates_leave_nothing_to_learn():
    articles, _ = tiny_archive()
    # the only link joins two pages with no word in common: never a candidate
    links = [EditorialLink("http://x.test/c/6", "http://x.test/a/2", 1)]
    with pytest.raises(ValueError, match="nothing to learn"):
        LearnedRecommender().fit(articles, links)


def test_tfidf_and_bm25_fitted_on_one_shared_analysis_are_the_same(archive):
    articles, _ = archive
    ordered = check_articles(articles)
    tokens = [TextAnalyzer()(text) for text in TfidfRecommender()._documents(ordered)]
    shared = TfidfRecommender().fit(articles, tokens=tokens)
    alone = TfidfRecommender().fit(articles)
    assert (shared.matrix_ != alone.matrix_).nnz == 0
    assert list(shared.terms_) == list(alone.terms_)
    bm25 = Bm25Recommender().fit(articles, tokens=tokens)
    assert (bm25.weights_ != Bm25Recommender().fit(articles).weights_).nnz == 0
    # the fitted vectorisers still analyse raw text (new articles, cold start)
    assert shared.recommend_text("Le sommeil des adolescents", k=3) == alone.recommend_text(
        "Le sommeil des adolescents", k=3
    )
    with pytest.raises(ValueError, match="token lists"):
        TfidfRecommender().fit(articles, tokens=tokens[:-1])


def test_whether_candidates_may_be_newer_is_learned_from_the_links(split_model, archive):
    articles, links = archive
    seed_shaped, _, test = split_model
    assert seed_shaped.forward_share_ == 0.0 and seed_shaped.before_only_ is True
    # The same site whose blocks name newer posts (rendered when the page is served):
    # every editorial link turned around, so each points forward in time.
    forward = [EditorialLink(link.target_url, link.source_url, link.position) for link in links]
    model = LearnedRecommender(param_grid=[{"max_iter": 30, "max_leaf_nodes": 7}])
    model.fit(articles, forward)
    assert model.forward_share_ > 0.9 and model.before_only_ is False
    published = {a.url: a.published.value for a in articles if a.published}
    oldest = sorted(published, key=published.get)[:20]
    lists = model.recommend_all(5, urls=oldest)
    newer = [
        s for source, found in lists.items() for s in found
        if published.get(s.target_url, datetime.min) > published[source]
    ]  # fmt: skip
    assert len(newer) > 50  # the oldest articles can only be given newer ones
    # and a model told the seed site's rule keeps it whatever the links say
    kept = LearnedRecommender(before_only=True, param_grid=[{"max_iter": 30, "max_leaf_nodes": 7}])
    assert kept.fit(articles, forward).before_only_ is True
