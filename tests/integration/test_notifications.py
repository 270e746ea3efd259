"""The inbox against real SQL: told once per key, only people taking part and wanting
it, marked read only by its owner, gone at erasure; badges and redemption decisions
tell through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.jobs import notify_redemptions
from app.models import Employee, Notification
from app.services import badges, participation
from app.services import notifications as inbox
from app.services import redemptions as rewards
from app.services.notifications import Told
from scoring.notifications import Channel, Kind
from scoring.vocabulary import EventKind
from tests.factories import CompanySettingsFactory, EmployeeFactory, EventFactory
from tests.integration.test_rewards import funded, reward

BADGE, DECISION = Kind.BADGE_EARNED, Kind.REDEMPTION_DECIDED


def told(employee, key="k", kind=BADGE) -> Told:
    return Told(employee.id, kind, key, title=f"About {key}", body="Words", link="/badges/mine")


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def test_a_key_is_told_once_and_only_to_people_taking_part_who_want_it(ctx):
    ada, bo = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    never, gone = EmployeeFactory(), EmployeeFactory(opted_in=True, active=False)
    inbox.set_choices(bo, {(BADGE, Channel.IN_APP): False})
    assert inbox.tell([told(p) for p in (ada, bo, never, gone)]) == 1
    assert inbox.tell([told(ada), told(ada, "other")]) == 1  # the job ran again
    assert [n.title for n in inbox.inbox(ada)] == ["About other", "About k"]
    assert count() == 2
    # Bo turns the inbox back on: what was not told then is not told now either.
    inbox.set_choices(bo, {(BADGE, Channel.IN_APP): True})
    assert inbox.choices_of([bo.id]) == {bo.id: {(BADGE, Channel.IN_APP): True}}
    assert inbox.inbox(bo) == []


def test_the_inbox_pages_back_and_counts_what_is_unread(ctx):
    ada = EmployeeFactory(opted_in=True)
    inbox.tell([told(ada, f"k{n}") for n in range(5)])
    newest = inbox.inbox(ada, limit=2)
    assert [n.key for n in newest] == ["k4", "k3"]
    assert [n.key for n in inbox.inbox(ada, before=newest[-1].id)] == ["k2", "k1", "k0"]
    assert inbox.unread_count(ada) == 5
    assert inbox.mark_read(ada, [newest[0].id, newest[0].id]) == 1
    assert inbox.mark_read(ada, [newest[0].id]) == 0  # read already
    assert inbox.unread_count(ada) == 4
    assert inbox.mark_read(ada) == 4
    assert inbox.unread_count(ada) == 0


def test_nobody_marks_another_person_s_notifications(ctx):
    ada, bo = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    inbox.tell([told(ada)])
    theirs = inbox.inbox(ada)[0].id
    assert inbox.mark_read(bo, [theirs]) == 0
    assert inbox.mark_read(bo) == 0
    assert inbox.unread_count(ada) == 1


def test_erasure_takes_the_inbox_and_the_choices_and_the_export_holds_them(ctx):
    ada = EmployeeFactory(opted_in=True)
    inbox.tell([told(ada)])
    inbox.set_choices(ada, {(DECISION, Channel.EMAIL): False})
    data = participation.export_personal_data(ada)
    assert [n["title"] for n in data["notifications"]] == ["About k"]
    assert data["notification_choices"] == [
        {"kind": "redemption_decided", "channel": "email", "on": False}
    ]
    participation.erase_employee(None, ada)
    assert count() == 0
    assert inbox.choices_of([ada.id]) == {ada.id: {}}


def test_a_badge_earned_now_is_told_once_and_an_old_one_quietly_not(ctx):
    CompanySettingsFactory(time_zone="Europe/Berlin")
    now = datetime.now(UTC)
    badges.create_badge(
        None, {"id": "first-share", "name": "First share", "kind": "first", "measure": "shares"}
    )
    fresh, old = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    for person, at in ((fresh, now - timedelta(hours=1)), (old, now - timedelta(days=30))):
        EventFactory(kind=EventKind.SHARE, employee_id=person.id, occurred_at=at)
    assert sum(badges.evaluate_everyone(now)) == 2
    assert sum(badges.evaluate_everyone(now)) == 0
    assert [(n.title, n.link) for n in inbox.inbox(fresh)] == [
        ("You earned First share", "/badges/mine")
    ]
    assert inbox.inbox(old) == []


def test_a_decision_is_told_in_the_inbox_and_by_mail_as_each_person_chose(app, deliver):
    with app.app_context():
        hr, ada, bo = EmployeeFactory(), funded(300), funded(300)
        inbox.set_choices(bo, {(DECISION, Channel.EMAIL): False})
        prize = reward(hr)
        for person in (ada, bo):
            taken, _ = rewards.redeem(person, prize.id, "a")
            rewards.approve(hr, taken, "Friday, at the front desk.")
        db.session.commit()
        ids = ada.id, bo.id
    with app.app_context():
        assert notify_redemptions() == 1  # Ada's mail; Bo chose no mail
        assert notify_redemptions() == 0
        for employee_id in ids:
            (note,) = inbox.inbox(db.session.get(Employee, employee_id))
            assert note.title == "Your reward: Company hoodie"
            assert "was approved" in note.body
            assert "Friday" in note.body
            assert note.link == "/me/redemptions"
    assert len(deliver()) == 1
