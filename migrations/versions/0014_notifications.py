"""notifications: each person's inbox, and their choices of what reaches them where

Revision ID: f5571686e4e1
Revises: 8a3d5f1c7e92
Create Date: 2026-12-02 11:09:15.062839

``notifications`` holds what a person was told in Chorus (a badge earned, a decision on
a redemption), once per person and key; a partial index holds
the unread ones, which every page's navigation counts. ``notification_choices`` holds a
person's own on/off per kind and channel; what is missing follows the defaults.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f5571686e4e1'
down_revision = '8a3d5f1c7e92'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_choices',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('badge_earned', 'redemption_decided', name='notification_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('channel', sa.Enum('in_app', 'email', name='notification_channel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_notification_choices_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', 'kind', 'channel', name=op.f('pk_notification_choices'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('badge_earned', 'redemption_decided', name='notification_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.String(length=500), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_notifications_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('employee_id', 'key', name=op.f('uq_notifications_employee_id_key'))
    )
    op.create_index('ix_notifications_employee_id_id', 'notifications', ['employee_id', 'id'])
    op.create_index(
        'ix_notifications_unread',
        'notifications',
        ['employee_id'],
        postgresql_where=sa.text('read_at IS NULL'),
        sqlite_where=sa.text('read_at IS NULL'),
    )


def downgrade():
    op.drop_index('ix_notifications_unread', table_name='notifications')
    op.drop_index('ix_notifications_employee_id_id', table_name='notifications')
    op.drop_table('notifications')
    op.drop_table('notification_choices')
