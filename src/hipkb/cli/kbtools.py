"""``hipkb kb ...``: commands about the knowledge base itself."""

from __future__ import annotations

from .common import cli


@cli.group("kb")
def kb_group() -> None:
    """Check, cover and draw the knowledge base."""
