"""untold redemptions: the decisions the mail job has yet to tell, by a partial index

Revision ID: 5e1c7a3b8d24
Revises: 2b8f6d4a9c13
Create Date: 2026-12-02 08:30:00.000000

The employee hears of a decision on their redemption from a job that sweeps up, every
few seconds, the decided redemptions not told yet. ``notified_state`` is now the state
the employee knows of, and None only while a decision waits to be told: the index
holds those rows alone, so the sweep reads a handful of rows however many redemptions
there are. Existing rows are brought to that meaning: what the employee did themselves
(asked, cancelled) they know of; a decision that moved on since its mail waits.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1c7a3b8d24'
down_revision = '2b8f6d4a9c13'
branch_labels = None
depends_on = None

def upgrade():
    op.execute(
        "UPDATE redemptions SET notified_state = state "
        "WHERE notified_state IS NULL AND state IN ('pending', 'cancelled')"
    )
    op.execute(
        "UPDATE redemptions SET notified_state = NULL "
        "WHERE notified_state <> state AND state IN ('approved', 'fulfilled', 'rejected')"
    )
    op.create_index(
        'ix_redemptions_untold',
        'redemptions',
        ['id'],
        postgresql_where=sa.text('notified_state IS NULL'),
        sqlite_where=sa.text('notified_state IS NULL'),
    )


def downgrade():
    op.drop_index('ix_redemptions_untold', table_name='redemptions')
