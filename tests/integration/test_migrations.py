"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

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
