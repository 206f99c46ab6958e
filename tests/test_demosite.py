"""The demo site: its content, its pages and its planted faults, over real HTTP."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from email.message import Message
from xml.etree import ElementTree

import pytest
from lxml import html as lxml_html

from demosite import DemoServer, DemoSite, build_site, relative_age
from demosite.__main__ import main as demosite_main

NOW = datetime(2026, 11, 23, 12, 0, 0)


@pytest.fixture(scope="module")
def site() -> DemoSite:
    return build_site()


@pytest.fixture(scope="module")
def server(site: DemoSite):
    # A fixed clock makes the displayed ages exact.
    with DemoServer(host="127.0.0.1", port=0, site=site, clock=lambda: NOW) as running:
        yield running


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # let the 301 surface as an HTTPError


def fetch(url: str, follow: bool = True) -> tuple[int, Message, bytes, str]:
    """(status, headers, body, final URL) of a GET, errors included."""
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.headers, response.read(), response.geturl()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read(), url


def get_page(server: DemoServer, path: str) -> tuple[Message, str]:
    status, headers, body, _ = fetch(server.base_url + path)
    assert status == 200, path
    return headers, body.decode(headers.get_content_charset())


def related_paths(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    return tree.xpath('//aside[@class="related-news"]//li/a/@href')


# --- relative ages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "now", "expected"),
    [
        (datetime(2018, 7, 10, 9), NOW, "il y a 8 années 4 mois"),
        (datetime(2025, 11, 23, 10), NOW, "il y a 1 année"),
        (datetime(2024, 11, 1), NOW, "il y a 2 années"),
        (datetime(2025, 10, 1), NOW, "il y a 1 année 1 mois"),
        (datetime(2026, 7, 23, 8), NOW, "il y a 4 mois"),
        (datetime(2026, 11, 1, 8), NOW, "il y a 22 jours"),
        (datetime(2026, 11, 22, 8), NOW, "il y a 1 jour"),
        (datetime(2026, 11, 23, 8), NOW, "il y a 0 jour"),
        # A month counts only once the same day and hour of the month is reached.
        (datetime(2024, 1, 31, 12), datetime(2024, 2, 29, 12), "il y a 29 jours"),
        (datetime(2020, 3, 15, 18), datetime(2021, 3, 15, 17), "il y a 11 mois"),
        (datetime(2020, 3, 15, 18), datetime(2021, 3, 15, 18), "il y a 1 année"),
        (NOW + timedelta(days=3), NOW, "il y a 0 jour"),
    ],
)
def test_relative_age(published: datetime, now: datetime, expected: str) -> None:
    assert relative_age(published, now) == expected


# --- content ----------------------------------------------------------------------


def test_same_seed_same_site(site: DemoSite) -> None:
    assert build_site() == site
    assert build_site(7) == build_site(7)
    assert build_site(7) != site


def test_counts_and_dates(site: DemoSite) -> None:
    assert len(site.articles) >= 300
    assert len(site.rubriques) >= 12
    for rubrique in site.rubriques:
        assert len([t for t in site.themes if t.rubrique == rubrique.slug]) >= 3
        assert len(site.rubrique_articles(rubrique.slug)) >= 15
    dates = sorted(a.published for a in site.articles)
    assert dates[0] < datetime(2016, 1, 1) and dates[-1] > datetime(2024, 6, 30)
    assert dates[-1] - dates[0] > timedelta(days=9 * 365)
    assert all(a.published.tzinfo is None for a in site.articles)
    # Every year of the span has articles: spread, not bunched.
    assert {d.year for d in dates} >= set(range(2015, 2026))


def test_identities_are_unique_and_well_formed(site: DemoSite) -> None:
    assert len({a.id for a in site.articles}) == len(site.articles)
    assert len({a.path for a in site.articles}) == len(site.articles)
    assert len({a.title for a in site.articles}) == len(site.articles)
    for article in site.articles:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", article.slug)
        assert article.path == f"/news/{article.rubrique}/{article.slug}_{article.id}.htm"
        assert site.theme(article.theme).rubrique == article.rubrique
        assert 4 <= len(article.paragraphs) <= 7
        assert 1 <= len(article.sources) <= 3
    # Titles come from many templates, not one.
    openings = {" ".join(a.title.split()[:1]) for a in site.articles}
    assert len(openings) > 20


def test_related_targets_are_older(site: DemoSite) -> None:
    faults = site.faults
    by_age = sorted(site.articles, key=lambda a: a.published)
    for index, article in enumerate(by_age):
        assert len(article.related) == min(4, index)
        for item in article.related:
            if item.path == faults.dead_path:
                continue
            target = site.article_by_path(
                faults.redirect_to if item.path == faults.redirect_from else item.path
            )
            assert target is not None, item.path
            assert target.published < article.published
            assert target.title == item.title
        paths = [item.path for item in article.related]
        assert len(set(paths)) == len(paths)


def test_related_are_mostly_same_theme_but_not_the_latest(site: DemoSite) -> None:
    same = cross = total = latest = 0
    for article in site.articles:
        targets = [site.article_by_path(i.path) for i in article.related]
        targets = [t for t in targets if t is not None]
        total += len(targets)
        same += sum(t.theme == article.theme for t in targets)
        cross += sum(t.rubrique != article.rubrique for t in targets)
        older_same = [
            a for a in site.theme_articles(article.theme) if a.published < article.published
        ]
        if len(older_same) > 6 and {t.path for t in targets} == {a.path for a in older_same[:4]}:
            latest += 1
    assert 0.55 < same / total < 0.85
    assert cross / total > 0.05
    assert latest <= 2  # editors do not just take the newest of the theme


# --- pages over HTTP ----------------------------------------------------------------


def test_robots_txt(server: DemoServer) -> None:
    status, headers, body, _ = fetch(server.url + "robots.txt")
    assert status == 200
    assert headers.get_content_type() == "text/plain"
    assert body.decode() == (
        f"User-agent: *\nDisallow: /admin/\nSitemap: http://127.0.0.1:{server.port}/sitemap.xml\n"
    )


def test_sitemap_lists_every_article(server: DemoServer, site: DemoSite) -> None:
    status, _, body, _ = fetch(server.url + "sitemap.xml")
    assert status == 200
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ElementTree.fromstring(body)
    entries = {
        url.findtext("sm:loc", namespaces=ns): url.findtext("sm:lastmod", namespaces=ns)
        for url in root.findall("sm:url", ns)
    }
    assert entries == {
        server.base_url + a.path: a.published.isoformat(timespec="seconds") + "+00:00"
        for a in site.articles
    }


def test_home_links_rubriques_and_newest(server: DemoServer, site: DemoSite) -> None:
    _, page = get_page(server, "/")
    links = set(lxml_html.fromstring(page).xpath("//main//a/@href"))
    assert {r.path for r in site.rubriques} <= links
    assert {a.path for a in site.newest(20)} <= links
    assert site.newest()[20].path not in links


def test_listing_paginates_newest_first(server: DemoServer, site: DemoSite) -> None:
    rubrique = site.rubriques[3]
    expected = [a.path for a in site.rubrique_articles(rubrique.slug)]
    assert len(expected) > 20
    seen: list[str] = []
    path = rubrique.path
    page_number = 1
    while path:
        _, page = get_page(server, path)
        tree = lxml_html.fromstring(page)
        items = tree.xpath('//ul[@class="news-list"]/li/a/@href')
        assert len(items) == 10 or not tree.xpath('//a[@rel="next"]')
        seen += items
        next_links = tree.xpath('//a[@class="next"][@rel="next"]/@href')
        if next_links:
            page_number += 1
            assert next_links == [f"{rubrique.path}?page={page_number}"]
            assert (
                f'<a class="next" rel="next" href="{rubrique.path}?page={page_number}">'
                "Page suivante</a>" in page
            )
        path = next_links[0] if next_links else None
    assert seen == expected
    assert fetch(f"{server.base_url}{rubrique.path}?page={page_number + 1}")[0] == 404


def test_theme_page_lists_the_theme(server: DemoServer, site: DemoSite) -> None:
    theme = site.themes[9]
    _, page = get_page(server, f"/themes/{theme.slug}.htm")
    items = lxml_html.fromstring(page).xpath('//ul[@class="news-list"]/li/a/@href')
    assert items == [a.path for a in site.theme_articles(theme.slug)]


def test_article_page_has_every_part(server: DemoServer, site: DemoSite) -> None:
    faults = site.faults
    special = {faults.windows1252_path, faults.redirect_source, faults.dead_source}
    article = next(a for a in site.newest() if a.path not in special)
    headers, page = get_page(server, article.path)
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Last-Modified"] == article.published.replace(tzinfo=UTC).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )
    assert page.startswith('<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="utf-8">')
    tree = lxml_html.fromstring(page)

    def texts(xpath: str) -> list[str]:
        return [e.text_content() for e in tree.xpath(xpath)]

    assert tree.xpath('//link[@rel="canonical"]/@href') == [server.base_url + article.path]
    assert tree.xpath("//title")[0].text == f"{article.title} | Santé Démo"
    assert tree.xpath('//meta[@name="description"]/@content') == [article.lead]
    nav = tree.xpath('//header[@class="site-header"]/nav[@class="rubriques"]/a/@href')
    assert nav == [r.path for r in site.rubriques]
    news = '//main/article[@class="news"]'
    rubrique = site.rubrique(article.rubrique)
    assert texts(f'{news}/p[@class="breadcrumb"]/a[@class="rubrique"]') == [rubrique.name]
    assert texts(f'{news}/h1[@class="news-title"]') == [article.title]
    assert texts(f'{news}/p[@class="news-date"]') == [
        "Actualité publiée " + relative_age(article.published, NOW)
    ]
    assert texts(f'{news}/p[@class="news-lead"]') == [article.lead]
    assert texts(f'{news}/div[@class="news-body"]/p') == list(article.paragraphs)
    assert texts(f'{news}/div[@class="news-sources"]/ul/li') == list(article.sources)
    assert re.fullmatch(r".+, 20\d\d, DOI: 10\.\d{4}/\S+", article.sources[0])
    theme = site.theme(article.theme)
    assert tree.xpath(f'{news}/p[@class="news-theme"]/a/@href') == [theme.path]
    assert re.fullmatch(
        rf"Plus de \d+ études sur {re.escape(theme.phrase)}",
        texts(f'{news}/p[@class="news-theme"]/a')[0],
    )

    aside = '//main/aside[@class="related-news"]'
    assert texts(f"{aside}/h2") == ["Autres actualités sur le même thème"]
    items = tree.xpath(f"{aside}/ul/li")
    assert len(items) == 4
    for item, related in zip(items, article.related, strict=True):
        target = site.article_by_path(related.path)
        assert item.xpath("a/@href") == [related.path]
        assert item.xpath("a")[0].text_content() == target.title
        assert item.xpath('span[@class="age"]')[0].text_content() == (
            "Actualité publiée " + relative_age(target.published, NOW)
        )
    footer = tree.xpath('//footer[@class="site-footer"]/a')
    assert [(a.get("href"), a.text) for a in footer] == [
        ("/admin/login", "Espace rédaction"),
        ("/", "Accueil"),
    ]


def test_article_page_shows_its_rubrique_image(server: DemoServer, site: DemoSite) -> None:
    article = site.newest()[0]
    tree = lxml_html.fromstring(get_page(server, article.path)[1])
    (image,) = tree.xpath('//meta[@property="og:image"]/@content')
    assert image == f"{server.base_url}/images/{article.rubrique}.svg"
    status, headers, body, _ = fetch(image)
    assert status == 200 and headers.get_content_type() == "image/svg+xml"
    assert body.startswith(b"<svg") and site.rubrique(article.rubrique).name.encode() in body


def test_article_ages_use_the_real_clock(site: DemoSite) -> None:
    article = site.newest()[0]
    with DemoServer(site=site) as server:
        before = datetime.now(UTC).replace(tzinfo=None)
        _, page = get_page(server, article.path)
        after = datetime.now(UTC).replace(tzinfo=None)
    shown = lxml_html.fromstring(page).xpath('//p[@class="news-date"]')[0].text_content()
    assert shown in {
        "Actualité publiée " + relative_age(article.published, moment) for moment in (before, after)
    }


def test_oldest_article_has_no_related_block(server: DemoServer, site: DemoSite) -> None:
    _, page = get_page(server, site.articles[0].path)
    assert 'class="related-news"' not in page
    assert site.articles[0].related == ()


def test_admin_login_answers_but_robots_disallows_it(server: DemoServer) -> None:
    status, headers, body, _ = fetch(server.url + "admin/login")
    assert status == 200
    assert "Espace rédaction" in body.decode(headers.get_content_charset())
    assert "Disallow: /admin/" in fetch(server.url + "robots.txt")[2].decode()


def test_unknown_paths_are_404(server: DemoServer, site: DemoSite) -> None:
    article = site.articles[10]
    for path in (
        "/nope",
        "/news/inconnue/",
        "/themes/inconnu.htm",
        f"/news/{article.rubrique}/autre-titre_{article.id}.htm",
        "/news/neurologie/?page=abc",
    ):
        status, headers, body, _ = fetch(server.base_url + path)
        assert status == 404, path
        assert "Page introuvable" in body.decode(headers.get_content_charset())


def test_dead_related_link(server: DemoServer, site: DemoSite) -> None:
    faults = site.faults
    _, page = get_page(server, faults.dead_source)
    assert faults.dead_path in related_paths(page)
    assert faults.dead_title in page
    assert fetch(server.base_url + faults.dead_path)[0] == 404
    pointing = [a for a in site.articles if faults.dead_path in {i.path for i in a.related}]
    assert [a.path for a in pointing] == [faults.dead_source]
    source = site.article_by_path(faults.dead_source)
    assert faults.dead_published < source.published


def test_redirected_related_link(server: DemoServer, site: DemoSite) -> None:
    faults = site.faults
    _, page = get_page(server, faults.redirect_source)
    assert faults.redirect_from in related_paths(page)
    old = re.fullmatch(r"/news/([^/]+)/(.+)_(\d+)\.htm", faults.redirect_from)
    new = site.article_by_path(faults.redirect_to)
    assert old and new and old[1] == new.rubrique and old[3] == str(new.id)
    assert old[2] != new.slug
    assert site.article_by_path(faults.redirect_from) is None

    status, headers, _, _ = fetch(server.base_url + faults.redirect_from, follow=False)
    assert status == 301
    assert headers["Location"] == server.base_url + faults.redirect_to
    status, _, _, final_url = fetch(server.base_url + faults.redirect_from)
    assert (status, final_url) == (200, server.base_url + faults.redirect_to)


def test_windows_1252_page(server: DemoServer, site: DemoSite) -> None:
    article = site.article_by_path(site.faults.windows1252_path)
    status, headers, body, _ = fetch(server.base_url + article.path)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=windows-1252"
    assert b'<meta charset="windows-1252">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    page = body.decode("cp1252")
    for char in ("é", "è", "à", "œ", "’", "«", "»"):
        assert char in page, char
    assert "œ".encode("cp1252") in body and "’".encode("cp1252") in body
    tree = lxml_html.fromstring(page)
    assert tree.xpath('//h1[@class="news-title"]')[0].text_content() == article.title
    assert [p.text_content() for p in tree.xpath('//div[@class="news-body"]/p')] == list(
        article.paragraphs
    )
    # Every other page is utf-8.
    other = site.newest()[0]
    assert fetch(server.base_url + other.path)[1]["Content-Type"].endswith("charset=utf-8")


def test_head_request(server: DemoServer, site: DemoSite) -> None:
    request = urllib.request.Request(server.base_url + site.articles[5].path, method="HEAD")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert int(response.headers["Content-Length"]) > 1000
        assert response.read() == b""


def test_server_is_quiet(site: DemoSite, capfd: pytest.CaptureFixture[str]) -> None:
    with DemoServer(site=site) as server:
        assert server.url == f"http://127.0.0.1:{server.port}/"
        assert server.site is site
        fetch(server.url)
        fetch(server.url + "nope")
    assert capfd.readouterr().err == ""


def test_command_line_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        demosite_main(["--help"])
    assert exit_info.value.code == 0
    assert "--port" in capsys.readouterr().out
