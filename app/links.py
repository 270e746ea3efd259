"""Tracked links: short signed tokens for share ids, and the URLs built around them.

A token is the share id in base62, a dot, and a truncated HMAC-SHA256 under the app's
secret with a salt of its own, e.g. ``4c92.Xk3v0qLr8mZt1bWe``. Verifying needs only the
secret, so a tampered or invented token is refused without touching the database.
96 bits of signature are plenty against guessing, and keep the links short.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote, unquote_plus, urlencode, urlsplit, urlunsplit

from flask import Flask, current_app
from itsdangerous import BadSignature, Signer
from werkzeug.urls import iri_to_uri

from app.urls import base_url
from scoring.vocabulary import Channel

SALT = "chorus.tracked-link"
SIGNATURE_CHARS = 16  # base64url characters: 96 bits
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MAX_TOKEN_LENGTH = 40
# Keys we set on every destination; the destination's own values for them give way.
TRACKING_KEYS = frozenset({"utm_source", "utm_medium", "utm_campaign", "utm_content", "ref"})


class _ShortSigner(Signer):
    """itsdangerous' Signer with the signature cut to SIGNATURE_CHARS."""

    def get_signature(self, value: str | bytes) -> bytes:
        return super().get_signature(value)[:SIGNATURE_CHARS]

    def verify_signature(self, value: str | bytes, sig: str | bytes) -> bool:
        sig = sig.encode() if isinstance(sig, str) else sig
        return hmac.compare_digest(sig, self.get_signature(value))


def _signer(app: Flask | None = None) -> Signer:
    app = app or current_app
    signer = app.extensions.get("chorus.link_signer")
    if signer is None:  # one per app: deriving the key is done once, not per click
        signer = _ShortSigner(
            app.config["SECRET_KEY"],
            salt=SALT,
            sep=".",
            key_derivation="hmac",
            digest_method=hashlib.sha256,
        )
        app.extensions["chorus.link_signer"] = signer
    return signer


def base62(number: int) -> str:
    if number < 0:
        raise ValueError("only natural numbers have a base62 form")
    digits = ""
    while True:
        number, remainder = divmod(number, 62)
        digits = ALPHABET[remainder] + digits
        if number == 0:
            return digits


def from_base62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + ALPHABET.index(char)
    return number


def make_token(share_id: int) -> str:
    return _signer().sign(base62(share_id)).decode()


def share_id_from_token(token: str, app: Flask | None = None) -> int | None:
    """The share id a genuine token names, or None; never looks anything up."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        encoded = _signer(app).unsign(token).decode()
    except (BadSignature, UnicodeError):
        return None
    if not encoded or any(char not in ALPHABET for char in encoded):
        return None
    return from_base62(encoded)


def tracked_link(share_id: int) -> str:
    """The public short link an employee posts."""
    return f"{base_url()}/l/{make_token(share_id)}"


def is_web_address(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def destination_with_tracking(
    destination: str,
    *,
    channel: Channel,
    medium: str,
    campaign: str,
    share_id: int,
    ref_code: str,
) -> str:
    """The stored destination with our UTM parameters and the referral code added; its
    own query (other keys) and fragment stay as they are."""
    # ASCII only: the result goes into a Location header.
    parts = urlsplit(iri_to_uri(destination))
    # The destination's own parameters are kept byte for byte, except ours.
    kept = [
        piece
        for piece in parts.query.split("&")
        if piece and unquote_plus(piece.partition("=")[0]) not in TRACKING_KEYS
    ]
    ours = urlencode(
        [
            ("utm_source", channel.value),
            ("utm_medium", medium),
            ("utm_campaign", campaign),
            ("utm_content", f"share-{share_id}"),
            ("ref", ref_code),
        ],
        quote_via=quote,
    )
    return urlunsplit(parts._replace(query="&".join([*kept, ours])))


def campaign_name(campaign_hashtag: str | None, content_id: int) -> str:
    tag = (campaign_hashtag or "").strip().lstrip("#")
    return tag or f"content-{content_id}"


# Share-intent URLs -----------------------------------------------------------------


def share_intent_url(channel: Channel, *, link: str, text: str, subject: str) -> str | None:
    """The network's own share dialog, prefilled; None for Instagram, which has none
    (the employee copies the text and the image)."""
    if channel is Channel.LINKEDIN:
        return "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": link})
    if channel is Channel.X:
        return "https://twitter.com/intent/tweet?" + urlencode({"text": text, "url": link})
    if channel is Channel.FACEBOOK:
        return "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": link})
    if channel is Channel.XING:
        return "https://www.xing.com/spi/shares/new?" + urlencode({"url": link})
    if channel is Channel.EMAIL:
        # mailto wants %20 for spaces, not "+".
        body = f"{text}\n\n{link}"
        return f"mailto:?subject={quote(subject, safe='')}&body={quote(body, safe='')}"
    return None
