"""Write output files atomically: a failed run never leaves a half-written file.

The data goes to a new temporary file beside the target, is flushed to
disk, and then renamed over the target in one step, so readers see the old
file or the new one, never a mix, and a failure (disk full, interrupt)
leaves the old file as it was and no temporary file behind. Nothing is
written anywhere but the named file (and its temporary sibling).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_atomic(folder / "out.txt", b"hello")
>>> (folder / "out.txt").read_bytes()
b'hello'
>>> (folder / "case.yaml").write_text("findings: {}")
12
>>> write_atomic(folder / "case.yaml", b"<svg/>", keep=[folder / "case.yaml"])
Traceback (most recent call last):
...
hipkb.errors.InputError: .../case.yaml: refusing to overwrite an input file (name another output file)
>>> sorted(p.name for p in folder.iterdir())
['case.yaml', 'out.txt']
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Iterable

from .errors import InputError

__all__ = ["write_atomic"]

_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def write_atomic(path: str | Path, data: bytes, *, keep: Iterable[str | Path] = ()) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory, then rename.

    - ``keep``: files that must not be overwritten (a command's inputs); naming
      one of them as the output is an :class:`~hipkb.errors.InputError`.
    - A symbolic link is followed: the file it points to is replaced, the link stays.
    - A device or pipe (``/dev/stdout``, a FIFO) is written directly: it cannot be renamed over.
    - An existing file keeps its permissions; a read-only one is not overwritten.
    """
    shown = str(path)
    target = Path(path)
    if _is_stream_path(target):
        _write_stream(target, data, shown)
        return
    try:
        if target.is_symlink():
            target = Path(os.path.realpath(target))
        info = target.stat() if target.exists() else None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot write: {getattr(exc, 'strerror', None) or exc}", path=shown) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError("is a directory; name a file to write", path=shown)
    for other in keep:
        try:
            same = info is not None and os.path.samefile(target, other)
        except (OSError, ValueError):
            same = False
        if same:
            raise InputError("refusing to overwrite an input file", path=shown, hint="name another output file")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_stream(target, data, shown)
        return
    if info is not None and not os.access(target, os.W_OK):
        raise InputError("cannot write: the file is read-only", path=shown)
    directory = target.parent
    if not directory.is_dir():
        raise InputError("cannot write: the directory does not exist", path=shown)
    tmp, fd = _create_temporary(directory, target.name, shown)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if info is not None:
            os.chmod(tmp, stat.S_IMODE(info.st_mode))
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise InputError(f"cannot write: {exc.strerror or exc}", path=shown) from None
        raise
    _sync_directory(directory)


def _create_temporary(directory: Path, name: str, shown: str) -> tuple[Path, int]:
    """A new, empty file in ``directory``; its mode follows the umask like any new file.

    Its name (``.hipkb-<12 hex digits>.tmp``, 23 characters) does not grow
    with the target's, so a target whose name is as long as the file system
    allows still gets a temporary sibling.
    """
    for _ in range(100):
        tmp = directory / f".hipkb-{secrets.token_hex(6)}.tmp"
        try:
            return tmp, os.open(tmp, _OPEN_FLAGS, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror or exc}", path=shown) from None
    raise InputError("cannot write: no free temporary file name", path=shown)  # pragma: no cover


def _is_stream_path(target: Path) -> bool:
    """``/dev/stdout``, ``/dev/fd/3``, ``/proc/self/fd/1``: a stream, even when it leads to a file.

    Renaming over the file behind such a link would detach it from the
    process writing to it (a shell's ``> log``), so these are written in place.
    """
    try:
        parts = Path(os.path.abspath(target)).parts
    except ValueError:
        return False
    return len(parts) > 2 and parts[1] in ("dev", "proc")


def _write_stream(target: Path, data: bytes, shown: str) -> None:
    try:
        with open(target, "ab") as handle:  # never truncate what a shell redirected there
            handle.write(data)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path=shown) from None


def _sync_directory(directory: Path) -> None:
    # Make the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
