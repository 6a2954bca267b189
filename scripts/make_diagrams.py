"""Regenerate the committed diagrams in diagrams/ (DOT, Mermaid and SVG), drawn with the slide defaults.

    python scripts/make_diagrams.py           # write diagrams/
    python scripts/make_diagrams.py --check   # exit 1 if a DOT/Mermaid file is stale, missing or left over

Draws the KB's model in layers, every example case under examples/, the
pelvic chain of each example, and the path to one recommendation of each
(a focus diagram). The SVGs need Graphviz's ``dot``; the check compares
only the DOT and Mermaid text, which does not depend on the Graphviz
version. Files are written atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

import hipkb
from hipkb.output import write_atomic
from hipkb.render import render

REPO = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {"dot": ".dot", "mermaid": ".mmd"}
ALL_SUFFIXES = (".dot", ".mmd", ".svg")
#: Per example case, the recommendations (id, side) whose path is drawn alone.
FOCUS = {"demo-01": [("arm_bar", "left")]}


def is_case(path: Path) -> bool:
    """True when the file is a case (a mapping with findings), not some other example."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return True  # let assessing it report the error
    return isinstance(data, dict) and "findings" in data


def sources(repo: Path = REPO) -> dict[str, Callable[[str], Any]]:
    """Diagram name → a function drawing it in a given format."""
    kb = hipkb.load_kb()
    drawings: dict[str, Callable[[str], Any]] = {"kb-model": lambda fmt: render(kb, format=fmt)}
    for case in sorted((repo / "examples").glob("*.y*ml")):
        if not is_case(case):
            continue  # e.g. a student's answers for hipkb practice
        result = kb.assess(case)
        name = case.stem
        drawings[name] = lambda fmt, r=result: render(r, format=fmt)
        drawings[f"{name}-chain"] = lambda fmt, r=result: render(r, format=fmt, chain=True)
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


def leftovers(repo: Path, names: set[str]) -> list[str]:
    """Diagram files in diagrams/ that no drawing produces any more."""
    out_dir = repo / "diagrams"
    if not out_dir.is_dir():
        return []
    return sorted(p.name for p in out_dir.iterdir() if p.suffix in ALL_SUFFIXES and p.stem not in names)


def stale(repo: Path = REPO) -> list[str]:
    """The DOT/Mermaid files in diagrams/ that are missing or out of date, and files left over."""
    out_dir = repo / "diagrams"
    bad = []
    expected = expected_text(repo)
    for file, text in expected.items():
        path = out_dir / file
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            bad.append(file)
    return bad + leftovers(repo, {Path(f).stem for f in expected})


def write(repo: Path = REPO) -> list[str]:
    out_dir = repo / "diagrams"
    out_dir.mkdir(exist_ok=True)
    written = []
    drawings = sources(repo)
    for name, draw in drawings.items():
        for fmt, suffix in TEXT_SUFFIXES.items():
            write_atomic(out_dir / (name + suffix), draw(fmt).encode("utf-8"))
            written.append(name + suffix)
        write_atomic(out_dir / (name + ".svg"), draw("svg"))
        written.append(name + ".svg")
    for file in leftovers(repo, set(drawings)):
        (out_dir / file).unlink()
        written.append(f"{file} (removed)")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
