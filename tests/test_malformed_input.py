"""No traceback for any input: every command and every HTTP route fed a battery of
malformed input (URLs with spaces, brackets and control characters, files that are not
UTF-8, huge, negative and not-a-number numbers, bodies that are not JSON). Each answer
is one clear line: exit 64 for a usage error, 1 for a failure (0 where the input is
odd but valid); an HTTP error is a 4xx with one line of JSON, never a 500."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from test_serve import Running, call

from conftest import run_relnews
from relnews.exit_codes import EXIT_USAGE
from relnews.serve import ServeSettings

BAD_URLS = [
    "http://exa mple.org/",
    "http://[::1",
    "http://x.org/a[b]{c}",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "\x1b[2J\x1b[31mred",
    "http://a.org/\x00x",
    "",
    "   ",
    "http://127.0.0.1:99999/",
    "%%%",
    "http://" + "a" * 3000 + ".org/",
    "ftp://127.0.0.1/x",
    "http://€.org/ü",
]
HUGE = "9" * 40
NUMBERS = ["-1", "0", HUGE, "-" + HUGE, "nan", "inf", "-inf", "1e400", "abc", "", "0x10"]


@pytest.fixture(scope="module")
def archive(refreshed_demo, tmp_path_factory):
    """A fitted copy of the demo archive, and files no command can read as text."""
    folder = tmp_path_factory.mktemp("malformed")
    db = refreshed_demo.copy_to(folder)
    (folder / "latin1.txt").write_bytes("Café au lait\nLe café du matin.\n".encode("latin-1"))
    (folder / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "latin1.sql").write_bytes("SELECT 'café'".encode("latin-1"))
    (folder / "latin1.toml").write_bytes('db = "café.duckdb"'.encode("latin-1"))
    (folder / "templates").mkdir()
    (folder / "templates" / "related.html").write_text("{% for x in %}")
    return {"db": db, "folder": folder}


def command_cases() -> list[list[str]]:
    """Commands that read the archive (run in-process, quickly), each with bad input."""
    cases: list[list[str]] = []
    for url in BAD_URLS:
        cases += [
            ["recommend", url],
            ["pin", url, url + "x"],
            ["block", url],
            ["unpin", url, url],
            ["unblock", url],
            ["diff", url],
            ["rules", "--source", url],
            ["search", url],
        ]
    for number in NUMBERS:
        cases += [
            ["recommend", "--text", "{folder}/latin1.txt", "-k", number],
            ["export", "-k", number],
            ["export", "--fresh-days", number],
            ["evaluate", "--test-fraction", number],
            ["evaluate", "--seed", number],
            ["search", "sommeil", "-k", number],
            ["diff", "x", "--from", number],
            ["serve", "--port", number, "--max-age", "-5"],
            ["serve", "--reload-interval", number, "--port", "-1"],
        ]
    cases += [
        ["recommend", "--text", "{folder}/latin1.txt"],
        ["recommend", "--text", "{folder}/binary.bin"],
        ["recommend", "--text", "{folder}/empty.txt"],
        ["recommend", "--text", "{folder}/no-such-file.txt"],
        ["recommend", "--text", "{folder}"],
        ["sql", "--file", "{folder}/latin1.sql"],
        ["sql", "--file", "{folder}/binary.bin"],
        ["sql", "SELECT * FROM no_such_table"],
        ["sql", "SELECT 1; SELEC 2"],
        ["sql", "\x1b[31m;"],
        ["sql", "COPY articles TO '/tmp/stolen.csv'"],
        ["sql", "SELECT * FROM read_csv('/etc/passwd')"],
        ["--config", "{folder}/latin1.toml", "rules"],
        ["--config", "{folder}/binary.bin", "rules"],
        ["export", "--format", "html", "--templates", "{folder}/templates"],
        ["export", "--format", "html", "--templates", "{folder}/no-such-folder"],
        ["export-db", "{folder}/no/such/folder/copy.duckdb"],
        ["export-db", "{folder}/copy.duckdb", "--storage-version", "v0.0.0-nonsense"],
        ["export-parquet", "{folder}/binary.bin"],
        ["export-warc", "{folder}/no/such/folder/x.warc"],
        ["reanalyse", "--profile", "{folder}/binary.bin"],
        ["reanalyse", "--profile", "generic", "--site", "\x1b[31m"],
        ["block", "rubrique:"],
        ["block", "bogus:x"],
        ["block", "url:["],
        ["pin", "*", "http://a.org/"],
    ]
    return cases


def every_duckdb_type() -> str:
    from duckdb_values import DUCKDB_VALUES

    return "SELECT " + ", ".join(f"{p.values[0].sql} AS c{n}" for n, p in enumerate(DUCKDB_VALUES))


def check_answer(result) -> None:
    """One clear line, the right exit code, and nothing a terminal would act on."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    assert "\x1b" not in output, output[-500:]
    assert result.returncode in (0, 1, EXIT_USAGE), result
    if result.returncode != 0:
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, result.stderr


@pytest.mark.parametrize("args", command_cases(), ids=lambda args: repr(" ".join(args))[:70])
def test_every_command_answers_bad_input_in_one_line(args, archive):
    args = [arg.replace("{folder}", str(archive["folder"])) for arg in args]
    check_answer(run_relnews(*args, "--db", str(archive["db"]), check=False))


def test_sql_prints_every_duckdb_type_as_json(archive):
    result = run_relnews("sql", every_duckdb_type(), "--format", "json",
                         "--db", str(archive["db"]))  # fmt: skip
    check_answer(result)
    assert len(json.loads(result.stdout)) == 1


def test_a_usage_error_and_a_failure_exit_differently(archive):
    usage = run_relnews("recommend", "-k", "-1", "x", "--db", str(archive["db"]), check=False)
    failure = run_relnews("recommend", "http://a.org/x", "--db", str(archive["db"]), check=False)
    assert (usage.returncode, failure.returncode) == (EXIT_USAGE, 1)


# Start URLs that must be refused before anything is fetched, and one on a closed port
# of this machine (no address outside it is ever tried).
BAD_START_URLS = [
    "http://exa mple.org/",
    "http://[::1",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "\x1b[2J\x1b[31mred",
    "http://127.0.0.1:99999/",
    "%%%",
    "ftp://127.0.0.1/x",
    "http://x\x01.org/",  # (a NUL cannot be passed in a command line)
    "http://" + "a" * 3000 + ".org/",
    "http://127.0.0.1:9/ x",
]


@pytest.mark.parametrize("url", BAD_START_URLS, ids=lambda url: repr(url)[:40])
def test_a_crawl_refuses_a_bad_start_url_in_one_line(url, tmp_path):
    result = run_relnews("crawl", "--url", url, "--db", str(tmp_path / "c.duckdb"), check=False)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "\x1b" not in output, output[-2000:]
    assert result.returncode in (1, EXIT_USAGE), result
    said = [line for line in output.splitlines() if line.startswith(("Error:", "run "))]
    assert len(said) == 1, output


@pytest.fixture(scope="module")
def served(archive):
    running = Running(archive["db"], ServeSettings(editor=True, reload_interval=60))
    yield running
    running.close()


def http_cases() -> list[tuple[str, str, bytes | None, dict]]:
    cases: list[tuple[str, str, bytes | None, dict]] = []
    for url in BAD_URLS:
        query = urllib.parse.urlencode({"url": url})
        cases += [
            ("GET", f"related?{query}", None, {}),
            ("GET", f"related.html?{query}", None, {}),
            ("GET", f"api/article?{query}", None, {}),
            ("GET", "api/search?" + urllib.parse.urlencode({"q": url}), None, {}),
        ]
    for number in NUMBERS:
        cases += [
            ("GET", "related?" + urllib.parse.urlencode({"url": "x", "k": number}), None, {}),
            ("GET", "related?" + urllib.parse.urlencode({"url": "x", "fresh_days": number}),
             None, {}),
            ("GET", "api/queues?" + urllib.parse.urlencode({"limit": number}), None, {}),
        ]  # fmt: skip
    json_type = {"Content-Type": "application/json"}
    for body in [
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b"null",
        b'{"title": 5}',
        b'{"text": null}',
        b'{"text": "x", "k": -1}',
        b'{"text": "x", "k": 1e300}',
        b'{"text": "x", "k": "5"}',
        b'{"text": "' + b"\\ud800" + b'"}',
        b"{" * 5000,
    ]:
        cases += [
            ("POST", "related", body, json_type),
            ("POST", "api/rules", body, json_type),
        ]  # fmt: skip
    cases += [
        ("POST", "related", b'{"text": "x"}', {"Content-Type": "text/plain"}),
        ("POST", "api/rules", b'{"action": "pin", "source": "%%", "target": "\x00"}', json_type),
        ("POST", "api/rules", b'{"action": "block", "source": "*", "target": "bogus:x"}',
         json_type),
        ("GET", "related?url=%ff%fe", None, {}),
        ("GET", "related?url=a&url=b&k=1&k=2", None, {}),
        ("GET", "no/such/route", None, {}),
        ("DELETE", "related", None, {}),
    ]  # fmt: skip
    return cases


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"), http_cases(), ids=lambda v: repr(v)[:50]
)
def test_every_route_answers_bad_input_in_one_json_line(served, method, path, body, headers):
    status, answer_headers, answer = call(served.url + path, method, body, headers)
    assert status < 500, (status, answer[:300])
    if status >= 400:
        assert answer_headers["Content-Type"].startswith("application/json")
        assert answer.count(b"\n") <= 1 and set(json.loads(answer)) == {"error"}
        assert b"Traceback" not in answer and b"\x1b" not in answer
