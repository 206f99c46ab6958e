"""Which pages are held out: the one rule behind the evaluation's test queries and the
learned model's validation sources (recommender/evaluation/split.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from recommender import LearnedRecommender
from recommender.evaluation import split_articles
from recommender.evaluation.split import hold_out
from warehouse.model import Article, DateValue, EditorialLink

NAN = float("nan")
URLS = [f"http://s.test/p{i}" for i in range(10)]


def held(urls, published, fraction, seed=0, **options):
    split = hold_out(urls, published, fraction, seed, **options)
    return [urls[i] for i in split.held], split.by_date


def test_a_dated_site_holds_out_its_newest_pages():
    published = [float(10 * i) for i in range(10)]
    published[3] = published[9] = NAN  # undated pages are never held out
    assert held(URLS, published, 0.2) == (["http://s.test/p7", "http://s.test/p8"], True)
    # 0.25 of 10 pages is 2.5, rounded half up: three
    assert held(URLS, published, 0.25)[0] == [f"http://s.test/p{i}" for i in (6, 7, 8)]


def test_equal_dates_are_held_out_by_url():
    urls = ["http://s.test/b", "http://s.test/a", "http://s.test/c", "http://s.test/d"]
    assert held(urls, [1.0, 1.0, 1.0, 0.0], 0.5) == (["http://s.test/b", "http://s.test/c"], True)


def test_a_site_mostly_undated_is_a_seeded_draw_by_path():
    published = [5, 5, 5, NAN, NAN, NAN, NAN, 1, NAN, NAN]  # 4 of 10 dated: under half
    assert held(URLS, published, 0.2) == (["http://s.test/p4", "http://s.test/p7"], False)
    assert held(URLS, [NAN] * 10, 0.2, seed=7)[0] == ["http://s.test/p0", "http://s.test/p1"]


def test_the_draw_ignores_order_host_and_later_pages():
    first, _ = held(URLS, [NAN] * 10, 0.2)
    assert held(URLS[::-1], [NAN] * 10, 0.2)[0] == first
    moved = [url.replace("s.test", "127.0.0.1:8123") for url in URLS]
    back = [url.replace("127.0.0.1:8123", "s.test") for url in held(moved, [NAN] * 10, 0.2)[0]]
    assert back == first
    # a larger fraction holds out more of the same draw
    assert set(first) < set(held(URLS, [NAN] * 10, 0.25)[0])


def test_minimum_holds_out_at_least_that_many_and_never_more_than_the_dated():
    assert held(URLS, [NAN] * 10, 0.01, minimum=1)[0] == ["http://s.test/p4"]
    assert held(URLS, [NAN] * 10, 0.01)[0] == []
    few_dated = [1.0, 2.0] + [NAN] * 3  # 2 of 5 dated: under half, but forced by date
    assert held(URLS[:5], few_dated, 0.8, by_date=True)[0] == URLS[:2]


@pytest.mark.parametrize("bad", [0, 1, 1.5, True, "0.2"])
def test_a_fraction_outside_zero_one_is_refused(bad):
    with pytest.raises(ValueError, match="must be in"):
        hold_out(URLS, [NAN] * 10, bad)


def test_duplicate_pages_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        hold_out([URLS[0], URLS[0]], [NAN, NAN], 0.5)


def _articles(dated: bool) -> list[Article]:
    start = datetime(2024, 1, 1)
    return [
        Article(
            url=url,
            title=f"chat {i}",
            body=f"le chat {'gris' if i % 2 else 'noir'} dort numéro {i}",
            published=DateValue(start + timedelta(days=i), "day") if dated else None,
        )
        for i, url in enumerate(URLS)
    ]


@pytest.mark.parametrize("dated", [True, False], ids=["by date", "by draw"])
def test_validation_holds_out_the_pages_the_evaluation_would(dated):
    articles = _articles(dated)
    links = [EditorialLink(URLS[i], URLS[i - 2], 1) for i in range(2, 10)]
    model = LearnedRecommender(validation_fraction=0.3, param_grid=[{"max_iter": 5}])
    model.fit(articles, links)
    every_row = np.arange(len(URLS))
    _, validation = model._validation_split(every_row)
    _, test, how = split_articles(articles, test_fraction=0.3, random_state=0)
    assert sorted(model.urls_[validation]) == sorted(test)
    assert how.startswith("newest" if dated else "random")
