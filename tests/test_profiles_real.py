"""The libreoffice and postgresql profiles on small pages written here in the shape of
the real ones (LibreOffice help, PostgreSQL 15 docs): no network, no real site needed.

The real sites are measured by tests/benchmarks/related_links.py.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from crawler.page.analysis import analyse_page
from crawler.profiles import ProfileError, builtin_profiles, load_profile

FETCHED_AT = datetime(2025, 3, 1, 12, 0)
HELP = "http://127.0.0.1:8000/"


def analyse(profile_name: str, html: str, url: str):
    return analyse_page(html, url, load_profile(profile_name).resolve(url), FETCHED_AT)


def related(page) -> list[tuple[int, str, str, str | None]]:
    return [
        (link.position, link.target_url, link.anchor_text, link.heading)
        for link in page.related_links
    ]


# -- LibreOffice help -------------------------------------------------------------------


def help_page(
    lang: str = "fr",
    title: str = "Tri des données",
    h1: str = '<h1 id="hd_id1" dir="auto"><a name="tri"></a>Tri des données</h1>',
    related_block: str = "",
) -> str:
    """A help page as the LibreOffice help packages ship them: a <base href> four levels
    up, JavaScript-built navigation, the text in #DisplayArea, a debug footer."""
    return f"""<!DOCTYPE html>
<html lang="{lang}" dir="ltr">
<head>
<base href="../../../../">
<noscript><meta http-equiv="refresh" content="0; URL=../../../../{lang}/noscript.html"></noscript>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{title}</title>
<link type="text/css" href="default.css" rel="Stylesheet">
<script type="text/javascript" src="help.js" defer></script>
</head>
<body>
<header id="TopLeftHeader"><a class="logo" href="{lang}/text/shared/05/new_help.html"><p
 dir="auto">Aide LibreOffice 7.4</p></a></header>
<aside class="rightside"><div id="Contents" class="contents-treeview"></div></aside>
<div id="DisplayArea" itemprop="softwareHelp">
<a name="bm_id1"></a>
{h1}
<p id="par_id1" class="paragraph" dir="auto">Choisissez <span class="emph">Données - Trier</span>
 pour trier les lignes de la plage sélectionnée.</p>
<div class="embedded"><p class="embedded" dir="auto"><a name="tri_options"></a><a target="_top"
 href="{lang}/text/scalc/01/12030200.html">Options de tri</a></p></div>
<p id="par_id2" class="paragraph" dir="auto">Les lignes vides restent à la fin de la plage.</p>
{related_block}
</div>
<div id="SearchFrame"></div>
<footer><div id="DEBUG" class="debug">
<h3 class="bug">Help content debug info:</h3>
<p dir="auto">This page is: <a href="https://opengrok.libreoffice.org/xref/help/source/text/scalc/guide/sorting.xhp"
 target="_blank">/text/scalc/guide/sorting.xhp</a></p>
</div></footer>
</body>
</html>
"""


RELATED_FR = """<a name="relatedtopics"></a><div class="relatedtopics">
<p class="related" itemprop="mentions" dir="auto"><a name="related"></a><span
 class="emph">Rubriques connexes</span></p>
<div class="relatedbody" itemprop="mentions">
<div class="embedded"><p class="embedded" dir="auto"><a name="filtres"></a><a target="_top"
 href="fr/text/scalc/guide/filters.html">Application de filtres</a></p></div>
<div class="embedded"><p class="embedded" dir="auto"><a name="autofiltre"></a><a target="_top"
 href="fr/text/scalc/guide/autofilter.html#bm_id3156423">Application de l'AutoFiltre</a></p></div>
<div class="embedded"><p class="embedded" dir="auto"><a name="wiki"></a><a target="_blank"
 href="https://wiki.documentfoundation.org/Sorting">Trier (wiki)</a></p></div>
</div>
</div>"""

SORTING_FR = HELP + "fr/text/scalc/guide/sorting.html"


def test_libreoffice_article_and_related_links():
    page = analyse("libreoffice", help_page(related_block=RELATED_FR), SORTING_FR)
    article = page.article
    assert article is not None
    assert article.url == SORTING_FR
    assert article.title == "Tri des données"
    assert article.language == "fr"
    # Resolved against <base href="../../../../">, i.e. the help's root, not the page's
    # folder; fragments dropped; the <a name> bookmarks skipped.
    assert related(page) == [
        (1, HELP + "fr/text/scalc/guide/filters.html", "Application de filtres",
         "Rubriques connexes"),
        (2, HELP + "fr/text/scalc/guide/autofilter.html", "Application de l'AutoFiltre",
         "Rubriques connexes"),
        (3, "https://wiki.documentfoundation.org/Sorting", "Trier (wiki)", "Rubriques connexes"),
    ]  # fmt: skip


def test_libreoffice_body_is_the_help_text_only():
    article = analyse("libreoffice", help_page(related_block=RELATED_FR), SORTING_FR).article
    assert article.body.startswith("Choisissez Données - Trier pour trier les lignes")
    assert "Les lignes vides restent à la fin de la plage." in article.body
    assert "Options de tri" in article.body  # a link of the text itself stays
    for outside in ("Application de filtres", "AutoFiltre", "Trier (wiki)", "Rubriques connexes",
                    "Aide LibreOffice 7.4", "This page is", "debug"):  # fmt: skip
        assert outside not in article.body


def test_libreoffice_links_followed_are_resolved_against_the_base():
    page = analyse("libreoffice", help_page(related_block=RELATED_FR), SORTING_FR)
    assert HELP + "fr/text/scalc/01/12030200.html" in page.links
    assert HELP + "fr/text/scalc/guide/filters.html" in page.links
    profile = load_profile("libreoffice").resolve(SORTING_FR)
    followed = [link for link in page.links if profile.should_follow(link)]
    assert HELP + "fr/text/scalc/01/12030200.html" in followed
    assert not any("opengrok" in link or "wiki." in link for link in followed)


def test_libreoffice_does_not_depend_on_the_language():
    url = HELP + "en-US/text/scalc/guide/sorting.html"
    block = RELATED_FR.replace("Rubriques connexes", "Related Topics").replace(
        'href="fr/', 'href="en-US/'
    )
    page = analyse(
        "libreoffice",
        help_page(
            lang="en-US", title="Sorting Data", h1="<h1>Sorting Data</h1>", related_block=block
        ).replace('href="fr/', 'href="en-US/'),  # fmt: skip
        url,
    )
    assert page.article.title == "Sorting Data"
    assert page.article.language == "en"
    assert [link.target_url for link in page.related_links][:2] == [
        HELP + "en-US/text/scalc/guide/filters.html",
        HELP + "en-US/text/scalc/guide/autofilter.html",
    ]
    assert {link.heading for link in page.related_links} == {"Related Topics"}


def test_libreoffice_page_without_h1_takes_its_title_element():
    # Some function pages start with an h2: the <title> names them.
    h2 = '<h2 id="hd_id1" dir="auto">SECONDE</h2>'
    page = analyse(
        "libreoffice",
        help_page(title="SECONDE", h1=h2, related_block=RELATED_FR),
        HELP + "fr/text/scalc/01/func_second.html",
    )
    assert page.article.title == "SECONDE"
    assert len(page.related_links) == 3


def test_libreoffice_page_without_related_block():
    page = analyse("libreoffice", help_page(), SORTING_FR)
    assert page.article.title == "Tri des données"
    assert page.related_links == ()


def test_libreoffice_url_rules():
    profile = load_profile("libreoffice")
    assert profile.language is None and profile.description
    with pytest.raises(ProfileError):
        profile.resolve(None)  # no start URLs of its own: --url is needed
    starts = [HELP + "fr/text/swriter/main0000.html", HELP + "fr/text/scalc/main0000.html"]
    resolved = profile.resolve(starts)
    assert resolved.start_urls == tuple(starts)
    assert resolved.allowed_domains == ("127.0.0.1:8000",)  # host and port
    assert resolved.is_article_url(HELP + "fr/text/shared/01/01010000.html")
    assert resolved.is_article_url(HELP + "en-US/text/sbasic/shared/03010101.html")
    for url in ("index.html", "help.html?Target=swriter/main0000", "fr/noscript.html",
                "help.js", "default.css", "main_transform.xsl", "fr/contents.js",
                "media/navigation/favicon.ico", "media/files/scalc/example.ods"):  # fmt: skip
        assert not resolved.should_follow(HELP + url), url
    assert resolved.should_follow(HELP + "fr/text/shared/guide/digital_signatures.html")


# -- PostgreSQL documentation -------------------------------------------------------------

DOCS = "http://127.0.0.1:8001/"

NAVHEADER = """<div class="navheader"><table width="100%" summary="Navigation header"><tr><th
 colspan="5" align="center">{title}</th></tr><tr><td width="10%" align="left"><a accesskey="p"
 href="sql-alterwidget-prev.html" title="Previous">Prev</a> </td><td width="10%" align="left"><a
 accesskey="u" href="sql-commands.html" title="SQL Commands">Up</a></td><th width="60%"
 align="center">SQL Commands</th><td width="10%" align="right"><a accesskey="h" href="index.html"
 title="PostgreSQL 15.20 Documentation">Home</a></td><td width="10%" align="right"> <a
 accesskey="n" href="sql-alterwidget-next.html" title="Next">Next</a></td></tr></table><hr
 /></div>"""

NAVFOOTER = """<div class="navfooter"><hr /><table width="100%" summary="Navigation footer"><tr><td
 width="40%" align="left"><a accesskey="p" href="sql-alterwidget-prev.html">Prev</a> </td><td
 width="20%" align="center"><a accesskey="u" href="sql-commands.html">Up</a></td><td width="40%"
 align="right"> <a accesskey="n" href="sql-alterwidget-next.html">Next</a></td></tr><tr><td
 width="40%" align="left" valign="top">Previous page footer</td><td width="20%"
 align="center"><a accesskey="h" href="index.html">Home</a></td><td width="40%" align="right"
 valign="top">Next page footer</td></tr></table></div>"""


def docs_page(title: str, content: str) -> str:
    """A page as DocBook's XSL builds the PostgreSQL docs: XHTML with an XML declaration."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" '
        f'content="text/html; charset=UTF-8" /><title>{title}</title><link rel="stylesheet" '
        'type="text/css" href="stylesheet.css" /><link rel="prev" href="sql-alterwidget-prev.html" '
        f'title="Previous" /></head><body id="docContent" class="container-fluid col-10">'
        f"{NAVHEADER.format(title=title)}{content}{NAVFOOTER}</body></html>"
    )


REFERENCE = """<div class="refentry" id="SQL-ALTERWIDGET"><div class="titlepage"></div><a
 id="id-1.9.3.99.1" class="indexterm"></a><div class="refnamediv"><h2><span
 class="refentrytitle">ALTER WIDGET</span></h2><p>ALTER WIDGET — change the definition of a
 widget</p></div><div class="refsynopsisdiv"><h2>Synopsis</h2><pre class="synopsis">
ALTER WIDGET <em class="replaceable"><code>name</code></em> RENAME TO <em
class="replaceable"><code>new_name</code></em></pre></div><div class="refsect1"
 id="SQL-ALTERWIDGET-DESCRIPTION"><h2>Description</h2><p><code class="command">ALTER
 WIDGET</code> changes the definition of an existing widget.</p><p>You must own the widget to
 use <code class="command">ALTER WIDGET</code>.</p></div><div class="refsect1"
 id="SQL-ALTERWIDGET-COMPAT"><h2>Compatibility</h2><p>There is no <code class="command">ALTER
 WIDGET</code> statement in the SQL standard; see <a class="xref" href="sql-createtable.html"
 title="CREATE TABLE">CREATE TABLE</a> for standard ones.</p></div><div class="refsect1"
 id="SQL-ALTERWIDGET-SEE-ALSO"><h2>See Also</h2><span class="simplelist"><a class="xref"
 href="sql-createwidget.html" title="CREATE WIDGET"><span class="refentrytitle">CREATE
 WIDGET</span></a>, <a class="xref" href="sql-dropwidget.html" title="DROP WIDGET"><span
 class="refentrytitle">DROP WIDGET</span></a>, <a class="xref"
 href="catalog-pg-widget.html#CATALOG-PG-WIDGET-TABLE" title="pg_widget"><code
 class="structname">pg_widget</code></a></span></div></div>"""

ALTERWIDGET = DOCS + "sql-alterwidget.html"


def test_postgresql_reference_page():
    page = analyse("postgresql", docs_page("ALTER WIDGET", REFERENCE), ALTERWIDGET)
    article = page.article
    assert article is not None
    assert article.url == ALTERWIDGET
    assert article.title == "ALTER WIDGET"
    assert article.lead == "ALTER WIDGET — change the definition of a widget"
    assert article.language == "en"
    assert related(page) == [
        (1, DOCS + "sql-createwidget.html", "CREATE WIDGET", "See Also"),
        (2, DOCS + "sql-dropwidget.html", "DROP WIDGET", "See Also"),
        (3, DOCS + "catalog-pg-widget.html", "pg_widget", "See Also"),
    ]


def test_postgresql_body_is_the_main_content_only():
    article = analyse("postgresql", docs_page("ALTER WIDGET", REFERENCE), ALTERWIDGET).article
    assert article.body.startswith("ALTER WIDGET changes the definition of an existing widget.")
    # A link in another section of the page is text, not a related link.
    assert "see CREATE TABLE for standard ones" in article.body
    for outside in ("CREATE WIDGET", "DROP WIDGET", "pg_widget", "See Also", "Prev", "Next",
                    "Home", "footer", "SQL Commands"):  # fmt: skip
        assert outside not in article.body


def test_postgresql_section_page_without_see_also():
    content = """<div class="sect1" id="DDL-BASICS"><div class="titlepage"><div><div><h2
 class="title" style="clear: both">5.1. Table Basics</h2></div></div></div><a
 id="id-1.5.4.3.2" class="indexterm"></a><p>A table in a relational database is much like a
 table on paper.</p><div class="tip"><h3 class="title">Tip</h3><p>See <a class="xref"
 href="sql-createtable.html" title="CREATE TABLE">CREATE TABLE</a>.</p></div></div>"""
    page = analyse("postgresql", docs_page("5.1. Table Basics", content), DOCS + "ddl-basics.html")
    assert page.article.title == "5.1. Table Basics"
    assert page.article.lead == ""
    assert page.article.body.startswith("A table in a relational database")
    assert page.related_links == ()
    assert DOCS + "sql-createtable.html" in page.links


def test_postgresql_url_rules():
    profile = load_profile("postgresql")
    assert profile.language == "en" and profile.description
    resolved = profile.resolve([DOCS + "index.html", DOCS + "reference.html"])
    assert resolved.start_urls == (DOCS + "index.html", DOCS + "reference.html")
    assert resolved.is_article_url(DOCS + "sql-alterwidget.html")
    assert resolved.should_follow(DOCS + "ddl-basics.html")
    assert not resolved.should_follow(DOCS + "stylesheet.css")


def test_both_profiles_are_built_in():
    assert {"libreoffice", "postgresql"} <= set(builtin_profiles())
