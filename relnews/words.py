"""The words relnews shows people, by language: the widget's heading and the curation page.

They live in one file, ``relnews/templates/words.toml``, one table per language (ISO
639-1), every table with the English one's keys: a translator sees a language whole, a
test sees a missing word, and the widget and the page can never say a thing two ways.
Dates and ages are not words here: Babel writes them from CLDR (:mod:`relnews.widgets`).
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources

DEFAULT_LANGUAGE = "en"
#: Codes that name a language of the file under another code ("no": Norwegian, written
#: in Bokmål on news sites).
ALIASES = {"no": "nb"}


@functools.cache
def _tables() -> dict[str, dict[str, str]]:
    text = (resources.files("relnews") / "templates" / "words.toml").read_text("utf-8")
    return tomllib.loads(text)


def languages() -> tuple[str, ...]:
    """Every language code the words are written in (aliases included)."""
    return (*_tables(), *ALIASES)


def words_for(code: str | None) -> dict[str, str]:
    """The words in the language ``code`` (an ISO 639-1 code, lower case), English for a
    language not in the file."""
    tables = _tables()
    code = ALIASES.get(code or "", code or "")
    return tables.get(code) or tables[DEFAULT_LANGUAGE]
