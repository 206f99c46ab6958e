"""Operators' recipes run as the README writes them: cron's bare environment, a config file."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, run_relnews
from relnews.config import default_map, load_config


def readme_cron_command() -> str:
    """The command of the README's cron line (its five schedule fields dropped)."""
    readme = (ROOT / "README.md").read_text("utf-8")
    match = re.search(r"^17 3 \* \* \*\s+(.+)$", readme, re.MULTILINE)
    assert match, "the README has no cron line"
    return match.group(1)


def test_the_readme_cron_line_refreshes_quietly_under_crons_environment(
    refreshed_demo, demo_server, tmp_path
):
    script = shutil.which("relnews") or str(Path(sys.executable).parent / "relnews")
    if not Path(script).exists():
        pytest.skip("relnews is not installed as a command (pip install -e .)")
    srv = tmp_path / "srv"
    srv.mkdir()
    refreshed_demo.copy_to(srv)  # the nightly run finds last night's archive
    (srv / "relnews.toml").write_text(
        f'db = "news.duckdb"\nprofile = "demo"\nurl = ["{demo_server.url}"]\n'
        'contact = "ops@example.org"\n'
    )
    command = readme_cron_command()
    assert command.startswith("/"), "cron's PATH has no virtualenv: the command needs its path"
    command = command.replace("/srv/relnews/venv/bin/relnews", script)
    command = command.replace("/srv/relnews", str(srv))
    cron_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh",
                "LOGNAME": "root"}  # fmt: skip
    result = subprocess.run(
        ["/bin/sh", "-c", command], env=cron_env, cwd=tmp_path,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stderr == ""  # cron mails whatever is printed
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("refresh done: crawl finished: "), lines
    con = duckdb.connect(str(srv / "news.duckdb"), read_only=True)
    try:
        runs = con.execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
        articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        con.close()
    assert (runs, articles) == (2, len(demo_server.site.articles))


def test_config_values_are_defaults_the_command_line_overrides(tmp_path):
    config = tmp_path / "relnews.toml"
    config.write_text('db = "a.duckdb"\nmax_pages = 5\n[set]\nDOWNLOAD_DELAY = 2\n')
    from relnews.cli import cli

    defaults = default_map(load_config(config), cli.commands)
    assert defaults["crawl"]["db"] == str(tmp_path / "a.duckdb")
    assert defaults["crawl"]["max_pages"] == 5
    assert defaults["crawl"]["settings"] == ["DOWNLOAD_DELAY=2"]
    assert defaults["sql"]["db"] == str(tmp_path / "a.duckdb")
    config.write_text("no_such_option = 1\n")
    result = run_relnews("--config", str(config), "profiles", check=False)
    assert result.returncode == 1
    assert "unknown configuration keys: no_such_option" in result.stderr
