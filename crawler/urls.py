"""URL canonicalisation: one spelling per page, so traps and trackers do not multiply it."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

#: Query parameters that never change what a page says: trackers and session ids.
NOISE_PARAMETERS = (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "xtor", "at_medium",
    "at_campaign", "ref", "sessionid", "session_id", "sid", "phpsessid", "jsessionid",
    "cfid", "cftoken", "aspsessionid",
)  # fmt: skip

# ";jsessionid=..." and the like, written into the path.
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.IGNORECASE)


@lru_cache(maxsize=1 << 16)  # the same links recur on every page of a site
def canonical_url(url: str) -> str:
    """The one spelling of ``url`` that relnews fetches and stores.

    Drops the fragment, tracking and session parameters (query and ``;jsessionid=`` path
    forms), the default port, and sorts the remaining query parameters.

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
    url = urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
    return canonicalize_url(url, keep_fragments=False)
