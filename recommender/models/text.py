"""Text analysis for French and English news articles.

The analysis is a chain of small module-level steps, as in scikit-learn's
``build_analyzer``: :func:`normalize` (lowercase and fold accents), :func:`tokenize`
(word characters, French elisions split off, digits and one-letter tokens dropped),
:func:`remove_stop_words` and, optionally, :func:`light_stem`. :class:`TextAnalyzer`
composes them into one picklable callable that a ``TfidfVectorizer`` takes as its
``analyzer``.

Stop-word lists ship as data in ``recommender/models/stopwords/<lang>.txt``.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources

from warehouse.scripts import UNSPACED, UNSPACED_RUN

__all__ = [
    "article_text",
    "ELISIONS",
    "STOP_WORD_LANGUAGES",
    "TextAnalyzer",
    "fold_accents",
    "light_stem",
    "load_stop_words",
    "normalize",
    "remove_stop_words",
    "resolve_stop_words",
    "tokenize",
]

#: Languages that have a stop-word list in ``recommender/models/stopwords/``.
STOP_WORD_LANGUAGES = ("fr", "en")

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
    """Split normalised text into word tokens.

    Tokens are runs of letters and digits. French elisions are split off and dropped
    (``l'hopital`` -> ``hopital``, ``qu'il`` -> ``il``); other apostrophes split the word
    (``don't`` -> ``don``, ``t``). Pure digits and one-character tokens are dropped.

    Parameters
    ----------
    text : str
        Text already passed through :func:`normalize`.

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


def remove_stop_words(tokens: Iterable[str], stop_words: frozenset[str]) -> list[str]:
    """Drop the tokens found in ``stop_words``.

    Parameters
    ----------
    tokens : iterable of str
        Normalised tokens.
    stop_words : frozenset of str
        Normalised stop words, e.g. from :func:`resolve_stop_words`.

    Returns
    -------
    list of str
        The tokens that are not stop words, in order.
    """
    return [token for token in tokens if token not in stop_words]


def light_stem(token: str) -> str:
    """Strip a French or English plural ending from a normalised token.

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


@cache
def load_stop_words(language: str) -> frozenset[str]:
    """Read the stop-word list shipped for ``language``.

    Parameters
    ----------
    language : {"fr", "en"}
        Language code.

    Returns
    -------
    frozenset of str
        The stop words, normalised.

    Raises
    ------
    ValueError
        If no list ships for ``language``.
    """
    if language not in STOP_WORD_LANGUAGES:
        raise ValueError(
            f"no stop-word list for language {language!r}; "
            f"available: {', '.join(STOP_WORD_LANGUAGES)}"
        )
    data = resources.files(__package__).joinpath("stopwords", f"{language}.txt")
    words = set()
    for line in data.read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            words.add(normalize(word))
    return frozenset(words)


@lru_cache(maxsize=32)
def _custom_stop_words(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize(word) for word in words)


def resolve_stop_words(spec: str | Iterable[str] | None) -> frozenset[str]:
    """Turn a stop-word specification into a set of normalised words.

    Parameters
    ----------
    spec : str, iterable of str or None
        ``None`` or ``""`` for no stop words; a language code or several joined by
        ``+`` (``"fr"``, ``"en"``, ``"fr+en"``); or the stop words themselves.

    Returns
    -------
    frozenset of str
        Normalised stop words.

    Raises
    ------
    ValueError
        If a language code has no shipped list.
    TypeError
        If ``spec`` is of another type.
    """
    if spec is None:
        return frozenset()
    if isinstance(spec, str):
        languages = [part.strip() for part in spec.split("+") if part.strip()]
        return frozenset().union(*(load_stop_words(language) for language in languages))
    if isinstance(spec, Iterable):
        words = tuple(spec)
        if not all(isinstance(word, str) for word in words):
            raise TypeError("stop_words must be strings")
        return _custom_stop_words(words)
    raise TypeError(
        f"stop_words must be None, a language spec such as 'fr+en' or an iterable "
        f"of words, not {type(spec).__name__}"
    )


class TextAnalyzer:
    """Text -> tokens, for French and English: normalise, tokenise, stop words, stem.

    An instance is a picklable callable, suitable as ``TfidfVectorizer(analyzer=...)``.
    Like a scikit-learn estimator, ``__init__`` only stores the parameters; they are
    checked on the first call.

    Parameters
    ----------
    stop_words : str, iterable of str or None, default="fr+en"
        Language codes joined by ``+``, the stop words themselves, or ``None``.
        See :func:`resolve_stop_words`.
    stem : bool, default=False
        Apply :func:`light_stem` to every token kept.

    Examples
    --------
    >>> TextAnalyzer()("L'épidémie de grippe et la fièvre des enfants")
    ['epidemie', 'grippe', 'fievre', 'enfants']
    >>> TextAnalyzer(stem=True)("Les hôpitaux et les vaccins")
    ['hopital', 'vaccin']
    """

    def __init__(self, stop_words: str | Iterable[str] | None = "fr+en", stem: bool = False):
        self.stop_words = stop_words
        self.stem = stem

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
            The tokens, in text order.
        """
        if isinstance(text, list):  # already analysed
            return text
        tokens = remove_stop_words(tokenize(normalize(text)), resolve_stop_words(self.stop_words))
        if self.stem:
            tokens = [light_stem(token) for token in tokens]
        return tokens

    def get_params(self, deep: bool = True) -> dict[str, object]:
        """Parameters, as scikit-learn's ``get_params`` returns them."""
        return {"stop_words": self.stop_words, "stem": self.stem}

    def __repr__(self) -> str:
        return f"TextAnalyzer(stop_words={self.stop_words!r}, stem={self.stem!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TextAnalyzer):
            return NotImplemented
        return self.get_params() == other.get_params()
