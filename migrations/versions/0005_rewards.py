"""rewards: catalogue and redemptions

Revision ID: 4db28fb0d4f0
Revises: 5c2e8a71f0d4
Create Date: 2026-12-01 08:39:07.574145

Redemptions hold their points while pending or approved and spend them when fulfilled;
nothing here touches the ledger, so spending never changes lifetime points or rank.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4db28fb0d4f0'
down_revision = '5c2e8a71f0d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rewards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('per_person_limit', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cost >= 0', name=op.f('ck_rewards_cost_not_negative')),
    sa.CheckConstraint('per_person_limit IS NULL OR per_person_limit >= 1', name=op.f('ck_rewards_per_person_limit_positive')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_rewards_stock_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rewards')),
    sa.UniqueConstraint('name', name=op.f('uq_rewards_name'))
    )
    op.create_table('redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'approved', 'fulfilled', 'rejected', 'cancelled', name='redemption_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.String(length=300), nullable=True),
    sa.Column('notified_state', sa.Enum('pending', 'approved', 'fulfilled', 'rejected', 'cancelled', name='notified_state', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.CheckConstraint('points >= 0', name=op.f('ck_redemptions_points_not_negative')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['employees.id'], name=op.f('fk_redemptions_decided_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_redemptions_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_redemptions_reward_id_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redemptions')),
    sa.UniqueConstraint('employee_id', 'idempotency_key', name=op.f('uq_redemptions_employee_id_idempotency_key'))
    )
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_redemptions_employee_state', ['employee_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemptions_reward_id'), ['reward_id'], unique=False)
        batch_op.create_index('ix_redemptions_state_created', ['state', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_redemptions_state_created')
        batch_op.drop_index(batch_op.f('ix_redemptions_reward_id'))
        batch_op.drop_index('ix_redemptions_employee_state')

    op.drop_table('redemptions')
    op.drop_table('rewards')
