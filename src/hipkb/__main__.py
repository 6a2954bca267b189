"""``python -m hipkb ...`` runs the command line, exactly like the ``hipkb`` script."""

from __future__ import annotations

if __name__ == "__main__":
    from hipkb.cli import entry

    entry()
