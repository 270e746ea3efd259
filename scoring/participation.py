"""Who takes part in the game, and how they appear on boards.

Sharing is voluntary: nobody is tracked, scored or ranked before opting in, and an
employee may take part while staying pseudonymous or hidden on every board.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class Presence(StrEnum):
    """How an opted-in employee appears on leaderboards."""

    NAMED = "named"
    PSEUDONYM = "pseudonym"
    HIDDEN = "hidden"


class Network(StrEnum):
    """Social networks an employee can connect and share to."""

    LINKEDIN = "linkedin"
    X = "x"
    FACEBOOK = "facebook"
    XING = "xing"
    INSTAGRAM = "instagram"


def is_participating(opted_in_at: datetime | None, active: bool = True) -> bool:
    """Only active employees who opted in are tracked or scored."""
    return active and opted_in_at is not None


def is_ranked(opted_in_at: datetime | None, presence: Presence, active: bool = True) -> bool:
    """Hidden and opted-out employees are left off boards before ranking."""
    return is_participating(opted_in_at, active) and presence is not Presence.HIDDEN


def board_name(presence: Presence, name: str, pseudonym: str | None) -> str | None:
    """The name others see on a board, or None when the employee is not shown."""
    if presence is Presence.HIDDEN:
        return None
    if presence is Presence.PSEUDONYM:
        return pseudonym or "Anonymous advocate"
    return name
