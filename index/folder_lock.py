"""One writer at a time on a data folder, readers that notice every write.

Chroma's embedded ``PersistentClient`` is safe for threads, not for processes: two processes
writing one folder lost the vectors of 1,160 of 7,300 chunks (issue 14: ``citeqa index a & citeqa
index b``), and a process that opened the folder before another one wrote keeps a stale vector
index in memory ("Error finding id" on every query until restarted). Measured with chromadb 1.5.9:
two sequential writers in separate processes lose nothing, and a stale reader that reopens its
client (0.02 s) sees every write.

So every store operation runs under an ``flock`` on ``<home>/store.lock``: shared for reading,
exclusive for writing. A writer stamps ``<home>/store.generation`` with a fresh token before it
releases the lock; an operation that finds a token it has not seen reopens its client first.
The kernel drops a lock when its process dies, ``kill -9`` included, so a crashed writer never
blocks the folder. The same lock serialises citeqa's own commit protocol (chunks first, manifest
record last, ``repair()``) when the store is a Chroma server shared by processes on one folder.
"""

from __future__ import annotations

import fcntl
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["FolderLock", "flocked", "nobody_holds"]


@contextmanager
def flocked(path: Path, mode: int) -> Iterator[int]:
    """``path`` opened (created if need be) and held with ``flock(mode)`` until the block ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        os.close(fd)


def nobody_holds(path: Path) -> bool:
    """True when no process holds any ``flock`` on ``path`` (checked by taking it, and letting go)."""
    try:
        with flocked(path, fcntl.LOCK_EX | fcntl.LOCK_NB):
            return True
    except BlockingIOError:
        return False


class FolderLock:
    """A reader/writer lock across processes (``flock``) and across threads of one process.

    ``flock`` locks belong to an open file, which the threads of a process share, so threads are
    serialised by a re-entrant lock first; nested use keeps the outermost mode, and asking to write
    inside a read is a programming error.
    """

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.path = self.home / "store.lock"
        self.generation_path = self.home / "store.generation"
        self._threads = threading.RLock()
        self._fd: int | None = None
        self._depth = 0
        self._exclusive = False
        self.stamped = ""
        """The token this process wrote last."""

    @contextmanager
    def reading(self) -> Iterator[bool]:
        """Hold the folder for reading; yields True for the outermost holder of this thread."""
        with self._hold(exclusive=False) as outermost:
            yield outermost

    @contextmanager
    def writing(self) -> Iterator[bool]:
        """Hold the folder alone; the generation is stamped anew when the outermost writer leaves."""
        with self._hold(exclusive=True) as outermost:
            try:
                yield outermost
            finally:
                if outermost:  # a write that failed part-way may still have changed the files
                    self._stamp()

    @contextmanager
    def indexing_run(self, repair: Callable[[], int]) -> Iterator[int]:
        """Held by every indexing run for its whole length (a shared lock on ``indexing.lock``).

        ``repair`` (removing chunks that were never committed) runs only when no other run is
        going: a long article is written a window at a time and committed last, so another run's
        uncommitted chunks may be work in progress, not debris. Yields how many articles
        ``repair`` removed (0 when it could not run)."""
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.home / "indexing.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            repaired = 0
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                repaired = repair()
            except BlockingIOError:
                pass  # another run is going: leave its chunks alone, a later run repairs
            fcntl.flock(fd, fcntl.LOCK_SH)
            yield repaired
        finally:
            os.close(fd)

    @contextmanager
    def opening(self) -> Iterator[None]:
        """One process at a time opens the database: the first open of a new folder creates its
        tables, and two processes doing that at once failed ("table collections already exists",
        seen in CI with two `citeqa index` started together on a fresh folder)."""
        with flocked(self.home / "open.lock", fcntl.LOCK_EX):
            yield

    def generation(self) -> str:
        """The token of the last write to this folder ("" before the first one)."""
        try:
            return self.generation_path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return ""

    @contextmanager
    def _hold(self, exclusive: bool) -> Iterator[bool]:
        with self._threads:
            outermost = self._depth == 0
            if outermost:
                self._acquire(exclusive)
            elif exclusive and not self._exclusive:
                raise RuntimeError("a store write cannot start inside a store read")
            self._depth += 1
            try:
                yield outermost
            finally:
                self._depth -= 1
                if outermost:
                    self._release()

    def _acquire(self, exclusive: bool) -> None:
        if self._fd is None:
            self.home.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        self._exclusive = exclusive

    def _release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._exclusive = False

    def _stamp(self) -> None:
        token = uuid.uuid4().hex
        staging = self.generation_path.with_name(f"{self.generation_path.name}.{token}")
        staging.write_text(token, encoding="ascii")
        os.replace(staging, self.generation_path)
        self.stamped = token
