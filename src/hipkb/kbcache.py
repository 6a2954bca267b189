"""A cache of loaded knowledge bases, so a cold ``hipkb`` run skips YAML, validation and code generation.

:func:`load` returns a KB's model and its compiled evaluator. The first time
it reads the YAML, builds and validates the model, generates and compiles
the evaluator, and stores the validated model's tables (every item, with
its source location, as plain values) and the evaluator's code object in
one file of the user cache directory. The next time, when the KB's files
are byte for byte the same, it rebuilds the model from those tables
(:meth:`~hipkb.model.KBModel.build` computes the indexes again) instead of
parsing, validating and compiling.

Where: ``$HIPKB_CACHE_DIR`` if set (set but empty: no cache), else
``$XDG_CACHE_HOME/hipkb``, else ``~/.cache/hipkb``; one file per KB
directory, replaced when the KB changes.

Key: a hash of the KB files' bytes, hipkb's version, the Python version and
the size and modification time of the modules that shape the entry (as
Python does for ``.pyc`` files): an edited KB, a new hipkb or another
Python never reads a stale entry. The entry also records the name the KB
was loaded under, since its items' locations are written with it.

Safety: the entry is marshal data (plain values and a code object), never
pickle. A code object runs when it is loaded, so an entry is read only
when no one else could have written it: the cache directory and the file
must belong to the current user and be writable by no one else (POSIX;
elsewhere there is no cache). An entry carries a hash of its own bytes
and is checked for shape before use: its items are made only from the
model's own classes, by their constructors, from plain values; the code
uses only the names the generated evaluator uses. Anything unexpected — a
truncated, corrupt or foreign file, a read-only or missing directory, a
KB with errors — means the KB is loaded from its YAML as if there were no
cache: never an error, never a different result.

>>> model, evaluator = load()
>>> model.states["ir_limited"].tested_by
'supine_hip_ir'
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .engines.compiled import CompiledEvaluator
from .errors import Location
from .kb import FILES, MANIFEST, bundled_kb_path, load_model
from .model import Address, Citation, Condition, Entity, Finding, KBModel, Link, Recommendation, Rule, Source, State, Threshold
from .record import fields
from .source import MAX_BYTES

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython always has it; hashlib costs ~3 ms to import
    from hashlib import blake2b

__all__ = ["load", "cache_directory", "entry_path", "clear", "FORMAT", "MAX_ENTRY_BYTES"]

#: Bumped whenever the layout of an entry changes.
FORMAT = 2
MAGIC = b"hipkb kb cache\n"
#: Entries larger than this are neither written nor read.
MAX_ENTRY_BYTES = 256 * 1024 * 1024
_DIGEST = 32
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
#: The modules whose code decides what an entry holds (reading, validating, building, generating).
_SHAPERS = ("kbcache", "source", "yaml_subset", "kb", "graphs", "model", "errors", "record", "engines.compiled", "version")
#: The tables of a model, as KBModel.build takes them.
_TABLES = ("sources", "entities", "states", "findings", "thresholds", "links", "rules", "recommendations")
#: The only classes an entry's items are made of, by position in this tuple.
_CLASSES = (Source, Entity, State, Finding, Threshold, Link, Rule, Condition, Recommendation, Address, Citation, Location)


def cache_directory() -> Path | None:
    """Where entries live (not created here), or None when caching is off."""
    env = os.environ.get("HIPKB_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "hipkb"
    home = os.path.expanduser("~")
    if not home or home == "~" or not os.path.isabs(home):
        return None
    return Path(home) / ".cache" / "hipkb"


def entry_path(path: str | Path | None = None) -> Path | None:
    """The cache file used for the KB directory ``path`` (default: the bundled KB), or None."""
    folder = cache_directory()
    if folder is None:
        return None
    return folder / _entry_name(_directory(path))


def clear() -> int:
    """Delete every cache entry hipkb wrote (files ``kb-*.cache`` in the cache directory); return how many."""
    folder = cache_directory()
    count = 0
    if folder is None or not folder.is_dir():
        return 0
    for entry in folder.glob("kb-*.cache"):
        try:
            entry.unlink()
            count += 1
        except OSError:
            pass
    return count


def load(path: str | Path | None = None, *, cache: bool = True) -> tuple[KBModel, CompiledEvaluator]:
    """The model of the KB directory ``path`` (default: the bundled KB) and its compiled evaluator.

    Equal to ``load_model(path)`` and ``CompiledEvaluator(model)``, from the
    cache when it holds this KB (see the module docstring). Raises
    :class:`~hipkb.errors.KBError` exactly as :func:`~hipkb.kb.load_model` does.
    """
    directory = _directory(path)
    shown = str(path) if path is not None else "kb"
    snapshot = _snapshot(directory) if cache else None
    if snapshot is None:
        model = load_model(path)
        return model, CompiledEvaluator(model)
    key = _key(snapshot)
    folder = _open_cache(cache_directory())
    name = _entry_name(directory)
    try:
        if folder is not None:
            found = _read_entry(folder, name, key, directory, shown)
            if found is not None:
                return found
        # A miss: the loader reads and checks the KB (raising its own error when it has one), then store it.
        model = load_model(path)
        evaluator = CompiledEvaluator(model)
        if folder is not None and _snapshot(directory) == snapshot:  # unchanged while we read it
            tables = _encode_tables(model)
            if tables is not None:
                entry = (FORMAT, key, shown, model.name, model.version, tables, evaluator.code, evaluator.firings)
                _write_entry(folder, name, entry)
        return model, evaluator
    finally:
        if folder is not None:
            os.close(folder)


# --------------------------------------------------------------------------
# The KB's files and the key


def _directory(path: str | Path | None) -> Path:
    return Path(path) if path is not None else bundled_kb_path()


def _entry_name(directory: Path) -> str:
    where = os.path.abspath(directory).encode("utf-8", "surrogateescape")
    return f"kb-{blake2b(where, digest_size=16).hexdigest()}.cache"


def _snapshot(directory: Path) -> dict[str, bytes] | None:
    """The bytes of every KB file, or None when anything is unusual (the loader then reports it)."""
    try:
        names = os.listdir(directory)
    except (OSError, ValueError, TypeError):
        return None
    present = set(names)
    if any(_is_yaml(n) and n not in FILES and n != MANIFEST for n in names):
        return None  # an unexpected file: an error the loader names
    out: dict[str, bytes] = {}
    for file in (*FILES, MANIFEST):
        if file not in present:
            if file == MANIFEST:
                continue
            return None
        raw = _read_small(directory / file)
        if raw is None:
            return None
        out[file] = raw
    return out


def _is_yaml(name: str) -> bool:
    # what the loader's glob("*.y*ml") matches
    stem, dot, suffix = name.rpartition(".")
    return bool(dot) and suffix.startswith("y") and suffix.endswith("ml")


def _read_small(file: Path) -> bytes | None:
    """A regular file's bytes, if it is one and no larger than the loader accepts."""
    try:
        fd = os.open(file, _READ_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BYTES:
                return None
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _key(snapshot: dict[str, bytes]) -> str:
    from .version import __version__ as version

    h = blake2b(digest_size=32)
    h.update(f"{FORMAT}\0{version}\0{sys.version}\0{sys.implementation.cache_tag}\0{marshal.version}\0".encode())
    package = Path(__file__).resolve().parent
    for module in _SHAPERS:
        try:
            info = os.stat(package / (module.replace(".", os.sep) + ".py"))
            h.update(f"{module}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
        except OSError:
            h.update(f"{module}\0?\0".encode())
    for file in sorted(snapshot):
        raw = snapshot[file]
        h.update(f"{file}\0{len(raw)}\0".encode())
        h.update(raw)
    return h.hexdigest()


# --------------------------------------------------------------------------
# The cache directory and its entries


def _trusted(info: os.stat_result) -> bool:
    """Belongs to this user and no one else can write it."""
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _open_cache(folder: Path | None) -> int | None:
    """A descriptor of the cache directory when it can be trusted and used, else None."""
    if folder is None or not hasattr(os, "geteuid") or os.open not in os.supports_dir_fd:
        return None
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(folder, _DIR_FLAGS)
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode) and _trusted(info) and os.access(folder, os.W_OK | os.X_OK):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _read_entry(folder: int, name: str, key: str, directory: Path, shown: str) -> tuple[KBModel, CompiledEvaluator] | None:
    """The model and evaluator from a valid entry for ``key``, else None (and a bad entry is removed)."""
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=folder)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _trusted(info) or info.st_size > MAX_ENTRY_BYTES + 100:
            return None  # not ours to trust, nor ours to delete
        os.set_blocking(fd, True)
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_ENTRY_BYTES + 101)
    except OSError:
        return None
    finally:
        os.close(fd)
    found = None
    try:
        found = _decode(raw, key, directory, shown)
    except Exception:  # noqa: BLE001  (a damaged entry is a miss, whatever it holds)
        found = None
    if found is None:
        _remove(folder, name)
    return found if found is not None and found is not _STALE else None


_STALE: Any = object()


def _decode(raw: bytes, key: str, directory: Path, shown: str) -> Any:
    """What an entry holds, if it is whole, for this key, and of the right shape; _STALE for another key."""
    header = len(MAGIC) + 2 * _DIGEST + 1
    if len(raw) < header or not raw.startswith(MAGIC) or raw[header - 1: header] != b"\n":
        return None
    digest, payload = raw[len(MAGIC): header - 1], raw[header:]
    if blake2b(payload, digest_size=_DIGEST).hexdigest().encode() != digest:
        return None
    entry = marshal.loads(payload)
    if type(entry) is not tuple or len(entry) != 8 or entry[0] != FORMAT:
        return None
    _, entry_key, entry_shown, name, version, tables, code, firings = entry
    if entry_key != key or entry_shown != shown:
        return _STALE
    if type(name) is not str or type(version) is not str or type(firings) is not tuple:
        return None
    model = KBModel.build(name, version, str(directory), _decode_tables(tables))
    return model, CompiledEvaluator.from_code(model, code, firings)


_SCALARS = (str, int, float, bool, type(None))
_CLASS_INDEX = {cls: i for i, cls in enumerate(_CLASSES)}
#: How deep items nest (a recommendation's call's condition's option is 5); deeper is a damaged entry.
_MAX_NESTING = 32


class _NotEncodable(Exception):
    """A value an entry cannot hold; the entry is then not written."""


def _encode_tables(model: KBModel) -> dict[str, dict[str, Any]] | None:
    """The model's tables as plain values (marshal's), or None if something in them is not the model's own."""
    try:
        return {table: {item_id: _encode_item(item, 0) for item_id, item in getattr(model, table).items()} for table in _TABLES}
    except _NotEncodable:
        return None


def _encode_item(value: Any, depth: int) -> Any:
    """A record as [class number, field values...], a read-only mapping as a dict, a tuple as a tuple."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if depth > _MAX_NESTING:
        raise _NotEncodable
    if kind is tuple:
        return tuple(_encode_item(item, depth + 1) for item in value)
    if kind is MappingProxyType:
        if any(type(k) is not str for k in value):
            raise _NotEncodable
        return {k: _encode_item(v, depth + 1) for k, v in value.items()}
    index = _CLASS_INDEX.get(kind)
    if index is None or any(not f.init for f in fields(value)):
        raise _NotEncodable
    return [index, *(_encode_item(getattr(value, f.name), depth + 1) for f in fields(value))]


def _decode_tables(tables: Any) -> dict[str, dict[str, Any]]:
    """The tables :func:`_encode_tables` wrote; raises (TypeError, ValueError...) on anything else."""
    if type(tables) is not dict or tuple(tables) != _TABLES:
        raise ValueError("not the model's tables")
    out: dict[str, dict[str, Any]] = {}
    for table, items in tables.items():
        if type(items) is not dict:
            raise ValueError("not a table")
        out[table] = {item_id: _decode_item(item, 0) for item_id, item in items.items() if type(item_id) is str}
        if len(out[table]) != len(items):
            raise ValueError("an id that is not text")
    return out


def _decode_item(value: Any, depth: int) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if depth > _MAX_NESTING:
        raise ValueError("nested too deeply")
    if kind is list:
        if not value or type(value[0]) is not int or not 0 <= value[0] < len(_CLASSES):
            raise ValueError("not an item")
        return _CLASSES[value[0]](*[_decode_item(item, depth + 1) for item in value[1:]])
    if kind is tuple:
        return tuple(_decode_item(item, depth + 1) for item in value)
    if kind is dict:
        if any(type(k) is not str for k in value):
            raise ValueError("a key that is not text")
        return MappingProxyType({k: _decode_item(v, depth + 1) for k, v in value.items()})
    raise ValueError(f"unexpected {kind.__name__} in an entry")


def _write_entry(folder: int, name: str, entry: tuple[Any, ...]) -> None:
    """Write an entry atomically (a private temporary file renamed over the old one); failures are ignored."""
    try:
        payload = marshal.dumps(entry)
    except ValueError:  # pragma: no cover - every value in an entry is marshallable
        return
    if len(payload) > MAX_ENTRY_BYTES:
        return
    data = MAGIC + blake2b(payload, digest_size=_DIGEST).hexdigest().encode() + b"\n" + payload
    temp = f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(temp, flags, 0o600, dir_fd=folder)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        _remove(folder, temp)


def _remove(folder: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=folder)
    except OSError:
        pass
