"""The contract every recommender keeps, checked once for all five.

scikit-learn's own estimator checks run where they apply: those about parameters,
cloning and representation. The ones that fit on numeric arrays do not (the
recommenders fit on archived articles); the contract below states what they would.
"""

from __future__ import annotations

import pickle
from datetime import datetime

import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks

from recommender import (
    Bm25Recommender,
    LearnedRecommender,
    RandomRecommender,
    SameRubriqueRecentRecommender,
    TfidfRecommender,
)
from recommender.candidates import is_candidate
from warehouse.model import Article, DateValue, EditorialLink

SITE = "http://contract.test"


def _article(path: str, title: str, body: str, day: int | None) -> Article:
    return Article(
        url=f"{SITE}/{path}",
        title=title,
        body=body,
        published=DateValue(datetime(2024, 1, day), "day") if day else None,
        rubrique=path.split("/")[0],
    )


ARTICLES = [
    _article("chats/1", "Le chat noir", "le chat noir dort sur le canapé du salon", 1),
    _article("chiens/2", "Le chien aboie", "le chien aboie fort devant la porte", 2),
    _article("chats/3", "Un chat gris", "un chat gris mange des croquettes au salon", 3),
    _article("chiens/4", "Chien de garde", "un chien de garde aboie la nuit", 4),
    _article("chats/5", "Chats et chiens", "le chat gris et le chien noir jouent", 5),
    _article("chats/6", "Le chat dort", "le chat dort toute la journée au soleil", 6),
    _article("oiseaux/7", "Le merle chante", "un merle chante dans le jardin au printemps", None),
    _article("chiens/8", "Promener son chien", "promener le chien au jardin chaque matin", 8),
]
LINKS = [
    EditorialLink(f"{SITE}/chats/3", f"{SITE}/chats/1", 1),
    EditorialLink(f"{SITE}/chiens/4", f"{SITE}/chiens/2", 1),
    EditorialLink(f"{SITE}/chats/5", f"{SITE}/chats/3", 1),
    EditorialLink(f"{SITE}/chats/6", f"{SITE}/chats/1", 1),
    EditorialLink(f"{SITE}/chats/6", f"{SITE}/chats/3", 2),
    EditorialLink(f"{SITE}/chiens/8", f"{SITE}/chiens/4", 1),
]
BY_URL = {article.url: article for article in ARTICLES}

ESTIMATORS = [
    TfidfRecommender(),
    Bm25Recommender(),
    RandomRecommender(random_state=3),
    SameRubriqueRecentRecommender(),
    LearnedRecommender(param_grid=[{"max_iter": 10}]),
]
IDS = [type(estimator).__name__ for estimator in ESTIMATORS]

SKLEARN_CHECKS = [
    estimator_checks.check_parameters_default_constructible,
    estimator_checks.check_no_attributes_set_in_init,
    estimator_checks.check_get_params_invariance,
    estimator_checks.check_set_params,
    estimator_checks.check_estimator_cloneable,
    estimator_checks.check_estimator_repr,
    estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
]


def fitted(estimator):
    return clone(estimator).fit(ARTICLES, LINKS)


@pytest.fixture(scope="module", params=ESTIMATORS, ids=IDS)
def model(request):
    return fitted(request.param)


@pytest.mark.parametrize("check", SKLEARN_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_scikit_learn_checks(estimator, check):
    check(type(estimator).__name__, clone(estimator))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_fit_returns_the_estimator_and_nothing_is_fitted_before(estimator):
    unfitted = clone(estimator)
    with pytest.raises(NotFittedError):
        unfitted.recommend(ARTICLES[0].url)
    assert unfitted.fit(ARTICLES, LINKS) is unfitted


def test_lists_keep_the_candidate_rule_and_k(model):
    lists = model.recommend_all(k=3)
    assert set(lists) == set(BY_URL)
    for url, suggestions in lists.items():
        targets = [suggestion.target_url for suggestion in suggestions]
        assert len(targets) <= 3
        assert len(targets) == len(set(targets))
        assert url not in targets
        assert all(is_candidate(BY_URL[url], BY_URL[target]) for target in targets)
        scores = [suggestion.score for suggestion in suggestions]
        assert scores == sorted(scores, reverse=True)
    assert any(lists.values())  # the check above is not about empty lists only


def test_one_list_equals_the_same_list_among_all(model):
    lists = model.recommend_all(k=3)
    for url in BY_URL:
        assert model.recommend(url, k=3) == lists[url]


def test_a_clone_refitted_gives_the_same_lists_and_the_order_of_articles_does_not_matter(model):
    again = clone(model).fit(list(reversed(ARTICLES)), list(reversed(LINKS)))
    assert again.get_params() == model.get_params()
    assert again.recommend_all(k=3) == model.recommend_all(k=3)


def test_a_fitted_model_pickles(model):
    assert pickle.loads(pickle.dumps(model)).recommend_all(k=3) == model.recommend_all(k=3)


def test_an_unknown_url_is_a_key_error_and_a_bad_k_a_value_error(model):
    with pytest.raises(KeyError):
        model.recommend(f"{SITE}/absent")
    with pytest.raises(ValueError, match="k must be"):
        model.recommend(ARTICLES[0].url, k=0)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_fit_refuses_no_articles_and_duplicates(estimator):
    with pytest.raises(ValueError, match="empty"):
        clone(estimator).fit([], LINKS)
    with pytest.raises(ValueError, match="duplicate"):
        clone(estimator).fit([ARTICLES[0], *ARTICLES], LINKS)
