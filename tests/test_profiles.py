"""Every built-in profile loads; the seed site's profile reads a page of the seed's shape."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from crawler.page.analysis import analyse_page
from crawler.profiles import builtin_profiles, load_profile

PAGES = Path(__file__).parent / "pages" / "demo"


@pytest.mark.parametrize("name", sorted(builtin_profiles()))
def test_builtin_profile_loads(name):
    profile = load_profile(name)
    assert profile.name == name
    assert profile.description


def test_santelog_profile_reads_a_page_of_the_seed_shape():
    # The demo pages follow the seed site's shape; served from santelog's address.
    html = (
        (PAGES / "article.html")
        .read_text("utf-8")
        .replace("http://127.0.0.1:8799", "https://www.santelog.com")
    )
    url = (
        "https://www.santelog.com/news/neurologie/le-lien-entre-la-raideur-matinale-et-la"
        "-balneotherapie-se-confirme_3561.htm"
    )
    profile = load_profile("santelog").resolve(None)
    page = analyse_page(html, url, profile, datetime(2026, 11, 23, 12, 0))
    assert (
        page.article.title == "Le lien entre la raideur matinale et la balnéothérapie se confirme"
    )
    assert [link.position for link in page.related_links] == [1, 2, 3, 4]
    assert all(
        link.target_url.startswith("https://www.santelog.com/news/") for link in page.related_links
    )
    assert page.related_links[0].displayed_age == "Actualité publiée il y a 9 années 1 mois"
    assert page.related_links[0].target_published.value == datetime(2017, 10, 23)
    for link in page.related_links:
        assert link.anchor_text not in page.article.body
    assert not profile.is_article_url("https://www.santelog.com/news/neurologie/")
