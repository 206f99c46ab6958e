"""Operators' recipes run as the README writes them: cron's bare environment, a config file."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, run_relnews
from relnews.config import default_map, load_config
from relnews.exit_codes import EXIT_OF_STATUS, EXIT_USAGE
from warehouse.lock import lock_holder


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
    assert (result.stdout, result.stderr) == ("", "")  # cron mails whatever is printed
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

    defaults = default_map(load_config(config), cli.commands, tmp_path)
    assert defaults["crawl"]["db"] == str(tmp_path / "a.duckdb")
    assert defaults["crawl"]["max_pages"] == 5
    assert defaults["crawl"]["settings"] == ["DOWNLOAD_DELAY=2"]
    assert defaults["sql"]["db"] == str(tmp_path / "a.duckdb")
    config.write_text("no_such_option = 1\n")
    result = run_relnews("--config", str(config), "profiles", check=False)
    assert result.returncode == EXIT_USAGE
    assert "unknown configuration keys: no_such_option" in result.stderr


def test_every_path_of_the_config_file_is_read_from_its_folder(tmp_path):
    from relnews.cli import cli

    (tmp_path / "mine.toml").write_text('name = "mine"\n')
    config = tmp_path / "relnews.toml"
    config.write_text(
        'db = "a.duckdb"\ntemplates = "tpl"\noutput = "out/related.html"\nprofile = "mine.toml"\n'
    )
    defaults = default_map(load_config(config), cli.commands, tmp_path)
    for command in ("export", "serve"):  # --templates: no hand list names it
        assert defaults[command]["templates"] == str(tmp_path / "tpl")
    assert defaults["export"]["output"] == str(tmp_path / "out" / "related.html")
    for command in ("crawl", "refresh", "reanalyse"):
        assert defaults[command]["profile_name"] == str(tmp_path / "mine.toml")
    config.write_text('profile = "demo"\n')  # a built-in profile's name stays a name
    defaults = default_map(load_config(config), cli.commands, tmp_path)
    assert defaults["crawl"]["profile_name"] == "demo"


def test_a_relative_templates_folder_works_from_any_working_folder(tmp_path):
    (tmp_path / "tpl").mkdir()  # the folder exists beside the file, not where relnews runs
    config = tmp_path / "relnews.toml"
    config.write_text(f'db = "{tmp_path / "none.duckdb"}"\ntemplates = "tpl"\n')
    result = run_relnews("--config", str(config), "export", "--format", "html", check=False)
    assert "does not exist" not in result.stderr  # --templates passed its exists=True check
    assert "no archive at" in result.stderr


USAGE_ERRORS = [
    ["crawl", "--no-such-option"],
    ["--no-such-option", "profiles"],
    ["crawl", "--max-pages", "0"],
    ["crawl", "-s", "DOWNLOAD_TIMEOUT=soon"],
    ["export", "--heading", "x"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_usage_errors_exit_with_a_code_no_run_outcome_has(args, tmp_path):
    result = run_relnews(*args, "--db", str(tmp_path / "x.duckdb"), check=False)
    assert result.returncode == EXIT_USAGE, (result.stdout, result.stderr)
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
    assert EXIT_USAGE not in EXIT_OF_STATUS.values()
    assert not (tmp_path / "x.duckdb").exists()  # nothing was run


def test_a_wrong_type_in_the_config_file_is_a_usage_error(tmp_path):
    config = tmp_path / "relnews.toml"
    config.write_text('max_pages = "twenty"\n')
    result = run_relnews("--config", str(config), "crawl", check=False)
    assert result.returncode == EXIT_USAGE
    assert "--max-pages" in result.stderr and "Traceback" not in result.stderr


def test_the_readme_systemd_unit_counts_no_error_as_success():
    readme = (ROOT / "README.md").read_text("utf-8")
    units = re.findall(r"^SuccessExitStatus=(.+)$", readme, re.MULTILINE)
    assert units, "the README has no systemd unit"
    for unit in units:
        assert {int(code) for code in unit.split()} == {EXIT_OF_STATUS["partial"]}
    table = re.search(r"\| status \| exit code \| when \|\n(.*?)\n\n", readme, re.DOTALL)
    assert table and f"| {EXIT_USAGE} |" in table[1]


def test_max_pages_never_fetches_more_than_the_limit(demo_server, tmp_path):
    """Every request counts: robots.txt and the sitemap are fetched pages too."""
    db = tmp_path / "limited.duckdb"
    before = demo_server.stats["requests"]
    result = run_relnews(
        "crawl", "--profile", "demo", "--url", demo_server.url, "--db", str(db),
        "--max-pages", "20", check=False,
    )  # fmt: skip
    requests = demo_server.stats["requests"] - before
    assert result.returncode == EXIT_OF_STATUS["partial"], result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        fetches = con.execute("SELECT count(*) FROM fetches WHERE run_id = 1").fetchone()[0]
    assert requests == 20  # the demo site has far more: the limit, and not one more
    assert 0 < fetches <= 20
    assert "stopped at the page limit (--max-pages 20)" in result.stdout
    # not a terminal: plain progress lines, in the user's words
    progress = [line for line in result.stderr.splitlines() if line.startswith("crawl: ")]
    assert progress and "20 pages (limit 20)" in progress[-1], result.stderr
    assert "closespider" not in result.stdout + result.stderr


def test_progress_is_redrawn_in_place_on_a_terminal(demo_server, tmp_path):
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "160"}
    process = subprocess.Popen(
        [sys.executable, "-m", "relnews", "crawl", "--profile", "demo", "--url",
         demo_server.url, "--db", str(tmp_path / "tty.duckdb"), "--max-pages", "40",
         "-s", "DOWNLOAD_DELAY=0.05", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"],
        stdout=subprocess.PIPE, stderr=follower, env=env, cwd=ROOT, text=True,
    )  # fmt: skip
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the crawl closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(leader)
    text = screen.decode("utf-8", "replace")
    assert process.returncode == EXIT_OF_STATUS["partial"], text
    assert text.count("\r\x1b[2K") > 1  # back to the line's start, erased: redrawn in place
    assert "crawl: " not in text  # no log lines on a terminal
    assert "(limit 40)" in text and "pages/s" in text
    assert "closespider" not in text and "run 1 partial" in stdout


def test_a_site_that_is_down_is_one_line_and_no_scrapy_log(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"  # nothing listens there
    for quiet in ((), ("--quiet",)):
        result = run_relnews(
            "crawl", "--profile", "generic", "--url", url, "--db", str(tmp_path / "down.duckdb"),
            *quiet, check=False,
        )  # fmt: skip
        assert result.returncode == EXIT_OF_STATUS["failed"]
        out = result.stderr if quiet else result.stdout
        assert f"no page could be fetched: connection refused: nothing listens there ({url})" in out
        assert "[scrapy" not in result.stderr and "Traceback" not in result.stderr, result.stderr
        if quiet:  # the one line cron mails
            assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr


def test_a_command_finding_a_crawl_at_work_says_so(demo_server, tmp_path):
    db = tmp_path / "busy.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RELNEWS_DB", None)
    crawl = subprocess.Popen(
        [sys.executable, "-m", "relnews", "crawl", "--profile", "demo", "--url",
         demo_server.url, "--db", str(db), "--quiet", "-s", "DOWNLOAD_DELAY=0.2",
         "-s", "CONCURRENT_REQUESTS=1", "-s", "RELNEWS_BATCH_SIZE=1000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while lock_holder(db) is None:  # until the crawl has begun
            assert crawl.poll() is None and time.monotonic() < deadline, crawl.communicate()
            time.sleep(0.1)
        result = run_relnews("fit", "--db", str(db), check=False)
    finally:
        crawl.send_signal(signal.SIGTERM)
        crawl.communicate(timeout=60)
    assert result.returncode == 1
    assert f"the archive is being written by a crawl (pid {crawl.pid})" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
