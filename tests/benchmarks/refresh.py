"""Refresh benchmark: how much faster a second `relnews refresh` is on an unchanged site.

    python tests/benchmarks/refresh.py

Serves the demo site on 127.0.0.1, runs `relnews refresh` on a new archive (full crawl,
fit, evaluation), then again on the unchanged site (conditional requests, sitemap
lastmod), and prints both times and their ratio (goal: the second takes less than half
the time of the first). Then corrects one article on the served site, refreshes, and
checks that exactly one new version was made and that `relnews diff` shows the change.
The demo site is ours: this measures the mechanism, not a real site.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from demosite.server import DemoServer  # noqa: E402


def relnews(*args: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "relnews", *args], capture_output=True, text=True, env=env
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"relnews {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    return elapsed, result.stdout


def scalar(db: Path, sql: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, DemoServer(port=0) as server:
        db = Path(folder) / "refresh.duckdb"
        first, _ = relnews("refresh", "--url", server.url, "--db", str(db))
        versions = scalar(db, "SELECT count(*) FROM article_versions")
        served = server.stats["requests"]
        second, _ = relnews("refresh", "--url", server.url, "--db", str(db))
        conditional = server.stats["not_modified"]
        requests = server.stats["requests"] - served
        new_versions = scalar(db, "SELECT count(*) FROM article_versions") - versions

        print("refresh of the demo site (360 articles), each run a fresh process")
        print(f"  first refresh (full crawl, fit, evaluate): {first:6.1f} s, {served} requests")
        print(
            f"  second refresh, site unchanged:           {second:6.1f} s, {requests} requests,"
            f" {conditional} answered 304, {new_versions} new versions"
        )
        ratio = second / first
        verdict = "PASS" if ratio < 0.5 and new_versions == 0 else "FAIL"
        print(f"  ratio second / first: {ratio:.2f} (goal < 0.50): {verdict}")

        site = server.site
        article = site.articles[100]
        corrected = dataclasses.replace(
            article,
            paragraphs=(
                *article.paragraphs[:-1],
                "Correction : les auteurs ont revu leurs chiffres.",
            ),
            modified=datetime.now(UTC).replace(tzinfo=None),
        )
        server.site = dataclasses.replace(
            site, articles=tuple(corrected if a is article else a for a in site.articles)
        )
        before = scalar(db, "SELECT count(*) FROM article_versions")
        third, _ = relnews("refresh", "--url", server.url, "--db", str(db))
        made = scalar(db, "SELECT count(*) FROM article_versions") - before
        _, diff = relnews("diff", server.base_url + article.path, "--db", str(db))
        shown = "+Correction : les auteurs ont revu leurs chiffres." in diff
        verdict = "PASS" if made == 1 and shown else "FAIL"
        print(f"  after one article changed: {third:.1f} s, {made} new version(s), diff shows it: "
              f"{shown}: {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
