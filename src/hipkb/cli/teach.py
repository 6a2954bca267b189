"""``hipkb teach``: commands are added here by the teach work (see the issue tracker)."""

from __future__ import annotations
