"""The curation page as an editor works through it, in Debian's Chromium (Playwright),
against `relnews serve --editor` on 127.0.0.1 over a fitted copy of the demo archive:
the work queues, the site's language, dates as precise as the archive knows them,
pinning any article, a confirmed block everywhere, notes, and a pin a block hides."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_serve import SCRIPT_TITLE, Running, call, post_json, related, sql
from test_serve import browser_page as browser_page  # noqa: F401 (a fixture)

from conftest import archive_article, run_relnews
from relnews.widgets import heading_for
from relnews.words import languages, words_for
from warehouse import Article, DateValue

ROOT = Path(__file__).resolve().parent.parent
FR = words_for("fr")
#: The languages the widget's heading was written in before the words moved to one file.
WIDGET_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "ca", "pl", "sv", "da", "nb", "no",
                    "ru", "ja", "zh", "ko")  # fmt: skip
MONTH_TITLE = "Le jeûne intermittent au banc d’essai des cardiologues"


@pytest.fixture(scope="module")
def archive(refreshed_demo, tmp_path_factory):
    """A fitted copy of the demo archive, with an article whose date is known only to the
    month, and one whose title holds markup."""
    db = refreshed_demo.copy_to(tmp_path_factory.mktemp("curation"))
    base = sql(db, "SELECT url FROM latest_articles LIMIT 1")[0][0].split("/news/")[0]
    month = Article(
        url=f"{base}/news/cardiologie/le-jeune-intermittent_9997.htm",
        title=MONTH_TITLE,
        lead="Le jeûne intermittent et le cœur : ce que disent les essais.",
        body="Le jeûne intermittent modifie la tension et le cholestérol des patients. " * 5,
        published=DateValue(datetime(2024, 3, 1), "meta", "month"),
        rubrique="Cardiologie",
        language="fr",
    )
    hostile = Article(
        url=f"{base}/news/sommeil/le-sommeil-des-adolescents_9998.htm",
        title=SCRIPT_TITLE,
        lead="Les écrans le soir décalent le sommeil des adolescents.",
        body="Le sommeil des adolescents souffre des écrans et de la lumière bleue. " * 5,
        published=DateValue(datetime(2025, 6, 3), "json-ld", "day"),
        rubrique="Sommeil",
        language="fr",
    )
    for article in (month, hostile):
        archive_article(db, article)
    run_relnews("fit", "--db", str(db))
    return {"db": db, "month": month.url, "hostile": hostile.url}


@pytest.fixture(scope="module")
def editor(archive):
    from relnews.serve import ServeSettings

    running = Running(archive["db"], ServeSettings(editor=True, reload_interval=0.5))
    yield running
    running.close()


@pytest.fixture(scope="module")
def reader_only(archive):
    from relnews.serve import ServeSettings

    running = Running(archive["db"], ServeSettings(reload_interval=0.5))
    yield running
    running.close()


def listed(running: Running, source: str, k: int = 10) -> list[dict]:
    return json.loads(call(related(running, source, k=str(k)))[2])["related"]


def rules(db) -> set[tuple]:
    return set(sql(db, "SELECT source_url, target_url, rule FROM editor_rules"))


def open_article(page, running: Running, url: str) -> None:
    page.goto(running.url + "curate#article=" + url)
    expect(page.locator("#article-url")).to_have_text(url)


def top(page, locator) -> float:
    """Where an element is on the page (not in the window: clicking may scroll)."""
    box = locator.bounding_box()
    assert box is not None, "not shown"
    return box["y"] + page.evaluate("window.scrollY")


def near(page, message: str, pressed: float) -> bool:
    """Whether the message is where the pressed button was: in the window, and not more
    than a few lines away."""
    locator = page.locator(message)
    box = locator.bounding_box()
    window = page.viewport_size
    distance = abs(top(page, locator) - pressed)
    assert distance < 60, f"the message is {distance:.0f} px from the button"
    return box is not None and window is not None and 0 <= box["y"] < window["height"]


# -- the words -----------------------------------------------------------------------


def test_every_language_has_every_word_with_the_same_placeholders():
    tables = tomllib.loads((ROOT / "relnews/templates/words.toml").read_text("utf-8"))
    english = tables["en"]
    assert set(WIDGET_LANGUAGES) <= set(languages())
    for code, words in tables.items():
        assert set(words) == set(english), code
        for key, text in english.items():
            holes = set(re.findall(r"\{\w+\}", text))
            assert set(re.findall(r"\{\w+\}", words[key])) == holes, (code, key)
    # the widget's heading is one of these words
    assert heading_for("fr-FR") == FR["heading"] == "À lire aussi"
    assert heading_for("no") == heading_for("nb") == "Relaterte artikler"


# -- the page, in a real browser --------------------------------------------------------


def test_the_start_page_offers_work_queues_in_the_sites_language(archive, editor, browser_page):
    page = browser_page
    response = page.goto(editor.url + "curate")
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "script-src 'self'" in policy
    page.wait_for_selector("#queue-newest li button.open")
    assert page.get_attribute("html", "lang") == "fr"
    assert FR["queues"] in page.text_content("#queues h2")
    assert FR["queue_differ"] in page.text_content("#queues")
    # newest first: the articles published (or first seen) last
    newest = sql(
        archive["db"],
        "SELECT url FROM latest_articles WHERE gone_at IS NULL"
        " ORDER BY coalesce(published_at, first_seen_at) DESC, url DESC LIMIT 3",
    )
    shown = [item.get_attribute("data-url") for item in page.locator("#queue-newest li").all()]
    assert shown[:3] == [url for (url,) in newest]
    assert page.locator("#queue-no_block li button.open").count() > 0
    assert archive["month"] in [
        item.get_attribute("data-url") for item in page.locator("#queue-no_block li").all()
    ]
    # the queue of disagreement: its first article has the fewest links in common
    first = page.locator("#queue-differ li").first
    source = first.get_attribute("data-url")
    shared, block = map(int, re.search(r"(\d+) sur (\d+) en commun", first.text_content()).groups())
    targets = {row[0] for row in sql(
        archive["db"],
        "SELECT c.target_article FROM current_links c JOIN articles t ON t.url = c.target_article"
        " WHERE c.source_url = ? AND t.gone_at IS NULL AND c.target_article <> c.source_url",
        [source],
    )}  # fmt: skip
    ours = {item["url"] for item in listed(editor, source)}
    assert (shared, block) == (len(targets & ours), len(targets))
    # picking it opens its view: the editors' block beside relnews's list, in French
    first.locator("button.open").click()
    page.wait_for_selector("#editors li")
    assert page.text_content("#article-url") == source
    links = sql(archive["db"], "SELECT count(*) FROM current_links WHERE source_url = ?", [source])
    assert page.locator("#editors li").count() == links[0][0] >= block
    assert re.search(r"il y a|aujourd’hui", page.text_content("#editors-age"))
    assert FR["relnews_list"] in page.text_content("#article")
    page.click("#article a.back")
    page.wait_for_selector("#queues:not([hidden])")
    assert page.is_hidden("#article")


def test_dates_are_shown_as_precisely_as_the_archive_knows_them(archive, editor, browser_page):
    page = browser_page
    page.goto(editor.url + "curate")
    page.fill("#query", "sommeil adolescents")
    page.click("#search button[type=submit]")
    page.wait_for_selector("#results button.open")
    assert SCRIPT_TITLE in page.text_content("#results")  # shown as text, not run
    page.fill("#query", "jeûne intermittent")
    page.click("#search button[type=submit]")
    hit = page.wait_for_selector(f"#results li[data-url='{archive['month']}']")
    assert "mars 2024" in hit.text_content() and "1 mars 2024" not in hit.text_content()
    hit.query_selector("button.open").click()
    expect(page.locator("#article-date")).to_have_text("publication : mars 2024")
    # a date known to the day is written to the day, in French
    open_article(page, editor, archive["hostile"])
    assert page.text_content("#article-date") == "publication : 3 juin 2025"
    # the hostile title is text, never markup
    assert page.text_content("#article-title") == SCRIPT_TITLE
    assert page.evaluate("window.hacked") is None and not page.dialogs
    assert page.locator("script").count() == 2  # the page's own: settings and curate.js


def test_an_editor_pins_any_article_found_by_the_search_box(archive, editor, browser_page):
    page = browser_page
    source, target = archive["hostile"], archive["month"]
    assert target not in {item["url"] for item in listed(editor, source)}
    open_article(page, editor, source)
    page.fill("#note", "demandé par la rédaction")
    page.fill("#pin-query", "jeûne intermittent cardiologues")
    page.click("#pin-search button[type=submit]")
    pin = page.locator(f"#pin-results li[data-url='{target}'] button[data-action=pin]")
    pressed = top(page, pin)
    pin.click()
    page.wait_for_selector(f"#suggestions li.pinned[data-url='{target}']")
    said = f"#pin-results li[data-url='{target}'] .said"
    assert page.text_content(said).startswith(FR["done_pin"])
    assert near(page, said, pressed)
    first = listed(editor, source, k=5)[0]
    assert (first["url"], first["pinned"]) == (target, True)
    assert (source, target, "pin") in rules(archive["db"])
    # the rule is shown with the target's title and the note
    rule = page.locator(f"#rules li[data-url='{target}']")
    assert MONTH_TITLE in rule.text_content() and "demandé par la rédaction" in rule.text_content()
    note = sql(archive["db"], "SELECT note FROM editor_rules WHERE target_url = ?", [target])
    assert note == [("demandé par la rédaction",)]
    # removed from the rules list: gone at the next request, said where the rule was
    remove = rule.locator("button[data-action=remove]")
    pressed = top(page, remove)
    remove.click()
    page.wait_for_selector("#rules li.gone .said")
    assert page.text_content("#rules li.gone .said").startswith(FR["done_unpin"])
    assert near(page, "#rules li.gone .said", pressed)
    assert (source, target, "pin") not in rules(archive["db"])
    assert not listed(editor, source, k=5)[0]["pinned"]
    # a suggestion of the list pinned from its own row: first at the next request
    third = page.locator("#suggestions li").nth(2)
    target = third.get_attribute("data-url")
    assert listed(editor, source, k=5)[0]["url"] != target
    third.locator("button[data-action=pin]").click()
    page.wait_for_selector(f"#suggestions li.pinned[data-url='{target}'] .said")
    first = listed(editor, source, k=5)[0]
    assert (first["url"], first["pinned"]) == (target, True)
    page.click(f"#suggestions li.pinned[data-url='{target}'] button[data-action=unpin]")
    page.wait_for_selector(f"#suggestions li[data-url='{target}']:not(.pinned) .said")
    assert not listed(editor, source, k=5)[0]["pinned"]


def test_a_block_everywhere_is_confirmed_first(archive, editor, browser_page):
    page = browser_page
    source = archive["hostile"]
    open_article(page, editor, source)
    row = page.locator("#suggestions li").nth(2)
    target = row.get_attribute("data-url")
    elsewhere = [s for s in sql(archive["db"], "SELECT url FROM latest_articles")
                 if target in {item["url"] for item in listed(editor, s[0])}]  # fmt: skip
    before = rules(archive["db"])
    # asked, then dismissed: nothing changes
    row.locator("button[data-action=block-everywhere]").click()
    confirm = row.locator(".confirm")
    assert FR["confirm_everywhere"].split("{")[0] in confirm.text_content()
    assert re.search(r"montrent aujourd’hui : \d+", confirm.text_content())
    row.locator("button[data-action=cancel]").click()
    assert confirm.count() == 0
    assert row.locator(".said").text_content() == FR["cancelled"]
    assert rules(archive["db"]) == before
    assert target in {item["url"] for item in listed(editor, source)}
    # asked, then confirmed: out of every list
    row.locator("button[data-action=block-everywhere]").click()
    confirmed = row.locator("button[data-action=confirm-block]")
    pressed = top(page, row)  # the row goes: its message takes its place
    confirmed.click()
    page.wait_for_selector(f"#rules li[data-url='{target}']")
    assert page.locator(f"#suggestions li[data-url='{target}']").count() == 0
    assert page.text_content("#suggestions li.gone .said").startswith(FR["done_block"])
    assert near(page, "#suggestions li.gone .said", pressed)
    try:
        assert ("*", target, "block") in rules(archive["db"])
        assert elsewhere and all(
            target not in {item["url"] for item in listed(editor, s[0])} for s in elsewhere
        )
    finally:
        change = {"action": "unblock", "source": "*", "target": target}
        assert post_json(editor.url + "api/rules", change)[0] == 200


def test_a_pin_a_scoped_block_hides_is_warned(archive, editor, browser_page):
    page = browser_page
    source, target = archive["hostile"], archive["month"]
    scope = {"action": "block", "source": "*", "target": "url:/le-jeune-intermittent_"}
    assert post_json(editor.url + "api/rules", scope)[0] == 200
    try:
        open_article(page, editor, source)
        page.fill("#pin-query", target)
        page.click("#pin-search button[type=submit]")
        page.click(f"#pin-results li[data-url='{target}'] button[data-action=pin]")
        said = page.wait_for_selector(f"#pin-results li[data-url='{target}'] .said:has-text('Non')")
        assert said.text_content() == FR["shadowed"]
        assert page.locator(f"#suggestions li[data-url='{target}']").count() == 0
        assert FR["shadowed"] in page.text_content(f"#rules li[data-url='{target}'] .warning")
    finally:
        for change in ({"action": "unpin", "source": source, "target": target},
                       {**scope, "action": "unblock"}):  # fmt: skip
            post_json(editor.url + "api/rules", change)


def test_a_read_only_page_offers_no_changes(archive, reader_only, browser_page):
    page = browser_page
    page.goto(reader_only.url + "curate")
    page.wait_for_selector("#queue-newest li button.open")
    page.locator("#queue-newest li button.open").first.click()
    page.wait_for_selector("#suggestions li")
    assert page.locator("button[data-action]").count() == 0
    assert page.locator("#pin-search, #note, #scoped").count() == 0
    assert FR["read_only"].split("{")[0] in page.text_content("header")
    status, _, body = post_json(
        reader_only.url + "api/rules",
        {"action": "pin", "source": archive["hostile"], "target": archive["month"]},
    )
    assert status == 403 and "read-only" in json.loads(body)["error"]
