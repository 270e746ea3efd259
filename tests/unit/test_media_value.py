"""Potential reach and earned-media value, by hand."""

from __future__ import annotations

from scoring.media_value import (
    DEFAULTS,
    Assumptions,
    assumptions_problem,
    earned_media_value,
)
from scoring.vocabulary import Channel


def test_value_is_a_range_from_the_low_and_high_assumptions():
    linkedin = Assumptions(cpm_cents=(800, 3500), cpc_cents=(200, 600), seen_percent=(2, 10))
    # 10,000 reach: 200 to 1,000 impressions; 30 clicks.
    # low: 800 * 200 / 1000 + 200 * 30 = 160 + 6000; high: 3500 * 1000 / 1000 + 600 * 30
    assert earned_media_value(10_000, 30, linkedin) == (6_160, 21_500)
    assert earned_media_value(0, 0, linkedin) == (0, 0)


def test_value_rounds_down_to_whole_cents():
    assumptions = Assumptions(cpm_cents=(999, 999), cpc_cents=(0, 0), seen_percent=(3, 3))
    # 999 * 333 * 3 / 100000 = 9.98...
    assert earned_media_value(333, 0, assumptions) == (9, 9)


def test_every_channel_has_sound_defaults():
    assert set(DEFAULTS) == set(Channel)
    assert all(assumptions_problem(a) == {} for a in DEFAULTS.values())


def test_assumptions_are_checked_field_by_field():
    assert assumptions_problem(Assumptions((900, 800), (0, 10), (5, 101))) == {
        "cpm_cents": "the low end must not be above the high end",
        "seen_percent": "must be between 0 and 100",
    }
    assert "cpc_cents" in assumptions_problem(Assumptions((0, 0), (-1, 10), (0, 0)))
