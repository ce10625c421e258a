"""File access: atomic writes (a reader sees the old file or the new one, never half of one),
and reads that fail with our French error instead of an OSError."""

from __future__ import annotations

import io
import os
import stat
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
    fsynced and renamed at the end): on any error, Ctrl-C included, `path` is left as it was
    and the temporary file removed. What the system refuses (a read-only folder, a full disk,
    `path` being a folder) is a BudgetError naming `path`, and so is a `path` that exists
    but is no regular file: renaming onto `/dev/null` or a named pipe would replace it.

    The file gets the permissions a new file gets (0666 less the umask; `mkstemp`'s 0600
    made converted CSVs unreadable to the web server publishing them), or those of the file
    it replaces."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = _replaced_mode(path)
        tmp = path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)  # the umask applies
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                with writing(path):
                    tmp.chmod(mode)
            yield handle
            with writing(path):
                handle.flush()
                os.fsync(handle.fileno())
        with writing(path):
            tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _replaced_mode(path: Path) -> int | None:
    """The permissions of the regular file `path` replaces (None if there is none), or a
    BudgetError if `path` is something else (a device, a pipe, a socket)."""
    try:
        found = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISREG(found.st_mode):
        return stat.S_IMODE(found.st_mode)
    raise BudgetError("ce chemin n'est pas un fichier ordinaire (un périphérique, un tube, un "
                      "lien…) : l'écrire le remplacerait.", source=str(path),
                      hint="Donnez le chemin d'un fichier, nouveau ou existant.")


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError raised inside the block into a BudgetError naming `path`, the file
    being written."""
    try:
        yield
    except OSError as exc:
        raise BudgetError(f"écriture impossible ({exc.strerror or exc}).", source=str(path),
                          hint="Vérifiez que le dossier existe et accepte l'écriture, que ce "
                               "chemin n'est pas un dossier et qu'il reste de la place sur le "
                               "disque.") from exc


def output_path(output: Path, read: Path) -> Path:
    """`output` if a command may write it (atomically, through `atomic_writer`), else a
    BudgetError saying why: its folder is missing (a typing error would otherwise create a
    tree of folders), it is a folder, or it is the very file the command reads (`read`),
    which the command would replace by its result. Returns the path to write: a link's
    target."""
    with writing(output):  # a name too long, a loop of links...
        if output.is_dir():
            raise BudgetError("ce chemin de sortie est un dossier.", source=str(output),
                              hint="Indiquez un nom de fichier dans ce dossier (-o).")
        if not output.parent.is_dir():
            what = "est un fichier, pas un dossier" if output.parent.exists() else "n'existe pas"
            raise BudgetError(f"le dossier « {output.parent} » {what}.", source=str(output),
                              hint="Créez le dossier d'abord, ou choisissez-en un qui existe "
                                   "(-o).")
        if output.exists() and read.exists() and output.samefile(read):
            raise BudgetError("le fichier de sortie est le fichier lu : il serait remplacé.",
                              source=str(output),
                              hint="Choisissez un autre chemin de sortie (-o).")
        # A link to a file is written through (its target replaced, the link kept); a link to
        # anything else is refused by atomic_writer, as the thing itself would be.
        return output.resolve() if output.is_symlink() else output


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
