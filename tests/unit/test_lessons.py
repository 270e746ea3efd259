"""Lessons' pure core: well-formed questions (problems named by field) and grading."""

from __future__ import annotations

import pytest

from scoring.keys import lesson_line_key
from scoring.lessons import (
    answer_problems,
    grade,
    lesson_reason,
    question_problems,
    tidy_questions,
    without_answers,
)


def q(question="Which is fine to share?", choices=("Public news", "Salaries"), answer=0):
    return {"question": question, "choices": list(choices), "answer": answer}


QUIZ = [q(), q("Disclose?", ("Yes, always", "Never", "Only on X"), 0), q(answer=1)]


@pytest.mark.parametrize(
    ("questions", "fields"),
    [
        pytest.param([q()], set(), id="fine"),
        pytest.param([q(choices=("a", "b", "c", "d"), answer=3)], set(), id="four-choices"),
        pytest.param([], {"questions"}, id="none"),
        pytest.param("nope", {"questions"}, id="not-a-list"),
        pytest.param([q()] * 6, {"questions"}, id="too-many"),
        pytest.param([q(), "text"], {"questions.1"}, id="not-an-object"),
        pytest.param(
            [{"question": "x", "choices": 5, "answer": 0}],
            {"questions.0.choices"},
            id="choices-a-number",
        ),
        pytest.param([q(), q(question="a\x00b")], {"questions.1"}, id="nul"),
        pytest.param([q(question="  ")], {"questions.0.question"}, id="blank-question"),
        pytest.param([q(question="x" * 301)], {"questions.0.question"}, id="long-question"),
        pytest.param([q(), q(choices=("only",))], {"questions.1.choices"}, id="one-choice"),
        pytest.param([q(choices=list("abcde"))], {"questions.0.choices"}, id="five-choices"),
        pytest.param([q(choices=("a", " "))], {"questions.0.choices"}, id="empty-choice"),
        pytest.param([q(choices=("Yes", "yes"))], {"questions.0.choices"}, id="same-choice"),
        pytest.param(
            [q(), {"question": "x", "choices": "a,b", "answer": 0}],
            {"questions.1.choices"},
            id="choices-not-a-list",
        ),
        pytest.param([q(answer=2)], {"questions.0.answer"}, id="answer-out-of-range"),
        pytest.param([q(answer=-1)], {"questions.0.answer"}, id="answer-negative"),
        pytest.param([q(answer=None)], {"questions.0.answer"}, id="answer-missing"),
        pytest.param([q(answer=True)], {"questions.0.answer"}, id="answer-bool"),
        pytest.param([q(answer="0")], {"questions.0.answer"}, id="answer-text"),
        pytest.param(
            [q(question="", choices=("a",), answer=5)],
            {"questions.0.question", "questions.0.choices", "questions.0.answer"},
            id="everything-wrong",
        ),
    ],
)
def test_question_problems(questions, fields):
    problems = question_problems(questions)
    assert set(problems) == fields
    assert all(problems[name] for name in problems)


def test_tidy_and_without_answers():
    tidy = tidy_questions([{"question": " Why? ", "choices": [" a ", "b"], "answer": 1, "x": 1}])
    assert tidy == [{"question": "Why?", "choices": ["a", "b"], "answer": 1}]
    assert without_answers(tidy) == [{"question": "Why?", "choices": ["a", "b"]}]


@pytest.mark.parametrize(
    ("answers", "passed", "wrong"),
    [
        pytest.param([0, 0, 1], True, [], id="all-right"),
        pytest.param([1, 0, 1], False, [0], id="first-wrong"),
        pytest.param([0, 2, 0], False, [1, 2], id="two-wrong"),
        pytest.param([None, 0, 1], False, [0], id="one-unanswered"),
        pytest.param([None, None, None], False, [0, 1, 2], id="none-answered"),
    ],
)
def test_grade(answers, passed, wrong):
    result = grade(QUIZ, answers)
    assert result.passed is passed
    assert result.wrong_indexes == wrong
    assert result.right == 3 - len(wrong)
    assert result.total == 3
    for mistake in result.mistakes:  # the right answer is told after a wrong attempt
        assert mistake.right_choice == QUIZ[mistake.index]["choices"][QUIZ[mistake.index]["answer"]]


def test_no_questions_never_passes():
    assert grade([], []).passed is False


@pytest.mark.parametrize(
    ("answers", "fields"),
    [
        pytest.param([0, 0, 1], set(), id="fine"),
        pytest.param([0, None, 1], set(), id="unanswered-is-gradable"),
        pytest.param([0, 0], {"answers"}, id="too-few"),
        pytest.param([0, 0, 1, 1], {"answers"}, id="too-many"),
        pytest.param("0,0,1", {"answers"}, id="not-a-list"),
        pytest.param([0, 3, 1], {"answers.1"}, id="no-such-choice"),
        pytest.param([0, -1, 1], {"answers.1"}, id="negative"),
        pytest.param([0, "a", True], {"answers.1", "answers.2"}, id="not-numbers"),
    ],
)
def test_answer_problems(answers, fields):
    assert set(answer_problems(QUIZ, answers)) == fields


def test_line_key_and_reason():
    assert lesson_line_key(4, 17) == "lesson:4:17"
    assert lesson_line_key(4, 17) != lesson_line_key(41, 7)
    assert lesson_reason("Profiles") == "Lesson: Profiles"
    assert len(lesson_reason("x" * 400)) == 300
