"""webhook endpoints, chat mentions: other systems receive Chorus's events, people may be mentioned in chat

Revision ID: d4e8b2f6a1c3
Revises: c3f9d1e7a5b4
Create Date: 2026-12-03 08:30:00.000000

``webhook_endpoints`` are the addresses admins registered, with the events each takes
and its signing secret (and the previous one while a rotation's overlap lasts).
Deliveries are outbox rows: ``outbox`` gains ``endpoint_id`` and ``last_status``, the
HTTP status of the last answer, for the delivery log. The kind constraints of the three
kind columns take ``webhook`` and ``webhook_disabled``.

People may ask to be mentioned in their team's chat channel (a badge, a challenge
result): ``notification_choices`` take the channel ``chat``, ``notification_settings``
keep a Slack member ID, ``chat_destinations`` say whether they take mentions (off for
the channels there are), and a mention is an outbox row with both a person and a
channel, so the one-recipient CHECK is rewritten: a person, a channel, both, or an
endpoint alone.
SQLite cannot alter a constraint, so there each table is copied anew
(``batch_alter_table``), which keeps its other constraints and indexes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e8b2f6a1c3'
down_revision = 'c3f9d1e7a5b4'
branch_labels = None
depends_on = None

OLD = (
    'badge_earned', 'redemption_decided', 'digest', 'new_content', 'chat_disabled',
    'challenge_started', 'challenge_ending', 'challenge_results', 'referral_stage',
    'your_week', 'top_of_week',
)
ADDED = ('webhook', 'webhook_disabled')
NEW = OLD + ADDED
TABLES = {
    'notifications': 'notification_kind',
    'notification_choices': 'notification_kind',
    'outbox': 'outbox_kind',
}
TWO = "(employee_id IS NULL) != (destination_id IS NULL)"
RECIPIENTS = (
    "(endpoint_id IS NULL AND (employee_id IS NOT NULL OR destination_id IS NOT NULL))"
    " OR (endpoint_id IS NOT NULL AND employee_id IS NULL AND destination_id IS NULL)"
)
CHANNELS, OLD_CHANNELS = ('in_app', 'email', 'chat'), ('in_app', 'email')


def _channel(values):
    return sa.Enum(*values, name='notification_channel', native_enum=False, create_constraint=True, length=20)


def _replace_channels(before, after):
    if op.get_bind().dialect.name == 'postgresql':
        name = op.f('ck_notification_choices_notification_channel')
        op.drop_constraint(name, 'notification_choices', type_='check')
        listed = ', '.join(f"'{v}'" for v in after)
        op.create_check_constraint(name, 'notification_choices', f'channel IN ({listed})')
    else:
        with op.batch_alter_table('notification_choices', recreate='always') as batch_op:
            batch_op.alter_column('channel', existing_type=_channel(before), type_=_channel(after), existing_nullable=False)


def _kind(name, values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _replace_kinds(before, after):
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table, name in TABLES.items():
        if postgres:
            constraint = op.f(f'ck_{table}_{name}')
            op.drop_constraint(constraint, table, type_='check')
            listed = ', '.join(f"'{v}'" for v in after)
            op.create_check_constraint(constraint, table, f'kind IN ({listed})')
        else:
            with op.batch_alter_table(table, recreate='always') as batch_op:
                batch_op.alter_column(
                    'kind',
                    existing_type=_kind(name, before),
                    type_=_kind(name, after),
                    existing_nullable=False,
                )


def upgrade():
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('events', sa.String(length=200), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('previous_secret', sa.String(length=100), nullable=True),
    sa.Column('previous_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sa.String(length=300), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_webhook_endpoints_created_by_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    _replace_kinds(OLD, NEW)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('endpoint_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_status', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_endpoint_id_webhook_endpoints'), 'webhook_endpoints', ['endpoint_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_outbox_endpoint_id', ['endpoint_id'], unique=False)
        batch_op.drop_constraint(batch_op.f('ck_outbox_one_recipient'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_one_recipient'), sa.text(RECIPIENTS))
    _replace_channels(OLD_CHANNELS, CHANNELS)
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slack_member_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('chat_destinations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_mentions', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    added = ', '.join(f"'{v}'" for v in ADDED)
    for table in TABLES:
        op.execute(f'DELETE FROM {table} WHERE kind IN ({added})')
    op.execute('DELETE FROM outbox WHERE endpoint_id IS NOT NULL')
    op.execute('DELETE FROM outbox WHERE employee_id IS NOT NULL AND destination_id IS NOT NULL')
    op.execute("DELETE FROM notification_choices WHERE channel = 'chat'")
    with op.batch_alter_table('chat_destinations', schema=None) as batch_op:
        batch_op.drop_column('post_mentions')
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.drop_column('slack_member_id')
    _replace_channels(CHANNELS, OLD_CHANNELS)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_one_recipient'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_one_recipient'), sa.text(TWO))
        batch_op.drop_index('ix_outbox_endpoint_id')
        batch_op.drop_constraint(batch_op.f('fk_outbox_endpoint_id_webhook_endpoints'), type_='foreignkey')
        batch_op.drop_column('last_status')
        batch_op.drop_column('endpoint_id')
    _replace_kinds(NEW, OLD)
    op.drop_table('webhook_endpoints')
