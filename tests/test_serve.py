"""`relnews serve` as a site's pages, a browser and an editor use it: lists over real
HTTP on 127.0.0.1 (caching headers, CORS, drafts, errors). The curation page, driven in
Debian's Chromium through Playwright (``browser_page``), is tested in test_curation_page.py."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import archive_article, run_relnews
from relnews.serve import ServeSettings, make_server
from warehouse import Article, DateValue

SCRIPT_TITLE = "Le sommeil <script>window.hacked=1</script> des adolescents & les écrans"
CHROMIUM = Path("/usr/bin/chromium")
DRAFT = (
    "Les écrans du soir retardent l'endormissement des adolescents. Une équipe a suivi "
    "des lycéens qui regardaient leur téléphone au lit : la lumière bleue décale "
    "l'horloge interne, la mélatonine baisse et les nuits raccourcissent. "
)


def sql(db, query: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def archive(refreshed_demo, tmp_path_factory):
    """A fitted copy of the demo archive with one more article whose title holds markup."""
    db = refreshed_demo.copy_to(tmp_path_factory.mktemp("serve"))
    source, published = sql(
        db,
        "SELECT url, published_at FROM latest_articles WHERE published_at IS NOT NULL"
        " ORDER BY published_at DESC, url LIMIT 1",
    )[0]
    base = source.split("/news/")[0]
    url = f"{base}/news/sommeil/le-sommeil-des-adolescents_9998.htm"
    article = Article(
        url=url,
        title=SCRIPT_TITLE,
        lead="Les écrans le soir décalent le sommeil des adolescents.",
        body="Le sommeil des adolescents souffre des écrans et de la lumière bleue le soir. " * 5,
        published=DateValue(published - timedelta(days=1), "json-ld", "day"),
        rubrique="Sommeil",
    )
    archive_article(db, article)
    run_relnews("fit", "--db", str(db))
    return {"db": db, "script_url": url, "source": source}


class Running:
    """A server for the archive, serving in a thread of the test's process."""

    def __init__(self, db: Path, settings: ServeSettings) -> None:
        self.server = make_server(db, port=0, settings=settings)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = self.server.url
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                call(self.url + "health")
                return
            except OSError:
                time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(10)
        self.server.server_close()


@pytest.fixture(scope="module")
def served(archive):
    running = Running(
        archive["db"],
        ServeSettings(max_age=120, cors_origins=("https://www.example.org",), reload_interval=0.5),
    )
    yield running
    running.close()


@pytest.fixture(scope="module")
def editor(archive):
    running = Running(archive["db"], ServeSettings(editor=True, reload_interval=0.5))
    yield running
    running.close()


def call(url: str, method: str = "GET", body: bytes | None = None, headers=None):
    """(status, headers, body) of a request; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def related(running: Running, url: str, **params) -> str:
    return running.url + "related?" + urllib.parse.urlencode({"url": url, **params})


def post_json(url: str, data, headers=None):
    return call(
        url,
        "POST",
        json.dumps(data).encode("utf-8"),
        {"Content-Type": "application/json", **(headers or {})},
    )


def post_oversized(running: Running, path: str, size: int) -> int:
    """The status of a POST of ``size`` bytes of JSON: the server may answer and close
    before the body is all sent, so a broken pipe on sending is no failure here."""
    import contextlib
    import http.client

    host, port = running.server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.send(b'{"text": "' + b"x" * (size - 12) + b'"}')
        return connection.getresponse().status
    finally:
        connection.close()


# -- the lists over HTTP --------------------------------------------------------------


def test_get_head_etag_and_cache_control(archive, served):
    status, headers, body = call(related(served, archive["source"], k="4"))
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "public, max-age=120"
    data = json.loads(body)
    assert data["url"] == archive["source"] and len(data["related"]) == 4
    etag = headers["ETag"]
    status, again, body = call(
        related(served, archive["source"], k="4"), headers={"If-None-Match": etag}
    )
    assert status == 304 and body == b"" and again["ETag"] == etag
    status, head, body = call(related(served, archive["source"], k="4"), method="HEAD")
    assert status == 200 and body == b"" and head["ETag"] == etag
    # another list, another tag
    assert call(related(served, archive["source"], k="3"))[1]["ETag"] != etag


def test_the_widget_is_served_in_the_site_language_and_escaped(archive, served):
    source = archive["source"]
    # from another process, as an editor's command line would
    run_relnews("pin", source, archive["script_url"], "--db", str(archive["db"]), own_process=True)
    try:
        time.sleep(1.5)  # the server looks at the archive every 0.5 s here
        url = served.url + "related.html?" + urllib.parse.urlencode({"url": source, "k": "10"})
        status, headers, body = call(url)
    finally:
        run_relnews(
            "unpin", source, archive["script_url"], "--db", str(archive["db"]), own_process=True
        )
    page = body.decode("utf-8")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "À lire aussi" in page and headers["ETag"]
    assert "<script>" not in page and "&lt;script&gt;window.hacked" in page
    assert page.count("<li") == 10


def test_backfill_is_said_in_served_lists(archive, served):
    filled = sql(
        archive["db"],
        "SELECT source_url, target_url FROM editors_vs_model WHERE backfill LIMIT 1",
    )
    assert filled, "the demo's oldest articles need backfill"
    source, target = filled[0]
    items = json.loads(call(related(served, source, k="10"))[2])["related"]
    assert len(items) == 10
    assert {item["url"] for item in items if item["backfill"]} >= {target}


def test_cors_only_for_the_configured_origins(archive, served):
    url = related(served, archive["source"])
    _, headers, _ = call(url, headers={"Origin": "https://www.example.org"})
    assert headers["Access-Control-Allow-Origin"] == "https://www.example.org"
    _, headers, _ = call(url, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers
    status, headers, _ = call(url, "OPTIONS", headers={
        "Origin": "https://www.example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})  # fmt: skip
    assert status == 200 and "POST" in headers["Access-Control-Allow-Methods"]


def test_a_draft_gets_a_list_of_archived_articles(archive, served):
    status, _, body = post_json(
        served.url + "related", {"title": "Le sommeil", "text": DRAFT, "k": 5}
    )
    assert status == 200
    items = json.loads(body)["related"]
    archived = {row[0] for row in sql(archive["db"], "SELECT url FROM articles")}
    assert len(items) == 5 and {item["url"] for item in items} <= archived
    assert any("sommeil" in " ".join(item["shared_terms"]) for item in items)


def test_errors_are_json_in_one_line(archive, served):
    cases = [
        (related(served, "http://nowhere.test/x.htm"), "GET", None, 404),
        (related(served, archive["source"], k="0"), "GET", None, 400),
        (related(served, archive["source"], k="many"), "GET", None, 400),
        (served.url + "related", "GET", None, 400),
        (served.url + "nothing", "GET", None, 404),
        (served.url + "related", "DELETE", None, 405),
        (served.url + "related", "POST", b"{not json", 400),
    ]
    for url, method, body, expected in cases:
        headers = {"Content-Type": "application/json"} if body else {}
        status, answer_headers, answer = call(url, method, body, headers)
        assert status == expected, (url, method)
        assert answer_headers["Content-Type"].startswith("application/json")
        message = json.loads(answer)["error"]
        assert message and "\n" not in message and "Traceback" not in message
    assert post_oversized(served, "/related", 2_000_000) == 413
    status, headers, _ = call(served.url + "related", "DELETE")
    assert set(headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}


def test_health_says_which_model_and_when_it_was_fitted(archive, served):
    status, _, body = call(served.url + "health")
    data = json.loads(body)
    model_id, created = sql(
        archive["db"], "SELECT model_id, created_at FROM models ORDER BY created_at DESC LIMIT 1"
    )[0]
    assert status == 200 and data["status"] == "ok" and data["model"] == model_id
    assert data["fitted_at"].startswith(created.isoformat(timespec="seconds"))
    assert data["method"] and data["archive"] == "readable"


def test_read_only_unless_the_editor_mode_is_on(archive, served):
    status, _, body = post_json(
        served.url + "api/rules",
        {"action": "pin", "source": archive["source"], "target": archive["script_url"]},
    )
    assert status == 403 and "--editor" in json.loads(body)["error"]
    assert not sql(archive["db"], "SELECT * FROM editor_rules")


def test_the_editor_mode_beyond_loopback_needs_a_token(archive):
    with pytest.raises(ValueError, match="token"):
        make_server(archive["db"], host="0.0.0.0", port=0, settings=ServeSettings(editor=True))


def test_a_token_guards_changes(archive):
    running = Running(archive["db"], ServeSettings(editor=True, token="s3cret", reload_interval=0))
    try:
        change = {"action": "block", "source": archive["source"], "target": archive["script_url"]}
        assert post_json(running.url + "api/rules", change)[0] == 401
        wrong = {"Authorization": "Bearer nope"}
        assert post_json(running.url + "api/rules", change, wrong)[0] == 401
        right = {"Authorization": "Bearer s3cret"}
        status, _, body = post_json(running.url + "api/rules", change, right)
        assert status == 200 and json.loads(body)["status"] == "added"
        listed = json.loads(call(related(running, archive["source"], k="20"))[2])["related"]
        assert archive["script_url"] not in {item["url"] for item in listed}
        change["action"] = "unblock"
        assert post_json(running.url + "api/rules", change, right)[0] == 200
        # a change from another site's page is refused even with no token set
        other = {"Origin": "https://evil.example", **right}
        assert post_json(running.url + "api/rules", {**change, "action": "block"}, other)[0] == 403
    finally:
        running.close()
    assert not sql(archive["db"], "SELECT * FROM editor_rules")


def test_a_block_by_url_pattern_holds_for_a_whole_section(archive, editor):
    """'Never suggest anything from /cancer/ for /cardiologie/ pages.'"""
    sources = [
        url
        for (url,) in sql(
            archive["db"], "SELECT url FROM articles WHERE url LIKE '%/cardiologie/%'"
        )
    ]

    def cancer_items(source):
        items = json.loads(call(related(editor, source, k="10"))[2])["related"]
        return [item["url"] for item in items if "/cancer/" in item["url"]]

    assert sum(len(cancer_items(source)) for source in sources) > 0
    change = {"action": "block", "source": "url:/cardiologie/", "target": "url:/cancer/"}
    status, _, body = post_json(editor.url + "api/rules", change)
    assert status == 200, body
    try:
        assert all(not cancer_items(source) for source in sources)
        assert all(len(json.loads(call(related(editor, s, k="10"))[2])["related"]) == 10
                   for s in sources[:5])  # fmt: skip
    finally:
        assert post_json(editor.url + "api/rules", {**change, "action": "unblock"})[0] == 200


# -- a real browser, for the curation page (test_curation_page.py) ----------------------


@pytest.fixture(scope="module")
def browser_page():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    import tempfile

    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="relnews-chromium-"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic"],
        )  # fmt: skip
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.dialogs = dialogs
        yield page
        context.close()


def test_a_block_by_rubrique_from_the_command_line_holds_in_exported_lists(archive, tmp_path):
    rubriques = dict(sql(archive["db"], "SELECT url, rubrique FROM latest_articles"))
    args = ("--db", str(archive["db"]))

    def exported() -> dict[str, list[dict]]:
        out = tmp_path / "lists.json"
        run_relnews("export", "--format", "json", "-k", "10", "--output", str(out), *args)
        return json.loads(out.read_text("utf-8"))

    def crossings(lists) -> list[tuple[str, str]]:
        """(source rubrique, target rubrique) of every suggestion across two rubriques."""
        return [
            (rubriques[source], rubriques[item["url"]])
            for source, items in lists.items()
            for item in items
            if rubriques.get(item["url"]) != rubriques.get(source)
        ]

    before = exported()
    # the pair of rubriques the model links most across: the block has work to do
    (source_rubrique, target_rubrique), _ = Counter(crossings(before)).most_common(1)[0]
    run_relnews("block", f"rubrique:{target_rubrique.upper()}", "--source",
                f"rubrique:{source_rubrique}", *args, own_process=True)  # fmt: skip
    try:
        assert f"rubrique:{target_rubrique.upper()}" in run_relnews("rules", *args).stdout
        after = exported()
        assert (source_rubrique, target_rubrique) not in crossings(after)
        assert all(len(items) == 10 for items in after.values())
        # other sections' lists still suggest the blocked rubrique
        assert any(pair[1] == target_rubrique for pair in crossings(after))
    finally:
        run_relnews("unblock", f"rubrique:{target_rubrique.upper()}", "--source",
                    f"rubrique:{source_rubrique}", *args, own_process=True)  # fmt: skip


def test_the_access_log_escapes_what_a_request_holds(archive, caplog):
    running = Running(archive["db"], ServeSettings(access_log=True, reload_interval=0))
    try:
        with caplog.at_level("INFO", logger="relnews.serve"):
            call(running.url + "related%1b%5b2J?url=%1b]0;pwned%07")
            call(related(running, archive["source"], k="2"))
    finally:
        running.close()
    lines = [record.getMessage() for record in caplog.records if record.name == "relnews.serve"]
    hostile = next(line for line in lines if "related\\x1b" in line)
    assert "\x1b" not in hostile and "\x07" not in hostile and " 404 " in hostile
    assert any(" GET /related?url=" in line and " 200 " in line for line in lines)


def test_a_command_waits_while_another_process_reads_the_archive(archive):
    """A server's look at the archive (or an analyst's query) in another process must not
    make an unattended command fail: it waits, then does its work."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; "
         "c = duckdb.connect(sys.argv[1], read_only=True); print('held', flush=True); "
         "time.sleep(2); c.close()", str(archive["db"])],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        args = (archive["script_url"], "--note", "held", "--db", str(archive["db"]))
        result = run_relnews("block", *args, own_process=True)
        waited = time.monotonic() - started
    finally:
        holder.wait(10)
    try:
        assert result.returncode == 0 and waited > 1.0
        assert (archive["script_url"], "block") in {
            (target, rule) for _, target, rule in sql(
                archive["db"], "SELECT source_url, target_url, rule FROM editor_rules")
        }  # fmt: skip
    finally:
        run_relnews("unblock", archive["script_url"], "--db", str(archive["db"]), own_process=True)
