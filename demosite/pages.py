"""The demo site's pages as HTML text: pure functions of (site, base URL, now).

The server only routes and encodes; everything a page says is decided here, so pages
can be rendered and checked without a network. ``now`` is an argument because the
ages shown on pages ("il y a 8 années 4 mois") are computed when a page is served.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from demosite.content import DemoArticle, DemoSite, Rubrique, Theme, relative_age

SITE_NAME = "Santé Démo"
PAGE_SIZE = 10  # articles per rubrique listing page
HOME_NEWEST = 20  # articles listed on the home page
RELATED_HEADING = "Autres actualités sur le même thème"


def age_label(published: datetime, now: datetime) -> str:
    """The age line shown under titles: "Actualité publiée il y a 8 années 4 mois"."""
    return f"Actualité publiée {relative_age(published, now)}"


def _head(
    title: str,
    charset: str,
    canonical: str | None = None,
    description: str = "",
    image: str | None = None,
) -> str:
    lines = [
        "<!DOCTYPE html>",
        '<html lang="fr">',
        f'<head><meta charset="{charset}"><title>{escape(title)} | {SITE_NAME}</title>',
    ]
    if canonical:
        lines.append(f'<link rel="canonical" href="{escape(canonical)}">')
    if image:
        lines.append(f'<meta property="og:image" content="{escape(image)}">')
    lines.append(f'<meta name="description" content="{escape(description)}"></head>')
    return "\n".join(lines)


def image_path(rubrique: Rubrique) -> str:
    """Where a rubrique's picture is served: every article of it shows it (og:image)."""
    return f"/images/{rubrique.slug}.svg"


def rubrique_image(rubrique: Rubrique) -> str:
    """A rubrique's picture: a small SVG banner with its name."""
    # One hue per rubrique, stable across runs.
    hue = sum(rubrique.slug.encode()) * 37 % 360
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="126" viewBox="0 0 240 126">'
        f'<rect width="240" height="126" fill="hsl({hue},45%,45%)"/>'
        '<text x="120" y="70" font-family="sans-serif" font-size="20" fill="#fff"'
        f' text-anchor="middle">{escape(rubrique.name)}</text></svg>\n'
    )


def _header(site: DemoSite) -> str:
    links = " ".join(f'<a href="{r.path}">{escape(r.name)}</a>' for r in site.rubriques)
    return (
        "<body>\n"
        f'<header class="site-header"><a class="logo" href="/">{SITE_NAME}</a>\n'
        f'<nav class="rubriques">{links}</nav></header>'
    )


FOOTER = (
    '<footer class="site-footer"><a href="/admin/login">Espace rédaction</a>'
    ' · <a href="/">Accueil</a></footer>\n'
    "</body></html>\n"
)


def _page(site: DemoSite, title: str, main: str, description: str = "") -> str:
    """A plain utf-8 page: head, header, ``main`` and footer."""
    return "\n".join((_head(title, "utf-8", description=description), _header(site), main, FOOTER))


def _item(article: DemoArticle, now: datetime, lead: bool = False) -> str:
    text = (
        f'<li><a href="{article.path}">{escape(article.title)}</a> '
        f'<span class="age">{age_label(article.published, now)}</span>'
    )
    if lead:
        text += f'<p class="lead">{escape(article.lead)}</p>'
    return text + "</li>"


def theme_link_text(site: DemoSite, theme: Theme) -> str:
    """The theme link under an article: "Plus de 9 études sur la Fibromyalgie"."""
    # "Plus de" is only true below the real count.
    count = max(len(site.theme_articles(theme.slug)) - 1, 1)
    return f"Plus de {count} études sur {theme.phrase}"


def related_age(site: DemoSite, path: str) -> datetime | None:
    """The publication date behind a related link, following the planted faults."""
    faults = site.faults
    if path == faults.redirect_from:
        path = faults.redirect_to
    if path == faults.dead_path:
        return faults.dead_published
    target = site.article_by_path(path)
    return target.published if target else None


def article_page(
    site: DemoSite, article: DemoArticle, base_url: str, now: datetime, charset: str = "utf-8"
) -> str:
    """An article page, in the exact shape the crawler's site profile expects."""
    rubrique = site.rubrique(article.rubrique)
    theme = site.theme(article.theme)
    assert rubrique is not None and theme is not None
    body = "".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    sources = "".join(f"<li>{escape(s)}</li>" for s in article.sources)
    lines = [
        _head(
            article.title,
            charset,
            base_url + article.path,
            article.lead,
            base_url + image_path(rubrique),
        ),
        _header(site),
        "<main>",
        '<article class="news">',
        f'<p class="breadcrumb"><a href="/">Accueil</a> › '
        f'<a class="rubrique" href="{rubrique.path}">{escape(rubrique.name)}</a></p>',
        f'<h1 class="news-title">{escape(article.title)}</h1>',
        f'<p class="news-date">{age_label(article.published, now)}</p>',
        f'<p class="news-lead">{escape(article.lead)}</p>',
        f'<div class="news-body">{body}</div>',
        f'<div class="news-sources"><h3>Sources</h3><ul>{sources}</ul></div>',
        f'<p class="news-theme"><a href="{theme.path}">'
        f"{escape(theme_link_text(site, theme))}</a></p>",
        "</article>",
    ]
    if article.related:
        lines += ['<aside class="related-news">', f"<h2>{RELATED_HEADING}</h2>", "<ul>"]
        for item in article.related:
            published = related_age(site, item.path)
            age = f' <span class="age">{age_label(published, now)}</span>' if published else ""
            lines.append(f'<li><a href="{escape(item.path)}">{escape(item.title)}</a>{age}</li>')
        lines += ["</ul>", "</aside>"]
    lines += ["</main>", FOOTER]
    return "\n".join(lines)


def listing_page(site: DemoSite, rubrique: Rubrique, page: int, now: datetime) -> str | None:
    """Page ``page`` (from 1) of a rubrique's articles, newest first; None past the end."""
    articles = site.rubrique_articles(rubrique.slug)
    pages = max((len(articles) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if not 1 <= page <= pages:
        return None
    shown = articles[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    themes = "".join(
        f'<li><a href="{t.path}">{escape(t.name)}</a></li>'
        for t in site.themes
        if t.rubrique == rubrique.slug
    )
    nav = []
    if page > 1:
        previous = rubrique.path if page == 2 else f"{rubrique.path}?page={page - 1}"
        nav.append(f'<a class="prev" rel="prev" href="{previous}">Page précédente</a>')
    nav.append(f'<span class="page">Page {page} sur {pages}</span>')
    if page < pages:
        nav.append(
            f'<a class="next" rel="next" href="{rubrique.path}?page={page + 1}">Page suivante</a>'
        )
    main = "\n".join(
        [
            '<main class="listing">',
            f'<h1 class="rubrique-title">{escape(rubrique.name)}</h1>',
            f'<ul class="themes">{themes}</ul>',
            '<ul class="news-list">',
            *(_item(a, now, lead=True) for a in shown),
            "</ul>",
            f'<nav class="pagination">{" ".join(nav)}</nav>',
            "</main>",
        ]
    )
    title = rubrique.name if page == 1 else f"{rubrique.name} (page {page})"
    return _page(site, title, main, f"Actualités santé : {rubrique.name}")


def home_page(site: DemoSite, now: datetime) -> str:
    """The home page: every rubrique and the newest articles."""
    rubriques = "".join(f'<li><a href="{r.path}">{escape(r.name)}</a></li>' for r in site.rubriques)
    main = "\n".join(
        [
            '<main class="home">',
            f"<h1>{SITE_NAME} : l’actualité de la recherche en santé</h1>",
            f'<h2>Rubriques</h2>\n<ul class="rubrique-list">{rubriques}</ul>',
            "<h2>Dernières actualités</h2>",
            '<ul class="news-list">',
            *(_item(a, now) for a in site.newest(HOME_NEWEST)),
            "</ul>",
            "</main>",
        ]
    )
    return _page(site, "Accueil", main, "L’actualité de la recherche en santé")


def theme_page(site: DemoSite, theme: Theme, now: datetime) -> str:
    """A theme page listing all of the theme's articles, newest first."""
    rubrique = site.rubrique(theme.rubrique)
    assert rubrique is not None
    main = "\n".join(
        [
            '<main class="theme">',
            f'<p class="breadcrumb"><a href="/">Accueil</a> › '
            f'<a class="rubrique" href="{rubrique.path}">{escape(rubrique.name)}</a></p>',
            f'<h1 class="theme-title">{escape(theme.name)}</h1>',
            '<ul class="news-list">',
            *(_item(a, now) for a in site.theme_articles(theme.slug)),
            "</ul>",
            "</main>",
        ]
    )
    return _page(site, theme.name, main, f"Toutes les études sur {theme.phrase}")


def admin_page(site: DemoSite) -> str:
    """The newsroom login: linked from every page, disallowed by robots.txt."""
    main = (
        '<main class="admin"><h1>Espace rédaction</h1>\n'
        '<form method="post" action="/admin/login"><label>Identifiant '
        '<input name="user"></label> <label>Mot de passe <input name="password" '
        'type="password"></label> <button>Connexion</button></form>\n</main>'
    )
    return _page(site, "Espace rédaction", main)


def not_found_page(site: DemoSite) -> str:
    """The 404 page."""
    main = (
        '<main class="error"><h1>Page introuvable</h1>\n'
        "<p>Cette page n’existe pas ou a été supprimée. "
        '<a href="/">Retour à l’accueil</a></p>\n</main>'
    )
    return _page(site, "Page introuvable", main)


def robots_txt(base_url: str) -> str:
    """robots.txt: everything but the newsroom, and where the sitemap is."""
    return f"User-agent: *\nDisallow: /admin/\nSitemap: {base_url}/sitemap.xml\n"


def sitemap_xml(site: DemoSite, base_url: str) -> str:
    """A sitemaps.org urlset of every article, with the day it last changed as lastmod."""
    urls = "".join(
        f"<url><loc>{escape(base_url + a.path)}</loc>"
        f"<lastmod>{a.last_changed.isoformat(timespec='seconds')}+00:00</lastmod></url>\n"
        for a in site.newest()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}</urlset>\n"
    )
