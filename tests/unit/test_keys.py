"""Key formats (scoring.keys) are stored in unique columns: these are the formats
rows already hold, and a change that breaks one fails here."""

from __future__ import annotations

import pytest

from scoring.keys import (
    adjustment_line_key,
    award_line_key,
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
    ]
    assert len({key.split(":", 1)[0] for key in keys}) == len(keys)
