"""Recommenders, text analysis and evaluation on small real corpora (no mocks)."""

import pickle
from datetime import datetime

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from recommender import (
    RandomRecommender,
    SameRubriqueRecentRecommender,
    Suggestion,
    TfidfRecommender,
    evaluate,
)
from recommender.candidates import is_candidate
from recommender.evaluation import relevant_targets, temporal_split
from recommender.models.text import TextAnalyzer, light_stem, load_stop_words, normalize, tokenize
from warehouse.model import Article, DateValue, EditorialLink

SITE = "https://sante.example/news"


def article(slug, title, lead="", body="", date=None, rubrique=None, **fields):
    published = DateValue(datetime.fromisoformat(date), "json-ld") if date else None
    return Article(
        url=f"{SITE}/{rubrique or 'divers'}/{slug}.htm",
        title=title,
        lead=lead,
        body=body,
        published=published,
        rubrique=rubrique,
        **fields,
    )


GRIPPE_1 = article(
    "grippe-enfants_1",
    "Épidémie de grippe : la fièvre touche les enfants",
    "La grippe saisonnière progresse dans les écoles.",
    "Les médecins observent une fièvre élevée, de la toux et des courbatures. "
    "Le virus de la grippe circule chez les enfants ; le vaccin antigrippal est conseillé.",
    "2020-01-10",
    "sante",
)
GRIPPE_2 = article(
    "vaccin-grippe_2",
    "Grippe saisonnière : le vaccin reste efficace",
    "Le vaccin contre la grippe protège les personnes âgées.",
    "Une étude montre que le vaccin antigrippal réduit la fièvre et les complications "
    "de la grippe. Le virus a peu muté cette saison.",
    "2020-02-15",
    "sante",
)
GRIPPE_3 = article(
    "grippe-hopitaux_3",
    "La fièvre et la grippe remplissent les hôpitaux",
    "Les urgences débordent à cause de l'épidémie de grippe.",
    "Toux, fièvre, courbatures : les patients grippés affluent. Les médecins rappellent "
    "l'intérêt du vaccin contre le virus de la grippe.",
    "2020-03-20",
    "sante",
)
GRIPPE_UNDATED = article(
    "symptomes-grippe_4",
    "Les symptômes de la grippe chez l'enfant",
    "Fièvre, toux, fatigue : comment reconnaître la grippe.",
    "La grippe se manifeste par une fièvre brutale. Le virus se transmet par la toux.",
    None,
    "sante",
)
FOOT_1 = article(
    "football-championnat_5",
    "Football : le club remporte le championnat",
    "Le club de football gagne le titre après un match décisif.",
    "L'entraîneur salue ses joueurs. Le buteur a marqué deux buts pendant le match, "
    "et les supporters du club ont fêté le championnat.",
    "2020-01-12",
    "sport",
)
FOOT_2 = article(
    "football-attaquant_6",
    "Le club de football recrute un attaquant",
    "Le club veut un buteur pour le championnat.",
    "L'entraîneur cherche un attaquant capable de marquer des buts à chaque match. "
    "Les joueurs et les supporters attendent ce transfert.",
    "2020-02-20",
    "sport",
)
CLIMAT_1 = article(
    "canicule-records_7",
    "Canicule : les températures battent des records",
    "La vague de chaleur s'étend sur tout le pays.",
    "Les météorologues annoncent des températures record. La canicule et la sécheresse "
    "inquiètent les agriculteurs.",
    "2020-01-05",
    "environnement",
)
CLIMAT_2 = article(
    "secheresse-recoltes_8",
    "Sécheresse et canicule menacent les récoltes",
    "Les agriculteurs redoutent une nouvelle vague de chaleur.",
    "La sécheresse assèche les sols ; les températures de la canicule brûlent les "
    "récoltes. Les météorologues prévoient peu de pluie.",
    "2020-03-01",
    "environnement",
)
ELECTION_1 = article(
    "municipales-campagne_9",
    "Élections municipales : les candidats en campagne",
    "La campagne des municipales s'intensifie.",
    "Les candidats présentent leur programme aux électeurs. Le maire sortant brigue "
    "un nouveau mandat aux élections municipales.",
    "2020-01-20",
    "politique",
)
ELECTION_2 = article(
    "municipales-second-tour_10",
    "Municipales : le second tour des élections reporté",
    "Le scrutin des municipales est repoussé.",
    "Les électeurs attendent le second tour. Les candidats et le maire sortant "
    "suspendent leur campagne électorale avant les élections.",
    "2020-02-25",
    "politique",
)
RECETTE = article(
    "tarte-pommes_11",
    "Recette : la tarte aux pommes de grand-mère",
    "Une pâte brisée, des pommes et du sucre.",
    "Étalez la pâte, disposez les pommes, saupoudrez de sucre et enfournez la tarte.",
    None,
    "cuisine",
)

CORPUS = [
    GRIPPE_1,
    GRIPPE_2,
    GRIPPE_3,
    GRIPPE_UNDATED,
    FOOT_1,
    FOOT_2,
    CLIMAT_1,
    CLIMAT_2,
    ELECTION_1,
    ELECTION_2,
    RECETTE,
]
GRIPPE = {GRIPPE_1.url, GRIPPE_2.url, GRIPPE_3.url, GRIPPE_UNDATED.url}
BY_URL = {a.url: a for a in CORPUS}


def targets(suggestions):
    return [s.target_url for s in suggestions]


@pytest.fixture(scope="module")
def model():
    return TfidfRecommender().fit(CORPUS)


# -- text analysis -------------------------------------------------------------------


def test_accents_are_folded():
    analyze = TextAnalyzer()
    assert analyze("fièvre") == analyze("fievre") == analyze("FIÈVRE") == ["fievre"]
    assert analyze("Œuvre, cœur, ex æquo") == ["oeuvre", "coeur", "ex", "aequo"]
    assert normalize("L’épidémie") == "l'epidemie"


def test_stop_words_are_removed():
    analyze = TextAnalyzer()
    assert analyze("le la les de des du et est dans pour avec the and of is") == []
    assert analyze("Le vaccin et la grippe") == ["vaccin", "grippe"]
    assert TextAnalyzer(stop_words=None)("Le vaccin") == ["le", "vaccin"]
    assert TextAnalyzer(stop_words="en")("le vaccin and the flu") == ["le", "vaccin", "flu"]
    assert TextAnalyzer(stop_words=["Vaccin"])("le vaccin") == ["le"]


def test_shipped_stop_words_are_accent_folded():
    for language in ("fr", "en"):
        words = load_stop_words(language)
        assert len(words) > 250
        assert all(word == normalize(word) for word in words)
    assert "ete" in load_stop_words("fr")
    with pytest.raises(ValueError, match="no stop-word list"):
        TextAnalyzer(stop_words="xx")("texte")


def test_tokenize_splits_elisions_and_drops_digits_and_single_letters():
    assert tokenize("l'hopital qu'il jusqu'au d'abord") == ["hopital", "il", "au", "abord"]
    assert tokenize("covid-19 en 2020, h1n1 a b") == ["covid", "en", "h1n1"]
    assert tokenize("snake_case") == ["snake", "case"]


def test_light_stemming():
    assert light_stem("vaccins") == "vaccin"
    assert light_stem("hopitaux") == "hopital"
    assert light_stem("virus") == "virus"
    assert light_stem("gros") == "gros"
    assert TextAnalyzer(stem=True, language="fr")("Les vaccins et le vaccin") == [
        "vaccin",
        "vaccin",
    ]
    assert TextAnalyzer()("Les vaccins et le vaccin") == ["vaccins", "vaccin"]


def test_analyzer_pickles():
    analyze = TextAnalyzer(stop_words="fr", stem=True, language="fr")
    restored = pickle.loads(pickle.dumps(analyze))
    assert restored == analyze
    assert restored("Les hôpitaux") == analyze("Les hôpitaux") == ["hopital"]


# -- TF-IDF model ----------------------------------------------------------------------


def test_nearest_neighbour_is_the_same_topic_article(model):
    assert targets(model.recommend(FOOT_2.url, k=1)) == [FOOT_1.url]
    assert targets(model.recommend(ELECTION_2.url, k=1)) == [ELECTION_1.url]
    assert targets(model.recommend(CLIMAT_2.url, k=1)) == [CLIMAT_1.url]
    top3 = targets(model.recommend(GRIPPE_3.url, k=3))
    assert set(top3) == GRIPPE - {GRIPPE_3.url}


def test_scores_are_sorted_cosines(model):
    suggestions = model.recommend(GRIPPE_3.url, k=10)
    scores = [s.score for s in suggestions]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < score <= 1 + 1e-9 for score in scores)
    assert all(isinstance(s, Suggestion) for s in suggestions)


def test_article_itself_is_never_suggested():
    for before_only in (True, False):
        fitted = TfidfRecommender(before_only=before_only).fit(CORPUS)
        for url, suggestions in fitted.recommend_all(k=len(CORPUS)).items():
            assert url not in targets(suggestions)


def test_newer_articles_are_suggested_only_when_before_only_is_false():
    newer = {GRIPPE_2.url, GRIPPE_3.url}
    before = TfidfRecommender(before_only=True).fit(CORPUS)
    suggested = targets(before.recommend(GRIPPE_1.url, k=10))
    assert not newer & set(suggested)
    assert all(is_candidate(GRIPPE_1, BY_URL[url]) for url in suggested)
    # undated articles are always candidates
    assert suggested[0] == GRIPPE_UNDATED.url

    anytime = TfidfRecommender(before_only=False).fit(CORPUS)
    assert newer <= set(targets(anytime.recommend(GRIPPE_1.url, k=3)))


def test_cold_start_finds_same_topic_articles(model):
    text = "Le vaccin protège contre la grippe et limite la fièvre des enfants."
    suggested = targets(model.recommend_text(text, k=4))
    assert set(suggested) == GRIPPE

    early = targets(model.recommend_text(text, k=4, published_before=datetime(2020, 1, 31)))
    assert set(early) & GRIPPE == {GRIPPE_1.url, GRIPPE_UNDATED.url}

    titled = model.recommend_text("", k=2, title="Football : un nouveau buteur au club")
    assert set(targets(titled)) == {FOOT_1.url, FOOT_2.url}


def test_a_term_index_scores_new_texts_the_same_and_is_not_saved():
    plain = TfidfRecommender().fit(CORPUS)
    indexed = TfidfRecommender().fit(CORPUS).keep_term_index()
    texts = ["La grippe et la fièvre des enfants", "Football : un nouveau buteur", "xyzzy"]
    for text in texts:
        for before in (None, datetime(2020, 1, 31)):
            assert indexed.recommend_text(text, k=5, published_before=before) == (
                plain.recommend_text(text, k=5, published_before=before)
            )
    assert indexed.recommend_text(texts[0], k=3)  # not vacuous: the texts find articles
    restored = pickle.loads(pickle.dumps(indexed))
    assert not hasattr(restored, "by_term_")
    assert restored.recommend_text(texts[0], k=5) == plain.recommend_text(texts[0], k=5)


def test_accents_do_not_matter_to_the_model(model):
    assert "fievre" in model.vectorizer_.vocabulary_
    assert "fièvre" not in model.vectorizer_.vocabulary_
    assert model.recommend_text("FIEVRE", k=2) == model.recommend_text("fièvre", k=2)
    assert set(targets(model.recommend_text("fievre", k=4))) <= GRIPPE


def test_stop_words_never_reach_the_vocabulary(model):
    vocabulary = model.vectorizer_.vocabulary_
    for word in ("le", "la", "les", "de", "des", "et", "est", "aux"):
        assert word not in vocabulary


def test_only_title_lead_and_body_reach_the_vectoriser():
    token = "zzsourcetoken"
    tainted = article(
        "tainted_12",
        "Zztitletoken : la grippe revient",
        "Zzleadtoken et fièvre.",
        "Zzbodytoken, toux et vaccin.",
        "2020-04-01",
        f"sante {token}",
        tags=(token, f"{token}tag"),
        author=f"Jean {token}",
        sources=(f"Revue {token} 2020", f"https://{token}.example/etude"),
        theme=f"Plus de 20 études sur {token}",
        theme_url=f"https://sante.example/theme/{token}.htm",
        canonical_url=f"https://sante.example/{token}.htm",
        language=token,
    )
    fitted = TfidfRecommender(min_df=1, max_df=1.0).fit([*CORPUS, tainted])
    vocabulary = fitted.vectorizer_.vocabulary_
    assert {"zztitletoken", "zzleadtoken", "zzbodytoken"} <= set(vocabulary)
    assert not [term for term in vocabulary if token in term]


def test_shared_terms_are_in_both_texts(model):
    analyze = TextAnalyzer()
    for source_url, suggestions in model.recommend_all(k=5).items():
        source_terms = set(analyze(BY_URL[source_url].text))
        for suggestion in suggestions:
            assert 1 <= len(suggestion.shared_terms) <= 3
            target_terms = set(analyze(BY_URL[suggestion.target_url].text))
            assert set(suggestion.shared_terms) <= source_terms & target_terms
    assert "grippe" in model.recommend(GRIPPE_3.url, k=1)[0].shared_terms
    unexplained = TfidfRecommender(n_explain=0).fit(CORPUS)
    assert unexplained.recommend(GRIPPE_3.url, k=1)[0].shared_terms == ()


def test_recommend_all_matches_recommend_whatever_the_chunk_size(model):
    everything = model.recommend_all(k=4)
    assert list(everything) == sorted(a.url for a in CORPUS)
    assert model.recommend_all(k=4, chunk_size=3) == everything
    for url, suggestions in everything.items():
        assert model.recommend(url, k=4) == suggestions
    subset = [ELECTION_2.url, FOOT_2.url]
    assert list(model.recommend_all(k=4, urls=subset)) == subset


def test_fitted_state_does_not_depend_on_article_order(model):
    shuffled = TfidfRecommender().fit(list(reversed(CORPUS)))
    assert shuffled.recommend_all(k=4) == model.recommend_all(k=4)


def test_unknown_url_raises_key_error(model):
    with pytest.raises(KeyError, match="not in the fitted corpus"):
        model.recommend(f"{SITE}/absent.htm")


def test_fit_replaces_an_earlier_fit():
    fitted = TfidfRecommender().fit(CORPUS)
    football = [FOOT_1, FOOT_2, RECETTE]
    assert fitted.fit(football) is fitted
    assert sorted(fitted.urls_) == sorted(a.url for a in football)
    assert "grippe" not in fitted.vectorizer_.vocabulary_
    assert fitted.matrix_.shape[0] == 3
    with pytest.raises(KeyError):
        fitted.recommend(GRIPPE_1.url)
    assert targets(fitted.recommend(FOOT_2.url, k=1)) == [FOOT_1.url]


def test_fitted_model_pickles(model):
    restored = pickle.loads(pickle.dumps(model))
    assert restored.recommend_all(k=5) == model.recommend_all(k=5)
    text = "Canicule et sécheresse"
    assert restored.recommend_text(text, k=3) == model.recommend_text(text, k=3)


def test_clone_round_trips_parameters(model):
    params = dict(min_df=1, max_df=0.9, sublinear_tf=False, title_weight=3, stem=True, n_explain=2)
    configured = TfidfRecommender(**params).fit(CORPUS)
    copy = clone(configured)
    assert copy.get_params() == configured.get_params()
    assert {key: copy.get_params()[key] for key in params} == params
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    with pytest.raises(NotFittedError):
        copy.recommend(GRIPPE_1.url)
    assert copy.fit(CORPUS).recommend_all(k=3) == configured.recommend_all(k=3)
    assert clone(model).set_params(stem=True).stem is True


def test_init_does_not_validate_but_fit_does():
    model = TfidfRecommender(title_weight=-1)  # no error yet
    with pytest.raises(ValueError, match="title_weight"):
        model.fit(CORPUS)
    with pytest.raises(ValueError, match="empty"):
        TfidfRecommender().fit([])
    with pytest.raises(ValueError, match="duplicate"):
        TfidfRecommender().fit([GRIPPE_1, GRIPPE_1])
    with pytest.raises(ValueError, match="k must be"):
        TfidfRecommender().fit(CORPUS).recommend(GRIPPE_1.url, k=0)


def test_links_are_accepted_and_ignored():
    links = [EditorialLink(GRIPPE_3.url, FOOT_1.url, 1)]
    with_links = TfidfRecommender().fit(CORPUS, links)
    assert with_links.recommend_all(k=3) == TfidfRecommender().fit(CORPUS).recommend_all(k=3)


# -- baselines -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "baseline", [RandomRecommender, SameRubriqueRecentRecommender, TfidfRecommender]
)
@pytest.mark.parametrize("before_only", [True, False])
def test_every_method_follows_the_candidate_rule(baseline, before_only):
    fitted = baseline(before_only=before_only).fit(CORPUS)
    for url, suggestions in fitted.recommend_all(k=len(CORPUS)).items():
        source = BY_URL[url]
        suggested = targets(suggestions)
        assert len(suggested) == len(set(suggested))
        assert all(is_candidate(source, BY_URL[t], before_only=before_only) for t in suggested)
        if baseline is not TfidfRecommender:  # TF-IDF drops zero similarities
            expected = {a.url for a in CORPUS if is_candidate(source, a, before_only=before_only)}
            assert set(suggested) == expected


def test_random_recommender_is_deterministic_given_random_state_and_url():
    first = RandomRecommender(random_state=7).fit(CORPUS)
    second = RandomRecommender(random_state=7).fit(list(reversed(CORPUS)))
    assert first.recommend_all(k=3) == second.recommend_all(k=3)
    assert first.recommend(GRIPPE_3.url, k=3) == first.recommend(GRIPPE_3.url, k=3)
    others = [
        RandomRecommender(random_state=seed, before_only=False).fit(CORPUS).recommend_all(k=5)
        for seed in range(5)
    ]
    assert len({str(result) for result in others}) > 1
    assert [s.score for s in first.recommend(GRIPPE_3.url, k=3)] == [1.0, 0.5, 1 / 3]
    assert pickle.loads(pickle.dumps(first)).recommend_all(k=3) == first.recommend_all(k=3)


def test_same_rubrique_recent_prefers_the_rubrique_then_recency():
    fitted = SameRubriqueRecentRecommender().fit(CORPUS)
    # same rubrique newest first, undated last; then the newest other candidate
    assert targets(fitted.recommend(GRIPPE_3.url, k=4)) == [
        GRIPPE_2.url,
        GRIPPE_1.url,
        GRIPPE_UNDATED.url,
        CLIMAT_2.url,
    ]
    # a source without candidates in its rubrique gets the newest others
    # (undated, so ordered by url)
    assert targets(fitted.recommend(CLIMAT_1.url, k=3)) == [RECETTE.url, GRIPPE_UNDATED.url]
    clone(fitted).fit(CORPUS)


# -- evaluation ----------------------------------------------------------------------


def test_temporal_split_puts_the_newest_fifth_in_test():
    train, test = temporal_split(CORPUS)
    # 11 articles -> round(2.2) = 2 in test: the two newest dated ones
    assert test == [CLIMAT_2.url, GRIPPE_3.url]
    assert set(train) == {a.url for a in CORPUS} - set(test)
    assert train[-2:] == sorted([GRIPPE_UNDATED.url, RECETTE.url])  # undated go to train

    dated = [article(f"a{i:02d}", "t", date=f"2021-01-{i + 1:02d}") for i in range(10)]
    train, test = temporal_split(dated, test_fraction=0.2)
    assert test == [dated[8].url, dated[9].url]
    assert len(train) == 8


def test_temporal_split_breaks_ties_by_url():
    same_day = [article(f"b{i}", "t", date="2021-05-01") for i in (3, 1, 4, 0, 2)]
    train, test = temporal_split(same_day, test_fraction=0.4)
    assert test == sorted(a.url for a in same_day)[3:]
    assert temporal_split(list(reversed(same_day)), test_fraction=0.4) == (train, test)
    with pytest.raises(ValueError):
        temporal_split(same_day, test_fraction=1.0)


def test_relevant_targets():
    links = [
        EditorialLink("s1", "t1", 1),
        EditorialLink("s1", "t2", 2),
        EditorialLink("s2", "t1", 1),
        EditorialLink("s3", "s3", 1),
    ]
    assert relevant_targets(links) == {"s1": {"t1", "t2"}, "s2": {"t1"}}
    assert relevant_targets(links, ["s2", "s3"]) == {"s2": {"t1"}}


def synthetic_corpus(n_topics=15, per_topic=6, seed=0):
    """Articles on distinct topics; editors link each one to earlier same-topic ones."""
    rng = np.random.default_rng(seed)
    common = [f"commun{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(5)]
    articles, topic_of = [], {}
    for number in range(n_topics * per_topic):
        topic = number % n_topics
        words = [f"sujet{chr(97 + topic)}mot{chr(97 + j)}" for j in range(12)]
        text = list(rng.choice(words, 8)) + list(rng.choice(common, 14))
        day = 1 + number // n_topics
        item = article(
            f"synth_{number:03d}",
            " ".join(text[:4]),
            " ".join(text[4:10]),
            " ".join(text[10:]),
            f"2022-{1 + day // 28:02d}-{1 + day % 28:02d}",
            rubrique=f"rubrique{chr(97 + int(rng.integers(3)))}",
        )
        articles.append(item)
        topic_of[item.url] = topic
    links = []
    for position, source in enumerate(articles):
        earlier = [a.url for a in articles[:position] if topic_of[a.url] == topic_of[source.url]]
        for rank, target in enumerate(earlier[-3:], start=1):
            links.append(EditorialLink(source.url, target, rank))
    return articles, links


def test_evaluate_reports_every_method_and_tfidf_beats_random():
    articles, links = synthetic_corpus()
    train, test = temporal_split(articles)
    relevant = relevant_targets(links, test)
    models = {
        "tfidf": TfidfRecommender().fit(articles),
        "random": RandomRecommender(random_state=0).fit(articles),
        "same-rubrique-recent": SameRubriqueRecentRecommender().fit(articles),
    }
    report = evaluate(models, test, relevant)

    metrics = ["P@4", "R@4", "hit@4", "R@5", "hit@5", "R@10", "hit@10", "nDCG@10", "MRR"]
    assert report.methods == list(models)
    assert report.modes == ["existing"]
    assert report.metrics == [*metrics, "coverage@4"]
    assert len(report.rows) == 3 * (len(metrics) + 1)
    assert {row.n_queries for row in report.rows} == {len(test)}
    for row in report.rows:
        assert 0.0 <= row.value <= 1.0
        has_interval = row.ci_low is not None and row.ci_high is not None
        assert has_interval != row.metric.startswith("coverage@")
    for metric in metrics:
        assert report.value("tfidf", metric) > 2 * report.value("random", metric)
    assert report.value("tfidf", "MRR") > 0.5

    table = report.format_table().splitlines()
    header_at = next(i for i, line in enumerate(table) if line.startswith("metric"))
    assert table[header_at].split() == ["metric", *models]
    body = table[header_at + 2 : header_at + 3 + len(report.metrics)]
    assert [line.split()[0] for line in body] == [*report.metrics, "queries"]
    assert len({len(line) for line in table[header_at : header_at + 2]}) == 1  # aligned
    tfidf_ndcg = report.row("tfidf", "nDCG@10")
    assert (
        f"{tfidf_ndcg.value:.3f} [{tfidf_ndcg.ci_low:.2f}, {tfidf_ndcg.ci_high:.2f}]"
        in table[header_at + 2 + report.metrics.index("nDCG@10")]
    )
    markdown = report.to_markdown().splitlines()
    lines = [line for line in markdown if line.startswith("|")]
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines]
    assert rows[0] == ["metric", "tfidf", "random", "same-rubrique-recent"]
    assert rows[1] == [":" + "-" * (len(rows[1][0]) - 1)] + [
        "-" * (len(cell) - 1) + ":" for cell in rows[1][1:]
    ]  # metrics to the left, scores to the right
    assert [row[0] for row in rows[2:]] == [*report.metrics, "queries"]


def test_evaluate_counts_only_queries_with_relevant_targets():
    articles, links = synthetic_corpus(n_topics=2, per_topic=5)
    model = TfidfRecommender().fit(articles)
    first = articles[0].url  # the oldest article links to nothing
    relevant = relevant_targets(links)
    assert first not in relevant
    report = evaluate({"tfidf": model}, [first, articles[-1].url], relevant, k=2, ndcg_k=3, ks=())
    assert report.metrics == ["P@2", "R@2", "hit@2", "nDCG@3", "MRR", "coverage@2"]
    assert {row.n_queries for row in report.rows} == {1}
    with pytest.raises(ValueError, match="no query"):
        evaluate({"tfidf": model}, [first], relevant)


def test_bm25_scores_agree_with_bm25s():
    """An independent implementation: bm25s's Lucene variant has the same idf,
    ln(1 + (N - df + 0.5) / (df + 0.5)), and term weight tf / (tf + k1 (1 - b + b L/avgL));
    ours multiplies the weight by (k1 + 1), which ranks alike."""
    bm25s = pytest.importorskip("bm25s", reason="bm25s is a test dependency (.[test])")
    from recommender import Bm25Recommender

    model = Bm25Recommender(k1=1.4, b=0.7).fit(CORPUS)
    analyze = model.vectorizer_.build_analyzer()
    by_url = {article.url: article for article in CORPUS}
    corpus_tokens = [analyze(model._document(by_url[url])) for url in model.urls_]
    reference = bm25s.BM25(method="lucene", k1=1.4, b=0.7)
    reference.index(corpus_tokens, show_progress=False)
    for row, tokens in enumerate(corpus_tokens):
        ours = model.score_block(model.queries_[row]).toarray().ravel() / (1.4 + 1)
        theirs = reference.get_scores(sorted(set(tokens)))
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def test_text_without_spaces_is_tokenised_in_character_pairs():
    assert tokenize(normalize("Hexo博客添加相关推荐")) == [
        "hexo", "博客", "客添", "添加", "加相", "相关", "关推", "推荐",
    ]  # fmt: skip
    assert tokenize(normalize("東京の夜行列車")) == ["東京", "京の", "の夜", "夜行", "行列", "列車"]
    assert tokenize(normalize("Night trains, Tokyo")) == ["night", "trains", "tokyo"]
