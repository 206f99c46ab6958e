"""The archive's full-text index: an SQLite FTS5 file beside it, kept up to date.

DuckDB's own full-text index is an extension that ``INSTALL fts`` fetches from the
network (and it indexes a table once, not incrementally); SQLite's FTS5 ships with
Python, ranks by ``bm25()``, cuts ``snippet()`` s and parses phrases, prefixes and
``NOT`` itself. The index lives in ``<archive>.search`` (``news.duckdb.search``): one
row per live article's latest version (title, lead, body), tokenised by ``unicode61``
with diacritics removed (``é`` = ``e``), case folded and combining marks kept inside
words (Thai, Devanagari). Scripts written without spaces (Han, kana, Hangul, Thai...)
are indexed one character a token, so a word of them is found as a phrase anywhere in
a run.

It follows the archive by difference: an update reads the archive's live articles with
their latest version id and indexes only the new and changed ones, and drops the gone
ones. It reads the archive read-only, in short batches, each on its own connection, so a
crawl waiting to write gets the file between two of them. Whether the archive changed
since the last update is told from the archive file's own metadata (inode, size,
modification time, and its write-ahead log's), so a search on an unchanged archive does
not open it at all; a stamp taken within :data:`RACY_SECONDS` of a write is not trusted
(the clock's grain), as git does for its index.

Which text a query means is the caller's business (:mod:`recommender.search` parses the
user's syntax); :meth:`SearchIndex.search` takes an FTS5 expression.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from warehouse.database import BUSY_WAIT, WarehouseError, one_row, opened
from warehouse.scripts import UNSPACED

__all__ = [
    "MARK_END",
    "MARK_START",
    "IndexBusy",
    "IndexedHit",
    "IndexUpdate",
    "SearchIndex",
    "index_path_for",
    "keep_fresh",
    "prepare_text",
]

#: Bump when the tables or the tokeniser change: an index of another format is rebuilt.
FORMAT = "2"
#: What marks a matched word in a snippet: two private-use characters, removed from the
#: indexed text, so a snippet's marks are only ever FTS5's (turned into brackets, HTML
#: or anything else by the caller).
MARK_START, MARK_END = "\ue000", "\ue001"
#: Put between the characters of scripts written without spaces, and declared a separator
#: to the tokeniser: each character becomes a token. Invisible, and taken out of snippets.
_SPLIT = "\u2063"
_STRIPPED = re.compile(f"[{MARK_START}{MARK_END}{_SPLIT}]")
_UNSPACED_CHAR = re.compile(f"({UNSPACED.pattern})(?=\\S)")
TOKENIZER = f"unicode61 remove_diacritics 2 categories 'L* N* Co M*' separators '{_SPLIT}'"
#: Field weights of bm25(): a word in the title counts most, then the lead.
WEIGHTS = (3.0, 1.5, 1.0)
#: Articles read from the archive per connection while indexing.
BATCH = 2_000
#: A stamp taken this close to the archive's last write may miss a write in the same tick.
RACY_SECONDS = 2.0
#: Words around a match in a snippet.
SNIPPET_WORDS = 16

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    id        INTEGER PRIMARY KEY,  -- the article's latest version id in the archive
    url       TEXT NOT NULL UNIQUE,
    title     TEXT NOT NULL,
    published TEXT,
    rubrique  TEXT
);
CREATE VIRTUAL TABLE IF NOT EXISTS text USING fts5(title, lead, body, tokenize="{TOKENIZER}");
CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5vocab(text, row);
"""


class IndexBusy(WarehouseError):
    """Another process is updating the search index (a crawl's, or another search's)."""


def index_path_for(db: str | Path) -> Path:
    """The search index file of the archive at ``db``: ``<db>.search``."""
    db = Path(db)
    return db.with_name(db.name + ".search")


def prepare_text(text: str) -> str:
    """``text`` as the index stores it and a query must be written: NFKC (full-width and
    ligatures as plain letters), without the snippet marks, and the characters of
    unspaced scripts apart."""
    text = _STRIPPED.sub("", unicodedata.normalize("NFKC", text))
    return (
        _UNSPACED_CHAR.sub(lambda m: m.group(1) + _SPLIT, text) if UNSPACED.search(text) else text
    )


def _shown(snippet: str) -> str:
    return snippet.replace(_SPLIT, "")


@dataclass(frozen=True)
class IndexedHit:
    """One article the index matched, best first."""

    url: str
    title: str
    published: date | None
    rubrique: str | None
    #: bm25 score (higher is better), comparable within one search.
    score: float
    #: Words around the best match, matched words between :data:`MARK_START` and
    #: :data:`MARK_END`; "…" where text was cut.
    snippet: str


@dataclass(frozen=True)
class IndexUpdate:
    """What an update did."""

    added: int
    changed: int
    removed: int
    #: Articles in the index afterwards.
    total: int
    #: True when the index was (re)built from nothing.
    built: bool
    #: False when the archive was not read: its files had not changed since the last one.
    checked: bool = True

    @property
    def changes(self) -> int:
        return self.added + self.changed + self.removed


def _stamp(db: Path) -> dict[str, list[int] | None]:
    """The archive's file metadata: any write changes it (size, or at least mtime)."""

    def one(path: Path) -> list[int] | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return [stat.st_ino, stat.st_size, stat.st_mtime_ns]

    return {"db": one(db), "wal": one(db.with_name(db.name + ".wal"))}


class SearchIndex:
    """The search index of the archive at ``db`` (the file need not exist yet)."""

    def __init__(self, db: str | Path) -> None:
        self.db = Path(db)
        self.path = index_path_for(self.db)

    # -- state --------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def _connect(self, wait: float = BUSY_WAIT) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: transactions are begun here, explicitly (BEGIN IMMEDIATE).
        con = sqlite3.connect(self.path, timeout=wait, isolation_level=None)
        try:
            yield con
        finally:
            con.close()

    def _meta(self, con: sqlite3.Connection) -> dict[str, str]:
        try:
            return dict(con.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.OperationalError:  # a new, empty file
            return {}

    def is_current(self) -> bool:
        """True when the index exists, is of this format and the archive's files have not
        changed since its last update (no archive read)."""
        if not self.path.exists():
            return False
        try:
            with self._connect() as con:
                meta = self._meta(con)
        except sqlite3.DatabaseError:
            return False
        return (
            meta.get("format") == FORMAT
            and meta.get("trusted") == "1"
            and json.loads(meta.get("stamp", "null")) == _stamp(self.db)
        )

    def size(self) -> int:
        """How many articles the index holds (0 when it does not exist)."""
        if not self.path.exists():
            return 0
        with self._connect() as con:
            try:
                return int(con.execute("SELECT count(*) FROM docs").fetchone()[0])
            except sqlite3.DatabaseError:
                return 0

    # -- update -------------------------------------------------------------------------

    def update(
        self,
        wait: float = BUSY_WAIT,
        progress: Callable[[int, int], None] | None = None,
    ) -> IndexUpdate:
        """Bring the index up to the archive's live articles; build it if it is missing,
        of another format or unreadable.

        ``wait``: seconds to wait for the archive while a writer holds it, and for the
        index while another process updates it. ``progress(done, total)`` is called after
        each batch of articles indexed.

        Raises
        ------
        WarehouseError
            When there is no archive, or it stays busy past ``wait``.
        IndexBusy
            When another process keeps the index locked past ``wait``.
        """
        if not self.db.exists():
            with opened(self.db, read_only=True):  # the usual one-line "no archive at ..."
                pass
        built = self._open_or_reset()
        with self._connect(wait) as con:
            try:
                con.execute("BEGIN IMMEDIATE")  # one updater at a time; searches go on
            except sqlite3.OperationalError as error:
                raise IndexBusy(
                    f"the search index {self.path} is being updated by another process "
                    f"(waited {wait:g} s); try again when it is done"
                ) from error
            try:
                result = self._update(con, wait, progress, built)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return result

    def _open_or_reset(self) -> bool:
        """Make sure the index file has this format's tables; True when it was (re)made."""
        try:
            with self._connect() as con:
                meta = self._meta(con)
                if meta.get("format") == FORMAT:
                    return False
                tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError:  # not an SQLite file, or a damaged one
            tables = -1
        if tables:  # another format, or unreadable: start again
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")  # searches read while an update writes
            con.executescript(_SCHEMA)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", [FORMAT])
        return True

    def _update(
        self,
        con: sqlite3.Connection,
        wait: float,
        progress: Callable[[int, int], None] | None,
        built: bool,
    ) -> IndexUpdate:
        meta = self._meta(con)
        stamp = _stamp(self.db)
        taken = time.time()
        old_stamp = json.loads(meta.get("stamp", "null"))
        if meta.get("trusted") == "1" and old_stamp == stamp:
            total = con.execute("SELECT count(*) FROM docs").fetchone()[0]
            return IndexUpdate(0, 0, 0, total, built=False, checked=False)
        with opened(self.db, read_only=True, wait=wait) as archive:
            # Which archive this is (a copy is the same one): its first run's start.
            (identity,) = one_row(
                archive.execute("SELECT min(started_at)::VARCHAR FROM crawl_runs")
            )
            if meta.get("archive", str(identity)) != str(identity):
                # another archive now stands at the path: its version ids are its own
                con.execute("DELETE FROM docs")
                con.execute("DELETE FROM text")
                built = True
            # The live articles' versions in one number: a write that changed none of
            # them (a model fitted, lists stored) costs this scan, not the lists' diff.
            fingerprint = str(one_row(archive.execute(
                "SELECT count(*), bit_xor(hash(url, version_id)) FROM latest_articles"
                " WHERE gone_at IS NULL"
            )))  # fmt: skip
            if meta.get("fingerprint") == fingerprint and not built:
                self._record(con, stamp, taken, identity, fingerprint)
                total = con.execute("SELECT count(*) FROM docs").fetchone()[0]
                return IndexUpdate(0, 0, 0, total, built=False)
            live = dict(archive.execute(
                "SELECT url, version_id FROM latest_articles WHERE gone_at IS NULL"
            ).fetchall())  # fmt: skip
        indexed = dict(con.execute("SELECT url, id FROM docs").fetchall())
        gone = [version for url, version in indexed.items() if url not in live]
        changed = [version for url, version in indexed.items()
                   if url in live and live[url] != version]  # fmt: skip
        # (a version under two URLs, were the archive to hold one, is indexed once)
        kept = set(indexed.values()).difference(gone, changed)
        wanted = {version: url for url, version in live.items()
                  if indexed.get(url) != version and version not in kept}  # fmt: skip
        stale = [(version,) for version in gone + changed]
        con.executemany("DELETE FROM docs WHERE id = ?", stale)
        con.executemany("DELETE FROM text WHERE rowid = ?", stale)
        for done in self._index_versions(con, wanted, wait):
            if progress is not None:
                progress(done, len(wanted))
        self._record(con, stamp, taken, identity, fingerprint)
        total = con.execute("SELECT count(*) FROM docs").fetchone()[0]
        return IndexUpdate(
            added=len(wanted) - len(changed),
            changed=len(changed),
            removed=len(gone),
            total=total,
            built=built,
        )

    def _record(
        self,
        con: sqlite3.Connection,
        stamp: dict[str, list[int] | None],
        taken: float,
        identity: object,
        fingerprint: str,
    ) -> None:
        """Note which state of the archive the index now holds."""
        # The stamp is the one taken before the archive was read: a write since then
        # makes the next search look again. One written in the same clock tick as the
        # stamp's own would not show in it: such a stamp is kept but not trusted.
        mtimes = [part[2] / 1e9 for part in stamp.values() if part]
        trusted = all(taken - mtime > RACY_SECONDS for mtime in mtimes)
        con.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("stamp", json.dumps(stamp)), ("trusted", "1" if trusted else "0"),
             ("updated_at", str(taken)), ("archive", str(identity)),
             ("fingerprint", fingerprint)],
        )  # fmt: skip

    def _index_versions(
        self, con: sqlite3.Connection, urls: dict[int, str], wait: float
    ) -> Iterator[int]:
        """Read those article versions (version id -> article URL) from the archive, a
        batch per connection, and index them; yield how many are done after each batch."""
        versions = sorted(urls)
        for start in range(0, len(versions), BATCH):
            batch = versions[start : start + BATCH]
            with opened(self.db, read_only=True, wait=wait) as archive:
                rows = archive.execute(
                    "SELECT version_id, title, coalesce(lead, ''), coalesce(body, ''),"
                    " CAST(published_at AS DATE), rubrique FROM article_versions"
                    " WHERE version_id IN (SELECT unnest(?::BIGINT[]))",
                    [batch],
                ).fetchall()
            con.executemany(
                "INSERT INTO docs (id, url, title, published, rubrique) VALUES (?, ?, ?, ?, ?)",
                [(version, urls[version], title, published.isoformat() if published else None,
                  rubrique) for version, title, _, _, published, rubrique in rows],
            )  # fmt: skip
            con.executemany(
                "INSERT INTO text (rowid, title, lead, body) VALUES (?, ?, ?, ?)",
                [(version, prepare_text(title), prepare_text(lead), prepare_text(body))
                 for version, title, lead, body, _, _ in rows],
            )  # fmt: skip
            yield start + len(batch)

    # -- search -------------------------------------------------------------------------

    def terms(self, prefix: str, limit: int = 200) -> list[str]:
        """The indexed words (as the tokeniser folds them) starting with ``prefix``, in
        order, at most ``limit``: for a caller that matches a word's other forms."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT term FROM terms WHERE term >= ? AND term < ? ORDER BY term LIMIT ?",
                [prefix, prefix + "\U0010ffff", limit],
            ).fetchall()
        return [term for (term,) in rows]

    def search(self, expression: str, k: int = 10) -> list[IndexedHit]:
        """The ``k`` articles that best match the FTS5 ``expression``, best first (ties
        in index order).

        Raises
        ------
        sqlite3.OperationalError
            When FTS5 cannot parse ``expression`` (the caller builds it).
        """
        with self._connect() as con:
            # The k best first, then a snippet for each of them only: snippet() in the
            # ranking query would be computed for every article that matches.
            best = con.execute(
                f"SELECT rowid, bm25(text, {', '.join(map(str, WEIGHTS))}) AS score"
                " FROM text WHERE text MATCH ? ORDER BY score, rowid LIMIT ?",
                [expression, k],
            ).fetchall()
            hits = []
            for doc_id, score in best:
                url, title, published, rubrique = con.execute(
                    "SELECT url, title, published, rubrique FROM docs WHERE id = ?", [doc_id]
                ).fetchone()
                (snippet,) = con.execute(
                    "SELECT snippet(text, -1, ?, ?, '…', ?) FROM text"
                    " WHERE text MATCH ? AND rowid = ?",
                    [MARK_START, MARK_END, SNIPPET_WORDS, expression, doc_id],
                ).fetchone()
                hits.append(
                    IndexedHit(
                        url=url,
                        title=title,
                        published=date.fromisoformat(published) if published else None,
                        rubrique=rubrique,
                        score=-score,  # bm25() is lower for better matches
                        snippet=_shown(snippet),
                    )
                )
        return hits


def keep_fresh(db: str | Path) -> IndexUpdate | None:
    """After a write to the archive (a crawl): bring its search index up to date, if it
    has one (the first search builds it). Never raises: a failure here leaves the index
    for the next search to update. None when there is no index or it could not be
    updated."""
    index = SearchIndex(db)
    if not index.exists():
        return None
    try:
        return index.update()
    except (WarehouseError, sqlite3.Error, OSError):
        return None
