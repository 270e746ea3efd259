"""The outbox: who is written to and when, and sending through a real SMTP server on
loopback: at most once under racing workers, retries only for transient answers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import time_machine
from sqlalchemy import func, select, update

from app.extensions import db
from app.jobs import deliver_outbox
from app.models import DeliveryState, Employee, OutboxMessage, utcnow
from app.services import notifications, outbox, participation
from app.services.mails import read_unsubscribe_token
from scoring.delivery import MAX_ATTEMPTS
from scoring.notifications import Channel, Kind, Preferences
from tests.conftest import mail_text
from tests.factories import EmployeeFactory

DECISION = Kind.REDEMPTION_DECIDED
NO_QUIET = Preferences(quiet_from=None, quiet_until=None)


def mail(employee_id: int, key: str = "a", title: str = "Your reward: Mug") -> outbox.Mail:
    payload = {"title": title, "body": "It was approved.", "link": "/me/redemptions"}
    return outbox.Mail(employee_id, DECISION, key, payload)


def person(preferences: Preferences = NO_QUIET, **attributes) -> Employee:
    employee = EmployeeFactory(opted_in=True, **attributes)
    notifications.set_preferences(employee, preferences)
    return employee


def states() -> dict[str, DeliveryState]:
    return dict(db.session.execute(select(OutboxMessage.key, OutboxMessage.state)).all())


def test_only_people_who_want_the_mail_get_a_row_and_a_key_once(ctx):
    ada, off = person(), person()
    notifications.set_choices(off, {(DECISION, Channel.EMAIL): False})
    outsider = EmployeeFactory(opted_in=False)
    left = person(active=False)
    mails = [mail(e.id, key=f"k{e.id}") for e in (ada, off, outsider, left)]
    assert outbox.queue_mail(mails) == 1
    assert outbox.queue_mail(mails) == 0  # the job ran twice: nothing new
    assert list(states()) == [f"k{ada.id}"]


def test_what_falls_in_quiet_hours_waits_for_their_end_in_the_persons_zone(ctx):
    berlin = person(Preferences(quiet_from=19, quiet_until=8, time_zone="Europe/Berlin"))
    late = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)  # 21:30 in Berlin
    outbox.queue_mail([mail(berlin.id)], now=late)
    message = db.session.scalar(select(OutboxMessage))
    assert message.next_attempt_at == datetime(2026, 3, 3, 7, tzinfo=UTC)  # 08:00 there
    assert outbox.due(late + timedelta(hours=10)) == []
    assert [d.id for d in outbox.due(datetime(2026, 3, 3, 7, tzinfo=UTC))] == [message.id]


def test_beyond_the_weekly_budget_mail_is_folded_for_the_next_digest(ctx):
    frugal = person(Preferences(quiet_from=None, quiet_until=None, weekly_budget=2))
    start = utcnow()
    for day in range(3):
        outbox.queue_mail([mail(frugal.id, key=f"d{day}")], now=start + timedelta(days=day))
    assert states() == {
        "d0": DeliveryState.PENDING,
        "d1": DeliveryState.PENDING,
        "d2": DeliveryState.FOLDED,
    }
    # A week after the first, the budget has room again.
    outbox.queue_mail([mail(frugal.id, key="d7")], now=start + timedelta(days=7, minutes=1))
    assert states()["d7"] is DeliveryState.PENDING


def test_a_mail_goes_through_smtp_multipart_with_a_one_click_unsubscribe(app, mailbox):
    with app.app_context():
        ada = person(name="Ada Lovelace", email="ada@example.com")
        outbox.queue_mail([mail(ada.id)])
        db.session.commit()
        ada_id = ada.id
        assert deliver_outbox() == {"failed_stuck": 0, "sent": 1}
        assert states() == {"a": DeliveryState.SENT}
    (message,) = mailbox.messages
    assert (message["To"], message["Subject"]) == ("ada@example.com", "Your reward: Mug")
    assert message.get_content_type() == "multipart/alternative"
    assert "Hello Ada Lovelace" in mail_text(message)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'href="http' in html
    assert "/me/redemptions" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip("<>")
    # On the wire, one <URL> as mail programs read it: not folded into encoded words.
    assert f"List-Unsubscribe: <{link}>".encode() in mailbox.raw[0]
    token = link.rsplit("/", 1)[1]
    with app.app_context():
        assert read_unsubscribe_token(token) == (ada_id, DECISION)
    # The one click, as a mail program sends it: no cookie, no CSRF token.
    answer = app.test_client().post(urlsplit(link).path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    with app.app_context():
        assert notifications.recipients([ada_id], DECISION, Channel.EMAIL) == set()
        assert outbox.queue_mail([mail(ada_id, key="b")]) == 0


def test_a_transient_refusal_is_tried_again_later_and_a_final_one_fails(app, mailbox):
    with app.app_context():
        ada = person()
        outbox.queue_mail([mail(ada.id, key="busy"), mail(ada.id, key="no")])
        db.session.commit()
        mailbox.answer = "451 Greylisted, try later"
        before = utcnow()
        assert deliver_outbox()["pending"] == 2
        busy = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == "busy"))
        assert (busy.state, busy.attempts) == (DeliveryState.PENDING, 1)
        assert busy.next_attempt_at > before + timedelta(seconds=10)
        assert "Greylisted" in busy.last_error
        assert deliver_outbox() == {"failed_stuck": 0}  # not due yet: nothing tried
        mailbox.answer = "550 No such mailbox"
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        assert deliver_outbox()["failed"] == 2
        assert set(states().values()) == {DeliveryState.FAILED}
    assert mailbox.messages == []


def test_no_server_is_a_transient_failure_and_tries_run_out(app, monkeypatch):
    from tests.mail_server import free_port

    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())  # nobody listens
    with app.app_context():
        outbox.queue_mail([mail(person().id)])
        db.session.commit()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
            db.session.commit()
            deliver_outbox()
            message = db.session.scalar(select(OutboxMessage))
            db.session.rollback()
            assert message.attempts == attempt
        assert message.state is DeliveryState.FAILED


def test_two_racing_workers_send_each_message_once(app, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PER_SECOND", 1000)
    with app.app_context():
        people = [person() for _ in range(4)]
        outbox.queue_mail([mail(p.id, key=f"{p.id}-{n}") for p in people for n in range(3)])
        db.session.commit()
    start = threading.Barrier(2)
    results: list[dict] = []

    def work() -> None:
        with app.app_context():
            start.wait()
            results.append(deliver_outbox())

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sum(r.get("sent", 0) for r in results) == 12
    assert len(mailbox.messages) == 12
    assert len({m["Message-ID"] for m in mailbox.messages}) == 12
    with app.app_context():
        assert set(states().values()) == {DeliveryState.SENT}


def test_a_claim_is_won_once(ctx):
    outbox.queue_mail([mail(person().id)])
    ((message_id, *_),) = outbox.due(utcnow())
    assert outbox.claim(message_id, utcnow()) is True
    assert outbox.claim(message_id, utcnow()) is False


def test_a_worker_that_died_while_sending_leaves_a_failed_message_an_admin_can_retry(app, mailbox):
    with app.app_context():
        admin = EmployeeFactory()
        outbox.queue_mail([mail(person().id)])
        ((message_id, *_),) = outbox.due(utcnow())
        assert outbox.claim(message_id, utcnow())
        db.session.commit()  # ... and its worker was killed here, long ago
        long_ago = utcnow() - outbox.STUCK - timedelta(seconds=1)
        db.session.execute(update(OutboxMessage).values(claimed_at=long_ago))
        db.session.commit()
        assert deliver_outbox()["failed_stuck"] == 1
        assert outbox.failed()[0].last_error == outbox.LOST_WHILE_SENDING
        assert mailbox.messages == []  # never sent again by itself
        outbox.retry(admin, message_id)
        db.session.commit()
        assert deliver_outbox()["sent"] == 1
    assert len(mailbox.messages) == 1


def test_a_person_who_opted_out_meanwhile_is_not_sent_what_waited(app, mailbox):
    with app.app_context():
        ada = person()
        outbox.queue_mail([mail(ada.id)])
        participation.opt_out(ada)
        db.session.commit()
        assert deliver_outbox() == {"failed_stuck": 0, "cancelled": 1}
    assert mailbox.messages == []


def test_the_rate_limit_per_destination(app):
    with app.app_context(), time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        assert [outbox.may_send("smtp", 2) for _ in range(3)] == [True, True, False]
        assert outbox.may_send("chat:1", 2) is True
    with app.app_context(), time_machine.travel(datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)):
        assert outbox.may_send("smtp", 2) is True  # the next second


def test_erasure_takes_the_persons_mail_and_settings(ctx):
    ada = person()
    outbox.queue_mail([mail(ada.id)])
    participation.erase_employee(EmployeeFactory(), ada)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert notifications.preferences_of([ada.id])[ada.id] == Preferences()


def test_settled_mail_is_forgotten_after_ninety_days_and_waiting_mail_kept(ctx):
    ada = person()
    long_ago = utcnow() - outbox.KEPT - timedelta(days=1)
    outbox.queue_mail([mail(ada.id, key=k) for k in ("sent", "failed", "waiting", "new")])
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.key != "new").values(created_at=long_ago)
    )
    for key, state in (("sent", DeliveryState.SENT), ("failed", DeliveryState.FAILED)):
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.key == key).values(state=state)
        )
    assert outbox.prune(utcnow()) == 2
    assert sorted(states()) == ["new", "waiting"]
