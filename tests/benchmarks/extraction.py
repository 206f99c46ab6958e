"""Article-body extraction benchmark for generic analysis.

Runs ``crawler.page.analysis.analyse_page`` with the ``generic`` profile on the 181 real news
pages of ``../shared/data/article-extraction-benchmark`` (never copied into this
repository) and scores each extracted body against its gold body the way that folder's
README says: 4-token shingles, per-page normalised tp/fp/fn, mean precision and recall,
F1 of the two means, accuracy = share of pages with identical token lists.

It also reports the related blocks the detector found, and the leak rate: the share of
pages where the text of a detected related link (anchors of 4 words or more) still
appears in the extracted body.

    python tests/benchmarks/extraction.py [--data FOLDER] [--worst N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from crawler.page.analysis import analyse_page  # noqa: E402
from crawler.profiles import load_profile  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "article-extraction-benchmark"
FETCHED_AT = datetime(2019, 11, 20)  # the pages were saved in November 2019
_TOKEN = re.compile(r"\w+")
_LEAK_WORDS = 4


def shingles(text: str, size: int = 4) -> Counter[tuple[str, ...]]:
    """All overlapping ``size``-token shingles of a text, with multiplicity."""
    tokens = _TOKEN.findall(text)
    if len(tokens) < size:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def page_scores(predicted: str, gold: str) -> tuple[float, float]:
    """Precision and recall of one page's predicted body against its gold body."""
    pred, true = shingles(predicted), shingles(gold)
    tp = sum((pred & true).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    if fp == 0 and fn == 0:
        return 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


def leaks(body: str, anchors: list[str]) -> list[str]:
    """The anchors (of 4 words or more) whose words appear in a row in the body."""
    words = " " + " ".join(_TOKEN.findall(body.lower())) + " "
    found = []
    for anchor in anchors:
        tokens = _TOKEN.findall(anchor.lower())
        if len(tokens) >= _LEAK_WORDS and f" {' '.join(tokens)} " in words:
            found.append(anchor)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the benchmark folder")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages by F1")
    args = parser.parse_args(argv)
    truth_file = args.data / "ground-truth.json"
    if not truth_file.is_file():
        print(
            f"No benchmark data at {args.data}: it holds ground-truth.json and html/*.html.gz "
            "(see its README); give its folder with --data.",
            file=sys.stderr,
        )
        return 2
    truth = json.loads(truth_file.read_text("utf-8"))
    profile = load_profile("generic")

    rows = []
    elapsed = 0.0
    for page_id, expected in sorted(truth.items()):
        html = gzip.decompress((args.data / "html" / f"{page_id}.html.gz").read_bytes())
        url = expected["url"]
        started = time.perf_counter()
        page = analyse_page(html.decode("utf-8"), url, profile.resolve(url), FETCHED_AT)
        elapsed += time.perf_counter() - started
        body = page.article.body if page.article else ""
        precision, recall = page_scores(body, expected["articleBody"])
        anchors = [link.anchor_text for link in page.related_links]
        rows.append(
            {
                "id": page_id,
                "url": url,
                "precision": precision,
                "recall": recall,
                "exact": _TOKEN.findall(body) == _TOKEN.findall(expected["articleBody"]),
                "related": len(page.related_links),
                "leaks": leaks(body, anchors),
            }
        )

    count = len(rows)
    precision = sum(row["precision"] for row in rows) / count
    recall = sum(row["recall"] for row in rows) / count
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(row["exact"] for row in rows) / count
    with_related = sum(1 for row in rows if row["related"])
    leaked = [row for row in rows if row["leaks"]]
    print(f"pages: {count}")
    print(f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  accuracy {accuracy:.3f}")
    print(
        f"related blocks detected on {with_related} pages "
        f"({sum(row['related'] for row in rows)} links)"
    )
    print(f"leak rate: {len(leaked) / count:.1%} of pages ({len(leaked)})")
    print(f"analysis: {1000 * elapsed / count:.0f} ms/page")
    for row in leaked:
        print(f"  leak {row['id'][:12]} {row['url']}: {row['leaks'][:3]}")
    if args.worst:
        worst = sorted(
            rows,
            key=lambda r: 2 * r["precision"] * r["recall"] / (r["precision"] + r["recall"] or 1),
        )
        print(f"worst {args.worst} pages:")
        for row in worst[: args.worst]:
            print(
                f"  P {row['precision']:.2f} R {row['recall']:.2f} related {row['related']:2d} "
                f"{row['id'][:12]} {row['url'][:90]}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
