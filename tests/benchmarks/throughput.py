"""Crawl throughput: relnews' full crawl against a bare Scrapy spider, on a fast local server.

    python tests/benchmarks/throughput.py [--repeats 3] [--no-profile]

Serves the PostgreSQL 15 HTML documentation (about 1,170 pages, see realsites.py) with
nginx on 127.0.0.1, then times, each in its own subprocess and from process start to end:

- the full crawl: ``python -m relnews crawl --profile postgresql ...`` (fetching,
  page analysis and DuckDB writes; a temporary equivalent profile is written while
  crawler/profiles/postgresql.toml does not exist); pages = fetches rows with status 200
  in its fresh DuckDB file;
- the baseline: a bare Scrapy spider that fetches exactly the URLs the full crawl
  fetched, with the same settings (``crawler.run.crawl_settings`` for a local site:
  robots.txt, no AutoThrottle, concurrency...) minus relnews' own components (pipelines,
  middlewares, extensions), and does nothing with the pages;
- a ceiling: a "follow" spider with the same settings that starts from the same start
  page and finds the pages by their links (a bytes regex, no parse), yielding one tiny
  item per page and nothing else. Its ratio to the bare spider is the best any crawl that
  discovers a site by its links can reach; full/follow is what relnews' own work costs.

The runs alternate (bare, full, follow, bare...) after one uncounted warm-up crawl; the
best run of each kind counts. The headline is the ratio of their pages per second
(goal: at least 0.70). Then one more full crawl runs under cProfile, and the script
prints where its time goes. Exit code 0 when the measurement ran (PASS or FAIL), 1 on an
error.

nginx comes from Debian's packages: when it is missing and we are root, the script runs
``apt-get install -y nginx``. It starts its own nginx (config, pid, logs and temp
folders in a temporary directory) and stops it at the end, also on error or Ctrl-C.

Internal mode, run by the script itself: ``throughput.py --bare-spider URLFILE SETTINGS``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pstats
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GOAL = 0.70

#: The profile used while crawler/profiles/postgresql.toml does not exist: every HTML page
#: is an article, the "See Also" section (div.refsect1) is the related block. Titles are
#: h1 or h2: only the 15 part pages have an h1; with h1 alone no reference page would be
#: an article, and no See Also link would ever be stored.
TEMP_PROFILE = """\
name = "postgresql-tmp"
description = "PostgreSQL 15 HTML docs (temporary profile of tests/benchmarks/throughput.py)"
language = "en"
mode = "selectors"
start_urls = []
sitemap_urls = []
article_url_pattern = '\\.html$'
follow_url_patterns = ['\\.html$']
deny_url_patterns = ['\\.(css|js|png|svg|gif|jpe?g|txt|sgml|xml)(\\?|$)']

[selectors]
title = "h1, h2"
lead = "div.refnamediv > p"
body = "p"
related_block = "xpath://div[contains(@class, 'refsect1')][h2[normalize-space()='See Also']]"
related_heading = "h2"
related_item = "a[href]"
related_link = ""
"""

#: Settings that are relnews' own machinery, not how pages are downloaded: the baseline
#: leaves them out, as well as every component (pipeline, middleware, extension) that is
#: relnews code, so that it runs plain Scrapy with relnews' download settings.
NOT_DOWNLOAD_SETTINGS = {"SPIDER_MODULES", "NEWSPIDER_MODULE", "FEED_EXPORT_ENCODING"}
RELNEWS_PACKAGES = ("crawler.", "warehouse.", "recommender.", "relnews.")

#: Shown in the report: the settings that decide how fast pages are downloaded.
SHOWN_SETTINGS = (
    "ROBOTSTXT_OBEY",
    "AUTOTHROTTLE_ENABLED",
    "DOWNLOAD_DELAY",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_TIMEOUT",
    "RETRY_TIMES",
    "DEPTH_PRIORITY",
    "HTTPERROR_ALLOW_ALL",
    "LOG_LEVEL",
)


def say(*parts: object) -> None:
    print(*parts, flush=True)


# -- the baseline spider (runs in its own process) -------------------------------------


def bare_spider_main(url_file: str, settings_file: str) -> int:
    """Fetch every URL of ``url_file`` with the settings of ``settings_file``; print stats."""
    import scrapy

    urls = [line.strip() for line in Path(url_file).read_text().splitlines() if line.strip()]

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self) -> AsyncIterator[scrapy.Request]:
            for url in urls:
                yield scrapy.Request(url, meta={"handle_httpstatus_all": True})

        def parse(self, response: Any, **kwargs: Any) -> None:
            return None  # nothing: no analysis, no item, no follow-up request

    return run_and_report(BareSpider, settings_file)


def run_and_report(spider: type, settings_file: str) -> int:
    """Crawl with ``spider`` under the settings in ``settings_file`` (as crawler.run.crawl
    does), then print its counts on a ``BARE-STATS`` line for the parent to read."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    settings = Settings()
    settings.setdict(json.loads(Path(settings_file).read_text()), priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    print(
        "BARE-STATS "
        + json.dumps(
            {
                "responses": stats.get("response_received_count", 0),
                "status_200": stats.get("downloader/response_status_count/200", 0),
                "finish_reason": stats.get("finish_reason"),
            }
        ),
        flush=True,
    )
    return 0


def follow_spider_main(start_url: str, settings_file: str) -> int:
    """The cheapest crawl that finds its pages itself: from ``start_url``, follow every
    same-site ``.html`` link found by a bytes regex (no parse), yield one tiny item per page
    (no analysis, no pipeline). What it costs over the bare spider is what discovering
    pages by their links costs in Scrapy, before relnews does anything."""
    import re
    from urllib.parse import urljoin

    import scrapy

    href = re.compile(rb'href="([^"#?:]+\.html)')
    seen = {start_url}

    class FollowSpider(scrapy.Spider):
        name = "follow"

        async def start(self) -> AsyncIterator[scrapy.Request]:
            yield scrapy.Request(start_url, meta={"handle_httpstatus_all": True})

        def parse(self, response: Any, **kwargs: Any) -> Any:
            yield {"url": response.url}
            for link in href.findall(response.body):
                url = urljoin(response.url, link.decode())
                if url not in seen:
                    seen.add(url)
                    yield scrapy.Request(url, meta={"handle_httpstatus_all": True})

    return run_and_report(FollowSpider, settings_file)


# -- nginx ----------------------------------------------------------------------------


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_nginx() -> str:
    """The nginx binary; installed from Debian's packages when missing and we are root."""
    found = find_nginx()
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        sys.exit(
            "throughput: nginx is not installed and cannot be installed from here "
            "(needs root and apt-get). Install it (`apt-get install -y nginx`) and rerun."
        )
    say("nginx not found: apt-get install -y nginx")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "--no-install-recommends", "nginx"]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        say("apt-get install failed; apt-get update, then again")
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True)
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    found = find_nginx()
    if result.returncode != 0 or not found:
        sys.exit(
            "throughput: apt-get install -y nginx failed:\n"
            + (result.stderr or result.stdout)[-2000:]
        )
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


NGINX_CONF = """\
worker_processes 1;
daemon off;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{
        text/html html htm;
        text/css css;
        text/plain txt;
        text/xml xml;
        application/javascript js;
        image/svg+xml svg;
        image/png png;
        image/gif gif;
        image/jpeg jpg jpeg;
    }}
    default_type application/octet-stream;
    charset_types text/html text/css text/plain text/xml;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    open_file_cache max=4000 inactive=60s;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""


@contextlib.contextmanager
def nginx_serving(nginx: str, root: Path, tmp: Path) -> Iterator[str]:
    """Run our own nginx serving ``root`` on a free port of 127.0.0.1; yield its base URL."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = tmp / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read our temp dir
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, root=root, user=user))
    error_log = tmp / "error.log"
    check = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp), "-e", str(error_log), "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise RuntimeError(f"nginx rejects its config {conf}:\n{check.stderr}")
    process = subprocess.Popen(
        [nginx, "-p", str(tmp), "-e", str(error_log), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"nginx exited at start ({process.returncode}): "
                    + (process.stderr.read().decode() if process.stderr else "")
                    + (error_log.read_text() if error_log.exists() else "")
                )
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not start listening within 10 s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful stop of master and worker
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()


def nginx_version(nginx: str) -> str:
    result = subprocess.run([nginx, "-v"], capture_output=True, text=True)
    return (result.stderr or result.stdout).strip().removeprefix("nginx version: ")


# -- the runs ---------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


@dataclass
class Run:
    kind: str  # "bare" or "full"
    pages: int  # responses with status 200
    requests: int  # all fetches / responses
    seconds: float

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def run_child(command: list[str], log: Path) -> tuple[float, str]:
    """Run a command with its output in ``log``; return (wall seconds, stdout)."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=child_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    log.write_text(
        f"$ {' '.join(command)}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(command[1:5])} ...` failed with exit code {result.returncode}; "
            f"its output is in {log} (kept with --keep)\n" + result.stderr[-3000:]
        )
    return seconds, result.stdout


def full_command(profile: str, url: str, db: Path, profile_out: Path | None = None) -> list[str]:
    prefix = [sys.executable]
    if profile_out is not None:
        prefix += ["-m", "cProfile", "-o", str(profile_out)]
    return prefix + [
        "-m",
        "relnews",
        "crawl",
        "--profile",
        profile,
        "--url",
        url,
        "--db",
        str(db),
        "-s",
        "RELNEWS_PROGRESS_EVERY=0",
    ]


def db_counts(db: Path) -> tuple[int, int, int, int]:
    """Fetches with status 200, all fetches, article versions, related links."""
    import duckdb

    with contextlib.closing(duckdb.connect(str(db), read_only=True)) as con:
        row = con.execute(
            "SELECT (SELECT count(*) FILTER (status = 200) FROM fetches),"
            " (SELECT count(*) FROM fetches), (SELECT count(*) FROM article_versions),"
            " (SELECT count(*) FROM related_links)"
        ).fetchone()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def fetched_urls(db: Path) -> list[str]:
    import duckdb

    with contextlib.closing(duckdb.connect(str(db), read_only=True)) as con:
        rows = con.execute("SELECT url FROM fetches ORDER BY fetch_id").fetchall()
    return list(dict.fromkeys(row[0] for row in rows))


def full_run(profile: str, url: str, db: Path, log: Path) -> Run:
    seconds, _ = run_child(full_command(profile, url, db), log)
    pages, requests, _, _ = db_counts(db)
    return Run("full", pages, requests, seconds)


def bare_run(url_file: Path, settings_file: Path, log: Path, kind: str = "bare") -> Run:
    """The bare spider on the URLs of ``url_file`` (kind "bare"), or the follow spider
    from the start URL held in ``url_file`` (kind "follow")."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        f"--{kind}-spider",
        str(url_file) if kind == "bare" else url_file.read_text().strip(),
        str(settings_file),
    ]
    seconds, stdout = run_child(command, log)
    line = next(line for line in stdout.splitlines() if line.startswith("BARE-STATS "))
    stats = json.loads(line.removeprefix("BARE-STATS "))
    return Run(kind, int(stats["status_200"]), int(stats["responses"]), seconds)


def baseline_settings(url: str, db: Path) -> tuple[dict[str, object], list[str]]:
    """The settings relnews crawls this local site with, minus relnews' own machinery;
    and what was left out."""
    from scrapy.settings import SETTINGS_PRIORITIES

    from crawler.profiles import SiteProfile
    from crawler.run import crawl_settings

    # The same overrides as `relnews crawl` without -v and with -s RELNEWS_PROGRESS_EVERY=0.
    site = SiteProfile(name="bare").resolve([url])
    settings = crawl_settings(db, site, {"LOG_LEVEL": "WARNING", "RELNEWS_PROGRESS_EVERY": "0"})
    chosen: dict[str, object] = {}
    left_out: list[str] = []
    for name in sorted(settings.attributes):
        value = settings.attributes[name]
        if value.priority < SETTINGS_PRIORITIES["project"]:
            continue  # Scrapy's default: the bare process has it too
        if name in NOT_DOWNLOAD_SETTINGS or name.startswith("RELNEWS_"):
            continue
        setting = value.value
        if hasattr(setting, "copy_to_dict"):  # a component dict: ITEM_PIPELINES...
            setting = setting.copy_to_dict()
        if isinstance(setting, dict):
            ours = [key for key in setting if str(key).startswith(RELNEWS_PACKAGES)]
            left_out += [str(key) for key in ours]
            setting = {key: order for key, order in setting.items() if key not in ours}
            if not setting:
                continue
        chosen[name] = setting
    return json.loads(json.dumps(chosen)), left_out


def import_overhead(statement: str, times: int = 3) -> float:
    """Best wall time of a fresh interpreter that runs ``statement`` (process start + imports)."""
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], cwd=ROOT, env=child_env(), check=True)
        best = min(best, time.perf_counter() - started)
    return best


# -- the profile ------------------------------------------------------------------------

#: Parts of a crawl worth telling apart: (label, file suffix, function name); each row is
#: that function's cumulative time. Rows that match nothing (code renamed) print as 0.
PARTS = (
    ("crawler.run.crawl (after the imports and the CLI)", "crawler/run.py", "crawl"),
    ("Scrapy engine, start to stop (CrawlerProcess.start)", "scrapy/crawler.py", "start"),
    ("  spider callback ArticleSpider.parse_page", "crawler/spiders/articles.py", "parse_page"),
    ("    page analysis analyse_page", "crawler/page/analysis.py", "analyse_page"),
    ("      lxml parse parse_html", "crawler/page/html.py", "parse_html"),
    ("      links: clean_url", "crawler/page/html.py", "clean_url"),
    (
        "      related block _related_by_selectors",
        "crawler/page/analysis.py",
        "_related_by_selectors",
    ),
    ("      article fields _article", "crawler/page/analysis.py", "_article"),
    (
        "    ArticleSpider._schedule (one per link found)",
        "crawler/spiders/articles.py",
        "_schedule",
    ),
    ("    canonical_url, everywhere", "crawler/page/urls.py", "canonical_url"),
    (
        "  follow-up requests: engine._schedule_request",
        "scrapy/core/engine.py",
        "_schedule_request",
    ),
    ("    scheduler.enqueue_request (dupefilter)", "scrapy/core/scheduler.py", "enqueue_request"),
    ("  pipeline WarehousePipeline.process_item", "crawler/pipelines.py", "process_item"),
    ("    batch flush WarehousePipeline.flush", "crawler/pipelines.py", "flush"),
    ("      Writer.write_pages", "warehouse/writer.py", "write_pages"),
    ("        Writer._write_page (captures, fetches rows)", "warehouse/writer.py", "_write_page"),
    ("        Writer._write_article", "warehouse/writer.py", "_write_article"),
    ("        Writer._write_links", "warehouse/writer.py", "_write_links"),
    ("      opening the file: warehouse.connect", "warehouse/database.py", "connect"),
    ("        apply_migrations", "warehouse/database.py", "apply_migrations"),
    ("  pipeline close_spider (last batch, finish_run)", "crawler/pipelines.py", "close_spider"),
    ("  ArchiveMiddleware.spider_opened", "crawler/middlewares.py", "spider_opened"),
)


def _entries(stats: pstats.Stats) -> list[tuple[str, int, str, int, float, float]]:
    """(file, line, function, calls, own seconds, cumulative seconds) of every function."""
    return [
        (filename, line, name, nc, tt, ct)
        for (filename, line, name), (_cc, nc, tt, ct, _callers) in stats.stats.items()  # type: ignore[attr-defined]
    ]


def _group(filename: str, name: str) -> str:
    """Who owns a function's own time: a relnews package, a library, or the stdlib."""
    if filename == "~":  # a C function, on its own
        return "C: " + name
    if filename.startswith(str(ROOT) + "/"):
        top = Path(filename).relative_to(ROOT).parts[0]
        if top == "warehouse":
            return "warehouse/ (incl. DuckDB: execute() is charged to its caller)"
        return f"{top}/ (relnews)"
    if "/site-packages/" in filename:
        return filename.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/lib/python3" in filename:
        rest = filename.split("/lib/python3", 1)[1].split("/", 1)[-1]
        return "stdlib " + rest.split("/", 1)[0].removesuffix(".py")
    return filename


def report_profile(profile_out: Path, wall: float, top: int = 25) -> None:
    stats = pstats.Stats(str(profile_out))
    entries = _entries(stats)
    whole = max(ct for *_, ct in entries)
    say(f"\nprofile of one full crawl under cProfile ({wall:.2f} s wall with the profiler on,")
    say(f"{whole:.2f} s profiled; the profiler inflates code that makes many small calls)")
    say(f"{'part (cumulative time)':<62} {'s':>6} {'share':>6} {'calls':>7}")

    def row(label: str, seconds: float, calls: int | str = "") -> None:
        say(f"{label:<62} {seconds:6.2f} {seconds / whole:6.0%} {calls:>7}")

    def cumulative(suffix: str, function: str) -> tuple[float, int]:
        found = [(ct, nc) for f, _, n, nc, _, ct in entries if n == function and f.endswith(suffix)]
        return max((ct for ct, _ in found), default=0.0), sum(nc for _, nc in found)

    crawl, _ = cumulative("crawler/run.py", "crawl")
    row("before the crawl: interpreter, imports, CLI, profile", whole - crawl)
    row(
        "  of which importing relnews.jobs (sklearn; crawl needs none)",
        *cumulative("relnews/jobs.py", "<module>"),
    )
    for label, suffix, function in PARTS:
        row(label, *cumulative(suffix, function))

    groups: dict[str, float] = {}
    for filename, _, name, _, tt, _ in entries:
        key = _group(filename, name)
        groups[key] = groups.get(key, 0.0) + tt
    say(f"\nown time by package (where the CPU went; sums to {whole:.2f} s):")
    for key, seconds in sorted(groups.items(), key=lambda kv: -kv[1])[:14]:
        say(f"  {seconds:6.2f} {seconds / whole:6.0%}  {key}")

    for key, title in (("cumulative", "cumulative"), ("own", "own")):
        say(f"\ntop {top} functions by {title} time:")
        say(f"{'cum s':>7} {'own s':>7} {'calls':>8}  function")
        column = 5 if key == "cumulative" else 4
        # The chain of wrappers that holds the whole run (runpy, click, reactor) says nothing.
        chosen = [e for e in entries if key == "own" or e[5] < 0.95 * whole]
        for filename, line, name, nc, tt, ct in sorted(chosen, key=lambda e: -e[column])[:top]:
            where = _short(filename)
            label = f"{where}:{line}({name})" if where != "~" else name
            say(f"{ct:7.2f} {tt:7.2f} {nc:8d}  {label[:110]}")


def _short(filename: str) -> str:
    for marker in ("/site-packages/", str(ROOT) + "/", "/lib/python3.11/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# -- main -------------------------------------------------------------------------------


def choose_profile(tmp: Path) -> tuple[str, str]:
    """(the --profile argument, a description): the built-in one, else a temporary one."""
    from crawler.profiles import builtin_profiles, load_profile

    builtins = builtin_profiles()
    if "postgresql" in builtins:
        return "postgresql", f"postgresql ({_short(str(builtins['postgresql']))})"
    path = tmp / "postgresql-tmp.toml"
    path.write_text(TEMP_PROFILE)
    load_profile(path)  # fail early if relnews rejects it
    return str(path), "postgresql-tmp (crawler/profiles/postgresql.toml does not exist yet)"


def load() -> str:
    """The load average: other processes on the machine make the runs slower and noisier."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min)"


def fmt_settings(settings: dict[str, object]) -> str:
    return " ".join(f"{name}={settings.get(name, '(scrapy default)')}" for name in SHOWN_SETTINGS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each kind")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--bare-spider", nargs=2, metavar=("URLFILE", "SETTINGS"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--follow-spider", nargs=2, metavar=("URL", "SETTINGS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.bare_spider:
        return bare_spider_main(*args.bare_spider)
    if args.follow_spider:
        return follow_spider_main(*args.follow_spider)

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import realsites

    # Ctrl-C or a kill: leave through the finally blocks, which stop nginx.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    nginx = ensure_nginx()
    site_root = realsites.obtain(realsites.SITES["postgresql"])
    tmp = Path(tempfile.mkdtemp(prefix="relnews-throughput-"))
    try:
        profile, profile_label = choose_profile(tmp)
        with nginx_serving(nginx, site_root, tmp / "nginx") as base_url:
            return measure(args, nginx, site_root, base_url, profile, profile_label, tmp)
    finally:
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def measure(
    args: argparse.Namespace,
    nginx: str,
    site_root: Path,
    base_url: str,
    profile: str,
    profile_label: str,
    tmp: Path,
) -> int:
    start_url = base_url + "index.html"
    files = sum(1 for _ in site_root.iterdir())
    say("throughput: relnews full crawl vs a bare Scrapy spider, same pages, same settings")
    say(f"site     {site_root} ({files} files)")
    say(f"server   nginx {nginx_version(nginx)} at {base_url} (worker_processes 1)")
    say(f"profile  {profile_label}")
    say(f"machine  python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {load()}")
    say(f"full     {' '.join(full_command(profile, start_url, tmp / 'full-N.duckdb')[1:])}")

    warm_db = tmp / "full-0.duckdb"
    warm = full_run(profile, start_url, warm_db, tmp / "full-0.log")
    urls = fetched_urls(warm_db)
    url_file = tmp / "urls.txt"
    url_file.write_text("\n".join(urls) + "\n")
    settings, left_out = baseline_settings(start_url, tmp / "unused.duckdb")
    settings_file = tmp / "bare-settings.json"
    settings_file.write_text(json.dumps(settings, indent=2))
    say(f"bare     throughput.py --bare-spider URLFILE ({len(urls)} URLs from the warm-up crawl)")
    say(f"settings {fmt_settings(settings)}")
    say(f"         the bare spider leaves out relnews' components {', '.join(left_out)},")
    say(f"         and the settings RELNEWS_*, {', '.join(sorted(NOT_DOWNLOAD_SETTINGS))}")
    _, _, versions, links = db_counts(warm_db)
    say(
        f"\nwarm-up full crawl (not counted): {warm.pages} pages with status 200, "
        f"{warm.requests} fetches, {versions} article versions, {links} related links stored, "
        f"{warm.seconds:.2f} s"
    )

    start_file = tmp / "start-url.txt"
    start_file.write_text(start_url)
    runs: list[Run] = []
    for index in range(1, args.repeats + 1):
        bare = bare_run(url_file, settings_file, tmp / f"bare-{index}.log")
        full = full_run(profile, start_url, tmp / f"full-{index}.duckdb", tmp / f"full-{index}.log")
        follow = bare_run(start_file, settings_file, tmp / f"follow-{index}.log", "follow")
        for run in (bare, full, follow):
            say(
                f"run {index} {run.kind}: {run.pages:5d} pages  {run.seconds:6.2f} s  "
                f"{run.rate:7.1f} pages/s  ({run.requests} responses)"
            )
        runs += [bare, full, follow]

    best = {
        kind: min((r for r in runs if r.kind == kind), key=lambda r: r.seconds)
        for kind in ("bare", "full", "follow")
    }
    median = {
        kind: statistics.median(r.seconds for r in runs if r.kind == kind)
        for kind in ("bare", "full", "follow")
    }
    if best["bare"].pages != best["full"].pages:
        counts = f"bare {best['bare'].pages}, full {best['full'].pages}"
        say(f"WARNING: the two kinds of run got different page counts: {counts}")
    ratio = best["full"].rate / best["bare"].rate
    say(f"\nbest of {args.repeats} (wall time of each subprocess, process start to end):")
    say(f"{'':6} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'median s':>9}")
    for kind in ("bare", "full", "follow"):
        run = best[kind]
        say(f"{kind:6} {run.pages:6d} {run.seconds:8.2f} {run.rate:8.1f} {median[kind]:9.2f}")
    verdict = "PASS" if ratio >= GOAL else "FAIL"
    say(f"ratio full/bare pages per second: {ratio:.3f}   goal >= {GOAL:.2f}: {verdict}")
    ceiling = best["follow"].rate / best["bare"].rate
    say(
        f"ceiling follow/bare: {ceiling:.3f}  (the follow spider finds its pages by their "
        "links with a regex and yields one tiny item per page: no analysis, no writes; no "
        "crawler that discovers the site by its links does better than this in Scrapy)"
    )
    say(f"full/follow: {best['full'].rate / best['follow'].rate:.3f}  (what relnews itself costs)")

    bare_start = import_overhead("import scrapy.crawler")
    full_start = import_overhead("import scrapy.crawler, relnews.cli, crawler.run")
    bare_net = best["bare"].seconds - bare_start
    full_net = best["full"].seconds - full_start
    say(
        f"\nprocess start + imports: bare {bare_start:.2f} s (python -c 'import scrapy.crawler'), "
        f"full {full_start:.2f} s (python -c 'import scrapy.crawler, relnews.cli, crawler.run')"
    )
    net_ratio = (best["full"].pages / full_net) / (best["bare"].pages / bare_net)
    say(
        f"without them (each run minus its own start cost): bare {bare_net:.2f} s, "
        f"full {full_net:.2f} s, ratio {net_ratio:.3f}  (for information; the headline is above)"
    )

    if not args.no_profile:
        profile_out = tmp / "full.prof"
        command = full_command(profile, start_url, tmp / "full-prof.duckdb", profile_out)
        wall, _ = run_child(command, tmp / "full-prof.log")
        report_profile(profile_out, wall)
    say(f"\n{load()} at the end")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("throughput: interrupted", file=sys.stderr)
        sys.exit(130)
    except (RuntimeError, OSError) as error:
        print(f"throughput: error: {error}", file=sys.stderr)
        sys.exit(1)
