"""Rules that several parts use, each written once: these tests pin what they decide
(the split has its own file, tests/test_split.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crawler.page.html import fold
from crawler.page.urls import article_url
from recommender.candidates import candidate_mask, published_after
from recommender.models.sparse_rows import top_k

NAN = math.nan


# -- the candidate date rule (recommender/candidates.py) ------------------------------


@pytest.mark.parametrize(
    ("target", "source", "after"),
    [(2.0, 1.0, True), (1.0, 1.0, False), (0.0, 1.0, False), (NAN, 1.0, False), (2.0, NAN, False)],
)
def test_only_a_known_later_date_is_after(target, source, after):
    assert bool(published_after(target, source)) is after


def test_the_candidate_mask_is_the_date_rule_without_the_source():
    published = np.array([1.0, 2.0, 3.0, NAN])
    assert candidate_mask(published, 2.0, exclude=1).tolist() == [True, False, False, True]
    assert candidate_mask(published, 2.0, exclude=1, before_only=False).tolist() == [
        True,
        False,
        True,
        True,
    ]
    assert candidate_mask(published, NAN).all()  # an undated source accepts every article


# -- per-row top-k (recommender/models/sparse_rows.py) --------------------------------


def test_top_k_is_best_first_with_ties_by_column():
    columns = np.array([7, 3, 5, 1, 9])
    values = np.array([0.5, 0.9, 0.5, 0.1, 0.5])
    assert [c.tolist() for c in top_k(columns, values, 3)] == [[3, 5, 7], [0.9, 0.5, 0.5]]
    assert top_k(columns, values, 10)[0].tolist() == [3, 5, 7, 9, 1]
    assert top_k(columns[:0], values[:0], 3)[0].size == 0


def test_top_k_separates_values_that_differ_in_the_last_bit():
    low = 0.3
    high = np.nextafter(low, 1.0)
    found, _ = top_k(np.array([1, 2]), np.array([low, high]), 1)
    assert found.tolist() == [2]


# -- folding for comparisons (crawler/page/html.py) -----------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Sur le même SUJET", "sur le meme sujet"),
        ("À lire aussi :", "a lire aussi"),
        ("  Related\u00a0articles\n", "related articles"),
        ("Ｒｅｌａｔｅｄ", "related"),  # full-width letters (compatibility forms)
        ("相关文章", "相关文章"),  # scripts without case or accents stay as they are
        ("re_lated--posts", "re lated posts"),
    ],
)
def test_fold_drops_case_accents_and_punctuation(text, folded):
    assert fold(text) == folded


# -- a canonical link counts on the page's own host only (crawler/page/urls.py) --------


@pytest.mark.parametrize(
    ("canonical", "stored"),
    [
        ("http://a.test/story", "http://a.test/story"),
        ("http://mirror.test/story", "http://a.test/story?print=1"),
        ("http://a.test:8080/story", "http://a.test/story?print=1"),
        (None, "http://a.test/story?print=1"),
    ],
)
def test_an_article_is_stored_under_its_canonical_link_on_the_same_host_only(canonical, stored):
    assert article_url("http://a.test/story?print=1", canonical) == stored
