"""The sync: station_books keeps the digest of each station's last push of a book, so an unchanged book is
not sent again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-10 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('station_books',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name=op.f('fk_station_books_book_id_books')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_station_books_station_id_stations')),
    sa.PrimaryKeyConstraint('station_id', 'book_id', name=op.f('pk_station_books'))
    )


def downgrade() -> None:
    op.drop_table('station_books')
