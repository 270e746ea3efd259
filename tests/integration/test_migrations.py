"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def schema_differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def test_migrations_produce_the_models_schema(ctx):
    # The session's database was built by `flask db upgrade` (see conftest).
    with db.engine.connect() as connection:
        assert schema_differences(connection) == []


def test_the_comparison_notices_a_missing_column(ctx):
    from sqlalchemy import Column, Integer, MetaData, Table

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        extra = MetaData()
        for table in db.metadata.sorted_tables:
            table.to_metadata(extra)
        Table("teams", extra, Column("budget", Integer), extend_existing=True)
        diffs = compare_metadata(context, extra)
    assert any(d[0] == "add_column" and d[3].name == "budget" for d in diffs)


def test_the_migrated_kind_constraints_take_every_kind(ctx):
    # CHECK constraints are not compared above: write each kind where it may go.
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from app.models import Notification, NotificationChoice, OutboxMessage
    from scoring.notifications import Channel, Kind
    from tests.factories import EmployeeFactory

    ada = EmployeeFactory(opted_in=True)
    for kind in Kind:
        assert len(kind.value) <= 20
        db.session.add(OutboxMessage(key=f"k:{kind}", employee_id=ada.id, kind=kind, payload="{}"))
        if kind is not Kind.DIGEST:  # never an inbox row, nor chosen per channel
            db.session.add(Notification(employee_id=ada.id, kind=kind, key=kind, title="t"))
            db.session.add(
                NotificationChoice(employee_id=ada.id, kind=kind, channel=Channel.EMAIL, enabled=1)
            )
    db.session.flush()
    # The constraints are still there: an unknown kind is refused.
    for table, name in (
        ("notifications", "ck_notifications_notification_kind"),
        ("outbox", "ck_outbox_outbox_kind"),
    ):
        columns = "employee_id, kind, key, title, body, created_at"
        values = ":e, 'no_such_kind', 'x', 't', '', CURRENT_TIMESTAMP"
        if table == "outbox":
            columns = (
                "employee_id, kind, key, payload, state, attempts, next_attempt_at, created_at"
            )
            values = (
                ":e, 'no_such_kind', 'x', '{}', 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
            )
        statement = text(f"INSERT INTO {table} ({columns}) VALUES ({values})")  # noqa: S608
        savepoint = db.session.begin_nested()
        with pytest.raises(IntegrityError, match=name):
            db.session.execute(statement, {"e": ada.id})
        savepoint.rollback()
    db.session.rollback()
