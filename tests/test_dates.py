"""A page's own calendar and its image, from the HTML to the archive: small pages written
here, no network, real DuckDB files."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from crawler.page.analysis import analyse_page
from crawler.profiles import load_profile, profile_from_dict
from warehouse import Fetch, PageRecord, Reader, Writer, opened
from warehouse.model import DateValue

FETCHED_AT = datetime(2024, 4, 1, 12, 0)
URL = "https://blog.example/posts/spring-tea-harvest/"
TEXT = "<p>" + "The first tea of spring is picked by hand in the hills. " * 12 + "</p>"


def page(head: str = "", body: str = "", url: str = URL) -> str:
    return (
        f'<html lang="en"><head><title>Spring tea harvest</title>{head}</head><body>'
        f"<article><h1>Spring tea harvest</h1>{body}{TEXT}</article></body></html>"
    )


def generic(html: str, url: str = URL):
    return analyse_page(html, url, load_profile("generic").resolve(url), FETCHED_AT).article


# --- the page's local day ------------------------------------------------------------

# A Chinese blog's morning post: the 5th where it was written, the 4th in UTC.
EAST_MORNING = '<meta property="article:published_time" content="2024-03-05T07:30:00+08:00">'


def test_a_declared_offset_keeps_the_local_day():
    published = generic(page(EAST_MORNING)).published
    assert published.value == datetime(2024, 3, 4, 23, 30)  # the instant, in UTC
    assert published.utc_offset == 480
    assert published.local_day == date(2024, 3, 5)


@pytest.mark.parametrize(
    ("head", "offset", "day"),
    [
        # New York, late evening: the UTC instant is already the next day.
        (
            '<script type="application/ld+json">{"@type": "NewsArticle",'
            ' "datePublished": "2019-03-12T23:30:00-04:00"}</script>',
            -240,
            date(2019, 3, 12),
        ),
        # An RSS-style date with its zone.
        (
            '<meta name="parsely-pub-date" content="Tue, 05 Mar 2024 07:30:00 +0800">',
            480,
            date(2024, 3, 5),
        ),
        ('<meta name="pubdate" content="2024-03-05T07:30:00Z">', 0, date(2024, 3, 5)),
        # No zone at all: the time as written, no offset.
        ('<meta name="pubdate" content="2024-03-05 07:30">', None, date(2024, 3, 5)),
        ('<meta name="pubdate" content="5 mars 2024 07:30 +0800">', 480, date(2024, 3, 5)),
    ],
)
def test_each_way_of_writing_a_zone(head, offset, day):
    published = generic(page(head)).published
    assert (published.utc_offset, published.local_day) == (offset, day)


def test_a_profile_selector_keeps_the_offset_too():
    profile = profile_from_dict(
        {
            "name": "tea",
            "article_url_pattern": "^/posts/",
            "selectors": {"title": "h1", "body": "article p", "published": "time"},
        }
    ).resolve(URL)
    html = page(body='<time datetime="2024-03-05T01:00:00+09:00">5 March</time>')
    published = analyse_page(html, URL, profile, FETCHED_AT).article.published
    assert (published.value, published.utc_offset) == (datetime(2024, 3, 4, 16), 540)
    assert published.local_day == date(2024, 3, 5)


def test_the_url_day_and_a_late_evening_offset_agree():
    # 23:30 in New York on the 12th is the 13th in UTC: no conflict with the URL's 12th.
    url = "https://rivers.example/2019/03/12/river-levels-fall/"
    head = '<meta property="article:published_time" content="2019-03-12T23:30:00-04:00">'
    article = generic(page(head, url=url), url)
    assert article.published.local_day == date(2019, 3, 12)
    assert article.date_conflicts == ()


# --- the date shown beside the title -------------------------------------------------


@pytest.mark.parametrize(
    ("byline", "lang", "expected"),
    [
        ('<p class="date">Written: 2023-11-07 15:03:30</p>', "en", date(2023, 11, 7)),
        ('<div class="post-date">20.12.2022</div>', "de", date(2022, 12, 20)),
        ("<p>Publié le 5 mars 2024 à 07:30</p>", "fr", date(2024, 3, 5)),
        ("<span>7 April 2020</span>", "en", date(2020, 4, 7)),
        ("<span>March 5, 2024</span>", "en", date(2024, 3, 5)),
        ("<span>03/02/2024</span>", "fr", date(2024, 2, 3)),  # day first
        ("<span>03/02/2024</span>", "en", date(2024, 3, 2)),  # month first in English
        ("<span>25/03/2024</span>", "en", date(2024, 3, 25)),  # no 25th month
    ],
)
def test_the_date_shown_beside_the_title(byline, lang, expected):
    html = page(body=byline).replace('lang="en"', f'lang="{lang}"')
    published = generic(html).published
    assert (published.local_day, published.source) == (expected, "text")


def test_a_language_dateparser_does_not_know_reads_all_the_same():
    # Norwegian pages say lang="no"; dateparser calls it "nb" and refuses "no".
    html = page(body="<p>Publisert 5. mars 2024</p>").replace('lang="en"', 'lang="no"')
    assert generic(html).published.local_day == date(2024, 3, 5)


def test_an_update_a_link_or_a_far_date_is_not_the_byline():
    body = (
        '<p>Updated: 2024-03-20</p><a href="/older/">2019-01-01</a>'
        + "<p>filler</p>" * 50
        + "<p>2024-02-02</p>"
    )
    # (htmldate, which reads the whole text, may still find one)
    assert generic(page(body=body)).published.source != "text"


def test_the_heading_that_shows_the_title_not_the_logo():
    html = (
        '<html lang="en"><head><title>Spring tea harvest | Tea Times</title></head><body>'
        "<h1>Tea Times</h1>" + "<p>menu</p>" * 60 + "<article><h2>Spring tea harvest</h2>"
        "<p>12 May 2021</p>" + TEXT + "</article></body></html>"
    )
    assert generic(html).published.local_day == date(2021, 5, 12)


def test_the_shown_date_keeps_a_declared_time_of_the_same_day():
    head = '<meta property="article:published_time" content="2024-03-05T07:30:00+08:00">'
    published = generic(page(head, "<p>2024年3月5日</p>")).published
    assert (published.source, published.utc_offset) == ("opengraph", 480)


def test_the_shown_date_gives_way_to_the_url_or_two_declarations():
    shown = "<p>12 May 2021</p>"
    url = "https://blog.example/2021/05/10/spring-tea-harvest/"
    assert generic(page(body=shown, url=url), url).published.local_day == date(2021, 5, 10)
    two = (
        '<meta property="article:published_time" content="2021-05-09">'
        '<script type="application/ld+json">{"@type": "BlogPosting",'
        ' "datePublished": "2021-05-09"}</script>'
    )
    assert generic(page(two, shown)).published.local_day == date(2021, 5, 9)
    one = '<meta property="article:published_time" content="2021-05-09">'
    assert generic(page(one, shown)).published.local_day == date(2021, 5, 12)


@pytest.mark.parametrize(
    ("declared", "page_day", "expected"),
    [
        # 00:25 UTC on the 4th is the evening of the 3rd in Buenos Aires: the page's day.
        ("2022-05-04T00:25:00Z", "2022-05-03", date(2022, 5, 3)),
        # In the page's own zone, the declared time says the day itself.
        ("2022-05-04T00:25:00+02:00", "2022-05-03", date(2022, 5, 4)),
        # No time zone puts 00:25 UTC on the 1st.
        ("2022-05-04T00:25:00Z", "2022-05-01", date(2022, 5, 4)),
    ],
)
def test_a_time_in_utc_gives_way_to_the_pages_neighbouring_day(declared, page_day, expected):
    url = "https://news.example/politica/tea-vote/"
    head = (
        f'<meta name="date" content="{page_day}"><script type="application/ld+json">'
        f'{{"@type": "NewsArticle", "datePublished": "{declared}"}}</script>'
    )
    html = f"<html><head><title>Tea vote</title>{head}</head><body><article>{TEXT}</article>"
    assert generic(html, url).published.local_day == expected


def archive(tmp_path, article):
    db = tmp_path / "archive.duckdb"
    fetch = Fetch(article.url, FETCHED_AT, 200, article.url, body=b"<html>tea</html>")
    with opened(db) as con:
        writer = Writer(con)
        run = writer.start_run("blog.example", "generic", FETCHED_AT)
        writer.write_pages(run, [PageRecord(fetch, article)])
        writer.finish_run(run, "finished")
    return db


def test_the_archive_keeps_the_local_day_and_the_instant(tmp_path):
    db = archive(tmp_path, generic(page(EAST_MORNING)))
    with opened(db, read_only=True) as con:
        row = con.execute(
            "SELECT published_at, published_utc_offset, published_local_day FROM latest_articles"
        ).fetchone()
        per_day = con.execute(
            "SELECT published_local_day, count(*) FROM latest_articles GROUP BY 1"
        ).fetchall()
        (article,) = Reader(con).articles()
    assert row == (datetime(2024, 3, 4, 23, 30), 480, date(2024, 3, 5))
    assert per_day == [(date(2024, 3, 5), 1)]  # counted on the page's day, not the 4th
    assert article.published == DateValue(datetime(2024, 3, 4, 23, 30), "opengraph", "exact", 480)


def test_an_offset_or_an_image_makes_a_new_version():
    plain = generic(page())
    instant = datetime(2024, 3, 4, 23, 30)
    without = replace(plain, published=DateValue(instant, "opengraph", "exact"))
    with_offset = replace(plain, published=DateValue(instant, "opengraph", "exact", 480))
    with_image = replace(without, image="https://blog.example/media/tea.jpg")
    hashes = {without.content_hash(), with_offset.content_hash(), with_image.content_hash()}
    assert len(hashes) == 3


# --- the page's image ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        # Relative og:image, made absolute against the page.
        (
            '<meta property="og:image" content="/media/tea.jpg">',
            "",
            "https://blog.example/media/tea.jpg",
        ),
        # og:image wins over twitter:image and the text's pictures.
        (
            '<meta name="twitter:image" content="https://cdn.example/t.jpg">'
            '<meta property="og:image" content="https://cdn.example/og.jpg?w=1200&sig=b&a=1">',
            '<img src="/in-text.jpg">',
            "https://cdn.example/og.jpg?w=1200&sig=b&a=1",  # a signed query is kept as is
        ),
        (
            '<meta name="twitter:image" content="//cdn.example/t.jpg">',
            "",
            "https://cdn.example/t.jpg",
        ),
        (
            '<script type="application/ld+json">{"@type": "BlogPosting", "image":'
            ' {"@type": "ImageObject", "url": "https://cdn.example/ld.png"}}</script>',
            "",
            "https://cdn.example/ld.png",
        ),
        (
            '<script type="application/ld+json">{"@type": "BlogPosting",'
            ' "image": ["https://cdn.example/ld1.png", "https://cdn.example/ld2.png"]}</script>',
            "",
            "https://cdn.example/ld1.png",
        ),
        # None declared: the text's first picture, icons and placeholders passed over.
        (
            "",
            '<img src="/icons/share.png" width="16" height="16">'
            '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/media/lazy.jpg">'
            '<img src="/media/second.jpg">',
            "https://blog.example/media/lazy.jpg",
        ),
        # Never a data:, javascript: or file: URL: the next candidate answers.
        (
            '<meta property="og:image" content="data:image/png;base64,iVBORw0KGgo=">'
            '<meta name="twitter:image" content="javascript:alert(1)">',
            '<img src="file:///etc/passwd"><img src="pictures/real.jpg">',
            "https://blog.example/posts/spring-tea-harvest/pictures/real.jpg",
        ),
        ('<meta property="og:image" content="file:///c:/tea.jpg">', "", None),
        ("", "", None),
    ],
)
def test_the_page_image(head, body, expected):
    assert generic(page(head, body)).image == expected


def test_the_image_with_a_selector_profile():
    profile = load_profile("demo").resolve("http://127.0.0.1:8799/")
    url = "http://127.0.0.1:8799/news/neurologie/le-the-du-matin_3561.htm"
    html = (
        '<html lang="fr"><head><title>Le thé du matin</title>'
        '<meta property="og:image" content="/static/the.jpg"></head><body>'
        '<h1 class="news-title">Le thé du matin</h1>' + TEXT + "</body></html>"
    )
    article = analyse_page(html, url, profile, FETCHED_AT).article
    assert article.image == "http://127.0.0.1:8799/static/the.jpg"


def test_the_archive_keeps_the_image(tmp_path):
    article = generic(page('<meta property="og:image" content="/media/tea.jpg">'))
    db = archive(tmp_path, article)
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        (stored,) = reader.articles()
        teaser = reader.teasers([article.url])[article.url]
    assert stored.image == "https://blog.example/media/tea.jpg"
    # (published_at, precision, lead, body, language, published_local_day, image, ...)
    assert teaser[5:7] == (None, "https://blog.example/media/tea.jpg")
