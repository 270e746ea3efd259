"""Tracked-link tokens, destinations with UTM and ref, and share-intent URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.links import (
    base62,
    destination_with_tracking,
    from_base62,
    make_token,
    share_id_from_token,
    share_intent_url,
)
from scoring.vocabulary import Channel


@pytest.mark.parametrize("share_id", [1, 61, 62, 12345, 2**40])
def test_token_round_trip(ctx, share_id):
    token = make_token(share_id)
    assert share_id_from_token(token) == share_id
    assert len(token) <= len(base62(share_id)) + 17  # short: id, dot, 16 characters
    assert from_base62(base62(share_id)) == share_id


def test_tokens_differ_by_secret_and_salt(ctx):
    token = make_token(42)
    ctx.config["SECRET_KEY"], saved = (
        "another-secret-key-that-is-long-enough",
        ctx.config["SECRET_KEY"],
    )
    ctx.extensions.pop("chorus.link_signer")
    try:
        assert share_id_from_token(token) is None
    finally:
        ctx.config["SECRET_KEY"] = saved
        ctx.extensions.pop("chorus.link_signer")
    assert share_id_from_token(token) == 42


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: "2" + t[1:],  # another id, same signature
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: t.split(".")[0],  # no signature
        lambda t: t + "x",
        lambda t: "." + t.split(".")[1],  # no id
        lambda t: t.replace(".", ""),
        lambda t: "",
        lambda t: "x" * 500,
        lambda t: "1.%00%00",
        lambda t: "ü." + t.split(".")[1],
    ],
)
def test_tampered_tokens_are_refused(ctx, tamper):
    assert share_id_from_token(tamper(make_token(1))) is None


TRACKING = {
    "medium": "employee_advocacy",
    "campaign": "launch",
    "share_id": 7,
    "ref_code": "abc234defg",
}


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        (
            "https://www.example.com/jobs/42",
            "https://www.example.com/jobs/42?utm_source=linkedin&utm_medium=employee_advocacy"
            "&utm_campaign=launch&utm_content=share-7&ref=abc234defg",
        ),
        (  # the destination's own query and fragment stay, byte for byte
            "https://www.example.com/jobs?id=42&q=a+b%20c&flag#apply",
            "https://www.example.com/jobs?id=42&q=a+b%20c&flag&utm_source=linkedin"
            "&utm_medium=employee_advocacy&utm_campaign=launch&utm_content=share-7"
            "&ref=abc234defg#apply",
        ),
        (  # our keys replace the destination's own
            "https://www.example.com/?utm_source=old&ref=someone&x=1",
            "https://www.example.com/?x=1&utm_source=linkedin&utm_medium=employee_advocacy"
            "&utm_campaign=launch&utm_content=share-7&ref=abc234defg",
        ),
        (  # non-ASCII is encoded for the Location header
            "https://bücher.example.com/neu?titel=Straße",
            "https://xn--bcher-kva.example.com/neu?titel=Stra%C3%9Fe&utm_source=linkedin"
            "&utm_medium=employee_advocacy&utm_campaign=launch&utm_content=share-7"
            "&ref=abc234defg",
        ),
    ],
)
def test_destination_with_tracking(destination, expected):
    assert destination_with_tracking(destination, channel=Channel.LINKEDIN, **TRACKING) == expected


LINK = "https://chorus.example.com/l/1.abcdefghijklmnop"
TEXT = "Proud of this & more #employee"


@pytest.mark.parametrize(
    ("channel", "host_path", "params"),
    [
        (Channel.LINKEDIN, "www.linkedin.com/sharing/share-offsite/", {"url": [LINK]}),
        (Channel.X, "twitter.com/intent/tweet", {"text": [TEXT], "url": [LINK]}),
        (Channel.FACEBOOK, "www.facebook.com/sharer/sharer.php", {"u": [LINK]}),
        (Channel.XING, "www.xing.com/spi/shares/new", {"url": [LINK]}),
    ],
)
def test_share_intent_urls(channel, host_path, params):
    url = share_intent_url(channel, link=LINK, text=TEXT, subject="A story")
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.netloc + parts.path == host_path
    assert parse_qs(parts.query) == params


def test_mail_intent_and_instagram():
    url = share_intent_url(Channel.EMAIL, link=LINK, text=TEXT, subject="A story")
    assert url.startswith("mailto:?subject=A%20story&body=")
    assert "+" not in url  # mail clients read + literally
    assert parse_qs(urlsplit(url).query) == {"subject": ["A story"], "body": [f"{TEXT}\n\n{LINK}"]}
    assert share_intent_url(Channel.INSTAGRAM, link=LINK, text=TEXT, subject="A story") is None
