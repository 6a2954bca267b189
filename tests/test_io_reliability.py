"""Reading and writing files never hangs, crashes or touches what it must not.

- Only regular files are read, and a FIFO, socket or device is refused
  before it is opened (a FIFO swapped in meanwhile cannot block either).
- Output never goes inside hipkb's own files, over a kept input or a hard
  link to one, or into a socket or device; any legal file name can be written.
- Numbers too long for Python and lone surrogates give a located one-line
  error, never a traceback.
- A stream that fails (disk full, closed) is a one-line error; a closed pipe
  is a BrokenPipeError for the CLI to end quietly on.
- Permission problems are checked as an unprivileged user too (tests run as root).
"""

from __future__ import annotations

import io
import errno
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml

import hipkb
from hipkb import output, source
from hipkb.cli import main
from hipkb.errors import CaseError, InputError, KBError
from hipkb.output import protected_roots, write_atomic
from hipkb.source import parse_text, read_document

GOOD_CASE = "findings:\n  supine_hip_ir: {left: 12, right: 40}\n"
OLD = b"the user's file\n"
NOBODY = 65534
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SRC = Path(hipkb.__file__).resolve().parents[1]  # the hipkb these tests import, for subprocesses

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, sockets and devices are POSIX")


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()``'s result or exception, failing the test if it blocks for ``seconds``."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed back below
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"blocked for more than {seconds} s"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def one_line_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the CLI; assert exit 2, nothing on stdout, one line on stderr; return the message."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert err.startswith("hipkb: error: ")
    return err[len("hipkb: error: "):-1]


def make_device(path: Path, kind: int, major: int, minor: int) -> None:
    """A device node (a copy of a real one) in a test folder, or skip where that is not allowed."""
    try:
        os.mknod(path, 0o600 | kind, os.makedev(major, minor))
    except (OSError, AttributeError) as exc:
        pytest.skip(f"cannot create a device node here: {exc}")


def make_socket(path: Path) -> Iterator[Path]:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
    except OSError as exc:  # e.g. a path too long for AF_UNIX
        server.close()
        pytest.skip(f"cannot bind a socket here: {exc}")
    try:
        yield path
    finally:
        server.close()


@pytest.fixture
def sock(tmp_path: Path) -> Iterator[Path]:
    yield from make_socket(tmp_path / "s.yaml")


def as_nobody(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` as an unprivileged user (uid/gid 65534, no groups), importing this hipkb.

    ``setpriv`` where it exists, else ``setuid`` in the child before it runs Python.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(SRC)
    command = [sys.executable, "-c", code, *args]
    setpriv = shutil.which("setpriv")
    preexec: Callable[[], None] | None = None
    if setpriv:
        command = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    else:
        def preexec() -> None:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, preexec_fn=preexec, env=env, cwd=cwd,
    )


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the unprivileged user can reach (pytest's own are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="hipkb-io-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in folder.rglob("*"):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o700)
        shutil.rmtree(folder, ignore_errors=True)


root_only = pytest.mark.skipif(not IS_ROOT, reason="only root can become another user")


# --------------------------------------------------------------------------
# 1. Reading only regular files, without blocking


@posix_only
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as caught:
        within(10, lambda: read_document(fifo))
    assert str(caught.value) == f"{fifo}: not a regular file (a FIFO)"


@posix_only
def test_a_fifo_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "case.yaml"
    link.symlink_to(fifo)
    with pytest.raises(CaseError) as caught:
        within(10, lambda: read_document(link, error=CaseError))
    assert str(caught.value) == f"{link}: not a regular file (a FIFO)"


@posix_only
def test_a_fifo_swapped_in_after_the_check_does_not_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race: the name is a regular file when looked at, a FIFO when opened."""
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    regular = tmp_path / "regular.yaml"
    regular.write_text(GOOD_CASE)
    real_stat = os.stat

    def stale_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        return real_stat(regular if Path(path) == fifo else path, *args, **kwargs)

    monkeypatch.setattr(source.os, "stat", stale_stat)
    with pytest.raises(InputError) as caught:
        within(10, lambda: read_document(fifo))
    monkeypatch.undo()
    assert str(caught.value) == f"{fifo}: not a regular file (a FIFO)"


@posix_only
def test_a_socket_is_refused(sock: Path) -> None:
    with pytest.raises(InputError) as caught:
        within(10, lambda: read_document(sock))
    assert str(caught.value) == f"{sock}: not a regular file (a socket)"


@posix_only
@pytest.mark.parametrize("kind, name, major, minor", [
    (stat.S_IFCHR, "a character device", 1, 5),  # a copy of /dev/zero: would be read forever
    (stat.S_IFBLK, "a block device", 7, 0),  # a copy of /dev/loop0
])
def test_a_device_is_refused_without_being_opened(kind: int, name: str, major: int, minor: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    device = tmp_path / "case.yaml"
    make_device(device, kind, major, minor)
    opened: list[Any] = []
    real_open = os.open
    monkeypatch.setattr(source.os, "open", lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k))
    with pytest.raises(InputError) as caught:
        within(10, lambda: read_document(device))
    monkeypatch.undo()
    assert str(caught.value) == f"{device}: not a regular file ({name})"
    assert opened == []


@posix_only
def test_dev_null_and_dev_zero_are_refused() -> None:
    """Reading only, so naming the machine's devices is harmless."""
    for device in ("/dev/null", "/dev/zero"):
        if os.path.exists(device):
            with pytest.raises(InputError, match=r"not a regular file \(a character device\)"):
                within(10, lambda: read_document(device))


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KBError) as caught:
        read_document(tmp_path, error=KBError)
    assert str(caught.value) == f"{tmp_path}: is a directory, not a file"


def test_a_regular_file_and_a_link_to_one_are_read(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(GOOD_CASE)
    link = tmp_path / "link.yaml"
    link.symlink_to(case)
    for path in (case, link, str(case)):
        assert read_document(path).data == {"findings": {"supine_hip_ir": {"left": 12, "right": 40}}}


def test_the_read_file_is_left_blocking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """O_NONBLOCK is only for the open: the descriptor is blocking again when it is read."""
    case = tmp_path / "case.yaml"
    case.write_text(GOOD_CASE)
    blocking: list[bool] = []

    class Spy(io.FileIO):
        def read(self, size: int = -1) -> bytes:
            blocking.append(os.get_blocking(self.fileno()))
            return super().read(size)

    def spy_open(fd: int, mode: str, **kwargs: Any) -> Any:
        return Spy(fd, "rb", closefd=kwargs.get("closefd", True))

    monkeypatch.setattr(source, "open", spy_open, raising=False)  # shadows the builtin in that module only
    assert read_document(case).data["findings"]
    monkeypatch.undo()
    assert blocking == [True]


@posix_only
def test_cli_assess_on_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    assert within(30, lambda: one_line_error(capsys, "assess", str(fifo))) == f"{fifo}: not a regular file (a FIFO)"


@posix_only
def test_cli_assess_on_a_socket(sock: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert within(30, lambda: one_line_error(capsys, "assess", str(sock))) == f"{sock}: not a regular file (a socket)"


# --------------------------------------------------------------------------
# 8. Permissions, as an unprivileged user

READ_AS_NOBODY = """
import sys
from hipkb.errors import InputError
from hipkb.source import read_document
try:
    read_document(sys.argv[1])
except InputError as exc:
    print(exc)
else:
    print("read")
"""


@posix_only
def test_permission_denied_on_a_case_file(shared_dir: Path, tmp_path: Path) -> None:
    case = shared_dir / "case.yaml"
    case.write_text(GOOD_CASE)
    case.chmod(0o600)
    if IS_ROOT:
        proc = as_nobody(READ_AS_NOBODY, str(case))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == f"{case}: permission denied\n"
    else:
        case.chmod(0)
        with pytest.raises(InputError) as caught:
            read_document(case)
        assert str(caught.value) == f"{case}: permission denied"
    assert case.read_text() == GOOD_CASE


@posix_only
def test_permission_denied_on_the_folder(shared_dir: Path) -> None:
    folder = shared_dir / "private"
    folder.mkdir(mode=0o700)
    case = folder / "case.yaml"
    case.write_text(GOOD_CASE)
    if IS_ROOT:
        proc = as_nobody(READ_AS_NOBODY, str(case))
        assert proc.stdout == f"{case}: permission denied\n", proc.stderr
    else:
        folder.chmod(0)
        try:
            with pytest.raises(InputError, match=r": permission denied$"):
                read_document(case)
        finally:
            folder.chmod(0o700)


@posix_only
@root_only
def test_cli_permission_denied_as_nobody(shared_dir: Path) -> None:
    case = shared_dir / "case.yaml"
    case.write_text(GOOD_CASE)
    case.chmod(0o600)
    proc = as_nobody("import sys; from hipkb.cli import main; sys.exit(main(sys.argv[1:]))", "assess", str(case), cwd=shared_dir)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"hipkb: error: {case}: permission denied\n")


WRITE_AS_NOBODY = """
import sys
from hipkb.errors import InputError
from hipkb.output import write_atomic
try:
    write_atomic(sys.argv[1], b"new")
except InputError as exc:
    print(exc)
else:
    print("written")
"""


@posix_only
@root_only
def test_a_read_only_output_is_kept_for_nobody(shared_dir: Path) -> None:
    shared_dir.chmod(0o777)
    target = shared_dir / "out.svg"
    target.write_bytes(OLD)
    target.chmod(0o444)
    proc = as_nobody(WRITE_AS_NOBODY, str(target))
    assert proc.stdout == f"{target}: cannot write: the file is read-only\n", proc.stderr
    assert target.read_bytes() == OLD
    assert [p.name for p in shared_dir.iterdir()] == ["out.svg"]


@posix_only
@root_only
def test_an_unwritable_folder_leaves_nothing_for_nobody(shared_dir: Path) -> None:
    target = shared_dir / "out.svg"
    target.write_bytes(OLD)
    target.chmod(0o666)  # the file is writable, its folder (0755, root's) is not
    proc = as_nobody(WRITE_AS_NOBODY, str(target))
    assert proc.stdout == f"{target}: cannot write: Permission denied\n", proc.stderr
    assert target.read_bytes() == OLD
    assert [p.name for p in shared_dir.iterdir()] == ["out.svg"]


# --------------------------------------------------------------------------
# 1 (output). Only a new or regular file is replaced; no socket or device


@posix_only
def test_output_to_a_socket_is_refused(sock: Path) -> None:
    with pytest.raises(InputError) as caught:
        within(10, lambda: write_atomic(sock, b"x"))
    assert str(caught.value) == f"{sock}: not a regular file (a socket)"
    assert stat.S_ISSOCK(os.lstat(sock).st_mode)


@posix_only
@pytest.mark.parametrize("kind, name", [(stat.S_IFCHR, "a character device"), (stat.S_IFBLK, "a block device")])
def test_output_to_a_device_is_refused(kind: int, name: str, tmp_path: Path) -> None:
    """Copies of /dev/null and /dev/loop0: a regression must not reach the machine's own nodes."""
    device = tmp_path / "out.svg"
    make_device(device, kind, *((1, 3) if kind == stat.S_IFCHR else (7, 0)))
    with pytest.raises(InputError) as caught:
        within(10, lambda: write_atomic(device, b"x"))
    assert str(caught.value) == f"{device}: not a regular file ({name})"
    assert os.lstat(device).st_mode & kind == kind
    assert [p.name for p in tmp_path.iterdir()] == ["out.svg"]


@posix_only
def test_output_to_a_device_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    device = tmp_path / "null"
    make_device(device, stat.S_IFCHR, 1, 3)
    link = tmp_path / "out.svg"
    link.symlink_to(device)
    with pytest.raises(InputError, match=r"not a regular file \(a character device\)"):
        write_atomic(link, b"x")
    assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)


def test_only_stream_names_are_written_in_place() -> None:
    for name in ("/dev/stdout", "/dev/stderr", "/dev/fd/3", "/proc/self/fd/1", "/proc/thread-self/fd/4", "/dev/null"):
        assert output._is_stream_path(Path(name)), name
    for name in ("/dev/sda", "/dev/tty", "/dev/full", "/dev/shm/out.svg", "/proc/sys/kernel/hostname", "/dev/fd/x"):
        assert not output._is_stream_path(Path(name)), name


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm")
def test_a_file_under_dev_shm_is_replaced_not_appended() -> None:
    import tempfile

    folder = Path(tempfile.mkdtemp(dir="/dev/shm"))
    try:
        target = folder / "out.svg"
        write_atomic(target, b"one")
        write_atomic(target, b"two")
        assert target.read_bytes() == b"two"
    finally:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


# --------------------------------------------------------------------------
# 2. Never inside hipkb's own files


def test_protected_roots_are_the_package_and_the_checkout_kb() -> None:
    package = Path(hipkb.__file__).resolve().parent
    roots = protected_roots()
    assert roots[0] == package
    checkout_kb = package.parent.parent / "kb"
    if package.parent.name == "src" and checkout_kb.is_dir():
        assert roots == (package, checkout_kb.resolve())
    else:
        assert roots == (package,)


def bundled_files() -> list[Path]:
    return [p for root in protected_roots() for p in sorted(root.rglob("*.y*ml"))] or [Path(hipkb.__file__)]


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("how", ["existing", "new", "dotdot", "symlink", "symlinked-folder"])
def test_never_writes_inside_the_package(how: str, tmp_path: Path) -> None:
    package = protected_roots()[0]
    existing = Path(hipkb.__file__).resolve()
    targets = {
        "existing": existing,
        "new": package / "hipkb-test-must-not-exist.svg",
        "dotdot": package / ".." / package.name / existing.name,
        "symlink": tmp_path / "out.svg",
        "symlinked-folder": tmp_path / "pkg" / "new.svg",
    }
    (tmp_path / "out.svg").symlink_to(existing)
    (tmp_path / "pkg").symlink_to(package, target_is_directory=True)
    before = snapshot(package)
    with pytest.raises(InputError) as caught:
        write_atomic(targets[how], b"owned")
    assert str(caught.value) == f"{targets[how]}: refusing to write inside hipkb's own files (name a file elsewhere)"
    assert snapshot(package) == before


def test_never_writes_over_the_bundled_kb(tmp_path: Path) -> None:
    for kb_file in bundled_files():
        with pytest.raises(InputError, match=r"refusing to write inside hipkb's own files"):
            write_atomic(kb_file, b"owned")


def test_never_writes_a_hard_link_to_a_bundled_file(tmp_path: Path) -> None:
    original = bundled_files()[0]
    before = original.read_bytes()
    link = tmp_path / "innocent.yaml"
    try:
        os.link(original, link)
    except OSError as exc:
        pytest.skip(f"cannot hard-link to the package from here: {exc}")
    with pytest.raises(InputError) as caught:
        write_atomic(link, b"owned")
    assert str(caught.value) == f"{link}: refusing to write inside hipkb's own files (name a file elsewhere)"
    assert original.read_bytes() == before and link.read_bytes() == before


def test_hard_links_into_a_protected_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same check with a protected tree of the test's own, so it runs on any file system layout."""
    shipped = tmp_path / "site-packages" / "hipkb" / "kb"
    shipped.mkdir(parents=True)
    (shipped / "states.yaml").write_bytes(OLD)
    monkeypatch.setattr(output, "protected_roots", lambda: (shipped.parent,))
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    os.link(shipped / "states.yaml", elsewhere / "copy.yaml")
    (elsewhere / "other.yaml").write_bytes(OLD)
    with pytest.raises(InputError, match=r"refusing to write inside hipkb's own files"):
        write_atomic(elsewhere / "copy.yaml", b"owned")
    with pytest.raises(InputError, match=r"refusing to write inside hipkb's own files"):
        write_atomic(shipped / "new.yaml", b"owned")
    write_atomic(elsewhere / "other.yaml", b"fine")  # one link only: no search needed
    write_atomic(elsewhere / "new.yaml", b"fine")
    assert (shipped / "states.yaml").read_bytes() == OLD
    assert sorted(p.name for p in shipped.iterdir()) == ["states.yaml"]


def test_a_hard_link_to_a_kept_input_is_refused(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_bytes(OLD)
    twin = tmp_path / "twin.yaml"
    os.link(case, twin)
    with pytest.raises(InputError) as caught:
        write_atomic(twin, b"x", keep=[case])
    assert str(caught.value) == f"{twin}: refusing to overwrite an input file (name another output file)"
    assert case.read_bytes() == OLD and twin.read_bytes() == OLD


def test_cli_diagram_into_the_package_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(GOOD_CASE)
    target = protected_roots()[0] / "hipkb-test-must-not-exist.dot"
    message = one_line_error(capsys, "diagram", str(case), "-o", str(target))
    assert message == f"{target}: refusing to write inside hipkb's own files (name a file elsewhere)"
    assert not target.exists()


# --------------------------------------------------------------------------
# 3. Any legal file name can be written


def name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


@pytest.mark.parametrize("length", [200, 250, "max"])
def test_long_file_names(length: int | str, tmp_path: Path) -> None:
    size = name_max(tmp_path) if length == "max" else int(length)
    target = tmp_path / ("d" * (size - 4) + ".dot")
    write_atomic(target, b"digraph {}")
    assert target.read_bytes() == b"digraph {}"
    write_atomic(target, b"digraph { a }")  # replacing it needs the temporary name too
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    assert target.read_bytes() == b"digraph { a }"


def test_a_name_longer_than_the_limit_is_one_clear_error(tmp_path: Path) -> None:
    target = tmp_path / ("d" * (name_max(tmp_path) + 1))
    with pytest.raises(InputError) as caught:
        write_atomic(target, b"x")
    assert str(caught.value) == f"{target}: cannot write: File name too long"
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_name_does_not_grow_with_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []
    real_open = os.open

    def spy(path: Any, *args: Any, **kwargs: Any) -> int:
        names.append(Path(path).name)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(output.os, "open", spy)
    write_atomic(tmp_path / ("x" * 240), b"x")
    monkeypatch.undo()
    temporary = [n for n in names if n.endswith(".tmp")]
    assert len(temporary) == 1 and len(temporary[0]) <= 32 and temporary[0].startswith(".hipkb-")


# --------------------------------------------------------------------------
# 4. Numbers Python cannot hold as text, and infinities

DIGITS = "9" * 4001  # int() of more than 4300 digits raises ValueError in Python >= 3.11; 64 is hipkb's limit


@pytest.mark.parametrize("name, text, line, column", [
    ("yaml-value", f"findings:\n  supine_hip_ir: {{left: {DIGITS}}}\n", 2, 25),
    ("yaml-negative", f"findings:\n  supine_hip_ir: {{left: -{DIGITS}}}\n", 2, 25),
    ("yaml-explicit-int", f"findings:\n  supine_hip_ir: {{left: !!int {DIGITS}}}\n", 2, 25),
    ("yaml-threshold", f"thresholds: {{supine_hip_ir: {DIGITS}}}\n{GOOD_CASE}", 1, 29),
    ("yaml-subject", f"subject: {DIGITS}\n{GOOD_CASE}", 1, 10),
    ("yaml-in-a-list", f"findings:\n  hip_hike: [left, {DIGITS}]\n", 2, 20),
    ("yaml-long-fraction", f"findings:\n  supine_hip_ir: {{left: 0.{DIGITS}}}\n", 2, 25),
    ("yaml-long-exponent", f"findings:\n  supine_hip_ir: {{left: 1e{DIGITS}}}\n", 2, 25),
])
def test_huge_numbers_in_yaml(name: str, text: str, line: int, column: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(text)
    with pytest.raises(CaseError) as caught:
        read_document(case, error=CaseError)
    assert str(caught.value).startswith(f"{case}:{line}:{column}: number has too many digits (")
    assert one_line_error(capsys, "assess", str(case)) == str(caught.value)


@pytest.mark.parametrize("name, text, column", [
    ("json-value", '{"findings": {"supine_hip_ir": {"left": %s}}}' % DIGITS, 41),
    ("json-negative", '{"findings": {"supine_hip_ir": {"left": -%s}}}' % DIGITS, 41),
    ("json-threshold", '{"thresholds": {"supine_hip_ir": %s}, "findings": {}}' % DIGITS, 34),
    ("json-subject", '{"subject": %s, "findings": {}}' % DIGITS, 13),
    ("json-long-exponent", '{"findings": {"supine_hip_ir": {"left": 1e%s}}}' % DIGITS, 41),
])
def test_huge_numbers_in_json(name: str, text: str, column: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.json"
    case.write_text(text)
    with pytest.raises(InputError) as caught:
        read_document(case)
    assert str(caught.value).startswith(f"{case}:1:{column}: number has too many digits (")
    assert one_line_error(capsys, "assess", str(case)) == str(caught.value)


def test_a_huge_number_survives_a_lowered_int_limit() -> None:
    """A host may lower Python's limit (640 is the least it allows): still a located error."""
    if not hasattr(sys, "set_int_max_str_digits"):
        pytest.skip("no int-string limit in this Python")
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        with pytest.raises(InputError, match=r"^c\.json:1:7: number has too many digits"):
            parse_text('{"a": %s}' % ("1" * 700), "c.json", as_json=True)
        assert parse_text('{"a": %s}' % ("1" * 60), "c.json", as_json=True).data == {"a": int("1" * 60)}
    finally:
        sys.set_int_max_str_digits(previous)


INFINITE = [
    ("yaml-1e400", "c.yaml", "findings:\n  supine_hip_ir: {left: 1e400}\n"),
    ("yaml-neg-1e400", "c.yaml", "findings:\n  straight_leg_raise: {right: -1e400}\n"),
    ("yaml-dot-inf", "c.yaml", "findings:\n  supine_hip_ir: {left: .inf}\n"),
    ("yaml-nan", "c.yaml", "findings:\n  supine_hip_ir: {left: .nan}\n"),
    ("yaml-threshold", "c.yaml", f"thresholds: {{supine_hip_ir: 1e400}}\n{GOOD_CASE}"),
    ("yaml-subject", "c.yaml", f"subject: 1e400\n{GOOD_CASE}"),
    ("yaml-sided-bool", "c.yaml", "findings:\n  hip_hike: 1e400\n"),
    ("json-1e400", "c.json", '{"findings": {"supine_hip_ir": {"left": 1e400}}}'),
    ("json-Infinity", "c.json", '{"findings": {"supine_hip_ir": {"left": -Infinity}}}'),
    ("json-NaN", "c.json", '{"findings": {"supine_hip_ir": {"right": NaN}}}'),
    ("json-threshold", "c.json", '{"thresholds": {"supine_hip_ir": 1e400}, "findings": {"supine_hip_ir": {"left": 3}}}'),
]


@pytest.mark.parametrize("name, file, text", INFINITE, ids=[i[0] for i in INFINITE])
def test_infinite_numbers_end_to_end(name: str, file: str, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reader keeps inf and nan (they are numbers); the case reader refuses them at their place."""
    case = tmp_path / file
    case.write_text(text)
    message = one_line_error(capsys, "assess", str(case))
    prefix = f"{case}:"
    assert message.startswith(prefix)
    line, column, rest = message[len(prefix):].split(":", 2)
    assert line.isdigit() and column.isdigit(), message
    assert rest.strip(), message


# --------------------------------------------------------------------------
# 5. Lone surrogates


@pytest.mark.parametrize("name, text, column, code", [
    ("value", '{"subject": "a\\ud800b", "findings": {}}', 13, "d800"),
    ("low-half", '{"subject": "\\udc00", "findings": {}}', 13, "dc00"),
    ("key", '{"findings": {"sup\\udfffine_hip_ir": {"left": 1}}}', 15, "dfff"),
    ("reversed-pair", '{"subject": "\\udc00\\ud800", "findings": {}}', 13, "dc00"),
    ("high-then-text", '{"subject": "\\ud83dx", "findings": {}}', 13, "d83d"),
    ("in-a-list", '{"findings": {"hip_hike": ["left", "\\ud800"]}}', 36, "d800"),
])
def test_lone_surrogates_in_json(name: str, text: str, column: int, code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.json"
    case.write_text(text)
    expected = f"{case}:1:{column}: not valid text: lone surrogate \\u{code} (\\ud800-\\udfff escapes must come in pairs)"
    with pytest.raises(CaseError) as caught:
        read_document(case, error=CaseError)
    assert str(caught.value) == expected
    assert one_line_error(capsys, "assess", str(case)) == expected


def test_a_surrogate_pair_is_one_character() -> None:
    assert parse_text('{"subject": "\\ud83d\\ude00"}', "c.json", as_json=True).data == {"subject": "\U0001F600"}


def test_a_surrogate_escape_in_yaml_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """libyaml refuses the escape itself; the pure-Python loader (used without libyaml) builds the surrogate."""
    text = 'subject: "a\\ud800"\nfindings: {}\n'
    with pytest.raises(InputError, match=r"^c\.yaml:1:\d+: "):
        parse_text(text, "c.yaml")
    monkeypatch.setattr(source, "_loader_class", lambda: yaml.SafeLoader)
    with pytest.raises(InputError) as caught:
        parse_text(text, "c.yaml")
    assert str(caught.value) == "c.yaml:1:10: not valid text: lone surrogate \\ud800 (\\ud800-\\udfff escapes must come in pairs)"


@pytest.mark.parametrize("as_json, text, line, column", [
    (False, "subject: a\ud800\nfindings: {}\n", 1, 11),
    (False, "findings:\n  x\udc00: 1\n", 2, 4),
    (True, '{"findings": {},\n "subject": "\udfff"}', 2, 14),
])
def test_a_surrogate_in_text_given_to_parse_text(as_json: bool, text: str, line: int, column: int) -> None:
    """A caller's str can hold a surrogate; libyaml would fail to encode it (UnicodeEncodeError)."""
    with pytest.raises(CaseError) as caught:
        parse_text(text, "c", error=CaseError, as_json=as_json)
    assert str(caught.value).startswith(f"c:{line}:{column}: not valid text: lone surrogate \\u")


# --------------------------------------------------------------------------
# 7. Streams: a full disk or a closed stream is an error; a closed pipe is BrokenPipeError


@posix_only
def test_a_full_disk_on_a_stream(tmp_path: Path) -> None:
    full = tmp_path / "full"
    make_device(full, stat.S_IFCHR, 1, 7)  # a copy of /dev/full
    fd = os.open(full, os.O_WRONLY)
    try:
        with pytest.raises(InputError) as caught:
            write_atomic(f"/proc/self/fd/{fd}", b"report\n")
    finally:
        os.close(fd)
    assert str(caught.value) == f"/proc/self/fd/{fd}: cannot write: No space left on device"


@posix_only
def test_an_io_error_on_a_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    read, write = os.pipe()

    def fail(*args: object) -> int:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(output.os, "write", fail)
    try:
        with pytest.raises(InputError) as caught:
            write_atomic(f"/dev/fd/{write}", b"report\n")
    finally:
        monkeypatch.undo()
        os.close(read)
        os.close(write)
    assert str(caught.value) == f"/dev/fd/{write}: cannot write: Input/output error"


@posix_only
def test_a_closed_pipe_is_a_broken_pipe() -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        with pytest.raises(BrokenPipeError):
            write_atomic(f"/dev/fd/{write}", b"report\n")
    finally:
        os.close(write)


@posix_only
def test_a_pipe_gets_everything(tmp_path: Path) -> None:
    read, write = os.pipe()
    data = bytes(range(256)) * 2000  # more than a pipe holds at once
    received: list[bytes] = []

    def drain() -> None:
        with os.fdopen(read, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        write_atomic(f"/dev/fd/{write}", data)
    finally:
        os.close(write)
    reader.join(30)
    assert received == [data]


@posix_only
def test_a_closed_descriptor_is_one_clear_error() -> None:
    fd = os.open(os.devnull, os.O_RDONLY)
    os.close(fd)
    with pytest.raises(InputError) as caught:
        write_atomic(f"/dev/fd/{fd}", b"report\n")
    assert str(caught.value) == f"/dev/fd/{fd}: cannot write: it is not open for writing"


@posix_only
@pytest.mark.parametrize("name", ["/dev/fd/99999999999999999999", "/proc/self/fd/2147483648", "/dev/fd/999999999"])
def test_an_impossible_descriptor_is_one_clear_error(name: str) -> None:
    """Numbers past a C int must not raise OverflowError."""
    with pytest.raises(InputError, match=r"^" + re.escape(name) + r": cannot write: "):
        write_atomic(name, b"report\n")


STDOUT_SCRIPT = """
import sys
from hipkb.errors import InputError
from hipkb.output import write_atomic
try:
    write_atomic("/dev/stdout", b"x" * int(sys.argv[1]))
except InputError as exc:
    print("InputError:", exc, file=sys.stderr)
except BrokenPipeError:
    print("BrokenPipeError", file=sys.stderr)
"""


def run_script(script: str, *args: str, stdout: Any, preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(SRC)
    return subprocess.run(
        [sys.executable, "-c", script, *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
        timeout=60, check=False, env=env, preexec_fn=preexec,
    )


@posix_only
def test_dev_stdout_closed() -> None:
    proc = run_script(STDOUT_SCRIPT, "10", stdout=subprocess.DEVNULL, preexec=lambda: os.close(1))
    assert proc.stderr == "InputError: /dev/stdout: cannot write: it is not open for writing\n"


@posix_only
def test_dev_stdout_on_a_full_disk(tmp_path: Path) -> None:
    full = tmp_path / "full"
    make_device(full, stat.S_IFCHR, 1, 7)
    with open(full, "wb") as handle:
        proc = run_script(STDOUT_SCRIPT, "10", stdout=handle)
    assert proc.stderr == "InputError: /dev/stdout: cannot write: No space left on device\n"


@posix_only
def test_dev_stdout_into_a_pipe_closed_early() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", STDOUT_SCRIPT, "1000000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}, "PYTHONPATH": str(SRC)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()  # like `| head -c 100`
    err = proc.stderr.read().decode()
    proc.wait(60)
    assert err == "BrokenPipeError\n"
