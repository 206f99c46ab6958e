"""Everything that writes to the archive.

Every write is idempotent: storing the same page twice adds a fetch row (a fetch did
happen) but no article, no version and no related link.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

import duckdb

from warehouse.model import Article, PageRecord, RelatedLink

#: HTTP answers that say an article is gone for good.
GONE_STATUSES = (404, 410)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _site_of(url: str) -> str:
    return urlsplit(url).netloc


class Writer:
    """Writes crawl results and recommender output through one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    # -- crawl runs ---------------------------------------------------------------

    def start_run(self, site: str, profile: str, started_at: datetime | None = None) -> int:
        """Record a new crawl run and return its id."""
        row = self.con.execute(
            "INSERT INTO crawl_runs (site, profile, started_at) VALUES (?, ?, ?) RETURNING run_id",
            [site, profile, started_at or _now()],
        ).fetchone()
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
    ) -> dict[str, int]:
        """Close a run with its status and counters; return the counters."""
        counts = self.run_counts(run_id)
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

    def run_counts(self, run_id: int) -> dict[str, int]:
        """What a run has stored so far."""
        row = self.con.execute(
            """
            SELECT
              (SELECT count(*) FROM fetches WHERE run_id = $run),
              (SELECT count(*) FROM fetches WHERE run_id = $run
                 AND (status IS NULL OR status >= 500 OR error IS NOT NULL)),
              (SELECT count(*) FROM fetches WHERE run_id = $run AND status IN (404, 410)),
              (SELECT count(*) FROM fetches WHERE run_id = $run AND status = 304),
              (SELECT count(*) FROM articles WHERE first_seen_run = $run),
              (SELECT count(*) FROM article_versions WHERE run_id = $run),
              (SELECT count(*) FROM related_links WHERE first_seen_run = $run)
            """,
            {"run": run_id},
        ).fetchone()
        keys = (
            "pages_fetched",
            "errors",
            "gone",
            "not_modified",
            "articles_new",
            "versions_new",
            "links_new",
        )
        return dict(zip(keys, (int(value) for value in row), strict=True))

    # -- pages --------------------------------------------------------------------

    def write_pages(self, run_id: int, records: Iterable[PageRecord]) -> int:
        """Store a batch of fetched pages in one transaction; return how many."""
        count = 0
        self.con.execute("BEGIN TRANSACTION")
        try:
            for record in records:
                self._write_page(run_id, record)
                count += 1
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        return count

    def _write_page(self, run_id: int, record: PageRecord) -> None:
        fetch = record.fetch
        content_hash = fetch.content_hash
        if fetch.body is not None:  # a 304 confirms a capture already stored
            self.con.execute(
                "INSERT INTO captures VALUES (?, 'zlib', ?, ?) ON CONFLICT DO NOTHING",
                [content_hash, zlib.compress(fetch.body, 6), len(fetch.body)],
            )
        fetch_id = self.con.execute(
            "INSERT INTO fetches (run_id, url, final_url, status, fetched_at, content_type,"
            " encoding, etag, last_modified, content_hash, bytes, error, is_article)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING fetch_id",
            [
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
            ],
        ).fetchone()[0]

        if fetch.final_url and fetch.final_url != fetch.url:
            target = record.article.url if record.article else fetch.final_url
            self._alias(fetch.url, target, "redirect", run_id)
        if fetch.status in GONE_STATUSES:
            self.con.execute(
                "UPDATE articles SET gone_at = ? WHERE url = ? AND gone_at IS NULL",
                [fetch.fetched_at, fetch.url],
            )
        if record.article is None:
            return
        article = record.article
        fetched_url = fetch.final_url or fetch.url
        if fetched_url != article.url:
            self._alias(fetched_url, article.url, "canonical", run_id)
        version_id = self._write_article(run_id, fetch_id, fetch.fetched_at, article)
        self._write_links(run_id, article.url, version_id, record.related_links)

    def write_analyses(
        self,
        run_id: int,
        analyses: Iterable[tuple[int, datetime, Article, Sequence[RelatedLink]]],
    ) -> int:
        """Store re-analysed pages ``(fetch_id, fetched_at, article, related links)`` of
        earlier fetches, in one transaction; no fetch is recorded."""
        count = 0
        self.con.execute("BEGIN TRANSACTION")
        try:
            for fetch_id, fetched_at, article, links in analyses:
                version_id = self._write_article(run_id, fetch_id, fetched_at, article)
                self._write_links(run_id, article.url, version_id, links)
                count += 1
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        return count

    def _alias(self, alias_url: str, url: str, reason: str, run_id: int) -> None:
        self.con.execute(
            "INSERT INTO url_aliases VALUES (?, ?, ?, ?) ON CONFLICT (alias_url) DO UPDATE"
            " SET url = excluded.url, reason = excluded.reason,"
            " last_seen_run = excluded.last_seen_run",
            [alias_url, url, reason, run_id],
        )

    def _write_article(
        self, run_id: int, fetch_id: int, fetched_at: datetime, article: Article
    ) -> int:
        self.con.execute(
            "INSERT INTO articles (url, site, first_seen_run, last_seen_run, first_seen_at,"
            " last_seen_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE"
            " SET last_seen_run = excluded.last_seen_run, last_seen_at = excluded.last_seen_at,"
            " gone_at = NULL",
            [article.url, _site_of(article.url), run_id, run_id, fetched_at, fetched_at],
        )
        content_hash = article.content_hash()
        row = self.con.execute(
            "SELECT version_id FROM article_versions WHERE url = ? AND content_hash = ?",
            [article.url, content_hash],
        ).fetchone()
        if row is None:
            published, modified = article.published, article.modified
            row = self.con.execute(
                "INSERT INTO article_versions (url, content_hash, run_id, fetch_id, fetched_at,"
                " title, lead, body, published_at, published_source, published_precision,"
                " modified_at, modified_source, modified_precision, rubrique, tags, author,"
                " language, canonical_url, sources, theme, theme_url, date_conflicts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING version_id",
                [
                    article.url,
                    content_hash,
                    run_id,
                    fetch_id,
                    fetched_at,
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
                ],
            ).fetchone()
        version_id = int(row[0])
        self.con.execute(
            "UPDATE articles SET latest_version_id = ? WHERE url = ?", [version_id, article.url]
        )
        return version_id

    def _write_links(
        self, run_id: int, source_url: str, version_id: int, links: Sequence[RelatedLink]
    ) -> None:
        for link in links:
            target_date = link.target_published
            self.con.execute(
                "INSERT INTO related_links VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (source_url, target_url) DO UPDATE SET"
                " position = excluded.position, anchor_text = excluded.anchor_text,"
                " displayed_age = excluded.displayed_age,"
                " target_published_at = excluded.target_published_at,"
                " target_published_precision = excluded.target_published_precision,"
                " heading = excluded.heading, source_version_id = excluded.source_version_id,"
                " last_seen_run = excluded.last_seen_run",
                [
                    source_url,
                    link.target_url,
                    link.position,
                    link.anchor_text,
                    link.displayed_age,
                    target_date.value if target_date else None,
                    target_date.precision if target_date else None,
                    link.heading,
                    version_id,
                    run_id,
                    run_id,
                ],
            )

    # -- recommender output -------------------------------------------------------

    def save_model(
        self,
        model_id: str,
        method: str,
        params: Mapping[str, object],
        n_articles: int,
        path: str | None = None,
    ) -> None:
        """Record a fitted model (idempotent on ``model_id``)."""
        self.con.execute(
            "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model_id) DO UPDATE"
            " SET params = excluded.params, n_articles = excluded.n_articles,"
            " path = excluded.path",
            [model_id, _now(), method, json.dumps(dict(params), default=str), n_articles, path],
        )

    def save_recommendations(
        self,
        model_id: str,
        rows: Iterable[tuple[str, int, str, float, Sequence[str]]],
    ) -> int:
        """Replace a model's lists with ``(source_url, rank, target_url, score, terms)`` rows."""
        rows = [(model_id, s, r, t, float(score), list(terms)) for s, r, t, score, terms in rows]
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute("DELETE FROM recommendations WHERE model_id = ?", [model_id])
            if rows:
                self.con.executemany("INSERT INTO recommendations VALUES (?, ?, ?, ?, ?, ?)", rows)
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        return len(rows)

    def save_evaluation(
        self,
        split: str,
        rows: Iterable[tuple[str, str, float, int]],
        model_id: str | None = None,
    ) -> int:
        """Store ``(method, metric, value, n_queries)`` rows as one evaluation; return its id."""
        evaluation_id = int(self.con.execute("SELECT nextval('evaluation_ids')").fetchone()[0])
        created_at = _now()
        self.con.executemany(
            "INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (evaluation_id, model_id, created_at, split, method, metric, float(value), n)
                for method, metric, value, n in rows
            ],
        )
        return evaluation_id
