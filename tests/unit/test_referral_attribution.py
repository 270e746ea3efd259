"""The pure parts of referral attribution: signatures, the replay window and the outcome
of a stage."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from app.models import ReferralOutcome
from app.services.referrals import signature, signature_matches, timestamp_is_fresh
from scoring.referrals import Attribution, ProgrammeTerms, Reason, attribute
from scoring.vocabulary import ReferralStage

APPLIED, INTERVIEWED, HIRED = ReferralStage
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "whsec_test"
BODY = b'{"ref": "abc", "candidate_id": "c-1", "stage": "applied"}'


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, "1700000000", BODY) == f"sha256={expected}"


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (signature(SECRET, "1700000000", BODY), True),
        (" " + signature(SECRET, "1700000000", BODY) + " ", True),
        (signature(SECRET, "1700000000", BODY).removeprefix("sha256="), False),
        (signature("whsec_other", "1700000000", BODY), False),
        (signature(SECRET, "1700000001", BODY), False),
        (signature(SECRET, "1700000000", BODY + b" "), False),
        (signature(SECRET, "1700000000", BODY).upper(), False),
        ("", False),
        ("sha256=", False),
        ("sha256=ü", False),
    ],
)
def test_signature_matches(header, matches):
    assert signature_matches(SECRET, "1700000000", BODY, header) is matches


@pytest.mark.parametrize(
    ("offset", "fresh"),
    [(0, True), (-300, True), (300, True), (-301, False), (301, False), (-86400, False)],
)
def test_the_replay_window_is_five_minutes_either_side(offset, fresh):
    assert timestamp_is_fresh(str(int(NOW.timestamp()) + offset), NOW) is fresh


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "1.5", "-1", "1e9", "\u0661\u0667" + "\u0660" * 8, "9" * 40]
)
def test_a_timestamp_that_is_not_unix_seconds_is_stale(timestamp):
    assert timestamp_is_fresh(timestamp, NOW) is False


JOB = ProgrammeTerms(id=1, stages=["applied", "interviewed", "hired"], attribution_days=90)
HIRES_ONLY = ProgrammeTerms(id=2, stages=["hired"], attribution_days=30)
CLICK = NOW - timedelta(days=100)


def decide(stage=APPLIED, occurred_at=CLICK + timedelta(days=1), **overrides) -> Attribution:
    given = {
        "recorded_stages": [],
        "share_found": True,
        "programmes": [JOB],
        "window_start": CLICK,
        "owner_participating": True,
        **overrides,
    }
    return attribute(stage, occurred_at, **given)


awarded = ReferralOutcome.AWARDED
unattributed = ReferralOutcome.UNATTRIBUTED
backwards = ReferralOutcome.BACKWARDS


@pytest.mark.parametrize(
    ("stage", "occurred_at", "overrides", "expected"),
    [
        (APPLIED, CLICK + timedelta(days=1), {}, Attribution(awarded, None, 1)),
        (APPLIED, CLICK, {}, Attribution(awarded, None, 1)),
        (APPLIED, CLICK + timedelta(days=90), {}, Attribution(awarded, None, 1)),
        (
            APPLIED,
            CLICK + timedelta(days=90, seconds=1),
            {},
            Attribution(unattributed, Reason.OUTSIDE_WINDOW, 1),
        ),
        (
            APPLIED,
            CLICK + timedelta(days=91),
            {},
            Attribution(unattributed, Reason.OUTSIDE_WINDOW, 1),
        ),
        (
            APPLIED,
            CLICK - timedelta(seconds=1),
            {},
            Attribution(unattributed, Reason.OUTSIDE_WINDOW, 1),
        ),
        (HIRED, CLICK, {"recorded_stages": [APPLIED]}, Attribution(awarded, None, 1)),
        (
            INTERVIEWED,
            CLICK,
            {"recorded_stages": [APPLIED, HIRED]},
            Attribution(backwards, Reason.EARLIER_THAN_RECORDED),
        ),
        (
            APPLIED,
            CLICK,
            {"recorded_stages": [INTERVIEWED], "share_found": False},
            Attribution(backwards, Reason.EARLIER_THAN_RECORDED),
        ),
        (
            APPLIED,
            CLICK,
            {"share_found": False, "window_start": None},
            Attribution(unattributed, Reason.UNKNOWN_CODE),
        ),
        (APPLIED, CLICK, {"programmes": []}, Attribution(unattributed, Reason.NO_PROGRAMME)),
        (
            APPLIED,
            CLICK,
            {"programmes": [HIRES_ONLY]},
            Attribution(unattributed, Reason.STAGE_NOT_AWARDED, 2),
        ),
        (
            APPLIED,
            CLICK,
            {"owner_participating": False},
            Attribution(unattributed, Reason.OWNER_NOT_PARTICIPATING, 1),
        ),
        # Two programmes: the first whose window still holds wins.
        (
            HIRED,
            CLICK + timedelta(days=60),
            {"programmes": [HIRES_ONLY, JOB]},
            Attribution(awarded, None, 1),
        ),
        (
            HIRED,
            CLICK + timedelta(days=10),
            {"programmes": [HIRES_ONLY, JOB]},
            Attribution(awarded, None, 2),
        ),
    ],
)
def test_attribution(stage, occurred_at, overrides, expected):
    assert decide(stage, occurred_at, **overrides) == expected
