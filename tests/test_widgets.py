"""Related-article widgets: ``relnews export --format html`` through Jinja2 templates,
on a real crawl of the (French) demo site; a site's own template; escaping."""

from __future__ import annotations

import fnmatch
import re
import shutil
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import lxml.html
import pytest

from conftest import ROOT, archive_article, run_relnews
from relnews.exit_codes import EXIT_USAGE
from relnews.widgets import (
    EXCERPT_WORDS,
    ItemFacts,
    TemplateProblem,
    Widgets,
    age_text,
    date_text,
    excerpt,
    gather_facts,
    heading_for,
    render_related,
    site_language,
)
from warehouse import Article, DateValue, Reader, opened

EXCERPT = "p[@class='relnews-excerpt']"  # the excerpt line of an item (its meta line is another p)
HOSTILE_TITLE = 'Le sommeil <script>alert(1)</script> & "les" écrans'
FRENCH_MONTH = re.compile(
    r"(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre"
    r"|décembre) (19|20)\d\d"
)
FRENCH_DATE = re.compile(r"(1er|[1-9]|[12]\d|3[01]) " + FRENCH_MONTH.pattern)
#: How a date is shown, by the precision the archive knows it to: datetime, text.
SHOWN = {
    "year": ("%Y", re.compile(r"(19|20)\d\d")),
    "month": ("%Y-%m", FRENCH_MONTH),
    "day": ("%Y-%m-%d", FRENCH_DATE),
    "exact": ("%Y-%m-%d", FRENCH_DATE),
}


def sql(db, query: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def archive(crawled_demo, tmp_path_factory):
    """A fitted copy of the crawled demo archive, plus an article whose title holds
    markup, pinned first in the newest article's list."""
    crawled, _ = crawled_demo
    db = tmp_path_factory.mktemp("widgets") / "demo.duckdb"
    shutil.copy(crawled, db)
    source, published = sql(
        db,
        "SELECT url, published_at FROM latest_articles WHERE published_at IS NOT NULL"
        " ORDER BY published_at DESC, url LIMIT 1",
    )[0]
    base = re.match(r"https?://[^/]+/", source).group(0)
    hostile = f"{base}news/sommeil/le-sommeil-et-les-ecrans_9998.htm"
    article = Article(
        url=hostile,
        title=HOSTILE_TITLE,
        lead="Les écrans <b>le soir</b> décalent le sommeil.",
        body="Le sommeil des adolescents souffre des écrans et de la lumière bleue le soir.",
        published=DateValue(published - timedelta(days=1), "json-ld", "day"),
        rubrique="Sommeil",
        language="fr",
    )
    archive_article(db, article)
    run_relnews("fit", "--db", str(db))
    run_relnews("pin", source, hostile, "--db", str(db))
    return {"db": db, "source": source, "hostile": hostile}


def export_html(db, *args: str) -> str:
    return run_relnews("export", "--db", str(db), "--format", "html", "-k", "3", *args).stdout


def blocks(page: str) -> dict[str, lxml.html.HtmlElement]:
    """Each exported block by the URL it is for."""
    root = lxml.html.fragment_fromstring(page, create_parent="div")
    return {aside.get("data-source"): aside for aside in root.findall("aside")}


def test_export_html_demo_heading_dates_and_excerpts(archive):
    db = archive["db"]
    # the demo site is French: its pages say <html lang="fr">, and the archive keeps it
    assert sql(db, "SELECT DISTINCT language FROM latest_articles") == [("fr",)]
    page = export_html(db)
    by_source = blocks(page)
    live = sql(db, "SELECT count(*) FROM articles WHERE gone_at IS NULL")[0][0]
    assert len(by_source) == live
    facts = {
        url: (published, precision, lead)
        for url, published, precision, lead in sql(
            db, "SELECT url, published_at, published_precision, lead FROM latest_articles"
        )
    }
    dated = shown_items = 0
    for aside in by_source.values():
        assert aside.get("lang") == "fr"
        assert aside.findtext("h2") == "À lire aussi"
        for li in aside.iter("li"):
            shown_items += 1
            link = li.find("a")
            published, precision, lead = facts[link.get("href")]
            time = li.find(".//time")
            if published is not None:
                dated += 1
                # no finer than known: the demo's dates come from displayed ages
                iso, text = SHOWN[precision]
                assert time.get("datetime") == published.strftime(iso)
                assert text.fullmatch(time.text), time.text
            else:
                assert time is None
            shown = li.find(EXCERPT).text_content()
            assert shown == excerpt(lead, None) and len(shown.split()) <= EXCERPT_WORDS + 1
    assert shown_items >= 2 * live and dated >= 0.9 * shown_items  # demo articles are dated
    # the demo article the pin leads from: the first item is the hostile one, escaped
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;les&#34; écrans" in page
    first = by_source[archive["source"]].find("ul/li")
    assert first.find("a").get("href") == archive["hostile"]
    assert first.find("a").text_content().strip() == HOSTILE_TITLE
    assert first.find(EXCERPT).text_content() == "Les écrans <b>le soir</b> décalent le sommeil."
    assert FRENCH_DATE.fullmatch(first.find(".//time").text)


def test_export_html_heading_and_language_options(archive):
    source = archive["source"]
    aside = blocks(export_html(archive["db"], "--heading", "Autres actualités"))[source]
    assert aside.findtext("h2") == "Autres actualités"
    aside = blocks(export_html(archive["db"], "--language", "de"))[source]
    assert aside.findtext("h2") == "Mehr zum Thema"
    assert re.fullmatch(r"\d{1,2}\. [A-ZÄ][a-zä]+ \d{4}", aside.find("ul/li//time").text)
    result = run_relnews(
        "export", "--db", str(archive["db"]), "--heading", "x", check=False
    )  # json has no heading
    assert result.returncode == EXIT_USAGE and "for --format html" in result.stderr


def test_export_html_site_template_overrides_the_default(archive, tmp_path):
    (tmp_path / "related.html").write_text(
        '<div class="site-related" data-for="{{ source }}"><h3>{{ heading }}</h3>'
        '{% for item in items %}<a href="{{ item.url }}">{{ item.title }}</a>'
        "<small>{{ item.date_iso }}</small><i>{{ item.age_text }}</i>{% endfor %}</div>",
        encoding="utf-8",
    )
    page = export_html(archive["db"], "--templates", str(tmp_path))
    assert "<aside" not in page
    root = lxml.html.fragment_fromstring(page, create_parent="div")
    divs = root.findall("div")
    assert divs and all(div.get("class") == "site-related" for div in divs)
    mine = next(div for div in divs if div.get("data-for") == archive["source"])
    assert mine.findtext("h3") == "À lire aussi"
    assert mine.find("a").get("href") == archive["hostile"]
    # ages as of the export: the hostile article is dated to the day, the demo's to the month
    assert re.fullmatch(r"il y a \d+ (jours?|mois|ans?)|aujourd’hui", mine.findtext("i"))
    ages = [i.text for div in divs if div is not mine for i in div.iter("i")]
    assert ages and all(re.fullmatch(r"il y a \d+ (mois|ans?)", age) for age in ages if age)
    # the site's own template is autoescaped too
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_export_html_template_errors_are_one_line(archive, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_relnews(
        "export", "--db", str(archive["db"]), "--format", "html", "--templates", str(empty),
        check=False,
    )  # fmt: skip
    assert result.returncode == 1 and "holds no related.html" in result.stderr
    assert "Traceback" not in result.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "related.html").write_text("{{ item.titel }", encoding="utf-8")
    result = run_relnews(
        "export", "--db", str(archive["db"]), "--format", "html", "--templates", str(broken),
        check=False,
    )  # fmt: skip
    assert result.returncode == 1 and "related.html, line 1" in result.stderr
    assert "Traceback" not in result.stderr


# -- the pure function a server calls ------------------------------------------------


@dataclass(frozen=True)
class Item:
    rank: int
    title: str
    url: str
    score: float | None = 0.5
    shared_terms: tuple[str, ...] = ()
    pinned: bool = False
    backfill: bool = False


def test_render_escapes_hostile_titles_and_source():
    html = render_related(
        'http://x.test/a"><script>alert(2)</script>',
        [Item(1, "<img src=x onerror=alert(1)> & co", "http://x.test/b?a=1&b=2")],
        language="fr",
        facts={"http://x.test/b?a=1&b=2": ItemFacts(excerpt="<script>alert(3)</script>")},
    )
    assert "<script" not in html and "<img" not in html
    assert 'data-source="http://x.test/a&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; co" in html
    assert 'href="http://x.test/b?a=1&amp;b=2"' in html


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
     "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "//evil.test/x"],
)  # fmt: skip
def test_render_never_links_a_script_url(url):
    html = render_related(
        "http://x.test/a",
        [Item(1, "Titre", url), Item(2, "Autre", "https://x.test/c")],
        language="fr",
        facts={url: ItemFacts(image="javascript:alert(2)", excerpt="Chapô.")},
    )
    root = lxml.html.fragment_fromstring(html)
    assert [a.get("href") for a in root.iter("a")] == ["https://x.test/c"]
    assert root.find("ul/li").text_content().split() == ["Titre", "Chapô."]
    assert "javascript" not in html.lower() and "<img" not in html


def test_render_shows_an_image_the_archive_has():
    facts = {"https://x.test/b": ItemFacts(image="https://cdn.x.test/b.jpg")}
    root = lxml.html.fragment_fromstring(
        render_related(
            "https://x.test/a", [Item(1, "B", "https://x.test/b")], language="en", facts=facts
        )  # fmt: skip
    )
    assert root.find("ul/li/a/img").get("src") == "https://cdn.x.test/b.jpg"


def test_headings_dates_and_excerpts_by_language():
    assert heading_for("fr-FR") == "À lire aussi"
    assert heading_for("es") == "Artículos relacionados"
    assert heading_for("xx") == heading_for("") == "Related articles"
    when = datetime(2024, 3, 1, 15, 30)
    assert date_text(when, "day", "fr") == "1 mars 2024"
    assert date_text(when, "exact", "en") == "March 1, 2024"
    assert date_text(when, "day", "pt") == "1 de março de 2024"
    assert date_text(when, "month", "de") == "März 2024"
    assert date_text(when, "year", "fr") == "2024"
    assert date_text(when, "month", "fr") == "mars 2024"
    assert date_text(when, "day", "ja") == "2024年3月1日"
    assert date_text(when, "day", "xx") == "2024-03-01"  # a language CLDR lacks
    assert site_language([ItemFacts(language="fr"), ItemFacts(language="FR-be"),
                          ItemFacts(language="en"), ItemFacts()]) == "fr"  # fmt: skip
    assert site_language([ItemFacts(language="<x>")]) == "en"
    now = datetime(2026, 12, 4, 12)
    assert age_text(datetime(2026, 12, 1), "day", "fr", now) == "il y a 3 jours"
    assert age_text(datetime(2026, 12, 3, 23), "exact", "fr", now) == "il y a 1 jour"
    assert age_text(datetime(2026, 12, 4, 1), "day", "fr", now) == "aujourd’hui"
    assert age_text(datetime(2018, 8, 1), "month", "fr", now) == "il y a 8 ans"
    assert age_text(datetime(2026, 9, 10), "day", "en", now) == "2 months ago"
    assert age_text(datetime(2023, 12, 4), "day", "de", now) == "vor 3 Jahren"
    assert age_text(datetime(2026, 11, 20), "month", "es", now) is None  # not a month yet
    assert age_text(datetime(2026, 1, 1), "year", "fr", now) is None
    assert age_text(datetime(2026, 12, 5), "day", "fr", now) is None  # in the future
    assert age_text(datetime(2020, 1, 1), "day", "ja", now) == "6 年前"
    assert age_text(datetime(2020, 1, 1), "day", "xx", now) is None
    assert age_text(datetime(2026, 1, 4), "day", "fr", now) == "il y a 11 mois"
    assert age_text(datetime(2026, 11, 14), "day", "en", now) == "20 days ago"
    assert age_text(datetime(2020, 1, 1), "day", "fr", None) is None
    words = " ".join(f"mot{i}" for i in range(50))
    assert excerpt("", words) == " ".join(f"mot{i}" for i in range(EXCERPT_WORDS)) + "…"
    assert excerpt("Le chapô.", words) == "Le chapô."
    assert excerpt(None, "睡眠" * 40) == "睡眠" * (EXCERPT_WORDS // 2) + "…"


def test_templates_are_package_data():
    """Every template ships in the installed package, not only in a source checkout."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["relnews"]
    files = [path.relative_to(ROOT / "relnews").as_posix()
             for path in (ROOT / "relnews" / "templates").iterdir()]  # fmt: skip
    assert "templates/related.html" in files
    assert all(any(fnmatch.fnmatch(name, pattern) for pattern in patterns) for name in files)


def test_gather_facts_for_a_server(archive):
    """What a server gathers once: every live article's facts, in one query."""
    with opened(archive["db"], read_only=True) as con:
        every = gather_facts(Reader(con))
        some = gather_facts(Reader(con), [archive["hostile"], "http://x.test/not-archived"])
    live = {url for (url,) in sql(archive["db"], "SELECT url FROM articles WHERE gone_at IS NULL")}
    assert set(every) == live
    assert site_language(every.values()) == "fr"
    assert list(some) == [archive["hostile"]]
    hostile = some[archive["hostile"]]
    assert hostile.excerpt == "Les écrans <b>le soir</b> décalent le sommeil."
    assert hostile.precision == "day" and hostile.image is None
    with opened(archive["db"], read_only=True) as con:
        widgets = Widgets.from_reader(Reader(con))
    assert widgets.language == "fr" and set(widgets.facts) == live
    block = lxml.html.fragment_fromstring(
        widgets.render(archive["source"], [Item(1, HOSTILE_TITLE, archive["hostile"])])
    )
    assert block.findtext("h2") == "À lire aussi"
    assert block.find("ul/li/a").text_content().strip() == HOSTILE_TITLE
    assert block.find(f"ul/li/{EXCERPT}").text_content() == hostile.excerpt
    meta = block.find("ul/li/p[@class='relnews-meta']").text_content()
    assert meta.startswith("Sommeil · ") and FRENCH_DATE.fullmatch(meta.split(" · ")[1])
    with opened(archive["db"], read_only=True) as con, pytest.raises(TemplateProblem):
        Widgets.from_reader(Reader(con), templates=archive["db"].parent)  # no related.html
