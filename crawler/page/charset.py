"""Reading a page's bytes as text when its charset is missing, wrong or lying.

Scrapy trusts a declared charset even when the bytes contradict it, and its guess for an
undeclared one is often a neighbour code page (a French page in windows-1252 read as
windows-1250 turns "coûte" into "coűte"). The order here:

1. UTF-8, when the bytes are valid UTF-8: most of the web, and never by accident, so
   it wins even over a declared single-byte charset (which reads any bytes);
2. the declared charset (BOM, HTTP header, ``<meta>``), when the bytes decode with it;
3. the legacy code page of the page's own language (``<html lang>``), when it fits;
4. bs4's UnicodeDammit (charset-normalizer's detection) when it names a non-Latin web
   encoding (Cyrillic, Greek, Hebrew, Arabic, Thai, Chinese, Japanese, Korean); else
   windows-1252 when it reads the bytes, WHATWG's default for undeclared pages in most
   locales (detectors are unreliable on short Latin texts: they propose windows-1250,
   cp775 or cp1125 for French);
5. windows-1252 with replacement characters: something is always read.
"""

from __future__ import annotations

import codecs
import re

from bs4 import UnicodeDammit
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

#: The legacy code pages of the web and the languages (ISO 639-1) written in each.
_CODE_PAGE_LANGUAGES = {
    "windows-1252": "en fr de es it pt nl da sv no nb nn fi is ca eu gl ga af sq id ms sw",
    "windows-1250": "pl cs sk hu sl hr ro bs",
    "windows-1251": "ru uk bg sr be mk",
    "windows-1253": "el",
    "windows-1254": "tr",
    "windows-1255": "he",
    "windows-1256": "ar",
    "windows-1257": "lt lv et",
    "windows-1258": "vi",
    "windows-874": "th",
    "shift_jis": "ja",
    "euc-kr": "ko",
    "gb18030": "zh",
}
#: The legacy code page of a language, for pages that declare no charset.
LEGACY_CODE_PAGES = {
    language: code_page
    for code_page, languages in _CODE_PAGE_LANGUAGES.items()
    for language in languages.split()
}

_LANG = re.compile(rb"<html[^>]*\blang\s*=\s*[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)
#: Detected encodings trusted over windows-1252: those of other scripts.
_OTHER_SCRIPTS = {
    "windows-1251", "koi8-r", "koi8-u", "iso-8859-5", "cp866", "windows-1253",
    "iso-8859-7", "windows-1255", "iso-8859-8", "windows-1256", "iso-8859-6",
    "windows-874", "tis-620", "shift_jis", "euc-jp", "iso-2022-jp", "gb2312", "gbk",
    "gb18030", "big5", "euc-kr", "cp949", "cp932",
}  # fmt: skip


def declared_encoding(content_type: str | None, body: bytes) -> str | None:
    """The charset a page declares: its BOM, the HTTP header, or its ``<meta>``."""
    bom, _ = read_bom(body)
    return bom or http_content_type_encoding(content_type) or html_body_declared_encoding(body)


def _strict(body: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        codecs.lookup(encoding)
        return body.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None


def decode_html(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """The page's text and the encoding it was read with (see the module's order).

    >>> decode_html("coûte 5 €".encode("cp1252"))
    ('coûte 5 €', 'windows-1252')
    >>> decode_html("Grüße".encode("utf-8"), declared="iso-8859-1")
    ('Grüße', 'utf-8')
    >>> decode_html("L’été".encode("cp1252"), declared="utf-8")[1]
    'windows-1252'
    """
    if (text := _strict(body, "utf-8")) is not None and (not declared or not body.isascii()):
        return text, "utf-8"
    if (text := _strict(body, declared)) is not None:
        return text, declared or ""
    match = _LANG.search(body[:4096])
    legacy = LEGACY_CODE_PAGES.get(match.group(1).decode().lower()[:2]) if match else None
    if legacy and (text := _strict(body, legacy)) is not None:
        return text, legacy
    guess = (UnicodeDammit(body, is_html=True).original_encoding or "").lower()
    if guess in _OTHER_SCRIPTS and (text := _strict(body, guess)) is not None:
        return text, guess
    if (text := _strict(body, "windows-1252")) is not None:
        return text, "windows-1252"
    if (text := _strict(body, guess)) is not None:
        return text, guess
    return body.decode("windows-1252", errors="replace"), "windows-1252"
