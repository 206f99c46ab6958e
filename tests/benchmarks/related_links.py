"""Related-link extraction on real sites: what relnews stores against what the pages hold.

    python tests/benchmarks/related_links.py [--site libreoffice-fr|libreoffice-en|postgresql|all]
        [--mode profile|generic|both] [--examples 5] [--keep DIR] [-s NAME=VALUE ...]

For each site (see realsites.py; ``all`` is libreoffice-fr and postgresql), the script
obtains the site, serves it on 127.0.0.1, and runs a real crawl in a subprocess:
``python -m relnews crawl --profile <libreoffice|postgresql|generic> --url <start pages>
--db <tmp>.duckdb``. Then it scores the related links stored in that file (table
``related_links``: source_url, target_url) against the truth, read from the files on disk
with lxml by this script alone (never through relnews' analysis):

- LibreOffice help: the links ``div.relatedtopics div.relatedbody a[href]``, and, in the
  older layout of about 150 pages per language (the same "Rubriques connexes" / "Related
  Topics" heading, a ``p.related`` alone in a ``div.embedded``, with no
  ``div.relatedtopics``), the links of the elements that follow that heading's
  ``div.embedded``; resolved against the page's ``<base href>`` (itself resolved against
  the page's URL);
- PostgreSQL docs: the links of the ``div.refsect1`` section whose ``h2`` is "See Also".

Only the pages the crawl fetched with status 200 (table ``fetches``) count. URLs are
compared without their fragment, with their path percent-encoded one way.

- precision = stored (source, target) pairs that are true / stored pairs;
- recall = stored pairs that are true / true pairs of the crawled pages;
- coverage = crawled pages / HTML files of the site (its language folder for LibreOffice);
- order = pages with a block whose stored links, by position, are in the page's order.

Targets: precision and recall >= 0.99 with the site's profile, >= 0.90 with the generic
detector. The script prints one table and a few misses and false positives per run, and
exits 0 unless it crashed (a failed target is a FAIL in the table, not an exit code).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urldefrag, urljoin, urlsplit, urlunsplit

import duckdb
import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parent))

import realsites  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"profile": 0.99, "generic": 0.90}
ALL_SITES = ("libreoffice-fr", "postgresql")


# -- the truth, read from the files ----------------------------------------------------


def normalise(url: str) -> str:
    """One spelling per URL: no fragment, lower-case scheme and host, path quoted once."""
    url, _fragment = urldefrag(url.strip())
    parts = urlsplit(url)
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path or "/", parts.query, ""))


def _is_web(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def _has_class(element: lxml.html.HtmlElement, name: str) -> bool:
    return name in (element.get("class") or "").split()


def _document_base(root: lxml.html.HtmlElement, page_url: str) -> str:
    for base in root.iter("base"):
        href = (base.get("href") or "").strip()
        if href:
            return urljoin(page_url, href)
    return page_url


def _targets(anchors: list[lxml.html.HtmlElement], base: str) -> list[str]:
    targets = []
    for anchor in anchors:
        href = (anchor.get("href") or "").strip()
        if not href:
            continue
        url = urljoin(base, href)
        if _is_web(url):
            targets.append(normalise(url))
    return targets


def _older_layout_blocks(root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The elements after a ``div.embedded`` that holds only the related heading."""
    blocks = []
    for div in root.iter("div"):
        if not _has_class(div, "embedded") or any(
            _has_class(a, "relatedtopics") for a in div.iterancestors("div")
        ):
            continue
        if any(_has_class(p, "related") for p in div.iterchildren("p")):
            blocks.extend(div.itersiblings())
    return blocks


def libreoffice_truth(root: lxml.html.HtmlElement, page_url: str) -> list[str]:
    """Targets of the related block, in page order (repeats kept: a page may list a
    target twice)."""
    anchors = []
    for anchor in root.iter("a"):
        if anchor.get("href") is None:
            continue
        ancestors = list(anchor.iterancestors("div"))
        in_body = any(_has_class(div, "relatedbody") for div in ancestors)
        in_topics = any(_has_class(div, "relatedtopics") for div in ancestors)
        if in_body and in_topics:
            anchors.append(anchor)
    for block in _older_layout_blocks(root):
        anchors.extend(a for a in block.iter("a") if a.get("href") is not None)
    return _targets(anchors, _document_base(root, page_url))


def postgresql_truth(root: lxml.html.HtmlElement, page_url: str) -> list[str]:
    """Targets of the links in the ``div.refsect1`` whose ``h2`` says "See Also", in page
    order (repeats kept)."""
    anchors = []
    for div in root.iter("div"):
        if not _has_class(div, "refsect1"):
            continue
        headings = [" ".join(h2.text_content().split()) for h2 in div if h2.tag == "h2"]
        if "See Also" in headings:
            anchors.extend(a for a in div.iter("a") if a.get("href") is not None)
    return _targets(anchors, _document_base(root, page_url))


@dataclass(frozen=True)
class SiteSetup:
    profile: str
    truth: Callable[[lxml.html.HtmlElement, str], list[str]]
    pages_folder: Callable[[Path], Path]  # the HTML files coverage counts


SETUPS = {
    "libreoffice-fr": SiteSetup("libreoffice", libreoffice_truth, lambda root: root / "fr"),
    "libreoffice-en": SiteSetup("libreoffice", libreoffice_truth, lambda root: root / "en-US"),
    "postgresql": SiteSetup("postgresql", postgresql_truth, lambda root: root),
}


def read_page(path: Path) -> lxml.html.HtmlElement:
    # Both sites are UTF-8; the PostgreSQL pages start with an XML declaration, which
    # lxml accepts on bytes.
    parser = lxml.html.HTMLParser(encoding="utf-8")
    return lxml.html.document_fromstring(path.read_bytes(), parser=parser)


# -- one crawl and its score ------------------------------------------------------------


@dataclass
class Result:
    site: str
    mode: str
    seconds: float = 0.0
    exit_code: int | None = None
    timed_out: bool = False
    pages: int = 0
    html_files: int = 0
    true_blocks: int = 0
    found_blocks: int = 0
    true_pairs: int = 0
    stored_pairs: int = 0
    correct_pairs: int = 0
    ordered_blocks: int = 0
    foreign_sources: int = 0
    misses_self: int = 0  # a page's link to itself
    misses_unfound: int = 0  # on pages where nothing at all was stored
    false_positives_unblocked: int = 0  # on pages that have no related block
    depth_cut: int = 0  # requests Scrapy dropped for DEPTH_LIMIT
    misses: list[tuple[str, str]] = field(default_factory=list)
    false_positives: list[tuple[str, str]] = field(default_factory=list)
    disordered: list[tuple[str, str]] = field(default_factory=list)  # (page, why)
    error: str = ""

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.stored_pairs if self.stored_pairs else 0.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 0.0

    @property
    def coverage(self) -> float:
        return self.pages / self.html_files if self.html_files else 0.0

    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        target = TARGETS[self.mode]
        return "PASS" if min(self.precision, self.recall) >= target else "FAIL"


def run_crawl(
    profile: str,
    start_urls: list[str],
    db: Path,
    max_pages: int | None,
    timeout: float,
    settings: list[str],
) -> tuple[int | None, float, bool]:
    command = [sys.executable, "-m", "relnews", "crawl", "--profile", profile, "--db", str(db)]
    for url in start_urls:
        command += ["--url", url]
    for setting in ["RELNEWS_PROGRESS_EVERY=10", *settings]:
        command += ["-s", setting]
    if max_pages:
        command += ["--max-pages", str(max_pages)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RELNEWS_DB", None)
    print("$", " ".join(command[1:]), flush=True)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        code = process.wait(timeout=timeout)
        return code, time.monotonic() - started, False
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None, time.monotonic() - started, True


def score(result: Result, db: Path, base_url: str, folder: Path, setup: SiteSetup) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT url FROM fetches WHERE status = 200").fetchall()
        fetched = [row[0] for row in rows]
        stored_rows = con.execute(
            "SELECT source_url, target_url, position FROM related_links"
        ).fetchall()
        stats = con.execute("SELECT stats FROM crawl_runs ORDER BY run_id DESC LIMIT 1").fetchone()
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        result.depth_cut = int(json.loads(stats[0]).get("depth/request_ignored_count", 0))

    # The truth, for every crawled page that is a file of the site: its targets in page
    # order, each once (at its first place).
    truth: dict[str, list[str]] = {}
    repeats: dict[str, bool] = {}
    for url in fetched:
        if not url.startswith(base_url):
            continue
        path = folder / unquote(urlsplit(url).path).lstrip("/")
        if not path.is_file() or path.suffix.lower() not in (".html", ".htm"):
            continue
        targets = setup.truth(read_page(path), url)
        truth[normalise(url)] = list(dict.fromkeys(targets))
        repeats[normalise(url)] = len(set(targets)) < len(targets)
    result.pages = len(truth)
    result.html_files = sum(1 for _ in setup.pages_folder(folder).rglob("*.html"))
    result.true_blocks = sum(1 for targets in truth.values() if targets)

    stored: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for source, target, position in stored_rows:
        stored[normalise(source)].append((position, normalise(target)))
    true_pairs = {(source, target) for source, targets in truth.items() for target in targets}
    stored_pairs = {(source, target) for source, links in stored.items() for _, target in links}
    result.true_pairs = len(true_pairs)
    result.stored_pairs = len(stored_pairs)
    result.correct_pairs = len(true_pairs & stored_pairs)
    result.found_blocks = len(stored)
    result.foreign_sources = sum(1 for source in stored if source not in truth)
    for source, targets in sorted(truth.items()):
        if not targets:
            continue
        in_order = [target for _, target in sorted(stored.get(source, []))]
        if in_order == targets:
            result.ordered_blocks += 1
        elif set(in_order) == set(targets):
            why = "a target listed twice on the page" if repeats[source] else "same links"
            result.disordered.append((source, why))
    # Examples are picked from the sorted lists: the same ones on every run.
    result.misses = sorted(true_pairs - stored_pairs)
    result.false_positives = sorted(stored_pairs - true_pairs)
    result.misses_self = sum(1 for source, target in result.misses if source == target)
    result.misses_unfound = sum(1 for source, _ in result.misses if source not in stored)
    result.false_positives_unblocked = sum(
        1 for source, _ in result.false_positives if not truth.get(source)
    )


def run_one(site_name: str, mode: str, args: argparse.Namespace, tmp: Path) -> Result:
    result = Result(site_name, mode)
    setup = SETUPS[site_name]
    site = realsites.SITES[site_name]
    try:
        folder = realsites.obtain(site)
    except realsites.SiteUnavailable as error:
        result.error = str(error)
        return result
    profile = setup.profile if mode == "profile" else "generic"
    db = tmp / f"{site_name}-{mode}.duckdb"
    db.unlink(missing_ok=True)
    print(f"\n== {site_name}, {mode} ({profile} profile)", flush=True)
    with realsites.serve(folder) as base_url:
        start_urls = [base_url + path for path in site.start_paths]
        code, seconds, timed_out = run_crawl(
            profile, start_urls, db, args.max_pages, args.timeout, args.settings
        )
        result.exit_code, result.seconds, result.timed_out = code, seconds, timed_out
        if not db.exists():
            result.error = f"the crawl wrote no archive (exit code {code})"
            return result
        score(result, db, base_url, folder, setup)
    if code not in (0, 2):
        result.error = f"crawl exit code {code}"
    if timed_out:
        result.error = f"crawl killed after {args.timeout:.0f} s (scored what it stored)"
    return result


# -- the report -------------------------------------------------------------------------


def _short(url: str) -> str:
    parts = urlsplit(url)
    return parts.path.lstrip("/") if parts.hostname == "127.0.0.1" else url


def _spread(items: list, count: int) -> list:
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def print_table(results: list[Result]) -> None:
    header = ["site", "mode", "pages", "coverage", "blocks", "found", "true", "stored",
              "P", "R", "order", "time", "result"]  # fmt: skip
    rows = [
        [
            r.site,
            r.mode,
            str(r.pages),
            f"{r.coverage:.1%}",
            str(r.true_blocks),
            str(r.found_blocks),
            str(r.true_pairs),
            str(r.stored_pairs),
            f"{r.precision:.4f}",
            f"{r.recall:.4f}",
            f"{r.ordered_blocks}/{r.true_blocks}",
            f"{r.seconds:.0f} s",
            f"{r.verdict()} (>= {TARGETS[r.mode]:.2f})",
        ]
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    left = {0, 1, 12}
    for row in [header, ["-" * w for w in widths], *rows]:
        cells = [
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def print_examples(results: list[Result], count: int) -> None:
    for r in results:
        print(f"\n{r.site}, {r.mode}:", end="")
        if r.error:
            print(f" {r.error}", end="")
        print(
            f" {len(r.misses)} misses ({r.misses_self} links of a page to itself,"
            f" {r.misses_unfound} on pages where nothing was stored),"
            f" {len(r.false_positives)} false positives ({r.false_positives_unblocked} on"
            f" pages without a related block), {r.foreign_sources} stored sources that are"
            f" not crawled pages of the site, {r.depth_cut} requests dropped by DEPTH_LIMIT"
        )
        for label, pairs in (("miss", r.misses), ("false positive", r.false_positives)):
            for source, target in _spread(pairs, count):
                print(f"  {label}: {_short(source)} -> {_short(target)}")
        if r.disordered:
            print(f"  {len(r.disordered)} pages with the right links in another order, e.g.")
            for source, why in _spread(r.disordered, count):
                print(f"  order: {_short(source)} ({why})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", choices=[*SETUPS, "all"], default="all")
    parser.add_argument("--mode", choices=["profile", "generic", "both"], default="both")
    parser.add_argument(
        "--examples", type=int, default=5, help="misses and false positives shown per run"
    )
    parser.add_argument("--max-pages", type=int, help="stop each crawl after this many pages")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per crawl")
    parser.add_argument("--keep", type=Path, help="keep the DuckDB files in this folder")
    parser.add_argument(
        "-s",
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Scrapy setting passed on to each crawl (repeatable), e.g. -s DEPTH_LIMIT=0",
    )
    args = parser.parse_args(argv)

    sites = ALL_SITES if args.site == "all" else (args.site,)
    modes = ("profile", "generic") if args.mode == "both" else (args.mode,)
    results = []
    with tempfile.TemporaryDirectory(prefix="relnews-related-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for site in sites:
            for mode in modes:
                results.append(run_one(site, mode, args, folder))
    print()
    print_table(results)
    print(
        "pages = crawled pages that are HTML files of the site; blocks = those with a"
        " related block; found = pages with stored links; true/stored = (page, target) pairs"
    )
    print_examples(results, args.examples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
