"""Teaching from the knowledge base: quizzes generated from it, and case practice graded by the engine.

Like GUIDON on MYCIN's rules, hipkb teaches from the same rules that
reason: every question's answer and every grade's explanation comes from
the KB's links, rules and quotes. :mod:`hipkb.teach.quiz` builds quizzes,
:mod:`hipkb.teach.practice` grades a student's reading of a case and
:mod:`hipkb.teach.anki` writes a quiz as an Anki deck.

>>> import hipkb
>>> from hipkb.teach.quiz import quiz
>>> len(quiz(hipkb.load_kb(), count=5, seed=7).questions)
5
"""

from __future__ import annotations

from .practice import Answers, Grade, GradedItem, grade, parse_answers, read_answers
from .quiz import KINDS, Cited, Question, Quiz, all_questions

__all__ = [
    "KINDS",
    "Cited",
    "Question",
    "Quiz",
    "all_questions",
    "Answers",
    "Grade",
    "GradedItem",
    "grade",
    "parse_answers",
    "read_answers",
]
