"""more kinds: challenges started, ending, settled; referral stages; your week

Revision ID: c3f9d1e7a5b4
Revises: a2a279811bec
Create Date: 2026-12-02 15:00:00.000000

The kind columns of ``notifications``, ``notification_choices`` and ``outbox`` are
strings with a CHECK constraint listing the kinds; the constraints are replaced with
the longer lists.
SQLite cannot alter a constraint, so there each table is copied anew
(``batch_alter_table``), which keeps its other constraints and indexes.

``challenges`` gains a moment per notice told about it (its start, "ends tomorrow",
its results), set in the transaction that told it, so that the clock's sweeps find
what is left to tell without reading anyone's inbox. Challenges that are already past
a moment are marked as told: nobody hears of old news because of an upgrade.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f9d1e7a5b4'
down_revision = 'a2a279811bec'
branch_labels = None
depends_on = None

# The kinds as 0016 left them, in all three tables.
OLD = ('badge_earned', 'redemption_decided', 'digest', 'new_content', 'chat_disabled')
ADDED = (
    'challenge_started',
    'challenge_ending',
    'challenge_results',
    'referral_stage',
    'your_week',
    'top_of_week',
)
NEW = OLD + ADDED

# table -> the enum (and CHECK constraint) name of its kind column, its old and new kinds
TABLES = {
    'notifications': ('notification_kind', OLD, NEW),
    'notification_choices': ('notification_kind', OLD, NEW),
    'outbox': ('outbox_kind', OLD, NEW),
}
MARKERS = ('announced_at', 'ending_told_at', 'results_told_at')


def _kind(name, values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _replace_kinds(new: bool):
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table, (name, old_values, new_values) in TABLES.items():
        before, after = (old_values, new_values) if new else (new_values, old_values)
        if postgres:
            constraint = f'ck_{table}_{name}'
            op.drop_constraint(op.f(constraint), table, type_='check')
            listed = ', '.join(f"'{v}'" for v in after)
            op.create_check_constraint(op.f(constraint), table, f'kind IN ({listed})')
        else:
            # The Enum change drops the old CHECK constraint and writes the new one into
            # the copied table.
            with op.batch_alter_table(table, recreate='always') as batch_op:
                batch_op.alter_column(
                    'kind',
                    existing_type=_kind(name, before),
                    type_=_kind(name, after),
                    existing_nullable=False,
                )


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        for column in MARKERS:
            batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    # Old news stays untold: what already began, is in its last day or was settled.
    op.execute("UPDATE challenges SET announced_at = starts_at WHERE starts_at <= CURRENT_TIMESTAMP")
    op.execute(
        "UPDATE challenges SET ending_told_at = ends_at "
        "WHERE state IN ('settled', 'cancelled') OR ends_at <= CURRENT_TIMESTAMP"
    )
    op.execute("UPDATE challenges SET results_told_at = settled_at WHERE state = 'settled'")
    _replace_kinds(new=True)


def downgrade():
    added = ', '.join(f"'{v}'" for v in ADDED)
    for table in TABLES:
        op.execute(f'DELETE FROM {table} WHERE kind IN ({added})')
    _replace_kinds(new=False)
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        for column in reversed(MARKERS):
            batch_op.drop_column(column)
