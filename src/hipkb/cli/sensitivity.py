"""``hipkb sensitivity``: commands are added here by the sensitivity work (see the issue tracker)."""

from __future__ import annotations
