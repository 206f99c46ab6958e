"""A small HTTP JSON endpoint for a site's pages: ``GET /related?url=...&k=5``.

The model is loaded once, and again when a newer one is fitted; the archive is opened
read-only for each request and closed at once, so that a running crawl can still write
it between two requests (a request waits for the file a few seconds, as a crawl writes
in short batches). The editors' rules are read on each request: a pin or a block shows
at once. The titles of the live articles are read with the model.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections import ChainMap
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from recommender.persistence import model_file, read_model
from recommender.rules import Rules, published_times, related_lists
from relnews.output import item_json, json_for_html
from warehouse import Reader, WarehouseError, connect

log = logging.getLogger("relnews.serve")

#: The longest list a request may ask for.
MAX_K = 100
DEFAULT_K = 5


#: What a client is told when the archive cannot be read: no path, PID or error text.
UNAVAILABLE = "the archive is busy or unavailable: try again in a moment"
IDLE_TIMEOUT = 15.0


class RequestError(Exception):
    """A request the service cannot answer, with its HTTP status."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class _Loaded:
    model_id: str
    model: Any
    titles: dict[str, str]
    published: dict[str, float]


class RelatedService:
    """What the endpoint answers, without HTTP: the lists of archived articles."""

    def __init__(self, db: str | Path, fresh_days: float | None = None, wait: float = 10.0):
        self.db = Path(db)
        self.fresh_days = fresh_days
        self.wait = wait
        self._lock = threading.Lock()
        with self._reader() as reader:
            self._loaded = self._load(reader)

    @contextlib.contextmanager
    def _reader(self) -> Iterator[Reader]:
        """The archive, read-only, waiting while a crawl writes a batch."""
        con = connect(self.db, read_only=True, wait=self.wait)
        try:
            yield Reader(con)
        finally:
            con.close()

    def _load(self, reader: Reader) -> _Loaded:
        model_id, path = model_file(reader, self.db)
        log.info("serving model %s", model_id)
        model = read_model(path)
        return _Loaded(model_id, model, reader.live_titles(), published_times(model))

    def _current(self, reader: Reader) -> _Loaded:
        """The loaded model, replaced first when a newer one was fitted."""
        with self._lock:
            if reader.latest_model_id() != self._loaded.model_id:
                self._loaded = self._load(reader)
            return self._loaded

    def health(self) -> dict[str, Any]:
        """Whether lists can be served now: the archive opens and the newest model is
        loaded (RequestError 503 when not)."""
        try:
            with self._reader() as reader:
                loaded = self._current(reader)
        except (WarehouseError, OSError, ValueError) as error:
            log.warning("health check failed: %s", error)
            raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, UNAVAILABLE) from error
        return {"status": "ok", "model": loaded.model_id, "articles": len(loaded.model.urls_)}

    def related(self, url: str, k: int = DEFAULT_K, fresh_days: float | None = None) -> dict:
        """The list of an archived article (by its URL or an alias), rules applied."""
        fresh_days = self.fresh_days if fresh_days is None else fresh_days
        try:
            with self._reader() as reader:
                loaded = self._current(reader)
                resolved = reader.resolve_url(url)
                if resolved is None:
                    raise RequestError(HTTPStatus.NOT_FOUND, f"{url} is not archived")
                rules = Rules.from_rows(reader.editor_rules(resolved).rows)
                # Pins may name articles crawled after the model's titles were read.
                pinned = reader.live_titles(list(rules.pins_for(resolved)))
        except WarehouseError as error:  # the archive is busy or gone
            log.warning("cannot read the archive: %s", error)  # the details stay here
            raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, UNAVAILABLE) from error
        if resolved not in loaded.model.index_:
            raise RequestError(
                HTTPStatus.NOT_FOUND,
                f"{resolved} is not among the articles the model was fitted on (archived "
                "since, or gone)",
            )
        titles = ChainMap(loaded.titles, pinned)
        items = related_lists(
            loaded.model,
            [resolved],
            k,
            rules,
            titles,
            fresh_days=fresh_days,
            published=loaded.published,
        )[resolved]
        return {
            "url": resolved,
            "model": loaded.model_id,
            "related": [item_json(item) for item in items],
        }


def _number(params: dict[str, list[str]], name: str, kind: type, default: Any) -> Any:
    values = params.get(name)
    if not values:
        return default
    try:
        value = kind(values[-1])
    except ValueError:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{name} must be a number") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{name} must be a finite number")
    return value


class _Handler(BaseHTTPRequestHandler):
    server: RelnewsServer
    protocol_version = "HTTP/1.1"
    #: Seconds a connection may sit idle (or a client take to send its request) before
    #: it is closed: idle keep-alive connections must not hold a thread each for ever.
    timeout = IDLE_TIMEOUT

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        parts = urlsplit(self.path)
        params = parse_qs(parts.query)
        try:
            if parts.path == "/health":
                try:
                    self._send(HTTPStatus.OK, self.server.service.health())
                except RequestError as error:
                    self._send(error.status, {"status": "unavailable", "error": str(error)})
            elif parts.path == "/related":
                self._send(HTTPStatus.OK, self._related(params))
            else:
                raise RequestError(HTTPStatus.NOT_FOUND, "try GET /related?url=...&k=5")
        except RequestError as error:
            self._send(error.status, {"error": str(error)})
        except Exception:  # one bad request must not stop the server
            log.exception("GET %s failed", self.path)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"})

    def _related(self, params: dict[str, list[str]]) -> dict:
        url = (params.get("url") or [""])[-1].strip()
        if not url:
            raise RequestError(HTTPStatus.BAD_REQUEST, "url is missing: /related?url=...")
        k = _number(params, "k", int, DEFAULT_K)
        if not 1 <= k <= MAX_K:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"k must be between 1 and {MAX_K}")
        fresh_days = _number(params, "fresh_days", float, None)
        if fresh_days is not None and fresh_days < 0:
            raise RequestError(HTTPStatus.BAD_REQUEST, "fresh_days must be >= 0")
        return self.server.service.related(url, k, fresh_days)

    def _send(self, status: HTTPStatus, data: dict) -> None:
        body = json_for_html(data, indent=None).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base class name)
        log.info("%s %s", self.address_string(), format % args)


class RelnewsServer(ThreadingHTTPServer):
    """The HTTP server, holding the service its request handlers share."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], service: RelatedService, idle_timeout: float = IDLE_TIMEOUT
    ) -> None:
        self.service = service
        handler = type("Handler", (_Handler,), {"timeout": idle_timeout})
        super().__init__(address, handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}/"


def make_server(
    db: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    fresh_days: float | None = None,
    idle_timeout: float = IDLE_TIMEOUT,
) -> RelnewsServer:
    """A server for ``db``'s newest model, bound but not yet serving (port 0: any free one).

    Raises :class:`warehouse.WarehouseError` when the archive has no fitted model.
    """
    service = RelatedService(db, fresh_days=fresh_days)
    return RelnewsServer((host, port), service, idle_timeout=idle_timeout)
