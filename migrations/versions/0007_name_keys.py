"""name keys: names unique whatever their case, judged by the database

Revision ID: 9e4b7c2a1d58
Revises: 6a1d3c9e5b70
Create Date: 2026-12-01 23:00:00.000000

Teams, interests, rewards, taboo topics, scoring rules, referral programmes and
pseudonyms get a stored key, the name's Unicode case fold, under a unique constraint that
replaces the one on the raw name (equal names have equal keys, so it refuses everything
the old one did, and "STRASSE" beside "Straße" too).

Rows are filled here in Python, with the same fold on SQLite and PostgreSQL. Rows stored
before this revision may already clash by case ("Team" and "team"): the oldest (lowest id)
keeps the plain key, each later one gets the key suffixed with " #<its id>". Their names
stay as they are; such a row answers 409 when saved with its own name until an
administrator renames it.
"""
import logging
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e4b7c2a1d58'
down_revision = '6a1d3c9e5b70'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')

# (table, name column); the key column is "<name column>_key".
NAMES = [
    ('teams', 'name'),
    ('interests', 'name'),
    ('taboo_topics', 'name'),
    ('referral_programmes', 'name'),
    ('scoring_rules', 'name'),
    ('rewards', 'name'),
    ('employees', 'pseudonym'),
]
NULLABLE = {'pseudonym'}


def name_key(name):
    """A copy of app.services.names.name_key as it was when this revision was written:
    a migration must not change when the application's code does."""
    return unicodedata.normalize('NFKC', name).casefold()


def keys_for(rows):
    """``{id: key}`` for ``(id, name)`` rows: the oldest row keeps the plain key, later
    clashing ones get " #<id>" (and " #<id>.2" ... should that be taken as well)."""
    keys, taken = {}, set()
    for row_id, name in sorted(rows):
        key = name_key(name)
        if key in taken:
            base, attempt = f'{key} #{row_id}', 1
            key = base
            while key in taken:
                attempt += 1
                key = f'{base}.{attempt}'
        taken.add(key)
        keys[row_id] = key
    return keys


def _fill(table_name, column):
    bind = op.get_bind()
    table = sa.table(table_name, sa.column('id'), sa.column(column), sa.column(f'{column}_key'))
    name_col, key_col = table.c[column], table.c[f'{column}_key']
    rows = bind.execute(sa.select(table.c.id, name_col).where(name_col.is_not(None))).all()
    keys = keys_for([(row.id, getattr(row, column)) for row in rows])
    for row in rows:
        key = keys[row.id]
        if key != name_key(getattr(row, column)):
            log.warning('%s %s: %r clashes by case with an older row; key %r',
                        table_name, row.id, getattr(row, column), key)
        bind.execute(table.update().where(table.c.id == row.id).values({key_col: key}))


def upgrade():
    for table_name, column in NAMES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column(f'{column}_key', sa.Text(), nullable=True))
        _fill(table_name, column)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            if column not in NULLABLE:
                batch_op.alter_column(f'{column}_key', existing_type=sa.Text(), nullable=False)
            batch_op.drop_constraint(op.f(f'uq_{table_name}_{column}'), type_='unique')
            batch_op.create_unique_constraint(
                op.f(f'uq_{table_name}_{column}_key'), [f'{column}_key']
            )


def downgrade():
    for table_name, column in reversed(NAMES):
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'uq_{table_name}_{column}_key'), type_='unique')
            batch_op.drop_column(f'{column}_key')
            batch_op.create_unique_constraint(op.f(f'uq_{table_name}_{column}'), [column])
