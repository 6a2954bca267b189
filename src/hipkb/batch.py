"""Assess many cases — a cohort — in input order, here or in worker processes.

:func:`assess_many` takes any iterable of cases (mappings, paths to YAML or
JSON case files, :class:`~hipkb.case.Case` objects, or :class:`TableRow`
rows of a CSV file from :func:`read_table`) and yields one
:class:`BatchItem` per input, in input order, as results become ready. It
reads its input lazily, a bounded number of cases ahead, so a generator
over a million records runs in constant memory. One bad case fails its
own item only, whatever the number of jobs.

With ``jobs > 1`` a pool of worker processes assesses chunks of cases. Each
worker gets the caller's KB once (its tables pickled, the compiled
evaluator as a code object) and sends back every result as its JSON text,
never as Python objects: the calling process only strings results
together, so its garbage collector has nothing to walk. Workers die with
their parent (Linux: ``PR_SET_PDEATHSIG``), ignore Ctrl-C (the caller
handles it), and are stopped when the iteration stops early.

>>> items = list(assess_many([
...     {"findings": {"supine_hip_ir": {"left": 12}}},
...     {"findings": {"supine_hip_ir": 12}},
... ]))
>>> [(item.index, item.ok) for item in items]
[(0, True), (1, False)]
>>> items[0].result.holds("ir_limited", "left")
True
>>> type(items[1].error).__name__
'CaseError'
>>> json.loads(items[0].json)["conclusions"][0]["id"]
'ir_limited'

Also here: CSV in and out for spreadsheets (:func:`read_table`,
:func:`table_header`, :func:`table_lines`), a seeded generator of valid
cases (:func:`sample_cases`) and :func:`verify_engines`, which runs the
compiled evaluator and the experta engine over many cases and lists where
their JSON differs.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import pickle
import random
import re
from collections import deque
from collections.abc import Sized
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterable, Iterator, Mapping, Sequence, cast

from .errors import CaseError, HipkbError, InputError, suggest
from .record import field, fields, record, replace

if TYPE_CHECKING:
    from .case import Case
    from .engines import EngineName
    from .infer import KnowledgeBase
    from .result import Result

__all__ = [
    "BatchItem",
    "TableRow",
    "Mismatch",
    "assess_many",
    "read_table",
    "table_header",
    "table_lines",
    "sample_cases",
    "verify_engines",
    "MAX_CHUNK",
]

#: Most cases sent to a worker at once: enough to amortise the round trip,
#: few enough to balance the load and keep results flowing.
MAX_CHUNK = 64
#: Chunks in flight per worker (how far ahead the input is read).
AHEAD = 3

_DUMPS = json.JSONEncoder(ensure_ascii=False).encode


# --------------------------------------------------------------------------
# Items


@record(eq=False)
class BatchItem:
    """The outcome of one input of a batch: a result, or the error that stopped it.

    ``source`` names the input: the file path, ``FILE:LINE`` for a CSV
    row, or ``<case N>``. ``text`` is what the ``render`` function given to
    :func:`assess_many` made of the result (None without one).

    The result is available three ways, each computed at most once:
    ``json`` (its JSON text, ``Result.to_dict()`` encoded), ``to_dict()``
    (the whole item, a fresh dict each call) and ``result`` (the
    :class:`~hipkb.result.Result`). With ``jobs=1`` the Result is what
    was computed; with ``jobs > 1`` the worker sent the JSON and ``result``
    assesses the case again here, on first use (the same engine, KB and
    overrides, so the same Result): for speed over a large cohort, read
    ``json`` or ``text``.
    """

    index: int
    source: str
    error: HipkbError | None = None
    text: str | None = None
    _json: str | None = field(default=None, repr=False)
    _result: Result | None = field(default=None, repr=False)
    #: (kb, case as plain tuples, thresholds, mdc, engine): how to rebuild the Result here
    _rebuild: tuple[Any, ...] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True when the case was assessed."""
        return self.error is None

    @property
    def result(self) -> Result | None:
        """The :class:`~hipkb.result.Result` (None when the case failed)."""
        if self.error is not None:
            return None
        if self._result is None and self._rebuild is not None:
            kb, wire, thresholds, mdc, engine = self._rebuild
            object.__setattr__(self, "_result", kb.assess(_case_from_wire(wire), thresholds=thresholds, mdc=mdc, engine=engine))
        return self._result

    @property
    def json(self) -> str | None:
        """The result's JSON text (``Result.to_dict()``, not ASCII-escaped), or None when the case failed."""
        if self.error is not None:
            return None
        if self._json is None:
            result = self.result
            assert result is not None
            object.__setattr__(self, "_json", _DUMPS(result.to_dict()))
        return self._json

    def to_dict(self) -> dict[str, Any]:
        """One line of ``hipkb assess-many --format jsonl``, as a dict."""
        out: dict[str, Any] = {"index": self.index, "source": self.source, "ok": self.ok}
        if self.error is None:
            out["result"] = json.loads(self.json or "null")
        else:
            out["error"] = _error_dict(self.error)
        return out

    def to_json(self) -> str:
        """``to_dict()`` as JSON text, built without decoding the result again."""
        if self.error is not None:
            return _DUMPS(self.to_dict())
        head = _DUMPS({"index": self.index, "source": self.source, "ok": True})
        return f'{head[:-1]}, "result": {self.json}}}'


def _error_dict(error: HipkbError) -> dict[str, Any]:
    loc = error.location
    return {
        "type": type(error).__name__,
        "message": error.message,
        "hint": error.hint,
        "file": None if loc is None else loc.path,
        "line": None if loc is None else loc.line,
        "column": None if loc is None else loc.column,
        "text": str(error),
    }


# --------------------------------------------------------------------------
# The API


def assess_many(
    cases: Iterable[Any],
    *,
    kb: KnowledgeBase | None = None,
    jobs: int = 1,
    thresholds: Mapping[str, float] | None = None,
    mdc: Mapping[str, float] | None = None,
    engine: EngineName = "compiled",
    render: Callable[[Result], str] | None = None,
) -> Generator[BatchItem, None, None]:
    """Assess every case; yield one :class:`BatchItem` per input, in input order.

    ``cases``: any iterable (a list, a generator, rows of :func:`read_table`),
    read lazily. ``jobs``: worker processes (``1``: here, no processes;
    ``0``: one per available CPU). ``thresholds`` and ``mdc`` override the
    KB's and each case file's for every case; bad ones raise
    :class:`~hipkb.errors.InputError` at once, since no case could use them.
    ``render`` (optional; a module-level function when ``jobs > 1``) turns
    each Result into text where it was computed: ``BatchItem.text``.

    >>> [item.ok for item in assess_many([{"findings": {}}, {"findings": []}])]
    [True, False]
    """
    from .engines import ENGINES
    from .infer import prepare

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0:
        raise InputError(f"jobs must be a whole number of processes (0 for one per CPU), not {jobs!r}")
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}", hint=suggest(str(engine), ENGINES) or "engines: " + ", ".join(ENGINES))
    if kb is None:
        from .infer import load_kb

        kb = load_kb()
    t_over, m_over = dict(thresholds or {}), dict(mdc or {})
    _, t_checked, m_checked = prepare(kb, {"findings": {}}, t_over, m_over)  # validate once, before any work
    t_over = {k: t_checked[k] for k in t_over}
    m_over = {k: m_checked[k] for k in m_over}
    run = _Run(kb, t_over, m_over, engine, render)
    workers = jobs or _cpu_count()
    if workers == 1:
        return _serial(run, cases)
    return _parallel(run, cases, workers)


@record
class _Run:
    kb: Any
    thresholds: dict[str, float]
    mdc: dict[str, float]
    engine: str
    render: Callable[[Any], str] | None


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _source(index: int, case: Any) -> str:
    if isinstance(case, (str, Path)):
        return str(case)
    if isinstance(case, TableRow):
        return f"{case.path}:{case.line}"
    path = getattr(case, "path", None)
    return path if isinstance(path, str) else f"<case {index}>"


def _assess(run: _Run, case: Any) -> Result:
    if isinstance(case, TableRow):
        case = case.to_case(run.kb)
    result: Result = run.kb.assess(case, thresholds=run.thresholds, mdc=run.mdc, engine=run.engine)
    return result


def _guarded(action: Callable[[], Any]) -> tuple[Any, HipkbError | None]:
    try:
        return action(), None
    except HipkbError as exc:
        return None, exc
    except RecursionError:
        return None, HipkbError("internal error: the case nests too deeply")
    except Exception as exc:  # a bug must not take the other cases down with it
        return None, HipkbError(f"internal error: {type(exc).__name__}: {exc}")


def _one_here(run: _Run, index: int, case: Any) -> BatchItem:
    source = _source(index, case)
    result, error = _guarded(lambda: _assess(run, case))
    if error is not None:
        return BatchItem(index, source, error=error)
    render = run.render
    text, error = _guarded(lambda: render(result)) if render is not None else (None, None)
    if error is not None:
        return BatchItem(index, source, error=error)
    return BatchItem(index, source, text=text, _result=result)


def _serial(run: _Run, cases: Iterable[Any]) -> Generator[BatchItem, None, None]:
    for index, case in enumerate(cases):
        yield _one_here(run, index, case)


# --------------------------------------------------------------------------
# Worker processes


#: A case the parent could not send (it does not pickle): the parent assesses it itself.
_LOCAL = b""


def _parallel(run: _Run, cases: Iterable[Any], workers: int) -> Generator[BatchItem, None, None]:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    size = MAX_CHUNK
    if isinstance(cases, Sized):
        size = max(1, min(MAX_CHUNK, len(cases) // (workers * 8)))
    else:
        size = MAX_CHUNK // 2
    shipped = _ship(run)

    def start() -> Any:
        return ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_init_worker,
                                   initargs=(shipped, os.getpid()))

    pool = start()
    pending: deque[tuple[Any, list[_Entry]]] = deque()
    try:
        for chunk in _chunks(cases, size):
            pending.append((_submit(pool, chunk), chunk))
            while len(pending) >= workers * AHEAD:
                pool = yield from _finish(run, pool, pending, start, BrokenProcessPool)
        while pending:
            pool = yield from _finish(run, pool, pending, start, BrokenProcessPool)
    finally:
        for future, _ in pending:
            future.cancel()
        _stop(pool)


def _submit(pool: Any, chunk: list[_Entry]) -> Any:
    return pool.submit(_work, [(index, source, payload) for index, source, payload, _ in chunk])


def _finish(run: _Run, pool: Any, pending: deque[Any], start: Callable[[], Any],
            broken: type[BaseException]) -> Generator[BatchItem, None, Any]:
    """Yield the items of the oldest chunk; replace the pool if a worker died. Returns the pool in use."""
    future, chunk = pending.popleft()
    try:
        wires = future.result()
    except broken:
        # A worker died (killed, out of memory): this chunk fails; the others go to a new pool.
        _stop(pool)
        pool = start()
        for n, (_, waiting) in enumerate(pending):
            pending[n] = (_submit(pool, waiting), waiting)
        for index, source, _, _ in chunk:
            yield BatchItem(index, source, error=HipkbError("internal error: the worker process assessing this case stopped"))
        return pool
    for (index, source, payload, original), wire in zip(chunk, wires):
        if payload is _LOCAL:
            yield _one_here(run, index, original)
        else:
            yield _item_from_wire(run, index, source, wire)
    return pool


#: (index, source, the pickled case or _LOCAL, the case itself when it stays here)
_Entry = tuple[int, str, bytes, Any]


def _chunks(cases: Iterable[Any], size: int) -> Iterator[list[_Entry]]:
    """Entries, ``size`` at a time."""
    chunk: list[_Entry] = []
    for index, case in enumerate(cases):
        try:
            payload = _dumps(case)
            kept = None
        except Exception:  # noqa: BLE001  (anything pickle raises: this case is assessed here instead)
            payload, kept = _LOCAL, case
        chunk.append((index, _source(index, case), payload, kept))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _stop(pool: Any) -> None:
    """Stop a pool: pending chunks are cancelled, running ones finish (a chunk takes well under a second).

    Workers are never terminated from here: killing a worker while the
    executor's manager thread reads from it can leave that thread blocked
    for good, and the interpreter would hang at exit joining it. A broken
    pool (a worker already dead) shuts down at once.
    """
    pool.shutdown(wait=True, cancel_futures=True)


def _context() -> Any:
    """fork where it is safe (a POSIX parent with one thread: fast, nothing re-imported), else spawn."""
    import multiprocessing
    import threading

    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


# -- what travels between processes


def _proxy(items: dict[Any, Any]) -> Any:
    from types import MappingProxyType

    return MappingProxyType(items)


def _dumps(obj: Any) -> bytes:
    """Pickle with read-only mappings (the KB's tables, a Case's findings) as plain dicts."""
    from types import MappingProxyType

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {MappingProxyType: lambda m: (_proxy, (dict(m),))}
    pickler.dump(obj)
    return buffer.getvalue()


def _ship(run: _Run) -> bytes:
    """The KB (its tables, and its evaluator as a code object) and the run's settings, for the workers."""
    import marshal

    from .model import KBModel

    kb = run.kb
    model = KBModel(**{f.name: getattr(kb, f.name) for f in fields(KBModel)})
    evaluator = kb.engine("compiled")
    return _dumps((model, marshal.dumps(evaluator.code), evaluator.firings, run.thresholds, run.mdc, run.engine, run.render))


def _case_to_wire(case: Case) -> tuple[Any, ...]:
    return (tuple(case.findings.items()), tuple(case.given), tuple(case.thresholds.items()), case.subject, case.path,
            tuple(case.mdc.items()))


def _case_from_wire(wire: tuple[Any, ...]) -> Case:
    from .case import Case

    findings, given, thresholds, subject, path, mdc = wire
    return Case(dict(findings), tuple(given), dict(thresholds), subject, path, dict(mdc))


def _error_to_wire(error: HipkbError) -> tuple[Any, ...]:
    loc = error.location
    problems = getattr(error, "problems", ())
    nested = tuple(_error_to_wire(p) for p in problems) if len(problems) > 1 else ()
    return (type(error).__name__, error.message, error.hint, None if loc is None else loc.path,
            None if loc is None else loc.line, None if loc is None else loc.column, nested)


def _error_from_wire(wire: tuple[Any, ...]) -> HipkbError:
    from . import errors

    name, message, hint, path, line, column, nested = wire
    found = getattr(errors, name, None)
    cls: type[HipkbError] = found if isinstance(found, type) and issubclass(found, HipkbError) else HipkbError
    if nested and issubclass(cls, CaseError):
        # nested errors are the problems of a CaseError, themselves CaseErrors
        return cls.collect(cast("list[CaseError]", [_error_from_wire(w) for w in nested]))
    error = cls(message, path=path, line=line, column=column, hint=hint)
    if isinstance(error, CaseError):
        error.problems = (error,)
    return error


def _item_from_wire(run: _Run, index: int, source: str, wire: tuple[Any, ...]) -> BatchItem:
    kind = wire[0]
    if kind == "error":
        return BatchItem(index, source, error=_error_from_wire(wire[1]))
    _, text_json, text, case_wire = wire
    return BatchItem(index, source, text=text, _json=text_json,
                     _rebuild=(run.kb, case_wire, run.thresholds, run.mdc, run.engine))


# -- inside a worker process

#: This worker process's run (KB, overrides, engine, render), set once by _init_worker.
#: Only worker processes ever set it; the calling process never reads it.
_WORKER: dict[str, Any] = {}


def _init_worker(shipped: bytes, parent: int) -> None:
    import gc
    import marshal
    import signal

    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker may inherit a handler: stop means stop
    from .engines.compiled import CompiledEvaluator
    from .infer import KnowledgeBase

    model, code, firings, thresholds, mdc, engine, render = pickle.loads(shipped)
    kb = KnowledgeBase.from_model(model, CompiledEvaluator.from_code(model, marshal.loads(code), firings))
    _WORKER["run"] = _Run(kb, thresholds, mdc, engine, render)
    # Everything here so far (inherited from a forked parent, or loaded) lives as
    # long as the worker: keep the collector from walking it, and so from
    # copying every inherited page.
    gc.freeze()


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGTERM this process when its parent dies; exit now if it already has."""
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl: rely on the parent's cleanup
            pass
    if os.getppid() != parent:
        os._exit(1)


def _work(chunk: list[tuple[int, str, bytes]]) -> list[tuple[Any, ...]]:
    run: _Run = _WORKER["run"]
    render = run.render
    out: list[tuple[Any, ...]] = []
    for _index, _source_name, payload in chunk:
        if not payload:
            out.append(("local",))
            continue
        case, error = _guarded(lambda: _loads(payload))
        result = None
        if error is None:
            result, error = _guarded(lambda: _assess(run, case))
        text = None
        if error is None and render is not None:
            text, error = _guarded(lambda: render(result))
        if error is not None:
            out.append(("error", _error_to_wire(error)))
            continue
        assert result is not None
        out.append(("ok", None if run.render is not None else _DUMPS(result.to_dict()), text, _case_to_wire(result.case)))
    return out


def _loads(payload: bytes) -> Any:
    try:
        return pickle.loads(payload)  # noqa: S301  (written by our parent process a moment ago)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"this case could not be passed to a worker process ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------
# CSV in: one row per person


_DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_INTEGER = re.compile(r"[-+]?[0-9]+\Z")
_TRUE, _FALSE = frozenset({"true", "yes"}), frozenset({"false", "no"})
#: Longest cell accepted (a subject or a number).
MAX_CELL = 200
#: Largest CSV file read.
MAX_TABLE_BYTES = 512 * 1024 * 1024


@record
class TableRow:
    """One row of a cohort CSV file (:func:`read_table`): a case, read and checked when it is assessed.

    ``cells`` pairs each column name with the text in it; ``line`` is the
    row's first line in the file (the header is line 1).
    """

    path: str
    line: int
    cells: tuple[tuple[str, str], ...]
    width: int

    def to_case(self, kb: Any) -> Case:
        """The row as a validated :class:`~hipkb.case.Case`; errors name FILE:LINE and the column."""
        from .case import parse_case
        from .source import Document

        errors: list[CaseError] = []
        if len(self.cells) != self.width:
            errors.append(CaseError(f"expected {self.width} fields as in the header, found {len(self.cells)}",
                                    path=self.path, line=self.line))
        data: dict[str, Any] = {"findings": {}}
        marks: dict[tuple[Any, ...], tuple[int, int | None]] = {}
        names: dict[int, str] = {}
        for column, (name, raw) in enumerate(self.cells[: self.width], start=1):
            names[column] = name
            text = raw.strip()
            if name == "subject":
                data["subject"] = text or None
                marks[("subject",)] = (self.line, column)
                continue
            if not text:
                continue  # blank: not assessed
            try:
                value = _cell(text)
            except ValueError as exc:
                errors.append(CaseError(f"column {name!r}: {exc}", path=self.path, line=self.line))
                continue
            item, _, side = name.partition(".")
            if side:
                data["findings"].setdefault(item, {})[side] = value
                marks[("findings", item, side)] = (self.line, column)
            else:
                data["findings"][item] = value
            marks.setdefault(("findings", item), (self.line, column))
        try:
            case = parse_case(Document(data, self.path, marks), kb)  # type: ignore[arg-type]
        except CaseError as err:
            errors.extend(_named(p, names, self.path, self.line) for p in (err.problems or (err,)))
            case = None
        if errors:
            errors.sort(key=lambda e: 0 if "fields" in e.message else 1)
            raise CaseError.collect(errors)
        assert case is not None
        return replace(case, path=f"{self.path}:{self.line}")


def _named(error: CaseError, names: Mapping[int, str], path: str, line: int) -> CaseError:
    """A case error located FILE:LINE with its column's name in the message."""
    loc = error.location
    column = names.get(loc.column) if loc is not None and loc.column is not None else None
    message = f"column {column!r}: {error.message}" if column else error.message
    out = CaseError(message, path=path, line=line, hint=error.hint)
    out.problems = (out,)
    return out


def _cell(text: str) -> float | int | bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    if len(text) <= 64 and _DECIMAL.match(text):
        value = int(text) if _INTEGER.match(text) else float(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number")
        return value
    shown = text if len(text) <= 40 else text[:39] + "…"
    raise ValueError(f"expected a number, true, false or a blank cell, not {shown!r}")


def read_table(path: str | Path, *, kb: Any = None) -> Iterator[TableRow]:
    """The rows of a cohort CSV file, read lazily, one :class:`TableRow` (a case) per person.

    Columns: ``subject`` (optional), then one per finding or given state:
    ``ID.left`` / ``ID.right`` for what has sides (``supine_hip_ir.left``),
    ``ID`` for what has none (``rib_cage_side_bend``). A blank cell means
    not assessed; ``true`` / ``false`` and numbers as in a case file. A bad
    header raises :class:`~hipkb.errors.InputError` at once (FILE:1); a bad
    cell fails its row only, named FILE:LINE and column.

    >>> import tempfile, pathlib
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "cohort.csv"
    >>> _ = table.write_text("subject,supine_hip_ir.left,supine_hip_ir.right,hip_hike.left\\nann,12,40,true\\nbob,,,\\n")
    >>> [item.result.holds("ir_limited", "left") for item in assess_many(read_table(table))]
    [True, False]
    """
    if kb is None:
        from .infer import load_kb

        kb = load_kb()
    shown = str(path)
    handle = _open_table(Path(path), shown)
    with handle:
        reader = csv.reader(handle, strict=False)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise InputError(f"not a CSV file: {exc}", path=shown, line=1) from None
        if header is None:
            raise InputError("empty CSV file: expected a header row (subject, supine_hip_ir.left, ...)", path=shown)
        columns = _check_header([h.strip() for h in header], kb, shown)
        line = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(f"cannot read the CSV: {exc}", path=shown, line=reader.line_num) from None
            if any(cell.strip() for cell in row):
                cells = tuple(zip(columns, row)) + tuple(("", cell) for cell in row[len(columns):])
                yield TableRow(shown, line, cells, len(columns))
            line = reader.line_num + 1


def _open_table(path: Path, shown: str) -> Any:
    import stat

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputError("no such file", path=shown) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=shown) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError("not a regular file", path=shown)
        if info.st_size > MAX_TABLE_BYTES:
            raise InputError(f"larger than {MAX_TABLE_BYTES // (1024 * 1024)} MB", path=shown)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return io.open(fd, "r", encoding="utf-8-sig", errors="strict", newline="", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def _check_header(header: Sequence[str], kb: Any, shown: str) -> list[str]:
    seen: set[str] = set()
    known = [*kb.findings, *kb.states]
    for name in header:
        item, dot, side = name.partition(".")
        where: dict[str, Any] = {"path": shown, "line": 1}
        if name in seen:
            raise InputError(f"column {name!r} appears twice", **where)
        seen.add(name)
        if name == "subject":
            continue
        if not name:
            raise InputError("a column has no name", **where)
        if item not in kb.findings and item not in kb.states:
            hint = suggest(item, known, aliases=kb.aliases())
            raise InputError(f"unknown column {name!r}: not a finding or state", hint=hint, **where)
        sided = kb.is_sided(item)
        if sided and not dot:
            raise InputError(f"column {name!r}: {item!r} has sides", hint=f"use {item}.left and {item}.right", **where)
        if dot and not sided:
            raise InputError(f"column {name!r}: {item!r} belongs to no side", hint=f"use {item}", **where)
        if dot and side not in ("left", "right"):
            raise InputError(f"column {name!r}: unknown side {side!r}", hint=suggest(side, ("left", "right")) or "sides are left and right", **where)
    return list(header)


# --------------------------------------------------------------------------
# CSV out: one row per person and side


_FRONT = ("index", "source", "subject", "side", "ok", "error")


def table_header(kb: Any) -> list[str]:
    """Columns of ``hipkb assess-many --format csv``: who and which side, then every state and recommendation id.

    A cell holds the item's status on that side (``measured``, ``given``,
    ``indicated``, ``inferred``, ``predicted``), blank where it does not hold.
    """
    return [*_FRONT, *kb.states, *kb.recommendations]


def table_lines(result: Result) -> str:
    """CSV text for one result without the first two columns (index, source): one line per side.

    A line for the left and one for the right; a third, with a blank side,
    only when something holds with no side. Each line starts with
    subject, side, ``true`` and an empty error.
    """
    kb = result.kb
    columns = [*kb.states, *kb.recommendations]
    position = {item: n for n, item in enumerate(columns)}
    rows: dict[Any, list[str]] = {"left": [""] * len(columns), "right": [""] * len(columns)}
    items: list[Any] = [*result.conclusions, *result.recommendations]
    for item in items:
        rows.setdefault(item.side, [""] * len(columns))[position[item.id]] = item.status
    subject = result.case.subject or ""
    lines = [[subject, side or "", "true", "", *cells] for side, cells in rows.items()]
    return _csv(lines)


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def table_item(item: BatchItem, width: int) -> str:
    """The CSV lines of one batch item (``width`` = the number of columns of :func:`table_header`)."""
    from .sanitize import clean

    if item.ok:
        body = item.text if item.text is not None else table_lines(item.result)  # type: ignore[arg-type]
        head = _csv([[item.index, clean(item.source)]])[:-1]
        return "".join(f"{head},{line}\n" for line in body.splitlines())
    return _csv([[item.index, clean(item.source), "", "", "false", clean(str(item.error))] + [""] * (width - len(_FRONT))])


# --------------------------------------------------------------------------
# Generated cases, and the two engines compared


def sample_cases(kb: Any, count: int, *, seed: int = 0, always: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``count`` valid case mappings drawn at random from the KB's findings (same seed, same cases).

    Each finding is recorded with probability 0.6 per side, readings near
    their thresholds; findings named in ``always`` are recorded on every
    side. About one case in ten also gives a state or overrides a threshold.

    >>> import hipkb
    >>> cases = sample_cases(hipkb.load_kb(), 3, seed=1, always=["supine_hip_ir"])
    >>> all(set(c["findings"]["supine_hip_ir"]) == {"left", "right"} for c in cases)
    True
    """
    rng = random.Random(seed)
    always = set(always)
    defaults = kb.default_thresholds()
    out = []
    for n in range(count):
        findings: dict[str, Any] = {}
        for finding in kb.findings.values():
            p = 1.0 if finding.id in always else 0.6

            def value(finding: Any = finding) -> Any:
                if finding.type != "degrees":
                    return rng.random() < 0.45
                low, high = finding.range or (0.0, 180.0)
                centre = defaults.get(finding.id, (low + high) / 2)
                number = min(high, max(low, centre + rng.randint(-20, 20)))
                return number if rng.random() < 0.9 else number + 0.5 if number + 0.5 <= high else number

            if finding.sided:
                sides = {side: value() for side in ("left", "right") if rng.random() < p}
                if sides:
                    findings[finding.id] = sides
            elif rng.random() < p:
                findings[finding.id] = value()
        case: dict[str, Any] = {"subject": f"sample-{seed}-{n}", "findings": findings}
        if rng.random() < 0.1 and kb.states:
            state = rng.choice(list(kb.states.values()))
            if state.id not in findings:
                findings[state.id] = {rng.choice(("left", "right")): True} if state.sided else True
        if rng.random() < 0.1 and defaults:
            name = rng.choice(sorted(defaults))
            finding = kb.findings.get(name)
            low, high = finding.range if finding is not None and finding.range else (0.0, 180.0)
            case["thresholds"] = {name: min(high, max(low, defaults[name] + rng.randint(-5, 5)))}
        out.append(case)
    return out


@record
class Mismatch:
    """A case on which the compiled evaluator and the experta engine give different JSON."""

    index: int
    case: Any
    #: where the two first differ, e.g. ``conclusions[3].status: 'measured' != 'indicated'``
    difference: str

    def __str__(self) -> str:
        return f"case {self.index}: the engines disagree at {self.difference}"


def verify_engines(kb: Any, cases: Iterable[Any] | None = None, *, count: int = 200, seed: int = 0) -> list[Mismatch]:
    """Run both engines over ``cases`` (default: ``count`` cases from :func:`sample_cases`); list every disagreement.

    The two engines must give byte-identical JSON on every case (the same
    error, for a bad one). An empty list means they agree.

    >>> import hipkb
    >>> verify_engines(hipkb.load_kb(), count=5)
    []
    """
    chosen = sample_cases(kb, count, seed=seed) if cases is None else cases
    out = []
    for index, case in enumerate(chosen):
        answers = []
        for engine in ("compiled", "experta"):
            result, error = _guarded(partial(kb.assess, case, engine=engine))
            answers.append(result.to_dict() if error is None else {"error": str(error)})
        where = _difference(answers[0], answers[1], "")
        if where is not None:
            out.append(Mismatch(index, case, where))
    return out


def _difference(a: Any, b: Any, where: str) -> str | None:
    """The first place where two JSON values differ, or None."""
    todo = [(a, b, where)]
    while todo:
        x, y, at = todo.pop(0)
        if type(x) is not type(y):
            return f"{at or '(top)'}: {x!r} != {y!r}"
        if isinstance(x, dict):
            if list(x) != list(y):
                return f"{at or '(top)'} keys: {sorted(set(x) ^ set(y)) or 'order'}"
            todo.extend((x[k], y[k], f"{at}.{k}" if at else str(k)) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return f"{at}: {len(x)} items != {len(y)} items"
            todo.extend((u, v, f"{at}[{i}]") for i, (u, v) in enumerate(zip(x, y)))
        elif x != y:
            return f"{at}: {x!r} != {y!r}"
    return None
