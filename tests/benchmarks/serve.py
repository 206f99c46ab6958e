"""Serving: `relnews serve` on an archive of 100,000 articles with their lists.

    python tests/benchmarks/serve.py [--articles 100000] [--seconds 20] [--clients 8]
                                     [--rebuild]

Builds (once, cached in ``tests/benchmarks/.cache/serve-N/``; ``--rebuild`` builds it
again; each run works on a copy) an archive of ``--articles`` synthetic articles (the
corpus of ``scale.py``: topics, rubriques, tags, dates over ten years) written through
``Writer.write_pages`` like a crawl's, then ``relnews fit`` (the real job: the model,
every article's top-10 list stored). Then starts ``relnews serve`` in its own process
and loads it from this one with ``--clients`` concurrent keep-alive HTTP/1.1 connections
(asyncio, raw sockets: a client that costs little next to the server on a 2-core
machine), measuring each request from its first byte sent to its last byte read:

1. baseline: ``GET /health`` (a constant answer of the same stack), ``--seconds`` / 4;
2. ``GET /related?url=U&k=5`` for random archived URLs, ``--seconds``: requests per
   second, p50 and p99 (goals: >= 1,500/s, p50 <= 2 ms, p99 <= 20 ms), and the ratio of
   its rate to the baseline's;
3. ``POST /related`` with a 600-word draft from one client while the others keep asking
   for stored lists (``--seconds`` / 2): the drafts' p50 (goal: <= 50 ms), and the
   stored lists' p50 and p99 meanwhile;
4. ``relnews pin`` in another process while every client asks for stored lists: how
   long until the pin shows first in its list (the server looks every 2 s), and no
   request may fail;
5. while ``relnews crawl`` of the demo site (served here) writes into the same archive:
   every client asks for stored lists until the crawl ends; every answer must be a 200
   (goal: no request fails), and the crawl must finish.

Exit code 0 when every goal is met, 1 when one is not, 2 on an error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CACHE = Path(__file__).resolve().parent / ".cache"
GOALS = {"rps": 1500.0, "p50_ms": 2.0, "p99_ms": 20.0, "draft_p50_ms": 50.0}


def say(*parts: object) -> None:
    print(*parts, flush=True)


# -- the archive ------------------------------------------------------------------------


def build(db: Path, n: int) -> None:
    """Write ``n`` synthetic articles into a new archive, then fit and store the lists."""
    from relnews import jobs

    write_articles(db, n)
    started = time.perf_counter()
    result = jobs.fit(db, k=10, on_step=lambda message: say(f"  fit: {message}"))
    say(
        f"fitted {result.model_id} on {result.n_articles:,} articles, {result.n_lists:,} "
        f"suggestions stored, in {time.perf_counter() - started:.0f} s"
    )


def page_records(articles: list, fetched: datetime) -> list:
    """``articles`` as the pages a crawl fetched at ``fetched`` (200, a stand-in body)."""
    from warehouse import Fetch, PageRecord

    return [
        PageRecord(
            Fetch(
                a.url,
                fetched,
                200,
                a.url,
                "text/html",
                "utf-8",
                body=f"<html><title>{a.title}</title></html>".encode(),
            ),
            a,
        )  # fmt: skip
        for a in articles
    ]


def write_articles(db: Path, n: int) -> None:
    """Write ``n`` synthetic articles (``scale.py``'s corpus) into a new archive as one
    finished crawl run's pages (the search benchmark uses it too)."""
    from scale import generate

    from warehouse import Writer, opened

    started = time.perf_counter()
    articles, _ = generate(n)
    say(f"generated {n:,} articles in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    fetched = datetime(2026, 11, 30, 12)
    with opened(db) as con:
        writer = Writer(con)
        run = writer.start_run("news.example.org", "benchmark")
        for start in range(0, n, 5_000):
            writer.write_pages(run, page_records(articles[start : start + 5_000], fetched))
            done = min(n, start + 5_000)
            rate = done / (time.perf_counter() - started)
            say(f"  wrote {done:,}/{n:,} pages ({rate:,.0f}/s, {(n - done) / rate:.0f} s left)")
        writer.finish_run(run, "finished")
    say(f"archive written in {time.perf_counter() - started:.0f} s")


# -- the load ---------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    requests: int = 0


async def client(
    host: str,
    port: int,
    make_request,
    until: asyncio.Event,
    tally: Tally,
) -> None:
    """One keep-alive connection asking one request after another until ``until``."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while not until.is_set():
            request = make_request()
            started = time.perf_counter()
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                body = await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, AttributeError, ValueError) as error:
                tally.failures.append(f"{type(error).__name__}: {error}")
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            tally.latencies.append(time.perf_counter() - started)
            tally.requests += 1
            if status != 200:
                tally.failures.append(f"{status}: {body[:200]!r}")
    finally:
        writer.close()


def get_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def post_request(path: str, data: dict) -> bytes:
    body = json.dumps(data).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def load(host: str, port: int, makers: list, seconds: float | None, stop=None) -> list[Tally]:
    """Run one client per request maker for ``seconds`` (or until ``stop()`` is true)."""
    until = asyncio.Event()
    tallies = [Tally() for _ in makers]
    tasks = [
        asyncio.create_task(client(host, port, maker, until, tally))
        for maker, tally in zip(makers, tallies, strict=True)
    ]
    started = time.perf_counter()
    while True:
        await asyncio.sleep(0.1)
        if (seconds is not None and time.perf_counter() - started >= seconds) or (
            stop is not None and stop()
        ):
            break
    until.set()
    await asyncio.gather(*tasks)
    return tallies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(name: str, tallies: list[Tally], seconds: float) -> dict[str, float]:
    latencies = [x for t in tallies for x in t.latencies]
    requests = sum(t.requests for t in tallies)
    figures = {
        "rps": requests / seconds,
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "failures": sum(len(t.failures) for t in tallies),
        "requests": requests,
    }
    say(
        f"{name:<34} {requests:>8,} requests  {figures['rps']:>8,.0f}/s  "
        f"p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms  "
        f"failures {figures['failures']}"
    )
    for tally in tallies:
        for failure in tally.failures[:3]:
            say(f"  failure: {failure}")
    return figures


async def pin_under_load(
    host: str, port: int, db: Path, source: str, target: str, makers: list
) -> tuple[float, list[Tally], float]:
    """Load the server while ``relnews pin SOURCE TARGET`` runs in another process;
    return how long after the pin was stored it showed first in SOURCE's list, the
    clients' tallies and how long they ran."""
    from urllib.parse import quote

    done = asyncio.Event()
    loading = asyncio.create_task(load(host, port, makers, None, stop=done.is_set))
    started = time.perf_counter()
    await asyncio.sleep(1.0)
    pin = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "relnews", "pin", source, target, "--db", str(db),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await pin.communicate()
    if pin.returncode != 0:
        raise RuntimeError(f"relnews pin failed: {err.decode()[-500:]}")
    stored = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    request = get_request(f"/related?url={quote(source, safe='')}&k=5")
    while True:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        body = json.loads(await reader.readexactly(length))
        if body["related"] and body["related"][0]["url"] == target:
            break
        if time.perf_counter() - stored > 60:
            raise RuntimeError("the pin did not show within 60 s")
        await asyncio.sleep(0.05)
    shown = time.perf_counter() - stored
    writer.close()
    await asyncio.sleep(1.0)
    done.set()
    tallies = await loading
    return shown, tallies, time.perf_counter() - started


def draft_text(words: int = 600) -> str:
    from scale import generate

    articles, _ = generate(200)
    text = " ".join(" ".join((a.title, a.lead or "", a.body or "")) for a in articles[:20])
    return " ".join(text.split()[:words])


# -- the run ----------------------------------------------------------------------------


def start_server(db: Path) -> tuple[subprocess.Popen, str, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "relnews", "serve", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    line = process.stdout.readline()
    match = re.search(r"on http://([\d.]+):(\d+)/", line)
    if not match:
        process.kill()
        raise RuntimeError(f"relnews serve did not start: {line!r} {process.stderr.read()[-2000:]}")
    return process, match.group(1), int(match.group(2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    folder = CACHE / f"serve-{args.articles}"
    db = folder / "news.duckdb"
    if args.rebuild or not db.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        build(db, args.articles)
    # The crawl of phase 4 writes into the archive: it gets a copy, the cache stays as built.
    work = folder / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    shutil.copy(db, work / db.name)
    shutil.copytree(db.with_suffix(".models"), work / (db.stem + ".models"))
    db = work / db.name
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    urls = [
        row[0] for row in con.execute("SELECT DISTINCT source_url FROM recommendations").fetchall()
    ]
    con.close()
    say(f"archive {db} ({db.stat().st_size / 1e6:,.0f} MB, {len(urls):,} lists)")

    started = time.perf_counter()
    process, host, port = start_server(db)
    say(f"relnews serve ready in {time.perf_counter() - started:.1f} s on {host}:{port}")
    from urllib.parse import quote

    rng = random.Random(0)

    def stored_list() -> bytes:
        return get_request(f"/related?url={quote(rng.choice(urls), safe='')}&k=5")

    draft = draft_text()
    say(f"draft: {len(draft.split())} words")
    met = True
    try:
        health = [lambda: get_request("/health")] * args.clients
        base_seconds = args.seconds / 4
        baseline = summary(
            "baseline GET /health",
            asyncio.run(load(host, port, health, base_seconds)),
            base_seconds,
        )
        tallies = asyncio.run(load(host, port, [stored_list] * args.clients, args.seconds))
        stored = summary("GET /related (stored lists)", tallies, args.seconds)
        say(f"{'':<34} ratio to the baseline: {stored['rps'] / baseline['rps']:.2f}")
        mixed_seconds = args.seconds / 2
        drafts = [lambda: post_request("/related", {"title": "", "text": draft, "k": 5})]
        tallies = asyncio.run(
            load(host, port, drafts + [stored_list] * (args.clients - 1), mixed_seconds)
        )
        draft_figures = summary("POST /related (600-word draft)", tallies[:1], mixed_seconds)
        summary("GET /related beside the drafts", tallies[1:], mixed_seconds)

        # an editor's pin from the command line while the clients keep asking
        source, target = urls[0], urls[-1]
        pinned_after, tallies, pin_seconds = asyncio.run(
            pin_under_load(host, port, db, source, target, [stored_list] * args.clients)
        )
        pinning = summary("GET /related while a pin lands", tallies, pin_seconds)
        say(f"{'':<34} the pin shows in the list {pinned_after:.1f} s after it was stored")

        # a crawl writing the same archive
        from demosite.server import DemoServer

        with DemoServer(port=0) as demo:
            crawl = subprocess.Popen(
                [sys.executable, "-m", "relnews", "crawl", "--profile", "demo", "--url",
                 demo.url, "--db", str(db)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
            started = time.perf_counter()
            tallies = asyncio.run(
                load(
                    host,
                    port,
                    [stored_list] * args.clients,
                    None,
                    stop=lambda: crawl.poll() is not None,
                )
            )
            crawl_seconds = time.perf_counter() - started
            out, err = crawl.communicate()
        during = summary("GET /related during a crawl", tallies, crawl_seconds)
        last = out.strip().splitlines()[-1] if out.strip() else err[-300:]
        say(f"{'':<34} crawl exit code {crawl.returncode} in {crawl_seconds:.1f} s: {last}")
    finally:
        process.terminate()
        process.wait(10)

    checks = [
        ("stored lists per second", stored["rps"], ">=", GOALS["rps"]),
        ("stored lists p50 (ms)", stored["p50_ms"], "<=", GOALS["p50_ms"]),
        ("stored lists p99 (ms)", stored["p99_ms"], "<=", GOALS["p99_ms"]),
        ("draft p50 (ms)", draft_figures["p50_ms"], "<=", GOALS["draft_p50_ms"]),
        ("failed requests during the crawl", during["failures"], "<=", 0),
        ("failed requests while a pin lands", pinning["failures"], "<=", 0),
        ("crawl exit code", crawl.returncode, "<=", 0),
    ]
    say("")
    for name, value, sense, goal in checks:
        ok = value >= goal if sense == ">=" else value <= goal
        met &= ok
        say(f"{name:<34} {value:>10,.2f}  goal {sense} {goal:,}  {'met' if ok else 'NOT MET'}")
    return 0 if met else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # one line, then the details
        import traceback

        traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
