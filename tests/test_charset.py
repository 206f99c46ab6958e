"""Reading page bytes whose charset is missing, wrong or lying (no network)."""

from __future__ import annotations

import pytest

from crawler.page.charset import declared_encoding, decode_html

FRENCH = "<html><body><p>L’été coûte 5 € : “garanti”, dit la Dr Noémie Duprè.</p></body></html>"


@pytest.mark.parametrize(
    ("text", "encoding", "declared", "read_as"),
    [
        (FRENCH, "utf-8", None, "utf-8"),
        (FRENCH, "cp1252", None, "windows-1252"),  # Scrapy's own guess: windows-1250
        (FRENCH, "cp1252", "utf-8", "windows-1252"),  # a lying declaration
        (FRENCH, "utf-8", "iso-8859-1", "utf-8"),  # UTF-8 bytes declared latin-1
        (FRENCH, "cp1252", "x-no-such-charset", "windows-1252"),
        ("<html lang='pl'><p>Zażółć gęślą jaźń</p></html>", "cp1250", None, "windows-1250"),
        (
            "<html><p>Привет, это новости о здоровье и медицине сегодня</p></html>",
            "cp1251",
            None,
            "windows-1251",
        ),  # fmt: skip
        (
            "<html lang=ja><p>これは日本語のニュース記事です。</p></html>",
            "shift_jis",
            None,
            "shift_jis",
        ),
        ("<html><p>Ελληνικά</p></html>", "cp1253", "windows-1253", "windows-1253"),
    ],
)
def test_pages_are_read_in_their_real_charset(text, encoding, declared, read_as):
    assert decode_html(text.encode(encoding), declared) == (text, read_as)


def test_something_is_always_read():
    text, encoding = decode_html(bytes(range(256)) * 4)
    assert text and encoding


def test_declared_charset_comes_from_bom_header_or_meta():
    assert declared_encoding("text/html; charset=ISO-8859-1", b"x") == "cp1252"
    assert declared_encoding(None, b"<meta charset='koi8-r'>") == "koi8-r"
    assert declared_encoding("text/html", b"\xef\xbb\xbfabc") == "utf-8"
    assert declared_encoding("text/html", b"<p>none</p>") is None
