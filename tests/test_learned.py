"""The learned recommender and BM25, fitted for real on a crawl of the demo site."""

from __future__ import annotations

import math

import pytest

from recommender import Bm25Recommender, LearnedRecommender, evaluate, relevant_targets
from recommender.evaluation import split_articles
from recommender.features import COLD_FEATURES, FEATURES
from warehouse import Reader, opened
from warehouse.model import Article


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
