"""Lessons: short texts HR publishes with a few quiz questions, because training for
social media has to go on, not happen once.

Pure functions over plain values: whether a lesson's questions are well formed (with
problems named by field, e.g. ``questions.1.choices``), and how a set of answers is
graded. The adapter stores lessons and completions and writes the points line.

A lesson is passed when every question is answered right. After a wrong attempt the
result says which questions were wrong and what the right answer was: a lesson is for
learning, and the attempt costs nothing; points come once, for the first pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_QUESTIONS = 5
MIN_CHOICES = 2
MAX_CHOICES = 4
QUESTION_MAX = 300
CHOICE_MAX = 200


def question_problems(questions: Any) -> dict[str, list[str]]:
    """What is wrong with a lesson's questions, by field (``questions``,
    ``questions.<i>.question``, ``questions.<i>.choices``, ``questions.<i>.answer``);
    empty when they are fine. Indexes count from 0, as the JSON list does."""
    if not isinstance(questions, list):
        return {"questions": ["Give the questions as a list."]}
    problems: dict[str, list[str]] = {}
    if not questions:
        problems["questions"] = ["A lesson needs at least one quiz question."]
    if len(questions) > MAX_QUESTIONS:
        problems["questions"] = [f"A lesson has at most {MAX_QUESTIONS} questions."]
    for index, entry in enumerate(questions):
        at = f"questions.{index}"
        if not isinstance(entry, Mapping):
            problems[at] = ["Each question needs its text, its choices and the right answer."]
            continue
        text = entry.get("question")
        choices = entry.get("choices")
        texts = [text, *(choices if isinstance(choices, list) else [])]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            problems[at] = ["Text cannot hold the NUL character (\\0)."]
            continue
        if not isinstance(text, str) or not text.strip():
            problems[f"{at}.question"] = ["Write the question."]
        elif len(text.strip()) > QUESTION_MAX:
            problems[f"{at}.question"] = [f"Keep the question under {QUESTION_MAX} characters."]
        choices = entry.get("choices")
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            problems[f"{at}.choices"] = ["Give the choices as a list of texts."]
            choices = None
        else:
            cleaned = [c.strip() for c in choices]
            if any(not c for c in cleaned):
                problems[f"{at}.choices"] = ["A choice cannot be empty."]
            elif not MIN_CHOICES <= len(cleaned) <= MAX_CHOICES:
                problems[f"{at}.choices"] = [
                    f"Give between {MIN_CHOICES} and {MAX_CHOICES} choices."
                ]
            elif any(len(c) > CHOICE_MAX for c in cleaned):
                problems[f"{at}.choices"] = [f"Keep each choice under {CHOICE_MAX} characters."]
            elif len({c.casefold() for c in cleaned}) != len(cleaned):
                problems[f"{at}.choices"] = ["Two choices say the same."]
        answer = entry.get("answer")
        if isinstance(answer, bool) or not isinstance(answer, int):
            problems[f"{at}.answer"] = ["Mark which choice is right."]
        elif choices is not None and not 0 <= answer < len(choices):
            problems[f"{at}.answer"] = ["The right answer must be one of the choices."]
    return problems


def tidy_questions(questions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Questions as stored: texts trimmed, only the three known keys. Call after
    ``question_problems`` found none."""
    return [
        {
            "question": q["question"].strip(),
            "choices": [c.strip() for c in q["choices"]],
            "answer": int(q["answer"]),
        }
        for q in questions
    ]


def without_answers(questions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The quiz as someone taking it sees it: questions and choices, no right answers."""
    return [{"question": q["question"], "choices": list(q["choices"])} for q in questions]


@dataclass(frozen=True)
class Mistake:
    """A question answered wrong (or not at all), and what was right."""

    index: int
    question: str
    given: int | None
    right: int
    right_choice: str


@dataclass(frozen=True)
class Grade:
    passed: bool
    right: int
    total: int
    mistakes: tuple[Mistake, ...]

    @property
    def wrong_indexes(self) -> list[int]:
        return [m.index for m in self.mistakes]


def answer_problems(questions: Sequence[Mapping[str, Any]], answers: Any) -> dict[str, list[str]]:
    """Answers that cannot be graded: not a list, the wrong number, or a choice that does
    not exist. A missing answer (``None``) is allowed; it counts as wrong."""
    if not isinstance(answers, list):
        return {"answers": ["Give one answer per question, as a list."]}
    if len(answers) != len(questions):
        return {"answers": [f"Give {len(questions)} answers, one per question."]}
    problems: dict[str, list[str]] = {}
    for index, (question, given) in enumerate(zip(questions, answers, strict=True)):
        if given is None:
            continue
        if isinstance(given, bool) or not isinstance(given, int):
            problems[f"answers.{index}"] = ["Pick one of the choices."]
        elif not 0 <= given < len(question["choices"]):
            problems[f"answers.{index}"] = ["That choice does not exist."]
    return problems


def grade(questions: Sequence[Mapping[str, Any]], answers: Sequence[int | None]) -> Grade:
    """Passed when every question is answered right. Call after ``answer_problems``
    found none."""
    mistakes = tuple(
        Mistake(
            index=index,
            question=question["question"],
            given=given,
            right=question["answer"],
            right_choice=question["choices"][question["answer"]],
        )
        for index, (question, given) in enumerate(zip(questions, answers, strict=True))
        if given != question["answer"]
    )
    total = len(questions)
    return Grade(
        passed=total > 0 and not mistakes,
        right=total - len(mistakes),
        total=total,
        mistakes=mistakes,
    )


def lesson_reason(title: str) -> str:
    """The words on the points line, as the employee reads them in their ledger."""
    return f"Lesson: {title}"[:300]
