"""Webhook endpoints on the admins' pages and over the API: registering shows the
secret once (never cached) and the address only masked; bad input is refused naming
the field and changes nothing; events, turning off and on, a new address, rotation,
the test button, the delivery log with its retry, removing."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook

from app.extensions import db
from app.jobs import deliver_outbox
from app.models import DeliveryState, OutboxMessage, Role, WebhookEndpoint, utcnow
from app.services import webhook_endpoints as service
from scoring.webhooks import Event
from tests.conftest import csrf_token
from tests.factories import WebhookEndpointFactory
from tests.web.api_support import count, session_caller

URL = "https://warehouse.example.com/hooks/chorus-4f2a"


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/webhooks"), **data})


def _delivery(app, endpoint_id: int, state=DeliveryState.FAILED) -> int:
    """A share told to the endpoint, its delivery put in ``state``."""
    with app.app_context():
        service.emit(Event.SHARE_CREATED, [(f"{utcnow().timestamp()}", {"share_id": 1})])
        db.session.execute(
            update(OutboxMessage).values(state=state, last_error="400 Bad Request", attempts=1)
        )
        db.session.commit()
        return db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.endpoint_id == endpoint_id)
        )


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(app, client, login):
    login(Role.ADMIN)
    answer = _post(
        client,
        "/admin/webhooks",
        {"name": "Warehouse", "url": URL, "events": ["share.created", "badge.granted"]},
    )
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    page = answer.get_data(as_text=True)
    with app.app_context():
        endpoint = db.session.scalar(select(WebhookEndpoint))
        assert endpoint.event_types == ["share.created", "badge.granted"]
        secret = endpoint.secret
    assert secret in page
    assert URL not in page
    assert "https://warehouse.example.com/…4f2a" in page
    again = client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert secret not in again
    assert "No deliveries yet" in again
    listed = client.get("/admin/webhooks").get_data(as_text=True)
    assert "Warehouse" in listed
    assert "share.created, badge.granted" in listed


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"url": "http://warehouse.example.com/hook"}, "Only https://"),
        ({"url": "https://10.1.2.3/hook"}, "not a private one"),
        ({"url": ""}, "Give the full https:// address"),
        ({"name": ""}, "cannot be empty"),
        ({"events": []}, "Shorter than minimum length 1"),
        ({"events": ["share.deleted"]}, "Must be one of"),
    ],
)
def test_bad_input_on_the_page_is_refused_and_changes_nothing(
    app, client, login, monkeypatch, change, problem
):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    login(Role.ADMIN)
    entered = {"name": "Warehouse", "url": URL, "events": ["share.created"], **change}
    answer = _post(client, "/admin/webhooks", entered)
    assert answer.status_code == 422
    assert problem in answer.get_data(as_text=True)
    assert count(app, WebhookEndpoint) == 0


def test_events_a_new_address_off_and_on_a_new_secret_and_removing(app, client, login):
    login(Role.ADMIN)
    with app.app_context():
        endpoint = WebhookEndpointFactory(name="Warehouse")
        endpoint_id, old = endpoint.id, endpoint.secret
        db.session.commit()
    path = f"/admin/webhooks/{endpoint_id}"
    saved = _post(client, path, {"name": "BI", "events": ["challenge.settled"]})
    assert saved.status_code == 302
    refused = _post(client, path, {"name": "BI", "events": []})
    assert refused.status_code == 422
    _post(client, path, {"enabled": "0"})
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert (endpoint.name, endpoint.events) == ("BI", "challenge.settled")
        assert endpoint.disabled_reason == "Turned off by an admin."
    _post(client, path, {"url": "https://bi.example.com/in"})
    rotated = _post(client, f"{path}/rotate", {"overlap_hours": "72"})
    assert rotated.headers["Cache-Control"] == "no-store"
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert (endpoint.disabled_at, endpoint.url) == (None, "https://bi.example.com/in")
        assert endpoint.previous_secret == old
        assert endpoint.secret in rotated.get_data(as_text=True)
    assert _post(client, f"{path}/rotate", {"overlap_hours": "9999"}).status_code == 422
    assert _post(client, f"{path}/remove", {}).status_code == 302
    assert count(app, WebhookEndpoint) == 0


def test_the_log_shows_deliveries_and_sends_a_failed_one_again(app, client, login, receiver):
    login(Role.ADMIN)
    with app.app_context():
        endpoint_id = WebhookEndpointFactory(name="BI", url=receiver.url + "/in").id
        db.session.commit()
    failed = _delivery(app, endpoint_id)
    page = client.get(f"/admin/webhooks/{endpoint_id}?state=failed").get_data(as_text=True)
    assert "share.created" in page
    assert "400 Bad Request" in page
    assert _post(client, f"/admin/webhooks/{endpoint_id}/deliveries/{failed}/retry", {})
    with app.app_context():
        assert deliver_outbox()["sent"] == 1
    assert "No failed deliveries" in client.get(
        f"/admin/webhooks/{endpoint_id}?state=failed"
    ).get_data(as_text=True)
    again = _post(client, f"/admin/webhooks/{endpoint_id}/deliveries/{failed}/retry", {})
    assert "only a failed one is sent again" in client.get(again.location).get_data(as_text=True)
    assert _post(client, f"/admin/webhooks/{endpoint_id}/test", {}).status_code == 302
    assert "BI took the test (200 OK)" in client.get(f"/admin/webhooks/{endpoint_id}").get_data(
        as_text=True
    )
    # The admins' list of failed messages names the endpoint.
    _delivery(app, endpoint_id)
    assert "BI (webhook)" in client.get("/admin/mail").get_data(as_text=True)


# The API -------------------------------------------------------------------------


def test_the_api_registers_lists_changes_rotates_tests_and_removes(app, receiver):
    admin = session_caller(app, Role.ADMIN)
    made = admin.post(
        "/api/v1/webhook-endpoints",
        json={"name": "Warehouse", "url": URL, "events": ["share.created"]},
    )
    assert made.status_code == 201
    assert made.json["secret"].startswith("whsec_")
    assert made.json["address"] == "https://warehouse.example.com/…4f2a"
    assert "url" not in made.json
    assert made.json["events"] == ["share.created"]
    endpoint_id = made.json["id"]
    listed = admin.get("/api/v1/webhook-endpoints").json
    assert [e["id"] for e in listed] == [endpoint_id]
    assert "secret" not in listed[0]
    assert "secret" not in admin.get(f"/api/v1/webhook-endpoints/{endpoint_id}").json
    changed = admin.patch(
        f"/api/v1/webhook-endpoints/{endpoint_id}",
        json={"events": ["badge.granted", "share.created"], "enabled": False},
    )
    assert changed.json["events"] == ["share.created", "badge.granted"]  # as the catalogue
    assert changed.json["disabled_reason"] == "Turned off by an admin."
    on = admin.patch(f"/api/v1/webhook-endpoints/{endpoint_id}", json={"url": receiver.url + "/in"})
    assert on.json["disabled_at"] is None
    rotated = admin.post(
        f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret", json={"overlap_hours": 0}
    )
    assert rotated.json["previous_until"] is None
    assert rotated.json["secret"] != made.json["secret"]
    tested = admin.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test")
    assert tested.json == {"delivered": True, "answer": "200 OK"}
    Webhook(rotated.json["secret"]).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert admin.delete(f"/api/v1/webhook-endpoints/{endpoint_id}").status_code == 204
    assert admin.get("/api/v1/webhook-endpoints").json == []


def test_the_api_log_filters_by_state_and_retries_only_failed_deliveries(app):
    admin = session_caller(app, Role.ADMIN)
    with app.app_context():
        endpoint_id = WebhookEndpointFactory().id
        db.session.commit()
    failed = _delivery(app, endpoint_id)
    log = admin.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries?state=failed").json
    assert [(d["id"], d["event"], d["state"]) for d in log] == [(failed, "share.created", "failed")]
    assert log[0]["webhook_id"].startswith("msg_")
    assert admin.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries?state=sent").json == []
    retried = admin.post(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{failed}/retry")
    assert retried.json["state"] == "pending"
    again = admin.post(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{failed}/retry")
    assert again.json["state"] == "pending"  # asked twice: still once on its way
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(state=DeliveryState.SENT))
        db.session.commit()
    sent = admin.post(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{failed}/retry")
    assert sent.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "W", "url": "http://warehouse.example.com/", "events": ["share.created"]}, "url"),
        ({"name": "W", "url": "https://192.168.0.9/", "events": ["share.created"]}, "url"),
        ({"name": "W", "events": ["share.created"]}, "url"),
        ({"name": "W", "url": URL, "events": []}, "events"),
        ({"name": "W", "url": URL, "events": ["share.deleted"]}, "events"),
        ({"name": "W", "url": URL}, "events"),
        ({"name": "", "url": URL, "events": ["share.created"]}, "name"),
        ({"name": "W", "url": URL, "events": ["share.created"], "colour": "red"}, "colour"),
    ],
)
def test_bad_input_over_the_api_names_the_field_and_changes_nothing(app, monkeypatch, body, field):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    admin = session_caller(app, Role.ADMIN)
    answer = admin.post("/api/v1/webhook-endpoints", json=body)
    assert answer.status_code == 422
    assert field in answer.json["errors"]
    assert count(app, WebhookEndpoint) == 0


def test_a_bad_overlap_and_unknown_endpoints_and_deliveries(app):
    admin = session_caller(app, Role.ADMIN)
    with app.app_context():
        endpoint_id = WebhookEndpointFactory().id
        other_id = WebhookEndpointFactory().id
        db.session.commit()
    too_long = admin.post(
        f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret", json={"overlap_hours": 169}
    )
    assert too_long.status_code == 422
    assert "overlap_hours" in too_long.json["errors"]
    for answer in (
        admin.get("/api/v1/webhook-endpoints/999999"),
        admin.patch("/api/v1/webhook-endpoints/999999", json={"enabled": True}),
        admin.post("/api/v1/webhook-endpoints/999999/test"),
        admin.delete("/api/v1/webhook-endpoints/999999"),
        admin.get("/api/v1/webhook-endpoints/999999/deliveries"),
    ):
        assert answer.status_code == 404
        assert answer.json["errors"] == {"id": ["No webhook endpoint with id 999999."]}
    theirs = _delivery(app, other_id)
    crossed = admin.post(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{theirs}/retry")
    assert crossed.status_code == 404
