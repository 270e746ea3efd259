"""outbox: mail and chat posts waiting to go out, each person's rhythm for mail, chat channels

Revision ID: a2a279811bec
Revises: e7a1c9d3b5f2
Create Date: 2026-12-02 14:14:19.961823

``outbox`` holds every mail Chorus sends about the game (digests, single messages) and
every post to a chat channel, written in the transaction of what caused it and drained
by the workers; a partial index holds the pending ones. ``chat_destinations`` are the
Slack and Teams channels admins connected by their webhook addresses. ``notification_settings`` holds a person's digest
frequency and hour, time zone, quiet hours and weekly budget; no row means the
defaults. The inbox's kind constraints stay as they were: a digest is never an inbox
row.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a2a279811bec'
down_revision = 'e7a1c9d3b5f2'
branch_labels = None
depends_on = None


# Every kind there is now: the inbox's tables take the new ones too (an admin is told
# in the inbox of a chat channel that was turned off).
KINDS = ('badge_earned', 'redemption_decided', 'digest', 'new_content', 'chat_disabled')
OLD_KINDS = ('badge_earned', 'redemption_decided')


def _allow_kinds(kinds):
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    for table in ('notifications', 'notification_choices'):
        name = op.f(f'ck_{table}_notification_kind')
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_='check')
            batch_op.create_check_constraint(name, sa.text(f"kind IN ({listed})"))


def upgrade():
    _allow_kinds(KINDS)
    op.create_table('notification_settings',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.Enum('off', 'daily', 'weekly', 'twice_weekly', name='digest', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('digest_hour', sa.Integer(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=True),
    sa.Column('quiet_from', sa.Integer(), nullable=True),
    sa.Column('quiet_until', sa.Integer(), nullable=True),
    sa.Column('weekly_budget', sa.Integer(), nullable=False),
    sa.CheckConstraint('(quiet_from IS NULL OR quiet_from BETWEEN 0 AND 23) AND (quiet_until IS NULL OR quiet_until BETWEEN 0 AND 23)', name=op.f('ck_notification_settings_quiet_hours_range')),
    sa.CheckConstraint('digest_hour BETWEEN 0 AND 23', name=op.f('ck_notification_settings_digest_hour_range')),
    sa.CheckConstraint('weekly_budget BETWEEN 0 AND 20', name=op.f('ck_notification_settings_weekly_budget_range')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_notification_settings_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', name=op.f('pk_notification_settings'))
    )
    op.create_table('chat_destinations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.Enum('slack', 'teams', name='chat_provider', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('post_content', sa.Boolean(), nullable=False),
    sa.Column('post_game', sa.Boolean(), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sa.String(length=300), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_chat_destinations_created_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_chat_destinations_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_destinations'))
    )
    op.create_index('ix_chat_destinations_team_id', 'chat_destinations', ['team_id'])
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=True),
    sa.Column('destination_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('badge_earned', 'redemption_decided', 'digest', 'new_content', 'chat_disabled', name='outbox_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'sent', 'failed', 'folded', 'digested', 'cancelled', name='delivery_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.CheckConstraint('(employee_id IS NULL) != (destination_id IS NULL)', name=op.f('ck_outbox_one_recipient')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_outbox_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['destination_id'], ['chat_destinations.id'], name=op.f('fk_outbox_destination_id_chat_destinations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['next_attempt_at'], unique=False, postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))
        batch_op.create_index('ix_outbox_employee_created', ['employee_id', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_state_id', ['state', 'id'], unique=False)
        batch_op.create_index('ix_outbox_destination_id', ['destination_id'], unique=False)



def downgrade():
    _allow_kinds(OLD_KINDS)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_destination_id')
        batch_op.drop_index('ix_outbox_state_id')
        batch_op.drop_index('ix_outbox_employee_created')
        batch_op.drop_index('ix_outbox_due', postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))

    op.drop_table('outbox')
    op.drop_index('ix_chat_destinations_team_id', table_name='chat_destinations')
    op.drop_table('chat_destinations')
    op.drop_table('notification_settings')
