"""Entries' outcomes at the centre, stored with their book's tally at each push: the province's weekly report
groups them by week instead of working out every entry. The tallies are emptied, so that the centre counts
every book again (tallies and outcomes) when it next opens (progress.count_untallied).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 17:55:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entry_outcomes',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('to_pick', sa.Boolean(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name=op.f('fk_entry_outcomes_book_id_books')),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_outcomes_entry_id_entries')),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_entry_outcomes'))
    )
    op.create_index(op.f('ix_entry_outcomes_book_id'), 'entry_outcomes', ['book_id'], unique=False)
    op.execute("DELETE FROM book_tallies")


def downgrade() -> None:
    op.drop_index(op.f('ix_entry_outcomes_book_id'), table_name='entry_outcomes')
    op.drop_table('entry_outcomes')
