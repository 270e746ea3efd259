"""POST /api/v1/webhooks/ats/<id>: signed deliveries from an applicant-tracking system."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Event, Integration, Referral, Share, utcnow
from app.services import referrals
from tests.factories import (
    ContentItemFactory,
    ContentTagFactory,
    EmployeeFactory,
    ReferralProgrammeFactory,
    ShareFactory,
)
from tests.web.api_support import count

REFUSED = {
    "code": 401,
    "status": "Unauthorized",
    "message": "The delivery is not signed by a known integration.",
}


@pytest.fixture
def ats(app: Flask) -> tuple[int, str]:
    with app.app_context():
        integration, secret = referrals.create_integration(None, "Personio")
        db.session.commit()
        return integration.id, secret


@pytest.fixture
def ref_code(app: Flask) -> str:
    with app.app_context():
        ReferralProgrammeFactory(content_tag="job")
        content = ContentItemFactory()
        ContentTagFactory(content_id=content.id, tag="job")
        owner = EmployeeFactory(opted_in=True)
        share = ShareFactory(
            employee=owner, content=content, created_at=utcnow() - timedelta(days=3)
        )
        return share.ref_code


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def deliver(client, integration_id: int, secret: str, payload, *, timestamp=None, headers=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    sent = {"X-Chorus-Timestamp": timestamp, "X-Chorus-Signature": sign(secret, timestamp, body)}
    sent.update(headers or {})
    sent = {k: v for k, v in sent.items() if v is not None}
    return client.post(
        f"/api/v1/webhooks/ats/{integration_id}",
        data=body,
        headers=sent,
        content_type="application/json",
    )


def payload(ref: str, stage: str = "applied", candidate: str = "cand-42", **extra) -> dict:
    return {"ref": ref, "candidate_id": candidate, "stage": stage, **extra}


def rows(app: Flask) -> tuple[int, int]:
    return count(app, Referral), count(app, Event)


def test_a_signed_delivery_is_recorded_and_awarded(app, client, ats, ref_code):
    response = deliver(client, *ats, payload(ref_code))
    assert response.status_code == 200
    body = response.json
    assert body == {
        "id": body["id"],
        "ref": ref_code,
        "stage": "applied",
        "outcome": "awarded",
        "reason": None,
        "occurred_at": body["occurred_at"],
        "received_at": body["received_at"],
    }
    assert rows(app) == (1, 1)
    with app.app_context():
        integration = db.session.get(Integration, ats[0])
        assert integration.last_used_at is not None
        referral = db.session.scalar(select(Referral))
        assert referral.integration_id == ats[0]
        assert "cand-42" not in referral.candidate_hash


def test_the_same_delivery_twice_answers_the_first_result(app, client, ats, ref_code):
    delivery = payload(ref_code, occurred_at="2026-01-01T09:00:00+01:00")
    delivery["occurred_at"] = (utcnow() - timedelta(days=1)).isoformat()
    first = deliver(client, *ats, delivery)
    again = deliver(client, *ats, delivery)
    # Even with another time: the first record stands.
    later = deliver(client, *ats, {**delivery, "occurred_at": utcnow().isoformat()})
    assert first.status_code == again.status_code == later.status_code == 200
    assert first.json == again.json == later.json
    assert rows(app) == (1, 1)


def test_a_stage_going_backwards_is_recorded_without_an_event(app, client, ats, ref_code):
    assert deliver(client, *ats, payload(ref_code, "hired")).json["outcome"] == "awarded"
    response = deliver(client, *ats, payload(ref_code, "applied"))
    assert response.status_code == 200
    assert response.json["outcome"] == "backwards"
    assert rows(app) == (2, 1)


def test_an_unknown_code_is_recorded_unattributed(app, client, ats):
    response = deliver(client, *ats, payload("no-such-code"))
    assert response.status_code == 200
    assert response.json["outcome"] == "unattributed"
    assert rows(app) == (1, 0)


def test_an_opted_out_referrer_earns_nothing(app, client, ats, ref_code):
    with app.app_context():
        owner = db.session.scalar(select(Share).where(Share.ref_code == ref_code)).employee
        owner.opted_in_at = None
        db.session.commit()
    response = deliver(client, *ats, payload(ref_code))
    assert response.json["outcome"] == "unattributed"
    assert rows(app) == (1, 0)


def _revoked(app, ats):
    with app.app_context():
        referrals.revoke_integration(None, db.session.get(Integration, ats[0]))
        db.session.commit()


NOW = "now"


@pytest.mark.parametrize(
    ("case", "secret", "integration", "timestamp", "headers"),
    [
        ("no signature", None, None, NOW, {"X-Chorus-Signature": None}),
        ("no timestamp", None, None, NOW, {"X-Chorus-Timestamp": None}),
        ("empty signature", None, None, NOW, {"X-Chorus-Signature": ""}),
        ("garbage signature", None, None, NOW, {"X-Chorus-Signature": "sha256=00ff"}),
        ("bare hex", None, None, NOW, {"X-Chorus-Signature": "0" * 64}),
        ("wrong secret", "whsec_guessed", None, NOW, {}),
        ("unknown integration", None, 999999, NOW, {}),
        ("too old", None, None, -330, {}),
        ("too far ahead", None, None, 330, {}),
        ("a day old", None, None, -86400, {}),
        ("not a number", None, None, "yesterday", {}),
    ],
)
def test_unsigned_or_stale_deliveries_are_refused(
    app, client, ats, ref_code, case, secret, integration, timestamp, headers
):
    # Offsets keep 30 s clear of the 300 s edge: the test's clock and the server's read
    # differ by the time the request takes, so an offset of 301 could land inside.
    ts = (
        timestamp
        if isinstance(timestamp, str) and timestamp != NOW
        else str(int(time.time()) + (0 if timestamp == NOW else timestamp))
    )
    response = deliver(
        client,
        integration or ats[0],
        secret or ats[1],
        payload(ref_code),
        timestamp=ts,
        headers=headers,
    )
    assert response.status_code == 401, case
    assert response.json == REFUSED
    assert rows(app) == (0, 0)


@pytest.mark.parametrize("offset", [-270, 270])
def test_timestamps_inside_the_window_are_accepted(app, client, ats, ref_code, offset):
    response = deliver(client, *ats, payload(ref_code), timestamp=str(int(time.time()) + offset))
    assert response.status_code == 200


def test_a_signature_over_another_body_is_refused(app, client, ats, ref_code):
    ts = str(int(time.time()))
    signed = json.dumps(payload(ref_code, "applied")).encode()
    sent = json.dumps(payload(ref_code, "hired")).encode()
    response = client.post(
        f"/api/v1/webhooks/ats/{ats[0]}",
        data=sent,
        headers={"X-Chorus-Timestamp": ts, "X-Chorus-Signature": sign(ats[1], ts, signed)},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert rows(app) == (0, 0)


def test_a_revoked_integration_is_refused(app, client, ats, ref_code):
    _revoked(app, ats)
    response = deliver(client, *ats, payload(ref_code))
    assert response.status_code == 401
    assert response.json == REFUSED
    assert rows(app) == (0, 0)


def test_a_bad_signature_is_refused_before_the_body_is_read(app, client, ats):
    response = deliver(client, ats[0], "whsec_guessed", b"{not json")
    assert response.status_code == 401
    assert response.json == REFUSED


@pytest.mark.parametrize(
    ("body", "status", "errors"),
    [
        (b"{not json", 400, {"json": ["Not JSON."]}),
        (b"[]", 422, {"_schema": ["Invalid input type."]}),
        (
            b"{}",
            422,
            {
                "ref": ["This field is required."],
                "candidate_id": ["This field is required."],
                "stage": ["This field is required."],
            },
        ),
        (
            json.dumps({"ref": "r", "candidate_id": "c", "stage": "offered"}).encode(),
            422,
            {"stage": ["Must be one of: applied, interviewed, hired."]},
        ),
        (
            json.dumps({"ref": "r", "candidate_id": 42, "stage": "hired"}).encode(),
            422,
            {"candidate_id": ["Not a valid string."]},
        ),
        (
            json.dumps({"ref": "", "candidate_id": "c", "stage": "hired"}).encode(),
            422,
            {"ref": ["This field cannot be empty."]},
        ),
        (
            json.dumps({"ref": "r", "candidate_id": " ", "stage": "hired"}).encode(),
            422,
            {"candidate_id": ["The candidate id is empty."]},
        ),
        (
            json.dumps(
                {
                    "ref": "r",
                    "candidate_id": "c",
                    "stage": "hired",
                    "occurred_at": "2026-01-01T10:00",
                }
            ).encode(),
            422,
            {"occurred_at": ["Not a valid aware datetime."]},
        ),
        (
            json.dumps(
                {"ref": "r", "candidate_id": "c", "stage": "hired", "occurred_at": "soon"}
            ).encode(),
            422,
            {"occurred_at": ["Not a valid datetime."]},
        ),
        (
            json.dumps(
                {
                    "ref": "r",
                    "candidate_id": "c",
                    "stage": "hired",
                    "occurred_at": "2999-01-01T00:00:00+00:00",
                }
            ).encode(),
            422,
            {"occurred_at": ["The event lies in the future."]},
        ),
    ],
)
def test_malformed_deliveries_name_the_field_and_change_nothing(
    app, client, ats, body, status, errors
):
    response = deliver(client, *ats, body)
    assert response.status_code == status
    assert response.json["errors"] == errors
    assert rows(app) == (0, 0)
    with app.app_context():
        assert db.session.get(Integration, ats[0]).last_used_at is None


def test_fields_the_ats_adds_are_ignored(app, client, ats, ref_code):
    response = deliver(client, *ats, payload(ref_code, job_id="J-7", source="careers"))
    assert response.status_code == 200


def test_the_webhook_needs_no_token_and_no_csrf(app, client, ats, ref_code):
    # A signed-in browser session must not turn the webhook into a CSRF target either:
    # without the signature it is refused whoever calls.
    response = client.post(f"/api/v1/webhooks/ats/{ats[0]}", json=payload(ref_code))
    assert response.status_code == 401


def test_the_openapi_document_describes_the_signature(client):
    operation = client.get("/api/openapi.json").json["paths"][
        "/api/v1/webhooks/ats/{integration_id}"
    ]["post"]
    assert operation["security"] == []
    assert "HMAC-SHA256" in operation["description"]
    assert {p["name"] for p in operation["parameters"] if p["in"] == "header"} == {
        "X-Chorus-Timestamp",
        "X-Chorus-Signature",
    }
    assert "401" in operation["responses"]
