"""Referral attribution: programmes, ATS integrations, signed webhooks and the stages a
candidate reaches.

A candidate who applied through an employee's tracked link carries the share's referral
code to the applicant-tracking system, which reports each stage back (signed webhook) or
HR records it by hand. Every report is stored once per (candidate, stage), whatever its
outcome; only a new, later stage of an attributed candidate becomes an event, and the
referrer is told of it (in the same transaction, without naming the candidate).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.db import insert_ignoring_conflicts
from app.errors import ChorusError, Conflict, InvalidInput
from app.extensions import db
from app.models import (
    ClickKind,
    ClickRecord,
    ContentTag,
    Employee,
    Integration,
    Referral,
    ReferralOutcome,
    ReferralProgramme,
    Share,
    utcnow,
)
from app.services import audit, events, rollups, webhook_endpoints
from app.services.announcements import announce
from app.services.names import flush_unique, same_name_as
from app.services.notifications import Told
from app.urls import path_for
from scoring.keys import referral_event_key
from scoring.notifications import REFERRAL_WORDS
from scoring.notifications import Kind as NotificationKind
from scoring.referrals import ProgrammeTerms, attribute
from scoring.vocabulary import ReferralStage
from scoring.webhooks import Event

log = logging.getLogger("chorus.referrals")

SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
# Deliveries signed longer ago (or further ahead) than this are refused as replays.
REPLAY_WINDOW = timedelta(seconds=300)
SIGNATURE_SCHEME = "sha256="
# Its own purpose string: the candidate hash cannot be confused with any other HMAC
# made under SECRET_KEY, and is useless outside this table.
CANDIDATE_PURPOSE = b"chorus.referral.candidate.v1"
# Used when the integration is unknown, so that an unknown id costs as long as a known one.
_DUMMY_SECRET = secrets.token_urlsafe(32)


class BadSignature(ChorusError):
    """One answer for every authentication failure: which check failed helps only an
    attacker; the README tells integrators what to check."""

    status = 401

    def __init__(self) -> None:
        super().__init__("The delivery is not signed by a known integration.")


# Pure helpers ----------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>`` under ``secret``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_SCHEME + digest.hexdigest()


def signature_matches(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    expected = signature(secret, timestamp, body).encode()
    return hmac.compare_digest(expected, header.strip().encode())


def timestamp_is_fresh(timestamp: str, now: datetime) -> bool:
    """Unix seconds within the replay window on either side of ``now``."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    return abs(now.timestamp() - int(timestamp)) <= REPLAY_WINDOW.total_seconds()


# Candidates ------------------------------------------------------------------------


def hash_candidate(candidate_id: str) -> str:
    """The candidate as stored: an HMAC under SECRET_KEY; the ATS's id is never kept."""
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), CANDIDATE_PURPOSE, hashlib.sha256)
    return hmac.new(key.digest(), candidate_id.encode(), hashlib.sha256).hexdigest()


# Programmes ------------------------------------------------------------------------


def _clean_tag(tag: str) -> str:
    tag = (tag or "").strip().lstrip("#").strip()
    if not tag:
        raise InvalidInput(
            "Name the content tag that marks job ads, e.g. job.", field="content_tag"
        )
    return tag


def _check_programme_name(name: str, programme_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A programme needs a name.", field="name")
    clash = same_name_as(ReferralProgramme.name, name, other_than=programme_id)
    if clash is not None:
        raise Conflict(f"A programme called {clash!r} exists already.", field="name")
    return name


def _ordered_stages(stages: Collection[ReferralStage | str]) -> list[str]:
    chosen = {ReferralStage(s) for s in stages}
    if not chosen:
        raise InvalidInput("Pick at least one stage that awards points.", field="stages")
    return [s.value for s in ReferralStage if s in chosen]


def create_programme(
    actor: Employee | None,
    *,
    name: str,
    content_tag: str,
    stages: Collection[ReferralStage | str] = tuple(ReferralStage),
    attribution_days: int = 90,
    active: bool = True,
) -> ReferralProgramme:
    programme = ReferralProgramme(
        name=_check_programme_name(name),
        content_tag=_clean_tag(content_tag),
        stages=_ordered_stages(stages),
        attribution_days=attribution_days,
        active=active,
    )
    db.session.add(programme)
    flush_unique(ReferralProgramme.name, f"A programme called {programme.name!r} exists already.")
    audit.record(actor, "referral_programme.create", programme, **_programme_details(programme))
    return programme


def _programme_details(programme: ReferralProgramme) -> dict:
    return {
        "name": programme.name,
        "content_tag": programme.content_tag,
        "stages": list(programme.stages),
        "attribution_days": programme.attribution_days,
        "active": programme.active,
    }


def update_programme(
    actor: Employee | None, programme: ReferralProgramme, changes: dict
) -> ReferralProgramme:
    """Apply validated changes; each key is optional."""
    if "name" in changes:
        programme.name = _check_programme_name(changes["name"], programme.id)
    if "content_tag" in changes:
        programme.content_tag = _clean_tag(changes["content_tag"])
    if "stages" in changes:
        programme.stages = _ordered_stages(changes["stages"])
    for key in ("attribution_days", "active"):
        if key in changes:
            setattr(programme, key, changes[key])
    flush_unique(ReferralProgramme.name, f"A programme called {programme.name!r} exists already.")
    audit.record(actor, "referral_programme.update", programme, **_programme_details(programme))
    return programme


def delete_programme(actor: Employee | None, programme: ReferralProgramme) -> None:
    """Only a programme nothing was recorded under: past referrals keep their programme,
    so one in use is switched off instead."""
    used = db.session.scalar(select(Referral.id).where(Referral.programme_id == programme.id))
    if used is not None:
        raise Conflict(
            "Referrals were recorded under this programme; switch it off instead.", field="id"
        )
    audit.record(actor, "referral_programme.delete", programme, name=programme.name)
    db.session.delete(programme)


# Integrations ----------------------------------------------------------------------


def create_integration(actor: Employee | None, name: str) -> tuple[Integration, str]:
    """The integration and its secret, to be shown once."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Give the integration a name.", field="name")
    clash = db.session.scalar(
        select(Integration).where(
            func.lower(Integration.name) == name.lower(), Integration.revoked_at.is_(None)
        )
    )
    if clash is not None:
        raise Conflict(f"An integration called {clash.name!r} exists already.", field="name")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    integration = Integration(name=name, secret=secret)
    db.session.add(integration)
    db.session.flush()
    audit.record(actor, "integration.create", integration, name=name)
    return integration, secret


def revoke_integration(actor: Employee | None, integration: Integration) -> None:
    """Deliveries signed with its secret are refused from now on; its name is free for
    a replacement."""
    if integration.revoked_at is not None:
        return
    integration.revoked_at = utcnow()
    audit.record(actor, "integration.revoke", integration, name=integration.name)


def rotate_integration(actor: Employee | None, integration: Integration) -> tuple[Integration, str]:
    """Revoke and create anew under the same name: a new id (so a new webhook URL) and a
    new secret, shown once."""
    if integration.revoked_at is not None:
        raise Conflict("This integration is revoked already; create a new one.", field="id")
    revoke_integration(actor, integration)
    return create_integration(actor, integration.name)


def verify_delivery(
    integration_id: int, timestamp: str | None, header: str | None, body: bytes
) -> Integration:
    """The active integration that signed ``body``, or BadSignature."""
    integration = db.session.get(Integration, integration_id)
    usable = integration is not None and integration.revoked_at is None
    secret = integration.secret if usable else _DUMMY_SECRET
    matches = signature_matches(secret, timestamp or "", body, header or "")
    if not (usable and matches and timestamp_is_fresh(timestamp or "", utcnow())):
        raise BadSignature()
    return integration


# Stages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StageResult:
    referral: Referral
    created: bool  # False: the same (candidate, stage) was recorded before
    reason: str | None  # why nothing was awarded (None when awarded or not created here)


def _window_start(share: Share, occurred_at: datetime) -> datetime:
    last_click = db.session.scalar(
        select(func.max(ClickRecord.occurred_at)).where(
            ClickRecord.share_id == share.id,
            ClickRecord.kind == ClickKind.HUMAN,
            ClickRecord.occurred_at <= occurred_at,
        )
    )
    return last_click or share.created_at


def _programmes_for(share: Share) -> list[ProgrammeTerms]:
    tags = select(func.lower(ContentTag.tag)).where(ContentTag.content_id == share.content_id)
    rows = db.session.scalars(
        select(ReferralProgramme)
        .where(
            ReferralProgramme.active.is_(True),
            func.lower(ReferralProgramme.content_tag).in_(tags),
        )
        .order_by(ReferralProgramme.id)
    )
    return [ProgrammeTerms(p.id, p.stages, p.attribution_days) for p in rows]


def _existing(candidate_hash: str, stage: ReferralStage) -> Referral | None:
    return db.session.scalar(
        select(Referral).where(Referral.candidate_hash == candidate_hash, Referral.stage == stage)
    )


def record_stage(
    *,
    ref_code: str,
    candidate_id: str,
    stage: ReferralStage,
    occurred_at: datetime | None = None,
    integration: Integration | None = None,
    recorded_by: Employee | None = None,
) -> StageResult:
    """Record that a candidate reached ``stage``, once per (candidate, stage).

    The same report again returns the first record and changes nothing. A new, later
    stage of an attributed candidate whose referrer takes part becomes an event, and
    counts in the analytics rollups.
    """
    now = utcnow()
    occurred_at = occurred_at or now
    events.check_not_in_future(occurred_at, now)
    ref_code, candidate_id = ref_code.strip(), candidate_id.strip()
    if not ref_code:
        raise InvalidInput("The referral code is empty.", field="ref")
    if not candidate_id:
        raise InvalidInput("The candidate id is empty.", field="candidate_id")
    candidate_hash = hash_candidate(candidate_id)
    if integration is not None:
        integration.last_used_at = now
    existing = _existing(candidate_hash, stage)
    if existing is not None:
        return StageResult(existing, False, None)

    share = db.session.scalar(select(Share).where(Share.ref_code == ref_code))
    recorded = db.session.scalars(
        select(Referral.stage).where(Referral.candidate_hash == candidate_hash)
    ).all()
    decision = attribute(
        stage,
        occurred_at,
        recorded_stages=recorded,
        share_found=share is not None,
        programmes=_programmes_for(share) if share is not None else [],
        window_start=_window_start(share, occurred_at) if share is not None else None,
        owner_participating=share is not None and share.employee.participating,
    )
    # The unique (candidate, stage) decides between concurrent deliveries: the loser
    # inserts nothing and answers with the winner's record.
    inserted = insert_ignoring_conflicts(
        Referral,
        [
            {
                "candidate_hash": candidate_hash,
                "stage": stage,
                "ref_code": ref_code,
                "share_id": share.id if share is not None else None,
                "programme_id": decision.programme_id,
                "integration_id": integration.id if integration is not None else None,
                "recorded_by_id": recorded_by.id if recorded_by is not None else None,
                "outcome": decision.outcome,
                "reason": decision.reason,
                "occurred_at": occurred_at,
                "received_at": now,
            }
        ],
    )
    referral = _existing(candidate_hash, stage)
    if not inserted:
        return StageResult(referral, False, None)
    if decision.outcome is ReferralOutcome.AWARDED:
        events.record_event(
            stage.event_kind,
            referral_event_key(candidate_hash, stage),
            employee_id=share.employee_id,
            team_id=share.team_id,
            share_id=share.id,
            content_id=share.content_id,
            channel=share.channel,
            occurred_at=occurred_at,
            details={"programme_id": decision.programme_id},
        )
        tally = rollups.new_tally()
        tally.stage(rollups.share_facts(share), stage, occurred_at)
        rollups.count(tally)
        # The referrer hears of it in this transaction; the candidate is never named.
        announce(
            [
                Told(
                    share.employee_id,
                    NotificationKind.REFERRAL_STAGE,
                    key=f"referral:{referral.id}",
                    title=REFERRAL_WORDS[stage],
                    body="Thank you for passing it on. Your shares page counts your referrals.",
                    link=path_for("share_pages.detail", share_id=share.id),
                )
            ]
        )
    awarded = decision.outcome is ReferralOutcome.AWARDED
    webhook_endpoints.emit(
        Event.REFERRAL_STAGE,
        [
            (
                str(referral.id),
                {
                    "referral_id": referral.id,
                    "stage": stage.value,
                    "outcome": decision.outcome.value,
                    "reason": decision.reason,
                    # The referrer only when it counted for them: never someone who
                    # does not take part.
                    "share_id": share.id if awarded else None,
                    "employee_id": share.employee_id if awarded else None,
                    "programme_id": decision.programme_id,
                    "occurred_at": occurred_at.isoformat(),
                },
            )
        ],
        now,
    )
    log.info(
        "referral %s: stage %s %s%s",
        referral.id,
        stage.value,
        decision.outcome.value,
        f" ({decision.reason})" if decision.reason else "",
    )
    if recorded_by is not None:
        audit.record(
            recorded_by,
            "referral.record",
            referral,
            stage=stage.value,
            ref_code=ref_code,
            outcome=decision.outcome.value,
        )
    return StageResult(referral, True, decision.reason)
