"""tally gates: the next threshold of each tally, so a scoring batch's badges skip the rest

Revision ID: 8a3d5f1c7e92
Revises: 5e1c7a3b8d24
Create Date: 2026-12-02 11:00:00.000000

Two columns on badge_tallies, kept by the badge evaluation after each scoring batch:
the value the tally must reach before a count badge it measures has a level to give
(``next_level_at``), and the version of the badges that was worked out from
(``gates_version``). Rows start at 0 for both, which means "not worked out": the first
batch to touch a person looks at them in full, as before.

Added in place (ALTER TABLE ADD COLUMN, with a constant default), so SQLite keeps the
table and the tally triggers of 0010 on events, ledger_lines and lesson_completions
stay as they are; the triggers' inserts leave both columns to their defaults.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8a3d5f1c7e92'
down_revision = '5e1c7a3b8d24'
branch_labels = None
depends_on = None


def upgrade():
    for name in ('next_level_at', 'gates_version'):
        op.add_column(
            'badge_tallies',
            sa.Column(name, sa.BigInteger(), server_default='0', nullable=False),
        )


def downgrade():
    for name in ('gates_version', 'next_level_at'):
        op.drop_column('badge_tallies', name)
