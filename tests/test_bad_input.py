"""Bad input gets one clear line and exit code 1 or 64 (a usage error), never a traceback."""

from __future__ import annotations

import pytest

from conftest import run_relnews
from relnews.exit_codes import EXIT_USAGE

BAD_INVOCATIONS = [
    ["crawl", "--url", "example.org", "--db", "{tmp}/a.duckdb"],
    ["crawl", "--profile", "{tmp}/binary.toml", "--url", "http://127.0.0.1:9/"],
    ["crawl", "--profile", "{tmp}/bad-xpath.toml", "--url", "http://127.0.0.1:9/"],
    ["crawl", "--profile", "{tmp}/bad-css.toml", "--url", "http://127.0.0.1:9/"],
    ["crawl", "--profile", "no-such-profile", "--url", "http://127.0.0.1:9/"],
    ["crawl", "--db", "", "--url", "http://127.0.0.1:9/"],
    ["crawl", "--url", "http://127.0.0.1:9/", "-s", "DOWNLOAD_TIMEOUT=abc"],
    ["crawl", "--url", "http://127.0.0.1:9/", "-s", "ROBOTSTXT_OBEY=maybe"],
    ["crawl", "--url", "http://127.0.0.1:9/", "-s", "NOEQUALSIGN"],
    ["crawl", "--url", "http://127.0.0.1:9/", "--max-pages", "-3"],
    ["evaluate", "--test-fraction", "0", "--db", "{tmp}/none.duckdb"],
    ["fit", "--db", "{tmp}/none.duckdb"],
    ["sql", "select", "--db", "{tmp}/none.duckdb"],
    ["export-warc", "{tmp}/no/such/folder/x.warc", "--db", "{tmp}/none.duckdb"],
    ["--config", "{tmp}/binary.toml", "profiles"],
]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "binary.toml").write_bytes(bytes(range(256)) * 4)
    (folder / "bad-xpath.toml").write_text('name = "x"\n[selectors]\ntitle = "xpath://h1[["\n')
    (folder / "bad-css.toml").write_text('name = "x"\n[selectors]\ntitle = "h1 >> > p["\n')
    return folder


@pytest.mark.parametrize("args", BAD_INVOCATIONS, ids=lambda args: " ".join(args)[:60])
def test_bad_input_is_one_clear_line(args, bad_files):
    args = [arg.format(tmp=bad_files) for arg in args]
    if "--db" not in args and args[0] != "--config":
        args += ["--db", str(bad_files / "a.duckdb")]
    result = run_relnews(*args, check=False)
    assert result.returncode in (1, EXIT_USAGE), result
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
