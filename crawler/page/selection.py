"""Profile selectors, CSS or ``xpath:``, compiled once into lxml XPath objects."""

from __future__ import annotations

from functools import lru_cache

from cssselect import GenericTranslator, SelectorError
from lxml import etree


@lru_cache(maxsize=512)  # profiles reuse a handful of selectors on every page
def compile_selector(selector: str) -> etree.XPath:
    """The XPath of a CSS selector, or of an ``xpath:`` expression.

    Raises ValueError, with the selector, when it is not valid.
    """
    try:
        if selector.startswith("xpath:"):
            return etree.XPath(selector.removeprefix("xpath:"))
        return etree.XPath(GenericTranslator().css_to_xpath(selector))
    except (SelectorError, etree.XPathSyntaxError) as error:
        kind = "XPath" if selector.startswith("xpath:") else "CSS selector"
        raise ValueError(f"bad {kind} {selector!r}: {error}") from error
