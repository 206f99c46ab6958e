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


def teaser(n: int) -> str:
    return (
        f"<article class='post-{n} post tag-travel'><h2><a href='/2023/05/post-{n}/'>"
        f"A week on the night trains, part {n}</a></h2><div class='time'>05/0{n}/23</div>"
        f"<p>Short excerpt of the post number {n}, a line or two of its opening paragraph "
        "to make the reader click through.</p></article>"
    )


def listing_page(title: str, count: int, extra: str = "") -> str:
    items = "".join(teaser(n) for n in range(1, count + 1))
    return (
        f"<html><head><title>{title}</title></head><body><header><a href='/'>Home</a>"
        f"</header><main><h1>{title}</h1>{items}{extra}</main><footer>(c)</footer></body></html>"
    )


def test_a_tag_page_is_not_an_article():
    result = analyse(listing_page("Tag Archives: travel", 4), f"{SITE}/tag/travel/")
    assert result.article is None
    assert result.related_links == ()
    assert f"{SITE}/2023/05/post-3/" in result.links  # followed all the same


def test_a_paginated_category_page_is_not_an_article_even_without_telling_urls():
    pager = "<nav><a href='/c/trains/2/'>2</a> <a href='/c/trains/3/'>3</a></nav>"
    result = analyse(listing_page("Trains", 6, pager), f"{SITE}/c/trains/2/")
    assert result.article is None
    assert f"{SITE}/c/trains/3/" in result.links


def test_a_declared_collection_page_is_not_an_article():
    ld = '<script type="application/ld+json">{"@type": "CollectionPage", "name": "x"}</script>'
    html = listing_page("Trains", 1).replace("</head>", ld + "</head>")
    assert analyse(html, f"{SITE}/trains").article is None


def test_an_article_with_a_list_of_recent_posts_is_still_an_article():
    recent = (
        "<aside><ul>"
        + "".join(
            f"<li><a href='/2023/05/post-{n}/'>A week on the night trains, part {n}</a></li>"
            for n in range(1, 8)
        )
        + "</ul></aside>"
    )
    prose = "".join(
        f"<p>Paragraph {n} of the article tells how the sleeper left at nine and how the "
        "conductor woke everyone at dawn with coffee and the border papers.</p>"
        for n in range(4)
    )
    html = (
        "<html><head><title>Night train to Vienna</title></head><body><main><article>"
        f"<h1>Night train to Vienna</h1>{prose}</article></main>{recent}</body></html>"
    )
    assert analyse(html, f"{SITE}/2023/06/night-train-to-vienna/").article is not None


DOCS = "https://docs.example"
PROSE_EN = "".join(
    f"<p>Paragraph {n} explains how the module caches responses on disk, which headers it "
    "honours and what an operator must set before it serves a single cached page.</p>"
    for n in range(4)
)


def docs_page(title: str, main: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body>"
        "<div class='top'><a href='/en/mod/'>Modules</a> <a href='/en/faq/'>FAQ</a></div>"
        f"<div id='content'><h1>{title}</h1>{main}</div></body></html>"
    )


def test_a_block_of_table_rows_with_descriptions_is_found_and_kept_out_of_the_body():
    rows = "".join(
        f"<tr><td><a href='mod_{name}.html'>mod_{name}</a></td>"
        f"<td>Serves {name} for the server, with the directives that set it up</td></tr>"
        for name in ("cache", "proxy", "rewrite")
    )
    html = docs_page("mod_alias", f"{PROSE_EN}<h2>See also</h2><table>{rows}</table>")
    result = analyse(html, f"{DOCS}/en/mod/mod_alias.html")
    assert [link.target_url for link in result.related_links] == [
        f"{DOCS}/en/mod/mod_{name}.html" for name in ("cache", "proxy", "rewrite")
    ]
    assert [link.anchor_text for link in result.related_links][0] == "mod_cache"
    assert result.article is not None
    assert "directives that set it up" not in result.article.body
    assert "Paragraph 3 explains" in result.article.body


def test_a_definition_list_of_names_and_descriptions_is_an_index_not_an_article():
    entries = "".join(
        f"<dt><a href='mod_{name}.html'>mod_{name}</a></dt>"
        f"<dd>Provides {name} support for the server and the directives that set it up</dd>"
        for name in ("cache", "proxy", "rewrite", "alias", "status", "info", "dir", "env")
    )
    result = analyse(docs_page("Modules", f"<dl>{entries}</dl>"), f"{DOCS}/en/mod/overview.html")
    assert result.article is None
    assert f"{DOCS}/en/mod/mod_cache.html" in result.links


def test_a_folders_index_page_is_not_an_article_but_a_page_of_the_folder_is():
    # each chapter is described by a paragraph, as on a manual's table of contents
    chapters = "".join(
        f"<p>The guide to {name} tells how to set it up, step by step, with examples of the "
        f"configuration. See: <a href='{name}.html'>{name.title()} how-to</a></p>"
        for name in ("auth", "cgi", "ssi", "htaccess", "userdirs", "proxy")
    )
    index = analyse(docs_page("How-To / Tutorials", chapters), f"{DOCS}/en/howto/")
    assert index.article is None
    assert f"{DOCS}/en/howto/auth.html" in index.links
    chapter = analyse(docs_page("Authentication", PROSE_EN), f"{DOCS}/en/howto/auth.html")
    assert chapter.article is not None


def test_an_article_under_a_menu_of_short_links_is_still_an_article():
    # a site menu built of <div>s and <li>s (no <nav>): one or two words an entry, each
    # with its submenu, is not a run of teasers
    menu = (
        "<div class='mainnav'><ul>"
        + "".join(
            f"<li><a href='/{section}/'>{section.title()}</a><ul>"
            + "".join(f"<li><a href='/{section}/{n}/'>Part {n}</a></li>" for n in range(1, 8))
            + "</ul></li>"
            for section in ("swimming", "diving", "water-polo", "masters", "fitness", "club")
        )
        + "</ul></div>"
    )
    html = (
        "<html><head><title>New coach for the team</title></head><body>"
        f"{menu}<div class='content'><h1>New coach for the team</h1>"
        "<p>The federation named its new head coach on Monday, after a search that took "
        "most of the winter and two rounds of interviews.</p></div></body></html>"
    )
    assert analyse(html, f"{SITE}/news/read/new-coach-for-the-team").article is not None


def test_the_site_name_after_a_title_is_taken_off():
    prose = "".join(
        f"<p>Paragraph {n} of the story, long enough to be read as text.</p>" for n in range(3)
    )
    html = (
        "<html><head><title>Night trains return | Rail Weekly</title>"
        "<meta property='og:title' content='Night trains return | Rail Weekly'></head><body>"
        f"<main><article><h1>Night trains return</h1>{prose}</article></main></body></html>"
    )
    result = analyse(html, f"{SITE}/2024/03/night-trains-return/")
    assert result.article.title == "Night trains return"
