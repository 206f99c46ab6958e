"""``relnews serve``: the lists of a site's articles over HTTP, and a page to curate them.

Starlette on uvicorn (httptools, and uvloop where it exists). Everything a request for a
stored list needs is held in memory as one :class:`Snapshot` (the newest model's stored
lists, the live articles' titles and dates, the aliases and the editors' rules), so a
request never waits for the DuckDB file and the service answers while a crawl writes
it. A background thread looks at the archive every few seconds and, when a newer model
or changed rules are stored, builds a new snapshot and swaps it in at once; when the
archive cannot be read (a crawl holds it, it moved), the current snapshot keeps serving.

Endpoints: ``GET|HEAD /related?url=&k=&fresh_days=`` (with ``ETag``, ``Cache-Control``
and CORS for the configured origins), ``GET /related.html`` (the same list as the
site's widget, :mod:`relnews.widgets`), ``POST /related`` with a draft's ``title`` and
``text`` as JSON, ``GET /health``, and the curation page ``GET /curate`` with its JSON
API under ``/api/`` (:mod:`relnews.curation`); its changes (pin, unpin, block, unblock)
need the editor mode, on loopback or with a token. Every error is JSON: ``{"error": "..."}``.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import logging
import math
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

from crawler.page.urls import url_spellings
from recommender.persistence import model_file, read_model
from recommender.rules import (
    RelatedArticle,
    Rules,
    apply_rules,
    fresh_since,
    related_lists,
    shown,
)
from recommender.suggestion import Suggestion
from relnews.jobs import from_words, unlisted_articles
from relnews.output import item_json, json_for_html, terminal_safe
from relnews.widgets import ItemFacts, Widgets
from warehouse import Article, Reader, WarehouseError, connect
from warehouse.reader import StoredLists

log = logging.getLogger("relnews.serve")

#: The longest list a request may ask for.
MAX_K = 100
DEFAULT_K = 5
#: Seconds a browser or a cache in front may keep an answer (``--max-age``).
DEFAULT_MAX_AGE = 60
#: Seconds between two looks at the archive for a newer model or changed rules.
RELOAD_INTERVAL = 2.0
#: Seconds an idle keep-alive connection stays open.
IDLE_TIMEOUT = 15.0
#: The largest draft a ``POST /related`` may send (bytes of JSON).
MAX_DRAFT_BYTES = 1_000_000
#: Answers kept ready per snapshot; beyond it the cache starts again (memory stays bound).
MAX_CACHED = 200_000

#: What a client is told when the archive cannot be read: no path, PID or error text.
UNAVAILABLE = "the archive is busy or unavailable: try again in a moment"


class RequestError(Exception):
    """A request the service cannot answer, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Snapshot:
    """What the service answers from: one model's stored lists, the rules, the titles.

    Replaced whole, never changed in place (but for ``answers``, a cache of rendered
    answers: it belongs to it and goes with it).
    """

    model_id: str
    method: str
    fitted_at: str | None
    model: Any
    titles: dict[str, str]
    published: dict[str, float]
    aliases: dict[str, str]
    stored: StoredLists
    widgets: Widgets
    rules_rows: tuple[tuple[Any, ...], ...]
    rules: Rules
    loaded_at: str
    # Articles crawled since the fit, none in ``stored``: (title, text), listed from their
    # words as drafts.
    unfitted: dict[str, tuple[str, str]] = field(default_factory=dict)
    # What the archive held when read (versions, gone articles, aliases): see _looked_at.
    content_mark: tuple[int, ...] = ()
    answers: dict[tuple[Any, ...], tuple[str, bytes]] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Changes whenever what a list says may change: the model, the rules or the
        archived articles."""
        digest = zlib.crc32(repr((self.rules_rows, self.content_mark)).encode("utf-8"))
        return f"{self.model_id[:16]}-{digest:08x}"

    def has_list(self, url: str) -> bool:
        """Whether an archived article gets a list: the model was fitted on it, a list
        was stored for it, or it was crawled since the fit (listed from its words)."""
        return url in self.model.index_ or url in self.stored or url in self.unfitted

    def facts(self, url: str) -> ItemFacts:
        """What an answer says of an article beside its title (date, excerpt, image...)."""
        return self.widgets.facts.get(url) or ItemFacts()

    def resolve(self, url: str) -> str | None:
        """The archived article a reader at ``url`` sees, as :func:`relnews.jobs.
        archived_url` finds it: the first of its spellings that is an article or an alias
        (tracking parameters, fragment, case, trailing slash, index file, canonical)."""
        if url in self.titles:
            return url
        for spelling in url_spellings(url):
            if spelling in self.titles:
                return spelling
            if spelling in self.aliases:
                return self.aliases[spelling]
        return None

    def related(self, source: str, k: int, fresh_days: float | None) -> list[RelatedArticle]:
        """The list readers see: the stored list with the rules applied, asking the model
        for a longer one only when the rules or the window leave it short of ``k``."""
        stored = self.stored.get(source)
        suggestions = [Suggestion(target, score, terms) for target, score, terms, _ in stored]
        filled = {target for target, _, _, backfill in stored if backfill}
        since = fresh_since(self.published.get(source, math.nan), fresh_days, time.time())
        ruled = apply_rules(
            suggestions,
            source,
            k,
            self.rules.pins_for(source),
            self.rules.blocks_for(source),
            published=self.published,
            fresh_since=since,
            live=self.titles,
        )
        # Ask the model: for an article crawled since the fit (from its words: it has no
        # stored list), or when the rules or the window leave the stored list short of k.
        unfitted = source in self.unfitted
        short = len(ruled) < k and len(ruled) < len(self.titles) - 1
        if unfitted or (short and source in self.model.index_):
            return related_lists(
                self.model,
                [source],
                k,
                self.rules,
                self.titles,
                fresh_days=fresh_days,
                published=self.published,
                texts={source: self.unfitted[source]} if unfitted else None,
            )[source]
        marked = [
            replace(s, backfill=True) if s.target_url in filled and not s.pinned else s
            for s in ruled
        ]
        return shown(marked, self.titles)


class RelatedService:
    """What the endpoints answer, without HTTP: the snapshot, kept fresh.

    Parameters
    ----------
    db : path
        The archive; it must hold a fitted model.
    fresh_days : float or None
        The default freshness window of the lists (a request may give its own).
    wait : float
        Seconds to wait for the archive at start and on a change an editor makes.
    templates : path or None
        A folder whose ``related.html`` replaces the default widget template.
    """

    def __init__(
        self,
        db: str | Path,
        fresh_days: float | None = None,
        wait: float = 10.0,
        templates: str | Path | None = None,
    ):
        self.db = Path(db)
        self.templates = templates
        self.fresh_days = fresh_days
        self.wait = wait
        self.archive = "readable"
        self._lock = _file_lock(self.db)
        with self._reader(wait) as reader:
            build = self._load(reader, None)
        self.snapshot = build()

    @contextlib.contextmanager
    def _reader(self, wait: float) -> Iterator[Reader]:
        with self._lock:
            con = connect(self.db, read_only=True, wait=wait)
            try:
                yield Reader(con)
            finally:
                con.close()

    def _load(
        self,
        reader: Reader,
        current: Snapshot | None,
        seen: Looked | None = None,
    ) -> Callable[[], Snapshot]:
        """What a snapshot of the archive now needs from it, and the function that builds
        the snapshot once the archive is let go (reading the model file, building the
        rules need no connection: a crawl waiting to write waits less). What ``current``
        has that has not changed is kept (the model and its lists when no newer one was
        fitted; the articles too when none was crawled). ``seen``: what
        :meth:`_looked_at` read, when already read."""
        model_id, rules_rows, mark = seen or self._looked_at(reader)
        facts = reader.article_facts()
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if current is not None and current.model_id == model_id:
            kept = {name: getattr(current, name) for name in _KEPT}
            if current.content_mark != mark:  # crawled since: the same model, new articles
                titles = reader.live_titles()
                kept |= {
                    "titles": titles,
                    "aliases": reader.aliases(),
                    "widgets": Widgets.from_reader(reader, self.templates),
                    **_unfitted(current.model, unlisted_articles(reader, titles, current.stored)),
                }
            return lambda: Snapshot(
                **kept,
                rules_rows=rules_rows,
                rules=Rules.from_rows(rules_rows, facts),
                loaded_at=now,
                content_mark=mark,
            )
        started = time.monotonic()
        model_id, path = model_file(reader, self.db)
        info = reader.model_info(model_id)
        fitted = info.get("fitted_at")
        titles = reader.live_titles()
        stored = reader.stored_lists(model_id)
        fetched: dict[str, Any] = {
            "model_id": model_id,
            "fitted_at": fitted.isoformat(timespec="seconds") + "Z" if fitted else None,
            "titles": titles,
            "aliases": reader.aliases(),
            "stored": stored,
            "widgets": Widgets.from_reader(reader, self.templates),
            "rules_rows": rules_rows,
            "loaded_at": now,
            "content_mark": mark,
        }
        unlisted = unlisted_articles(reader, titles, stored)  # read now, the model comes later

        def build() -> Snapshot:
            model = read_model(path)
            if hasattr(model, "keep_term_index"):  # drafts scored through their own terms
                model.keep_term_index()
            snapshot = Snapshot(
                **fetched,
                **_unfitted(model, unlisted),
                method=str(info.get("method", type(model).__name__)),
                model=model,
                rules=Rules.from_rows(rules_rows, facts),
            )
            log.info(
                "serving model %s (%s, %d lists) loaded in %.1f s",
                model_id,
                snapshot.method,
                len(snapshot.stored),
                time.monotonic() - started,
            )
            return snapshot

        return build

    @staticmethod
    def _looked_at(reader: Reader) -> Looked:
        """What tells whether the snapshot is stale: the newest model's id, the rules,
        and what the archive holds (a crawl adds articles a list can be answered for)."""
        return (
            reader.latest_model_id(),
            tuple(tuple(row) for row in reader.editor_rules().rows),
            reader.content_mark(),
        )

    def reload(self, wait: float = 0.0) -> bool:
        """Look at the archive once; True when a new snapshot was swapped in. An archive
        that cannot be read leaves the current snapshot serving."""
        with self._lock:
            try:
                with self._reader(wait) as reader:
                    current = self.snapshot
                    seen = self._looked_at(reader)
                    if seen == (current.model_id, current.rules_rows, current.content_mark):
                        self.archive = "readable"
                        return False
                    build = self._load(reader, current, seen)
                self.snapshot = build()
                self.archive = "readable"
                return True
            except (WarehouseError, OSError, ValueError) as error:
                if self.archive == "readable":
                    log.warning("cannot read the archive (lists keep serving): %s", error)
                self.archive = "unavailable"
                return False

    def watch(self, interval: float, stop: threading.Event) -> None:
        """Reload every ``interval`` seconds until ``stop`` is set."""
        while not stop.wait(interval):
            try:
                self.reload()
            except Exception:  # a bad reload must not end the watching
                log.exception("reloading the archive failed")

    def health(self) -> dict[str, Any]:
        snapshot = self.snapshot
        return {
            "status": "ok",
            "model": snapshot.model_id,
            "method": snapshot.method,
            "fitted_at": snapshot.fitted_at,
            "articles": len(snapshot.titles),
            "lists": len(snapshot.stored),
            "loaded_at": snapshot.loaded_at,
            "archive": self.archive,
        }

    def related_answer(
        self, url: str, k: int, fresh_days: float | None, html: bool = False
    ) -> tuple[str, bytes]:
        """The answer for an archived article's list (JSON, or the widget's HTML) and its
        ETag, from the cache of the current snapshot when it was asked before."""
        snapshot = self.snapshot
        fresh_days = self.fresh_days if fresh_days is None else fresh_days
        key = (url, k, fresh_days, html)
        answer = snapshot.answers.get(key)
        if answer is not None:
            return answer
        resolved = snapshot.resolve(url)
        if resolved is None:
            raise RequestError(404, f"{url} is not archived")
        if not snapshot.has_list(resolved):
            raise RequestError(404, f"{resolved} is gone from the archive")
        items = snapshot.related(resolved, k, fresh_days)
        if html:
            body = snapshot.widgets.render(resolved, items).encode("utf-8")
        else:
            data = {
                "url": resolved,
                "model": snapshot.model_id,
                "related": [item_json(item, snapshot.facts(item.url)) for item in items],
            }
            body = json_for_html(data, indent=None).encode("utf-8")
        answer = (f'"{snapshot.version}-{zlib.crc32(body):08x}"', body)
        if len(snapshot.answers) >= MAX_CACHED:
            snapshot.answers.clear()
        snapshot.answers[key] = answer
        return answer

    def draft(self, title: str, text: str, k: int) -> dict[str, Any]:
        """The list for a text not yet archived (a draft): cold start from its words."""
        snapshot = self.snapshot
        items = related_lists(
            snapshot.model,
            [None],
            k,
            snapshot.rules,
            snapshot.titles,
            fresh_days=self.fresh_days,
            text=text,
            title=title,
            published=snapshot.published,
        )[None]
        return {
            "model": snapshot.model_id,
            "related": [item_json(item, snapshot.facts(item.url)) for item in items],
        }


_FILE_LOCKS: dict[Path, threading.RLock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(db: Path) -> threading.RLock:
    """One use of an archive at a time in this process, whichever service asks: DuckDB
    refuses a second connection to a file with another configuration (an editor's
    write beside the watcher's read)."""
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(db.resolve(), threading.RLock())


#: What tells a snapshot is stale: the newest model's id, the rules, the content mark.
Looked = tuple[str | None, tuple[tuple[Any, ...], ...], tuple[int, ...]]

#: What a snapshot keeps from the last one while its model stays the newest.
_KEPT = (
    "model_id", "method", "fitted_at", "model", "titles", "published", "aliases", "stored",
    "widgets",
)  # fmt: skip


def _unfitted(model: Any, unlisted: Iterable[Article]) -> dict[str, Any]:
    """The snapshot's fields for the ``unlisted`` articles: their words (listed from them
    as drafts are), and their publication times beside the fitted articles'."""
    texts, published = from_words(model, unlisted)
    return {"unfitted": texts, "published": published}


#: Answers shorter than this are sent as they are (gzip would barely shrink them).
GZIP_MIN_BYTES = 512
# If-None-Match as RFC 9110 13.1.2 reads it ("*", weak comparison, "W/" tags), by
# Starlette's own conditional-request check (the one its static files answer with).
_NOT_MODIFIED = StaticFiles(check_dir=False)


# -- HTTP ---------------------------------------------------------------------------------


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        json_for_html(data, indent=None),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


def _number(params: Mapping[str, str], name: str, kind: type, default: Any) -> Any:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = kind(value)
    except ValueError:
        raise RequestError(400, f"{name} must be a number") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise RequestError(400, f"{name} must be a finite number")
    return number


def _k(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_K:
        raise RequestError(400, f"k must be between 1 and {MAX_K}")
    return value


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(frozen=True)
class ServeSettings:
    """How ``relnews serve`` answers.

    Attributes
    ----------
    max_age : int
        ``Cache-Control: max-age`` of the lists, in seconds (0: ``no-cache``).
    cors_origins : tuple of str
        Origins whose pages may call the endpoints from a browser.
    editor : bool
        Whether the curation page may change rules.
    token : str or None
        When set, a change needs it (``Authorization: Bearer TOKEN``); required when
        the editor mode listens beyond loopback.
    reload_interval : float
        Seconds between two looks at the archive (0: never, but on an editor's change).
    access_log : bool
        Whether to log every request (off by default: a line per request costs time).
    """

    max_age: int = DEFAULT_MAX_AGE
    cors_origins: tuple[str, ...] = ()
    editor: bool = False
    token: str | None = None
    reload_interval: float = RELOAD_INTERVAL
    access_log: bool = False


class AccessLog:
    """One log line per request (client, method, path, status, milliseconds), the path
    with its control characters escaped: a request must not write to the terminal."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client") or ("-", 0)
            query = scope.get("query_string", b"").decode("latin-1")
            target = scope["path"] + ("?" + query if query else "")
            log.info(
                "%s %s %s %d %.1f ms",
                client[0],
                scope["method"],
                terminal_safe(target),
                status[0],
                1000 * (time.perf_counter() - started),
            )


def make_app(service: RelatedService, settings: ServeSettings | None = None) -> Starlette:
    """The ASGI application answering for ``service``."""
    settings = settings or ServeSettings()
    cache = f"public, max-age={settings.max_age}" if settings.max_age > 0 else "no-cache"

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestError as error:
                return _error(error.status, str(error))
            except Exception:  # one bad request must not stop the server
                log.exception("%s %s failed", request.method, terminal_safe(request.url.path))
                return _error(500, "internal error")

        return endpoint

    async def related_get(request: Request, html: bool = False) -> Response:
        params = request.query_params
        url = (params.getlist("url") or [""])[-1].strip()
        if not url:
            raise RequestError(400, "url is missing: /related?url=...")
        k = _k(_number(params, "k", int, DEFAULT_K))
        fresh_days = _number(params, "fresh_days", float, None)
        if fresh_days is not None and fresh_days < 0:
            raise RequestError(400, "fresh_days must be >= 0")
        etag, body = service.related_answer(url, k, fresh_days, html)
        # Weak: the gzip-ed and plain answers say the same (RFC 9110 8.8.1). Vary is set by
        # the middlewares that make answers differ (Accept-Encoding, and Origin for CORS).
        headers = {"ETag": f"W/{etag}", "Cache-Control": cache}
        if _NOT_MODIFIED.is_not_modified(Headers({"ETag": etag}), request.headers):
            return Response(status_code=304, headers=headers)
        media = "text/html; charset=utf-8" if html else "application/json"
        return Response(body, media_type=media, headers=headers)

    widget_css = (resources.files("relnews") / "templates" / "related.css").read_bytes()

    async def stylesheet(request: Request) -> Response:
        # the widget's default look, for pages that embed it (README: embedding)
        headers = {"Cache-Control": "public, max-age=86400"}
        return Response(widget_css, media_type="text/css; charset=utf-8", headers=headers)

    async def related_html(request: Request) -> Response:
        return await related_get(request, html=True)

    async def related_post(request: Request) -> Response:
        draft = await _json_body(request, MAX_DRAFT_BYTES)
        title, text = draft.get("title", ""), draft.get("text", "")
        if not isinstance(title, str) or not isinstance(text, str):
            raise RequestError(400, "title and text must be strings")
        if not (title.strip() or text.strip()):
            raise RequestError(400, 'send a draft: {"title": "...", "text": "..."}')
        k = _k(draft.get("k", DEFAULT_K))
        data = await run_in_threadpool(service.draft, title, text, k)
        return _json(data)

    async def related_any(request: Request) -> Response:
        if request.method == "POST":
            return await related_post(request)
        return await related_get(request)

    async def health(request: Request) -> Response:
        return _json(service.health())

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, "try GET /related?url=...&k=5, POST /related, /health or /curate")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        answer = _error(405, f"{request.method} is not answered here")
        allowed = getattr(exc, "headers", None) or {}
        if "Allow" in allowed:
            answer.headers["Allow"] = allowed["Allow"]
        return answer

    async def failed(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return _error(exc.status_code, str(exc.detail))
        log.error("%s %s failed: %s", request.method, terminal_safe(request.url.path), exc)
        return _error(500, "internal error")

    from relnews.curation import curation_routes  # it builds on this module's helpers

    middleware = [Middleware(AccessLog)] if settings.access_log else []
    # Lists and widgets compress about 4:1; a proxy in front may compress again or not.
    middleware.append(Middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES))
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "HEAD", "POST"],
                allow_headers=["Content-Type", "If-None-Match"],
                expose_headers=["ETag"],
                max_age=600,
            )
        )
    return Starlette(
        routes=[
            Route("/related", guarded(related_any), methods=["GET", "HEAD", "POST"]),
            Route("/related.html", guarded(related_html), methods=["GET", "HEAD"]),
            Route("/related.css", guarded(stylesheet), methods=["GET", "HEAD"]),
            Route("/health", guarded(health), methods=["GET", "HEAD"]),
            *curation_routes(service, settings, guarded),
        ],
        middleware=middleware,
        exception_handlers={404: not_found, 405: not_allowed, HTTPException: failed},
    )


async def _json_body(request: Request, limit: int) -> dict[str, Any]:
    """The request's JSON object (a draft, a rule change), refused when too big."""
    if "application/json" not in request.headers.get("content-type", ""):
        raise RequestError(415, "send JSON (Content-Type: application/json)")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"the request is larger than {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestError(413, f"the request is larger than {limit} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise RequestError(400, "send a JSON object")
    return data


def _check_editor(request: Request, settings: ServeSettings) -> None:
    """Refuse a change unless the editor mode is on, and the request comes with the
    token, or (no token set) from loopback and from this page (no other site's page)."""
    if not settings.editor:
        raise RequestError(403, "read-only: start relnews serve --editor to change rules")
    if settings.token is not None:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {settings.token}"
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            raise RequestError(401, "a change needs the editor token (Authorization: Bearer ...)")
    elif not _is_loopback(request.client.host if request.client else None):
        raise RequestError(403, "changes are taken from loopback only (or set a token)")
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise RequestError(403, "changes are taken from the curation page only")


class RelnewsServer:
    """The server: the application on uvicorn, bound at once (``url`` is known before it
    serves), run with :meth:`serve_forever`, stopped with :meth:`shutdown`."""

    def __init__(
        self,
        service: RelatedService,
        host: str,
        port: int,
        settings: ServeSettings,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        import uvicorn

        self.service = service
        self.settings = settings
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
        except OSError:
            self.socket.close()
            raise
        self.socket.listen(2048)
        self.server_address = self.socket.getsockname()
        config = uvicorn.Config(
            make_app(service, settings),
            loop=_loop(),
            http=_idle_closing_protocol(),
            lifespan="off",
            access_log=False,
            log_level="warning",
            timeout_keep_alive=max(1, round(idle_timeout)),
            server_header=False,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` (or Ctrl-C, in the main thread)."""
        watcher = None
        if self.settings.reload_interval > 0:
            watcher = threading.Thread(
                target=self.service.watch,
                args=(self.settings.reload_interval, self._stop),
                name="relnews-reload",
                daemon=True,
            )
            watcher.start()
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._stop.set()
            if watcher is not None:
                watcher.join(5)

    def shutdown(self) -> None:
        self._server.should_exit = True
        self._stop.set()

    def server_close(self) -> None:
        self.socket.close()


def _idle_closing_protocol() -> type:
    """uvicorn's httptools protocol, with the idle timer armed as soon as a connection
    opens: a client that connects and sends nothing is let go like an idle keep-alive
    one, instead of holding its socket for ever."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class IdleClosingProtocol(HttpToolsProtocol):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    return IdleClosingProtocol


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # Windows: asyncio's own loop
        return "asyncio"
    return "uvloop"


def make_server(
    db: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    fresh_days: float | None = None,
    idle_timeout: float = IDLE_TIMEOUT,
    settings: ServeSettings | None = None,
    templates: str | Path | None = None,
) -> RelnewsServer:
    """A server for ``db``'s newest model, bound but not yet serving (port 0: any free one).

    Raises
    ------
    warehouse.WarehouseError
        When the archive has no fitted model.
    ValueError
        When the editor mode would listen beyond loopback without a token.
    """
    settings = settings or ServeSettings()
    if settings.editor and settings.token is None and not _is_loopback(host):
        raise ValueError(
            f"the editor mode on {host} needs a token (--token or RELNEWS_EDITOR_TOKEN): "
            "anyone who reaches the port could change the lists"
        )
    service = RelatedService(db, fresh_days=fresh_days, templates=templates)
    return RelnewsServer(service, host, port, settings, idle_timeout=idle_timeout)
