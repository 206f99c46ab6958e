"""Page analysis on saved demo pages: no network, a fixed fetch time, known answers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from crawler.page.analysis import analyse_page
from crawler.page.html import AnalysisError
from crawler.profiles import ProfileError, load_profile, profile_from_dict
from recommender import TfidfRecommender

PAGES = Path(__file__).parent / "pages" / "demo"
BASE = "http://127.0.0.1:8799"  # where the pages were saved from
FETCHED_AT = datetime(2026, 11, 23, 12, 0)  # the demo server's clock when they were saved
PROFILE = load_profile("demo").resolve(BASE + "/")
ARTICLE_URL = (
    BASE + "/news/neurologie/le-lien-entre-la-raideur-matinale-et-la-balneotherapie"
    "-se-confirme_3561.htm"
)


def analyse(name: str, url: str, encoding: str = "utf-8"):
    html = (PAGES / name).read_bytes().decode(encoding)
    return analyse_page(html, url, PROFILE, FETCHED_AT)


def test_article_fields():
    page = analyse("article.html", ARTICLE_URL)
    article = page.article
    assert article.url == ARTICLE_URL
    assert article.title == "Le lien entre la raideur matinale et la balnéothérapie se confirme"
    assert article.lead.startswith("Ces travaux menés auprès de 2 700 participants")
    assert article.body.startswith("Un lien dose-effet apparaît entre la neuropathie")
    assert article.body.count("\n\n") >= 3  # paragraphs kept apart
    assert article.rubrique == "Neurologie"
    assert article.language == "fr"
    assert article.sources == (
        "Neurology, 2020, DOI: 10.1093/j.neurology.2020.06.889",
        "Cephalalgia, 2019, DOI: 10.1002/j.cephalalgia.2019.08.447",
    )
    assert article.theme == "Plus de 13 études sur la Fibromyalgie"
    assert article.theme_url == BASE + "/themes/fibromyalgie.htm"
    # "il y a 6 années 1 mois" before 2026-11-23
    assert article.published.value == datetime(2020, 10, 23)
    assert (article.published.source, article.published.precision) == ("relative-age", "month")


def test_related_links_in_page_order():
    links = analyse("article.html", ARTICLE_URL).related_links
    assert [(link.position, link.target_url, link.anchor_text) for link in links] == [
        (
            1,
            BASE + "/news/neurologie/la-fibromyalgie-le-role-inattendu-du-brouillard-cerebral"
            "_3207.htm",
            "La fibromyalgie : le rôle inattendu du brouillard cérébral",
        ),
        (
            2,
            BASE + "/news/neurologie/la-fibromyalgie-un-nouvel-eclairage-sur-la-raideur-matinale"
            "_3382.htm",
            "La fibromyalgie : un nouvel éclairage sur la raideur matinale",
        ),
        (
            3,
            BASE + "/news/neurologie/les-aidants-faut-il-revoir-les-recommandations_3378.htm",
            "Les aidants : faut-il revoir les recommandations ?",
        ),
        (
            4,
            BASE + "/news/neurologie/la-fibromyalgie-pourquoi-la-meditation-de-pleine"
            "-conscience-compte-autant_3172.htm",
            "La fibromyalgie : pourquoi la méditation de pleine conscience compte autant",
        ),
    ]
    first = links[0]
    assert first.displayed_age == "Actualité publiée il y a 9 années 1 mois"
    assert first.heading == "Autres actualités sur le même thème"
    assert first.target_published.value == datetime(2017, 10, 23)
    assert first.target_published.precision == "month"


def test_related_block_never_reaches_the_text():
    page = analyse("article.html", ARTICLE_URL)
    text = page.article.text
    for link in page.related_links:
        assert link.anchor_text not in text
    assert "Autres actualités" not in text
    assert "Sources" not in text and "DOI" not in text
    assert "Plus de 13 études" not in text


def block_inside_body(html: str) -> str:
    """The page with its related block moved inside the body container, where the body
    selector would pick up its text unless the analysis takes the block out first."""
    block_start, block_end = html.index('<aside class="related-news">'), html.index("</aside>") + 8
    block = html[block_start:block_end].replace("<li>", "<li><p>").replace("</li>", "</p></li>")
    html = html[:block_start] + html[block_end:]
    return html.replace('<div class="news-body">', '<div class="news-body">' + block, 1)


def test_related_block_inside_the_body_is_still_kept_out():
    html = block_inside_body((PAGES / "article.html").read_text("utf-8"))
    page = analyse_page(html, ARTICLE_URL, PROFILE, FETCHED_AT)
    assert len(page.related_links) == 4
    for link in page.related_links:
        assert link.anchor_text not in page.article.body


def test_leakage_guard_anchor_texts_never_reach_the_vectoriser():
    """Fit on analysed pages whose related anchors carry unique words: none is learned."""
    html = block_inside_body((PAGES / "article.html").read_text("utf-8"))
    pages = []
    for n in range(3):
        marked = html.replace(
            "La fibromyalgie : le rôle inattendu du brouillard cérébral",
            f"Zzfuiteancre{n} brouillard",
        ).replace(ARTICLE_URL.removeprefix(BASE), f"/news/neurologie/copie_{n}.htm")
        url = f"{BASE}/news/neurologie/copie_{n}.htm"
        pages.append(analyse_page(marked, url, PROFILE, FETCHED_AT))
    assert all(p.related_links[0].anchor_text.startswith("Zzfuiteancre") for p in pages)
    model = TfidfRecommender(max_df=1.0).fit([p.article for p in pages])
    vocabulary = model.vectorizer_.vocabulary_
    assert not [term for term in vocabulary if term.startswith("zzfuiteancre")]
    assert "balneotherapie" in vocabulary  # the article's own words are there


def test_windows_1252_page():
    url = (
        BASE
        + "/news/dermatologie/comment-l-intelligence-artificielle-modifie-les-peaux"
        + "-claires_3331.htm"
    )
    page = analyse("article-windows-1252.html", url, encoding="cp1252")
    assert page.article.title == "Comment l’intelligence artificielle modifie les peaux claires"
    assert "é" in page.article.body
    # lxml reads the declared charset itself when given bytes
    from_bytes = analyse_page(
        (PAGES / "article-windows-1252.html").read_bytes(), url, PROFILE, FETCHED_AT
    )
    assert from_bytes.article == page.article


def test_dead_link_is_still_a_related_link():
    url = (
        BASE + "/news/infectiologie/l-oseltamivir-l-effet-du-port-du-masque-mieux-compris_3211.htm"
    )
    links = analyse("article-dead-link.html", url).related_links
    assert len(links) == 4
    assert links[-1].anchor_text  # the 404 target is kept, as the editors showed it


def test_oldest_article_has_no_block():
    url = BASE + "/news/sommeil/les-hypnotiques-l-effet-de-la-melatonine-mieux-compris_2877.htm"
    page = analyse("article-oldest.html", url)
    assert page.article is not None
    assert page.related_links == ()


def test_listing_is_not_an_article_but_gives_links():
    page = analyse("listing.html", BASE + "/news/neurologie/?page=2")
    assert page.article is None
    assert page.related_links == ()
    assert BASE + "/news/neurologie/?page=3" in page.links
    articles = [link for link in page.links if PROFILE.is_article_url(link)]
    assert len(articles) == 10


def test_same_input_same_output():
    assert analyse("article.html", ARTICLE_URL) == analyse("article.html", ARTICLE_URL)


@pytest.mark.parametrize("html", ["", "   ", b""])
def test_empty_page_is_a_clear_error(html):
    with pytest.raises(AnalysisError, match="empty"):
        analyse_page(html, ARTICLE_URL, PROFILE, FETCHED_AT)


def test_broken_html_still_reads():
    html = (PAGES / "article.html").read_text("utf-8")
    broken = html[: len(html) // 2]  # cut mid-page, as a dropped connection would
    page = analyse_page(broken, ARTICLE_URL, PROFILE, FETCHED_AT)
    assert page.article.title.startswith("Le lien entre la raideur matinale")


def test_profile_errors_are_clear(tmp_path):
    with pytest.raises(ProfileError, match="unknown profile keys"):
        profile_from_dict({"name": "x", "start_url": ["/"]})
    with pytest.raises(ProfileError, match="bad URL pattern"):
        profile_from_dict({"name": "x", "article_url_pattern": "("})
    with pytest.raises(ProfileError, match="--url"):
        load_profile("demo").resolve(None)
    bad = tmp_path / "bad.toml"
    bad.write_text("name = ")
    with pytest.raises(ProfileError, match="bad.toml"):
        load_profile(bad)
