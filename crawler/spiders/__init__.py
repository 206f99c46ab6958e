"""Scrapy spiders: they schedule requests and hand pages to the analysis."""
