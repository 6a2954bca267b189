"""Assess many cases, serially or in worker processes, in input order.

Each input (a case mapping, a path to a YAML/JSON case file, or a parsed
:class:`~hipkb.case.Case`) gives one :class:`BatchItem`, holding either its
:class:`~hipkb.infer.Result` or the error that stopped it; one bad case never
stops the others. With ``jobs > 1`` the cases are split into chunks and run
by a pool of processes, each of which gets the KB once (its initializer) and
builds its own engine; results come back in input order.

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
"""

from __future__ import annotations

import dataclasses
import gc
import io
import os
import pickle
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from .errors import HipkbError, InputError

if TYPE_CHECKING:
    from .case import Case
    from .result import Result
    from .infer import KnowledgeBase

__all__ = ["BatchItem", "assess_many"]

#: Cases per task sent to a worker: large enough to amortise the round trip,
#: small enough to balance the load and keep results flowing.
MAX_CHUNK = 64


@dataclass(frozen=True)
class BatchItem:
    """The outcome of one input of a batch: a result, or the error that stopped it."""

    index: int
    source: str
    result: Result | None = None
    error: HipkbError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """One line of ``hipkb assess-many --format jsonl``."""
        out: dict[str, Any] = {"index": self.index, "source": self.source, "ok": self.ok}
        if self.result is not None:
            out["result"] = self.result.to_dict()
        if self.error is not None:
            loc = self.error.location
            out["error"] = {
                "type": type(self.error).__name__,
                "message": self.error.message,
                "hint": self.error.hint,
                "file": None if loc is None else loc.path,
                "line": None if loc is None else loc.line,
                "column": None if loc is None else loc.column,
                "text": str(self.error),
            }
        return out


def assess_many(
    cases: Iterable[Mapping[str, Any] | str | Path | Case],
    *,
    kb: KnowledgeBase | None = None,
    jobs: int = 1,
    thresholds: Mapping[str, float] | None = None,
) -> Iterator[BatchItem]:
    """Assess every case; yield one :class:`BatchItem` per input, in input order.

    ``jobs`` is the number of worker processes (``1``: run here, no
    processes; ``0``: one per available CPU). ``thresholds`` override the
    KB's (and each case file's) for every case; bad thresholds are an
    :class:`~hipkb.errors.InputError` at once, since no case could use them.
    Inputs are read lazily, a bounded number of chunks at a time.
    """
    from .infer import prepare as resolve_case

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0:
        raise InputError(f"jobs must be a whole number of processes (0 for one per CPU), not {jobs!r}")
    if kb is None:
        from . import _default_kb

        kb = _default_kb()
    overrides = dict(thresholds or {})
    resolve_case(kb, {"findings": {}}, overrides)  # validate once, before any work
    workers = jobs or _cpu_count()
    if workers == 1:
        return _serial(kb, cases, overrides)
    return _parallel(kb, cases, overrides, workers)


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _source(index: int, case: Any) -> str:
    if isinstance(case, (str, Path)):
        return str(case)
    path = getattr(case, "path", None)
    return path if isinstance(path, str) else f"<case {index}>"


def _assess_one(kb: KnowledgeBase, index: int, case: Any, thresholds: Mapping[str, float]) -> BatchItem:
    source = _source(index, case)
    try:
        return BatchItem(index, source, result=kb.assess(case, thresholds=thresholds))
    except HipkbError as exc:
        return BatchItem(index, source, error=exc)
    except Exception as exc:  # a bug must not take the other cases down with it
        return BatchItem(index, source, error=HipkbError(f"internal error: {type(exc).__name__}: {exc}"))


def _serial(kb: KnowledgeBase, cases: Iterable[Any], thresholds: Mapping[str, float]) -> Iterator[BatchItem]:
    for index, case in enumerate(cases):
        yield _assess_one(kb, index, case, thresholds)


def _chunks(cases: Iterable[Any], size: int) -> Iterator[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    for index, case in enumerate(cases):
        chunk.append((index, str(case) if isinstance(case, Path) else case))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _parallel(kb: KnowledgeBase, cases: Iterable[Any], thresholds: Mapping[str, float], workers: int) -> Iterator[BatchItem]:
    from concurrent.futures import ProcessPoolExecutor

    size = MAX_CHUNK
    if hasattr(cases, "__len__"):
        size = max(1, min(MAX_CHUNK, len(cases) // (workers * 4)))  # type: ignore[arg-type]
    # The KB travels once per worker, without the per-process cache (engine).
    shipped = pickle.dumps(dataclasses.replace(kb, _cache={}), protocol=pickle.HIGHEST_PROTOCOL)
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(shipped, dict(thresholds)))
    try:
        pending: deque[Any] = deque()
        for chunk in _chunks(cases, size):
            pending.append(pool.submit(_work, chunk))
            while len(pending) >= workers * 3:
                yield from _unpack(pending.popleft().result(), kb)
        while pending:
            yield from _unpack(pending.popleft().result(), kb)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# -- inside a worker process

_WORKER: dict[str, Any] = {}  # this worker process's KB and thresholds, set once by _init_worker


def _init_worker(shipped: bytes, thresholds: dict[str, float]) -> None:
    # A forked worker inherits the caller's objects: keep this process's
    # collections off them (they are never garbage here).
    gc.freeze()
    _WORKER["kb"] = pickle.loads(shipped)
    _WORKER["thresholds"] = thresholds


def _work(chunk: list[tuple[int, Any]]) -> bytes:
    kb = _WORKER["kb"]
    items = [_assess_one(kb, index, case, _WORKER["thresholds"]) for index, case in chunk]
    buffer = io.BytesIO()
    _KBPickler(buffer, kb).dump(items)
    return buffer.getvalue()


class _KBPickler(pickle.Pickler):
    """Pickles results without their KB: the parent puts its own back."""

    def __init__(self, file: io.BytesIO, kb: KnowledgeBase) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.kb = kb

    def persistent_id(self, obj: Any) -> str | None:
        return "kb" if obj is self.kb else None


class _KBUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, kb: KnowledgeBase) -> None:
        super().__init__(file)
        self.kb = kb

    def persistent_load(self, pid: Any) -> Any:
        if pid != "kb":
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return self.kb


def _unpack(payload: bytes, kb: KnowledgeBase) -> list[BatchItem]:
    items: list[BatchItem] = _KBUnpickler(io.BytesIO(payload), kb).load()
    return items
