"""Shared fixtures: the demo site served on a free port, and running the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from demosite.server import DemoServer

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def demo_server():
    """The demo site, served on 127.0.0.1 for the whole test session."""
    with DemoServer(port=0) as server:
        yield server


def run_relnews(*args: str, timeout: float = 600, check: bool = True):
    """Run ``relnews ARGS`` in a fresh process, as a user would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RELNEWS_DB", None)
    result = subprocess.run(
        [sys.executable, "-m", "relnews", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"relnews {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result


@pytest.fixture(scope="session")
def crawled_demo(demo_server, tmp_path_factory):
    """An archive holding one crawl of the demo site (shared by read-only tests)."""
    db = tmp_path_factory.mktemp("crawl") / "demo.duckdb"
    result = run_relnews("crawl", "--profile", "demo", "--url", demo_server.url, "--db", str(db))
    return db, result
