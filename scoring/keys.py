"""The keys that make writes idempotent: an event's natural key (one event per thing
that happened) and a ledger line's key (one line per reason to write it).

Stored in unique columns, so a format once written is data: changing one lets old
rows and new ones stop colliding. Every key is made here.
"""

from __future__ import annotations

from scoring.vocabulary import ReferralStage

# Events --------------------------------------------------------------------------


def share_event_key(share_id: int) -> str:
    return f"share:{share_id}"


def click_event_key(share_id: int, visitor: str, day: str) -> str:
    """One counted click per share, visitor and company-local day (ISO date)."""
    return f"click:{share_id}:{visitor}:{day}"


def referral_event_key(candidate_hash: str, stage: ReferralStage) -> str:
    """One event per candidate and stage, whichever share or report brought it."""
    return f"referral:{candidate_hash}:{stage.value}"


# Ledger lines --------------------------------------------------------------------


def award_line_key(event_id: int, rule_id: int) -> str:
    """One award per event and rule, whichever of the rule's versions scored it."""
    return f"award:{event_id}:{rule_id}"


def adjustment_line_key(adjustment_id: str) -> str:
    """An admin's adjustment: one line per client-chosen id."""
    return f"adjust:{adjustment_id}"


def recalculation_line_key(event_id: int, rule_id: int, earlier_lines: int) -> str:
    """A compensating line. The count of the event's earlier lines under the rule makes
    it deterministic: a second run that finds the same state writes the same key."""
    return f"recalc:{event_id}:{rule_id}:{earlier_lines}"


# Challenge prizes ------------------------------------------------------------------


def challenge_place_award_key(challenge_id: int, employee_id: int, prize_kind: str) -> str:
    """A prize for a place: one per challenge, employee and kind of prize (a badge,
    bonus points, a reward), however often settlement runs. Also the key of the
    ledger line that pays a points prize."""
    return f"challenge:{challenge_id}:place:{employee_id}:{prize_kind}"


def challenge_qualified_award_key(challenge_id: int, employee_id: int, prize_kind: str) -> str:
    """A prize for everyone who qualifies: one per challenge, employee and kind."""
    return f"challenge:{challenge_id}:qualified:{employee_id}:{prize_kind}"


# Badge grants ----------------------------------------------------------------------


def badge_grant_key(badge_id: str, level: str, employee_id: int, period: str) -> str:
    """One grant per badge, level, employee and period ("all" for a badge earned once per
    level). By the badge's stable id, never its name, so an edit does not re-award."""
    return f"badge:{badge_id}:{level}:{employee_id}:{period}"


# Lessons ---------------------------------------------------------------------------


def lesson_line_key(lesson_id: int, employee_id: int) -> str:
    """The points for finishing a lesson: one line per lesson and person, however often
    the quiz is passed or the answers sent."""
    return f"lesson:{lesson_id}:{employee_id}"
