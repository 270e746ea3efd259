"""badge reads: tallies clustered by person on SQLite, grants indexed by person first

Revision ID: 2b8f6d4a9c13
Revises: 7c4e1a9d2b36
Create Date: 2026-12-02 08:00:00.000000

After each scoring batch the badges read, for the few hundred people it touched, their
tallies and the grants they hold. On SQLite a table with a rowid keeps its rows apart
from its primary key, so each tally cost two lookups: the table is rebuilt WITHOUT
ROWID, its rows stored in the key's order (PostgreSQL has no such choice, nothing
changes there). The grants were found by (badge, person) pairs, one lookup per badge
and person: an index led by the person, holding every column read, answers from the
index alone on both databases.

SQLite drops the triggers of 0010 with the table they write to: they are read back
from the schema first and created again, as they were.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2b8f6d4a9c13'
down_revision = '7c4e1a9d2b36'
branch_labels = None
depends_on = None

TRIGGERS = ('tally_events', 'tally_ledger_lines', 'tally_lesson_completions')


def upgrade():
    op.create_index(
        'ix_badge_grants_employee_badge',
        'badge_grants',
        ['employee_id', 'badge_id', 'level', 'period'],
    )
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_tallies(with_rowid=False)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_tallies(with_rowid=True)
    op.drop_index('ix_badge_grants_employee_badge', table_name='badge_grants')


def _rebuild_tallies(with_rowid):
    bind = op.get_bind()
    triggers = bind.exec_driver_sql(
        'SELECT sql FROM sqlite_master WHERE type = ? AND name IN (?, ?, ?)',
        ('trigger', *TRIGGERS),
    ).scalars().all()
    for name in TRIGGERS:
        op.execute(f'DROP TRIGGER IF EXISTS {name}')
    op.create_table('badge_tallies_rebuilt',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('fact', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_badge_tallies_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', 'fact', name=op.f('pk_badge_tallies')),
    sqlite_with_rowid=with_rowid,
    )
    op.execute(
        'INSERT INTO badge_tallies_rebuilt (employee_id, fact, value) '
        'SELECT employee_id, fact, value FROM badge_tallies'
    )
    op.drop_table('badge_tallies')
    op.rename_table('badge_tallies_rebuilt', 'badge_tallies')
    for sql in triggers:
        bind.exec_driver_sql(sql)  # as written: not read for bound parameters
