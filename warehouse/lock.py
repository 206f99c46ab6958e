"""One crawl or refresh at a time per archive: an exclusive lock file beside it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from warehouse.database import WarehouseError


class LockHeld(WarehouseError):
    """Another process is crawling or refreshing this archive."""


def lock_path_for(db: str | Path) -> Path:
    db = Path(db)
    return db.with_name(db.name + ".lock")


class ArchiveLock:
    """An exclusive, non-blocking lock on ``<db>.lock``.

    The operating system drops it when the holder exits, even by SIGKILL, so a killed
    run never leaves a stale lock behind. The file holds the holder's process id. Within
    one process the lock is re-entrant: a refresh holds it, and the crawl it runs takes
    it again.
    """

    _held: dict[Path, int] = {}  # lock file -> how many holders in this process

    def __init__(self, db: str | Path) -> None:
        self.path = lock_path_for(db).resolve()
        self._fd: int | None = None
        self._reentered = False

    def acquire(self) -> ArchiveLock:
        if ArchiveLock._held.get(self.path):
            ArchiveLock._held[self.path] += 1
            self._reentered = True
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LockHeld(
                f"another crawl or refresh holds the lock {self.path} (pid {holder}); "
                "wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        ArchiveLock._held[self.path] = 1
        return self

    def release(self) -> None:
        if self._reentered:
            ArchiveLock._held[self.path] -= 1
            self._reentered = False
            return
        if self._fd is not None:
            ArchiveLock._held.pop(self.path, None)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ArchiveLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def lock_holder(db: str | Path) -> int | None:
    """The process id of the crawl or refresh that holds ``db``'s lock now (None: none
    does, or this process does). Asked without taking the lock: a probe that took it,
    even for a moment, could make a starting crawl find it held."""
    path = lock_path_for(db)
    try:
        inode = path.stat().st_ino
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    if pid == os.getpid():
        return None
    try:
        locks = Path("/proc/locks").read_text()
    except OSError:  # not Linux: the process that last held it, if it still runs
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid
    for line in locks.splitlines():
        # "1: FLOCK  ADVISORY  WRITE 4242 fe:00:2146323 0 EOF" (waiters have "->" first)
        fields = line.split()
        if (
            len(fields) >= 6
            and (fields[1], fields[4]) == ("FLOCK", str(pid))
            and fields[5].rsplit(":", 1)[-1] == str(inode)
        ):
            return pid
    return None
