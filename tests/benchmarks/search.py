"""Search: `relnews search` on an archive of 100,000 articles, through its kept index.

    python tests/benchmarks/search.py [--articles 100000] [--queries 300] [--rebuild]
                                      [--skip-update] [--skip-cli]

Builds (once, cached in ``tests/benchmarks/.cache/search-N/``; ``--rebuild`` builds it
again) an archive of ``--articles`` synthetic articles, the corpus of ``scale.py``
written like a crawl's pages by ``serve.py``'s ``write_articles``, then its search index
through the first search, as a user's first ``relnews search`` would (timed).

Then measures, in this process, ``recommender.search.search_archive`` (the function
``relnews search`` calls, index freshness check included) on ``--queries`` queries made
from the articles' own titles (seeded: the same queries on every run), in equal shares:
one word, two words, a "phrase" of two adjacent title words, a prefix* of a word's first
four letters, and a word -excluding another. Prints the median and p90 of all, and of
each kind (goal: median at most 50 ms).

``--skip-update`` leaves out: on a copy of the archive and its index, 500 new articles
and 100 new versions of archived ones written as one crawl run, then the index update a
crawl makes at its end (``warehouse.search_index.keep_fresh``), timed.

``--skip-cli`` leaves out: ``relnews search`` run as a command, 7 times: the median wall
time, beside ``relnews --version``'s (the process start: Python, click and relnews'
command line loaded, no search), so the search's own share is the difference.

Exit code 0 when the goal is met, 1 when not, 2 on an error.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CACHE = Path(__file__).resolve().parent / ".cache"
GOAL_MEDIAN_MS = 50.0
KINDS = ("word", "two words", "phrase", "prefix*", "word -word")


def say(*parts: object) -> None:
    print(*parts, flush=True)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def archive(n: int, rebuild: bool) -> Path:
    """The cached archive of ``n`` articles (written if missing or ``rebuild``)."""
    from serve import write_articles

    from warehouse.search_index import index_path_for

    folder = CACHE / f"search-{n}"
    db = folder / "archive.duckdb"
    if rebuild and folder.exists():
        shutil.rmtree(folder)
    if not db.exists():
        folder.mkdir(parents=True, exist_ok=True)
        building = folder / "building.duckdb"
        building.unlink(missing_ok=True)
        write_articles(building, n)
        building.rename(db)  # only a whole archive is cached
        index_path_for(db).unlink(missing_ok=True)
    return db


def first_search(db: Path) -> None:
    """The index, built by a first search if it is not there yet (timed)."""
    from recommender.search import search_archive
    from warehouse.search_index import SearchIndex, index_path_for

    if SearchIndex(db).is_current():
        say(f"search index cached: {index_path_for(db)}")
        return
    started = time.perf_counter()
    search_archive(db, "index", on_note=lambda note: say(f"  {note}"))
    elapsed = time.perf_counter() - started
    size = index_path_for(db).stat().st_size / 1e6
    say(f"first search (index built): {elapsed:.0f} s; index file {size:,.0f} MB")


def make_queries(db: Path, count: int) -> list[tuple[str, str]]:
    """(kind, query) pairs from the archive's titles, seeded."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        titles = [
            row[0]
            for row in con.execute(
                "SELECT title FROM latest_articles WHERE gone_at IS NULL ORDER BY url"
            ).fetchall()
        ]
    finally:
        con.close()
    rng = random.Random(23)
    queries = []
    for i in range(count):
        words = [w.strip(".,;:!?") for w in rng.choice(titles).split() if len(w) > 3]
        while len(words) < 2:
            words = [w.strip(".,;:!?") for w in rng.choice(titles).split() if len(w) > 3]
        kind = KINDS[i % len(KINDS)]
        a, b = rng.sample(words, 2)
        at = rng.randrange(len(words) - 1)
        query = {
            "word": a,
            "two words": f"{a} {b}",
            "phrase": f'"{words[at]} {words[at + 1]}"',
            "prefix*": a[:4] + "*",
            "word -word": f"{a} -{b}",
        }[kind]
        queries.append((kind, query))
    return queries


def measure(db: Path, queries: list[tuple[str, str]]) -> float:
    from recommender.search import search_archive

    search_archive(db, "warm")  # the first call imports the query parser's stop words
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    found = 0
    for kind, query in queries:
        started = time.perf_counter()
        result = search_archive(db, query, k=10)
        times[kind].append((time.perf_counter() - started) * 1000)
        found += bool(result.hits)
    every = [t for kind in KINDS for t in times[kind]]
    say(f"\n{len(queries)} queries through recommender.search.search_archive (k=10):")
    say(f"  {'kind':<12} {'median':>9} {'p90':>9} {'max':>9}")
    for kind in KINDS:
        values = times[kind]
        say(
            f"  {kind:<12} {statistics.median(values):7.1f}ms {percentile(values, 90):7.1f}ms"
            f" {max(values):7.1f}ms"
        )
    median = statistics.median(every)
    say(
        f"  {'all':<12} {median:7.1f}ms {percentile(every, 90):7.1f}ms {max(every):7.1f}ms"
        f"   ({found} of {len(queries)} queries found something)"
    )
    return median


def incremental_update(db: Path) -> None:
    """500 new articles and 100 new versions written as one run, then the crawl's update."""
    from serve import page_records

    from warehouse import Reader, Writer, opened
    from warehouse.search_index import index_path_for, keep_fresh

    with tempfile.TemporaryDirectory(dir=CACHE) as folder:
        copy = Path(folder) / db.name
        started = time.perf_counter()
        shutil.copy2(db, copy)
        shutil.copy2(index_path_for(db), index_path_for(copy))
        say(f"\ncopied the archive and its index in {time.perf_counter() - started:.0f} s")
        fetched = datetime(2026, 12, 1, 12)
        with opened(copy) as con:
            reader = Reader(con)
            articles = reader.articles()[:600]
            new = [
                dataclasses.replace(a, url=a.url.replace(".htm", "-bis.htm"),
                                    title=a.title + " (suite)")
                for a in articles[:500]
            ]  # fmt: skip
            changed = [
                dataclasses.replace(a, body=a.body + " Mise à jour.") for a in articles[500:]
            ]
            writer = Writer(con)
            run = writer.start_run("news.example.org", "benchmark")
            writer.write_pages(run, page_records(new + changed, fetched))
            writer.finish_run(run, "finished")
        started = time.perf_counter()
        update = keep_fresh(copy)
        elapsed = time.perf_counter() - started
        assert update is not None
        say(
            f"index update after a run of {len(new)} new and {len(changed)} changed articles:"
            f" {elapsed:.2f} s ({update.added} added, {update.changed} changed,"
            f" {update.removed} gone; {update.total:,} articles)"
        )


def cli_figures(db: Path) -> None:
    def wall(*args: str) -> float:
        times = []
        for _ in range(7):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "relnews", *args], check=True, capture_output=True
            )
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    start = wall("--version")
    whole = wall("search", "risque cardiovasculaire", "--db", str(db))
    say(
        f"\nrelnews search as a command (median of 7): {whole:.0f} ms, of which the process"
        f" start (relnews --version) {start:.0f} ms: the search's own share {whole - start:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--skip-update", action="store_true")
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    try:
        db = archive(args.articles, args.rebuild)
        first_search(db)
        median = measure(db, make_queries(db, args.queries))
        if not args.skip_update:
            incremental_update(db)
        if not args.skip_cli:
            cli_figures(db)
    except Exception as error:  # a benchmark's failure, said in one line
        say(f"error: {type(error).__name__}: {error}")
        return 2
    ok = median <= GOAL_MEDIAN_MS
    say(f"\n{'PASS' if ok else 'FAIL'}: median {median:.1f} ms (goal <= {GOAL_MEDIAN_MS:g} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
