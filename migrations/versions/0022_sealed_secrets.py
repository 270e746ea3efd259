"""the secrets Chorus reads back are kept sealed

Revision ID: e1a7c3f9b5d2
Revises: d9f4a6b8c0e3
Create Date: 2026-12-04 21:30:00.000000

The ATS's HMAC secrets, the webhook endpoints' signing secrets and the chat channels'
webhook addresses were kept as plain text: anyone with a copy of the database could
sign referrals or post to the company's channels. They are sealed now (``app.sealed``,
under the keys the app is configured with), which makes them longer than their old
columns: the columns become text.
"""

from alembic import op
import sqlalchemy as sa

from app.sealed import PREFIX, seal, unseal


# revision identifiers, used by Alembic.
revision = "e1a7c3f9b5d2"
down_revision = "d9f4a6b8c0e3"
branch_labels = None
depends_on = None

# table, column, its length before, whether it may be empty
COLUMNS = (
    ("integrations", "secret", 100, False),
    ("webhook_endpoints", "secret", 100, False),
    ("webhook_endpoints", "previous_secret", 100, True),
    ("chat_destinations", "url", 500, False),
)


def _rewrite(table: str, column: str, change) -> None:
    connection = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.Text))
    values = connection.execute(
        sa.select(rows.c.id, rows.c[column]).where(rows.c[column].is_not(None))
    ).all()
    for row_id, value in values:
        connection.execute(
            sa.update(rows).where(rows.c.id == row_id).values({column: change(value)})
        )


def upgrade():
    for table, column, length, nullable in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, type_=sa.Text(), existing_type=sa.String(length), nullable=nullable
            )
        _rewrite(table, column, lambda value: value if value.startswith(PREFIX) else seal(value))


def downgrade():
    for table, column, length, nullable in COLUMNS:
        _rewrite(table, column, unseal)
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, type_=sa.String(length), existing_type=sa.Text(), nullable=nullable
            )
