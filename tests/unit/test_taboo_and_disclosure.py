"""The taboo-topic guard and the disclosure: pure rules, table-driven."""

from __future__ import annotations

import pytest

from scoring.sharing import TabooTopic, find_taboo, pattern_error, with_disclosure

FIGURES = TabooTopic(
    name="Financial figures",
    explanation="Figures are published by Investor Relations first.",
    phrases=("quarterly revenue", "EBIT"),
    patterns=(r"Q[1-4]\s+results",),
)
PRODUCTS = TabooTopic(
    name="Unannounced products",
    explanation="Wait for the launch.",
    phrases=("Project Falcon",),
)
TOPICS = [FIGURES, PRODUCTS]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Our quarterly revenue grew", [("Financial figures", "quarterly revenue")]),
        ("QUARTERLY REVENUE grew", [("Financial figures", "QUARTERLY REVENUE")]),
        ("quarterly\n  revenue, finally", [("Financial figures", "quarterly\n  revenue")]),
        ("(EBIT) is up", [("Financial figures", "EBIT")]),
        ("EBIT.", [("Financial figures", "EBIT")]),
        ("#EBIT up", [("Financial figures", "EBIT")]),  # a hashtag is still the word
        ("EBITDA is a different word", []),  # whole words only
        ("rebit is not it either", []),
        ("quarterly revenues", []),  # the phrase, not a longer word
        ("Our q3   Results are in", [("Financial figures", "q3   Results")]),  # regex, any case
        ("Q5 results", []),
        ("Look at project falcon!", [("Unannounced products", "project falcon")]),
        (
            "EBIT and Project Falcon",
            [("Financial figures", "EBIT"), ("Unannounced products", "Project Falcon")],
        ),
        ("A great week at the office", []),
        ("", []),
    ],
)
def test_find_taboo(text, expected):
    hits = find_taboo(text, TOPICS)
    assert [(h.topic, h.matched) for h in hits] == expected
    for hit in hits:  # each hit carries the topic's explanation for the employee
        assert hit.explanation == next(t for t in TOPICS if t.name == hit.topic).explanation


def test_one_hit_per_topic_even_when_several_phrases_match():
    hits = find_taboo("EBIT and quarterly revenue and Q1 results", [FIGURES])
    assert len(hits) == 1


def test_phrases_are_literal_not_regular_expressions():
    topic = TabooTopic("Dots", "Literal.", phrases=("v1.0",))
    assert [h.matched for h in find_taboo("release v1.0 today", [topic])] == ["v1.0"]
    assert find_taboo("release v1x0 today", [topic]) == []


def test_blank_phrases_match_nothing():
    topic = TabooTopic("Blank", "Nothing.", phrases=("", "   "))
    assert find_taboo("any text at all", [topic]) == []


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        (r"Q[1-4]\s+results", True),
        (r"\bsalary\b", True),
        ("(unclosed", False),
        ("[a-", False),
        ("*starts with a star", False),
        (r"bad \k escape", False),
    ],
)
def test_pattern_error(pattern, valid):
    error = pattern_error(pattern)
    assert (error is None) == valid
    if not valid:
        assert isinstance(error, str)
        assert error


@pytest.mark.parametrize(
    ("text", "disclosure", "hashtag", "expected"),
    [
        ("Great read", "#employee", None, "Great read #employee"),
        ("  Great read  ", "#employee", None, "Great read #employee"),
        ("Great read", "#employee", "#TechDays", "Great read #employee #TechDays"),
        ("Great read #employee", "#employee", "#TechDays", "Great read #employee #TechDays"),
        ("#EMPLOYEE: great read", "#employee", None, "#EMPLOYEE: great read"),  # any case
        ("Great read #employees", "#employee", None, "Great read #employees #employee"),
        # glued to a word it is no hashtag on the networks: added as one
        ("Great read#employee", "#employee", None, "Great read#employee #employee"),
        (
            "Great read #techdays #employee",
            "#employee",
            "#TechDays",
            "Great read #techdays #employee",
        ),
        ("Great read", "#employee", "", "Great read #employee"),
        ("Great read", "#employee", "   ", "Great read #employee"),
    ],
)
def test_with_disclosure(text, disclosure, hashtag, expected):
    assert with_disclosure(text, disclosure, hashtag) == expected


@pytest.mark.parametrize(
    "edited",
    [
        "I removed the tag",
        "employee without the hash",
        "#employe almost",
        "#employee_not really",
    ],
)
def test_the_disclosure_cannot_be_edited_away(edited):
    final = with_disclosure(edited, "#employee", "#TechDays")
    assert final.endswith("#employee #TechDays")
    assert final.startswith(edited)


def test_adding_the_disclosure_twice_changes_nothing():
    once = with_disclosure("Great read", "#employee", "#TechDays")
    assert with_disclosure(once, "#employee", "#TechDays") == once
