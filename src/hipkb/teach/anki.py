"""A quiz as an Anki deck (``.apkg``), written with genanki.

One deck with a stable id; each question is one note whose GUID and note
id come from the question's id, so importing a new export of the same
quiz into Anki updates the notes it already has instead of adding
duplicates. The note's modification time is the ``timestamp`` given: Anki
takes a re-imported note's new text when it is newer than the one it has,
so pass the export time (the CLI does); pass a fixed one for a
byte-identical file.

genanki is imported only here, and only when a deck is built.

>>> from hipkb.kb import load_model
>>> from hipkb.teach.quiz import quiz
>>> data = anki_package(quiz(load_model(), count=2, seed=1), timestamp=0)
>>> data[:2]
b'PK'
>>> data == anki_package(quiz(load_model(), count=2, seed=1), timestamp=0)
True
"""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import sqlite3
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from ..errors import InputError
from .quiz import Question, Quiz, source_line

__all__ = ["DECK_NAME", "DECK_ID", "MODEL_ID", "anki_package", "note_guid", "note_id"]

#: The deck's name in Anki.
DECK_NAME = "hipkb: hip internal rotation"
#: Fixed ids (Anki matches decks and note types by id): never change them.
DECK_ID = 1_613_730_091
MODEL_ID = 1_613_730_092

_LETTERS = "ABCDEFGH"
_CSS = """.card { font-family: sans-serif; font-size: 18px; text-align: left; color: #111; background: #fff; }
.choices { margin: 0.6em 0 0 0; padding-left: 1.4em; }
.answer { font-weight: bold; }
.source { color: #444; font-size: 15px; margin-top: 0.8em; }
"""
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def note_guid(question_id: str) -> str:
    """The Anki GUID of a question's note: the same for the same question id, in every export."""
    return str(_genanki().guid_for("hipkb", question_id))


def note_id(question_id: str) -> int:
    """The note id of a question (a positive integer below 2**52, stable across exports)."""
    return _stable_int("note", question_id)


def _stable_int(kind: str, text: str) -> int:
    digest = hashlib.sha256(f"hipkb:{kind}:{text}".encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % (2**52 - 1)


def _genanki() -> Any:
    try:
        import genanki  # type: ignore[import-untyped]  # genanki ships no type hints
    except ImportError:
        raise InputError(
            "an Anki deck needs the genanki package, which is not installed", hint="pip install genanki"
        ) from None
    return genanki


def _front(q: Question) -> str:
    items = "".join(f"<li>{_LETTERS[i]}. {html.escape(c)}</li>" for i, c in enumerate(q.choices))
    return f"<div>{html.escape(q.prompt)}</div><ol class=\"choices\" type=\"A\">{items}</ol>"


def _back(q: Question) -> str:
    return (
        f"<div class=\"answer\">{_LETTERS[q.answer_index]}. {html.escape(q.answer)}</div>"
        f"<div>{html.escape(q.explanation)}</div>"
        f"<div class=\"source\">{html.escape(source_line(q.source))}</div>"
    )


def anki_package(quiz: Quiz, *, timestamp: float, deck_name: str = DECK_NAME) -> bytes:
    """The quiz as the bytes of an ``.apkg`` file (one deck, one note per question).

    ``timestamp`` (seconds since 1970) is the notes' modification time.
    Raises :class:`~hipkb.errors.InputError` when genanki is not installed.
    """
    genanki = _genanki()
    model = genanki.Model(
        MODEL_ID,
        "hipkb quiz question",
        fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Id"}],
        templates=[{
            "name": "Card 1",
            "qfmt": "{{Question}}",
            "afmt": "{{FrontSide}}<hr id=\"answer\">{{Answer}}",
        }],
        css=_CSS,
        sort_field_index=2,
    )
    deck = genanki.Deck(DECK_ID, deck_name, description="Questions generated from the hipkb knowledge base.")
    for q in quiz.questions:
        deck.add_note(genanki.Note(
            model=model,
            fields=[_front(q), _back(q), html.escape(q.id)],
            guid=note_guid(q.id),
            tags=["hipkb", q.kind],
        ))
    package = genanki.Package(deck)
    with tempfile.TemporaryDirectory(prefix="hipkb-anki-") as folder:
        path = Path(folder) / "collection.anki2"
        conn = sqlite3.connect(path)
        try:
            cursor = conn.cursor()
            package.write_to_db(cursor, timestamp, itertools.count(int(timestamp * 1000)))
            for q in quiz.questions:
                guid = note_guid(q.id)
                (old,) = cursor.execute("SELECT id FROM notes WHERE guid = ?", (guid,)).fetchone()
                new = note_id(q.id)
                cursor.execute("UPDATE notes SET id = ? WHERE id = ?", (new, old))
                cursor.execute("UPDATE cards SET nid = ?, id = ? WHERE nid = ?", (new, _stable_int("card", q.id), old))
            conn.commit()
        finally:
            conn.close()
        collection = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in (("collection.anki2", collection), ("media", b"{}")):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()
