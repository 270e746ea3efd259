"""Outbound webhooks through a real HTTP receiver on loopback: each event goes to the
endpoints that picked it, once, in the transaction of what happened; deliveries are
signed as the Standard Webhooks reference library checks them (through a rotation's
overlap too); retries only on 429, 5xx and lost connections; an endpoint that is gone
is turned off with the admins told; two racing workers deliver each event once."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.errors import NotFound
from app.extensions import db
from app.jobs import deliver_outbox
from app.models import (
    DeliveryState,
    Notification,
    OutboxMessage,
    RedemptionState,
    Role,
    WebhookEndpoint,
    utcnow,
)
from app.services import challenge_settlement as settlement
from app.services import outbox, redemptions, sharing
from app.services import webhook_endpoints as service
from scoring.notifications import Kind
from scoring.vocabulary import Channel, ReferralStage
from scoring.webhooks import Event
from tests.factories import (
    ContentItemFactory,
    EmployeeFactory,
    RedemptionFactory,
    ReferralProgrammeFactory,
    WebhookEndpointFactory,
)
from tests.integration.test_challenge_settlement import finished, history
from tests.integration.test_referrals import job_share, record


def deliveries(endpoint_id: int | None = None) -> list[tuple[int, str, str]]:
    query = select(OutboxMessage).where(OutboxMessage.endpoint_id.is_not(None))
    if endpoint_id is not None:
        query = query.where(OutboxMessage.endpoint_id == endpoint_id)
    rows = db.session.scalars(query.order_by(OutboxMessage.id))
    return [(m.endpoint_id, service.event_type(m), m.state.value) for m in rows]


def payloads(event: Event) -> list[dict]:
    rows = db.session.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.key.like(f"webhook:%:{event.value}:%"))
        .order_by(OutboxMessage.id)
    )
    return [json.loads(payload) for payload in rows]


def test_each_event_goes_once_to_the_active_endpoints_that_picked_it(ctx):
    everything = WebhookEndpointFactory()
    shares_only = WebhookEndpointFactory(events="share.created")
    WebhookEndpointFactory(disabled_at=utcnow())
    employee = EmployeeFactory(opted_in=True)
    share = sharing.record_share(
        employee, ContentItemFactory(), Channel.LINKEDIN, "Look", utcnow(), True
    )
    assert deliveries() == [
        (everything.id, "share.created", "pending"),
        (shares_only.id, "share.created", "pending"),
    ]
    (body, _) = payloads(Event.SHARE_CREATED)
    assert body["type"] == "share.created"
    assert body["data"] == {
        "share_id": share.id,
        "employee_id": employee.id,
        "team_id": employee.team_id,
        "content_id": share.content_id,
        "network": "linkedin",
        "created_at": share.created_at.isoformat(),
    }
    # Written again under the same subject (a job run twice): nothing new.
    assert service.emit(Event.SHARE_CREATED, [(str(share.id), {})]) == 0


def test_nothing_is_read_twice_when_nobody_listens(ctx):
    assert service.emit(Event.SHARE_CREATED, [("1", {})]) == 0
    assert deliveries() == []


def test_a_referral_stage_names_the_referrer_only_when_it_counted_for_them(ctx):
    WebhookEndpointFactory(events="referral.stage_reached")
    ReferralProgrammeFactory(content_tag="job")
    counted = job_share()
    record(counted, ReferralStage.APPLIED, candidate="cand-a")
    record("NO-SUCH-CODE", ReferralStage.APPLIED, candidate="cand-b")
    record(counted, ReferralStage.APPLIED, candidate="cand-a")  # the same report again
    first, unknown = (body["data"] for body in payloads(Event.REFERRAL_STAGE))
    assert (first["stage"], first["employee_id"]) == ("applied", counted.share.employee_id)
    assert first["outcome"] == "awarded"
    assert (unknown["outcome"], unknown["employee_id"], unknown["share_id"]) == (
        "unattributed",
        None,
        None,
    )
    assert "cand" not in str(payloads(Event.REFERRAL_STAGE))  # the candidate is never named


def test_a_settled_challenge_is_told_with_how_many_its_board_ranked(ctx):
    WebhookEndpointFactory(events="challenge.settled")
    challenge = finished(prizes=[])
    history(challenge)
    assert settlement.settle_challenge(challenge.id)
    (body,) = payloads(Event.CHALLENGE_SETTLED)
    assert body["data"]["challenge_id"] == challenge.id
    assert (body["data"]["ranked"], body["data"]["qualified"]) == (2, 2)


def test_badges_granted_are_told_with_their_level(ctx, run_jobs):
    from app.queue import enqueue
    from app.services import badges
    from tests.factories import CompanySettingsFactory, EventFactory
    from tests.integration.test_badge_jobs import SHARES

    CompanySettingsFactory()
    WebhookEndpointFactory(events="badge.granted")
    badge = badges.create_badge(None, SHARES)
    someone = EmployeeFactory(opted_in=True)
    for n in range(2):
        EventFactory(employee_id=someone.id, occurred_at=utcnow() - timedelta(hours=n + 1))
    db.session.commit()
    enqueue("app.jobs.evaluate_badges", str(someone.id), job_id="evaluate-now")
    run_jobs()
    db.session.rollback()
    (body,) = payloads(Event.BADGE_GRANTED)
    assert body["data"]["badge"] == badge.name
    assert (body["data"]["employee_id"], body["data"]["level"]) == (someone.id, "bronze")


def test_a_decision_on_a_redemption_is_told_once(ctx):
    WebhookEndpointFactory(events="redemption.decided")
    redemption = RedemptionFactory(state=RedemptionState.APPROVED)
    redemptions.notify_decision(redemption.id)
    redemptions.notify_decision(redemption.id)  # the sweeper again: told already
    (body,) = payloads(Event.REDEMPTION_DECIDED)
    assert body["data"]["state"] == "approved"
    assert body["data"]["redemption_id"] == redemption.id


# Delivering ---------------------------------------------------------------------------


def _share_for(endpoint: WebhookEndpoint) -> None:
    sharing.record_share(
        EmployeeFactory(opted_in=True), ContentItemFactory(), Channel.LINKEDIN, "x", utcnow(), True
    )
    db.session.commit()


def test_a_delivery_arrives_signed_as_the_reference_library_checks(app, receiver):
    with app.app_context():
        one = WebhookEndpointFactory(url=receiver.url + "/one")
        two = WebhookEndpointFactory(url=receiver.url + "/two")
        secrets = {"/one": one.secret, "/two": two.secret}
        _share_for(one)
        assert deliver_outbox() == {"failed_stuck": 0, "sent": 2}
        assert {m.last_status for m in db.session.scalars(select(OutboxMessage))} == {200}
    for request in receiver.requests:
        body = Webhook(secrets[request.path]).verify(request.body, request.headers)
        assert body["type"] == "share.created"
        other = secrets["/two" if request.path == "/one" else "/one"]
        with pytest.raises(WebhookVerificationError):  # not under the other's secret
            Webhook(other).verify(request.body, request.headers)
    # One event, one id, whichever endpoint it reaches.
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(app, receiver):
    with app.app_context():
        admin = EmployeeFactory(role=Role.ADMIN)
        endpoint = WebhookEndpointFactory(url=receiver.url + "/hook")
        old = endpoint.secret
        new = service.rotate_secret(admin, endpoint, timedelta(hours=24))
        _share_for(endpoint)
        deliver_outbox()
        service.rotate_secret(admin, endpoint, timedelta(0))
        _share_for(endpoint)
        deliver_outbox()
        newest = endpoint.secret
    during, after = receiver.requests
    assert len(during.headers["webhook-signature"].split()) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)
    Webhook(newest).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(after.body, after.headers)


def test_the_overlap_is_bounded(ctx):
    with pytest.raises(Exception, match="overlap"):
        service.rotate_secret(EmployeeFactory(), WebhookEndpointFactory(), timedelta(days=8))


def test_busy_and_broken_endpoints_are_tried_again_and_a_refusal_fails(app, receiver):
    receiver.answer(429, Retry_After="120")
    receiver.answer(500)
    receiver.answer(400)
    with app.app_context():
        endpoint = WebhookEndpointFactory(url=receiver.url + "/hook")
        for _ in range(3):
            _share_for(endpoint)
        before = utcnow()
        assert deliver_outbox() == {"failed_stuck": 0, "pending": 2, "failed": 1}
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [m.last_status for m in rows] == [429, 500, 400]
        assert rows[0].next_attempt_at >= before + timedelta(seconds=120)
        assert rows[1].next_attempt_at < before + timedelta(seconds=31)
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        assert deliver_outbox()["sent"] == 2
        # The refused one, sent again from the log.
        failed = rows[2].id
        db.session.rollback()
        service.retry(EmployeeFactory(role=Role.ADMIN), endpoint, failed)
        db.session.commit()
        assert deliver_outbox()["sent"] == 1
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 6
    assert len(set(ids)) == 3  # a retry carries the same id


def test_an_endpoint_that_is_gone_is_turned_off_and_the_admins_are_told(app, receiver):
    receiver.answer(410)
    with app.app_context():
        admin = EmployeeFactory(role=Role.ADMIN, opted_in=True)
        endpoint = WebhookEndpointFactory(url=receiver.url + "/hook", name="Warehouse")
        _share_for(endpoint)
        _share_for(endpoint)
        assert deliver_outbox() == {"failed_stuck": 0, "failed": 1, "cancelled": 1}
        db.session.refresh(endpoint)
        assert endpoint.disabled_reason.startswith("410")
        (told,) = db.session.scalars(select(Notification)).all()
        assert (told.employee_id, told.kind) == (admin.id, Kind.WEBHOOK_DISABLED)
        assert "Warehouse" in told.title
        _share_for(endpoint)  # nothing is written for it while it is off
        assert len(deliveries()) == 2
    assert len(receiver.requests) == 1


def test_a_name_that_leads_inside_the_network_gets_nothing(app, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    with app.app_context():
        endpoint = WebhookEndpointFactory(url=f"https://localhost:{receiver.url.rsplit(':')[-1]}/")
        _share_for(endpoint)
        assert deliver_outbox()["failed"] == 1
        assert "inside the network" in db.session.scalar(select(OutboxMessage.last_error))
        assert service.send_test(endpoint)[0] is False
    assert receiver.requests == []


def test_two_racing_workers_deliver_each_event_once(app, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_PER_SECOND", 1000)
    with app.app_context():
        endpoint = WebhookEndpointFactory(url=receiver.url + "/hook")
        for _ in range(10):
            _share_for(endpoint)
    start = threading.Barrier(2)

    def work() -> None:
        with app.app_context():
            start.wait()
            deliver_outbox()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 10


def test_the_test_button_delivers_a_signed_ping(app, receiver):
    receiver.answer(503)
    with app.app_context():
        endpoint = WebhookEndpointFactory(url=receiver.url + "/hook")
        assert service.send_test(endpoint) == (False, "503 Service Unavailable: ok")
        assert service.send_test(endpoint) == (True, "200 OK")
        assert endpoint.disabled_at is None
        secret = endpoint.secret
    body = Webhook(secret).verify(receiver.requests[1].body, receiver.requests[1].headers)
    assert body["type"] == "chorus.ping"


def test_removing_an_endpoint_takes_its_log_and_a_retry_checks_the_endpoint(ctx):
    admin = EmployeeFactory(role=Role.ADMIN)
    endpoint, other = WebhookEndpointFactory(), WebhookEndpointFactory()
    _share_for(endpoint)
    mine = db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.endpoint_id == endpoint.id)
    )
    with pytest.raises(NotFound):
        service.retry(admin, other, mine)
    service.remove(admin, endpoint)
    db.session.flush()
    assert [e for e, *_ in deliveries()] == [other.id]
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 1


def test_settled_deliveries_are_pruned_with_the_rest_of_the_outbox(ctx):
    endpoint = WebhookEndpointFactory()
    _share_for(endpoint)
    db.session.execute(
        update(OutboxMessage).values(
            state=DeliveryState.SENT, created_at=utcnow() - outbox.KEPT - timedelta(days=1)
        )
    )
    assert outbox.prune(utcnow()) == 1
    assert deliveries() == []
