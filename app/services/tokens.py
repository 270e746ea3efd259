"""API tokens for integrations: shown once, stored as a SHA-256 hash.

Every API call authenticates, so the answer for a token is kept in Redis for
``CACHE_SECONDS``: what authorisation needs, its owner's id, role and team
(``TokenOwner``), never a copy of their row. The token's row is read at most once a
minute per token, and that is also when ``last_used_at`` is written; the board reads'
fast path answers from the kept answer alone, a full request loads the owner by id.
Whatever changes a token or its owner drops the kept answer as it commits
(``_forget_changed``): a revoked token, a deactivated owner or a changed role take
effect at once. The lifetime bounds what a race between a reader filling the cache
and a writer committing could leave behind.

Keys (this module owns the namespace ``{chorus:tokens}``):

- ``{chorus:tokens}:token:<sha-256 of the secret>``: the kept answer for a token;
- ``{chorus:tokens}:owner:<employee id>``: the hashes of an owner's tokens with a kept
  answer, to drop them all when the owner changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from itertools import chain

import redis
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import InvalidInput
from app.extensions import after_commit, db, get_redis
from app.models import ApiToken, Employee, Role, utcnow
from app.services import audit

TOKEN_PREFIX = "chorus_"  # noqa: S105 - a marker, not a secret
# Writing last_used_at on every call would turn reads into writes; a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)
CACHE_SECONDS = int(LAST_USED_RESOLUTION.total_seconds())
CACHE_TAG = "{chorus:tokens}"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenOwner:
    """What authorising a call needs to know of a token's owner."""

    id: int
    role: Role
    team_id: int | None


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
    kept = kept_owner(secret)
    if kept is not None:
        owner = db.session.get(Employee, kept.id)
        if owner is not None and owner.is_active:
            return owner
    token_hash = _hash(secret)
    token = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.owner))  # one query: every API call comes through here
        .where(ApiToken.token_hash == token_hash)
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
    _remember_owner(token_hash, token.owner)
    return token.owner


# The kept answers ----------------------------------------------------------------


def _token_key(token_hash: str) -> str:
    return f"{CACHE_TAG}:token:{token_hash}"


def _owner_key(employee_id: int) -> str:
    """The hashes of an owner's tokens with a kept answer: what to drop when they change."""
    return f"{CACHE_TAG}:owner:{employee_id}"


def _remember_owner(token_hash: str, owner: Employee) -> None:
    kept = asdict(TokenOwner(owner.id, owner.role, owner.team_id))
    pipe = get_redis().pipeline(transaction=True)
    pipe.set(_token_key(token_hash), json.dumps(kept), ex=CACHE_SECONDS)
    pipe.sadd(_owner_key(owner.id), token_hash)
    pipe.expire(_owner_key(owner.id), CACHE_SECONDS)
    try:
        pipe.execute()
    except redis.RedisError:
        log.warning("could not keep a token's owner in Redis", exc_info=True)


def kept_owner(secret: str) -> TokenOwner | None:
    """The token's owner as Redis keeps them, or None when Redis keeps no answer for
    the token; the database is not asked."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    try:
        kept = get_redis().get(_token_key(_hash(secret)))
    except redis.RedisError:
        log.warning("could not read a token's owner from Redis", exc_info=True)
        return None
    if kept is None:
        return None
    values = json.loads(kept)
    return TokenOwner(values["id"], Role(values["role"]), values["team_id"])


def _forget(token_hashes: set[str], owner_ids: set[int]) -> None:
    connection = get_redis()
    keys = [_token_key(h) for h in token_hashes]
    for owner_id in owner_ids:
        keys += [_token_key(h.decode()) for h in connection.smembers(_owner_key(owner_id))]
        keys.append(_owner_key(owner_id))
    if keys:
        connection.delete(*keys)


@event.listens_for(FlaskSession, "after_flush")
def _forget_changed(session, _context) -> None:
    """Tokens and employees changed in this flush lose their kept answers on commit."""
    changed = list(chain(session.dirty, session.deleted))
    token_hashes = {o.token_hash for o in changed if isinstance(o, ApiToken)}
    owner_ids = {o.id for o in changed if isinstance(o, Employee)}
    if token_hashes or owner_ids:
        after_commit(lambda: _forget(token_hashes, owner_ids))
