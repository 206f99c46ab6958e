"""URL canonicalisation: one spelling per page, so traps and trackers do not multiply it."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree
from w3lib.url import canonicalize_url, url_query_cleaner

#: Query parameters that never change what a page says: trackers and session ids.
NOISE_PARAMETERS = (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "xtor", "at_medium",
    "at_campaign", "ref", "sessionid", "session_id", "sid", "phpsessid", "jsessionid",
    "cfid", "cftoken", "aspsessionid",
    # Variants of the page itself: a comment-reply form (WordPress), a share button's
    # redirect, the AMP rendering.
    "replytocom", "share", "amp",
)  # fmt: skip

_DOUBLED_SLASHES = re.compile(r"/{2,}")

# ";jsessionid=..." and the like, written into the path.
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.IGNORECASE)


@lru_cache(maxsize=1 << 16)  # the same links recur on every page of a site
def canonical_url(url: str) -> str:
    """The one spelling of ``url`` that relnews fetches and stores.

    Drops the fragment, tracking and session parameters (query and ``;jsessionid=`` path
    forms), the default port and doubled slashes in the path, and sorts the remaining
    query parameters. Other spellings of one page (a trailing slash, ``index.html``, case,
    ``?print=1``) are merged by content when the page is stored, not by URL: on some
    sites they are different pages.

    >>> canonical_url("HTTP://Example.org:80/a;jsessionid=12?utm_source=x&b=2&a=1#top")
    'http://example.org/a?a=1&b=2'
    """
    if not url:
        return url
    url = _PATH_SESSION.sub("", url)
    parts = urlsplit(url)
    if parts.query:
        lowered = {name.lower() for name in NOISE_PARAMETERS}
        names = [pair.split("=", 1)[0] for pair in parts.query.split("&")]
        noisy = [name for name in names if name.lower() in lowered]
        if noisy:
            url = url_query_cleaner(url, noisy, remove=True, keep_fragments=True)
            parts = urlsplit(url)
    netloc = parts.netloc.lower()
    if (parts.scheme == "http" and netloc.endswith(":80")) or (
        parts.scheme == "https" and netloc.endswith(":443")
    ):
        netloc = netloc.rsplit(":", 1)[0]
    # "//x" and "/a//b" are spellings of "/x" and "/a/b" on every common server.
    path = _DOUBLED_SLASHES.sub("/", parts.path) if "//" in parts.path else parts.path
    url = urlunsplit((parts.scheme.lower(), netloc, path or "/", parts.query, ""))
    return canonicalize_url(url, keep_fragments=False)


#: The only schemes relnews ever fetches.
FETCHABLE_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_and_port(entry: str) -> tuple[str, int | None]:
    """An allowed-site entry, ``host`` or ``host:port`` (``[v6]:port`` too), split."""
    parts = urlsplit(f"//{entry.strip().lower()}")
    return (parts.hostname or "", parts.port)


_HOST_LABELS = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?")


def _is_host_name(host: str) -> bool:
    """Whether ``host`` can be a host's name (or address): DNS labels, once IDNA-encoded
    (``exa mple.org`` or a control character cannot be)."""
    if _is_ip(host):
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    return len(ascii_host) <= 253 and bool(_HOST_LABELS.fullmatch(ascii_host))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def fetch_refusal(url: str, allowed_sites: Sequence[str]) -> str | None:
    """Why relnews must not fetch ``url``, or None when it may.

    This is the one rule every URL passes before it is fetched (start URLs, links,
    redirect hops, meta refreshes, sitemaps, robots.txt): the scheme is http or https,
    and the host and port are among ``allowed_sites``. An entry ``host`` allows that host
    and its subdomains on the default ports (80, 443); ``host:port`` allows that port only.

    >>> fetch_refusal("file://example.org/etc/passwd", ["example.org"])
    "scheme 'file' is not http or https"
    >>> fetch_refusal("http://example.org:8080/", ["example.org"])
    'example.org:8080 is not an allowed site'
    >>> fetch_refusal("https://www.example.org/a", ["example.org"]) is None
    True
    """
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in FETCHABLE_SCHEMES:
            return f"scheme {scheme!r} is not http or https" if scheme else "no scheme"
        host = (parts.hostname or "").rstrip(".")
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as error:
        return f"malformed URL ({error})"
    if not host:
        return "no host"
    if not _is_host_name(host):
        return f"{host!r} is not a host name"
    for entry in allowed_sites:
        allowed_host, allowed_port = _host_and_port(entry)
        if allowed_port is None and port not in _DEFAULT_PORTS.values():
            continue
        if allowed_port is not None and port != allowed_port:
            continue
        if host == allowed_host or (not _is_ip(allowed_host) and host.endswith("." + allowed_host)):
            return None
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port} is not an allowed site"


def article_url(url: str, canonical: str | None) -> str:
    """The URL an article is stored under: its canonical link when that is on the page's
    own host and port, else the page's URL (elsewhere it may be a syndication).

    >>> article_url("http://a.org/x?print=1", "http://a.org/x")
    'http://a.org/x'
    >>> article_url("http://a.org/x", "http://mirror.example/x")
    'http://a.org/x'
    """
    if canonical and urlsplit(canonical).netloc == urlsplit(url).netloc:
        return canonical
    return url


def site_entry(url: str) -> str | None:
    """The allowed-site entry of ``url``'s own host and port (``host`` on a default port,
    else ``host:port``), or None for a URL relnews cannot fetch."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if scheme not in FETCHABLE_SCHEMES or not host or not _is_host_name(host):
        return None
    host = f"[{host}]" if ":" in host else host
    return host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"


#: How far into a page relnews looks for a meta refresh: browsers read it from the head.
META_REFRESH_SCAN = 16384
_REFRESH_META = re.compile(r"http-equiv\s*=\s*[\"']?\s*refresh", re.IGNORECASE)
_HTML_SPACE = " \t\n\f\r"
# A browser with scripts on ignores a refresh inside these.
_NOT_READ = ("script", "noscript", "template")


def meta_refresh(text: str, page_url: str) -> tuple[float, str] | None:
    """The delay and the target of the page's ``<meta http-equiv="refresh">``, as a
    browser reads it (the HTML standard's declarative refresh steps), or None.

    relnews reads it itself rather than through a dependency whose parsing changes between
    versions: every target is returned as written, resolved against the page (or its
    ``<base href>``), ``data:`` and ``javascript:`` ones included, so that the one rule of
    :func:`fetch_refusal` decides what is fetched, and a refused target is recorded.

    >>> meta_refresh('<meta http-equiv="Refresh" content="0; URL=\\'/b\\'">', "http://a.org/x")
    (0.0, 'http://a.org/b')
    >>> meta_refresh('<meta http-equiv="refresh" content="5">', "http://a.org/x") is None
    True
    """
    head = text[:META_REFRESH_SCAN]
    if not _REFRESH_META.search(head):
        return None
    try:
        document = lxml.html.document_fromstring(head)
    except (etree.ParserError, ValueError):
        return None
    base = page_url
    for element in document.iter("base"):
        if href := (element.get("href") or "").strip():
            base = urljoin(page_url, href)
            break
    for element in document.iter("meta"):
        if (element.get("http-equiv") or "").strip().lower() != "refresh":
            continue
        if any(parent.tag in _NOT_READ for parent in element.iterancestors()):
            continue
        parsed = _refresh_content(element.get("content") or "")
        if parsed is None:
            continue
        delay, target = parsed
        if not target:
            return None  # a page that reloads itself sends the reader nowhere
        return delay, urljoin(base, target)
    return None


def _refresh_content(content: str) -> tuple[float, str] | None:
    """``content`` of a refresh meta split into (delay, URL as written), or None when a
    browser would ignore it."""
    position = len(content) - len(content.lstrip(_HTML_SPACE))
    digits = position
    while digits < len(content) and content[digits].isascii() and content[digits].isdigit():
        digits += 1
    if digits == position and content[position : position + 1] != ".":
        return None
    delay = float(content[position:digits] or 0)
    position = digits
    while position < len(content) and (content[position] in ".0123456789"):
        position += 1
    rest = content[position:].lstrip(_HTML_SPACE)
    if rest[:1] not in (";", ",", ""):
        return None
    rest = rest[1:].lstrip(_HTML_SPACE)
    if rest[:3].lower() == "url":
        after = rest[3:].lstrip(_HTML_SPACE)
        if after[:1] == "=":
            rest = after[1:].lstrip(_HTML_SPACE)
    if rest[:1] in ("'", '"'):
        quote, rest = rest[0], rest[1:]
        rest = rest.split(quote, 1)[0]
    return delay, rest.strip(_HTML_SPACE)


#: Index file names a server answers for a folder's address.
INDEX_FILES = ("index.html", "index.htm", "index.php", "index.shtml", "default.htm", "default.aspx")


def url_spellings(url: str) -> tuple[str, ...]:
    """The spellings under which an archive may hold the page a reader at ``url`` sees,
    the likeliest first: as given, as the crawler stores it (:func:`canonical_url`: no
    tracking parameters or fragment, scheme and host in lower case), then with and
    without a trailing slash or an index file name. Nothing that cannot be a web
    address: a malformed URL has only itself.

    >>> url_spellings("HTTP://News.Example.org/a/?utm_source=x#top")[:4]
    ('HTTP://News.Example.org/a/?utm_source=x#top', 'http://news.example.org/a/', \
'http://news.example.org/a', 'http://news.example.org/a/index.html')
    """
    url = url.strip()
    spellings = [url]
    try:
        stored = canonical_url(url)
        parts = urlsplit(stored)
    except ValueError:
        return tuple(spellings)
    if parts.scheme not in FETCHABLE_SCHEMES or not parts.netloc:
        return tuple(spellings)
    spellings.append(stored)
    path = parts.path or "/"
    folder, _, last = path.rpartition("/")
    if last.lower() in INDEX_FILES:
        paths = [folder + "/", folder] if folder else ["/"]
    elif path.endswith("/"):
        paths = [path.rstrip("/")] if path != "/" else []
        paths += [path + name for name in INDEX_FILES]
    else:
        paths = [path + "/"] + [f"{path}/{name}" for name in INDEX_FILES]
    for other in paths:
        spellings.append(urlunsplit((parts.scheme, parts.netloc, other, parts.query, "")))
    return tuple(dict.fromkeys(spelling for spelling in spellings if spelling))
