"""Generic mode on page shapes and scripts no profile was written for: pages the project
writes itself, analysed offline as the spider would."""

from __future__ import annotations

from datetime import datetime

import pytest

from crawler.page.analysis import analyse_page
from crawler.page.html import word_count
from crawler.profiles import load_profile

FETCHED_AT = datetime(2024, 3, 15, 12, 0)
SITE = "https://blog.example"

PROSE_ZH = (
    "<p>这篇文章记录了我在阳台上种植番茄的全过程，从选种、育苗到移栽，每一步都遇到了不少问题。"
    "北向的阳台光照不足，所以我尝试了补光灯和反光板，效果比预想的要好很多。</p>"
    "<p>到了夏天，番茄开始结果，但是也出现了裂果和病虫害。下面总结一下经验，希望对大家有帮助。</p>"
)


def analyse(html: str, url: str):
    return analyse_page(html, url, load_profile("generic").resolve(url), FETCHED_AT)


def page(main: str, aside: str = "", title: str = "阳台种番茄的一年") -> str:
    return (
        f"<html><head><title>{title}</title></head><body>"
        f"<header><a href='/'>首页</a> <a href='/archives/'>归档</a></header>"
        f"<main><article><h1>{title}</h1>{main}</article></main>"
        f"<aside>{aside}</aside><footer>© 2024</footer></body></html>"
    )


def test_word_count_reads_scripts_without_spaces():
    assert word_count("Growing tomatoes, year two") == 4
    assert word_count("阳台种番茄的一年") == 4  # 8 characters, about 2 to a word
    assert word_count("Hexo博客添加相关推荐") == 1 + 4


def test_chinese_card_with_a_chinese_heading():
    card = (
        "<div class='card'><div class='headline'><i></i><span>相关推荐</span></div><div>"
        + "".join(
            f"<div class='item'><a href='/posts/{n}/'><img src='/t/{n}.jpg' alt='{t}'></a>"
            f"<div><a href='/posts/{n}/'>{t}</a><time>2023-0{n}-01</time></div></div>"
            for n, t in ((1, "阳台种辣椒的经验"), (2, "北向阳台适合种什么"), (3, "自制滴灌系统"))
        )
        + "</div></div>"
    )
    result = analyse(page(PROSE_ZH, card), f"{SITE}/posts/9/")
    assert result.article is not None
    assert [link.target_url for link in result.related_links] == [
        f"{SITE}/posts/1/", f"{SITE}/posts/2/", f"{SITE}/posts/3/",
    ]  # fmt: skip
    assert [link.anchor_text for link in result.related_links][0] == "阳台种辣椒的经验"
    assert {link.heading for link in result.related_links} == {"相关推荐"}
    assert "自制滴灌系统" not in result.article.body


@pytest.mark.parametrize("heading", ["参照", "참고", "Siehe auch", "Читайте также", "Vedi anche"])
def test_headings_in_other_languages(heading):
    block = (
        f"<div><h3>{heading}</h3><ul>"
        "<li><a href='/docs/mod_proxy.html'>mod_proxy</a></li>"
        "<li><a href='/docs/mod_cache.html'>mod_cache</a></li></ul></div>"
    )
    result = analyse(page(PROSE_ZH, block), f"{SITE}/docs/mod_rewrite.html")
    assert [link.target_url for link in result.related_links] == [
        f"{SITE}/docs/mod_proxy.html", f"{SITE}/docs/mod_cache.html",
    ]  # fmt: skip
    assert {link.heading for link in result.related_links} == {heading}
