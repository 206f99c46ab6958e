"""Generic analysis beside trafilatura and htmldate on the 990 real pages of
``../shared/data/trafilatura-eval`` (never copied into this repository), in one run:

- main text: relnews' stored body (lead and body) against trafilatura's default
  ``extract``, scored as that folder's README says (snippets that must and must not be
  in the text, micro-averaged precision, recall and F1, at most 6 a side a page);
- publication date, exact day on the pages with a gold date: the day of relnews'
  ``published`` on the page's own calendar (``DateValue.local_day``) against htmldate in
  its publication-date mode, the folder README's call
  ``find_date(html, url=url, original_date=True, extensive_search=True)``; overall and
  on each half of the pages sorted by file name (even-numbered, counting from 0, and
  odd-numbered: relnews' way of weighing dates was chosen on the even half only, the odd
  half checks it);
- time per page: relnews' whole generic analysis (parse, metadata, related blocks,
  listing check, main text) against trafilatura's default extraction alone.

    python tests/benchmarks/trafilatura_eval.py [--data FOLDER] [--limit N] [--half even|odd]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from crawler.page.analysis import analyse_page  # noqa: E402
from crawler.page.charset import decode_html  # noqa: E402
from crawler.profiles import load_profile  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "trafilatura-eval"
FETCHED_AT = datetime(2026, 1, 1)  # after every page of the set was saved
_SNIPPETS = 6


def _normalised(text: str) -> str:
    return " ".join(text.split())


class Snippets:
    """tp/fn/fp/tn over all pages, as trafilatura's own evaluation counts them."""

    def __init__(self) -> None:
        self.tp = self.fn = self.fp = self.tn = 0

    def add(self, text: str, gold: dict) -> None:
        text = _normalised(text)
        for snippet in gold.get("with", [])[:_SNIPPETS]:
            if _normalised(snippet) in text:
                self.tp += 1
            else:
                self.fn += 1
        for snippet in gold.get("without", [])[:_SNIPPETS]:
            if _normalised(snippet) in text:
                self.fp += 1
            else:
                self.tn += 1

    def figures(self) -> tuple[float, float, float]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="the first N pages only")
    parser.add_argument(
        "--half", choices=("even", "odd"), help="only the even- or odd-numbered pages"
    )
    args = parser.parse_args(argv)
    if not (args.data / "evaldata.json").is_file():
        print(f"skipped: {args.data} is absent", file=sys.stderr)
        return 0
    import trafilatura
    from htmldate import find_date

    gold = json.loads((args.data / "evaldata.json").read_text("utf-8"))
    # Numbered in file-name order: the halves do not depend on the JSON's order.
    numbered = list(enumerate(sorted(gold.items(), key=lambda item: item[1]["file"])))
    if args.half:
        numbered = [(n, item) for n, item in numbered if n % 2 == (args.half == "odd")]
    numbered = numbered[: args.limit or None]
    profile = load_profile("generic")
    ours, theirs = Snippets(), Snippets()
    # Dated pages, and exact days of relnews and htmldate, overall and by half.
    dates = {half: [0, 0, 0] for half in ("all", "even", "odd")}
    our_time = their_time = 0.0
    started = time.monotonic()
    for done, (number, (url, page)) in enumerate(numbered, 1):
        raw = gzip.decompress((args.data / "html" / f"{page['file']}.gz").read_bytes())
        html, _encoding = decode_html(raw, None)
        began = time.perf_counter()
        analysis = analyse_page(html, url, profile, FETCHED_AT)
        our_time += time.perf_counter() - began
        began = time.perf_counter()
        extracted = trafilatura.extract(html, url=url) or ""
        their_time += time.perf_counter() - began
        article = analysis.article
        ours.add(f"{article.lead}\n{article.body}" if article else "", page)
        theirs.add(extracted, page)
        if page.get("date"):
            ours_right = bool(
                article and article.published and f"{article.published.local_day}" == page["date"]
            )
            theirs_right = (
                find_date(html, url=url, original_date=True, extensive_search=True) == page["date"]
            )
            for half in ("all", "odd" if number % 2 else "even"):
                dates[half][0] += 1
                dates[half][1] += ours_right
                dates[half][2] += theirs_right
        if done % 100 == 0:
            rate = done / (time.monotonic() - started)
            left = (len(numbered) - done) / rate
            print(
                f"{done}/{len(numbered)} pages ({rate:.1f}/s, about {left:.0f} s left)", flush=True
            )
    n = len(numbered)
    p, r, f = ours.figures()
    tp, tr, tf = theirs.figures()
    print(f"\n{n} pages, {dates['all'][0]} with a gold date")
    print(f"{'':34} {'relnews':>9} {'reference':>10}")
    print(
        f"{'body F1 (trafilatura default)':34} {f:9.3f} {tf:10.3f}   "
        f"P {p:.3f}/{tp:.3f} R {r:.3f}/{tr:.3f}"
    )
    labels = ("date day (htmldate publication)", "  even-numbered pages", "  odd-numbered pages")
    for half, label in zip(("all", "even", "odd"), labels, strict=True):
        dated, our_dates, their_dates = dates[half]
        if not dated:
            continue
        print(
            f"{label:34} {our_dates / dated:9.3f} "
            f"{their_dates / dated:10.3f}   {our_dates} and {their_dates} of {dated},"
            f" {(our_dates - their_dates) / dated:+.3f}"
        )
    print(
        f"{'ms per page (trafilatura default)':34} {1000 * our_time / n:9.1f} "
        f"{1000 * their_time / n:10.1f}   ratio {our_time / their_time:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
