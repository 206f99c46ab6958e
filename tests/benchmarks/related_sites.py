"""Generic mode on sites nobody wrote a profile for: every site of
``../shared/data/related-sites/`` crawled with ``--profile generic``, then scored by the
corpus's own ``score.py`` against each site's related block (gold).

    python tests/benchmarks/related_sites.py [--site NAME ...] [--max-time S] [--examples N]

Sites packed as ``site.tar.gz`` are extracted, Debian ones fetched with their ``get.sh``
(``apt-get download``), once, into ``tests/benchmarks/.cache/related-sites/``; each is
served on 127.0.0.1 for its crawl. Prints, per site, the related-link precision and
recall and the share of listing pages archived as articles, against the goals.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realsites import CACHE, serve  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "data" / "related-sites"
GOALS = {"precision": 0.95, "recall": 0.90, "listing_share": 0.02}  # issue 11


def sites() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if (p / "gold.json").is_file())


def lay_out(name: str) -> Path:
    """The site's files, extracted once into the cache."""
    folder = CACHE / "related-sites" / name
    if (folder / ".complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    packed = CORPUS / name / "site.tar.gz"
    if packed.is_file():
        with tarfile.open(packed) as tar:
            tar.extractall(folder, filter="data")
    else:
        subprocess.run(["sh", str(CORPUS / name / "get.sh"), str(folder)], check=True)
    (folder / ".complete").touch()
    return folder


def crawl_and_score(name: str, max_time: int, examples: int) -> dict:
    folder = lay_out(name)
    gold_file = CORPUS / name / "gold.json"
    starts = json.loads(gold_file.read_text())["start"]
    db = CACHE / "related-sites" / f"{name}.duckdb"
    for stale in (db, Path(f"{db}.lock")):
        stale.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RELNEWS_DB", None)
    with serve(folder) as base:
        command = [sys.executable, "-m", "relnews", "crawl", "--profile", "generic"]
        for start in starts:
            command += ["--url", base + ("" if start == "index.html" else start)]
        command += ["--db", str(db), "--max-time", str(max_time)]
        started = time.monotonic()
        crawl = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.monotonic() - started
    output = (crawl.stdout + crawl.stderr).splitlines()
    summary = [line.strip() for line in output if line.strip().startswith("run ")]
    print(f"{name}: crawl exit {crawl.returncode} in {elapsed:.0f} s; " + " ".join(summary[-1:]))
    score = [sys.executable, str(CORPUS / "score.py"), str(gold_file), str(db), "--base-url", base]
    if examples:
        print(subprocess.run([*score, "--examples", str(examples)], capture_output=True,
                             text=True).stdout)  # fmt: skip
    result = subprocess.run([*score, "--json"], capture_output=True, text=True, check=True)
    figures = json.loads(result.stdout)
    return {**(figures[0] if isinstance(figures, list) else figures), "crawl_s": elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", action="append", help="one site (repeatable; default all)")
    parser.add_argument("--max-time", type=int, default=600)
    parser.add_argument("--examples", type=int, default=0, help="print score.py's examples")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} is absent", file=sys.stderr)
        return 0
    rows = [crawl_and_score(name, args.max_time, args.examples) for name in args.site or sites()]
    print()
    print(
        f"{'site':26} {'gold pages':>10} {'archived':>8} {'P':>6} {'R':>6} {'exact':>11} "
        f"{'listings':>9} {'of archived':>11} {'crawl':>6}"
    )
    failed = 0
    for row in rows:
        # the goal counts listing pages among what was archived as articles
        listing = row["listing_archived"] / row["archived"] if row["archived"] else 0.0
        ok = (
            row["precision"] >= GOALS["precision"]
            and row["recall"] >= GOALS["recall"]
            and listing <= GOALS["listing_share"]
        )
        failed += not ok
        exact = f"{row['exact_pages']}/{row['fetched_gold_pages']}"
        listings = f"{row['listing_archived']}/{row['listing_fetched']}"
        print(
            f"{row['site']:26} {row['gold_pages']:>10} {row['archived']:>8} "
            f"{row['precision']:6.3f} {row['recall']:6.3f} {exact:>11} {listings:>9} "
            f"{listing:11.1%} {row['crawl_s']:5.0f}s  {'PASS' if ok else 'FAIL'}"
        )
    print(
        f"goals: P >= {GOALS['precision']}, R >= {GOALS['recall']}, listing pages <= "
        f"{GOALS['listing_share']:.0%} of archived articles; {len(rows) - failed}/{len(rows)} "
        "sites pass"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
