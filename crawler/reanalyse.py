"""Re-reading stored pages with a (changed) profile, without fetching them again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crawler.page.analysis import analyse_page
from crawler.page.html import AnalysisError
from crawler.profiles import SiteProfile
from warehouse import Reader, Writer, opened


def reanalyse(
    db: str | Path,
    profile: SiteProfile,
    site: str | None = None,
    batch_size: int = 200,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, int]:
    """Analyse every URL's newest stored capture again with ``profile``; store the result.

    A page whose extraction did not change adds nothing; one that did gets a new version
    and its related links are refreshed. The work is recorded as a run of its own.
    Returns the run's counters.
    """
    with opened(db) as con:
        reader, writer = Reader(con), Writer(con)
        captures = reader.validators(site)
        fetch_ids = reader.latest_page_fetches()
        run_id = writer.start_run(site or "all", f"reanalyse:{profile.name}")
        total, done, failed = len(captures), 0, 0
        batch = []
        for url, capture in sorted(captures.items()):
            body = reader.capture(capture.content_hash)
            done += 1
            if body is None:
                continue
            page_url = capture.final_url or url
            try:
                html = body.decode(capture.encoding or "utf-8", errors="replace")
                page = analyse_page(html, page_url, profile, capture.fetched_at)
            except AnalysisError:
                failed += 1
                continue
            if page.article is not None:
                batch.append((fetch_ids[url], capture.fetched_at, page.article, page.related_links))
            if len(batch) >= batch_size:
                writer.write_analyses(run_id, batch)
                batch = []
                on_progress(done, total)
        writer.write_analyses(run_id, batch)
        on_progress(done, total)
        counts = writer.finish_run(run_id, "finished", stats={"unreadable": failed})
    return {**counts, "pages": total, "unreadable": failed}
