"""Generic page analysis on hand-written pages: metadata with the source of each date,
related blocks found by heading, name or shape (and never navigation), and the main text
without them. No network, a fixed fetch time."""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import lxml.html
import pytest

from crawler.page.analysis import analyse_page
from crawler.page.generic import analyse_generic
from crawler.page.html import parse_html
from crawler.profiles import load_profile
from warehouse.model import DateValue

PAGES = Path(__file__).parent / "pages" / "generic"
FETCHED_AT = datetime(2024, 3, 15, 12, 0)
URLS = {
    "news-fr.html": "https://journal.example/sante/2024/03/12/velo-en-ville-fatigue-chronique/",
    "blog-en.html": "https://balcony.example/2023/06/04/growing-tomatoes-north-facing-balcony/",
    "conflicting-dates.html": (
        "https://rivers.example/2019/03/10/river-levels-fall-after-the-dry-spring/"
    ),
    "structural.html": "https://rail.example/travel/night-trains-return-to-the-northern-line-4421/",
    "navigation-only.html": (
        "https://city.example/news/council-approves-the-new-library-budget-104/"
    ),
    "docs-relatedtopics.html": "http://127.0.0.1:8000/help/fr/text/calc/guide/export_csv.html",
    "docs-seealso.html": "http://127.0.0.1:8000/docs/sql-archivetable.html",
}


def analyse(name: str):
    """The generic analysis of a saved page, as the spider would run it."""
    url = URLS[name]
    html = (PAGES / name).read_text("utf-8")
    return analyse_page(html, url, load_profile("generic").resolve(url), FETCHED_AT)


def analyse_tree(name: str):
    """``analyse_generic`` on a parsed page; returns the tree too, to inspect it after."""
    url = URLS[name]
    root = parse_html((PAGES / name).read_text("utf-8"))
    base = url
    for href in root.xpath("//base/@href")[:1]:
        base = lxml.html.urljoin(url, href)
    article, links = analyse_generic(
        root, url, base, load_profile("generic").resolve(url), FETCHED_AT
    )
    return root, article, links


def test_news_page_metadata():
    article = analyse("news-fr.html").article
    # og:title says "... | Le Journal des Rivières": the site's name is not the title.
    assert article.title == "Le vélo en ville réduit la fatigue chronique"
    assert (
        article.lead == "Une étude menée dans quatre villes suit 1 200 cyclistes pendant deux ans."
    )
    # JSON-LD's NewsArticle wins over the page's other dates; 08:30+01:00 is 07:30 UTC.
    assert article.published == DateValue(datetime(2024, 3, 12, 7, 30), "json-ld", "exact", 60)
    assert article.modified == DateValue(datetime(2024, 3, 13, 16, 5), "json-ld", "exact", 60)
    assert article.author == "Claire Fontaine, Hugo Marchal"
    assert article.language == "fr"
    assert article.tags == ("vélo", "fatigue chronique", "mobilité")
    assert article.rubrique == "Santé"
    assert article.canonical_url == URLS["news-fr.html"]
    assert article.date_conflicts == ()
    assert article.body.startswith("Pendant deux ans, une équipe de chercheurs")
    assert article.body.count("\n\n") == 3  # four paragraphs


def test_news_page_related_block_by_heading():
    links = analyse("news-fr.html").related_links
    assert [(link.position, link.target_url, link.anchor_text) for link in links] == [
        (
            1,
            "https://journal.example/sante/2024/02/27/marcher-apres-le-repas-aide-a-dormir/",
            "Marcher après le repas aide-t-il vraiment à mieux dormir ?",
        ),
        (
            2,
            "https://journal.example/sport/2024/03/01/le-retour-des-velos-cargo/",
            "Le retour en force des vélos cargo dans les centres-villes",
        ),
        (
            3,  # the fragment is not part of the target
            "https://journal.example/sante/2023/11/05/la-fatigue-des-soignants-en-hausse/",
            "La fatigue des soignants en hausse depuis trois ans",
        ),
    ]
    assert {link.heading for link in links} == {"À lire aussi"}
    assert links[1].displayed_age == "il y a 14 jours"
    assert links[1].target_published == DateValue(datetime(2024, 3, 1), "relative-age", "day")
    assert links[2].displayed_age == "il y a 4 mois"
    assert links[2].target_published.precision == "month"


@pytest.mark.parametrize(
    ("head", "url", "expected"),
    [
        (
            '<script type="application/ld+json">{"@type": "Article",'
            ' "datePublished": "2021-05-06T10:00:00Z"}</script>',
            "https://site.example/a/",
            DateValue(datetime(2021, 5, 6, 10), "json-ld", "exact", 0),
        ),
        (
            '<meta property="article:published_time" content="2021-05-06">',
            "https://site.example/a/",
            DateValue(datetime(2021, 5, 6), "opengraph", "day"),
        ),
        (
            '<meta name="DC.date.issued" content="2021-05-06T10:00:00+02:00">',
            "https://site.example/a/",
            DateValue(datetime(2021, 5, 6, 8), "meta", "exact", 120),
        ),
        (
            '<meta name="parsely-pub-date" content="Thu, 06 May 2021 10:00:00 +0000">',
            "https://site.example/a/",
            DateValue(datetime(2021, 5, 6, 10), "meta", "exact", 0),
        ),
        ("", "https://site.example/2021/05/06/a/", DateValue(datetime(2021, 5, 6), "url", "day")),
        ("", "https://site.example/2021-05-06/a/", DateValue(datetime(2021, 5, 6), "url", "day")),
        ("", "https://site.example/2021/05/a/", DateValue(datetime(2021, 5, 1), "url", "month")),
        (
            # A placeholder date says nothing.
            '<script type="application/ld+json">{"@type": "NewsArticle",'
            ' "datePublished": "0001-01-01T00:00:00Z"}</script>',
            "https://site.example/a/",
            None,
        ),
    ],
)
def test_each_date_source(head, url, expected):
    html = (
        f"<html><head><title>A title</title>{head}</head><body><article><h1>A title</h1>"
        f"<p>{'Some words of text in a paragraph. ' * 12}</p></article></body></html>"
    )
    article = analyse_page(html, url, load_profile("generic").resolve(url), FETCHED_AT).article
    assert article.published == expected


def test_time_element_in_the_article_header():
    html = (
        "<html><head><title>A title</title></head><body>"
        '<aside><time datetime="2020-01-01">old teaser</time></aside><article><header>'
        '<h1>A title</h1><time datetime="2021-05-06T10:00:00Z">6 May</time></header>'
        f"<p>{'Some words of text in a paragraph. ' * 12}</p></article></body></html>"
    )
    url = "https://site.example/a/"
    article = analyse_page(html, url, load_profile("generic").resolve(url), FETCHED_AT).article
    assert article.published == DateValue(datetime(2021, 5, 6, 10), "time", "exact", 0)


def test_conflicting_dates_are_flagged():
    article = analyse("conflicting-dates.html").article
    # 23:30 on the 12th in New York (the 13th in UTC) is a few hours from the meta tag's
    # 10:00 UTC on the 12th: no conflict; two days from the URL's 10th is, shown on the
    # page's own calendar.
    published = article.published
    assert published == DateValue(datetime(2019, 3, 13, 4, 30), "json-ld", "exact", -300)
    assert article.modified == DateValue(datetime(2019, 3, 20, 8), "json-ld", "exact", 0)
    assert article.date_conflicts == (
        "published: json-ld 2019-03-12 != url 2019-03-10",
        "modified: json-ld 2019-03-20 != opengraph 2019-04-30",
    )
    assert article.author == "Lee Park"


def test_blog_related_block_named_by_its_class():
    page = analyse("blog-en.html")
    assert [(link.anchor_text, link.heading) for link in page.related_links] == [
        ("Building a cheap self-watering planter", None),
        ("Which herbs survive in deep shade?", None),
        ("Saving tomato seeds the easy way", None),
    ]
    assert page.related_links[1].displayed_age == "3 days ago"
    assert page.related_links[1].target_published == DateValue(
        datetime(2024, 3, 12), "relative-age", "day"
    )
    article = page.article
    assert article.title == "Growing tomatoes on a north-facing balcony"
    assert article.lead == ""  # og:description only repeats the title
    assert article.published == DateValue(datetime(2023, 6, 4), "opengraph", "day")
    assert article.modified == DateValue(datetime(2023, 6, 10, 9), "opengraph", "exact", 0)
    assert article.author == "Sam Okafor"
    assert article.tags == ("tomatoes", "balcony", "shade")


def test_structural_list_without_heading():
    page = analyse("structural.html")
    assert [link.target_url for link in page.related_links] == [
        "https://rail.example/travel/sleeper-cabins-through-the-decades-in-pictures-4410/",
        "https://rail.example/business/rail-operator-posts-first-profit-since-2015-4398/",
        "https://rail.example/travel/how-to-sleep-well-on-an-overnight-train-4377/",
    ]
    assert page.related_links[0].anchor_text == "Sleeper cabins through the decades, in pictures"
    assert {link.heading for link in page.related_links} == {None}
    # The sidebar's "Latest" list has a title of its own: it is not the related block.
    assert page.article.published == DateValue(datetime(2024, 1, 8, 6, 15), "meta", "exact")


def test_navigation_footer_pagination_and_share_lists_are_not_related():
    page = analyse("navigation-only.html")
    assert page.article is not None
    assert page.related_links == ()
    # Their links are still followed by the crawler.
    assert "https://city.example/news/how-the-city-spends-its-money-explained-201/" in page.links


def test_docs_page_shaped_like_libreoffice_help():
    page = analyse("docs-relatedtopics.html")
    # <base href="../../../../"> makes the links relative to the help's root.
    assert [(link.target_url, link.anchor_text, link.heading) for link in page.related_links] == [
        (
            "http://127.0.0.1:8000/help/fr/text/calc/guide/import_csv.html",
            "Importer un fichier CSV",
            "Rubriques connexes",
        ),
        (
            "http://127.0.0.1:8000/help/fr/text/shared/guide/jeux_caracteres.html",
            "Jeux de caractères",
            "Rubriques connexes",
        ),
    ]
    # The embedded link in the page's own text is not part of the block.
    assert page.article.title == "Exporter une feuille au format CSV"
    assert page.article.language == "fr"


def test_docs_page_shaped_like_postgresql_see_also_with_one_link():
    page = analyse("docs-seealso.html")
    assert [(link.target_url, link.anchor_text, link.heading) for link in page.related_links] == [
        ("http://127.0.0.1:8000/docs/sql-restore-archive.html", "RESTORE ARCHIVE", "See Also")
    ]
    assert page.article.title == "ARCHIVE TABLE"
    assert "moves every row older than the given timestamp" in page.article.body


@pytest.mark.parametrize("name", sorted(URLS))
def test_block_text_never_reaches_the_article(name):
    page = analyse(name)
    article = page.article
    assert article is not None
    text = " ".join(re.findall(r"\w+", f"{article.lead} {article.body}".lower()))
    for link in page.related_links:
        anchor = " ".join(re.findall(r"\w+", link.anchor_text.lower()))
        assert anchor not in text, f"{name}: {link.anchor_text!r} leaked into the article"


@pytest.mark.parametrize("name", sorted(URLS))
def test_blocks_are_taken_out_of_the_tree(name):
    root, _article, links = analyse_tree(name)
    remaining = lxml.html.tostring(root, encoding="unicode")
    for link in links:
        assert link.anchor_text not in remaining, f"{name}: {link.anchor_text!r} still in the tree"
    if name == "docs-relatedtopics.html":
        assert not root.xpath("//*[@class='relatedtopics']")
        assert root.xpath("//a[@href='fr/text/calc/guide/options_export.html']")


@pytest.mark.parametrize("name", sorted(URLS))
def test_analysis_is_deterministic(name):
    html = (PAGES / name).read_text("utf-8")
    url = URLS[name]
    profile = load_profile("generic").resolve(url)
    root = parse_html(html)
    first = analyse_generic(copy.deepcopy(root), url, url, profile, FETCHED_AT)
    second = analyse_generic(copy.deepcopy(root), url, url, profile, FETCHED_AT)
    assert first == second
    assert analyse_page(html, url, profile, FETCHED_AT) == analyse_page(
        html, url, profile, FETCHED_AT
    )


def test_through_analyse_page_with_the_generic_profile():
    url = URLS["news-fr.html"]
    html = (PAGES / "news-fr.html").read_text("utf-8")
    page = analyse_page(html, url, load_profile("generic").resolve(url), FETCHED_AT)
    assert page.url == url
    assert page.article.url == url  # the canonical link, on the same host
    assert len(page.related_links) == 3
    # The related targets are still links to follow, once and without their fragment.
    for link in page.related_links:
        assert page.links.count(link.target_url) == 1
    assert "https://journal.example/sante/" in page.links
    assert "la fatigue des soignants" not in page.article.text.lower()


def test_a_page_without_main_text_is_no_article():
    url = "https://site.example/empty/"
    html = (
        "<html><head><title>Only a title</title></head>"
        "<body><nav><a href='/'>Home</a></nav></body></html>"
    )
    page = analyse_page(html, url, load_profile("generic").resolve(url), FETCHED_AT)
    assert page.article is None
    assert page.related_links == ()


def test_generic_detection_matches_the_demo_profile_on_a_demo_page():
    base = "http://127.0.0.1:8799"
    url = (
        base + "/news/neurologie/le-lien-entre-la-raideur-matinale-et-la-balneotherapie"
        "-se-confirme_3561.htm"
    )
    html = (Path(__file__).parent / "pages" / "demo" / "article.html").read_text("utf-8")
    fetched_at = datetime(2026, 11, 23, 12, 0)
    generic = analyse_page(html, url, load_profile("generic").resolve(base + "/"), fetched_at)
    demo = analyse_page(html, url, load_profile("demo").resolve(base + "/"), fetched_at)
    assert len(generic.related_links) == 4
    # Same targets, anchors, positions, displayed ages and heading as the site's selectors,
    # found by its heading where the profile's selectors say.
    assert [replace(link, found_by=None, confidence=None) for link in generic.related_links] == [
        replace(link, found_by=None, confidence=None) for link in demo.related_links
    ]
    assert {(link.found_by, link.confidence) for link in generic.related_links} == {
        ("heading", 0.9)
    }
    assert {(link.found_by, link.confidence) for link in demo.related_links} == {("profile", 1.0)}
