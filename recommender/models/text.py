"""Text analysis for news articles in any of the languages relnews knows.

The analysis is a chain of small module-level steps, as in scikit-learn's
``build_analyzer``: lowercase, :func:`tokenize` (word characters, French elisions split
off, digits and one-letter tokens dropped), stop words dropped, optionally a Snowball
stem of the word (:func:`stemmer_for`: PyStemmer, the Snowball algorithms in C), then
accents folded (:func:`fold_accents`). :class:`TextAnalyzer` composes them into one
picklable callable that a ``TfidfVectorizer`` takes as its ``analyzer``; it keeps what
each distinct word became, so a corpus pays the stemmer once per word, not per token.

Stop words: relnews' own lists for French and English
(``recommender/models/stopwords/<lang>.txt``: function words only, where the library's
lists also drop news words such as "computer", "fire", "bill" or "etat"), the
``stop-words`` package's for every other language (:func:`load_stop_words`).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from warehouse.scripts import UNSPACED, UNSPACED_RUN

if TYPE_CHECKING:
    from warehouse.model import Article

__all__ = [
    "article_text",
    "corpus_language",
    "ELISIONS",
    "STEMMERS",
    "STOP_WORD_LANGUAGES",
    "TextAnalyzer",
    "fold_accents",
    "light_stem",
    "load_stop_words",
    "normalize",
    "resolve_stop_words",
    "stemmer_for",
    "tokenize",
]

#: The Snowball stemmer (PyStemmer's name) of each language, by ISO 639-1 code.
STEMMERS = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german",
    "el": "greek", "en": "english", "eo": "esperanto", "es": "spanish", "et": "estonian",
    "eu": "basque", "fa": "persian", "fi": "finnish", "fr": "french", "ga": "irish",
    "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian",
    "it": "italian", "lt": "lithuanian", "nb": "norwegian", "ne": "nepali",
    "nl": "dutch", "nn": "norwegian", "no": "norwegian", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "st": "sesotho", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip

#: Languages whose stop words ship with relnews (``stopwords/<lang>.txt``), not the
#: ``stop-words`` package.
OWN_STOP_WORDS = ("fr", "en")

#: Every language with a stop-word list: relnews' own, then the ``stop-words`` package's
#: (ISO 639-1 codes; ``no`` and ``nn`` read its Norwegian ``nb`` list).
STOP_WORD_LANGUAGES = OWN_STOP_WORDS + (
    "ar", "bg", "ca", "cs", "da", "de", "el", "es", "fa", "fi", "gu", "he", "hi", "hu",
    "id", "it", "ja", "ko", "ms", "nb", "nl", "nn", "no", "pl", "pt", "ro", "ru", "sk",
    "sv", "tr", "uk", "vi", "zh",
)  # fmt: skip

#: What ``stop_words="auto"`` means without a language that has a list (the languages
#: of relnews' first sites; an unknown language is not stemmed either).
FALLBACK_STOP_WORDS = "fr+en"

#: French elided words, as they appear before an apostrophe once accents are folded.
ELISIONS = frozenset(
    {
        "c",
        "d",
        "j",
        "l",
        "m",
        "n",
        "s",
        "t",
        "qu",
        "jusqu",
        "lorsqu",
        "puisqu",
        "quoiqu",
        "presqu",
        "quelqu",
    }
)

# Letters that NFKD leaves whole, and typographic apostrophes.
_TRANSLATION = str.maketrans(
    {
        "œ": "oe",
        "æ": "ae",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ß": "ss",
        "\u2019": "'",  # right single quotation mark
        "\u2018": "'",  # left single quotation mark
        "\u02bc": "'",  # modifier letter apostrophe
        "\u2032": "'",  # prime
    }
)

# Letters and digits (no underscore), possibly joined by apostrophes: "l'hopital".
_TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def article_text(title: str, lead: str, body: str, title_weight: int) -> str:
    """The text a model indexes for an article: its title ``title_weight`` times, lead
    and body, one per line (empty parts left out); never its related block, sources,
    theme or navigation.

    >>> article_text("Grippe", "", "Le virus circule.", 2)
    'Grippe\\nGrippe\\nLe virus circule.'
    """
    parts = [title] * int(title_weight) + [lead, body]
    return "\n".join(part for part in parts if part)


def fold_accents(text: str) -> str:
    """Fold accents and ligatures to plain letters.

    Decomposes with Unicode NFKD and drops the combining marks, maps the letters NFKD
    leaves whole (``œ`` -> ``oe``, ``æ`` -> ``ae``...) and the typographic apostrophes
    (``’`` -> ``'``). Meant to run on lowercase text.

    Parameters
    ----------
    text : str
        Text to fold.

    Returns
    -------
    str
        The text without accents, e.g. ``"fièvre"`` -> ``"fievre"``.
    """
    text = text.translate(_TRANSLATION)
    if text.isascii():  # nothing to decompose: most English text, and fast
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return _combining_marks().sub("", decomposed)


@cache
def _combining_marks() -> re.Pattern[str]:
    """A character class of every combining mark (``unicodedata.combining`` non-zero).

    One regex substitution folds a text in C rather than one Python call per character.
    """
    marks = [code for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code))]
    ranges = []
    start = previous = marks[0]
    for code in marks[1:] + [-1]:
        if code != previous + 1:
            ranges.append(
                re.escape(chr(start)) + ("-" + re.escape(chr(previous)) if previous > start else "")
            )
            start = code
        previous = code
    return re.compile("[" + "".join(ranges) + "]")


def normalize(text: str) -> str:
    """Lowercase (``str.casefold``) then :func:`fold_accents`.

    Parameters
    ----------
    text : str
        Raw text.

    Returns
    -------
    str
        Lowercase text without accents.
    """
    return fold_accents(text.casefold())


def tokenize(text: str) -> list[str]:
    """Split lowercase text (accents folded or not) into word tokens.

    Tokens are runs of letters and digits. French elisions are split off and dropped
    (``l'hopital`` -> ``hopital``, ``qu'il`` -> ``il``); other apostrophes split the word
    (``don't`` -> ``don``, ``t``). Pure digits and one-character tokens are dropped.

    Parameters
    ----------
    text : str
        Text already lowercased, e.g. by :func:`normalize`.

    Returns
    -------
    list of str
        The tokens, in text order.
    """
    words = _TOKEN_RE.findall(text)
    if UNSPACED.search(text):
        words = [token for word in words for token in _unspaced_tokens(word)]
    if "'" not in text:  # no elision to split: one comprehension
        return [word for word in words if len(word) > 1 and not word.isdigit()]
    tokens: list[str] = []
    for word in words:
        if "'" not in word:  # the common case, without the split below
            if len(word) > 1 and not word.isdigit():
                tokens.append(word)
            continue
        parts = word.split("'")
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if i < last and part in ELISIONS:
                continue
            if len(part) < 2 or part.isdigit():
                continue
            tokens.append(part)
    return tokens


def _unspaced_tokens(word: str) -> list[str]:
    """A word as tokens where it mixes in a script written without spaces: each run of
    such characters as overlapping character pairs (as Lucene's CJK analyser does; no
    dictionary needed), the rest as it is: "hexo博客添加" -> hexo, 博客, 客添, 添加."""
    if not UNSPACED.search(word):
        return [word]
    tokens: list[str] = []
    position = 0
    for run in UNSPACED_RUN.finditer(word):
        if run.start() > position:
            tokens.append(word[position : run.start()])
        chars = run.group()
        tokens.extend(chars[i : i + 2] for i in range(max(len(chars) - 1, 1)))
        position = run.end()
    if position < len(word):
        tokens.append(word[position:])
    return tokens


def light_stem(token: str) -> str:
    """Strip a French or English plural ending from a normalised token.

    No longer used by relnews: the recommender's analysis and the archive's full-text
    search (:mod:`recommender.search`) both stem with :func:`stemmer_for` (Snowball).

    Deliberately light: tokens of four characters or fewer are kept; ``-aux`` becomes
    ``-al`` (``hopitaux`` -> ``hopital``) except after ``e`` (``eaux``); a final ``s`` or
    ``x`` is removed unless the token ends in ``ss``, ``us`` or ``is`` (``virus``,
    ``analysis``, ``stress`` are kept).

    Parameters
    ----------
    token : str
        A normalised token.

    Returns
    -------
    str
        The stem.
    """
    if len(token) <= 4:
        return token
    if token.endswith("aux") and not token.endswith("eaux"):
        return token[:-3] + "al"
    if token.endswith(("ss", "us", "is")):
        return token
    if token.endswith(("s", "x")):
        return token[:-1]
    return token


def stemmer_for(language: str | None) -> Any | None:
    """The Snowball stemmer of ``language`` (an ISO 639-1 code), or None for a language
    without one (Japanese, Chinese, Korean...) or no language.

    Its ``stemWord`` takes a lowercase word with its accents: ``"changé"`` ->
    ``"chang"``.
    """
    name = STEMMERS.get(language or "")
    if name is None:
        return None
    import Stemmer  # PyStemmer, imported only by analysers that stem

    return Stemmer.Stemmer(name)


@cache
def load_stop_words(language: str) -> frozenset[str]:
    """The stop words of ``language``, accent-folded.

    Parameters
    ----------
    language : str
        An ISO 639-1 code of :data:`STOP_WORD_LANGUAGES`.

    Returns
    -------
    frozenset of str
        The stop words, normalised (``"été"`` -> ``"ete"``).

    Raises
    ------
    ValueError
        If no list exists for ``language``.
    """
    if language not in STOP_WORD_LANGUAGES:
        raise ValueError(
            f"no stop-word list for language {language!r}; "
            f"available: {', '.join(sorted(STOP_WORD_LANGUAGES))}"
        )
    if language in OWN_STOP_WORDS:
        data = resources.files(__package__).joinpath("stopwords", f"{language}.txt")
        lines = data.read_text(encoding="utf-8").splitlines()
        words = [line.split("#", 1)[0].strip() for line in lines]
    else:
        from stop_words import get_stop_words  # only analysers of these languages need it

        words = get_stop_words("nb" if language in ("no", "nn") else language)
    return frozenset(normalize(word) for word in words if word)


@lru_cache(maxsize=32)
def _custom_stop_words(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize(word) for word in words)


def resolve_stop_words(
    spec: str | Iterable[str] | None, language: str | None = None
) -> frozenset[str]:
    """Turn a stop-word specification into a set of normalised words.

    Parameters
    ----------
    spec : str, iterable of str or None
        ``None`` or ``""`` for no stop words; ``"auto"`` for those of ``language`` and
        English (which every site quotes), or :data:`FALLBACK_STOP_WORDS` for a language
        without a list; a language code or several joined by ``+`` (``"fr"``,
        ``"fr+en"``); or the stop words themselves.
    language : str or None, default=None
        The text's language, for ``"auto"``.

    Returns
    -------
    frozenset of str
        Normalised stop words.

    Raises
    ------
    ValueError
        If a language code has no list.
    TypeError
        If ``spec`` is of another type.
    """
    if spec is None:
        return frozenset()
    if spec == "auto":
        known = language in STOP_WORD_LANGUAGES
        spec = f"{language}+en" if known else FALLBACK_STOP_WORDS
    if isinstance(spec, str):
        languages = [part.strip() for part in spec.split("+") if part.strip()]
        return frozenset().union(*(load_stop_words(language) for language in languages))
    if isinstance(spec, Iterable):
        words = tuple(spec)
        if not all(isinstance(word, str) for word in words):
            raise TypeError("stop_words must be strings")
        return _custom_stop_words(words)
    raise TypeError(
        f"stop_words must be None, 'auto', a language spec such as 'fr+en' or an "
        f"iterable of words, not {type(spec).__name__}"
    )


def corpus_language(articles: Iterable[Article]) -> str | None:
    """The language most of ``articles`` are in (ISO 639-1, as the crawler stores it),
    or None when none says: the site's language, which its analysis follows."""
    counts = Counter(
        article.language.strip().lower().split("-")[0]
        for article in articles
        if article.language and article.language.strip()
    )
    return counts.most_common(1)[0][0] if counts else None


class _Vocabulary:
    """What each distinct token became under one analysis (its term, or None for a stop
    word), and the shortest word seen for each term: the analysis of a corpus pays the
    stemmer and the accent folding once per word, not once per token."""

    #: Tokens remembered before the memory is cleared (a long-running server meets new
    #: words forever; a corpus of 100,000 news articles has a few hundred thousand).
    MAX_TOKENS = 1 << 20

    def __init__(self, stop_words: frozenset[str], stemmer: Any | None):
        self.stop_words = stop_words
        self.stemmer = stemmer
        self.terms: dict[str, str | None] = {}
        self.words: dict[str, str] = {}

    def analyse(self, tokens: list[str]) -> list[str]:
        """The tokens' terms, stop words left out, analysing the tokens not seen yet.

        Each token's term is taken as it is found or made, never looked up again after
        the memory may have been cleared (by this call, or by another thread's)."""
        terms = self.terms
        if len(terms) + len(tokens) > self.MAX_TOKENS:
            terms.clear()
        found: list[str] = []
        for token in tokens:
            try:
                term = terms[token]
            except KeyError:
                term = terms[token] = self._term(token)
            if term is not None:
                found.append(term)
        return found

    def _term(self, token: str) -> str | None:
        """What one token becomes: None for a stop word, else its folded stem (and the
        shortest word seen for that stem is kept, to show readers)."""
        word = fold_accents(token)
        if word in self.stop_words:
            return None
        # Stem the word as written (the algorithms read accents: "ações"), then fold.
        term = fold_accents(self.stemmer.stemWord(token)) if self.stemmer else word
        known = self.words.get(term)
        if known is None or (len(word), word) < (len(known), known):
            self.words[term] = word
        return term


@cache
def _vocabulary(stop_words: frozenset[str], language: str | None) -> _Vocabulary:
    """One vocabulary per analysis, shared by equal analysers (a model's own and the
    one that analysed its corpus for it)."""
    return _Vocabulary(stop_words, stemmer_for(language))


class TextAnalyzer:
    """Text -> tokens: lowercase, tokenise, drop stop words, stem, fold accents.

    An instance is a picklable callable, suitable as ``TfidfVectorizer(analyzer=...)``.
    Like a scikit-learn estimator, ``__init__`` only stores the parameters; they are
    checked on the first call.

    Parameters
    ----------
    stop_words : str, iterable of str or None, default="auto"
        ``"auto"`` (the language's and English), language codes joined by ``+``, the
        stop words themselves, or ``None``. See :func:`resolve_stop_words`.
    stem : bool, default=False
        Reduce every word kept to its Snowball stem in ``language`` (no stemming in a
        language without a stemmer, see :func:`stemmer_for`).
    language : str or None, default=None
        The text's language (ISO 639-1), e.g. the site's (:func:`corpus_language`).

    Examples
    --------
    >>> TextAnalyzer()("L'épidémie de grippe et la fièvre des enfants")
    ['epidemie', 'grippe', 'fievre', 'enfants']
    >>> TextAnalyzer(stem=True, language="fr")("Les hôpitaux ont changé, tout change")
    ['hopital', 'chang', 'chang']
    """

    def __init__(
        self,
        stop_words: str | Iterable[str] | None = "auto",
        stem: bool = False,
        language: str | None = None,
    ):
        self.stop_words = stop_words
        self.stem = stem
        self.language = language

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "language" not in state and state.get("stem"):
            # Saved before the Snowball stemmers: its vocabulary holds the old plural
            # stems, which new texts would no longer meet.
            import pickle

            raise pickle.UnpicklingError(
                "fitted with the former plural stemming, before the Snowball stemmers"
            )
        self.__dict__.update({"language": None, **state})

    def __getstate__(self) -> dict[str, Any]:
        return self.get_params()

    def __call__(self, text: str) -> list[str]:
        """Analyse one text.

        Parameters
        ----------
        text : str or list of str
            Raw text, or the tokens an identical analyser already made of it (returned
            as they are: several vectorisers of one corpus can share one analysis).

        Returns
        -------
        list of str
            The terms, in text order.
        """
        if isinstance(text, list):  # already analysed
            return text
        vocabulary = self._vocabulary()
        text = text.casefold().translate(_TRANSLATION)
        plain = text.isascii()
        if not plain:  # words written with combining accents, composed again
            text = unicodedata.normalize("NFC", text)
        tokens = tokenize(text)
        if plain and vocabulary.stemmer is None:  # nothing to stem or fold: a small set
            stop_words = vocabulary.stop_words  # beats a lookup in the large vocabulary
            return [token for token in tokens if token not in stop_words]
        terms = vocabulary.terms
        try:  # one pass when every word was seen before: most texts of a corpus
            return [term for token in tokens if (term := terms[token]) is not None]
        except KeyError:
            return vocabulary.analyse(tokens)

    def _vocabulary(self) -> _Vocabulary:
        params = (self.stop_words, self.stem, self.language)
        known = self.__dict__.get("_analysis")
        if known is None or known[0] != params:  # first call, or parameters changed
            stop_words = resolve_stop_words(self.stop_words, self.language)
            known = (params, _vocabulary(stop_words, self.language if self.stem else None))
            self.__dict__["_analysis"] = known
        return known[1]

    def readable(self, terms: Iterable[str]) -> list[str]:
        """A word for each term, to show readers: the shortest (accent-folded) word this
        analysis has made it from (``"chang"`` -> ``"change"``), else the term itself."""
        words = self._vocabulary().words
        return [words.get(term, term) for term in terms]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters, as scikit-learn's ``get_params`` returns them."""
        return {"stop_words": self.stop_words, "stem": self.stem, "language": self.language}

    def __repr__(self) -> str:
        return (
            f"TextAnalyzer(stop_words={self.stop_words!r}, stem={self.stem!r}, "
            f"language={self.language!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TextAnalyzer):
            return NotImplemented
        return self.get_params() == other.get_params()
