"""Regenerate the committed diagrams in diagrams/ (DOT, Mermaid and SVG).

    python scripts/make_diagrams.py           # write diagrams/
    python scripts/make_diagrams.py --check   # exit 1 if a DOT/Mermaid file is stale

Draws the KB's causal model, every example case under examples/, and the
path to one recommendation of each example (a focus diagram). The SVGs need
Graphviz's ``dot``; the check compares only the DOT and Mermaid text, which
does not depend on the Graphviz version.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

import hipkb
from hipkb.render import render

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "diagrams"
TEXT_SUFFIXES = {"dot": ".dot", "mermaid": ".mmd"}
#: Per example case, the recommendations (id, side) whose path is drawn alone.
FOCUS = {"demo-01": [("cable_crossover_step_up", "left")]}


def sources(repo: Path = REPO) -> dict[str, Callable[[str], Any]]:
    """Diagram name → a function drawing it in a given format."""
    kb = hipkb.load_kb()
    drawings: dict[str, Callable[[str], Any]] = {"kb-model": lambda fmt: render(kb, format=fmt)}
    for case in sorted((repo / "examples").glob("*.y*ml")):
        result = kb.assess(case)
        name = case.stem
        drawings[name] = lambda fmt, r=result: render(r, format=fmt)
        for item, side in FOCUS.get(name, []):
            drawings[f"{name}-{item}-{side}"] = lambda fmt, r=result, i=item, s=side: render(r, format=fmt, focus=i, side=s)
    return drawings


def expected_text(repo: Path = REPO) -> dict[str, str]:
    """File name → the DOT/Mermaid text it must hold."""
    out = {}
    for name, draw in sources(repo).items():
        for fmt, suffix in TEXT_SUFFIXES.items():
            out[name + suffix] = draw(fmt)
    return out


def stale(repo: Path = REPO) -> list[str]:
    """The DOT/Mermaid files in diagrams/ that are missing or out of date."""
    out_dir = repo / "diagrams"
    bad = []
    for file, text in expected_text(repo).items():
        path = out_dir / file
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            bad.append(file)
    return bad


def write(repo: Path = REPO) -> list[str]:
    out_dir = repo / "diagrams"
    out_dir.mkdir(exist_ok=True)
    written = []
    for name, draw in sources(repo).items():
        for fmt, suffix in TEXT_SUFFIXES.items():
            (out_dir / (name + suffix)).write_text(draw(fmt), encoding="utf-8")
            written.append(name + suffix)
        (out_dir / (name + ".svg")).write_bytes(draw("svg"))
        written.append(name + ".svg")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the DOT/Mermaid files are up to date")
    args = parser.parse_args(argv)
    try:
        if args.check:
            bad = stale()
            for file in bad:
                print(f"diagrams/{file} is stale: run python scripts/make_diagrams.py", file=sys.stderr)
            return 1 if bad else 0
        for file in write():
            print(f"wrote diagrams/{file}")
    except hipkb.HipkbError as exc:
        print(f"make_diagrams: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
