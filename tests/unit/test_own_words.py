"""Whether a share text is in the employee's own words: changed beyond small edits."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from scoring.engine import EventFacts, Rule, score_events
from scoring.sharing import in_own_words, own_word_count
from scoring.vocabulary import EventKind

TEMPLATE = (
    "We are building three new wind farms off the coast this year, "
    "and our engineers are hiring. Read more: https://example.com/wind"
)


@pytest.mark.parametrize(
    ("text", "own"),
    [
        pytest.param(TEMPLATE, False, id="unchanged"),
        pytest.param(TEMPLATE.upper(), False, id="only-case"),
        pytest.param("  " + TEMPLATE.replace(" ", "   ") + "  ", False, id="only-spacing"),
        pytest.param(TEMPLATE.replace("engineers", "engineeers"), False, id="typo"),
        pytest.param(
            TEMPLATE.replace("three", "3").replace("this year", "in 2027"),
            False,
            id="two-small-edits",
        ),
        pytest.param(
            TEMPLATE.replace("https://example.com/wind", "https://other.example/x?utm=1"),
            False,
            id="other-link",
        ),
        pytest.param(TEMPLATE + " #employee #GreenGrid", False, id="hashtags-added"),
        pytest.param("", False, id="emptied"),
        pytest.param("Read more", False, id="cut-down"),
        pytest.param(
            TEMPLATE + " I worked on the first one and I am proud of this team.",
            True,
            id="own-sentence-added",
        ),
        pytest.param(
            "Proud of my colleagues: three offshore projects starting soon, "
            "and we need more people who love the sea. Join us!",
            True,
            id="rewritten",
        ),
    ],
)
def test_own_words(text, own):
    assert in_own_words(TEMPLATE, text) is own


@pytest.mark.parametrize(
    ("template", "text", "own"),
    [
        pytest.param("Our summit", "See you all at our summit in Berlin", True, id="short-title"),
        pytest.param("Our summit", "Our summit!", False, id="short-title-punctuation"),
        pytest.param("", "A text of my very own, all new", True, id="no-template"),
        pytest.param("", "", False, id="nothing-at-all"),
    ],
)
def test_short_templates(template, text, own):
    assert in_own_words(template, text) is own


def test_count_and_similarity():
    own, similarity = own_word_count("a b c d", "a b c d")
    assert (own, similarity) == (0, 1.0)
    own, similarity = own_word_count("a b c d", "a x c d e")
    assert own == 2
    assert 0 < similarity < 1


# The engine's own-words condition ----------------------------------------------------

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _rule(own_words, kind=EventKind.SHARE):
    return Rule(1, 1, "Own words", kind, 10, datetime(2026, 1, 1, tzinfo=UTC), own_words=own_words)


def _event(own_words, kind=EventKind.SHARE):
    return EventFacts(1, kind, 7, AT, own_words=own_words)


@pytest.mark.parametrize(
    ("rule_own_words", "event_own_words", "kind", "points"),
    [
        (None, False, EventKind.SHARE, [10]),
        (None, True, EventKind.SHARE, [10]),
        (False, False, EventKind.SHARE, [10]),  # false is "any", as none is
        (True, True, EventKind.SHARE, [10]),
        (True, False, EventKind.SHARE, []),
        (True, True, EventKind.CLICK, [10]),  # a click on an own-words share
        (True, False, EventKind.CLICK, []),
    ],
)
def test_engine_condition(rule_own_words, event_own_words, kind, points):
    lines, _ = score_events(
        [_event(event_own_words, kind)],
        [_rule(rule_own_words, kind)],
        {},
        now=AT,
        zone=ZoneInfo("Europe/Berlin"),
    )
    assert [line.points for line in lines] == points
    if rule_own_words and lines:
        assert lines[0].reason.endswith("in your own words")
