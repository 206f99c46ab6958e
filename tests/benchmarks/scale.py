"""Scale: fit, top-10 lists and archive writes for 100,000 synthetic news articles.

    python tests/benchmarks/scale.py [--articles 100000] [--compare 20000]
                                     [--method learned|tfidf] [--skip-job] [--skip-compare]

Generates a synthetic news archive, deterministically (seeded numpy, same corpus for a
given size on every run): about 300 topics, each with its own 500 words drawn from a
shared vocabulary of 50,000 made-up words and ranked by a Zipf law; every text mixes
French and English function words, general words (Zipf over the whole vocabulary) and
words of its topic. Titles of about 8 words, leads of about 25, bodies of about 250
(log-normal, 80 to 1,000); 20 rubriques, 2 to 4 tags, an author, publication dates
spread over 10 years (1% undated). Editorial links: 3 to 6 per dated article, to older
articles, 85% of them to a recent article of its own topic, the rest to any older one,
so a learned model has something to learn.

Then measures, each in a fresh subprocess, so the peak memory (the child's
``ru_maxrss``: numpy, scipy and DuckDB allocate outside tracemalloc) is per measurement:

1. the full job on ``--articles`` articles: ``fit(articles, links)``, ``recommend_all(k=10)``
   for every article, then ``Writer.save_model`` and ``Writer.save_recommendations``
   into a fresh DuckDB archive (created and migrated by ``warehouse.opened``). Prints the
   generation time (not counted), fit, lists, write and their total, and the peak RSS of
   the process (generated corpus included, as the real job holds the articles it read),
   against the goal: at most 180 s and 6 GB;
2. side by side on ``--compare`` articles, the list computation only (fit excluded for
   both, and printed): (a) the method's ``recommend_all(k=10)`` for every article,
   Suggestion objects and shared terms included; (b) a dense all-pairs cosine: the TF-IDF
   matrix of relnews' own vectoriser (``TfidfRecommender`` with its defaults, whatever
   ``--method``) turned into a dense n x n matrix by
   ``sklearn.metrics.pairwise.cosine_similarity(dense_output=True)``, then, by blocks of
   rows, the same candidate rule (not itself, not newer, positive scores) and the top 10
   of each row by ``argpartition``. For ``learned`` on a machine with more than one
   core, (a) runs again with ``n_jobs=-1`` (threads), its lists checked identical to
   (a)'s. Prints the times, the ratio of (b) to the one-thread (a) (goal: at least 5)
   and how many of (a)'s lists hold the same articles as (b)'s (for ``tfidf``, a check
   that both compute the same thing; for ``learned``, how far it moved from plain
   cosine).

``--method``: ``learned`` (``recommender.models.learned.LearnedRecommender``) or ``tfidf``
(``recommender.TfidfRecommender``); by default ``learned`` when it can be imported, else
``tfidf`` with a note. Exit code 0 when the measurements ran (PASS or FAIL), 1 on an
error (a child failing or running over ``--timeout``).

Internal mode, run by the script itself:
``scale.py --child job|lists|dense --articles N --method M --out FILE``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from recommender.models.text import load_stop_words  # noqa: E402
from warehouse.model import Article, DateValue, EditorialLink  # noqa: E402

GOAL_SECONDS = 180.0
GOAL_GB = 6.0
GOAL_RATIO = 5.0
K = 10
SEED = 20261124

N_WORDS = 50_000
N_TOPICS = 300
TOPIC_WORDS = 500
#: Share of the tokens of a lead or body drawn from: function words, general words, topic.
BODY_MIX = (0.35, 0.40, 0.25)
TITLE_MIX = (0.10, 0.30, 0.60)
RUBRIQUES = (
    "politique", "international", "economie", "societe", "sante", "sciences", "planete",
    "culture", "sport", "technologies", "education", "justice", "faits-divers", "medias",
    "idees", "voyage", "gastronomie", "immobilier", "emploi", "regions",
)  # fmt: skip
START = datetime(2015, 1, 1)
SPAN_SECONDS = 10 * 365 * 86_400


def say(*parts: object) -> None:
    print(*parts, flush=True)


# -- the synthetic corpus ------------------------------------------------------------


def made_up_words(rng: np.random.Generator, n: int, avoid: frozenset[str]) -> list[str]:
    """``n`` distinct pronounceable words of 2 to 4 syllables, none of them in ``avoid``."""
    syllables = np.array([c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"] + ["ou", "an"])
    words: dict[str, None] = {}
    while len(words) < n:
        lengths = rng.integers(2, 5, size=n)
        parts = syllables[rng.integers(0, syllables.size, size=(n, 4))]
        endings = rng.choice(np.array(["", "", "", "n", "r", "s", "l", "t"]), size=n)
        for row, length, ending in zip(parts, lengths, endings, strict=True):
            word = "".join(row[:length]) + ending
            if word not in avoid:
                words[word] = None
    return list(words)[:n]


def zipf_cdf(n: int, exponent: float, offset: float) -> np.ndarray:
    weights = 1.0 / (np.arange(n) + 1.0 + offset) ** exponent
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]


class Corpus:
    """Draws token ids for texts: a mixture of function, general and topic words."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        function = sorted(load_stop_words("fr") | load_stop_words("en"))
        general = made_up_words(rng, N_WORDS, frozenset(function))
        self.words = np.array(function + general, dtype=object)
        self.n_function = len(function)
        self.function_ids = rng.permutation(len(function))
        self.function_cdf = zipf_cdf(len(function), 0.8, 1.0)
        self.general_cdf = zipf_cdf(N_WORDS, 1.0, 2.7)
        # General ranks are not alphabetical: permute which word gets which rank.
        self.general_ids = self.n_function + rng.permutation(N_WORDS)
        self.topic_cdf = zipf_cdf(TOPIC_WORDS, 0.9, 1.0)
        self.topic_ids = np.stack(
            [
                self.n_function + rng.choice(N_WORDS, TOPIC_WORDS, replace=False)
                for _ in range(N_TOPICS)
            ]
        )

    def token_ids(
        self, topics: np.ndarray, lengths: np.ndarray, mix: tuple[float, float, float]
    ) -> np.ndarray:
        """All the tokens of ``len(topics)`` texts, one after another."""
        rng = self.rng
        total = int(lengths.sum())
        kind = rng.random(total)
        u = rng.random(total)
        ids = np.empty(total, dtype=np.int64)
        function = kind < mix[0]
        general = (kind >= mix[0]) & (kind < mix[0] + mix[1])
        topical = ~(function | general)
        ids[function] = self.function_ids[
            np.minimum(
                np.searchsorted(self.function_cdf, u[function], side="right"), self.n_function - 1
            )
        ]
        ids[general] = self.general_ids[
            np.minimum(np.searchsorted(self.general_cdf, u[general], side="right"), N_WORDS - 1)
        ]
        token_topics = np.repeat(topics, lengths)[topical]
        ranks = np.minimum(
            np.searchsorted(self.topic_cdf, u[topical], side="right"), TOPIC_WORDS - 1
        )
        ids[topical] = self.topic_ids[token_topics, ranks]
        return ids

    def texts(
        self, topics: np.ndarray, lengths: np.ndarray, mix: tuple[float, float, float]
    ) -> list[str]:
        words = self.words[self.token_ids(topics, lengths, mix)]
        bounds = np.cumsum(lengths)[:-1]
        return [" ".join(chunk) for chunk in np.split(words, bounds)]


def generate(n: int, seed: int = SEED) -> tuple[list[Article], list[EditorialLink]]:
    """``n`` synthetic articles and their editorial links; the same for the same arguments."""
    rng = np.random.default_rng(seed)
    corpus = Corpus(rng)
    topics = rng.integers(0, N_TOPICS, size=n)
    topic_rubrique = rng.integers(0, len(RUBRIQUES), size=N_TOPICS)
    seconds = rng.integers(0, SPAN_SECONDS, size=n)
    dated = rng.random(n) >= 0.01
    authors = [f"{a} {b}" for a, b in zip(*(corpus.words[-400:].reshape(2, 200)), strict=True)]
    author_of = rng.integers(0, len(authors), size=n)
    n_tags = rng.integers(2, 5, size=n)
    tag_ranks = rng.integers(0, 8, size=(n, 4))

    articles: list[Article] = []
    for start in range(0, n, 10_000):
        part = slice(start, min(n, start + 10_000))
        chunk = topics[part]
        size = chunk.size
        titles = corpus.texts(chunk, rng.integers(6, 11, size=size), TITLE_MIX)
        leads = corpus.texts(chunk, rng.integers(18, 33, size=size), BODY_MIX)
        body_lengths = np.clip(rng.lognormal(np.log(250), 0.35, size=size), 80, 1000)
        bodies = corpus.texts(chunk, body_lengths.astype(np.int64), BODY_MIX)
        for offset in range(size):
            i = start + offset
            topic = int(topics[i])
            rubrique = RUBRIQUES[topic_rubrique[topic]]
            when = START + timedelta(seconds=int(seconds[i]))
            title = titles[offset]
            slug = "-".join(title.split()[:4])
            tags = tuple(
                dict.fromkeys(
                    str(corpus.words[corpus.topic_ids[topic, rank]])
                    for rank in tag_ranks[i, : n_tags[i]]
                )
            )
            articles.append(
                Article(
                    url=f"https://news.example.org/{rubrique}/{when:%Y/%m}/{slug}-{i:06d}.html",
                    title=title[:1].upper() + title[1:],
                    lead=leads[offset],
                    body=bodies[offset],
                    published=DateValue(when, "json-ld") if dated[i] else None,
                    rubrique=rubrique,
                    tags=tags,
                    author=authors[author_of[i]],
                    language="fr",
                )
            )
    return articles, editorial_links(rng, articles, topics, seconds, dated)


def editorial_links(
    rng: np.random.Generator,
    articles: list[Article],
    topics: np.ndarray,
    seconds: np.ndarray,
    dated: np.ndarray,
) -> list[EditorialLink]:
    """3 to 6 links from each dated article to older ones, mostly recent ones of its topic."""
    order = np.array(sorted(np.flatnonzero(dated), key=lambda i: (seconds[i], i)))
    by_topic: dict[int, list[int]] = {}
    links: list[EditorialLink] = []
    n_links = rng.integers(3, 7, size=order.size)
    same_topic = rng.random((order.size, 6)) < 0.85
    back = 1 + rng.geometric(0.08, size=(order.size, 6))  # recent ones more often
    anywhere = rng.random((order.size, 6))
    for position, i in enumerate(order):
        older = by_topic.setdefault(int(topics[i]), [])
        targets: dict[int, None] = {}
        if position:
            for j in range(n_links[position]):
                if same_topic[position, j] and older:
                    target = older[max(0, len(older) - back[position, j])]
                else:
                    target = order[int(anywhere[position, j] * position)]
                targets[int(target)] = None
        links.extend(
            EditorialLink(articles[i].url, articles[target].url, rank)
            for rank, target in enumerate(targets, start=1)
        )
        older.append(int(i))
    return links


# -- the measurements (each in its own process) ----------------------------------------


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def current_rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make_model(method: str, jobs: int | None = None):
    if method == "learned":
        from recommender.models.learned import LearnedRecommender

        return LearnedRecommender(n_jobs=jobs)
    from recommender import TfidfRecommender

    return TfidfRecommender()


def child_main(args: argparse.Namespace) -> int:
    result: dict[str, object] = {}
    started = time.perf_counter()
    articles, links = generate(args.articles)
    result["generate"] = time.perf_counter() - started
    result["rss_after_generate"] = current_rss_bytes()
    result["n_links"] = len(links)
    if args.child == "dense":
        result.update(dense_lists(articles, args.out_lists))
    else:
        started = time.perf_counter()
        model = make_model(args.method, args.jobs).fit(articles, links)
        result["fit"] = time.perf_counter() - started
        started = time.perf_counter()
        lists = model.recommend_all(k=K)
        result["lists"] = time.perf_counter() - started
        result["n_suggestions"] = sum(len(s) for s in lists.values())
        if args.child == "job":
            result.update(write_lists(model, args.method, lists, Path(args.db)))
        else:
            save_top(args.out_lists, sorted(a.url for a in articles), lists)
        if hasattr(model, "get_params"):
            result["params"] = {k: repr(v) for k, v in model.get_params().items()}
    result["peak_rss"] = peak_rss_bytes()
    Path(args.out).write_text(json.dumps(result))
    return 0


def write_lists(model, method: str, lists: dict, db: Path) -> dict[str, float]:
    from warehouse import Writer, opened

    started = time.perf_counter()
    rows = [
        (source, rank, suggestion.target_url, suggestion.score, suggestion.shared_terms)
        for source, suggestions in lists.items()
        for rank, suggestion in enumerate(suggestions, start=1)
    ]
    params = model.get_params() if hasattr(model, "get_params") else {}
    with opened(db) as con:
        writer = Writer(con)
        writer.save_model(f"{method}-scale", method, params, len(lists), None)
        saving = time.perf_counter()
        n_rows = writer.save_recommendations(f"{method}-scale", rows)
        saved = time.perf_counter() - saving
        stored = con.execute("SELECT count(*) FROM recommendations").fetchone()[0]
    return {
        "write": time.perf_counter() - started,
        "save_recommendations": saved,
        "n_rows": n_rows,
        "stored_rows": stored,
        "db_bytes": db.stat().st_size,
    }


def save_top(path: str, urls: list[str], lists: dict) -> None:
    """The lists as an (n, K) array of row numbers in url order, -1 where shorter."""
    row = {url: i for i, url in enumerate(urls)}
    top = np.full((len(urls), K), -1, dtype=np.int32)
    for url, suggestions in lists.items():
        targets = [row[s.target_url] for s in suggestions]
        top[row[url], : len(targets)] = targets
    np.save(path, top)


def dense_lists(articles: list[Article], out: str) -> dict[str, float]:
    """Top K by a dense n x n cosine matrix, with relnews' candidate rule."""
    from sklearn.metrics.pairwise import cosine_similarity

    from recommender import TfidfRecommender

    started = time.perf_counter()
    model = TfidfRecommender().fit(articles)
    fitted = time.perf_counter() - started
    matrix, published = model.matrix_, model.published_
    n = matrix.shape[0]

    started = time.perf_counter()
    similarities = cosine_similarity(matrix, dense_output=True)
    product = time.perf_counter() - started
    top = np.full((n, K), -1, dtype=np.int32)
    for lo in range(0, n, 1000):
        block = similarities[lo : lo + 1000]
        rows = np.arange(lo, lo + block.shape[0])
        block[rows - lo, rows] = -np.inf  # not itself
        newer = published[None, :] > published[rows, None]  # NaN on either side: False
        block[newer] = -np.inf
        best = np.argpartition(block, -K, axis=1)[:, -K:]
        scores = np.take_along_axis(block, best, axis=1)
        order = np.lexsort((best, -scores), axis=1)  # best first, ties by row (by url)
        best = np.take_along_axis(best, order, axis=1)
        scores = np.take_along_axis(scores, order, axis=1)
        top[lo : lo + block.shape[0]] = np.where(scores > 0, best, -1)
    elapsed = time.perf_counter() - started
    np.save(out, top)
    return {
        "fit": fitted,
        "lists": elapsed,
        "dense_product": product,
        "terms": matrix.shape[1],
        "nnz_per_row": matrix.nnz / n,
        "n_suggestions": int((top >= 0).sum()),
    }


# -- the parent ----------------------------------------------------------------------


def run_child(
    kind: str, n: int, method: str, tmp: Path, timeout: float, jobs: int | None = None
) -> dict:
    name = f"{kind}-{n}" + (f"-jobs{jobs}" if jobs else "")
    out = tmp / f"{name}.json"
    command = [
        sys.executable, __file__, "--child", kind, "--articles", str(n), "--method", method,
        "--out", str(out), "--db", str(tmp / f"{name}.duckdb"),
        "--out-lists", str(tmp / f"{name}.npy"),
    ]  # fmt: skip
    if jobs:
        command += ["--jobs", str(jobs)]
    started = time.perf_counter()
    try:
        process = subprocess.run(command, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"child {kind} on {n} articles ran over {timeout:.0f} s") from None
    if process.returncode != 0:
        raise RuntimeError(f"child {kind} on {n} articles failed (exit {process.returncode})")
    result = json.loads(out.read_text())
    result["wall"] = time.perf_counter() - started
    return result


def gb(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.2f} GB"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min)"


def default_method() -> str:
    try:
        from recommender.models.learned import LearnedRecommender  # noqa: F401
    except ImportError as error:
        say(f"note: recommender.models.learned cannot be imported ({error}): --method tfidf")
        return "tfidf"
    return "learned"


def report_job(job: dict, n: int, method: str) -> bool:
    total = job["fit"] + job["lists"] + job["write"]
    say(f"\n1. full job, {method}, {n:,} articles ({job['n_links']:,} editorial links)")
    if "params" in job:
        shown = ("n_candidates", "query_terms", "index_depth", "max_train_sources", "n_jobs")
        settings = ", ".join(f"{k}={job['params'][k]}" for k in shown if k in job["params"])
        say(f"settings   defaults: {settings}")
    after = gb(job["rss_after_generate"])
    say(f"generate   {job['generate']:8.1f} s  (not counted; RSS after it {after})")
    say(f"fit        {job['fit']:8.1f} s")
    say(f"lists      {job['lists']:8.1f} s  ({job['n_suggestions']:,} suggestions, k={K})")
    say(
        f"write      {job['write']:8.1f} s  (of which save_recommendations "
        f"{job['save_recommendations']:.1f} s for {job['n_rows']:,} rows; "
        f"{job['stored_rows']:,} stored, file {gb(job['db_bytes'])})"
    )
    verdict = "PASS" if total <= GOAL_SECONDS else "FAIL"
    say(f"total      {total:8.1f} s  goal <= {GOAL_SECONDS:.0f} s: {verdict}")
    peak = job["peak_rss"]
    verdict = "PASS" if peak <= GOAL_GB * 1e9 else "FAIL"
    say(f"peak RSS   {gb(peak):>10}  goal <= {GOAL_GB:.0f} GB: {verdict}")
    return total <= GOAL_SECONDS and peak <= GOAL_GB * 1e9


def report_compare(
    ours: dict, dense: dict, n: int, method: str, tmp: Path, threaded: dict | None = None
) -> bool:
    say(f"\n2. side by side, {n:,} articles, top-{K} lists of every article (fit excluded)")
    say(
        f"dense TF-IDF: {dense['terms']:,} terms, {dense['nnz_per_row']:.0f} nonzero per row, "
        f"fit {dense['fit']:.1f} s"
    )
    name = f"{method} recommend_all"
    say(
        f"(a) {name:28} {ours['lists']:8.2f} s  peak RSS {gb(ours['peak_rss'])}"
        f"  (fit {ours['fit']:.1f} s, not counted)"
    )
    say(
        f"(b) {'dense all-pairs cosine':28} {dense['lists']:8.2f} s  peak RSS "
        f"{gb(dense['peak_rss'])}  (of which the n x n matrix {dense['dense_product']:.2f} s)"
    )
    if threaded:
        name = f"{method} n_jobs=-1 ({os.cpu_count()} threads)"
        same_lists = np.array_equal(
            np.load(tmp / f"lists-{n}.npy"), np.load(tmp / f"lists-{n}-jobs-1.npy")
        )
        say(
            f"(a') {name:27} {threaded['lists']:8.2f} s  peak RSS {gb(threaded['peak_rss'])}"
            f"  (lists identical to (a): {'yes' if same_lists else 'NO'})"
        )
    ratio = dense["lists"] / ours["lists"]
    verdict = "PASS" if ratio >= GOAL_RATIO else "FAIL"
    say(f"ratio dense/{method}: {ratio:.2f}   goal >= {GOAL_RATIO:.0f}: {verdict}  (one thread)")
    if threaded:
        say(f"ratio dense/{method} n_jobs=-1: {dense['lists'] / threaded['lists']:.2f}")
    a = np.load(tmp / f"lists-{n}.npy")
    b = np.load(tmp / f"dense-{n}.npy")
    same = sum(set(x[x >= 0]) == set(y[y >= 0]) for x, y in zip(a, b, strict=True))
    overlap = sum(len(set(x[x >= 0]) & set(y[y >= 0])) for x, y in zip(a, b, strict=True))
    say(
        f"same articles in both lists: {same / n:.1%} of sources; "
        f"{overlap / max(1, int((b >= 0).sum())):.1%} of (b)'s suggestions are in (a)"
    )
    return ratio >= GOAL_RATIO


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="size of the full job")
    parser.add_argument("--compare", type=int, default=20_000, help="size of the side by side")
    parser.add_argument("--method", choices=("learned", "tfidf"), help="default: learned if any")
    parser.add_argument("--skip-job", action="store_true", help="only the side by side")
    parser.add_argument("--skip-compare", action="store_true", help="only the full job")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--child", choices=("job", "lists", "dense"), help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out-lists", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args)

    method = args.method or default_method()
    say(f"scale: {method} on synthetic news, top-{K} lists")
    say(f"machine  python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {load()}")
    tmp = Path(tempfile.mkdtemp(prefix="relnews-scale-"))
    try:
        ok = True
        if not args.skip_job:
            job = run_child("job", args.articles, method, tmp, args.timeout)
            ok &= report_job(job, args.articles, method)
        if not args.skip_compare:
            ours = run_child("lists", args.compare, method, tmp, args.timeout)
            threaded = None
            if method == "learned" and (os.cpu_count() or 1) > 1:
                threaded = run_child("lists", args.compare, method, tmp, args.timeout, jobs=-1)
            dense = run_child("dense", args.compare, method, tmp, args.timeout)
            ok &= report_compare(ours, dense, args.compare, method, tmp, threaded)
        say(f"\noverall: {'PASS' if ok else 'FAIL'}   ({load()} at the end)")
    finally:
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("scale: interrupted", file=sys.stderr)
        sys.exit(130)
    except (RuntimeError, OSError) as error:
        print(f"scale: error: {error}", file=sys.stderr)
        sys.exit(1)
