"""badge tallies: each person's running totals of what the count badges measure

Revision ID: 7c4e1a9d2b36
Revises: d6c868b0bb58
Create Date: 2026-12-02 05:00:00.000000

One row per person and fact: events recorded, by kind; points gained (the sum of the
ledger lines that add points: reversals left out); lessons finished. The database keeps
them, by triggers on the three tables, in the transaction that writes the row, so every
way in (the scoring batch, clicks, shares, referrals, prizes, adjustments, lessons)
counts and a row skipped by ON CONFLICT DO NOTHING does not. Existing rows are counted
once here.

On PostgreSQL the triggers run once per statement over its inserted rows (a batch of a
thousand lines is one grouped upsert) and take the rows' locks in id order. SQLite has
only row triggers; they cost little there. SQLite drops a table's triggers when a
batch migration copies the table: a later migration that alters events, ledger_lines
or lesson_completions must create them again (``create_triggers``).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c4e1a9d2b36'
down_revision = 'd6c868b0bb58'
branch_labels = None
depends_on = None

# (trigger, table, the fact, the amount, which rows count): expressions over a row's
# columns, "{row}" standing for how the row is named (NEW. in a row trigger).
TALLIED = (
    ('tally_events', 'events', '{row}kind', '1', 'true'),
    ('tally_ledger_lines', 'ledger_lines', "'points'", '{row}points', '{row}points > 0'),
    ('tally_lesson_completions', 'lesson_completions', "'lesson'", '1', 'true'),
)
UPSERT = (
    "ON CONFLICT (employee_id, fact) DO UPDATE "
    "SET value = badge_tallies.value + excluded.value"
)


def _grouped(table, fact, amount, counted):
    """The tallies of ``table``'s rows (all of them, or a trigger's ``added``)."""
    fact, amount, counted = (e.format(row='') for e in (fact, amount, counted))
    return (
        f'SELECT employee_id, {fact}, sum({amount}) FROM {table} '
        f'WHERE {counted} GROUP BY 1, 2'
    )


def create_triggers():
    if op.get_bind().dialect.name == 'postgresql':
        for name, table, fact, amount, counted in TALLIED:
            op.execute(f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO badge_tallies (employee_id, fact, value)
                  {_grouped('added', fact, amount, counted)} ORDER BY 1, 2
                  {UPSERT};
                  RETURN NULL;
                END $$
            """)
            op.execute(f"""
                CREATE TRIGGER {name} AFTER INSERT ON {table}
                REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION {name}()
            """)
        return
    for name, table, fact, amount, counted in TALLIED:
        fact, amount, counted = (e.format(row='NEW.') for e in (fact, amount, counted))
        op.execute(f"""
            CREATE TRIGGER {name} AFTER INSERT ON {table} WHEN {counted}
            BEGIN
              INSERT INTO badge_tallies (employee_id, fact, value)
              VALUES (NEW.employee_id, {fact}, {amount}) {UPSERT};
            END
        """)


def drop_triggers():
    postgres = op.get_bind().dialect.name == 'postgresql'
    for name, table, *_ in TALLIED:
        op.execute(f'DROP TRIGGER IF EXISTS {name}' + (f' ON {table}' if postgres else ''))
        if postgres:
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')


def upgrade():
    op.create_table('badge_tallies',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('fact', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_badge_tallies_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', 'fact', name=op.f('pk_badge_tallies'))
    )
    op.execute(
        'INSERT INTO badge_tallies (employee_id, fact, value) '
        + ' UNION ALL '.join(_grouped(*tallied[1:]) for tallied in TALLIED)
    )
    create_triggers()


def downgrade():
    drop_triggers()
    op.drop_table('badge_tallies')
