"""Text analysis in every language the widget heading knows: Snowball stems, stop words,
the site's language, readable shared terms, models saved before the stemmers."""

import pickle
from datetime import datetime

import joblib
import pytest

from recommender import TfidfRecommender
from recommender.models.bm25 import Bm25Recommender
from recommender.models.text import (
    STOP_WORD_LANGUAGES,
    TextAnalyzer,
    corpus_language,
    load_stop_words,
    normalize,
    stemmer_for,
)
from recommender.persistence import read_model
from relnews.words import ALIASES, languages
from warehouse import WarehouseError
from warehouse.model import Article, DateValue

#: Two forms of one word, in a sentence with stop words, per language; what both become.
SENTENCES = {
    "fr": ("Les élections et une élection", "elect"),
    "de": ("Die Häuser und das Haus", "haus"),
    "es": ("Las canciones y la canción", "cancion"),
    "it": ("Le elezioni e la elezione", "elezion"),
    "pt": ("Os governos e o governo", "govern"),
    "nl": ("De huizen en het huis", "huis"),
    "ca": ("Les eleccions i l'elecció", "elec"),
    "pl": ("Wybory i wyborach", "wybor"),
    "sv": ("Husen och huset", "hus"),
    "da": ("Husene og huset", "hus"),
    "nb": ("Husene og huset", "hus"),
    "ru": ("Выборы и выборах", "выбор"),
}
UNSTEMMED = {"ja", "zh", "ko"}  # no Snowball algorithm: their words are kept whole


def test_every_widget_language_has_stop_words_and_a_stemmer_where_snowball_has_one():
    known = (*languages(), *ALIASES)
    assert len(known) >= 17
    for language in known:
        assert language in STOP_WORD_LANGUAGES, language
        assert len(load_stop_words(language)) > 30, language
        assert (stemmer_for(language) is None) == (language in UNSTEMMED), language


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_words_are_stemmed_and_stop_words_dropped(language):
    sentence, stem = SENTENCES[language]
    assert TextAnalyzer(stem=True, language=language)(sentence) == [stem, stem]
    # without stemming the same stop words go, the two forms stay apart
    unstemmed = TextAnalyzer(language=language)(sentence)
    assert len(unstemmed) == 2 and unstemmed[0] != unstemmed[1]


def test_french_verbs_and_nouns_share_a_stem_but_snowball_keeps_ent_endings():
    analyse = TextAnalyzer(stem=True, language="fr")
    assert analyse("change changer changement changements changeront") == ["chang"] * 5
    # Snowball's French leaves a final -ent alone (président, client, moment): the
    # third person plural stays apart from the other forms.
    assert analyse("changent président") == ["changent", "president"]


def test_the_word_is_stemmed_before_its_accents_are_folded():
    # Portuguese and Spanish suffixes are written with accents; folded first, "canción"
    # would lose the suffix rule and "cancion" would be another term
    assert TextAnalyzer(stem=True, language="pt")("nações nação") == ["naco", "naca"]
    terms = TextAnalyzer(stem=True, language="fr")("Opération générale, OPÉRATIONS générales")
    assert terms == ["oper", "general", "oper", "general"]
    assert all(term.isascii() for term in terms)


def test_auto_stop_words_are_the_language_and_english():
    assert TextAnalyzer(language="de")("the Haus und der Hund of the city") == [
        "haus",
        "hund",
        "city",
    ]
    # an English site no longer drops French words that English uses ("car", "son")
    assert TextAnalyzer(language="en")("the car of his son") == ["car", "son"]
    assert TextAnalyzer()("the car of his son") == []  # no language: French and English


@pytest.mark.parametrize("language", [None, "xx"])
def test_an_unknown_language_falls_back_to_french_and_english_stop_words_unstemmed(language):
    analyse = TextAnalyzer(stem=True, language=language)
    assert analyse("Les vaccins and the cats, élections") == ["vaccins", "cats", "elections"]


def test_a_language_without_stemmer_keeps_its_words_whole():
    analyse = TextAnalyzer(stem=True, language="ja")
    assert analyse("東京の夜行列車 and the trains")[-1] == "trains"
    assert "the" not in analyse("東京の夜行列車 and the trains")


def article(slug, title, body, language, day):
    return Article(
        url=f"https://news.example/{slug}",
        title=title,
        body=body,
        language=language,
        published=DateValue(datetime(2024, 1, day), "json-ld"),
    )


GERMAN = [
    article("a", "Häuser in Berlin", "Die Häuser der Stadt werden teurer.", "de", 1),
    article("b", "Das Haus am See", "Ein Haus in der Stadt am See.", "de-DE", 2),
    article("c", "Fußball heute", "Die Mannschaft gewinnt das Spiel.", "de", 3),
    article("d", "Wetter", "Regen und Wind in Hamburg.", None, 4),
]

FRENCH = [
    article("1", "Les épidémies de grippe", "Les épidémies reviennent chaque hiver.", "fr", 1),
    article("2", "Une épidémie de grippe", "L'épidémie touche les enfants.", "fr", 2),
    article("3", "Le football", "Le match est gagné par l'équipe.", "fr", 3),
]


def test_models_analyse_in_the_language_most_articles_are_in():
    assert corpus_language(GERMAN) == "de"
    assert corpus_language([article("x", "t", "b", None, 1)]) is None
    for model in (TfidfRecommender(stem=True), Bm25Recommender(stem=True)):
        model.fit(GERMAN)
        assert model.vectorizer_.analyzer.language == "de"
        assert "haus" in model.vectorizer_.vocabulary_  # Häuser and Haus together
        assert "die" not in model.vectorizer_.vocabulary_
    tfidf = TfidfRecommender(stem=True).fit(GERMAN)
    assert tfidf.recommend(GERMAN[1].url, k=1)[0].target_url == GERMAN[0].url
    # a new text is read in the fitted language
    assert tfidf.recommend_text("Ein neues Haus", k=1)[0].target_url in {
        GERMAN[0].url,
        GERMAN[1].url,
    }


def test_shared_terms_are_readable_words_not_stems():
    model = TfidfRecommender(stem=True, max_df=1.0).fit(FRENCH)
    [suggestion] = model.recommend(FRENCH[1].url, k=1)
    assert suggestion.target_url == FRENCH[0].url
    assert "epidem" in model.vectorizer_.vocabulary_  # the stem is the term...
    assert "epidemie" in suggestion.shared_terms  # ...the reader sees a word of both
    folded = normalize(FRENCH[0].text + " " + FRENCH[1].text)
    assert all(term in folded for term in suggestion.shared_terms)


def test_pickled_analyser_keeps_its_language():
    analyse = TextAnalyzer(stem=True, language="de")
    restored = pickle.loads(pickle.dumps(analyse))
    assert restored == analyse and restored.language == "de"
    assert restored("Die Häuser") == ["haus"]


def test_models_saved_before_the_stemmers_load_or_refuse_clearly(tmp_path, monkeypatch):
    unstemmed = TfidfRecommender().fit(FRENCH)
    stemmed = TfidfRecommender(stem=True).fit(FRENCH)
    # As relnews wrote them before: the analyser's state had no language.
    monkeypatch.setattr(
        TextAnalyzer, "__getstate__", lambda self: {"stop_words": "fr+en", "stem": self.stem}
    )
    joblib.dump(unstemmed, tmp_path / "old.joblib")
    joblib.dump(stemmed, tmp_path / "old-stemmed.joblib")
    monkeypatch.undo()
    loaded = read_model(tmp_path / "old.joblib")
    assert loaded.vectorizer_.analyzer.language is None
    assert loaded.recommend_text("épidémie de grippe", k=1) == unstemmed.recommend_text(
        "épidémie de grippe", k=1
    )
    with pytest.raises(WarehouseError, match="former plural stemming.*relnews fit"):
        read_model(tmp_path / "old-stemmed.joblib")


def test_a_text_analysed_when_the_vocabulary_fills_up_keeps_its_terms(monkeypatch):
    # A long-running server meets new words forever: the memory of analysed words is
    # cleared when full, and the text being analysed at that moment keeps every term.
    from recommender.models import text as text_module

    monkeypatch.setattr(text_module._Vocabulary, "MAX_TOKENS", 5)
    analyzer = TextAnalyzer(language="fr", stem=True, stop_words="fr")
    first = analyzer("Les vaccins protègent les enfants")
    assert analyzer("Les vaccins protègent les enfants et les adultes âgés chaque hiver") == [
        *first,
        *analyzer("adultes âgés chaque hiver"),
    ]
