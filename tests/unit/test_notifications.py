"""Which channels a notification goes out on: defaults, a person's choices, taking part."""

from __future__ import annotations

import pytest

from scoring.notifications import (
    DEFAULT_CHANNELS,
    OFFERED,
    Channel,
    Kind,
    channels_for,
)

BADGE, DECISION = Kind.BADGE_EARNED, Kind.REDEMPTION_DECIDED
IN_APP, EMAIL = Channel.IN_APP, Channel.EMAIL


@pytest.mark.parametrize(
    ("kind", "choices", "participating", "channels"),
    [
        # Nothing chosen: the defaults, gentle (the inbox; mail only for a decision).
        (BADGE, {}, True, {IN_APP}),
        (DECISION, {}, True, {IN_APP, EMAIL}),
        # A choice overrides the default for its own kind and channel only.
        (DECISION, {(DECISION, EMAIL): False}, True, {IN_APP}),
        (DECISION, {(BADGE, IN_APP): False}, True, {IN_APP, EMAIL}),
        (BADGE, {(BADGE, IN_APP): False}, True, set()),
        # A channel the kind does not offer stays off, whatever was stored.
        (BADGE, {(BADGE, EMAIL): True}, True, {IN_APP}),
        # Nobody who does not take part is told anything.
        (DECISION, {}, False, set()),
        (BADGE, {(BADGE, IN_APP): True}, False, set()),
    ],
)
def test_the_channels_follow_choices_over_defaults_and_only_for_people_taking_part(
    kind, choices, participating, channels
):
    assert channels_for(kind, choices, participating) == channels


def test_every_kind_offers_the_inbox_and_defaults_only_to_what_it_offers():
    for kind in Kind:
        assert IN_APP in OFFERED[kind]
        assert DEFAULT_CHANNELS[kind] <= OFFERED[kind]
