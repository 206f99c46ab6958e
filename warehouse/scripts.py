"""Writing systems, as both the crawler (text length) and the recommender (tokens) see them."""

from __future__ import annotations

import re

#: Characters of scripts written without spaces between words: Han, kana, Hangul
#: syllables (Korean uses spaces, but its syllable blocks run long), Thai, Lao, Khmer,
#: Myanmar.
UNSPACED = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
    r"\u0e00-\u0eff\u1780-\u17ff\u1000-\u109f]"
)
#: A run of such characters.
UNSPACED_RUN = re.compile(UNSPACED.pattern + "+")
