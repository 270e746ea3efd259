"""intranet links: secret addresses of the Atom feed and the widget of content to share

Revision ID: e7a1c9d3b5f2
Revises: f5571686e4e1
Create Date: 2026-12-02 14:15:29.696363

``intranet_links`` holds one row per address handed to the intranet, for the whole
company (no team) or one team: only the SHA-256 of its secret, its first characters to
tell links apart, who made it and when, and when it was revoked.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a1c9d3b5f2'
down_revision = 'f5571686e4e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('intranet_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['employees.id'], name=op.f('fk_intranet_links_created_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_intranet_links_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intranet_links')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_intranet_links_secret_hash'))
    )
    op.create_index(op.f('ix_intranet_links_team_id'), 'intranet_links', ['team_id'])


def downgrade():
    op.drop_index(op.f('ix_intranet_links_team_id'), table_name='intranet_links')
    op.drop_table('intranet_links')
