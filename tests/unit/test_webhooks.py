"""Outbound webhooks' pure core: signatures as the Standard Webhooks reference library
checks them, rotation's overlap, event ids, and which addresses are accepted."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from scoring.webhooks import (
    message_id,
    new_secret,
    sign,
    signature_header,
    signing_secrets,
    url_problem,
)

OLD, NEW = new_secret(b"o" * 32), new_secret(b"n" * 32)
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def headers(secrets: list[str], body: bytes, at: int) -> dict[str, str]:
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(at),
        "webhook-signature": signature_header(secrets, "msg_1", at, body),
    }


def test_a_secret_is_whsec_and_the_base64_of_its_key():
    assert "whsec_" + base64.b64encode(b"o" * 32).decode() == OLD


@given(st.binary(min_size=16, max_size=64), st.dictionaries(st.text(), st.integers()))
def test_the_reference_library_accepts_our_signature_and_nothing_altered(key, data):
    secret, body = new_secret(key), json.dumps(data).encode()
    now = int(datetime.now(UTC).timestamp())
    sent = headers([secret], body, now)
    assert Webhook(secret).verify(body, sent) == data
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**sent, "webhook-id": "msg_2"})


def test_the_signature_is_the_specifications_example():
    # The worked example of the Standard Webhooks specification.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_during_an_overlap_both_secrets_sign_and_either_verifies():
    until = NOW + timedelta(hours=24)
    assert signing_secrets(NEW, OLD, until, NOW) == [NEW, OLD]
    assert signing_secrets(NEW, OLD, until, until) == [NEW]
    assert signing_secrets(NEW, None, None, NOW) == [NEW]
    now = int(datetime.now(UTC).timestamp())
    body = b'{"type":"share.created"}'
    both = headers([NEW, OLD], body, now)
    assert len(both["webhook-signature"].split(" ")) == 2
    Webhook(OLD).verify(body, both, json_parse=False)
    Webhook(NEW).verify(body, both, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(OLD).verify(body, headers([NEW], body, now), json_parse=False)


def test_an_event_id_is_stable_and_says_nothing_of_the_event():
    assert message_id("share.created:7") == message_id("share.created:7")
    assert message_id("share.created:7") != message_id("share.created:8")
    assert message_id("share.created:7").startswith("msg_")
    assert "share" not in message_id("share.created:7")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.example.com/chorus", None),
        ("https://203.0.113.9/hook", "private"),  # documentation range: not global
        ("https://8.8.8.8/hook", None),
        ("http://hooks.example.com/chorus", "Only https://"),
        ("https://localhost/hook", "local name"),
        ("https://warehouse.internal/hook", "local name"),
        ("https://127.0.0.1/hook", "private"),
        ("https://10.0.0.7/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://[::1]/hook", "private"),
        ("https://user:pw@hooks.example.com/", "user or a password"),
        ("https://hooks.example.com:99999/", "not a web address"),
        ("ftp://hooks.example.com/", "full https://"),
        ("hooks.example.com/chorus", "full https://"),
    ],
)
def test_only_https_addresses_on_the_internet_are_accepted(url, problem):
    found = url_problem(url)
    assert (found is None) if problem is None else (problem in found)


def test_inside_the_network_is_allowed_only_where_configured():
    assert url_problem("http://127.0.0.1:8080/hook", allow_private=True) is None
    assert url_problem("ftp://127.0.0.1/hook", allow_private=True) is not None
