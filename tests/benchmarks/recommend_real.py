"""Recommendation quality on real sites: crawl, fit, evaluate, one table per site.

    python tests/benchmarks/recommend_real.py [--site all|libreoffice-fr|libreoffice-en|postgresql]
                                              [--report DIR] [--recrawl]

Obtains LibreOffice help (French, English) and the PostgreSQL 15 docs with
``apt-get download`` + ``dpkg-deb -x`` (see realsites.py; no root needed), serves each
on 127.0.0.1, crawls it with its profile into ``tests/benchmarks/.cache/<site>.duckdb``
(kept: ``--recrawl`` crawls again), then runs
:func:`recommender.comparison.compare_methods` — one split for every method (these
sites have no dates: a fixed random 20% of pages, seed 0), both modes — and prints the
report. Held-out pages with related links are the queries.

Goals (issue 4), checked on each site and printed as PASS/FAIL:
- existing article: learned beats TF-IDF and BM25 by >= 0.05 on nDCG@10 and MRR;
- LibreOffice French: learned R@5 >= 0.55;
- cold start: learned >= TF-IDF on nDCG@10.
Exit code 0 when the measurement ran, 1 on an error.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import realsites  # noqa: E402

PROFILES = {
    "libreoffice-fr": "libreoffice",
    "libreoffice-en": "libreoffice",
    "postgresql": "postgresql",
}


def crawl(site_name: str, db: Path) -> None:
    site = realsites.SITES[site_name]
    root = realsites.obtain(site)
    with realsites.serve(root) as base:
        command = [sys.executable, "-m", "relnews", "crawl", "--profile", PROFILES[site_name]]
        command += ["--db", str(db), "-s", "RELNEWS_PROGRESS_EVERY=10"]
        for path in site.start_paths:
            command += ["--url", base + path]
        print("$", " ".join(command[1:]), flush=True)
        subprocess.run(command, cwd=ROOT, check=True)


def measure(site_name: str, args: argparse.Namespace) -> list[tuple[str, bool]]:
    from recommender.comparison import compare_methods
    from recommender.evaluation.report import write_report
    from warehouse import Reader, opened

    db = realsites.CACHE / f"{site_name}.duckdb"
    if args.recrawl and db.exists():
        db.unlink()
    if not db.exists():
        crawl(site_name, db)
    with opened(db, read_only=True) as con:
        reader = Reader(con)
        articles, links = reader.articles(), reader.editorial_links()
    print(f"\n== {site_name}: {len(articles)} articles, {len(links)} editorial links", flush=True)
    started = time.perf_counter()
    report = compare_methods(articles, links, test_fraction=0.2, k=5, random_state=0)
    print(report.format_table())
    print(f"(fitted and evaluated in {time.perf_counter() - started:.0f} s)")
    if args.report:
        markdown, html = write_report(report, Path(args.report), stem=site_name)
        print(f"report: {markdown}, {html}")

    def value(method: str, metric: str, mode: str) -> float:
        return report.value(method, metric, mode=mode)

    checks = []
    for metric in ("nDCG@10", "MRR"):
        for other in ("tfidf", "bm25"):
            gap = value("learned", metric, "existing") - value(other, metric, "existing")
            checks.append(
                (
                    f"{site_name} existing: learned - {other} {metric} = {gap:+.3f} >= 0.05",
                    gap >= 0.05,
                )
            )
    if site_name == "libreoffice-fr":
        recall = value("learned", "R@5", "existing")
        checks.append((f"{site_name} existing: learned R@5 = {recall:.3f} >= 0.55", recall >= 0.55))
    cold = value("learned", "nDCG@10", "cold_start") - value("tfidf", "nDCG@10", "cold_start")
    checks.append(
        (f"{site_name} cold start: learned - tfidf nDCG@10 = {cold:+.3f} >= 0", cold >= 0)
    )
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", default="all", choices=["all", *PROFILES])
    parser.add_argument("--report", help="also write Markdown + HTML reports into this folder")
    parser.add_argument("--recrawl", action="store_true", help="crawl again into a fresh archive")
    args = parser.parse_args()
    sites = list(PROFILES) if args.site == "all" else [args.site]
    checks = []
    try:
        for site_name in sites:
            checks += measure(site_name, args)
    except (realsites.SiteUnavailable, subprocess.CalledProcessError) as error:
        print(f"recommend_real: {error}", file=sys.stderr)
        return 1
    print("\ngoals:")
    for text, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
