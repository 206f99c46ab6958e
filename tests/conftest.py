"""Shared fixtures: the demo site served on a free port, and running the real CLI."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import traceback
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from demosite.server import DemoServer

if TYPE_CHECKING:
    from warehouse import Article

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def demo_server():
    """The demo site, served on 127.0.0.1 for the whole test session.

    Its clock stands still at the session's start: the displayed ages ("il y a 3 mois")
    then read the same in archives crawled minutes apart, which tests compare.
    """
    started = datetime.now(UTC).replace(tzinfo=None)
    with DemoServer(port=0, clock=lambda: started) as server:
        yield server


#: Commands that run Scrapy's reactor (which starts once per process) or serve: run in
#: a process of their own. Every other command runs in the test's process (click's
#: runner), which saves a second of imports per call.
OWN_PROCESS = {"crawl", "refresh", "demo", "serve"}


def run_relnews(*args: str, timeout: float = 600, check: bool = True, own_process: bool = False):
    """Run ``relnews ARGS`` as a user would: exit code, stdout and stderr, the archive
    path not taken from $RELNEWS_DB. Crawls get a fresh process (``own_process`` forces
    one for any command)."""
    command = next((arg for arg in args if not arg.startswith("-")), "")
    if own_process or command in OWN_PROCESS or "--config" in args:
        result = _run_in_subprocess(args, timeout)
    else:
        result = _run_in_process(args)
    if check and result.returncode != 0:
        raise AssertionError(
            f"relnews {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result


def _run_in_subprocess(args: tuple[str, ...], timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RELNEWS_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "relnews", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def _run_in_process(args: tuple[str, ...]) -> subprocess.CompletedProcess:
    from click.testing import CliRunner

    from relnews.cli import cli

    runner = CliRunner()
    with _in_folder(ROOT):  # where the subprocess runs, so relative paths agree
        result = runner.invoke(cli, list(args), prog_name="relnews", env={"RELNEWS_DB": None})
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # What the user would see: Python's traceback on stderr, exit code 1.
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["relnews", *args], result.exit_code, result.stdout, stderr)


@contextlib.contextmanager
def _in_folder(folder: Path):
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def archive_article(
    db: Path, article: Article, fetched_at: datetime = datetime(2026, 11, 1)
) -> None:
    """Store ``article`` in the archive at ``db`` as the one page of a finished crawl run
    of its site: a test's own article (a title holding markup...) beside crawled ones."""
    from warehouse import Fetch, PageRecord, Writer, opened

    fetch = Fetch(article.url, fetched_at, 200, article.url, body=b"<html>x</html>")
    with opened(db) as con:
        writer = Writer(con)
        run = writer.start_run(urllib.parse.urlsplit(article.url).netloc, "test")
        writer.write_pages(run, [PageRecord(fetch, article)])
        writer.finish_run(run, "finished")


@pytest.fixture(scope="session")
def crawled_demo(demo_server, tmp_path_factory):
    """An archive holding one crawl of the demo site (shared by read-only tests)."""
    db = tmp_path_factory.mktemp("crawl") / "demo.duckdb"
    result = run_relnews("crawl", "--profile", "demo", "--url", demo_server.url, "--db", str(db))
    return db, result


@dataclass(frozen=True)
class RefreshedArchive:
    """One `relnews refresh` of the demo site: the archive, what it printed, and how
    many requests it made (the session's demo server counts every test's requests)."""

    db: Path
    result: subprocess.CompletedProcess
    requests: int

    def copy_to(self, folder: Path) -> Path:
        """A copy of the archive and its models folder, for a test that changes it."""
        db = folder / self.db.name
        shutil.copy2(self.db, db)
        models = self.db.with_name(self.db.stem + ".models")
        shutil.copytree(models, db.with_name(db.stem + ".models"))
        return db


@pytest.fixture(scope="session")
def refreshed_demo(demo_server, tmp_path_factory) -> RefreshedArchive:
    """An archive after one refresh of the demo site (crawl, fit, lists, evaluation):
    tests that refresh again start from a copy (``copy_to``) instead of their own."""
    db = tmp_path_factory.mktemp("refreshed") / "news.duckdb"
    before = demo_server.stats["requests"]
    result = run_relnews("refresh", "--profile", "demo", "--url", demo_server.url, "--db", str(db))
    return RefreshedArchive(db, result, demo_server.stats["requests"] - before)


@pytest.fixture
def editable_demo(demo_server):
    """The session's demo server, for a test that edits its site: the site as it was
    is put back afterwards."""
    site = demo_server.site
    try:
        yield demo_server
    finally:
        demo_server.site = site
