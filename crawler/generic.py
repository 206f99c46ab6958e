"""Generic page analysis, for sites with no profile: placeholder, being written."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from crawler.profiles import SiteProfile
from warehouse.model import Article, RelatedLink


def analyse_generic(
    root: etree._Element, url: str, base: str, profile: SiteProfile, fetched_at: datetime
) -> tuple[Article | None, tuple[RelatedLink, ...]]:
    title = " ".join(" ".join(root.xpath("//title//text()")).split())
    body = "\n\n".join(
        " ".join(p.text_content().split()) for p in root.xpath("//p") if p.text_content().strip()
    )
    return (Article(url=url, title=title, body=body) if title else None), ()
