"""The domain's vocabulary: where a share goes, what earns points, how far a referred
candidate got. Stored as their values; every layer speaks these names."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """Where a share goes: the social networks, plus e-mail."""

    LINKEDIN = "linkedin"
    X = "x"
    FACEBOOK = "facebook"
    XING = "xing"
    INSTAGRAM = "instagram"
    EMAIL = "email"

    @property
    def label(self) -> str:
        """The network's own spelling, as people read it."""
        return CHANNEL_LABELS[self]


CHANNEL_LABELS = {
    Channel.LINKEDIN: "LinkedIn",
    Channel.X: "X",
    Channel.FACEBOOK: "Facebook",
    Channel.XING: "XING",
    Channel.INSTAGRAM: "Instagram",
    Channel.EMAIL: "E-mail",
}


class EventKind(StrEnum):
    """What can earn points. Every event has a natural key that makes it unique."""

    SHARE = "share"
    CLICK = "click"
    REFERRAL_APPLIED = "referral_applied"
    REFERRAL_INTERVIEWED = "referral_interviewed"
    REFERRAL_HIRED = "referral_hired"


class ReferralStage(StrEnum):
    APPLIED = "applied"
    INTERVIEWED = "interviewed"
    HIRED = "hired"

    @property
    def order(self) -> int:
        return list(ReferralStage).index(self)

    @property
    def event_kind(self) -> EventKind:
        return EventKind(f"referral_{self.value}")
