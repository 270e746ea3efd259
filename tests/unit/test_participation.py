"""Who takes part, who is ranked and under which name (scoring/participation.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scoring.participation import Presence, board_name, is_participating, is_ranked

OPTED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("opted_in_at", "active", "expected"),
    [
        (OPTED, True, True),
        (None, True, False),
        (OPTED, False, False),
        (None, False, False),
    ],
)
def test_is_participating(opted_in_at, active, expected):
    assert is_participating(opted_in_at, active) is expected


def test_is_participating_defaults_to_active():
    assert is_participating(OPTED) is True
    assert is_participating(None) is False


@pytest.mark.parametrize(
    ("opted_in_at", "presence", "active", "expected"),
    [
        (OPTED, Presence.NAMED, True, True),
        (OPTED, Presence.PSEUDONYM, True, True),
        (OPTED, Presence.HIDDEN, True, False),
        (None, Presence.NAMED, True, False),
        (None, Presence.PSEUDONYM, True, False),
        (OPTED, Presence.NAMED, False, False),
        (OPTED, Presence.PSEUDONYM, False, False),
    ],
)
def test_is_ranked(opted_in_at, presence, active, expected):
    assert is_ranked(opted_in_at, presence, active) is expected


@pytest.mark.parametrize(
    ("presence", "name", "pseudonym", "expected"),
    [
        (Presence.NAMED, "Lena Hoffmann", None, "Lena Hoffmann"),
        (Presence.NAMED, "Lena Hoffmann", "Fox", "Lena Hoffmann"),
        (Presence.PSEUDONYM, "Lena Hoffmann", "Fox", "Fox"),
        (Presence.PSEUDONYM, "Lena Hoffmann", None, "Anonymous advocate"),
        (Presence.PSEUDONYM, "Lena Hoffmann", "", "Anonymous advocate"),
        (Presence.HIDDEN, "Lena Hoffmann", "Fox", None),
        (Presence.HIDDEN, "Lena Hoffmann", None, None),
    ],
)
def test_board_name(presence, name, pseudonym, expected):
    assert board_name(presence, name, pseudonym) == expected


@pytest.mark.parametrize("presence", list(Presence))
def test_a_pseudonym_never_reveals_the_name(presence):
    shown = board_name(presence, "Lena Hoffmann", "Fox")
    assert (shown == "Lena Hoffmann") is (presence is Presence.NAMED)
