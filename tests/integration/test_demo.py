"""The demo holds together: rules in force before the history, guidelines and opt-ins
before the first share, timestamps spread and in order, a picture for every story; and
the game: a challenge settled by the real settlement with a digest that verifies, three
running (the company's, a team lead's for their team, team against team), badges dated
when they were earned and quiet when old, lessons finished, a team reward with pledges.
Loading it again changes nothing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from app.demo import DEMO_LOGINS
from app.extensions import db
from app.models import (
    AuditEntry,
    Badge,
    BadgeGrant,
    Challenge,
    ChallengeAward,
    ChallengePlacing,
    ContentItem,
    DeliveryState,
    Employee,
    Event,
    GuidelineVersion,
    LedgerLine,
    Lesson,
    LessonCompletion,
    LineKind,
    Notification,
    OutboxMessage,
    Pledge,
    Redemption,
    Reward,
    RewardKind,
    Role,
    RuleVersion,
    Share,
    TeamFunding,
    WebhookEndpoint,
    utcnow,
)
from app.services import challenge_settlement
from app.services.badges import DEFAULT_BADGES
from app.services.calendar import company_calendar
from app.services.challenge_standings import view_challenge
from app.services.challenges import state_of
from app.web.rules import needs_recalculation
from scoring.challenges import ChallengeState, Mode, ScopeKind
from scoring.notifications import ADMIN_KINDS, CHANNEL_KINDS
from scoring.notifications import Kind as NotificationKind
from scoring.vocabulary import EventKind
from tests.conftest import sign_in
from tests.integration.rollup_support import live_rows, rebuilt_rows


@pytest.fixture
def demo(app, runner, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path / "media"))
    result = runner.invoke(args=["seed-demo", "--no-links"])
    assert result.exit_code == 0, result.output
    return app


def test_no_rule_needs_a_recalculation_and_all_are_in_force_before_the_first_share(demo):
    with demo.app_context():
        first_share = db.session.scalar(select(func.min(Share.created_at)))
        versions = db.session.scalars(select(RuleVersion)).all()
        assert versions
        assert [v.id for v in versions if needs_recalculation(v)] == []
        assert all(v.valid_from <= first_share for v in versions)


def test_guidelines_and_opt_ins_come_before_each_share(demo):
    with demo.app_context():
        guidelines = db.session.scalar(select(GuidelineVersion))
        first_share = db.session.scalar(select(func.min(Share.created_at)))
        opted = db.session.scalars(
            select(Employee.opted_in_at).where(Employee.opted_in_at.is_not(None))
        ).all()
        assert guidelines.created_at < min(opted)
        assert max(opted) < first_share
        assert len({t.replace(second=0, microsecond=0) for t in opted}) > len(opted) // 2
        late = db.session.scalar(
            select(func.count())
            .select_from(Share)
            .join(Employee, Employee.id == Share.employee_id)
            .where(Share.created_at < Employee.opted_in_at)
        )
        assert late == 0
        items = db.session.scalars(select(ContentItem)).all()
        assert all(item.published_at <= first_share for item in items)


def test_audit_entries_and_redemptions_are_spread_and_in_order(demo):
    now = utcnow()
    with demo.app_context():
        times = db.session.scalars(select(AuditEntry.created_at).order_by(AuditEntry.id)).all()
        assert times == sorted(times)
        assert times[-1] <= now
        minutes = {t.replace(second=0, microsecond=0) for t in times}
        assert len(minutes) >= 30
        assert times[-1] - times[0] > timedelta(days=30)
        redemptions = db.session.scalars(select(Redemption).order_by(Redemption.id)).all()
        assert len(redemptions) >= 3
        asked = [r.created_at for r in redemptions]
        assert asked == sorted(asked)
        assert len({t.replace(second=0, microsecond=0) for t in asked}) == len(asked)
        for redemption in redemptions:
            if redemption.decided_at is not None:
                assert redemption.created_at < redemption.decided_at <= now


def test_every_demo_story_has_a_picture_that_is_served(demo, client):
    with demo.app_context():
        items = db.session.scalars(select(ContentItem)).all()
        assert len(items) >= 4
        assert all(item.image_filename and item.image_credit for item in items)
        assert all(item.image_rights_confirmed for item in items)
        files = [item.image_filename for item in items]
        reader = db.session.scalar(select(Employee).where(Employee.opted_in_at.is_not(None)))
        sign_in(client, reader)
    assert len(set(files)) == len(files)
    for name in files:
        with client.get(f"/media/{name}") as response:
            assert response.status_code == 200
            assert response.mimetype == "image/png"
            assert response.data.startswith(b"\x89PNG")


def _by_email(email: str) -> Employee:
    return db.session.scalar(select(Employee).where(Employee.email == email))


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_one_challenge_was_settled_with_a_digest_and_three_run_one_a_team_leads(demo):
    now = utcnow()
    with demo.app_context():
        challenges = db.session.scalars(select(Challenge).order_by(Challenge.id)).all()
        states = Counter(state_of(c, now) for c in challenges)
        assert states == {ChallengeState.SETTLED: 1, ChallengeState.OPEN: 3}
        running = [c for c in challenges if c.state is ChallengeState.OPEN]
        assert all(c.starts_at < now < c.ends_at for c in running)

        company = [c for c in running if c.scope is ScopeKind.COMPANY]
        assert len(company) == 1
        assert company[0].mode is Mode.INDIVIDUAL
        assert company[0].target
        assert company[0].freeze_hours > 0
        assert now < company[0].ends_at - timedelta(hours=company[0].freeze_hours)
        progress = view_challenge(company[0], _by_email(DEMO_LOGINS["hr"]), now).progress
        assert 0 < progress.total < progress.target  # the bar is partly filled

        lead = _by_email(DEMO_LOGINS["team_lead"])
        [own] = [c for c in running if c.scope is ScopeKind.TEAMS]
        assert (own.organiser_id, [t.id for t in own.teams]) == (lead.id, [lead.team_id])
        assert lead.role is Role.TEAM_LEAD

        [versus] = [c for c in running if c.scope is ScopeKind.TEAM_VS_TEAM]
        assert versus.mode is Mode.TEAM
        assert len(versus.teams) == 2
        assert versus.organiser.role is Role.HR
        rows = view_challenge(versus, _by_email(DEMO_LOGINS["hr"]), now).rows
        assert {r.entrant_id for r in rows} == {t.id for t in versus.teams}

    with demo.app_context():
        [settled] = db.session.scalars(
            select(Challenge).where(Challenge.state == ChallengeState.SETTLED)
        ).all()
        # Settled by the job's own function at the end plus the lateness window, long ago.
        due = settled.ends_at + timedelta(hours=settled.lateness_hours)
        assert due <= settled.settled_at < due + timedelta(minutes=5)
        assert settled.settled_at < now - timedelta(days=14)
        placings = db.session.scalars(
            select(ChallengePlacing)
            .where(ChallengePlacing.challenge_id == settled.id)
            .order_by(ChallengePlacing.rank, ChallengePlacing.entrant_id)
        ).all()
        assert len(placings) >= 10
        assert placings[0].rank == 1
        assert placings[0].qualified
        assert not all(p.qualified for p in placings)  # the minimum meant something
        awards = db.session.scalars(
            select(ChallengeAward).where(ChallengeAward.challenge_id == settled.id)
        ).all()
        assert {a.prize_kind for a in awards} == {"badge", "points"}
        [badge_award] = [a for a in awards if a.prize_kind == "badge"]
        assert badge_award.employee_id == placings[0].entrant_id
        grant = db.session.scalar(
            select(BadgeGrant).where(
                BadgeGrant.badge_id == badge_award.value,
                BadgeGrant.employee_id == badge_award.employee_id,
            )
        )
        assert grant.granted_at == settled.settled_at
        prize_points = db.session.scalar(
            select(func.sum(LedgerLine.points)).where(LedgerLine.kind == LineKind.PRIZE)
        )
        assert prize_points == sum(a.value for a in awards if a.prize_kind == "points")

        assert challenge_settlement.verify_digest(settled)
        placings[0].points += 1  # a result changed afterwards no longer matches its digest
        db.session.flush()
        assert not challenge_settlement.verify_digest(settled)
        db.session.rollback()


def _events_arrived_moments_after_they_happened(demo):
    with demo.app_context():
        events = db.session.scalars(select(Event)).all()
        assert events
        assert all(
            e.occurred_at < e.created_at <= e.occurred_at + timedelta(minutes=10) for e in events
        )


def _badges_were_earned_over_the_history_dated_when_crossed_and_quiet_when_old(demo):
    now = utcnow()
    with demo.app_context():
        slugs = set(db.session.scalars(select(Badge.slug)))
        assert {b["id"] for b in DEFAULT_BADGES} <= slugs
        grants = db.session.scalars(select(BadgeGrant)).all()
        earned = {g.badge.slug for g in grants}
        assert {"first-share", "podium", "first-lesson", "challenge-winner"} <= earned
        settled = db.session.scalar(select(Challenge).where(Challenge.settled_at.is_not(None)))
        for grant in grants:
            assert grant.employee_id in _participants()
            assert grant.granted_at <= now
            if grant.period.startswith("challenge"):  # a prize, written by the settlement
                assert grant.granted_at == settled.settled_at
                continue
            # The badge pass: old ones backfilled quietly, the last two days' announced
            # (the pass ran moments before ``now``: a grant right at the line may be either).
            if abs(grant.granted_at - (now - timedelta(days=2))) > timedelta(minutes=10):
                assert grant.quiet == (grant.granted_at < now - timedelta(days=2)), grant.badge
        assert sum(g.quiet for g in grants) > len(grants) // 2
        for grant in (g for g in grants if g.badge.slug == "first-share"):
            first_share = db.session.scalar(
                select(func.min(Event.occurred_at)).where(
                    Event.employee_id == grant.employee_id, Event.kind == EventKind.SHARE
                )
            )
            assert grant.granted_at == first_share


def _participants() -> set[int]:
    return set(db.session.scalars(select(Employee.id).where(Employee.opted_in_at.is_not(None))))


def _lessons_are_published_and_some_finished_for_their_points(demo):
    now = utcnow()
    with demo.app_context():
        lessons = db.session.scalars(select(Lesson)).all()
        assert len(lessons) >= 3
        assert all(lesson.published_at and lesson.published_at < now for lesson in lessons)
        assert all(len(lesson.questions) >= 2 for lesson in lessons)
        completions = db.session.scalars(select(LessonCompletion)).all()
        lead = _by_email(DEMO_LOGINS["team_lead"])
        assert lead.id in {c.employee_id for c in completions}
        for completion in completions:
            lesson = db.session.get(Lesson, completion.lesson_id)
            assert lesson.published_at < completion.completed_at < now
            line = db.session.scalar(
                select(LedgerLine).where(
                    LedgerLine.kind == LineKind.LESSON,
                    LedgerLine.employee_id == completion.employee_id,
                    LedgerLine.occurred_at == completion.completed_at,
                )
            )
            assert line is not None
            assert line.points == lesson.points


def _a_team_collects_pledges_toward_a_team_reward(demo):
    with demo.app_context():
        [reward] = db.session.scalars(select(Reward).where(Reward.kind == RewardKind.TEAM)).all()
        [funding] = db.session.scalars(
            select(TeamFunding).where(TeamFunding.reward_id == reward.id)
        ).all()
        assert funding.team_id == _by_email(DEMO_LOGINS["team_lead"]).team_id
        pledges = db.session.scalars(select(Pledge).where(Pledge.funding_id == funding.id)).all()
        assert len(pledges) >= 2
        assert 0 < sum(p.points for p in pledges) < funding.target  # still collecting
        assert all(p.employee.team_id == funding.team_id for p in pledges)


def test_the_history_of_events_badges_lessons_and_a_team_reward(demo):
    # One demo load for all of these: loading it is the slow part.
    _events_arrived_moments_after_they_happened(demo)
    _badges_were_earned_over_the_history_dated_when_crossed_and_quiet_when_old(demo)
    _lessons_are_published_and_some_finished_for_their_points(demo)
    _a_team_collects_pledges_toward_a_team_reward(demo)
    _the_inbox_holds_what_people_were_told_as_it_happened(demo)
    _weekly_digests_went_out_and_one_bounced(demo)


REFERRAL = NotificationKind.REFERRAL_STAGE
WEBHOOK = NotificationKind.WEBHOOK


def _weekly_digests_went_out_and_one_bounced(demo):
    with demo.app_context():
        zone, week_start = company_calendar()
        everything = db.session.scalars(select(OutboxMessage)).all()
        # Besides the digests, the referral stages of the history went by mail (on by
        # default for that kind), each sent as it happened, and each share and referral
        # to the analytics warehouse's webhook, a second after it happened (but one).
        assert {m.kind for m in everything} == {NotificationKind.DIGEST, REFERRAL, WEBHOOK}
        deliveries = [m for m in everything if m.kind is WEBHOOK]
        assert [m.state for m in deliveries].count(DeliveryState.FAILED) == 1
        assert {m.last_status for m in deliveries} == {200, 503}
        warehouse = db.session.scalar(select(WebhookEndpoint))
        assert warehouse.disabled_at is not None  # the demo posts nowhere
        assert _in_time_order(deliveries)
        everything = [m for m in everything if m.kind is not WEBHOOK]
        assert all(m.state is DeliveryState.SENT for m in everything if m.kind is REFERRAL)
        mails = [m for m in everything if m.kind is NotificationKind.DIGEST]
        assert mails
        assert [m.state for m in mails].count(DeliveryState.FAILED) == 1
        assert {m.state for m in mails} == {DeliveryState.SENT, DeliveryState.FAILED}
        for mail in mails:  # on a first weekday at nine, as the clock composes them
            local = mail.created_at.astimezone(zone)
            assert (local.weekday(), local.hour) == (week_start, 9)
            assert json.loads(mail.payload)["items"]
        weeks = Counter((m.employee_id, m.created_at.date()) for m in mails)
        assert max(weeks.values()) == 1
        assert {m.employee_id for m in mails} <= set(_participants())


def _the_inbox_holds_what_people_were_told_as_it_happened(demo):
    now = utcnow()
    with demo.app_context():
        told = db.session.scalars(select(Notification)).all()
        grants = db.session.scalars(select(BadgeGrant)).all()
        assert _in_time_order(told)  # the inbox lists the newest first
        # Every kind told to people (no chat channel is connected in the demo, so none
        # was turned off; digests and channel posts are never inbox rows).
        not_in_the_inbox = {NotificationKind.DIGEST, *CHANNEL_KINDS, *ADMIN_KINDS}
        assert {n.kind for n in told} == set(NotificationKind) - not_in_the_inbox
        assert sum(n.kind is NotificationKind.BADGE_EARNED for n in told) == len(grants)
        for grant in grants:  # history dated when it was earned, the rest when found
            key = f"badge:{grant.badge_id}:{grant.level.value}:{grant.period}"
            (note,) = [n for n in told if n.employee_id == grant.employee_id and n.key == key]
            if grant.quiet:
                assert note.created_at == grant.granted_at
            else:
                assert grant.granted_at <= note.created_at <= now
        for note in told:  # read when old, waiting when recent
            old = note.created_at < now - timedelta(days=2, minutes=10)
            if old:
                assert note.read_at == note.created_at + timedelta(hours=3)
            elif note.created_at > now - timedelta(days=2) + timedelta(minutes=10):
                assert note.read_at is None
        assert any(n.read_at is None for n in told)
        assert all(n.employee_id in _participants() for n in told)


def test_loading_the_demo_again_changes_nothing(demo, runner):
    tables = (Challenge, ChallengePlacing, ChallengeAward, Badge, BadgeGrant, Lesson)
    tables += (LessonCompletion, Pledge, LedgerLine, Reward, AuditEntry)
    with demo.app_context():
        before = {model.__name__: _count(model) for model in tables}
    again = runner.invoke(args=["seed-demo", "--no-links"])
    assert again.exit_code == 0, again.output
    assert "Demo data was there already." in again.output
    assert "Mail is kept in memory (MAIL_BACKEND=memory, for tests)." in again.output
    with demo.app_context():
        assert {model.__name__: _count(model) for model in tables} == before


def _in_time_order(rows) -> bool:
    """Ids follow times, as when things happen one after another."""
    by_id = sorted(rows, key=lambda row: row.id)
    return all(a.created_at <= b.created_at for a, b in pairwise(by_id))


def test_the_demos_analytics_equal_a_rebuild_from_its_history(demo):
    # Shares, clicks and referrals, scored points, recalculated, prizes and lessons: the
    # rollups each step kept are what a rebuild finds.
    with demo.app_context():
        live = live_rows()
        db.session.commit()
        content = live["rollup_content_daily"]
        assert sum(row[4] for row in content) == _count(Share)  # shares
        assert sum(row[5] for row in content) > 0  # clicks
        assert rebuilt_rows() == live
        db.session.rollback()
