"""API tokens for integrations: shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import InvalidInput
from app.extensions import db
from app.models import ApiToken, Employee, utcnow
from app.services import audit

TOKEN_PREFIX = "chorus_"  # noqa: S105 - a marker, not a secret
# Writing last_used_at on every call would turn reads into writes; a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(actor: Employee, owner: Employee, name: str) -> tuple[ApiToken, str]:
    """Return the token and its secret; the secret is not kept and cannot be shown again."""
    name = name.strip()
    if not name:
        raise InvalidInput("Give the token a name.", field="name")
    if not owner.is_active:
        raise InvalidInput("The owner is not an active employee.", field="owner_id")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=_hash(secret), prefix=secret[:12], owner=owner)
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "token.create", token, name=name, owner_id=owner.id)
    return token, secret


def revoke_token(actor: Employee, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "token.revoke", token, name=token.name)


def authenticate(secret: str) -> Employee | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.owner))  # one query: every API call comes through here
        .where(ApiToken.token_hash == _hash(secret))
    )
    if token is None or token.revoked_at is not None or not token.owner.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # On a connection of its own: committing the request's session here would
        # commit whatever the view had changed so far.
        with db.engine.begin() as connection:
            connection.execute(
                update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
            )
        set_committed_value(token, "last_used_at", now)
    return token.owner
