"""A French health-news website for the demo and the tests, served on 127.0.0.1.

It is data plus a tiny server, with no crawler logic: ``build_site(seed)`` generates the
articles and their editorial related blocks, ``DemoServer`` serves them.
"""

from demosite.content import (
    DemoArticle,
    DemoFaults,
    DemoSite,
    RelatedItem,
    Rubrique,
    Theme,
    build_site,
    relative_age,
)
from demosite.server import DemoServer

__all__ = [
    "DemoArticle",
    "DemoFaults",
    "DemoServer",
    "DemoSite",
    "RelatedItem",
    "Rubrique",
    "Theme",
    "build_site",
    "relative_age",
]
