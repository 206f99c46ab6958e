"""Page analysis, the pure half of the crawler: HTML in, records out.

``crawler.page.analysis.analyse_page(html, url, profile, fetched_at)`` reads one page
into an Article and its related links. Nothing here imports Scrapy, a clock, the network
or the warehouse's writer (an import-linter contract checks it); the rest of
``crawler/`` is the Scrapy half that fetches pages and hands them over.

- ``analysis``: a page read as its profile says (selectors) or generically
- ``html``: parsing, selecting, text, links: the steps the readers share
- ``generic``, ``metadata``, ``related_detection``: generic mode (no selectors)
- ``dates``, ``charset``, ``urls``, ``selection``: dates, encodings, URL rules, selectors
"""
