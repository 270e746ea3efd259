"""Key formats (scoring.keys) are stored in unique columns: these are the formats
rows already hold, and a change that breaks one fails here."""

from __future__ import annotations

import pytest

from scoring.keys import (
    adjustment_line_key,
    award_line_key,
    badge_grant_key,
    challenge_place_award_key,
    challenge_qualified_award_key,
    click_event_key,
    recalculation_line_key,
    referral_event_key,
    share_event_key,
)
from scoring.vocabulary import ReferralStage


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (share_event_key(17), "share:17"),
        (
            click_event_key(17, "9f86d081884c7d65", "2026-03-01"),
            "click:17:9f86d081884c7d65:2026-03-01",
        ),
        (referral_event_key("ab12", ReferralStage.APPLIED), "referral:ab12:applied"),
        (referral_event_key("ab12", ReferralStage.HIRED), "referral:ab12:hired"),
        (award_line_key(5, 3), "award:5:3"),
        (adjustment_line_key("2f1c-client-id"), "adjust:2f1c-client-id"),
        (recalculation_line_key(5, 3, 0), "recalc:5:3:0"),
        (recalculation_line_key(5, 3, 2), "recalc:5:3:2"),
        (challenge_place_award_key(4, 17, "badge"), "challenge:4:place:17:badge"),
        (challenge_qualified_award_key(4, 17, "points"), "challenge:4:qualified:17:points"),
    ],
)
def test_key_formats(key: str, expected: str):
    assert key == expected


def test_keys_of_different_things_never_collide():
    keys = [
        share_event_key(1),
        click_event_key(1, "v", "2026-03-01"),
        referral_event_key("1", ReferralStage.APPLIED),
        award_line_key(1, 1),
        adjustment_line_key("1"),
        recalculation_line_key(1, 1, 0),
        challenge_place_award_key(1, 1, "points"),
    ]
    assert len({key.split(":", 1)[0] for key in keys}) == len(keys)


def test_a_place_prize_and_a_qualifier_prize_of_the_same_kind_keep_apart():
    place = challenge_place_award_key(1, 2, "points")
    assert place != challenge_qualified_award_key(1, 2, "points")


def test_a_badge_grant_key_names_badge_level_employee_and_period():
    assert badge_grant_key("first-share", "once", 17, "all") == "badge:first-share:once:17:all"
    assert badge_grant_key("top-3", "once", 17, "challenge-4") == "badge:top-3:once:17:challenge-4"


@pytest.mark.parametrize(
    "other",
    [
        ("sharer", "silver", 17, "all"),
        ("sharer", "bronze", 18, "all"),
        ("sharer", "bronze", 17, "challenge-1"),
        ("sharer-2", "bronze", 17, "all"),
    ],
)
def test_badge_grants_differing_in_anything_have_different_keys(other):
    assert badge_grant_key("sharer", "bronze", 17, "all") != badge_grant_key(*other)
