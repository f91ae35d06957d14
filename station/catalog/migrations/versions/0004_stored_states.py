"""Each entry's state and its book's counts and facts stored (station.review.states), and an index of the
pages held outside any entry: a station's overview of many books reads a row a book.

The tables are made here and filled when the catalog is next opened (station.review.states.
bring_up_to_date), by the station's code of that day: a later revision that changes the tables it reads
cannot break the fill.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 17:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('book_states',
    sa.Column('book_id', sa.String(length=20), nullable=False),
    sa.Column('expected', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('missing', sa.Integer(), nullable=False),
    sa.Column('doubtful', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('last_page_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_quarters', sa.JSON(), nullable=False),
    sa.Column('by_page', sa.Boolean(), nullable=False),
    sa.Column('first_pages', sa.Integer(), nullable=False),
    sa.Column('numbers_attempted', sa.Integer(), nullable=False),
    sa.Column('numbers_read', sa.Integer(), nullable=False),
    sa.Column('over_cap_pages', sa.Integer(), nullable=False),
    sa.Column('stated_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], ),
    sa.PrimaryKeyConstraint('book_id')
    )
    op.create_table('entry_states',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id')
    )
    with op.batch_alter_table('entry_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_states_book_id'), ['book_id'], unique=False)
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.create_index('ix_pages_held', ['deleted'], unique=False, sqlite_where=sa.text('held_reason IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index('ix_pages_held')
    with op.batch_alter_table('entry_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_states_book_id'))
    op.drop_table('entry_states')
    op.drop_table('book_states')
