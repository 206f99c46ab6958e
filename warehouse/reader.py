"""Everything that reads the archive: the API the recommender and the command line use."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import numpy as np

from warehouse.database import one_row
from warehouse.model import Article, ArticleFacts, DateValue, EditorialLink, Validator


@dataclass(frozen=True)
class QueryResult:
    """Rows of a query with their column names."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class StoredLists:
    """Every stored list of one model, column by column, each source's rows a span."""

    spans: dict[str, tuple[int, int]]
    targets: np.ndarray  # of str
    scores: np.ndarray
    terms: np.ndarray  # of lists of str (or None)
    backfill: np.ndarray

    def __len__(self) -> int:
        return len(self.spans)

    def __contains__(self, url: object) -> bool:
        return url in self.spans

    def get(self, url: str) -> list[tuple[str, float, tuple[str, ...], bool]]:
        """One source's list, best first: (target, score, shared terms, backfill)."""
        start, end = self.spans.get(url, (0, 0))
        return [
            (
                str(self.targets[row]),
                float(self.scores[row]),
                tuple(self.terms[row]) if self.terms[row] is not None else (),
                bool(self.backfill[row]),
            )
            for row in range(start, end)
        ]


class Reader:
    """Reads the archive through one DuckDB connection (read-only is enough)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def query(
        self, sql: str, parameters: list[Any] | None = None, timeout: float | None = None
    ) -> QueryResult:
        """Run any SQL and return its columns and rows.

        ``timeout``: seconds after which the query is interrupted (DuckDB raises
        ``InterruptException``); None lets it run to its end.
        """
        timer = threading.Timer(timeout, self.con.interrupt) if timeout else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            cursor = self.con.execute(sql, parameters or [])
            columns = [column[0] for column in cursor.description or []]
            return QueryResult(columns, cursor.fetchall() if columns else [])
        finally:
            if timer is not None:
                timer.cancel()

    def validators(self, site: str | None = None) -> dict[str, Validator]:
        """The last good fetch of every URL (of one site, by netloc), for conditional
        requests and for replaying stored pages."""
        rows = self.con.execute(
            "SELECT url, fetched_at, content_hash, etag, last_modified, encoding, final_url"
            " FROM fetches WHERE status BETWEEN 200 AND 299 AND content_hash IS NOT NULL"
            + (" AND split_part(url, '/', 3) = ?" if site else "")
            + " QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetch_id DESC) = 1",
            [site] if site else [],
        ).fetchall()
        return {row[0]: Validator(*row) for row in rows}

    def latest_page_fetches(self) -> dict[str, int]:
        """The newest fetch id of every URL that got a stored page (2xx with a capture)."""
        rows = self.con.execute(
            "SELECT url, max(fetch_id) FROM fetches WHERE content_hash IS NOT NULL"
            " AND status BETWEEN 200 AND 299 GROUP BY url"
        ).fetchall()
        return {url: int(fetch_id) for url, fetch_id in rows}

    def page_fetches(self, latest_only: bool = False) -> list[tuple[Any, ...]]:
        """Every fetch that got a stored page, in fetch order (with ``latest_only``, each
        URL's newest): ``(url, fetched_at, status, content_type, etag, last_modified,
        content_hash)``, what a WARC record needs."""
        return self.con.execute(
            "SELECT url, fetched_at, status, content_type, etag, last_modified, content_hash"
            " FROM fetches WHERE content_hash IS NOT NULL AND status BETWEEN 200 AND 299"
            + (
                " QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetch_id DESC) = 1"
                if latest_only
                else ""
            )
            + " ORDER BY fetch_id"
        ).fetchall()

    def model_path(self, model_id: str) -> str | None:
        """Where the model ``model_id`` was saved when it was fitted (None: no such model)."""
        row = self.con.execute("SELECT path FROM models WHERE model_id = ?", [model_id]).fetchone()
        return None if row is None else str(row[0])

    def versions(self, url: str, fields: Sequence[str]) -> list[dict[str, Any]]:
        """Every version of an article, oldest first: id, run, fetch time and ``fields``."""
        cursor = self.con.execute(
            "SELECT version_id, run_id, fetched_at, " + ", ".join(fields)
            + " FROM article_versions WHERE url = ? ORDER BY version_id",
            [url],
        )  # fmt: skip
        columns = [column[0] for column in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def live_articles(self, site: str | None = None) -> dict[str, datetime]:
        """Every live (not gone) article of one site (by netloc), or all, with the time it
        was last seen: what a refresh revisits."""
        rows = self.con.execute(
            "SELECT url, last_seen_at FROM articles WHERE gone_at IS NULL"
            + (" AND split_part(url, '/', 3) = ?" if site else ""),
            [site] if site else [],
        ).fetchall()
        return dict(rows)

    def run_fetches(self, run_id: int) -> dict[str, tuple[int | None, str | None, str | None]]:
        """What a run fetched so far: url -> (status, final URL, content hash)."""
        rows = self.con.execute(
            "SELECT url, status, final_url, content_hash FROM fetches WHERE run_id = ?"
            " QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetch_id DESC) = 1",
            [run_id],
        ).fetchall()
        return {url: (status, final, digest) for url, status, final, digest in rows}

    def capture(self, content_hash: str) -> bytes | None:
        """A stored raw page, decompressed."""
        row = self.con.execute(
            "SELECT compression, body FROM captures WHERE content_hash = ?", [content_hash]
        ).fetchone()
        if row is None:
            return None
        compression, body = row
        return zlib.decompress(body) if compression == "zlib" else bytes(body)

    def counts(self) -> dict[str, int]:
        """How many rows the main tables hold."""
        tables = (
            "crawl_runs",
            "fetches",
            "articles",
            "article_versions",
            "related_links",
            "models",
            "recommendations",
            "evaluations",
        )
        return {
            table: int(one_row(self.con.execute(f"SELECT count(*) FROM {table}"))[0])
            for table in tables
        }

    def articles(
        self, include_gone: bool = False, urls: Sequence[str] | None = None
    ) -> list[Article]:
        """The latest version of every archived article (or of those of ``urls``), by URL."""
        where = [] if include_gone else ["gone_at IS NULL"]
        if urls is not None:
            where.append("list_contains($urls, url)")
        rows = self.con.execute(
            "SELECT url, title, lead, body, canonical_url, published_at, published_source,"
            " published_precision, modified_at, modified_source, modified_precision, rubrique,"
            " tags, author, language, sources, theme, theme_url, date_conflicts,"
            " published_utc_offset, image"
            " FROM latest_articles"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY url",
            {"urls": list(urls)} if urls is not None else None,
        ).fetchall()
        return [_article(row) for row in rows]

    def resolve_url(self, spellings: str | Sequence[str]) -> str | None:
        """The archived article's URL for a page, given its spellings, the likeliest first
        (``crawler.page.urls.url_spellings``): the first spelling that is an article, an
        alias of one (a redirect, the same content) or a live article's canonical link."""
        spellings = [spellings] if isinstance(spellings, str) else list(spellings)
        rows = self.con.execute(
            "SELECT url AS spelling, url, 0 AS way FROM articles WHERE list_contains(?, url)"
            " UNION ALL SELECT al.alias_url, a.url, 1 FROM url_aliases al"
            " JOIN articles a ON a.url = al.url WHERE list_contains(?, al.alias_url)"
            " UNION ALL SELECT canonical_url, url, 2 FROM latest_articles"
            " WHERE gone_at IS NULL AND list_contains(?, canonical_url)",
            [spellings, spellings, spellings],
        ).fetchall()
        found = {(spelling, way): url for spelling, url, way in rows}
        for spelling in spellings:
            for way in range(3):
                if (spelling, way) in found:
                    return found[spelling, way]
        return None

    def titles(self, urls: list[str]) -> dict[str, str]:
        """The latest title of each archived URL among ``urls``."""
        rows = self.con.execute(
            "SELECT url, title FROM latest_articles WHERE list_contains(?, url)", [list(urls)]
        ).fetchall()
        return dict(rows)

    def editorial_links(self) -> list[EditorialLink]:
        """Current related links whose target is an archived, live article."""
        rows = self.con.execute(
            "SELECT c.source_url, c.target_article, min(c.position)"
            " FROM current_links c JOIN articles t ON t.url = c.target_article"
            " WHERE t.gone_at IS NULL AND c.target_article <> c.source_url"
            " GROUP BY ALL ORDER BY 1, 3"
        ).fetchall()
        return [EditorialLink(source, target, int(position)) for source, target, position in rows]

    def latest_model_id(self) -> str | None:
        row = self.con.execute(
            "SELECT model_id FROM models ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def recommendations(self, source_url: str, model_id: str | None = None) -> QueryResult:
        """A stored list for one article (the newest model's unless ``model_id`` is given)."""
        model_id = model_id or self.latest_model_id()
        return self.query(
            "SELECT rank, target_url, score, shared_terms FROM recommendations"
            " WHERE model_id = ? AND source_url = ? ORDER BY rank",
            [model_id, source_url],
        )

    def teasers(
        self, urls: Sequence[str] | None = None, body_chars: int = 1000
    ) -> dict[str, tuple[Any, ...]]:
        """What a widget shows beside each title, in one query, for every live article
        or for the archived ``urls``: ``(published_at, published_precision, lead, the
        body's first body_chars characters, language, published_local_day, image,
        rubrique, author)`` by URL (the local day is the publication day on the page's own
        calendar)."""
        sql = (
            "SELECT url, published_at, published_precision, lead, left(body, ?), language,"
            " published_local_day, image, rubrique, author FROM latest_articles"
        )
        if urls is None:
            rows = self.con.execute(sql + " WHERE gone_at IS NULL", [body_chars]).fetchall()
        else:  # a join, not list_contains: a site's every URL at once stays linear
            rows = self.con.execute(
                sql + " JOIN (SELECT unnest(?::VARCHAR[]) AS url) USING (url)",
                [body_chars, list(urls)],
            ).fetchall()
        return {row[0]: row[1:] for row in rows}

    def live_titles(self, urls: list[str] | None = None) -> dict[str, str]:
        """The latest title of each live (not gone) article, of all or only ``urls``:
        what a suggested list may point to."""
        sql = "SELECT url, coalesce(title, '') FROM latest_articles WHERE gone_at IS NULL"
        if urls is None:
            return dict(self.con.execute(sql).fetchall())
        return dict(self.con.execute(sql + " AND list_contains(?, url)", [list(urls)]).fetchall())

    def editor_rules(self, source_url: str | None = None) -> QueryResult:
        """The editors' pins and blocks (of one source, with the '*' blocks, when given),
        pins in the order they were made; none in an archive older than the rules."""
        exists = one_row(
            self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'editor_rules'"
            )
        )[0]
        columns = "source_url, target_url, rule, created_at, note"
        if not exists:  # opened read-only, so not migrated yet: there can be no rule
            return QueryResult(columns.split(", "), [])
        # A scoped block (rubrique:..., tag:..., url:...) may hold for any source.
        where = (
            " WHERE source_url IN (?, '*') OR NOT regexp_matches(source_url, '^https?://')"
            if source_url is not None
            else ""
        )
        return self.query(
            f"SELECT {columns} FROM editor_rules{where}"
            " ORDER BY rule DESC, source_url, created_at, target_url",
            [source_url] if source_url is not None else [],
        )

    def first_seen(self) -> dict[str, datetime]:
        """When each live article was first archived (UTC), by URL."""
        rows = self.con.execute("SELECT url, first_seen_at FROM articles WHERE gone_at IS NULL")
        return dict(rows.fetchall())

    def article_facts(self) -> dict[str, ArticleFacts]:
        """Each live article's section and tags, by URL: what scoped rules match."""
        rows = self.con.execute(
            "SELECT url, rubrique, tags FROM latest_articles WHERE gone_at IS NULL"
        ).fetchall()
        return {url: ArticleFacts(rubrique, tuple(tags or ())) for url, rubrique, tags in rows}

    def model_info(self, model_id: str) -> dict[str, Any]:
        """A stored model's method, fit time (UTC) and size."""
        row = self.con.execute(
            "SELECT method, created_at, n_articles FROM models WHERE model_id = ?", [model_id]
        ).fetchone()
        if row is None:
            return {}
        return {"method": row[0], "fitted_at": row[1], "n_articles": row[2]}

    def listed_sources(self, model_id: str) -> set[str]:
        """The articles a model has a stored list for (not the lists themselves)."""
        rows = self.con.execute(
            "SELECT DISTINCT source_url FROM recommendations WHERE model_id = ?", [model_id]
        ).fetchall()
        return {row[0] for row in rows}

    def stored_lists(self, model_id: str) -> StoredLists:
        """Every stored list of a model, column by column (one fetch: a dict of tuples
        per row takes six times longer on a big archive)."""
        columns = self.con.execute(
            "SELECT source_url, target_url, score, shared_terms, coalesce(backfill, false)"
            " AS backfill FROM recommendations WHERE model_id = ? ORDER BY source_url, rank",
            [model_id],
        ).fetchnumpy()
        sources = columns["source_url"]
        starts: np.ndarray = np.flatnonzero(np.r_[True, sources[1:] != sources[:-1]])
        ends: np.ndarray = np.r_[starts[1:], len(sources)]
        if not len(sources):  # no list, no span (the lines above find one at 0)
            starts = ends = starts[:0]
        return StoredLists(
            spans={
                str(sources[start]): (int(start), int(end))
                for start, end in zip(starts, ends, strict=True)
            },
            targets=np.asarray(columns["target_url"], dtype=object),
            scores=np.asarray(columns["score"], dtype=float),
            terms=np.asarray(columns["shared_terms"], dtype=object),
            backfill=np.asarray(columns["backfill"], dtype=bool),
        )

    def content_mark(self) -> tuple[int, ...]:
        """What changes whenever a crawl stores something a reader of articles sees:
        the number of versions, of gone articles and of aliases (cheap counts)."""
        row = one_row(
            self.con.execute(
                "SELECT (SELECT count(*) FROM article_versions),"
                " (SELECT count(*) FROM articles WHERE gone_at IS NOT NULL),"
                " (SELECT count(*) FROM url_aliases)"
            )
        )
        return tuple(int(value) for value in row)

    def aliases(self) -> dict[str, str]:
        """Every alias of an archived article (old URL, redirect...) and that article,
        then every live article's canonical link that is not its URL (as
        :meth:`resolve_url` looks them up: an alias first)."""
        rows = self.con.execute(
            "SELECT canonical_url, url FROM latest_articles WHERE gone_at IS NULL"
            " AND canonical_url IS NOT NULL AND canonical_url <> url"
        ).fetchall()
        rows += self.con.execute(
            "SELECT al.alias_url, a.url FROM url_aliases al JOIN articles a ON a.url = al.url"
        ).fetchall()
        return dict(rows)

    def editors_block(self, source_url: str) -> QueryResult:
        """The editors' related block of an article as last archived: each link's target,
        its title (when archived), the link's text and place, and when it was archived."""
        return self.query(
            "SELECT coalesce(c.target_article, c.target_url) AS url,"
            " coalesce(t.title, c.anchor_text) AS title,"
            " c.anchor_text, c.position, c.displayed_age, s.last_seen_at AS archived_at"
            " FROM current_links c JOIN latest_articles s ON s.url = c.source_url"
            " LEFT JOIN latest_articles t ON t.url = c.target_article"
            " WHERE c.source_url = ? ORDER BY c.position",
            [source_url],
        )

    def latest_evaluation(self) -> QueryResult:
        """The rows of the newest stored evaluation: method, metric, value, n_queries,
        then mode, ci_low, ci_high (NULL when not recorded)."""
        return self.query(
            "SELECT method, metric, value, n_queries, mode, ci_low, ci_high FROM evaluations"
            " WHERE evaluation_id = (SELECT max(evaluation_id) FROM evaluations)"
            " ORDER BY mode NULLS FIRST, method, metric"
        )


def _date(
    value: Any, source: str | None, precision: str | None, utc_offset: int | None = None
) -> DateValue | None:
    if value is None:
        return None
    return DateValue(value, source or "unknown", precision or "exact", utc_offset)


def _article(row: tuple[Any, ...]) -> Article:
    (url, title, lead, body, canonical, pub, pub_src, pub_prec, mod, mod_src, mod_prec,
     rubrique, tags, author, language, sources, theme, theme_url, conflicts, pub_offset,
     image) = row  # fmt: skip
    return Article(
        url=url,
        title=title,
        lead=lead or "",
        body=body or "",
        canonical_url=canonical,
        published=_date(pub, pub_src, pub_prec, pub_offset),
        modified=_date(mod, mod_src, mod_prec),
        rubrique=rubrique,
        tags=tuple(tags or ()),
        author=author,
        language=language,
        sources=tuple(sources or ()),
        theme=theme,
        theme_url=theme_url,
        date_conflicts=tuple(conflicts or ()),
        image=image,
    )
