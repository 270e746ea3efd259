"""Referral attribution: whether a stage a candidate reached earns its referrer points.

The adapter finds the share behind a referral code, the programmes whose tag the
shared content carries, the last human click and the stages recorded before; this
decides the outcome and says why.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from scoring.vocabulary import ReferralStage


class ReferralOutcome(StrEnum):
    AWARDED = "awarded"  # a new, later stage: becomes an event
    BACKWARDS = "backwards"  # earlier than a stage already recorded: awards nothing
    UNATTRIBUTED = "unattributed"  # unknown code, not a programme's content, too late


class Reason:
    """Why a stage was not awarded; logged and shown to HR with a manual record."""

    UNKNOWN_CODE = "unknown_code"
    NO_PROGRAMME = "no_programme"
    STAGE_NOT_AWARDED = "stage_not_awarded"
    OUTSIDE_WINDOW = "outside_window"
    OWNER_NOT_PARTICIPATING = "owner_not_participating"
    EARLIER_THAN_RECORDED = "earlier_than_recorded"


REASON_TEXT = {
    Reason.UNKNOWN_CODE: "no share has this referral code",
    Reason.NO_PROGRAMME: "the shared content is not part of an active referral programme",
    Reason.STAGE_NOT_AWARDED: "the programme does not award this stage",
    Reason.OUTSIDE_WINDOW: "the stage came after the attribution window",
    Reason.OWNER_NOT_PARTICIPATING: "the employee who shared the link no longer takes part",
    Reason.EARLIER_THAN_RECORDED: "a later stage is recorded already for this candidate",
}


@dataclass(frozen=True)
class ProgrammeTerms:
    id: int
    stages: Collection[str]
    attribution_days: int


@dataclass(frozen=True)
class Attribution:
    outcome: ReferralOutcome
    reason: str | None = None
    programme_id: int | None = None


def attribute(
    stage: ReferralStage,
    occurred_at: datetime,
    *,
    recorded_stages: Collection[ReferralStage],
    share_found: bool,
    programmes: Sequence[ProgrammeTerms],
    window_start: datetime | None,
    owner_participating: bool,
) -> Attribution:
    """Decide a stage's outcome. ``programmes`` are the active ones whose tag the shared
    content carries (lowest id first); ``window_start`` is the last human click on the
    share before the stage, or the share's creation when nobody clicked."""
    if any(earlier.order > stage.order for earlier in recorded_stages):
        return Attribution(ReferralOutcome.BACKWARDS, Reason.EARLIER_THAN_RECORDED)
    unattributed = ReferralOutcome.UNATTRIBUTED
    if not share_found or window_start is None:
        return Attribution(unattributed, Reason.UNKNOWN_CODE)
    if not programmes:
        return Attribution(unattributed, Reason.NO_PROGRAMME)
    awarding = [p for p in programmes if stage.value in p.stages]
    if not awarding:
        return Attribution(unattributed, Reason.STAGE_NOT_AWARDED, programmes[0].id)
    in_window = [
        p
        for p in awarding
        if window_start <= occurred_at <= window_start + timedelta(days=p.attribution_days)
    ]
    if not in_window:
        return Attribution(unattributed, Reason.OUTSIDE_WINDOW, awarding[0].id)
    if not owner_participating:
        return Attribution(unattributed, Reason.OWNER_NOT_PARTICIPATING, in_window[0].id)
    return Attribution(ReferralOutcome.AWARDED, None, in_window[0].id)
