"""Exit codes, ``crawl_runs.status`` and the one-line summary say the same thing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, run_relnews


def runs(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT run_id, status FROM crawl_runs ORDER BY run_id").fetchall()
    finally:
        con.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_site_that_is_down_fails(tmp_path):
    db = tmp_path / "down.duckdb"
    url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    result = run_relnews(
        "crawl", "--profile", "generic", "--url", url, "--db", str(db),
        "-s", "RETRY_TIMES=0", check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert runs(db) == [(1, "failed")]
    assert "run 1 failed:" in result.stdout
    assert "no page could be fetched: connection refused" in result.stdout
    assert "Traceback" not in result.stderr


def test_max_pages_is_partial(demo_server, tmp_path):
    db = tmp_path / "partial.duckdb"
    result = run_relnews(
        "crawl", "--profile", "demo", "--url", demo_server.url, "--db", str(db),
        "--max-pages", "20", check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert runs(db) == [(1, "partial")]
    assert "stopped at the page limit (--max-pages 20)" in result.stdout


def _crawl_process(demo_server, db: Path, *settings: str) -> subprocess.Popen:
    """A slowed crawl of the demo site that stores small batches, released often."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RELNEWS_DB", None)
    return subprocess.Popen(
        [
            sys.executable, "-m", "relnews", "crawl", "--profile", "demo",
            "--url", demo_server.url, "--db", str(db),
            "-s", "CONCURRENT_REQUESTS=2", "-s", "DOWNLOAD_DELAY=0.03",
            "-s", "RELNEWS_BATCH_SIZE=10", "-s", "RELNEWS_RELEASE_EVERY=0.2", *settings,
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip


def wait_for_stored_pages(db: Path, process: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            con = duckdb.connect(str(db), read_only=True)
        except duckdb.Error:
            time.sleep(0.05)
            continue
        try:
            count = con.execute("SELECT count(*) FROM fetches").fetchone()[0]
        except duckdb.Error:
            count = 0
        finally:
            con.close()
        if count:
            return count
        time.sleep(0.05)
    raise AssertionError("no batch was stored in time")


def test_sigterm_interrupts_and_the_next_crawl_resumes(demo_server, tmp_path):
    db = tmp_path / "term.duckdb"
    process = _crawl_process(demo_server, db)
    wait_for_stored_pages(db, process)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 4, (stdout, stderr)
    assert runs(db) == [(1, "interrupted")]
    assert "run 1 interrupted:" in stdout and "the next crawl takes it up" in stdout
    again = run_relnews("crawl", "--profile", "demo", "--url", demo_server.url, "--db", str(db))
    assert again.returncode == 0
    assert runs(db) == [(1, "finished")]  # the same run, taken up and finished


def _mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
    )
    return result.returncode == 0


def test_a_full_disk_is_said_in_one_line(demo_server, tmp_path):
    folder = tmp_path / "small"
    if not _mount_tmpfs(folder, "2500k"):
        pytest.skip("needs root to mount a small tmpfs standing for a full disk")
    try:
        db = folder / "full.duckdb"
        result = run_relnews(
            "crawl", "--profile", "demo", "--url", demo_server.url, "--db", str(db),
            "-s", "RELNEWS_BATCH_SIZE=20", check=False,
        )  # fmt: skip
        assert result.returncode == 1, (result.stdout, result.stderr)
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("run 1 failed: ")
        assert "disk full" in lines[0], lines[0]
        assert "Traceback" not in result.stderr
        assert "no transaction is active" not in result.stdout + result.stderr
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
