"""File access: atomic writes (a reader sees the old file or the new one, never half of one),
and reads that fail with our French error instead of an OSError."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from budget_core.errors import BudgetError, FormatError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, fsync, rename."""
    with atomic_writer(path) as handle:
        handle.write(data)


@contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A file to write `path` through as it is produced (a temporary file in the same folder,
    fsynced and renamed at the end): on any error, `path` is left as it was."""
    import tempfile  # with random, 1.5 ms to load: only for what writes

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def reading(name: str) -> Iterator[None]:
    """Turn an OSError raised inside the block (missing file, no permission, a folder, a
    disk error mid-stream) into a FormatError naming the file `name`."""
    try:
        yield
    except OSError as exc:
        raise FormatError(f"lecture impossible ({exc.strerror or exc}).", source=name,
                          hint="Vérifiez le chemin et les droits du fichier.") from exc


def read_file(path: Path, name: str | None = None) -> bytes:
    """The whole file, or a FormatError naming it (`name`, default its file name)."""
    with reading(name or path.name):
        return path.read_bytes()


Opener = Callable[[], BinaryIO]  # opens bytes afresh, from their start, for one more pass


def bytes_opener(data: bytes) -> Opener:
    """An opener over bytes already in memory (BytesIO shares them: no copy)."""
    return lambda: io.BytesIO(data)


def file_opener(path: Path) -> Opener:
    """An opener over a file (read it inside `reading(name)` for French errors)."""
    return lambda: path.open("rb")


@contextmanager
def held_lock(path: Path, timeout: float, busy: BudgetError) -> Iterator[None]:
    """An OS lock on `path` held for the block, or `busy` raised when it is not free within
    `timeout` seconds. `filelock` takes flock on POSIX and msvcrt on Windows, released by the
    system if the process dies: a killed writer never leaves the lock taken."""
    # filelock (with logging, platform...) costs 15 ms to import: only what takes a lock pays
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise busy from exc
    try:
        yield
    finally:
        lock.release()
