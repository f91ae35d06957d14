"""Bound books placed by page: a page's start sheet and stated book page, placed scans and their doubt.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 19:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('run_sheet_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stated_page', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_pages_run_sheet_id'), ['run_sheet_id'], unique=False)
        batch_op.create_foreign_key('fk_pages_run_sheet_id_pages', 'pages', ['run_sheet_id'], ['id'])
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('placed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('doubt', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_column('doubt')
        batch_op.drop_column('placed')
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_constraint('fk_pages_run_sheet_id_pages', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_pages_run_sheet_id'))
        batch_op.drop_column('stated_page')
        batch_op.drop_column('run_sheet_id')
