"""Digests: due at each person's hour in their own zone, once a local day, carrying
only what is new, meant for them and unshared, and what their budget held back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select, update

from app.extensions import db
from app.jobs import deliver_outbox
from app.models import ContentStatus, DeliveryState, Employee, OutboxMessage
from app.services import digests, feed, notifications, outbox
from scoring.notifications import Digest, Kind, Preferences
from tests.conftest import mail_text
from tests.factories import ContentItemFactory, EmployeeFactory, ShareFactory, TeamFactory

# Monday 2 March 2026: 08:00 in Berlin is 07:00 UTC, in New York 13:00 UTC.
BERLIN_EIGHT = datetime(2026, 3, 2, 7, 5, tzinfo=UTC)
NEW_YORK_EIGHT = datetime(2026, 3, 2, 13, 5, tzinfo=UTC)


def reader(zone: str | None = None, digest: Digest = Digest.WEEKLY, **attributes) -> Employee:
    employee = EmployeeFactory(**{"opted_in": True, **attributes})
    rhythm = Preferences(digest=digest, digest_hour=8, time_zone=zone, quiet_from=None)
    notifications.set_preferences(employee, rhythm)
    return employee


def compose(now: datetime) -> int:
    return sum(digests.compose_due(now))


def digest_of(employee: Employee) -> dict | None:
    payload = db.session.scalar(
        select(OutboxMessage.payload).where(
            OutboxMessage.employee_id == employee.id, OutboxMessage.kind == Kind.DIGEST
        )
    )
    return json.loads(payload) if payload else None


def test_each_digest_is_due_at_eight_in_its_persons_own_zone(ctx):
    berlin, new_york = reader("Europe/Berlin"), reader("America/New_York")
    item = ContentItemFactory(published_at=BERLIN_EIGHT - timedelta(days=1))
    assert compose(BERLIN_EIGHT) == 1
    assert digest_of(berlin)["items"] == [item.id]
    assert digest_of(new_york) is None
    assert compose(NEW_YORK_EIGHT) == 1
    assert digest_of(new_york)["items"] == [item.id]
    # Later the same local day nothing more is written, for either.
    assert compose(NEW_YORK_EIGHT + timedelta(minutes=30)) == 0


def test_whoever_never_chose_follows_the_company_zone_and_the_weekly_default(ctx):
    default = EmployeeFactory(opted_in=True)  # weekly, 09:00, Europe/Berlin (the company's)
    ContentItemFactory(published_at=BERLIN_EIGHT - timedelta(days=1))
    assert compose(BERLIN_EIGHT) == 0
    assert compose(BERLIN_EIGHT + timedelta(hours=1)) == 1
    assert digest_of(default) is not None


def test_a_digest_carries_only_what_is_new_unseen_meant_for_them_and_unshared(ctx):
    team = TeamFactory()
    ada = reader("Europe/Berlin", team=team)
    day_before = BERLIN_EIGHT - timedelta(days=1)
    everyone = ContentItemFactory(published_at=day_before)
    theirs = ContentItemFactory(published_at=day_before - timedelta(hours=1))
    theirs.target_teams = [team]
    ContentItemFactory(published_at=day_before).target_teams = [TeamFactory()]  # not theirs
    shared = ContentItemFactory(published_at=day_before)
    ShareFactory(employee=ada, content=shared)
    ContentItemFactory(published_at=day_before, status=ContentStatus.DRAFT, draft=True)
    ContentItemFactory(published_at=BERLIN_EIGHT - timedelta(days=20))  # too old
    db.session.flush()
    assert compose(BERLIN_EIGHT) == 1
    assert digest_of(ada) == {"items": [everyone.id, theirs.id], "more": 0, "notices": []}
    # A week on: only what came since the last digest, and nothing at all if nothing did.
    next_monday = BERLIN_EIGHT + timedelta(days=7)
    assert compose(next_monday) == 0
    newer = ContentItemFactory(published_at=next_monday - timedelta(days=2))
    older_seen = ContentItemFactory(published_at=next_monday - timedelta(days=3))
    feed.mark_seen(ada, next_monday - timedelta(days=2, hours=1))  # opened the feed between
    assert compose(next_monday) == 1
    (second,) = db.session.scalars(
        select(OutboxMessage.payload).where(OutboxMessage.key.like(f"digest:{ada.id}:%-09%"))
    )
    assert json.loads(second)["items"] == [newer.id]
    assert older_seen.id not in json.loads(second)["items"]


def test_no_digest_for_who_turned_it_off_or_does_not_take_part(ctx):
    reader("Europe/Berlin", digest=Digest.OFF)
    reader("Europe/Berlin", opted_in=False)
    reader("Europe/Berlin", active=False)
    ContentItemFactory(published_at=BERLIN_EIGHT - timedelta(days=1))
    assert compose(BERLIN_EIGHT) == 0
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_what_the_budget_held_back_goes_with_the_next_digest(ctx):
    ada = reader("Europe/Berlin")
    notifications.set_preferences(
        ada, Preferences(digest_hour=8, quiet_from=None, quiet_until=None, weekly_budget=0)
    )
    notice = {"title": "Your reward: Mug", "body": "It was approved.", "link": "/me/redemptions"}
    outbox.queue_mail([outbox.Mail(ada.id, Kind.REDEMPTION_DECIDED, "mug", notice)])
    assert db.session.scalar(select(OutboxMessage.state)) is DeliveryState.FOLDED
    assert compose(BERLIN_EIGHT) == 1  # nothing new to share, but something to tell
    assert digest_of(ada) == {"items": [], "more": 0, "notices": [notice]}
    folded = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == "mug"))
    assert folded.state is DeliveryState.DIGESTED


def test_the_digest_mail_lists_each_item_with_a_link_into_its_share_dialog(app, mailbox):
    with app.app_context():
        reader("Europe/Berlin", name="Ada Lovelace", email="ada@example.com")
        first = ContentItemFactory(title="We are hiring", published_at=BERLIN_EIGHT)
        second = ContentItemFactory(title="Our new office", published_at=BERLIN_EIGHT)
        withdrawn = ContentItemFactory(title="Old news", published_at=BERLIN_EIGHT)
        db.session.commit()
        assert compose(BERLIN_EIGHT + timedelta(minutes=1)) == 1
        withdrawn.status = ContentStatus.ARCHIVED  # withdrawn before the digest went out
        db.session.execute(update(OutboxMessage).values(next_attempt_at=BERLIN_EIGHT))
        db.session.commit()
        assert deliver_outbox()["sent"] == 1
        ids = first.id, second.id, withdrawn.id
    (message,) = mailbox.messages
    assert message["Subject"] == "2 new to share"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail_text(message)
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert f"/content/{ids[0]}/share" in body
        assert f"/content/{ids[1]}/share" in body
        assert "Old news" not in body
        assert "/inbox/settings" in body
        assert "/unsubscribe/" in body


def test_a_digest_left_with_nothing_to_say_is_not_sent(app, mailbox):
    with app.app_context():
        reader("Europe/Berlin")
        item = ContentItemFactory(published_at=BERLIN_EIGHT)
        db.session.commit()
        assert compose(BERLIN_EIGHT + timedelta(minutes=1)) == 1
        item.status = ContentStatus.ARCHIVED
        db.session.execute(update(OutboxMessage).values(next_attempt_at=BERLIN_EIGHT))
        db.session.commit()
        assert deliver_outbox() == {"failed_stuck": 0, "cancelled": 1}
    assert mailbox.messages == []


def test_unsubscribing_from_the_digest_turns_it_off(ctx):
    ada = reader("Europe/Berlin")
    notifications.unsubscribe(ada, Kind.DIGEST)
    assert notifications.preferences_of([ada.id])[ada.id].digest is Digest.OFF


def test_the_clock_composes_and_the_worker_sends_through_rq(app, run_scheduled, mailbox):
    with time_machine.travel(BERLIN_EIGHT, tick=True):
        with app.app_context():
            reader("Europe/Berlin", email="ada@example.com")
            ContentItemFactory(published_at=BERLIN_EIGHT - timedelta(days=1))
            db.session.commit()
        run_scheduled("app.jobs.compose_digests")
        run_scheduled("app.jobs.deliver_outbox")
        run_scheduled("app.jobs.compose_digests")  # the next quarter: nothing more
        run_scheduled("app.jobs.deliver_outbox")
    assert [m["To"] for m in mailbox.messages] == ["ada@example.com"]
