"""Everything that writes to the archive.

Every write is idempotent: storing the same page twice adds a fetch row (a fetch did
happen) but no article, no version and no related link.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import duckdb

from warehouse.database import one_row
from warehouse.model import Article, PageRecord, RelatedLink

#: Shortest body (characters) for which equal content makes two URLs one article.
MIN_MERGED_BODY = 200

#: HTTP answers that say an article is gone for good.
GONE_STATUSES = (404, 410)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _site_of(url: str) -> str:
    return urlsplit(url).netloc


@dataclass(frozen=True)
class _Gone:
    """A 404 or 410 answer for ``url``, in batch order."""

    url: str
    fetched_at: datetime


@dataclass(frozen=True)
class _Sighting:
    """An article read from a page (a fetch of this batch or an earlier one), in batch order."""

    fetch_id: int
    fetched_at: datetime
    article: Article
    links: Sequence[RelatedLink]


# The columns of each table as a batch binds them: (name, DuckDB type).
_CAPTURE_COLUMNS = (
    ("content_hash", "VARCHAR"),
    ("compression", "VARCHAR"),
    ("body", "BLOB"),
    ("bytes", "INTEGER"),
)
_FETCH_COLUMNS = (
    ("fetch_id", "BIGINT"),
    ("run_id", "INTEGER"),
    ("url", "VARCHAR"),
    ("final_url", "VARCHAR"),
    ("status", "INTEGER"),
    ("fetched_at", "TIMESTAMP"),
    ("content_type", "VARCHAR"),
    ("encoding", "VARCHAR"),
    ("etag", "VARCHAR"),
    ("last_modified", "VARCHAR"),
    ("content_hash", "VARCHAR"),
    ("bytes", "INTEGER"),
    ("error", "VARCHAR"),
    ("is_article", "BOOLEAN"),
    ("warnings", "VARCHAR"),
)
_ALIAS_COLUMNS = (
    ("alias_url", "VARCHAR"),
    ("url", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("last_seen_run", "INTEGER"),
)
_ARTICLE_COLUMNS = (
    ("url", "VARCHAR"),
    ("site", "VARCHAR"),
    ("first_seen_run", "INTEGER"),
    ("last_seen_run", "INTEGER"),
    ("first_seen_at", "TIMESTAMP"),
    ("last_seen_at", "TIMESTAMP"),
    ("gone_at", "TIMESTAMP"),
    ("latest_version_id", "BIGINT"),
)
_VERSION_COLUMNS = (
    ("version_id", "BIGINT"),
    ("url", "VARCHAR"),
    ("content_hash", "VARCHAR"),
    ("run_id", "INTEGER"),
    ("fetch_id", "BIGINT"),
    ("fetched_at", "TIMESTAMP"),
    ("title", "VARCHAR"),
    ("lead", "VARCHAR"),
    ("body", "VARCHAR"),
    ("published_at", "TIMESTAMP"),
    ("published_source", "VARCHAR"),
    ("published_precision", "VARCHAR"),
    ("modified_at", "TIMESTAMP"),
    ("modified_source", "VARCHAR"),
    ("modified_precision", "VARCHAR"),
    ("rubrique", "VARCHAR"),
    ("tags", "VARCHAR[]"),
    ("author", "VARCHAR"),
    ("language", "VARCHAR"),
    ("canonical_url", "VARCHAR"),
    ("sources", "VARCHAR[]"),
    ("theme", "VARCHAR"),
    ("theme_url", "VARCHAR"),
    ("date_conflicts", "VARCHAR[]"),
    ("published_utc_offset", "INTEGER"),
    ("published_local_day", "DATE"),
    ("image", "VARCHAR"),
)
_LINK_COLUMNS = (
    ("source_url", "VARCHAR"),
    ("target_url", "VARCHAR"),
    ("position", "INTEGER"),
    ("anchor_text", "VARCHAR"),
    ("displayed_age", "VARCHAR"),
    ("target_published_at", "TIMESTAMP"),
    ("target_published_precision", "VARCHAR"),
    ("heading", "VARCHAR"),
    ("source_version_id", "BIGINT"),
    ("first_seen_run", "INTEGER"),
    ("last_seen_run", "INTEGER"),
    ("found_by", "VARCHAR"),
    ("confidence", "DOUBLE"),
)

_SIGHTING_COLUMNS = (
    ("run_id", "INTEGER"),
    ("source_url", "VARCHAR"),
    ("target_url", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("position", "INTEGER"),
)


# A block whose links (under one heading) are the same on at least this many pages, and
# on this share of a site's pages with a block, is site furniture.
SITE_WIDE_MIN_PAGES = 5
SITE_WIDE_SHARE = 0.5

_RECOMMENDATION_COLUMNS = (
    ("model_id", "VARCHAR"),
    ("source_url", "VARCHAR"),
    ("rank", "INTEGER"),
    ("target_url", "VARCHAR"),
    ("score", "DOUBLE"),
    ("shared_terms", "VARCHAR[]"),
    ("backfill", "BOOLEAN"),
    ("in_sample", "BOOLEAN"),
)


def _mergeable(article: Article) -> bool:
    """Whether ``article``'s body is long enough for equal content to prove one page."""
    return len(article.body) >= MIN_MERGED_BODY


#: Index files a server serves for their folder.
_INDEX_FILE = re.compile(r"/(?:index|default)\.(?:html?|php|aspx?)$", re.IGNORECASE)


def _spelling(url: str) -> str:
    """What the spellings of one URL share: host and port, and the path without case,
    doubled or trailing slashes, an index file name or the query
    (``http://a.org/X/index.html?print=1`` -> ``a.org/x``)."""
    parts = urlsplit(url)
    path = _INDEX_FILE.sub("/", parts.path)
    path = re.sub(r"/{2,}", "/", path).rstrip("/").lower()
    return f"{parts.netloc.lower()}{path}"


def _names(columns: Sequence[tuple[str, str]]) -> str:
    return ", ".join(name for name, _ in columns)


def _version_row(version_id: int, run_id: int, sighting: _Sighting, content_hash: str) -> tuple:
    article = sighting.article
    published, modified = article.published, article.modified
    return (
        version_id,
        article.url,
        content_hash,
        run_id,
        sighting.fetch_id,
        sighting.fetched_at,
        article.title,
        article.lead,
        article.body,
        published.value if published else None,
        published.source if published else None,
        published.precision if published else None,
        modified.value if modified else None,
        modified.source if modified else None,
        modified.precision if modified else None,
        article.rubrique,
        list(article.tags),
        article.author,
        article.language,
        article.canonical_url,
        list(article.sources),
        article.theme,
        article.theme_url,
        list(article.date_conflicts),
        published.utc_offset if published else None,
        published.local_day if published else None,
        article.image,
    )


class Writer:
    """Writes crawl results and recommender output through one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    # -- crawl runs ---------------------------------------------------------------

    def start_run(self, site: str, profile: str, started_at: datetime | None = None) -> int:
        """Record a new crawl run and return its id."""
        row = one_row(
            self.con.execute(
                "INSERT INTO crawl_runs (site, profile, started_at) VALUES (?, ?, ?)"
                " RETURNING run_id",
                [site, profile, started_at or _now()],
            )
        )
        return int(row[0])

    def resumable_run(self, site: str, profile: str) -> int | None:
        """The run of this site and profile that was cut off (still 'running'), if any.

        Call it only while holding the archive's crawl lock: then no other process is
        running that crawl, and a 'running' run is one that was killed.
        """
        row = self.con.execute(
            "SELECT max(run_id) FROM crawl_runs WHERE site = ? AND profile = ?"
            " AND status IN ('running', 'interrupted')",
            [site, profile],
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def finish_run(
        self,
        run_id: int,
        status: str,
        stats: Mapping[str, object] | None = None,
        finished_at: datetime | None = None,
        counts: dict[str, int] | None = None,
    ) -> dict[str, int]:
        """Close a run with its status and counters (``counts``: from :meth:`run_counts`,
        read now when not given); return the counters."""
        self.mark_site_wide_blocks()
        counts = counts or self.run_counts(run_id)
        self.con.execute(
            "UPDATE crawl_runs SET finished_at = ?, status = ?, pages_fetched = ?, errors = ?,"
            " articles_new = ?, versions_new = ?, links_new = ?, stats = ? WHERE run_id = ?",
            [
                finished_at or _now(),
                status,
                counts["pages_fetched"],
                counts["errors"],
                counts["articles_new"],
                counts["versions_new"],
                counts["links_new"],
                json.dumps(dict(stats or {}), default=str),
                run_id,
            ],
        )
        return counts

    def mark_site_wide_blocks(self) -> int:
        """Mark as site furniture ("site-wide", confidence 0) the blocks found in generic
        mode whose links are the same on most pages of a site ("Most read", "Latest",
        one box on every page, less the page itself): a page's related block is its
        own. A block is one heading's links on one page, furniture when most of its
        links stand under that heading on most of the site's pages; return how many
        links were marked."""
        # A box that stops being site-wide is found again as the page's own block the
        # next time that page is read (its links are then written anew).
        sql = """
            UPDATE related_links
            SET found_by = 'site-wide', confidence = 0.0
            WHERE found_by IN ('heading', 'name', 'shape')
              AND source_url || chr(10) || coalesce(heading, '') IN (
                WITH current AS (
                    SELECT l.source_url, coalesce(l.heading, '') AS heading, l.target_url,
                           a.site
                    FROM related_links l JOIN articles a ON a.url = l.source_url
                    JOIN link_sightings s ON s.run_id = a.last_seen_run
                     AND s.source_url = l.source_url AND s.target_url = l.target_url
                    WHERE a.gone_at IS NULL
                      AND l.found_by IN ('heading', 'name', 'shape', 'site-wide')
                ),
                pages AS (
                    SELECT site, count(DISTINCT source_url) AS n FROM current GROUP BY site
                ),
                frequent AS (  -- one heading's link found on most pages of the site
                    SELECT c.site, c.heading, c.target_url
                    FROM current c JOIN pages p USING (site)
                    GROUP BY c.site, c.heading, c.target_url, p.n
                    HAVING count(DISTINCT c.source_url) >= greatest($min_pages, $share * p.n)
                ),
                blocks AS (  -- ...and a block made mostly of such links
                    SELECT c.site, c.source_url, c.heading
                    FROM current c LEFT JOIN frequent f USING (site, heading, target_url)
                    GROUP BY c.site, c.source_url, c.heading
                    HAVING 2 * count(f.target_url) >= count(*)
                )
                SELECT source_url || chr(10) || heading FROM blocks
              )
        """
        cursor = self.con.execute(sql, {"min_pages": SITE_WIDE_MIN_PAGES, "share": SITE_WIDE_SHARE})
        row = cursor.fetchone()
        return int(row[0]) if row else 0

    def run_counts(self, run_id: int) -> dict[str, int]:
        """What a run has stored so far."""
        cursor = self.con.execute(
            """
            SELECT
              (SELECT count(*) FROM fetches WHERE run_id = $run),
              (SELECT count(*) FROM fetches WHERE run_id = $run AND status IS NOT NULL),
              (SELECT count(*) FROM fetches WHERE run_id = $run
                 AND (status IS NULL OR status >= 500 OR error IS NOT NULL)),
              (SELECT count(*) FROM fetches WHERE run_id = $run AND status IN (404, 410)),
              (SELECT count(*) FROM fetches WHERE run_id = $run AND status = 304),
              (SELECT count(*) FROM articles WHERE first_seen_run = $run),
              (SELECT count(*) FROM article_versions WHERE run_id = $run),
              (SELECT count(*) FROM link_sightings s WHERE s.run_id = $run
                 AND NOT EXISTS (SELECT 1 FROM link_sightings e WHERE e.run_id < $run
                   AND e.source_url = s.source_url AND e.target_url = s.target_url)),
              (SELECT count(*) FROM articles WHERE gone_at >=
                 (SELECT started_at FROM crawl_runs WHERE run_id = $run)),
              (SELECT count(*) FROM fetches WHERE run_id = $run AND warnings IS NOT NULL)
            """,
            {"run": run_id},
        )
        row = one_row(cursor)
        keys = (
            "pages_fetched",  # every fetch row, failed attempts included
            "answered",  # fetches the server answered (with any status)
            "errors",
            "gone",
            "not_modified",
            "articles_new",
            "versions_new",
            "links_new",
            "articles_gone",  # articles this run found gone (a dead link fetched again: no)
            "warnings",  # pages stored with something that could not be read
        )
        return dict(zip(keys, (int(value) for value in row), strict=True))

    # -- pages --------------------------------------------------------------------
    #
    # A batch is written with a handful of set-based statements, one or two per table,
    # whatever its size: each table's rows go in as one statement whose columns are
    # bound as lists (``SELECT unnest(?::T[]), ...``), which DuckDB binds far faster than
    # one row at a time or a long ``VALUES`` list. What depends on the order of the
    # records (the latest version of an article, whether it is gone, which attributes of
    # a related link win) is worked out in Python first, in record order, so the batch
    # ends exactly as if its records had been stored one after the other.

    def write_pages(self, run_id: int, records: Iterable[PageRecord]) -> int:
        """Store a batch of fetched pages in one transaction; return how many."""
        records = list(records)
        if not records:
            return 0
        with self._transaction():
            fetch_ids = self._write_fetches(run_id, records)
            aliases: dict[str, tuple[str, str]] = {}
            events: list[_Gone | _Sighting] = []
            for record, fetch_id in zip(records, fetch_ids, strict=True):
                fetch, article = record.fetch, record.article
                if fetch.final_url and fetch.final_url != fetch.url and fetch.error is None:
                    target = article.url if article else fetch.final_url
                    aliases[fetch.url] = (target, "redirect")
                if fetch.status in GONE_STATUSES:
                    events.append(_Gone(fetch.url, fetch.fetched_at))
                if article is None:
                    continue
                fetched_url = fetch.final_url or fetch.url
                if fetched_url != article.url:
                    aliases[fetched_url] = (article.url, "canonical")
                events.append(_Sighting(fetch_id, fetch.fetched_at, article, record.related_links))
            events = self._merge_same_content(events, aliases)
            self._write_aliases(run_id, aliases)
            self._write_articles(run_id, events)
        return len(records)

    def _merge_same_content(
        self, events: list[_Gone | _Sighting], aliases: dict[str, tuple[str, str]]
    ) -> list[_Gone | _Sighting]:
        """One page under several spellings (``/x/``, ``/x/index.html``, ``/X``,
        ``?print=1``...) is one article: a sighting of a URL that is no archived article
        yet, whose content is that of a live article spelled alike (:func:`_spelling`) or
        of an earlier such sighting in this batch, is a sighting of that article, and its
        URL an alias of it ("same content"). Equal content under other paths (a manual's
        language copies, an index repeating a page) stays apart, and so do bodies shorter
        than MIN_MERGED_BODY: an empty shell proves nothing.
        """
        sightings = [e for e in events if isinstance(e, _Sighting) and _mergeable(e.article)]
        if not sightings:
            return events
        urls = list({s.article.url for s in sightings})
        known = {
            row[0]
            for row in self.con.execute(
                "SELECT url FROM articles WHERE url IN (SELECT unnest(?::VARCHAR[]))", [urls]
            ).fetchall()
        }
        hashes = list({s.article.content_hash() for s in sightings})
        owner: dict[tuple[str, str], str] = {}  # (spelling, content hash) -> article URL
        for content_hash, url in self.con.execute(
            "SELECT DISTINCT v.content_hash, v.url FROM article_versions v JOIN articles a"
            " ON a.url = v.url WHERE a.gone_at IS NULL"
            " AND v.content_hash IN (SELECT unnest(?::VARCHAR[])) ORDER BY v.url",
            [hashes],
        ).fetchall():
            owner.setdefault((_spelling(url), content_hash), url)
        merged: list[_Gone | _Sighting] = []
        for event in events:
            if isinstance(event, _Sighting) and _mergeable(event.article):
                url = event.article.url
                first = owner.setdefault((_spelling(url), event.article.content_hash()), url)
                if first != url and url not in known:
                    aliases[url] = (first, "same content")
                    for alias, (target, reason) in list(aliases.items()):
                        if target == url:  # a redirect or canonical alias follows it
                            aliases[alias] = (first, reason)
                    event = _Sighting(
                        event.fetch_id,
                        event.fetched_at,
                        dataclasses.replace(event.article, url=first),
                        event.links,
                    )
            merged.append(event)
        return merged

    def write_analyses(
        self,
        run_id: int,
        analyses: Iterable[tuple[int, datetime, Article, Sequence[RelatedLink]]],
    ) -> int:
        """Store re-analysed pages ``(fetch_id, fetched_at, article, related links)`` of
        earlier fetches, in one transaction; no fetch is recorded.

        The readings and the links they show are recorded as the reanalysis's own
        (``page_reads``, ``link_sightings``: kind 'reanalyse'); a link's first and last
        crawl (``related_links.first_seen_run``, ``last_seen_run``) are not moved by
        them, but a link no crawl had found gets the run of the fetch re-read.
        """
        events = [_Sighting(*analysis) for analysis in analyses]
        if not events:
            return 0
        with self._transaction():
            # The crawl that fetched each page re-read: a link only the reanalysis
            # finds was on the page that crawl read.
            fetch_runs = dict(
                self.con.execute(
                    "SELECT fetch_id, run_id FROM fetches"
                    " WHERE fetch_id IN (SELECT unnest(?::BIGINT[]))",
                    [list({event.fetch_id for event in events})],
                ).fetchall()
            )
            self._write_articles(run_id, events, reanalysis_of=fetch_runs)
        return len(events)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
            self.con.execute("COMMIT")
        except BaseException as error:
            # A failed COMMIT (disk full...) has ended the transaction already: the error
            # to report is the first one, not "no transaction is active".
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            raise error

    def _insert(self, sql: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple]) -> None:
        """Run ``sql`` (which names ``rows``) with ``rows`` bound as one list per column."""
        select = ", ".join(f"unnest(?::{kind}[]) AS {name}" for name, kind in columns)
        values = [list(column) for column in zip(*rows, strict=True)]
        self.con.execute(sql.replace("{rows}", f"(SELECT {select})"), values)

    def _next_ids(self, sequence: str, n: int) -> list[int]:
        """``n`` fresh values of ``sequence``, in increasing order."""
        if n == 0:
            return []
        rows = self.con.execute(
            f"SELECT nextval('{sequence}') AS id FROM range(?) ORDER BY id", [n]
        ).fetchall()
        return [int(row[0]) for row in rows]

    def _write_fetches(self, run_id: int, records: Sequence[PageRecord]) -> list[int]:
        """Store the batch's captures (once per content) and fetches; return the fetch ids."""
        content_hashes = [record.fetch.content_hash for record in records]
        bodies = {  # a 304 has no body: it confirms a capture already stored
            content_hash: record.fetch.body
            for content_hash, record in zip(content_hashes, records, strict=True)
            if record.fetch.body is not None
        }
        if bodies:
            stored = self.con.execute(
                "SELECT content_hash FROM captures"
                " WHERE content_hash IN (SELECT unnest(?::VARCHAR[]))",
                [list(bodies)],
            ).fetchall()
            for (content_hash,) in stored:  # stored already: no need to compress it again
                del bodies[content_hash]
        if bodies:
            self._insert(
                "INSERT INTO captures SELECT * FROM {rows} ON CONFLICT DO NOTHING",
                _CAPTURE_COLUMNS,
                [(h, "zlib", zlib.compress(body, 6), len(body)) for h, body in bodies.items()],
            )
        fetch_ids = self._next_ids("fetch_ids", len(records))
        rows = []
        for fetch_id, content_hash, record in zip(fetch_ids, content_hashes, records, strict=True):
            fetch = record.fetch
            rows.append(
                (
                    fetch_id,
                    run_id,
                    fetch.url,
                    fetch.final_url,
                    fetch.status,
                    fetch.fetched_at,
                    fetch.content_type,
                    fetch.encoding,
                    fetch.etag,
                    fetch.last_modified,
                    content_hash,
                    len(fetch.body) if fetch.body is not None else None,  # bytes sent
                    fetch.error,
                    record.article is not None,
                    fetch.warnings,
                )
            )
        self._insert(
            f"INSERT INTO fetches ({_names(_FETCH_COLUMNS)}) SELECT * FROM {{rows}}",
            _FETCH_COLUMNS,
            rows,
        )
        return fetch_ids

    def _write_aliases(self, run_id: int, aliases: Mapping[str, tuple[str, str]]) -> None:
        if not aliases:
            return
        self._insert(
            "INSERT INTO url_aliases SELECT * FROM {rows} ON CONFLICT (alias_url) DO UPDATE"
            " SET url = excluded.url, reason = excluded.reason,"
            " last_seen_run = excluded.last_seen_run",
            _ALIAS_COLUMNS,
            [(alias, url, reason, run_id) for alias, (url, reason) in aliases.items()],
        )

    def _write_articles(
        self,
        run_id: int,
        events: Sequence[_Gone | _Sighting],
        reanalysis_of: Mapping[int, int] | None = None,
    ) -> None:
        """Articles, their versions and related links, and 404/410 answers, in order;
        each sighting recorded as a reading of the run (``page_reads``) with the links
        it showed (``link_sightings``). ``reanalysis_of`` (a reanalysis: the run of each
        fetch re-read) makes them the reanalysis's own readings."""
        sightings = [event for event in events if isinstance(event, _Sighting)]
        seen_urls = {sighting.article.url for sighting in sightings}

        # gone_at: a sighting clears it; a 404/410 sets it when it is not set. For an
        # article seen in this batch only the answers after its last sighting count.
        gone: dict[str, datetime | None] = {}  # articles seen in this batch
        gone_elsewhere: dict[str, datetime] = {}  # other URLs: the first answer counts
        for event in events:
            if isinstance(event, _Sighting):
                gone[event.article.url] = None
            elif event.url not in seen_urls:
                gone_elsewhere.setdefault(event.url, event.fetched_at)
            elif event.url in gone and gone[event.url] is None:
                gone[event.url] = event.fetched_at
        if gone_elsewhere:
            self._insert(
                "UPDATE articles SET gone_at = g.gone_at FROM {rows} AS g"
                " WHERE articles.url = g.url AND articles.gone_at IS NULL",
                (("url", "VARCHAR"), ("gone_at", "TIMESTAMP")),
                list(gone_elsewhere.items()),
            )
        if not sightings:
            return

        # Versions: one per distinct (url, content hash), the first sighting's.
        keys = [(s.article.url, s.article.content_hash()) for s in sightings]
        distinct = list(dict.fromkeys(keys))
        version_ids: dict[tuple[str, str], int] = {
            (url, content_hash): int(version_id)
            for url, content_hash, version_id in self.con.execute(
                "SELECT v.url, v.content_hash, v.version_id FROM article_versions v"
                " JOIN (SELECT unnest(?::VARCHAR[]) AS url, unnest(?::VARCHAR[]) AS h) b"
                " ON v.url = b.url AND v.content_hash = b.h",
                [[url for url, _ in distinct], [h for _, h in distinct]],
            ).fetchall()
        }
        new_keys = [key for key in distinct if key not in version_ids]
        version_ids.update(zip(new_keys, self._next_ids("version_ids", len(new_keys)), strict=True))
        new_versions: list[tuple] = []
        todo = set(new_keys)
        for sighting, key in zip(sightings, keys, strict=True):
            if key in todo:
                todo.discard(key)
                new_versions.append(_version_row(version_ids[key], run_id, sighting, key[1]))
        if new_versions:
            self._insert(
                f"INSERT INTO article_versions ({_names(_VERSION_COLUMNS)}) SELECT * FROM {{rows}}",
                _VERSION_COLUMNS,
                new_versions,
            )

        # Articles: first and last sighting; the latest version is the last sighting's.
        articles: dict[str, tuple] = {}
        for sighting, key in zip(sightings, keys, strict=True):
            url = sighting.article.url
            first_seen_at = articles[url][4] if url in articles else sighting.fetched_at
            articles[url] = (
                url,
                _site_of(url),
                run_id,
                run_id,
                first_seen_at,
                sighting.fetched_at,
                gone[url],
                version_ids[key],
            )
        self._insert(
            f"INSERT INTO articles ({_names(_ARTICLE_COLUMNS)}) SELECT * FROM {{rows}}"
            " ON CONFLICT (url) DO UPDATE SET last_seen_run = excluded.last_seen_run,"
            " last_seen_at = excluded.last_seen_at, gone_at = excluded.gone_at,"
            " latest_version_id = excluded.latest_version_id",
            _ARTICLE_COLUMNS,
            list(articles.values()),
        )

        # Readings: one per (run, article), whatever the number of sightings.
        kind = "crawl" if reanalysis_of is None else "reanalyse"
        self._insert(
            "INSERT INTO page_reads SELECT * FROM {rows} ON CONFLICT DO NOTHING",
            (("run_id", "INTEGER"), ("url", "VARCHAR"), ("kind", "VARCHAR")),
            [(run_id, url, kind) for url in articles],
        )

        # Related links: the last sighting of a (source, target) gives its attributes;
        # within one page, a target listed twice keeps its first position. The run that
        # saw it is a crawl's: this one, or the one whose page a reanalysis re-read.
        links: dict[tuple[str, str], tuple] = {}
        for sighting, key in zip(sightings, keys, strict=True):
            seen_run = run_id if reanalysis_of is None else reanalysis_of[sighting.fetch_id]
            positions: dict[str, int] = {}
            for link in sighting.links:
                position = positions.setdefault(link.target_url, link.position)
                target_date = link.target_published
                links[(sighting.article.url, link.target_url)] = (
                    sighting.article.url,
                    link.target_url,
                    position,
                    link.anchor_text,
                    link.displayed_age,
                    target_date.value if target_date else None,
                    target_date.precision if target_date else None,
                    link.heading,
                    version_ids[key],
                    seen_run,
                    seen_run,
                    link.found_by,
                    link.confidence,
                )
        if links:
            self._insert(
                "INSERT INTO related_links SELECT * FROM {rows}"
                " ON CONFLICT (source_url, target_url) DO UPDATE SET"
                " position = excluded.position, anchor_text = excluded.anchor_text,"
                " displayed_age = excluded.displayed_age,"
                " target_published_at = excluded.target_published_at,"
                " target_published_precision = excluded.target_published_precision,"
                " heading = excluded.heading, source_version_id = excluded.source_version_id,"
                " first_seen_run = least(related_links.first_seen_run, excluded.first_seen_run),"
                " last_seen_run = greatest(related_links.last_seen_run, excluded.last_seen_run),"
                " found_by = excluded.found_by, confidence = excluded.confidence",
                _LINK_COLUMNS,
                list(links.values()),
            )
            self._insert(
                "INSERT INTO link_sightings SELECT * FROM {rows}"
                " ON CONFLICT DO UPDATE SET position = excluded.position",
                _SIGHTING_COLUMNS,
                [(run_id, source, target, kind, row[2]) for (source, target), row in links.items()],
            )

    # -- editors' rules -------------------------------------------------------------

    def set_editor_rule(
        self, source_url: str, target_url: str, rule: str, note: str | None = None
    ) -> str:
        """Pin or block a target for a source ('*': every source, blocks only).

        One rule per pair, so that an editor's latest word wins: the other rule of the
        pair is replaced. Setting the same rule again keeps its date (a pin keeps its
        place) and updates the note when one is given. Returns "added", "replaced" or
        "kept".
        """
        with self._transaction():
            row = self.con.execute(
                "SELECT rule FROM editor_rules WHERE source_url = ? AND target_url = ?",
                [source_url, target_url],
            ).fetchone()
            if row is None:
                self.con.execute(
                    "INSERT INTO editor_rules VALUES (?, ?, ?, ?, ?)",
                    [source_url, target_url, rule, _now(), note],
                )
                return "added"
            if row[0] != rule:
                self.con.execute(
                    "UPDATE editor_rules SET rule = ?, created_at = ?, note = ?"
                    " WHERE source_url = ? AND target_url = ?",
                    [rule, _now(), note, source_url, target_url],
                )
                return "replaced"
            if note is not None:
                self.con.execute(
                    "UPDATE editor_rules SET note = ? WHERE source_url = ? AND target_url = ?",
                    [note, source_url, target_url],
                )
            return "kept"

    def remove_editor_rule(self, source_url: str, target_url: str, rule: str) -> bool:
        """Drop a pin or a block; False when there was no such rule."""
        with self._transaction():
            found = one_row(
                self.con.execute(
                    "SELECT count(*) FROM editor_rules"
                    " WHERE source_url = ? AND target_url = ? AND rule = ?",
                    [source_url, target_url, rule],
                )
            )[0]
            self.con.execute(
                "DELETE FROM editor_rules WHERE source_url = ? AND target_url = ? AND rule = ?",
                [source_url, target_url, rule],
            )
        return bool(found)

    # -- recommender output -------------------------------------------------------

    def save_model(
        self,
        model_id: str,
        method: str,
        params: Mapping[str, object],
        n_articles: int,
        path: str | None = None,
        choice: Mapping[str, object] | None = None,
    ) -> None:
        """Record a fitted model (idempotent on ``model_id``); ``choice``: why its method
        serves the lists (every candidate's validation score...)."""
        self.con.execute(
            "INSERT INTO models (model_id, created_at, method, params, n_articles, path, choice)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model_id) DO UPDATE"
            # refitted now: the newest again (another method may have served meanwhile)
            " SET created_at = excluded.created_at, params = excluded.params,"
            " n_articles = excluded.n_articles, path = excluded.path, choice = excluded.choice",
            [
                model_id, _now(), method, json.dumps(dict(params), default=str), n_articles, path,
                None if choice is None else json.dumps(dict(choice), default=str),
            ],
        )  # fmt: skip

    def save_recommendations(self, model_id: str, rows: Iterable[Sequence[Any]]) -> int:
        """Replace a model's lists with ``(source_url, rank, target_url, score, terms,
        backfill, in_sample)`` rows (the last two may be left out: false, NULL).

        One set-based insert per 200,000 rows: a million rows take seconds, not minutes.
        """
        table = _recommendation_rows(model_id, rows)
        with self._transaction():
            self.con.execute("DELETE FROM recommendations WHERE model_id = ?", [model_id])
            for start in range(0, len(table), 200_000):
                self._insert(
                    "INSERT INTO recommendations BY NAME SELECT * FROM {rows}",
                    _RECOMMENDATION_COLUMNS,
                    table[start : start + 200_000],
                )
        return len(table)

    def add_recommendations(self, model_id: str, rows: Iterable[Sequence[Any]]) -> int:
        """Store more lists of a model (rows as :meth:`save_recommendations` takes them),
        replacing only the lists of the sources they are for: articles listed after the
        fit, while the model's other lists stay."""
        table = _recommendation_rows(model_id, rows)
        sources = sorted({row[1] for row in table})
        with self._transaction():
            self.con.execute(
                "DELETE FROM recommendations WHERE model_id = ? AND list_contains(?, source_url)",
                [model_id, sources],
            )
            if table:
                self._insert(
                    "INSERT INTO recommendations BY NAME SELECT * FROM {rows}",
                    _RECOMMENDATION_COLUMNS,
                    table,
                )
        return len(table)

    def save_evaluation(
        self,
        split: str,
        rows: Iterable[Any],
        model_id: str | None = None,
        mode: str | None = None,
    ) -> int:
        """Store the rows of one evaluation (every mode under one id); return its id.

        Parameters
        ----------
        split : str
            How the test queries were held out.
        rows : iterable
            Each row is a ``recommender.EvaluationRow`` (or any object with its
            attributes), a dict such as ``EvaluationReport.as_dicts()`` gives, a tuple
            ``(method, metric, value, n_queries)`` or ``(method, metric, value,
            n_queries, ci_low, ci_high, mode)``. Missing intervals are stored as NULL.
        model_id : str or None, default=None
            The fitted model evaluated, if any.
        mode : str or None, default=None
            The mode of rows that do not say theirs (NULL: not recorded).

        Returns
        -------
        int
            The new evaluation id.
        """
        evaluation_id = int(one_row(self.con.execute("SELECT nextval('evaluation_ids')"))[0])
        created_at = _now()
        values = []
        for row in rows:
            method, metric, value, n, ci_low, ci_high, row_mode = _evaluation_row(row)
            values.append(
                (
                    evaluation_id, model_id, created_at, split, method, metric, float(value),
                    int(n), row_mode or mode, _float_or_none(ci_low), _float_or_none(ci_high),
                )
            )  # fmt: skip
        self.con.executemany(
            "INSERT INTO evaluations (evaluation_id, model_id, created_at, split, method,"
            " metric, value, n_queries, mode, ci_low, ci_high)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        return evaluation_id

    def save_evaluation_lists(self, evaluation_id: int, rows: Iterable[Any]) -> int:
        """Store the lists an evaluation judged (out of sample), apart from the lists
        served; return how many rows.

        Each row has the attributes ``mode, method, source_url, rank, target_url, score,
        relevant`` (``recommender.evaluation.ListRow``).
        """
        table = [
            (evaluation_id, row.mode, row.method, row.source_url, int(row.rank), row.target_url,
             _float_or_none(row.score), bool(row.relevant))
            for row in rows
        ]  # fmt: skip
        with self._transaction():
            for start in range(0, len(table), 200_000):
                self._insert(
                    "INSERT INTO evaluation_lists BY NAME SELECT * FROM {rows}",
                    _EVALUATION_LIST_COLUMNS,
                    table[start : start + 200_000],
                )
        return len(table)


_EVALUATION_LIST_COLUMNS = (
    ("evaluation_id", "INTEGER"),
    ("mode", "VARCHAR"),
    ("method", "VARCHAR"),
    ("source_url", "VARCHAR"),
    ("rank", "INTEGER"),
    ("target_url", "VARCHAR"),
    ("score", "DOUBLE"),
    ("editors_picked_it", "BOOLEAN"),
)

_EVALUATION_FIELDS = ("method", "metric", "value", "n_queries", "ci_low", "ci_high", "mode")


def _evaluation_row(row: Any) -> tuple[Any, ...]:
    """``(method, metric, value, n_queries, ci_low, ci_high, mode)`` from any row shape."""
    if isinstance(row, Mapping):
        return tuple(row.get(name) for name in _EVALUATION_FIELDS)
    if hasattr(row, "method") and hasattr(row, "metric"):
        return tuple(getattr(row, name, None) for name in _EVALUATION_FIELDS)
    row = tuple(row)
    if len(row) == 4:
        return (*row, None, None, None)
    if len(row) == 7:
        return row
    raise ValueError(f"an evaluation row has 4 or 7 fields, got {len(row)}: {row!r}")


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _recommendation_rows(model_id: str, rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """``(source_url, rank, target_url, score, terms[, backfill[, in_sample]])`` rows as
    the recommendations table holds them (backfill false, in_sample NULL when left out)."""
    return [
        (model_id, s, r, t, float(score), list(terms), bool(rest[0]) if rest else False,
         None if len(rest) < 2 or rest[1] is None else bool(rest[1]))
        for s, r, t, score, terms, *rest in rows
    ]  # fmt: skip
