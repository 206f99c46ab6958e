"""A user's first crawl: the profile chosen by the site, meta refreshes read by relnews."""

from __future__ import annotations

import pytest

from crawler.page.urls import fetch_refusal, meta_refresh
from crawler.profiles import profile_for

PAGE = "http://news.example.org/a/page.html"


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ('<meta http-equiv="refresh" content="0; url=/b">', (0.0, "http://news.example.org/b")),
        ("<meta http-equiv=REFRESH content='3;URL=\"c.html\"'>", (3.0, "http://news.example.org/a/c.html")),
        ('<meta http-equiv="refresh" content="0, url = d">', (0.0, "http://news.example.org/a/d")),
        ('<meta http-equiv="refresh" content="1; e">', (1.0, "http://news.example.org/a/e")),
        # what a browser would open is returned as it is: the fetch rule refuses it
        ('<meta http-equiv="refresh" content="0; url=data:text/html,x">',
         (0.0, "data:text/html,x")),
        ('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
         (0.0, "javascript:alert(1)")),
        ('<meta http-equiv="refresh" content="0;url=file:///etc/passwd">',
         (0.0, "file:///etc/passwd")),
        ('<base href="http://news.example.org/x/"><meta http-equiv="refresh" content="0;url=f">',
         (0.0, "http://news.example.org/x/f")),
        # nothing to follow: a reload of the page itself, a bad delay, a refresh for no-script
        ('<meta http-equiv="refresh" content="30">', None),
        ('<meta http-equiv="refresh" content="soon; url=/g">', None),
        ('<noscript><meta http-equiv="refresh" content="0;url=/h"></noscript>', None),
        ('<p>http-equiv="refresh" is explained here</p>', None),
    ],
)  # fmt: skip
def test_meta_refresh_is_read_as_a_browser_reads_it(markup, expected):
    assert meta_refresh(f"<html><head>{markup}</head><body></body></html>", PAGE) == expected


@pytest.mark.parametrize(
    "target", ["data:text/html,x", "javascript:alert(1)", "file:///etc/passwd"]
)
def test_a_meta_refresh_out_of_http_is_refused_by_the_fetch_rule(target):
    refusal = fetch_refusal(target, ["news.example.org"])
    assert refusal is not None and "not http or https" in refusal


@pytest.mark.parametrize(
    ("url", "profile"),
    [
        ("https://www.santelog.com/news/x", "santelog"),
        ("https://santelog.com/", "santelog"),
        ("http://127.0.0.1:8765/", "generic"),  # the demo's profile is chosen by name only
        ("https://blog.example.org/", "generic"),
    ],
)
def test_a_crawl_without_a_profile_takes_the_one_written_for_its_host(url, profile):
    assert profile_for([url]).name == profile
