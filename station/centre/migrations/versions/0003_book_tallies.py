"""Book tallies: each book's figures across its stations, counted at each push, so the province's picture
reads one row a book. The rows of an existing database are counted when the centre next opens
(progress.count_untallied), by the code's own rules.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 17:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('book_tallies',
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('expected', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('missing', sa.Integer(), nullable=False),
    sa.Column('doubtful', sa.Integer(), nullable=False),
    sa.Column('to_pick', sa.Integer(), nullable=False),
    sa.Column('last_activity', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name=op.f('fk_book_tallies_book_id_books')),
    sa.PrimaryKeyConstraint('book_id', name=op.f('pk_book_tallies'))
    )
    # A book's count reads its entries' states and PDFs across stations: by entry, not (station, entry).
    op.create_index(op.f('ix_entry_states_entry_id'), 'entry_states', ['entry_id'], unique=False)
    op.create_index(op.f('ix_pdfs_entry_id'), 'pdfs', ['entry_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pdfs_entry_id'), table_name='pdfs')
    op.drop_index(op.f('ix_entry_states_entry_id'), table_name='entry_states')
    op.drop_table('book_tallies')
