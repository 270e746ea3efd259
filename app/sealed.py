"""Secrets Chorus must read back (webhook signing secrets, the ATS's HMAC secret, chat
webhook addresses) are kept sealed in the database: Fernet (AES-128-CBC with an
HMAC-SHA256, from ``cryptography``) under keys derived from ``DATA_KEYS``, which
defaults to ``SECRET_KEY``. A copy of the database alone does not give them away.

The first key seals; every key opens, so keys can be rotated: put the new key first,
run ``flask reseal-secrets``, then drop the old one.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PREFIX = "sealed:"  # a stored value without it was written before sealing


class SealingError(RuntimeError):
    """A sealed value none of the configured keys opens."""


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    derived = (hashlib.sha256(b"chorus:sealed:" + key.encode()).digest() for key in keys)
    return MultiFernet([Fernet(base64.urlsafe_b64encode(key)) for key in derived])


def _keys() -> tuple[str, ...]:
    config = current_app.config
    keys: Sequence[str] = config.get("DATA_KEYS") or [config["SECRET_KEY"]]
    return tuple(keys)


def seal(value: str) -> str:
    return PREFIX + _fernet(_keys()).encrypt(value.encode()).decode()


def unseal(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    try:
        return _fernet(_keys()).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise SealingError(
            "A sealed secret in the database opens with none of the keys in DATA_KEYS "
            "(or SECRET_KEY): was a key changed without keeping the old one in DATA_KEYS?"
        ) from None


class Sealed(TypeDecorator):
    """A string stored sealed, read back as it was written. Each seal differs (a random
    IV), so such a column is never compared or indexed in SQL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        return None if value is None else unseal(value)
