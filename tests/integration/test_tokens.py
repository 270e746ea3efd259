"""API tokens: the secret is shown once and only its hash is kept."""

from __future__ import annotations

import hashlib
import json
import socket
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db, get_redis
from app.models import ApiToken, AuditEntry, Role, utcnow
from app.services import tokens
from tests.conftest import sql_statements
from tests.factories import EmployeeFactory, TeamFactory


def test_create_shows_the_secret_once_and_stores_its_hash(ctx):
    admin = EmployeeFactory(role=Role.ADMIN)
    owner = EmployeeFactory(role=Role.HR)
    token, secret = tokens.create_token(admin, owner, "  ATS webhook ")
    db.session.commit()
    assert secret.startswith(tokens.TOKEN_PREFIX)
    assert len(secret) > 40
    stored = db.session.scalar(select(ApiToken))
    assert stored.name == "ATS webhook"
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.prefix == secret[:12]
    assert secret not in {stored.token_hash, stored.prefix, stored.name}
    assert token.owner is owner
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "token.create"))
    assert secret not in str(entry.details)
    _, another = tokens.create_token(admin, owner, "second")
    assert another != secret


@pytest.mark.parametrize(
    ("name", "owner_active", "field"),
    [("  ", True, "name"), ("integration", False, "owner_id")],
)
def test_create_refuses(ctx, name, owner_active, field):
    owner = EmployeeFactory(active=owner_active)
    with pytest.raises(InvalidInput) as info:
        tokens.create_token(None, owner, name)
    assert field in info.value.errors


def test_authenticate(ctx):
    owner = EmployeeFactory(role=Role.HR)
    token, secret = tokens.create_token(None, owner, "script")
    db.session.commit()
    assert tokens.authenticate(secret) is owner
    for wrong in ("", secret[:-1], secret + "x", secret.removeprefix("chorus_"), token.token_hash):
        assert tokens.authenticate(wrong) is None


@pytest.mark.parametrize("how", ["revoked", "deactivated", "erased"])
def test_revoked_or_inactive_owner_does_not_authenticate(ctx, how):
    owner = EmployeeFactory()
    token, secret = tokens.create_token(None, owner, "script")
    if how == "revoked":
        tokens.revoke_token(None, token)
        revoked_at = token.revoked_at
        tokens.revoke_token(None, token)  # twice keeps the first time
        assert token.revoked_at == revoked_at
    elif how == "deactivated":
        owner.active = False
    else:
        owner.erased_at = utcnow()
    db.session.commit()
    assert tokens.authenticate(secret) is None


@pytest.mark.parametrize(
    ("last_used_ago", "written"),
    [(None, True), (timedelta(seconds=20), False), (timedelta(minutes=5), True)],
)
def test_last_used_at_is_written_at_most_once_a_minute(ctx, last_used_ago, written):
    token, secret = tokens.create_token(None, EmployeeFactory(), "script")
    before = None if last_used_ago is None else utcnow() - last_used_ago
    token.last_used_at = before
    db.session.commit()
    tokens.authenticate(secret)
    db.session.expire_all()
    after = db.session.get(ApiToken, token.id).last_used_at
    if written:
        assert after is not None
        assert after != before
        assert utcnow() - after < timedelta(seconds=10)
    else:
        assert after == before


# The owner kept in Redis --------------------------------------------------------------


def test_a_known_token_is_answered_with_its_owner_loaded_by_id_alone(app, ctx):
    owner = EmployeeFactory(role=Role.HR, name="Ada Lovelace", opted_in=True)
    _, secret = tokens.create_token(None, owner, "script")
    db.session.commit()
    assert tokens.authenticate(secret) is owner  # asks the database, keeps the answer
    kept = json.loads(get_redis().get(tokens._token_key(tokens._hash(secret))))
    assert kept == {"id": owner.id, "role": "hr", "team_id": owner.team_id}  # no row copy
    assert tokens.kept_owner(secret) == tokens.TokenOwner(owner.id, Role.HR, owner.team_id)
    db.session.remove()
    with sql_statements(app) as statements:
        known = tokens.authenticate(secret)
        assert (known.id, known.role, known.name, known.opted_in_at) == (
            owner.id,
            Role.HR,
            "Ada Lovelace",
            owner.opted_in_at,
        )
        assert known in db.session
        assert not db.session.dirty
    assert len(statements) == 1  # the owner by primary key: no token query, no write
    assert "employees" in statements[0]
    assert "api_tokens" not in statements[0]
    assert 0 < get_redis().ttl(tokens._token_key(tokens._hash(secret))) <= tokens.CACHE_SECONDS


@pytest.mark.parametrize("change", ["revoke", "deactivate", "erase", "role", "team"])
def test_a_change_to_the_token_or_its_owner_is_seen_at_once(ctx, change):
    owner = EmployeeFactory(role=Role.HR)
    token, secret = tokens.create_token(None, owner, "script")
    db.session.commit()
    tokens.authenticate(secret)
    if change == "revoke":
        tokens.revoke_token(None, token)
    elif change == "deactivate":
        owner.active = False
    elif change == "erase":
        owner.erased_at = utcnow()
    elif change == "role":
        owner.role = Role.EMPLOYEE
    else:
        owner.team = TeamFactory()
    db.session.commit()
    expected = {"role": (Role.EMPLOYEE, owner.team_id), "team": (Role.HR, owner.team_id)}
    db.session.remove()
    assert tokens.kept_owner(secret) is None
    known = tokens.authenticate(secret)
    if change in expected:
        assert (known.role, known.team_id) == expected[change]
    else:
        assert known is None


def test_a_change_rolled_back_keeps_the_answer(ctx):
    owner = EmployeeFactory()
    _, secret = tokens.create_token(None, owner, "script")
    db.session.commit()
    tokens.authenticate(secret)
    owner.active = False
    db.session.flush()
    db.session.rollback()
    assert tokens.kept_owner(secret).id == owner.id


def test_without_redis_the_database_answers(app, ctx):
    owner = EmployeeFactory()
    _, secret = tokens.create_token(None, owner, "script")
    db.session.commit()
    working = app.extensions["redis"]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.extensions["redis"] = redis.Redis(port=port, socket_connect_timeout=0.2)
    try:
        assert tokens.authenticate(secret) is owner
    finally:
        app.extensions["redis"] = working
