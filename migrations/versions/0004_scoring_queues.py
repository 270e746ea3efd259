"""scoring queues: partial indexes on unscored events and lines not yet on the boards

Revision ID: 5c2e8a71f0d4
Revises: 94dbea2333c9
Create Date: 2026-11-24 08:30:00.000000

A scored event or an applied line leaves its partial index instead of being indexed
again under its new value, and finding the next batch reads only what is waiting.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c2e8a71f0d4'
down_revision = '94dbea2333c9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_scored_at')
        batch_op.create_index(
            'ix_events_unscored',
            ['occurred_at', 'id'],
            unique=False,
            postgresql_where=sa.text('scored_at IS NULL'),
            sqlite_where=sa.text('scored_at IS NULL'),
        )

    with op.batch_alter_table('ledger_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_lines_boards_applied')
        batch_op.create_index(
            'ix_ledger_lines_unapplied',
            ['id'],
            unique=False,
            postgresql_where=sa.text('NOT boards_applied'),
            sqlite_where=sa.text('boards_applied = 0'),
        )


def downgrade():
    with op.batch_alter_table('ledger_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_lines_unapplied')
        batch_op.create_index('ix_ledger_lines_boards_applied', ['boards_applied'], unique=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_unscored')
        batch_op.create_index('ix_events_scored_at', ['scored_at'], unique=False)
