"""Taking part: guidelines, opt-in/out, the profile, export and erasure."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import ApiToken, AuditEntry, EmployeeNetwork, Role, employee_interests
from app.services import participation, people
from app.services.sign_in import check_sign_in_token, make_sign_in_token
from app.services.tokens import authenticate, create_token
from scoring.participation import Network, Presence
from tests.factories import (
    EmployeeFactory,
    EmployeeNetworkFactory,
    GuidelineVersionFactory,
    InterestFactory,
)

BODY = "Sharing is voluntary. Speak as yourself and keep secrets secret."


def publish(actor=None, **overrides):
    values = {"body": BODY, "contact_name": "Sabine", "contact_email": "sabine@example.com"}
    return participation.publish_guidelines(actor, **{**values, **overrides})


# Guidelines --------------------------------------------------------------------------


def test_publish_guidelines_makes_a_new_current_version(ctx):
    hr = EmployeeFactory(role=Role.HR)
    first = publish(hr)
    second = publish(hr, body=BODY + " Updated.", contact_email=" Sabine@Example.com ")
    assert participation.current_guidelines() is second
    assert second.id > first.id
    assert second.contact_email == "sabine@example.com"
    assert second.created_by_id == hr.id


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"body": "too short"}, "body"),
        ({"body": "   " + "x" * 10 + "   "}, "body"),
        ({"body": None}, "body"),
        ({"contact_name": "  "}, "contact_name"),
        ({"contact_email": "nobody"}, "contact_email"),
    ],
)
def test_publish_guidelines_validates(ctx, overrides, field):
    with pytest.raises(InvalidInput) as info:
        publish(**overrides)
    assert list(info.value.errors) == [field]
    assert participation.current_guidelines() is None


# Opt-in and opt-out ------------------------------------------------------------------


def test_opt_in_needs_published_guidelines(ctx):
    employee = EmployeeFactory()
    with pytest.raises(Conflict):
        participation.opt_in(employee, None)
    assert not employee.participating


def test_opt_in_needs_the_current_version_and_opt_out_is_one_step(ctx):
    employee = EmployeeFactory()
    old = publish()
    current = publish(body=BODY + " Now with more rules.")
    with pytest.raises(Conflict) as info:
        participation.opt_in(employee, old.id)
    assert "guidelines_version_id" in info.value.errors
    assert employee.opted_in_at is None
    participation.opt_in(employee, current.id)
    assert employee.participating
    assert employee.guidelines_version_id == current.id
    opted_at = employee.opted_in_at
    participation.opt_in(employee, current.id)  # again: the first time stays
    assert employee.opted_in_at == opted_at
    participation.opt_out(employee)
    participation.opt_out(employee)  # harmless twice
    assert not employee.participating
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("participation.opt_out") == 1
    assert actions.count("participation.opt_in") == 2


# Presence ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("presence", "pseudonym", "stored"),
    [
        (Presence.NAMED, None, None),
        (Presence.PSEUDONYM, "  Blue Fox  ", "Blue Fox"),
        (Presence.PSEUDONYM, "Jörg-99.x", "Jörg-99.x"),
        (Presence.HIDDEN, "", None),
    ],
)
def test_update_presence(ctx, presence, pseudonym, stored):
    employee = EmployeeFactory(pseudonym="Old Name")
    participation.update_presence(employee, presence, pseudonym)
    assert (employee.presence, employee.pseudonym) == (presence, stored)


@pytest.mark.parametrize(
    ("pseudonym", "error"),
    [
        (None, InvalidInput),
        ("   ", InvalidInput),
        ("ab", InvalidInput),
        ("x" * 41, InvalidInput),
        ("<script>", InvalidInput),
        ("me@example.com", InvalidInput),
        ("TAKEN one", Conflict),
    ],
)
def test_update_presence_refuses_bad_pseudonyms(ctx, pseudonym, error):
    EmployeeFactory(presence=Presence.PSEUDONYM, pseudonym="Taken One")
    employee = EmployeeFactory()
    with pytest.raises(error) as info:
        participation.update_presence(employee, Presence.PSEUDONYM, pseudonym)
    assert "pseudonym" in info.value.errors
    assert employee.presence is Presence.NAMED


def test_keeping_ones_own_pseudonym_is_no_clash(ctx):
    employee = EmployeeFactory(presence=Presence.PSEUDONYM, pseudonym="Blue Fox")
    participation.update_presence(employee, Presence.PSEUDONYM, "blue fox")
    assert employee.pseudonym == "blue fox"


# Networks and interests --------------------------------------------------------------


def networks_of(employee) -> dict:
    db.session.flush()
    return {
        n.network: (n.handle, n.audience_size)
        for n in db.session.scalars(
            select(EmployeeNetwork).where(EmployeeNetwork.employee_id == employee.id)
        )
    }


def test_set_networks_replaces_updates_and_removes(ctx):
    employee = EmployeeFactory()
    participation.set_networks(
        employee,
        [
            {"network": "linkedin", "handle": " lena ", "audience_size": 300},
            {"network": Network.X, "handle": None},
        ],
    )
    assert networks_of(employee) == {Network.LINKEDIN: ("lena", 300), Network.X: (None, None)}
    participation.set_networks(
        employee,
        [{"network": "linkedin", "handle": "", "audience_size": 900}, {"network": "xing"}],
    )
    assert networks_of(employee) == {Network.LINKEDIN: (None, 900), Network.XING: (None, None)}
    participation.set_networks(employee, [])
    assert networks_of(employee) == {}


@pytest.mark.parametrize(
    "networks",
    [
        [{"network": "linkedin"}, {"network": "LinkedIn".lower()}],
        [{"network": "myspace"}],
        [{"handle": "no network"}],
        [{"network": "x", "audience_size": -1}],
    ],
    ids=["duplicate", "unknown", "missing", "negative-audience"],
)
def test_set_networks_refuses_bad_lists(ctx, networks):
    employee = EmployeeFactory()
    EmployeeNetworkFactory(employee=employee, network=Network.FACEBOOK)
    with pytest.raises(InvalidInput) as info:
        participation.set_networks(employee, networks)
    assert "networks" in info.value.errors
    assert set(networks_of(employee)) == {Network.FACEBOOK}


def test_set_interests(ctx):
    employee = EmployeeFactory()
    careers, events = InterestFactory(name="Careers"), InterestFactory(name="Events")
    participation.set_interests(employee, [events.id, careers.id, events.id])
    assert [i.name for i in employee.interests] == ["Careers", "Events"]
    with pytest.raises(InvalidInput) as info:
        participation.set_interests(employee, [careers.id, 424242])
    assert "424242" in info.value.message
    assert "interest_ids" in info.value.errors
    participation.set_interests(employee, [])
    assert employee.interests == []


# Export ------------------------------------------------------------------------------


def test_export_holds_my_data_and_nobody_elses(ctx):
    hr = EmployeeFactory(role=Role.HR, name="Hilde Hr", email="hilde@example.com")
    other = EmployeeFactory(name="Otto Other", email="otto@example.com", pseudonym="Otter")
    me = EmployeeFactory(name="Mia Me", email="mia@example.com")
    guidelines = publish(hr)
    participation.opt_in(me, guidelines.id)
    participation.opt_in(other, guidelines.id)
    participation.update_presence(me, Presence.PSEUDONYM, "Night Owl")
    participation.set_networks(me, [{"network": "xing", "handle": "mia", "audience_size": 42}])
    participation.set_interests(me, [InterestFactory(name="Careers").id])
    EmployeeNetworkFactory(employee=other, network=Network.X, handle="otto-handle")
    people.update_employee(hr, me, {"name": "Mia Meyer"})
    people.update_employee(hr, other, {"name": "Otto Otherson"})
    create_token(hr, me, "My script")
    db.session.commit()

    data = participation.export_personal_data(me)
    assert data["profile"]["email"] == "mia@example.com"
    assert data["profile"]["name"] == "Mia Meyer"
    assert data["profile"]["shown_on_boards_as"] == "Night Owl"
    assert data["profile"]["guidelines_version_id"] == guidelines.id
    assert data["networks"] == [{"network": "xing", "handle": "mia", "audience_size": 42}]
    assert data["interests"] == ["Careers"]
    assert [t["name"] for t in data["api_tokens"]] == ["My script"]
    assert "token_hash" not in json.dumps(data)
    actions = [(a["action"], a["by_me"]) for a in data["activity"]]
    assert ("participation.opt_in", True) in actions
    assert ("employee.update", False) in actions
    text = json.dumps(data)  # JSON-ready as it is
    for foreign in ("Otto", "otto", "Otter", "Hilde", "hilde", "Otherson"):
        assert foreign not in text


# Erasure -----------------------------------------------------------------------------


def test_erase_anonymises_and_blocks_sign_in(ctx):
    admin = EmployeeFactory(role=Role.ADMIN)
    employee = people.create_employee(admin, email="gone@example.com", name="Gone Person")
    people.update_employee(admin, employee, {"name": "Gone Person Jr"})
    guidelines = publish()
    participation.opt_in(employee, guidelines.id)
    participation.update_presence(employee, Presence.PSEUDONYM, "Ghost")
    participation.set_networks(employee, [{"network": "linkedin", "handle": "gone"}])
    participation.set_interests(employee, [InterestFactory().id])
    _token, secret = create_token(admin, employee, "script")
    db.session.commit()
    link = make_sign_in_token(employee)

    participation.erase_employee(employee, employee)
    db.session.commit()

    assert employee.email == f"erased-{employee.id}@erased.invalid"
    assert "Gone" not in employee.name
    assert (employee.pseudonym, employee.presence) == (None, Presence.HIDDEN)
    assert employee.opted_in_at is None
    assert employee.erased_at is not None
    assert employee.is_active is False
    assert not employee.participating
    assert db.session.scalar(select(func.count()).select_from(EmployeeNetwork)) == 0
    assert db.session.scalar(select(func.count()).select_from(employee_interests)) == 0
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert authenticate(secret) is None
    with pytest.raises(InvalidInput):
        check_sign_in_token(link)
    assert people.find_employee_by_email("gone@example.com") is None
    # The audit trail keeps what happened, not who it was.
    trail = json.dumps([e.details for e in db.session.scalars(select(AuditEntry))])
    assert "gone@example.com" not in trail
    assert "Gone Person" not in trail
    assert (
        db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "participation.erase")
        ).target_id
        == employee.id
    )

    erased_at = employee.erased_at
    participation.erase_employee(admin, employee)  # twice: nothing changes
    assert employee.erased_at == erased_at
    with pytest.raises(Conflict):
        people.update_employee(admin, employee, {"active": True})


def test_erasing_the_last_active_admin_is_refused(ctx):
    admin = EmployeeFactory(role=Role.ADMIN, name="Last Admin")
    EmployeeFactory(role=Role.ADMIN, active=False)
    with pytest.raises(Conflict):
        participation.erase_employee(admin, admin)
    assert admin.erased_at is None
    assert admin.name == "Last Admin"
    other = EmployeeFactory(role=Role.ADMIN)
    participation.erase_employee(other, admin)
    assert admin.erased_at is not None


def test_an_inactive_admin_can_be_erased(ctx):
    EmployeeFactory(role=Role.ADMIN)
    inactive = EmployeeFactory(role=Role.ADMIN, active=False)
    participation.erase_employee(None, inactive)
    assert inactive.erased_at is not None


def test_guidelines_stay_when_their_author_is_erased(ctx):
    EmployeeFactory(role=Role.ADMIN)
    hr = EmployeeFactory(role=Role.HR)
    version = GuidelineVersionFactory(created_by_id=hr.id)
    participation.erase_employee(None, hr)
    db.session.commit()
    assert participation.current_guidelines() is version


def test_export_holds_my_shares_and_points_and_erasure_removes_what_i_wrote(ctx):
    from app.models import LedgerLine, Share
    from tests.factories import LedgerLineFactory, ShareFactory

    me = EmployeeFactory(opted_in=True)
    other_share = ShareFactory(text="Someone else's words #employee")
    mine = ShareFactory(employee=me, text="My own words #employee")
    LedgerLineFactory(employee_id=me.id, points=7, reason="Welcome bonus")
    LedgerLineFactory(employee_id=other_share.employee_id, points=3, reason="Not mine")
    db.session.commit()

    data = participation.export_personal_data(me)
    assert [s["text"] for s in data["shares"]] == ["My own words #employee"]
    assert [(p["points"], p["reason"]) for p in data["points"]] == [(7, "Welcome bonus")]
    assert "Someone else" not in json.dumps(data)

    participation.erase_employee(None, me)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Share, mine.id).text == ""
    assert db.session.get(Share, other_share.id).text == "Someone else's words #employee"
    # The ledger stays consistent: points keep pointing at the anonymous row.
    assert db.session.scalar(select(LedgerLine.points).where(LedgerLine.employee_id == me.id)) == 7


# The game's records --------------------------------------------------------------------


def _settled_with(winner, runner_up):
    """A challenge that ended three days ago, settled: the winner 1st with 2 shares and a
    place prize of 50 points, the runner-up 2nd with 1 share."""
    from datetime import timedelta

    from app.models import Challenge, utcnow
    from app.services import challenge_settlement
    from tests.factories import ChallengeFactory, EventFactory

    now = utcnow()
    challenge = ChallengeFactory(
        title="Autumn sprint",
        starts_at=now - timedelta(days=6),
        ends_at=now - timedelta(days=3),
        prizes=[{"kind": "points", "value": 50, "place": 1}],
    )
    at = challenge.starts_at + timedelta(hours=1)
    for who, shares in ((winner, 2), (runner_up, 1)):
        for i in range(shares):
            moment = at + timedelta(seconds=i)
            EventFactory(
                employee_id=who.id,
                team_id=who.team_id,
                occurred_at=moment,
                created_at=moment,
                scored_at=moment,
            )
    assert challenge_settlement.settle_challenge(challenge.id)
    db.session.commit()
    return db.session.get(Challenge, challenge.id)


def test_export_holds_my_game_records_and_nobody_elses(ctx):
    from datetime import UTC, datetime

    from scoring.badges import Level
    from scoring.challenges import Mode
    from tests.factories import (
        BadgeFactory,
        BadgeGrantFactory,
        ChallengeAwardFactory,
        ChallengeDeclineFactory,
        ChallengeFactory,
        ChallengePlacingFactory,
        LessonCompletionFactory,
        LessonFactory,
        PledgeFactory,
        TeamFactory,
        TeamFundingFactory,
    )

    t1, t2, t3 = (datetime(2026, 3, d, 9, tzinfo=UTC) for d in (2, 3, 4))
    team = TeamFactory(name="Blue")
    me = EmployeeFactory(opted_in=True, team=team, name="Mia Me")
    other = EmployeeFactory(opted_in=True, team=team, name="Otto Other")
    sharer = BadgeFactory(name="Sharer")
    BadgeGrantFactory(badge=sharer, employee_id=me.id, level=Level.SILVER, granted_at=t2)
    BadgeGrantFactory(badge=sharer, employee_id=me.id, level=Level.BRONZE, granted_at=t1)
    BadgeGrantFactory(badge=BadgeFactory(name="Not mine"), employee_id=other.id)
    solo = ChallengeFactory(title="Solo sprint", organiser_id=me.id, created_at=t1)
    ChallengePlacingFactory(challenge_id=solo.id, entrant_id=me.id, rank=2, points=4)
    ChallengePlacingFactory(challenge_id=solo.id, entrant_id=other.id, rank=1, points=9)
    # A team placing whose team id happens to equal my id is a team's, not mine.
    teams = ChallengeFactory(title="Team race", mode=Mode.TEAM)
    ChallengePlacingFactory(challenge_id=teams.id, entrant_id=me.id, rank=1, points=30)
    ChallengeAwardFactory(challenge_id=solo.id, employee_id=me.id, value=25, place=2)
    ChallengeAwardFactory(challenge_id=solo.id, employee_id=other.id, value=50, place=1)
    ChallengeDeclineFactory(
        challenge_id=ChallengeFactory(title="Not for me").id, employee_id=me.id, declined_at=t3
    )
    ChallengeDeclineFactory(challenge_id=teams.id, employee_id=other.id)
    lesson = LessonFactory(title="Your profile")
    LessonCompletionFactory(lesson_id=lesson.id, employee_id=me.id, completed_at=t2)
    LessonCompletionFactory(lesson_id=LessonFactory(title="Not read").id, employee_id=other.id)
    funding = TeamFundingFactory(team=team, reward__name="Team lunch")
    PledgeFactory(funding=funding, employee=me, points=30, created_at=t3)
    PledgeFactory(funding=funding, employee=other, points=40)
    ChallengeFactory(title="Someone else's", organiser_id=other.id)
    db.session.commit()

    data = participation.export_personal_data(me)
    assert data["badges"] == [
        {"badge": "Sharer", "level": "bronze", "period": "all", "granted_at": t1.isoformat()},
        {"badge": "Sharer", "level": "silver", "period": "all", "granted_at": t2.isoformat()},
    ]
    assert data["challenge_placings"] == [
        {"challenge": "Solo sprint", "rank": 2, "points": 4, "qualified": False}
    ]
    assert [
        {k: a[k] for k in ("challenge", "prize_kind", "value", "place")}
        for a in data["challenge_awards"]
    ] == [{"challenge": "Solo sprint", "prize_kind": "points", "value": 25, "place": 2}]
    assert data["challenge_declines"] == [
        {"challenge": "Not for me", "declined_at": t3.isoformat()}
    ]
    assert data["lessons"] == [{"lesson": "Your profile", "completed_at": t2.isoformat()}]
    assert data["pledges"] == [
        {
            "reward": "Team lunch",
            "team": "Blue",
            "points": 30,
            "state": "held",
            "created_at": t3.isoformat(),
        }
    ]
    assert data["challenges_organised"] == [
        {"challenge": "Solo sprint", "created_at": t1.isoformat()}
    ]
    text = json.dumps(data)  # JSON-ready as it is
    for foreign in ("Otto", "Not mine", "Not read", "Team race", "Someone else", '"value": 50'):
        assert foreign not in text


def test_erasure_keeps_the_settled_game_nameless_and_releases_held_pledges(ctx):
    from app.models import (
        BadgeGrant,
        ChallengeAward,
        ChallengeDecline,
        ChallengePlacing,
        LedgerLine,
        LessonCompletion,
        LineKind,
        Pledge,
        TeamFunding,
    )
    from app.services import challenge_settlement, challenge_standings, team_rewards
    from rewards.funding import FundingState, PledgeState
    from tests.factories import (
        BadgeGrantFactory,
        ChallengeDeclineFactory,
        ChallengeFactory,
        LessonCompletionFactory,
        PledgeFactory,
        TeamFactory,
        TeamFundingFactory,
    )

    team = TeamFactory(name="Green")
    gone = EmployeeFactory(opted_in=True, team=team, name="Greta Gone", pseudonym="Gigi")
    stays = EmployeeFactory(opted_in=True, team=team, name="Stan Stays")
    hr = EmployeeFactory(role=Role.HR, team=team)
    EmployeeFactory(role=Role.ADMIN)
    challenge = _settled_with(gone, stays)
    BadgeGrantFactory(employee_id=gone.id)
    LessonCompletionFactory(employee_id=gone.id)
    running = ChallengeFactory(title="Running")
    ChallengeDeclineFactory(challenge_id=running.id, employee_id=gone.id)
    ChallengeDeclineFactory(challenge_id=running.id, employee_id=stays.id)
    open_funding = TeamFundingFactory(team=team, target=500)
    held = PledgeFactory(funding=open_funding, employee=gone, points=30)
    PledgeFactory(funding=open_funding, employee=stays, points=20)
    spent_funding = TeamFundingFactory(team=team, state=FundingState.FUNDED, target=10)
    spent = PledgeFactory(funding=spent_funding, employee=gone, points=10, state=PledgeState.SPENT)
    db.session.commit()
    assert team_rewards.held_total(open_funding.id) == 50

    participation.erase_employee(None, gone)
    db.session.commit()
    db.session.expire_all()

    # Settled placings stay, sealed: the digest still verifies over the same rows.
    assert challenge_settlement.verify_digest(challenge)
    placings = db.session.execute(
        select(ChallengePlacing.entrant_id, ChallengePlacing.rank, ChallengePlacing.points)
        .where(ChallengePlacing.challenge_id == challenge.id)
        .order_by(ChallengePlacing.rank)
    ).all()
    assert [tuple(p) for p in placings] == [(gone.id, 1, 2), (stays.id, 2, 1)]
    # ... but the board no longer names the erased person, for HR or anyone.
    for viewer in (hr, stays):
        view = challenge_standings.view_challenge(challenge, viewer)
        names = {row.entrant_id: row.name for row in view.rows}
        assert names == {gone.id: "", stays.id: "Stan Stays"}
    # Prizes, grants and completions stay with the anonymous row, as their ledger lines do.
    assert (
        db.session.scalar(select(ChallengeAward.value).where(ChallengeAward.employee_id == gone.id))
        == 50
    )
    assert (
        db.session.scalar(
            select(LedgerLine.points).where(
                LedgerLine.employee_id == gone.id, LedgerLine.kind == LineKind.PRIZE
            )
        )
        == 50
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(BadgeGrant).where(BadgeGrant.employee_id == gone.id)
        )
        == 1
    )
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(LessonCompletion)
            .where(LessonCompletion.employee_id == gone.id)
        )
        == 1
    )
    # A decline is a choice, like an interest: it goes; other people's stay.
    assert db.session.scalars(select(ChallengeDecline.employee_id)).all() == [stays.id]
    # The held pledge is withdrawn: its points are free and the team's total drops.
    assert db.session.get(Pledge, held.id).state is PledgeState.REFUNDED
    assert team_rewards.held_total(open_funding.id) == 20
    assert db.session.get(TeamFunding, open_funding.id).state is FundingState.OPEN
    assert db.session.get(Pledge, spent.id).state is PledgeState.SPENT
    withdrawn = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "pledge.withdraw")
    ).one()
    assert withdrawn.target_id == held.id
    text = json.dumps([e.details for e in db.session.scalars(select(AuditEntry))])
    assert "Greta" not in text
    assert "Gigi" not in text
