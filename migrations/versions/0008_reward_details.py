"""reward details: kind, charity, availability window, approval at once, tax note, image

Revision ID: 3f7b2d9c4e61
Revises: 9e4b7c2a1d58
Create Date: 2026-12-01 23:55:00.000000

Existing rewards become experiences that need HR's approval, always available, with no
image and an empty tax note: what they were before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f7b2d9c4e61'
down_revision = '9e4b7c2a1d58'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'kind',
                sa.Enum('experience', 'donation', 'swag', name='reward_kind', native_enum=False, create_constraint=True, length=20),
                server_default='experience',
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column('charity_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('available_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('available_until', sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column('needs_approval', sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column('tax_note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('image_filename', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('image_credit', sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column('image_rights_confirmed', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_check_constraint(
            op.f('ck_rewards_reward_window_ordered'),
            'available_from IS NULL OR available_until IS NULL OR available_until >= available_from',
        )
        batch_op.create_check_constraint(
            op.f('ck_rewards_donation_names_charity'), "kind != 'donation' OR charity_name IS NOT NULL"
        )
        batch_op.create_check_constraint(
            op.f('ck_rewards_reward_image_rights'), 'image_filename IS NULL OR image_rights_confirmed'
        )


def downgrade():
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_rewards_reward_image_rights'), type_='check')
        batch_op.drop_constraint(op.f('ck_rewards_donation_names_charity'), type_='check')
        batch_op.drop_constraint(op.f('ck_rewards_reward_window_ordered'), type_='check')
        # The kind's CHECK goes first: on SQLite the rebuilt table would keep it.
        batch_op.drop_constraint(op.f('ck_rewards_reward_kind'), type_='check')
        for column in (
            'image_rights_confirmed',
            'image_credit',
            'image_filename',
            'tax_note',
            'needs_approval',
            'available_until',
            'available_from',
            'charity_name',
            'kind',
        ):
            batch_op.drop_column(column)
