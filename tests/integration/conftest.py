"""Fixtures of the integration tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.boards import BoardStore
from app.extensions import db, get_redis
from app.services import rules as rules_service
from tests.factories import CompanySettingsFactory
from tests.integration.scoring_support import T0


@pytest.fixture
def store(ctx) -> BoardStore:
    """A Berlin company with the default rules in force since a month before T0."""
    CompanySettingsFactory(time_zone="Europe/Berlin")
    rules_service.install_default_rules(effective_at=T0 - timedelta(days=30))
    db.session.commit()
    return BoardStore(get_redis())
