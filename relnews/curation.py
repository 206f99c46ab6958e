"""The curation page of ``relnews serve``: where an editor works through the lists.

The page (``GET /curate``, its script and style sheet) opens on work queues: the newest
articles, those whose editors' block and relnews's list differ most, and those without
an editors' block. An article's view shows the editors' block beside relnews's list;
an editor pins any archived article (found by title or URL), blocks one here or in every
list (after a confirmation), and sees the rules with the targets' titles and notes, and
a warning for a pin that a block keeps out. The page is in the site's language
(:mod:`relnews.words`), its dates written by Babel to the precision the archive knows
(:mod:`relnews.widgets`).

JSON under ``/api/``: ``queues``, ``search?q=``, ``article?url=&k=`` and ``POST rules``
(``{"action": "pin"|"unpin"|"block"|"unblock", "source", "target", "note"}``, editor
mode only, from loopback or with the token, and from this page's own origin).
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from recommender.models.text import normalize
from recommender.rules import ANY_SOURCE, PIN, RuleError, check_rule, parse_scope
from relnews.errors import NotInArchive
from relnews.output import item_json, terminal_safe
from relnews.serve import (
    UNAVAILABLE,
    RelatedService,
    RequestError,
    ServeSettings,
    Snapshot,
    _check_editor,
    _json,
    _json_body,
    _k,
    _number,
    log,
)
from relnews.widgets import age_text, date_iso, date_text, package_template
from relnews.words import words_for
from warehouse import Reader, WarehouseError

#: Entries per work queue, by default and at most (the queues are made this long once
#: per snapshot; a request takes the first ``limit``).
QUEUE_LENGTH = 20
MAX_QUEUE_LENGTH = 100
#: The length of relnews's list on the page (and in the queues' overlap).
VIEW_K = 10
#: What the page may load: its own script and style sheet, nothing inline, nothing else.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_ACTIONS = {
    "pin": ("pin", True),
    "unpin": ("pin", False),
    "block": ("block", True),
    "unblock": ("block", False),
}


@dataclass
class _Index:
    """What the queues and the search read, made from one snapshot when first asked."""

    snapshot: Snapshot
    search_keys: list[tuple[str, str, str]]
    first_seen: dict[str, datetime]
    blocks: dict[str, set[str]]  # the editors' block of each source: archived targets
    lists_with: Counter[str]  # how many stored lists each target is in
    queues: dict[str, list[dict[str, Any]]] | None = None


class Curation:
    """The page's answers, from the current snapshot of a :class:`RelatedService`."""

    def __init__(self, service: RelatedService) -> None:
        self.service = service
        self._index: _Index | None = None
        self._building = threading.Lock()

    # -- what the page shows ---------------------------------------------------------

    def language(self) -> str:
        return self.service.snapshot.widgets.language

    def index(self) -> _Index:
        """The current snapshot's index, built once per snapshot (one archive read)."""
        snapshot = self.service.snapshot
        index = self._index
        if index is not None and index.snapshot is snapshot:
            return index
        with self._building:
            if self._index is not None and self._index.snapshot is snapshot:
                return self._index
            with self._archive() as reader:
                first_seen = reader.first_seen()
                links = reader.editorial_links()
            blocks: dict[str, set[str]] = {}
            for link in links:
                blocks.setdefault(link.source_url, set()).add(link.target_url)
            self._index = _Index(
                snapshot=snapshot,
                search_keys=sorted(
                    (normalize(title), url.casefold(), url)
                    for url, title in snapshot.titles.items()
                ),
                first_seen=first_seen,
                blocks=blocks,
                lists_with=Counter(map(str, snapshot.stored.targets)),
            )
            return self._index

    @contextlib.contextmanager
    def _archive(self) -> Iterator[Reader]:
        """The archive, read-only, waited for as an editor's change waits; a 503 when it
        cannot be read."""
        try:
            with self.service._reader(self.service.wait) as reader:
                yield reader
        except WarehouseError as error:
            log.warning("cannot read the archive: %s", terminal_safe(str(error)))
            raise RequestError(503, UNAVAILABLE) from error

    def entry(self, url: str, index: _Index | None = None) -> dict[str, Any]:
        """An article as a line of a queue or of the search: title, URL, its date."""
        snapshot = self.service.snapshot
        fact = snapshot.facts(url)
        language = self.language()
        entry: dict[str, Any] = {"url": url, "title": snapshot.titles.get(url, "")}
        if fact.published is not None:
            entry["date"] = date_text(fact.published, fact.precision, language)
            entry["date_iso"] = date_iso(fact.published, fact.precision)
            entry["date_kind"] = "published"
        elif index is not None and url in index.first_seen:
            entry["date"] = date_text(index.first_seen[url], "exact", language)
            entry["date_iso"] = date_iso(index.first_seen[url])
            entry["date_kind"] = "first_seen"
        return entry

    def queues(self, length: int = QUEUE_LENGTH) -> dict[str, list[dict[str, Any]]]:
        """The three work queues (see the module's docstring), at most ``length`` each."""
        index = self.index()
        if index.queues is None:
            index.queues = self._queues(index, MAX_QUEUE_LENGTH)
        return {name: queue[:length] for name, queue in index.queues.items()}

    def _queues(self, index: _Index, length: int) -> dict[str, list[dict[str, Any]]]:
        snapshot = index.snapshot
        facts = snapshot.widgets.facts

        def newest(url: str) -> datetime:
            # the publication date, else (an undated page) when it was first archived:
            # a first crawl sees a whole site at once, its pages' dates tell them apart
            published = facts[url].published if url in facts else None
            return published or index.first_seen.get(url) or datetime.min

        live = sorted(snapshot.titles, key=lambda url: (newest(url), url), reverse=True)
        listed = [url for url in live if snapshot.has_list(url)]
        overlaps = []
        for source, block in index.blocks.items():
            if source not in snapshot.titles:
                continue
            ours = {item.url for item in snapshot.related(source, VIEW_K, None)}
            overlaps.append(
                (len(block & ours) / len(block), -len(block), source, len(block & ours))
            )
        overlaps.sort()
        differ = []
        for _, size, source, shared in overlaps[:length]:
            differ.append({**self.entry(source, index), "shared": shared, "block": -size})
        no_block = [url for url in listed if url not in index.blocks][:length]
        return {
            "newest": [self.entry(url, index) for url in live[:length]],
            "differ": differ,
            "no_block": [self.entry(url, index) for url in no_block],
        }

    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Archived articles whose title or URL holds every word of ``query`` (case and
        accents folded), titles that start with it first; an address finds its article
        under any spelling (:meth:`Snapshot.resolve`)."""
        snapshot = self.service.snapshot
        query = query.strip()
        if query.startswith(("http://", "https://")):
            resolved = snapshot.resolve(query)
            return [self.entry(resolved)] if resolved else []
        words = normalize(query).split()
        if not words:
            return []
        found = [
            (not title.startswith(words[0]), title, url)
            for title, folded_url, url in self.index().search_keys
            if all(word in title or word in folded_url for word in words)
        ]
        return [self.entry(url) for _, _, url in sorted(found)[:limit]]

    def article_view(self, url: str, k: int = VIEW_K) -> dict[str, Any]:
        """What the page shows of one article: the editors' block as archived (with its
        age) beside relnews's list with each suggestion's terms and score, and the rules
        that touch the article's list, with titles, notes and the pins a block hides."""
        snapshot = self.service.snapshot
        resolved = snapshot.resolve(url)
        if resolved is None:
            raise RequestError(404, f"{url} is not archived")
        with self._archive() as reader:
            found = reader.editors_block(resolved)
        block = [dict(zip(found.columns, row, strict=True)) for row in found.rows]
        language = self.language()
        now = datetime.now(UTC).replace(tzinfo=None)
        archived_at = block[0]["archived_at"] if block else None
        suggestions = snapshot.related(resolved, k, None) if snapshot.has_list(resolved) else []
        lists_with = self.index().lists_with
        in_block = {row["url"] for row in block}
        blocked = snapshot.rules.blocks_for(resolved)
        rules = _rules_of(snapshot.rules_rows, resolved)

        def described(target: str, note: str | None) -> dict[str, Any]:
            return {"url": target, "title": snapshot.titles.get(target, ""), "note": note}

        return {
            **self.entry(resolved),
            "model": snapshot.model_id,
            "editors": {
                "archived_at": archived_at.isoformat(timespec="seconds") + "Z"
                if archived_at
                else None,
                "archived": date_text(archived_at, "exact", language) if archived_at else None,
                "age": age_text(archived_at, "exact", language, now) if archived_at else None,
                "links": [
                    {
                        **self.entry(row["url"]),
                        "title": row["title"] or snapshot.titles.get(row["url"], ""),
                        "displayed_age": row["displayed_age"],
                        "archived": row["url"] in snapshot.titles,
                    }
                    for row in block
                ],
            },
            "relnews": [
                {
                    **item_json(item),
                    **{key: value for key, value in self.entry(item.url).items() if "date" in key},
                    "in_editors_block": item.url in in_block,
                    "lists": lists_with.get(item.url, 0),
                }
                for item in suggestions
            ],
            "pins": [
                {**described(target, note), "shadowed": _shadowed(resolved, target, blocked)}
                for target, note in rules["pin"]
            ],
            "blocked_here": [described(target, note) for target, note in rules["here"]],
            "blocked_everywhere": [described(target, note) for target, note in rules["everywhere"]],
            "scoped_rules": [
                {"source": source, "target": target, "note": note}
                for source, target, note in rules["scoped"]
            ],
        }

    # -- what an editor changes --------------------------------------------------------

    def change_rule(
        self, action: str, source: str, target: str, note: str | None = None
    ) -> dict[str, Any]:
        """Pin, unpin, block or unblock through the same job as the command line, then
        take the change in at once (the next request sees it). The job finds each side's
        article under any spelling, as the command line's does. A pin that a block keeps
        out of the list says so (``shadowed``)."""
        from relnews import jobs

        rule, adding = _ACTIONS.get(action, (None, False))
        if rule is None:
            raise RequestError(400, "action must be pin, unpin, block or unblock")
        service = self.service
        try:
            with service._lock:
                if adding:
                    change = jobs.set_rule(service.db, rule, source, target, note)
                else:
                    change = jobs.remove_rule(service.db, rule, source, target)
        except RuleError as error:
            raise RequestError(400, str(error)) from error
        except NotInArchive as error:
            raise RequestError(404, str(error).replace(str(service.db), "the archive")) from error
        except WarehouseError as error:
            log.warning("cannot change a rule: %s", terminal_safe(str(error)))
            raise RequestError(503, UNAVAILABLE) from error
        service.reload(wait=service.wait)
        snapshot = service.snapshot
        shadowed = (
            rule == PIN
            and adding
            and _shadowed(
                change.source_url, change.target_url, snapshot.rules.blocks_for(change.source_url)
            )
        )
        return {
            "action": action,
            "rule": change.rule,
            "source": change.source_url,
            "target": change.target_url,
            "title": snapshot.titles.get(change.target_url, ""),
            "status": change.status,
            "warning": change.warning,
            "shadowed": shadowed,
        }


def _shadowed(source: str, target: str, blocked: Iterable[str]) -> bool:
    """Whether a block keeps a pin out of its list: the command line's rule
    (:func:`recommender.rules.check_rule`), given every block that holds for the source,
    scoped ones included."""
    try:
        return check_rule(PIN, source, target, frozenset(blocked)) is not None
    except RuleError:
        return False


def _scoped(text: str) -> bool:
    try:
        return parse_scope(text) is not None
    except ValueError:
        return False


def _rules_of(rows: Iterable[tuple[Any, ...]], source: str) -> dict[str, list[tuple[Any, ...]]]:
    """The rules that touch ``source``'s list, by kind, with their notes: its pins (in
    the order made), its own blocks, the blocks of every list, and every scoped block."""
    found: dict[str, list[tuple[Any, ...]]] = {
        "pin": [],
        "here": [],
        "everywhere": [],
        "scoped": [],
    }
    for rule_source, target, rule, _created, note, *_ in rows:
        if _scoped(rule_source) or _scoped(target):
            found["scoped"].append((rule_source, target, note))
        elif rule_source == source:
            found["pin" if rule == PIN else "here"].append((target, note))
        elif rule_source == ANY_SOURCE:
            found["everywhere"].append((target, note))
    return found


# -- HTTP ---------------------------------------------------------------------------------


def _static(name: str) -> bytes:
    return (resources.files("relnews") / "templates" / name).read_bytes()


def curation_routes(
    service: RelatedService,
    settings: ServeSettings,
    guarded: Callable[[Callable[[Request], Any]], Callable[[Request], Any]],
) -> list[Route]:
    """The page and its API, each handler wrapped by the server's ``guarded``."""
    curation = Curation(service)
    # the script and the style sheet are files as they stand, read once
    files = {
        "curate.js": (_static("curate.js"), "text/javascript"),
        "curate.css": (_static("curate.css"), "text/css"),
    }
    security = {
        "Cache-Control": "no-store",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }

    async def page(request: Request) -> Response:
        snapshot = service.snapshot
        language = curation.language()
        words = words_for(language)
        html = package_template("curate.html").render(
            editor=settings.editor,
            token_needed=settings.editor and settings.token is not None,
            model=snapshot.model_id,
            method=snapshot.method,
            language=language,
            words=words,
            settings={
                "editor": settings.editor,
                "tokenNeeded": settings.editor and settings.token is not None,
                "language": language,
                "words": words,
            },
        )
        return HTMLResponse(html, headers=security)

    def static(name: str) -> Callable[[Request], Any]:
        body, media = files[name]

        async def serve(request: Request) -> Response:
            return Response(body, media_type=media, headers=security)

        return serve

    async def queues(request: Request) -> Response:
        length = _number(request.query_params, "limit", int, QUEUE_LENGTH)
        if not 1 <= length <= MAX_QUEUE_LENGTH:
            raise RequestError(400, f"limit must be between 1 and {MAX_QUEUE_LENGTH}")
        return _json(await run_in_threadpool(curation.queues, length))

    async def search(request: Request) -> Response:
        query = request.query_params.get("q", "")
        return _json(await run_in_threadpool(curation.search, query))

    async def article(request: Request) -> Response:
        url = request.query_params.get("url", "").strip()
        if not url:
            raise RequestError(400, "url is missing: /api/article?url=...")
        k = _k(_number(request.query_params, "k", int, VIEW_K))
        return _json(await run_in_threadpool(curation.article_view, url, k))

    async def rules(request: Request) -> Response:
        _check_editor(request, settings)
        change = await _json_body(request, 10_000)
        fields = [change.get(name) for name in ("action", "source", "target")]
        if not all(isinstance(value, str) and value for value in fields):
            raise RequestError(400, 'send {"action": ..., "source": ..., "target": ...}')
        note = change.get("note")
        note = note.strip() if isinstance(note, str) and note.strip() else None
        action, source, target = (str(value) for value in fields)
        return _json(await run_in_threadpool(curation.change_rule, action, source, target, note))

    return [
        Route("/", guarded(page), methods=["GET", "HEAD"]),
        Route("/curate", guarded(page), methods=["GET", "HEAD"]),
        Route("/curate.js", guarded(static("curate.js")), methods=["GET", "HEAD"]),
        Route("/curate.css", guarded(static("curate.css")), methods=["GET", "HEAD"]),
        Route("/api/queues", guarded(queues), methods=["GET"]),
        Route("/api/search", guarded(search), methods=["GET"]),
        Route("/api/article", guarded(article), methods=["GET"]),
        Route("/api/rules", guarded(rules), methods=["POST"]),
    ]
