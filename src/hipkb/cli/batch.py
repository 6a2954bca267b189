"""Commands of the hipkb CLI (see cli/__init__.py)."""

from __future__ import annotations

from .common import cli  # noqa: F401
