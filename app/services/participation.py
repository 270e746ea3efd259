"""Taking part: guidelines, opt-in and opt-out, the profile, data export and erasure."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, select, update

from app.db import lock_row
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import (
    ApiToken,
    AuditEntry,
    Badge,
    BadgeGrant,
    Challenge,
    ChallengeAward,
    ChallengeDecline,
    ChallengePlacing,
    Employee,
    EmployeeNetwork,
    GuidelineVersion,
    Interest,
    LedgerLine,
    Lesson,
    LessonCompletion,
    Notification,
    OutboxMessage,
    ParticipationSpell,
    Pledge,
    Redemption,
    Role,
    Share,
    Team,
    TeamFunding,
    new_login_nonce,
    utcnow,
)
from app.services import audit, feed, notifications, team_rewards
from app.services.board_membership import follow_on_boards
from app.services.names import flush_unique, same_name_as
from app.services.people import active_admin_count, normalize_email
from rewards.funding import FundingState, PledgeState
from scoring.challenges import Mode
from scoring.participation import Network, Presence, board_name

PSEUDONYM_PATTERN = re.compile(r"^[\w .\-]{3,40}$")
# Audit details that name the person an entry is about; erasure removes them.
PERSONAL_AUDIT_KEYS = frozenset({"email", "name", "pseudonym"})


# Guidelines ------------------------------------------------------------------------


def current_guidelines() -> GuidelineVersion | None:
    return db.session.scalar(select(GuidelineVersion).order_by(GuidelineVersion.id.desc()))


def publish_guidelines(
    actor: Employee | None, *, body: str, contact_name: str, contact_email: str
) -> GuidelineVersion:
    """A new version; people who accepted an older one keep taking part."""
    body = (body or "").strip()
    if len(body) < 20:
        raise InvalidInput("Write the guidelines out (at least 20 characters).", field="body")
    contact_name = (contact_name or "").strip()
    if not contact_name:
        raise InvalidInput("Name a contact person for questions.", field="contact_name")
    try:
        contact_email = normalize_email(contact_email)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="contact_email") from exc
    version = GuidelineVersion(
        body=body,
        contact_name=contact_name,
        contact_email=contact_email,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(version)
    db.session.flush()
    audit.record(actor, "guidelines.publish", version)
    return version


# Opt-in and opt-out ----------------------------------------------------------------


def opt_in(employee: Employee, guidelines_version_id: int | None) -> Employee:
    """Accept the guidelines the employee was shown and start taking part."""
    current = current_guidelines()
    if current is None:
        raise Conflict("HR has not published guidelines yet, so opting in is not open.")
    if guidelines_version_id != current.id:
        raise Conflict(
            "The guidelines changed since you opened them. Please read the current version.",
            field="guidelines_version_id",
        )
    if employee.opted_in_at is None:
        employee.opted_in_at = utcnow()
    employee.guidelines_version_id = current.id
    audit.record(employee, "participation.opt_in", employee, guidelines_version_id=current.id)
    follow_on_boards(employee)
    return employee


def opt_out(employee: Employee) -> Employee:
    """One click: the employee stops being tracked, scored and ranked at once."""
    if employee.opted_in_at is not None:
        employee.opted_in_at = None
        audit.record(employee, "participation.opt_out", employee)
        follow_on_boards(employee)
    return employee


# Profile ---------------------------------------------------------------------------


def update_presence(employee: Employee, presence: Presence, pseudonym: str | None) -> Employee:
    pseudonym = (pseudonym or "").strip() or None
    if presence is Presence.PSEUDONYM and pseudonym is None:
        raise InvalidInput("Choose a pseudonym to appear under.", field="pseudonym")
    if pseudonym is not None:
        if not PSEUDONYM_PATTERN.match(pseudonym):
            raise InvalidInput(
                "A pseudonym has 3 to 40 letters, digits, spaces, dots or dashes.",
                field="pseudonym",
            )
        if same_name_as(Employee.pseudonym, pseudonym, other_than=employee.id) is not None:
            raise Conflict("Someone else uses this pseudonym already.", field="pseudonym")
    employee.presence = presence
    employee.pseudonym = pseudonym
    flush_unique(Employee.pseudonym, "Someone else uses this pseudonym already.", "pseudonym")
    follow_on_boards(employee)
    return employee


def set_networks(employee: Employee, networks: list[dict[str, Any]]) -> Employee:
    """Replace the connected networks: ``[{"network", "handle", "audience_size"}]``."""
    wanted: dict[Network, dict[str, Any]] = {}
    for entry in networks:
        try:
            network = Network(entry.get("network"))
        except ValueError as exc:
            raise InvalidInput(
                f"Unknown network {entry.get('network')!r}: use one of "
                f"{', '.join(n.value for n in Network)}.",
                field="networks",
            ) from exc
        if network in wanted:
            raise InvalidInput(f"{network.value} is listed twice.", field="networks")
        audience = entry.get("audience_size")
        if audience is not None and audience < 0:
            raise InvalidInput("An audience size cannot be negative.", field="networks")
        wanted[network] = entry
    existing = {link.network: link for link in employee.networks}
    for network, link in existing.items():
        if network not in wanted:
            employee.networks.remove(link)
    for network, entry in wanted.items():
        link = existing.get(network) or EmployeeNetwork(network=network)
        link.handle = (entry.get("handle") or "").strip() or None
        link.audience_size = entry.get("audience_size")
        if network not in existing:
            employee.networks.append(link)
    return employee


def set_interests(employee: Employee, interest_ids: list[int]) -> Employee:
    wanted = set(interest_ids)
    # In the order the relationship loads them, so that the answer reads the same now.
    chosen = select(Interest).where(Interest.id.in_(wanted)).order_by(Interest.name)
    interests = list(db.session.scalars(chosen))
    unknown = wanted - {i.id for i in interests}
    if unknown:
        raise InvalidInput(
            f"Unknown interest ids: {', '.join(map(str, sorted(unknown)))}.", field="interest_ids"
        )
    _choose_interests(employee, interests)
    return employee


def _choose_interests(employee: Employee, interests: list[Interest]) -> None:
    """Two choices of one person's at once (two devices, or an erasure) take turns: the
    later starts from the interests the earlier left, so that the rows the rollups move
    out of her old interests are those she held, and no choice is lost to a stale
    collection."""
    lock_row(Employee, employee.id)
    db.session.refresh(employee, ["interests"])
    employee.interests = interests


# Data protection -------------------------------------------------------------------


def export_personal_data(employee: Employee) -> dict[str, Any]:
    """Everything Chorus holds about the employee, as JSON-ready data."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            (AuditEntry.actor_id == employee.id)
            | ((AuditEntry.target_type == "employees") & (AuditEntry.target_id == employee.id))
        )
        .order_by(AuditEntry.id)
    )
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.owner_id == employee.id))

    def iso(value):
        return value.isoformat() if value else None

    return {
        "exported_at": iso(utcnow()),
        "profile": {
            "id": employee.id,
            "email": employee.email,
            "name": employee.name,
            "role": employee.role.value,
            "team": employee.team.name if employee.team else None,
            "created_at": iso(employee.created_at),
            "last_sign_in_at": iso(employee.last_sign_in_at),
            "opted_in_at": iso(employee.opted_in_at),
            "guidelines_version_id": employee.guidelines_version_id,
            "presence": employee.presence.value,
            "pseudonym": employee.pseudonym,
            "shown_on_boards_as": board_name(employee.presence, employee.name, employee.pseudonym),
        },
        "networks": [
            {"network": n.network.value, "handle": n.handle, "audience_size": n.audience_size}
            for n in employee.networks
        ],
        "interests": [i.name for i in employee.interests],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": iso(t.created_at),
                "revoked_at": iso(t.revoked_at),
            }
            for t in tokens
        ],
        "activity": [
            {"at": iso(e.created_at), "action": e.action, "by_me": e.actor_id == employee.id}
            for e in entries
        ],
        "shares": [
            {
                "at": iso(share.created_at),
                "content": share.content.title,
                "network": share.channel.value,
                "text": share.text,
            }
            for share in db.session.scalars(
                select(Share).where(Share.employee_id == employee.id).order_by(Share.id)
            )
        ],
        "points": [
            {
                "at": iso(line.occurred_at),
                "points": line.points,
                "reason": line.reason,
                "kind": line.kind.value,
            }
            for line in db.session.scalars(
                select(LedgerLine)
                .where(LedgerLine.employee_id == employee.id)
                .order_by(LedgerLine.id)
            )
        ],
        "redemptions": [
            {
                "at": iso(redemption.created_at),
                "reward": redemption.reward.name,
                "points": redemption.points,
                "state": redemption.state.value,
                "decided_at": iso(redemption.decided_at),
                "note": redemption.decision_note,
            }
            for redemption in db.session.scalars(
                select(Redemption)
                .where(Redemption.employee_id == employee.id)
                .order_by(Redemption.id)
            )
        ],
        **_game_records(employee, iso),
        "notifications": [
            {"at": iso(n.created_at), "title": n.title, "body": n.body, "read_at": iso(n.read_at)}
            for n in db.session.scalars(
                select(Notification)
                .where(Notification.employee_id == employee.id)
                .order_by(Notification.id)
            )
        ],
        "notification_choices": [
            {"kind": kind.value, "channel": channel.value, "on": on}
            for (kind, channel), on in sorted(
                notifications.choices_of([employee.id])[employee.id].items()
            )
        ],
        "mail_settings": asdict(notifications.preferences_of([employee.id])[employee.id]),
        "mails": [
            {
                "at": iso(m.created_at),
                "kind": m.kind.value,
                "channel": "chat" if m.destination_id is not None else "email",
                "state": m.state.value,
                "sent_at": iso(m.sent_at),
            }
            for m in db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.employee_id == employee.id)
                .order_by(OutboxMessage.id)
            )
        ],
        "feed_last_opened": iso(feed.seen_at([employee.id]).get(employee.id)),
        # When they took part, in which team: what headcounts are made of.
        "taking_part": [
            {"from": iso(started_at), "until": iso(ended_at), "team": team}
            for started_at, ended_at, team in db.session.execute(
                select(ParticipationSpell.started_at, ParticipationSpell.ended_at, Team.name)
                .outerjoin(Team, Team.id == ParticipationSpell.team_id)
                .where(ParticipationSpell.employee_id == employee.id)
                .order_by(ParticipationSpell.id)
            )
        ],
    }


def _game_records(employee: Employee, iso) -> dict[str, list[dict[str, Any]]]:
    """The employee's part of the game: badges, challenges, lessons and pledges."""
    me = employee.id
    return {
        "badges": [
            {
                "badge": name,
                "level": grant.level.value,
                "period": grant.period,
                "granted_at": iso(grant.granted_at),
            }
            for grant, name in db.session.execute(
                select(BadgeGrant, Badge.name)
                .join(Badge, Badge.id == BadgeGrant.badge_id)
                .where(BadgeGrant.employee_id == me)
                .order_by(BadgeGrant.granted_at, BadgeGrant.id)
            )
        ],
        # Team placings name a team, not a person: only individual ones are theirs.
        "challenge_placings": [
            {
                "challenge": title,
                "rank": placing.rank,
                "points": placing.points,
                "qualified": placing.qualified,
            }
            for placing, title in db.session.execute(
                select(ChallengePlacing, Challenge.title)
                .join(Challenge, Challenge.id == ChallengePlacing.challenge_id)
                .where(ChallengePlacing.entrant_id == me, Challenge.mode == Mode.INDIVIDUAL)
                .order_by(ChallengePlacing.challenge_id)
            )
        ],
        "challenge_awards": [
            {
                "challenge": title,
                "prize_kind": award.prize_kind,
                "value": award.value,
                "place": award.place,
                "awarded_at": iso(award.created_at),
            }
            for award, title in db.session.execute(
                select(ChallengeAward, Challenge.title)
                .join(Challenge, Challenge.id == ChallengeAward.challenge_id)
                .where(ChallengeAward.employee_id == me)
                .order_by(ChallengeAward.id)
            )
        ],
        "challenge_declines": [
            {"challenge": title, "declined_at": iso(declined_at)}
            for title, declined_at in db.session.execute(
                select(Challenge.title, ChallengeDecline.declined_at)
                .join(Challenge, Challenge.id == ChallengeDecline.challenge_id)
                .where(ChallengeDecline.employee_id == me)
                .order_by(ChallengeDecline.declined_at, ChallengeDecline.challenge_id)
            )
        ],
        "lessons": [
            {"lesson": title, "completed_at": iso(completed_at)}
            for title, completed_at in db.session.execute(
                select(Lesson.title, LessonCompletion.completed_at)
                .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
                .where(LessonCompletion.employee_id == me)
                .order_by(LessonCompletion.completed_at, LessonCompletion.lesson_id)
            )
        ],
        "pledges": [
            {
                "reward": pledge.funding.reward.name,
                "team": pledge.funding.team.name,
                "points": pledge.points,
                "state": pledge.state.value,
                "created_at": iso(pledge.created_at),
            }
            for pledge in db.session.scalars(
                select(Pledge).where(Pledge.employee_id == me).order_by(Pledge.id)
            )
        ],
        "challenges_organised": [
            {"challenge": title, "created_at": iso(created_at)}
            for title, created_at in db.session.execute(
                select(Challenge.title, Challenge.created_at)
                .where(Challenge.organiser_id == me)
                .order_by(Challenge.id)
            )
        ],
    }


def erase_employee(actor: Employee | None, employee: Employee) -> None:
    """Remove personal data for good. The row stays, anonymised, so that records which
    must stay consistent (ledgers, audit) keep a valid reference without naming anyone."""
    if employee.erased_at is not None:
        return
    if employee.role == Role.ADMIN and employee.is_active and active_admin_count() <= 1:
        raise Conflict("Chorus needs at least one active admin: appoint another admin first.")
    # Interests first: their rollups are held from here to the commit (rollups._hold_people),
    # before anything below counts.
    _choose_interests(employee, [])
    _release_game_records(employee)
    employee.email = f"erased-{employee.id}@erased.invalid"
    employee.name = f"Former employee #{employee.id}"
    employee.pseudonym = None
    employee.presence = Presence.HIDDEN
    employee.opted_in_at = None
    employee.active = False
    employee.login_nonce = new_login_nonce()
    employee.networks.clear()
    # What they wrote goes; the share rows stay, nameless, so points and referrals that
    # point at them stay consistent.
    db.session.execute(
        update(Share)
        .where(Share.employee_id == employee.id)
        .values(text="")
        .execution_options(synchronize_session=False)
    )
    for token in db.session.scalars(select(ApiToken).where(ApiToken.owner_id == employee.id)):
        db.session.delete(token)
    notifications.forget(employee)  # what they were told, how they chose to hear, mail
    feed.forget_seen(employee)
    # The audit trail stays, but the person's name and address leave it too.
    about_them = select(AuditEntry).where(
        AuditEntry.target_type == Employee.__tablename__, AuditEntry.target_id == employee.id
    )
    for entry in db.session.scalars(about_them):
        if PERSONAL_AUDIT_KEYS & entry.details.keys():
            # A new dict: the JSON column does not notice changes made in place.
            entry.details = {k: v for k, v in entry.details.items() if k not in PERSONAL_AUDIT_KEYS}
    employee.erased_at = utcnow()
    audit.record(actor, "participation.erase", employee)
    follow_on_boards(employee)


def _release_game_records(employee: Employee) -> None:
    """The game's records at erasure (docs/data-protection.md, "The game's records").

    Pledges still held toward an open team funding are withdrawn the way the member
    would withdraw them, so their points are released and the team's total is right.
    Declines are a choice, like interests, and nothing adds up from them: they go.
    Badge grants, prizes, lesson completions, settled placings and spent or refunded
    pledges stay, as ledger lines and redemptions do: they hold only the id of the
    anonymous row, and totals, prize lines and the digest of settled standings are
    made from them."""
    held = db.session.scalars(
        select(Pledge)
        .join(TeamFunding, TeamFunding.id == Pledge.funding_id)
        .where(
            Pledge.employee_id == employee.id,
            Pledge.state == PledgeState.HELD,
            TeamFunding.state == FundingState.OPEN,
        )
        .order_by(Pledge.id)
    ).all()
    for pledge in held:
        try:
            team_rewards.withdraw(employee, pledge)
        except Conflict:
            continue  # funded meanwhile: spent like the others, it stays
    db.session.execute(
        delete(ChallengeDecline)
        .where(ChallengeDecline.employee_id == employee.id)
        .execution_options(synchronize_session=False)
    )
