"""The secrets Chorus reads back lie sealed in the database: a copy of it shows none of
them, the app reads them as they were written, and the keys can be rotated."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.extensions import db
from app.models import ChatDestination, Integration, WebhookEndpoint
from app.sealed import SealingError
from tests.factories import ChatDestinationFactory, IntegrationFactory, WebhookEndpointFactory
from tests.integration.migration_support import app_migrated_to

NEW_KEY = "a-new-data-key-of-at-least-thirty-two-characters"
SLACK = "https://hooks.slack.com/services/T000/B000/abcdefghijklmnopqrstuvwx"


def _stored() -> list[str]:
    """Every sealed column's value as the database holds it."""
    return [
        value
        for query in (
            "SELECT secret FROM integrations",
            "SELECT secret FROM webhook_endpoints",
            "SELECT previous_secret FROM webhook_endpoints",
            "SELECT url FROM chat_destinations",
        )
        for value in db.session.scalars(text(query))
    ]


@pytest.fixture
def secrets_kept(ctx):
    ats = IntegrationFactory(secret="ats-secret-0123456789")
    endpoint = WebhookEndpointFactory(secret="whsec_new", previous_secret="whsec_old")
    channel = ChatDestinationFactory(url=SLACK)
    db.session.commit()
    ids = ats.id, endpoint.id, channel.id
    db.session.expunge_all()
    return ids


def _read(ids) -> tuple:
    ats_id, endpoint_id, channel_id = ids
    db.session.expunge_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    return (
        db.session.get(Integration, ats_id).secret,
        endpoint.secret,
        endpoint.previous_secret,
        db.session.get(ChatDestination, channel_id).url,
    )


WRITTEN = ("ats-secret-0123456789", "whsec_new", "whsec_old", SLACK)


def test_a_copy_of_the_database_shows_no_secret_and_the_app_reads_them_back(secrets_kept):
    stored = _stored()
    assert len(stored) == 4
    for value in stored:
        assert value.startswith("sealed:")
        assert not any(secret in value for secret in WRITTEN)
    assert len(set(stored)) == 4
    assert _read(secrets_kept) == WRITTEN


def test_a_new_key_first_opens_the_old_seals_and_reseals_them(
    app, runner, secrets_kept, monkeypatch
):
    before = _stored()
    monkeypatch.setitem(app.config, "DATA_KEYS", [NEW_KEY, app.config["SECRET_KEY"]])
    assert _read(secrets_kept) == WRITTEN
    result = runner.invoke(args=["reseal-secrets"])
    assert result.exit_code == 0, result.output
    assert "sealed 4 secrets anew" in result.output
    assert not set(_stored()) & set(before)
    monkeypatch.setitem(app.config, "DATA_KEYS", [NEW_KEY])  # the old key dropped
    assert _read(secrets_kept) == WRITTEN


def test_a_key_dropped_too_early_is_named_not_guessed_around(app, secrets_kept, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_KEYS", [NEW_KEY])
    with pytest.raises(SealingError, match="DATA_KEYS"):
        _read(secrets_kept)
    db.session.rollback()


def test_values_written_before_sealing_are_still_read(secrets_kept):
    db.session.execute(text("UPDATE chat_destinations SET url = :url"), {"url": SLACK})
    assert _read(secrets_kept)[-1] == SLACK


def test_the_migration_seals_what_was_kept_plain_and_going_down_opens_it(
    database_url, redis_url, tmp_path
):
    with app_migrated_to("d9f4a6b8c0e3", database_url, redis_url, tmp_path):  # 0021
        db.session.execute(
            text(
                "INSERT INTO integrations (name, secret, created_at)"
                " VALUES ('ATS', 'ats-secret-0123456789', CURRENT_TIMESTAMP)"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO webhook_endpoints (name, url, events, secret, previous_secret,"
                " created_at) VALUES ('BI', 'https://bi.example.com', 'share.created',"
                " 'whsec_new', 'whsec_old', CURRENT_TIMESTAMP)"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO chat_destinations (provider, name, url, post_content, post_game,"
                " post_mentions, created_at) VALUES ('slack', '#sales', :url, true, true,"
                " false, CURRENT_TIMESTAMP)"
            ),
            {"url": SLACK},
        )
        db.session.commit()
        upgrade()
        assert all(value.startswith("sealed:") for value in _stored())
        assert _read((1, 1, 1)) == WRITTEN
        db.session.commit()
        downgrade(revision="d9f4a6b8c0e3")
        assert _stored() == list(WRITTEN)
