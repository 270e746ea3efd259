"""Notifications: what Chorus tells whom, and on which channel.

An in-app notification is a row in the person's inbox, written in the transaction of
what caused it (a badge earned, a decision on a redemption) under a
natural key, so a job that runs twice tells nobody twice. E-mail goes out for the
kinds that offer it (``OFFERED``).

Each person decides per kind and channel; what they have not decided follows
``DEFAULT_CHANNELS``, which keeps the defaults gentle: the inbox for everything, no
other channel unless the person turns it on. Nothing is written for anyone who does
not take part (not opted in, opted out, deactivated, erased).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Kind(StrEnum):
    BADGE_EARNED = "badge_earned"
    REDEMPTION_DECIDED = "redemption_decided"


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"


# The channels each kind can go out on.
OFFERED: dict[Kind, frozenset[Channel]] = {
    Kind.BADGE_EARNED: frozenset({Channel.IN_APP}),
    Kind.REDEMPTION_DECIDED: frozenset({Channel.IN_APP, Channel.EMAIL}),
}

# What a person gets when they have not decided: every kind in the inbox. Mail only
# for a decision on a redemption, which the person asked for and waits on.
DEFAULT_CHANNELS: dict[Kind, frozenset[Channel]] = {
    Kind.BADGE_EARNED: frozenset({Channel.IN_APP}),
    Kind.REDEMPTION_DECIDED: frozenset({Channel.IN_APP, Channel.EMAIL}),
}

KIND_LABELS: dict[Kind, str] = {
    Kind.BADGE_EARNED: "A badge you earned",
    Kind.REDEMPTION_DECIDED: "A decision on a reward you redeemed",
}

CHANNEL_LABELS: dict[Channel, str] = {Channel.IN_APP: "In Chorus", Channel.EMAIL: "E-mail"}


def offered() -> list[tuple[Kind, Channel]]:
    """Every (kind, channel) a person can turn on or off, in the order pages list them."""
    return [(kind, channel) for kind in Kind for channel in Channel if channel in OFFERED[kind]]


def channels_for(
    kind: Kind, choices: Mapping[tuple[Kind, Channel], bool], participating: bool
) -> frozenset[Channel]:
    """The channels a notification of ``kind`` goes out on for a person with these
    ``choices`` ((kind, channel) -> on or off; anything missing follows the default):
    none for someone who does not take part."""
    if not participating:
        return frozenset()
    return frozenset(
        channel
        for channel in OFFERED[kind]
        if choices.get((kind, channel), channel in DEFAULT_CHANNELS[kind])
    )
