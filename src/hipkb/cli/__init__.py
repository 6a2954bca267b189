"""The ``hipkb`` command line: parse → library → print → exit code.

Exit codes: 0 success, 1 a check failed, 2 bad input or an output that
cannot be written, 130 interrupted. Every error is one line on stderr
(``hipkb: error: …``; a case file with several errors gives one located
line each), with a traceback only under ``--debug``. A reader that stops
early (``hipkb assess CASE | head -c 100``) ends the run quietly with 0.
"""

from __future__ import annotations

import errno
import gc
import io
import os
import sys
from typing import Sequence

import click

from ..errors import HipkbError, one_line
from .common import cli
# Commands are imported when they run: see COMMAND_MODULES in .common.

__all__ = ["cli", "main", "entry"]

#: Errors of writing to a stream that are the output's fault, not a bug.
_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EIO, errno.EBADF, errno.EFBIG, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM})


class _ClosedStream(io.TextIOBase):
    """Stands for a standard output that was closed before the run (``hipkb … >&-``).

    Python sets ``sys.stdout`` to None then, and click would print nothing
    and succeed; writing to this raises the error a closed descriptor gives.
    """

    encoding = "utf-8"
    errors = "strict"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("text expected")
        if text:
            raise OSError(errno.EBADF, "it is not open for writing")
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    closed = sys.stdout is None
    if closed:
        sys.stdout = _ClosedStream()
    try:
        return _run(args, debug)
    finally:
        if closed:
            sys.stdout = None


def _run(args: list[str], debug: bool) -> int:
    try:
        with cli.make_context("hipkb", args) as ctx:
            code = cli.invoke(ctx)
        _flush_stdout()
    except click.exceptions.Exit as exc:
        code = exc.exit_code
        try:
            _flush_stdout()
        except BrokenPipeError:
            return _quiet_broken_pipe()
        except OSError as err:
            return _output_failed(err, debug)
    except (click.exceptions.Abort, KeyboardInterrupt, EOFError):
        _say("hipkb: interrupted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except HipkbError as exc:
        if debug:
            _print_traceback()
        problems = getattr(exc, "problems", ()) or (exc,)
        for problem in problems:
            _say(f"hipkb: error: {problem}")
        return 2
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OSError as exc:
        if exc.errno in _WRITE_ERRORS and exc.filename is None:
            return _output_failed(exc, debug)
        return _internal_error(exc, debug)
    except Exception as exc:  # a bug: say so in one line unless debugging
        return _internal_error(exc, debug)
    return int(code or 0)


def _flush_stdout() -> None:
    """Flush what the command printed, so a full disk shows up here and not at exit."""
    if sys.stdout is not None:
        sys.stdout.flush()


def _say(line: str) -> None:
    """One line on stderr; nothing if stderr is gone too."""
    try:
        click.echo(line, err=True)
    except (OSError, ValueError):
        pass


def _output_failed(exc: OSError, debug: bool) -> int:
    if debug:
        _print_traceback()
    _say(f"hipkb: error: standard output: cannot write: {one_line(exc.strerror or str(exc))}")
    _detach_stdout()
    return 2


def _quiet_broken_pipe() -> int:
    """The reader stopped early (``| head``): nothing is wrong with the run."""
    _detach_stdout()
    return 0


def _internal_error(exc: BaseException, debug: bool) -> int:
    if debug:
        _print_traceback()
    _say(f"hipkb: internal error: {type(exc).__name__}: {one_line(str(exc))} (rerun with --debug for details)")
    return 3


def _detach_stdout() -> None:
    """Point the real standard output at /dev/null, so the final flush at exit cannot fail again.

    Only the process's own stdout (fd 1) is touched, never a stream a
    caller (a test runner) put in its place.
    """
    stream = sys.stdout
    if stream is None or stream is not sys.__stdout__:
        return
    try:
        fd = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


def _print_traceback() -> None:
    import traceback  # only under --debug or on a bug: ~2 ms of every cold start otherwise

    traceback.print_exc()


def entry() -> None:
    # One short-lived process: cycle collection buys nothing here (assessing
    # a case leaves no cyclic garbage; measured over thousands) and costs
    # ~5% of a cold run; freezing before exit spares the final collection a
    # walk over everything the run loaded (~10%). Library callers never get
    # here: this is the console script only.
    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)
