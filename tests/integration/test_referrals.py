"""Referral attribution against real SQL: programmes, integrations, and each stage
recorded once, with an event only for a new, later, attributed stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import (
    AuditEntry,
    ClickKind,
    Event,
    Integration,
    Referral,
    ReferralOutcome,
    Share,
    utcnow,
)
from app.services import referrals
from app.services.referrals import BadSignature, signature
from scoring.referrals import Reason
from scoring.vocabulary import EventKind, ReferralStage
from tests.factories import (
    ClickRecordFactory,
    ContentItemFactory,
    ContentTagFactory,
    EmployeeFactory,
    IntegrationFactory,
    ReferralProgrammeFactory,
    ShareFactory,
)

APPLIED, INTERVIEWED, HIRED = ReferralStage
AWARDED = ReferralOutcome.AWARDED
BACKWARDS = ReferralOutcome.BACKWARDS
UNATTRIBUTED = ReferralOutcome.UNATTRIBUTED


@dataclass
class JobAd:
    share: Share
    shared_at: object


def job_share(tag: str = "job", days_ago: int = 10, **employee) -> JobAd:
    content = ContentItemFactory(title="Backend engineer (m/f/d)")
    ContentTagFactory(content_id=content.id, tag=tag)
    owner = EmployeeFactory(opted_in=True, **employee)
    shared_at = utcnow() - timedelta(days=days_ago)
    share = ShareFactory(employee=owner, content=content, created_at=shared_at)
    return JobAd(share, shared_at)


def record(ad_or_code, stage=APPLIED, candidate="cand-1", **kwargs):
    code = ad_or_code if isinstance(ad_or_code, str) else ad_or_code.share.ref_code
    result = referrals.record_stage(ref_code=code, candidate_id=candidate, stage=stage, **kwargs)
    db.session.commit()
    return result


def stored() -> list[tuple[ReferralStage, ReferralOutcome]]:
    rows = db.session.scalars(select(Referral).order_by(Referral.id))
    return [(r.stage, r.outcome) for r in rows]


def event_kinds() -> list[EventKind]:
    return list(db.session.scalars(select(Event.kind).order_by(Event.id)))


def test_an_attributed_stage_becomes_one_event_with_the_shares_context(ctx):
    programme = ReferralProgrammeFactory(content_tag="job")
    ad = job_share()
    ClickRecordFactory(share_id=ad.share.id, occurred_at=utcnow() - timedelta(days=5))
    result = record(ad, occurred_at=utcnow() - timedelta(days=1))
    assert (result.created, result.reason) == (True, None)
    assert result.referral.outcome is AWARDED
    assert result.referral.programme_id == programme.id
    (event,) = db.session.scalars(select(Event))
    share = ad.share
    assert event.kind is EventKind.REFERRAL_APPLIED
    assert event.natural_key == f"referral:{result.referral.candidate_hash}:applied"
    assert (event.employee_id, event.team_id, event.share_id, event.content_id) == (
        share.employee_id,
        share.team_id,
        share.id,
        share.content_id,
    )
    assert event.channel is share.channel
    assert event.occurred_at == result.referral.occurred_at
    assert event.details == {"programme_id": programme.id}


def test_the_same_stage_twice_is_one_referral_and_one_event(ctx):
    ReferralProgrammeFactory()
    ad = job_share()
    first = record(ad)
    again = record(ad, occurred_at=utcnow() - timedelta(days=3))
    assert (first.created, again.created) == (True, False)
    assert again.referral.id == first.referral.id
    assert again.referral.occurred_at == first.referral.occurred_at
    assert stored() == [(APPLIED, AWARDED)]
    assert event_kinds() == [EventKind.REFERRAL_APPLIED]


def test_stages_move_forward_and_a_stage_going_backwards_awards_nothing(ctx):
    ReferralProgrammeFactory()
    ad = job_share()
    record(ad, APPLIED)
    record(ad, HIRED)
    result = record(ad, INTERVIEWED)
    assert (result.referral.outcome, result.reason) == (BACKWARDS, Reason.EARLIER_THAN_RECORDED)
    assert stored() == [(APPLIED, AWARDED), (HIRED, AWARDED), (INTERVIEWED, BACKWARDS)]
    assert event_kinds() == [EventKind.REFERRAL_APPLIED, EventKind.REFERRAL_HIRED]


def test_each_candidate_has_their_own_stages(ctx):
    ReferralProgrammeFactory()
    ad = job_share()
    record(ad, HIRED, candidate="a")
    record(ad, APPLIED, candidate="b")
    assert stored() == [(HIRED, AWARDED), (APPLIED, AWARDED)]


def test_the_candidate_id_is_never_stored_raw(ctx):
    ReferralProgrammeFactory()
    ad = job_share()
    candidate = "ATS-candidate-4711"
    result = record(ad, candidate=candidate, recorded_by=EmployeeFactory())
    referral = result.referral
    assert referral.candidate_hash == referrals.hash_candidate(candidate)
    assert len(referral.candidate_hash) == 64
    assert candidate not in referral.candidate_hash
    everything = [
        *(str(vars(r)) for r in db.session.scalars(select(Referral))),
        *(str(vars(e)) for e in db.session.scalars(select(Event))),
        *(str(vars(a)) for a in db.session.scalars(select(AuditEntry))),
    ]
    assert not [row for row in everything if candidate in row]


def test_the_candidate_hash_is_keyed_and_deterministic(ctx, app):
    first = referrals.hash_candidate("c-1")
    assert first == referrals.hash_candidate("c-1")
    assert first != referrals.hash_candidate("c-2")
    import hashlib

    assert first != hashlib.sha256(b"c-1").hexdigest()  # not guessable without the key
    app.config["SECRET_KEY"], key = (
        "another-secret-key-that-is-long-enough",
        app.config["SECRET_KEY"],
    )
    try:
        assert referrals.hash_candidate("c-1") != first
    finally:
        app.config["SECRET_KEY"] = key


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("unknown_code", Reason.UNKNOWN_CODE),
        ("untagged_content", Reason.NO_PROGRAMME),
        ("programme_off", Reason.NO_PROGRAMME),
        ("stage_not_awarded", Reason.STAGE_NOT_AWARDED),
        ("outside_window", Reason.OUTSIDE_WINDOW),
        ("owner_opted_out", Reason.OWNER_NOT_PARTICIPATING),
        ("owner_deactivated", Reason.OWNER_NOT_PARTICIPATING),
        ("owner_erased", Reason.OWNER_NOT_PARTICIPATING),
    ],
)
def test_each_reason_a_stage_is_not_attributed(ctx, setup, reason):
    programme = ReferralProgrammeFactory(
        active=setup != "programme_off",
        stages=["hired"] if setup == "stage_not_awarded" else ["applied", "interviewed", "hired"],
    )
    ad = job_share(tag="news" if setup == "untagged_content" else "job", days_ago=200)
    owner = ad.share.employee
    if setup == "owner_opted_out":
        owner.opted_in_at = None
    if setup == "owner_deactivated":
        owner.active = False
    if setup == "owner_erased":
        owner.erased_at = utcnow()
    db.session.commit()
    occurred_at = ad.shared_at + timedelta(days=120 if setup == "outside_window" else 1)
    code = "nosuchcode" if setup == "unknown_code" else ad.share.ref_code
    result = record(code, occurred_at=occurred_at)
    assert (result.referral.outcome, result.reason) == (UNATTRIBUTED, reason)
    assert result.referral.reason == reason  # kept, so lists can explain it later
    assert stored() == [(APPLIED, UNATTRIBUTED)]
    assert result.referral.share_id == (None if setup == "unknown_code" else ad.share.id)
    attributed_to = programme.id if reason in {"stage_not_awarded", "outside_window"} else None
    if reason == Reason.OWNER_NOT_PARTICIPATING:
        attributed_to = programme.id
    assert result.referral.programme_id == attributed_to
    assert event_kinds() == []


@pytest.mark.parametrize(
    ("after_click", "outcome"),
    [
        (timedelta(0), AWARDED),
        (timedelta(days=89), AWARDED),
        (timedelta(days=90), AWARDED),
        (timedelta(days=90, seconds=1), UNATTRIBUTED),
        (timedelta(days=91), UNATTRIBUTED),
    ],
)
def test_the_window_runs_ninety_days_after_the_last_human_click(ctx, after_click, outcome):
    ReferralProgrammeFactory()  # default window: 90 days
    ad = job_share(days_ago=400)
    click = utcnow() - timedelta(days=100)
    ClickRecordFactory(share_id=ad.share.id, occurred_at=click - timedelta(days=50))
    ClickRecordFactory(share_id=ad.share.id, occurred_at=click)
    # Neither a bot nor the owner's own click, nor a click after the stage, moves the window.
    ClickRecordFactory(
        share_id=ad.share.id, occurred_at=click + timedelta(days=5), kind=ClickKind.BOT
    )
    ClickRecordFactory(
        share_id=ad.share.id, occurred_at=click + timedelta(days=6), kind=ClickKind.SELF
    )
    ClickRecordFactory(share_id=ad.share.id, occurred_at=click + after_click + timedelta(hours=1))
    assert record(ad, occurred_at=click + after_click).referral.outcome is outcome


def test_without_clicks_the_window_starts_at_the_share(ctx):
    ReferralProgrammeFactory(attribution_days=30)
    ad = job_share(days_ago=60)
    assert (
        record(ad, candidate="a", occurred_at=ad.shared_at + timedelta(days=30)).referral.outcome
        is AWARDED
    )
    late = record(ad, candidate="b", occurred_at=ad.shared_at + timedelta(days=31))
    assert late.referral.outcome is UNATTRIBUTED
    early = record(ad, candidate="c", occurred_at=ad.shared_at - timedelta(minutes=1))
    assert early.referral.outcome is UNATTRIBUTED


def test_tags_match_whatever_their_case(ctx):
    ReferralProgrammeFactory(content_tag="Job")
    assert record(job_share(tag="job")).referral.outcome is AWARDED


@pytest.mark.parametrize("ahead", [timedelta(minutes=6), timedelta(days=2)])
def test_a_stage_in_the_future_is_refused_and_nothing_stored(ctx, ahead):
    ReferralProgrammeFactory()
    ad = job_share()
    with pytest.raises(InvalidInput) as caught:
        record(ad, occurred_at=utcnow() + ahead)
    db.session.rollback()
    assert caught.value.errors == {"occurred_at": ["The event lies in the future."]}
    assert stored() == []


@pytest.mark.parametrize(
    ("ref", "candidate", "field"), [("  ", "c", "ref"), ("abc", " ", "candidate_id")]
)
def test_blank_code_or_candidate_is_refused(ctx, ref, candidate, field):
    with pytest.raises(InvalidInput) as caught:
        record(ref, candidate=candidate)
    assert field in caught.value.errors


def test_a_delivery_by_an_integration_marks_it_used(ctx):
    integration = IntegrationFactory()
    result = record("whatever", integration=integration)
    assert result.referral.integration_id == integration.id
    assert db.session.get(Integration, integration.id).last_used_at is not None


def test_a_stage_recorded_by_hand_is_audited_without_the_candidate(ctx):
    ReferralProgrammeFactory()
    hr = EmployeeFactory()
    result = record(job_share(), candidate="secret-candidate", recorded_by=hr)
    assert result.referral.recorded_by_id == hr.id
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "referral.record"))
    assert entry.actor_id == hr.id
    assert entry.details["outcome"] == "awarded"


# Programmes ------------------------------------------------------------------------


def test_programme_create_update_delete(ctx):
    hr = EmployeeFactory()
    programme = referrals.create_programme(
        hr, name=" Jobs ", content_tag=" #job ", stages=["hired", "applied"]
    )
    db.session.commit()
    assert (programme.name, programme.content_tag, programme.stages) == (
        "Jobs",
        "job",
        ["applied", "hired"],
    )
    assert programme.attribution_days == 90
    referrals.update_programme(hr, programme, {"attribution_days": 30, "active": False})
    db.session.commit()
    assert (programme.attribution_days, programme.active) == (30, False)
    referrals.delete_programme(hr, programme)
    db.session.commit()
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == [
        "referral_programme.create",
        "referral_programme.update",
        "referral_programme.delete",
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"name": "jobs"}, Conflict, "name"),
        ({"name": "  "}, InvalidInput, "name"),
        ({"content_tag": " # "}, InvalidInput, "content_tag"),
        ({"stages": []}, InvalidInput, "stages"),
    ],
)
def test_bad_programmes_are_refused(ctx, kwargs, error, field):
    ReferralProgrammeFactory(name="Jobs")
    with pytest.raises(error) as caught:
        referrals.create_programme(None, **{"name": "Other", "content_tag": "job", **kwargs})
    assert field in caught.value.errors


def test_a_programme_in_use_is_switched_off_not_deleted(ctx):
    programme = ReferralProgrammeFactory()
    record(job_share())
    with pytest.raises(Conflict):
        referrals.delete_programme(None, programme)


# Integrations ----------------------------------------------------------------------


def _now() -> str:
    return str(int(utcnow().timestamp()))


def test_an_integration_secret_verifies_its_deliveries_until_revoked(ctx):
    integration, secret = referrals.create_integration(None, "Personio")
    db.session.commit()
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    body = b'{"ref": "x"}'
    ts = _now()
    assert (
        referrals.verify_delivery(integration.id, ts, signature(secret, ts, body), body)
        is integration
    )
    referrals.revoke_integration(None, integration)
    db.session.commit()
    with pytest.raises(BadSignature):
        referrals.verify_delivery(integration.id, ts, signature(secret, ts, body), body)


def test_rotation_revokes_and_creates_under_the_same_name(ctx):
    old, old_secret = referrals.create_integration(None, "Personio")
    db.session.commit()
    new, new_secret = referrals.rotate_integration(None, old)
    db.session.commit()
    assert new.id != old.id
    assert new_secret != old_secret
    assert new.name == "Personio"
    assert new.revoked_at is None
    assert old.revoked_at is not None
    assert old.name == "Personio"  # kept for the record; only active names must differ
    with pytest.raises(Conflict):
        referrals.rotate_integration(None, old)
    with pytest.raises(Conflict):
        referrals.create_integration(None, "personio")
