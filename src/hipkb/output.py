"""Write output files atomically: a failed run never leaves a half-written file.

The data goes to a new temporary file beside the target, is flushed to
disk, and then renamed over the target in one step, so readers see the old
file or the new one, never a mix, and a failure (disk full, interrupt)
leaves the old file as it was and no temporary file behind. Nothing is
written anywhere but the named file (and its temporary sibling), and never
inside hipkb's own files (the package and its bundled KB), whoever asks.

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

import errno
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Iterable

from .errors import InputError

__all__ = ["write_atomic", "protected_roots"]

_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_STREAM_FLAGS = (
    os.O_WRONLY | os.O_APPEND | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)
_FIFO_FLAGS = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

#: Names of a stream: written in place, never renamed over.
_STREAM_NAME = re.compile(r"/dev/(?:stdout|stderr|null|fd/\d+)|/proc/(?:self|thread-self|\d+)/fd/\d+")
#: The streams that are this process's own file descriptors, and which one (longer numbers are opened by name).
_OWN_FD = re.compile(r"/dev/(?:std(?P<std>out|err)|fd/(?P<dev>\d{1,9}))|/proc/(?:self|thread-self)/fd/(?P<proc>\d{1,9})")

_KINDS = (
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def write_atomic(path: str | Path, data: bytes, *, keep: Iterable[str | Path] = ()) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory, then rename.

    - ``keep``: files that must not be overwritten (a command's inputs); naming
      one of them (or a hard link to one) as the output is an :class:`~hipkb.errors.InputError`.
    - Nothing inside hipkb's own files (:func:`protected_roots`) is ever written.
    - A symbolic link is followed: the file it points to is replaced, the link stays.
    - A stream (``/dev/stdout``, ``/dev/fd/3``, ``/dev/null``) or a FIFO is
      written directly: it cannot be renamed over. A closed pipe raises
      :class:`BrokenPipeError`; any other failure (a full disk) an InputError.
    - A socket or device is refused, as is a directory.
    - An existing file keeps its permissions; a read-only one is not overwritten.
    """
    shown = str(path)
    target = Path(path)
    if _is_stream_path(target):
        _write_stream(target, data, shown)
        return
    target, info = _follow(target, shown)
    _refuse_protected(target, info, shown)
    _refuse_kept(target, info, keep, shown)
    if info is not None and stat.S_ISFIFO(info.st_mode):
        _write_fifo(target, data, shown)
        return
    _require_writable_file(target, info, shown)
    _replace(target, data, info, shown)


def protected_roots() -> tuple[Path, ...]:
    """The directories hipkb never writes into: its package, and a source checkout's ``kb/``."""
    package = Path(__file__).resolve().parent
    roots = [package]
    if package.parent.name == "src" and (package.parent.parent / "kb").is_dir():
        roots.append((package.parent.parent / "kb").resolve())
    return tuple(roots)


def _follow(target: Path, shown: str) -> tuple[Path, os.stat_result | None]:
    """The real path of ``target`` (links resolved) and its status, or None when it does not exist."""
    try:
        real = Path(os.path.realpath(target))
        info = real.stat() if real.exists() else None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot write: {getattr(exc, 'strerror', None) or exc}", path=shown) from None
    return real, info


def _refuse_protected(target: Path, info: os.stat_result | None, shown: str) -> None:
    """Refuse a target inside :func:`protected_roots`, or a hard link to a file there."""
    roots = protected_roots()
    inside = any(target == root or root in target.parents for root in roots)
    if inside or (info is not None and info.st_nlink > 1 and _linked_into(info, roots)):
        raise InputError("refusing to write inside hipkb's own files", path=shown, hint="name a file elsewhere")


def _linked_into(info: os.stat_result, roots: Iterable[Path]) -> bool:
    """Whether a file under ``roots`` is the same inode as ``info`` (a hard link)."""
    for root in roots:
        try:
            if root.stat().st_dev != info.st_dev:
                continue  # hard links never cross file systems
        except OSError:
            continue
        for folder, _dirs, files in os.walk(root):
            for name in files:
                try:
                    other = os.lstat(os.path.join(folder, name))
                except OSError:
                    continue
                if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
                    return True
    return False


def _refuse_kept(target: Path, info: os.stat_result | None, keep: Iterable[str | Path], shown: str) -> None:
    """Refuse a target that is one of ``keep`` (by name, symbolic or hard link)."""
    if info is None:
        return
    for other in keep:
        try:
            same = os.path.samefile(target, other)  # same st_dev and st_ino
        except (OSError, ValueError):
            same = False
        if same:
            raise InputError("refusing to overwrite an input file", path=shown, hint="name another output file")


def _require_writable_file(target: Path, info: os.stat_result | None, shown: str) -> None:
    """Refuse a directory, socket or device, a read-only file, or a missing directory."""
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError("is a directory; name a file to write", path=shown)
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "a special file")
        raise InputError(f"not a regular file ({kind})", path=shown)
    if info is not None and not os.access(target, os.W_OK):
        raise InputError("cannot write: the file is read-only", path=shown)
    if not target.parent.is_dir():
        raise InputError("cannot write: the directory does not exist", path=shown)


def _replace(target: Path, data: bytes, info: os.stat_result | None, shown: str) -> None:
    """Write a temporary file beside ``target``, sync it, and rename it over ``target``."""
    directory = target.parent
    tmp, fd = _create_temporary(directory, shown)
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


def _create_temporary(directory: Path, shown: str) -> tuple[Path, int]:
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
    """``/dev/stdout``, ``/dev/fd/3``, ``/proc/self/fd/1``, ``/dev/null``: a stream, even when it leads to a file.

    Renaming over the file behind such a link would detach it from the
    process writing to it (a shell's ``> log``), so these are written in place.
    Other paths under ``/dev`` or ``/proc`` are judged by what they are.
    """
    try:
        return _STREAM_NAME.fullmatch(os.path.abspath(target)) is not None
    except (TypeError, ValueError):
        return False


def _own_fd(target: Path) -> int | None:
    """The file descriptor ``target`` names in this process (``/dev/stdout`` is 1), else None."""
    found = _OWN_FD.fullmatch(os.path.abspath(target))
    if found is None:
        return None
    if found["std"]:
        return 1 if found["std"] == "out" else 2
    return int(found["dev"] or found["proc"])  # at most 9 digits: always a C int


def _write_stream(target: Path, data: bytes, shown: str) -> None:
    """Write to a stream in place: this process's own descriptor directly, anything else opened without blocking."""
    fd = _own_fd(target)
    try:
        if fd is not None:
            _write_all(fd, data)
            return
        opened = os.open(target, _STREAM_FLAGS)  # append: never truncate what a shell redirected there
        try:
            os.set_blocking(opened, True)
            _write_all(opened, data)
        finally:
            os.close(opened)
    except BrokenPipeError:
        raise  # the reader has gone: the caller decides (a CLI exits quietly)
    except OSError as exc:
        raise InputError(f"cannot write: {_stream_problem(exc)}", path=shown) from None


def _stream_problem(exc: OSError) -> str:
    """A short reason for a failed stream write."""
    if exc.errno == errno.EBADF:
        return "it is not open for writing"
    if exc.errno == errno.ENXIO:
        return "nothing is reading it"
    return exc.strerror or str(exc)


def _write_fifo(target: Path, data: bytes, shown: str) -> None:
    """Write into a FIFO the user named; like any writer, wait for its reader to open it."""
    try:
        fd = os.open(target, _FIFO_FLAGS)
        try:
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):  # replaced since it was looked at
                raise InputError("cannot write: the file changed while it was opened", path=shown)
            _write_all(fd, data)
        finally:
            os.close(fd)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise InputError(f"cannot write: {_stream_problem(exc)}", path=shown) from None


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a pipe may take them in parts)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


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
