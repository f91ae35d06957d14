"""Batches keep the paper stated for their session, for a batch finished after a crash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 18:15:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('paper')
