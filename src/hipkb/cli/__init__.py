"""The ``hipkb`` command line: parse → library → print → exit code.

Exit codes: 0 success, 1 a check failed, 2 bad input (or a missing tool);
errors are one line on stderr, with a traceback only under ``--debug``.
"""

from __future__ import annotations

import gc
import sys
import traceback
from typing import Sequence

import click

from ..errors import HipkbError
from .common import cli
from . import assess as _assess  # noqa: F401  (registers commands)
from . import explain as _explain  # noqa: F401
from . import kbtools as _kbtools  # noqa: F401
from . import batch as _batch  # noqa: F401
from . import diagram as _diagram  # noqa: F401
from . import sensitivity as _sensitivity  # noqa: F401
from . import teach as _teach  # noqa: F401

__all__ = ["cli", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="hipkb", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.Abort:
        click.echo("hipkb: interrupted", err=True)
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except HipkbError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"hipkb: error: {exc}", err=True)
        code = 2
    except BrokenPipeError:
        code = 0
    except KeyboardInterrupt:
        click.echo("hipkb: interrupted", err=True)
        code = 130
    except Exception as exc:  # a bug: say so in one line unless debugging
        if debug:
            traceback.print_exc()
        click.echo(f"hipkb: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", err=True)
        code = 3
    return int(code or 0)


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
