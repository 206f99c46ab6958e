"""Project-wide Scrapy settings for relnews crawls.

``scrapy crawl articles -a profile=demo -a url=http://127.0.0.1:8765/ -s RELNEWS_DB=x.duckdb``
reads these through ``scrapy.cfg``; ``relnews crawl`` starts from them too.
"""

BOT_NAME = "relnews"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# One identifiable User-Agent; RELNEWS_CONTACT (a URL or an e-mail) is appended to it.
USER_AGENT = "relnews/0.1 (+https://github.com/relnews/relnews)"
RELNEWS_CONTACT = ""

ROBOTSTXT_OBEY = True

# Polite by default for remote hosts; `relnews crawl` turns the throttle off for a site
# served on this machine.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_TIMES = 2
# Items go to a queue that one writer thread drains, so processing a page's outputs in
# parallel buys nothing; Scrapy's default (100) starts 100 asyncio tasks per page.
CONCURRENT_ITEMS = 4
DEPTH_LIMIT = 20
# Breadth first, so that a page's depth is its distance from the start pages and the
# depth limit cuts traps, not the far side of a deep but finite site.
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# Error answers reach the spider so that they are recorded as fetches.
HTTPERROR_ALLOW_ALL = True

ITEM_PIPELINES = {"crawler.pipelines.WarehousePipeline": 500}
# Near the downloader: it sees a 304 before the other middlewares, and answers
# replayed pages without a download.
# The guard takes the place of Scrapy's offsite check (host only), first in the chain:
# every request, redirect hop, meta refresh, sitemap and robots.txt passes it.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    # The spider follows meta refreshes itself, like redirects: each hop is recorded.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.guard.UrlGuard": 50,
    # after the retry middleware (550) in the response path: it sees a 503 first
    "crawler.politeness.Politeness": 560,
    "crawler.middlewares.ArchiveMiddleware": 950,
    # last before the download: it counts what goes to the site, not replayed pages
    "crawler.limits.PageLimit": 960,
}
# --max-pages: requests sent to the site, robots.txt and sitemaps included (0: no limit).
RELNEWS_MAX_PAGES = 0
# Crawl-delay and Retry-After, obeyed for remote sites, each capped (seconds).
RELNEWS_POLITE = True
RELNEWS_MAX_CRAWL_DELAY = 30.0
RELNEWS_MAX_RETRY_AFTER = 300.0
# The resolved address is checked at connection time too (DNS rebinding).
TWISTED_DNS_RESOLVER = "crawler.guard.GuardedResolver"
# http and https only: Scrapy's file, data, ftp and s3 handlers would read this
# machine's files or reach other services for a URL a hostile site hands over.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
EXTENSIONS = {"crawler.extensions.ProgressReporter": 500}

# The archive, and how many pages go to it per transaction (written by one thread, in
# order). The file is closed at least every RELNEWS_RELEASE_EVERY seconds, so analysts
# can read it while a crawl runs.
RELNEWS_DB = ""
RELNEWS_BATCH_SIZE = 100
RELNEWS_PROGRESS_EVERY = 2.0  # seconds between progress lines in a log; 0 turns them off
RELNEWS_CONDITIONAL = True  # If-None-Match / If-Modified-Since for stored pages
RELNEWS_RELEASE_EVERY = 5.0  # seconds the file may stay open before readers get a turn
# Seconds to wait for readers to let go of the file (0: as long as they read).
RELNEWS_DB_WAIT = 0.0
RELNEWS_DB_WAIT_NOTICE = 30.0  # seconds between "still waiting for a reader" lines
RELNEWS_REVISIT_DAYS = 7.0  # a stored article not seen for this long is asked for again
RELNEWS_RESUME = True  # take up a crawl that was killed, from where it stopped

TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
