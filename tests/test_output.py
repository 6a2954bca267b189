"""Output files are written atomically, only where the user named them.

A failed write (disk full, interrupt, a bad target) leaves an existing file
exactly as it was and no temporary file behind.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from hipkb.cli import main
from hipkb.errors import InputError
from hipkb import output
from hipkb.output import write_atomic

from conftest import REPO

OLD = b"the user's file\n"


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_writes_a_new_file_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_bytes(b"keep")
    write_atomic(tmp_path / "out.svg", b"<svg/>")
    assert listing(tmp_path) == {"other.txt": b"keep", "out.svg": b"<svg/>"}


def test_replaces_an_existing_file_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.dot"
    target.write_bytes(OLD)
    target.chmod(0o640)
    write_atomic(target, b"digraph {}")
    assert target.read_bytes() == b"digraph {}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert listing(tmp_path) == {"out.dot": b"digraph {}"}


def test_a_new_file_follows_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_atomic(tmp_path / "out.txt", b"x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o640


def test_does_not_touch_the_process_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing the umask, even briefly, races with every other thread creating files."""
    calls: list[int] = []
    real = os.umask
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real(mask))
    write_atomic(tmp_path / "a.txt", b"x")
    (tmp_path / "a.txt").chmod(0o600)
    write_atomic(tmp_path / "a.txt", b"y")
    assert calls == []


@pytest.mark.parametrize("failing", ["write", "fsync", "chmod", "replace"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(failing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.svg"
    target.write_bytes(OLD)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    if failing == "write":
        real_fdopen = os.fdopen

        class HalfWritten:
            """A file that takes the first bytes, then runs out of space."""

            def __init__(self, fd: int, mode: str) -> None:
                self.file = real_fdopen(fd, mode)

            def __enter__(self) -> "HalfWritten":
                return self

            def __exit__(self, *exc: object) -> None:
                self.file.close()

            def write(self, data: bytes) -> None:
                self.file.write(data[:100])
                self.file.flush()
                disk_full()

        monkeypatch.setattr(output.os, "fdopen", HalfWritten)
    else:
        monkeypatch.setattr(output.os, failing, disk_full)
    with pytest.raises(InputError) as caught:
        write_atomic(target, b"<svg>new</svg>" * 1000)
    monkeypatch.undo()
    assert str(caught.value) == f"{target}: cannot write: No space left on device"
    assert listing(tmp_path) == {"out.svg": OLD}


def test_an_interrupt_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.svg"
    target.write_bytes(OLD)

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"new")
    monkeypatch.undo()
    assert listing(tmp_path) == {"out.svg": OLD}


def test_a_directory_is_not_a_target(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"is a directory; name a file to write"):
        write_atomic(tmp_path, b"x")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"the directory does not exist"):
        write_atomic(tmp_path / "no" / "such" / "out.svg", b"x")
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_bytes(OLD)
    alias = tmp_path / "alias.json"
    alias.symlink_to(case)
    for named in (case, alias, tmp_path / "." / "case.json"):
        with pytest.raises(InputError) as caught:
            write_atomic(named, b"{}", keep=[case])
        assert str(caught.value) == f"{named}: refusing to overwrite an input file (name another output file)"
    assert case.read_bytes() == OLD
    write_atomic(tmp_path / "out.json", b"{}", keep=[case, tmp_path / "not-there.yaml"])
    assert (tmp_path / "out.json").read_bytes() == b"{}"


def test_a_symlink_is_followed_not_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.svg"
    real.write_bytes(OLD)
    link = tmp_path / "link.svg"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.svg", "real.svg"]


def test_streams_are_written_in_place(tmp_path: Path) -> None:
    # Never name /dev/null or /dev/stdout here: a regressed write_atomic run as
    # root would rename a regular file over the machine's device node.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_atomic(fifo, b"through the pipe")
    reader.join(timeout=30)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_stream_paths_are_recognised() -> None:
    for name in ("/dev/stdout", "/dev/stderr", "/dev/fd/3", "/proc/self/fd/1", "/dev/null"):
        assert output._is_stream_path(Path(name)), name
    for name in ("out.svg", "/tmp/dev/x.svg", "/devices.svg", "dev/stdout"):
        assert not output._is_stream_path(Path(name)), name


def test_fd_path_leading_to_a_file_is_not_renamed_over(tmp_path: Path) -> None:
    """``-o /dev/stdout`` with stdout redirected to a file: the file must stay the one the shell opened.

    Tested through /proc/self/fd/1 (what /dev/stdout points to): renaming over
    a /proc link fails harmlessly, whereas over /dev/stdout it would replace
    the machine's link if this code regressed.
    """
    import subprocess
    import sys

    log = tmp_path / "log.txt"
    script = "from hipkb.output import write_atomic; write_atomic('/proc/self/fd/1', b'diagram\\n')"
    with open(log, "wb") as handle:
        subprocess.run([sys.executable, "-c", script], stdout=handle, check=False, timeout=60)
        inode = os.fstat(handle.fileno()).st_ino
    assert log.read_bytes() == b"diagram\n"
    assert log.stat().st_ino == inode
    assert [p.name for p in tmp_path.iterdir()] == ["log.txt"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write read-only files")
def test_a_read_only_file_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "out.svg"
    target.write_bytes(OLD)
    target.chmod(0o444)
    with pytest.raises(InputError, match=r"read-only"):
        write_atomic(target, b"new")
    assert target.read_bytes() == OLD


def test_concurrent_writers_never_mix(tmp_path: Path) -> None:
    """Readers see one whole version or another, never a blend; no temporaries remain."""
    target = tmp_path / "out.txt"
    versions = [bytes([65 + i]) * 200_000 for i in range(8)]
    errors: list[BaseException] = []

    def writer(data: bytes) -> None:
        try:
            for _ in range(5):
                write_atomic(target, data)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    seen: set[bytes] = set()
    threads = [threading.Thread(target=writer, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if target.exists():
            seen.add(target.read_bytes())
    for t in threads:
        t.join()
    assert errors == []
    assert seen <= set(versions)
    assert target.read_bytes() in versions
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


# --------------------------------------------------------------------------
# The CLI's -o


def test_diagram_output_is_written_only_where_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.yaml"
    case.write_bytes((REPO / "examples" / "demo-01.yaml").read_bytes())
    before = case.read_bytes()
    assert main(["diagram", str(case), "-o", str(tmp_path / "out.dot")]) == 0
    assert capsys.readouterr().out == ""
    assert (tmp_path / "out.dot").read_text(encoding="utf-8").lstrip().startswith(("digraph", "strict digraph"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml", "out.dot"]
    assert case.read_bytes() == before


def test_diagram_of_a_bad_case_keeps_the_old_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.yaml"
    case.write_text("findings:\n  supine_hip_ri: {left: 12}\n")
    out = tmp_path / "out.dot"
    out.write_bytes(OLD)
    assert main(["diagram", str(case), "-o", str(out)]) == 2
    assert "unknown finding 'supine_hip_ri'" in capsys.readouterr().err
    assert listing(tmp_path) == {"case.yaml": case.read_bytes(), "out.dot": OLD}


def test_diagram_to_a_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.yaml"
    case.write_bytes((REPO / "examples" / "demo-01.yaml").read_bytes())
    target = tmp_path / "nowhere" / "out.dot"
    assert main(["diagram", str(case), "-o", str(target)]) == 2
    assert capsys.readouterr().err == f"hipkb: error: {target}: cannot write: the directory does not exist\n"
    assert [p.name for p in tmp_path.iterdir()] == ["case.yaml"]


def test_diagram_never_overwrites_its_own_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.json"
    case.write_text('{"findings": {"supine_hip_ir": {"left": 12}}}')
    before = case.read_bytes()
    code = main(["diagram", str(case), "-o", str(case)])
    assert case.read_bytes() == before
    assert code == 2
    assert capsys.readouterr().err == f"hipkb: error: {case}: refusing to overwrite an input file (name another output file)\n"
