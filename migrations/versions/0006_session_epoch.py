"""session epoch: signing out ends copies of a session on the server

Revision ID: 6a1d3c9e5b70
Revises: 4db28fb0d4f0
Create Date: 2026-12-01 22:10:00.000000

Sessions and remember cookies carry the employee's epoch; sign-out raises it, so a
copied cookie stops opening pages.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a1d3c9e5b70'
down_revision = '4db28fb0d4f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
