"""The centre's first cut: stations and their tokens, the store's files, and the books, entries, scans,
pages, PDFs and corrections the sync will fill (station/centre/catalog.py says how they are keyed).

Revision ID: 0001
Revises:
Create Date: 2026-12-03 19:41:43
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_blobs_sha256_hex')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_blobs'))
    )
    op.create_table('stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token_id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_contact', sa.DateTime(timezone=True), nullable=True),
    sa.Column('commune', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stations')),
    sa.UniqueConstraint('name', name=op.f('uq_stations_name')),
    sa.UniqueConstraint('token_id', name=op.f('uq_stations_token_id'))
    )
    op.create_table('books',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('book_type', sa.String(length=4), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('volume', sa.Integer(), nullable=False),
    sa.Column('register_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['register_sha256'], ['blobs.sha256'], name=op.f('fk_books_register_sha256_blobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_books')),
    sa.UniqueConstraint('commune', 'code', name=op.f('uq_books_commune_code'))
    )
    op.create_table('pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('local_id', sa.Integer(), nullable=False),
    sa.Column('capture_sha256', sa.String(length=64), nullable=True),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.Enum('separator', 'blank', 'content', 'doubtful', 'quarantined', name='verdict', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('held_reason', sa.String(length=300), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('image_sha256', sa.String(length=64), nullable=True),
    sa.Column('image_format', sa.String(length=16), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('dpi', sa.Float(), nullable=True),
    sa.Column('skew_deg', sa.Float(), nullable=True),
    sa.Column('rotation', sa.Integer(), nullable=True),
    sa.Column('read_number', sa.Integer(), nullable=True),
    sa.Column('book_page', sa.Integer(), nullable=True),
    sa.Column('measures', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['image_sha256'], ['blobs.sha256'], name=op.f('fk_pages_image_sha256_blobs')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_pages_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pages')),
    sa.UniqueConstraint('station_id', 'local_id', name=op.f('uq_pages_station_id_local_id'))
    )
    op.create_index(op.f('ix_pages_capture_sha256'), 'pages', ['capture_sha256'], unique=False)
    op.create_table('station_blobs',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], name=op.f('fk_station_blobs_sha256_blobs')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_station_blobs_station_id_stations')),
    sa.PrimaryKeyConstraint('station_id', 'sha256', name=op.f('pk_station_blobs'))
    )
    op.create_table('corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('local_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operator', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=True),
    sa.Column('entry_number', sa.Integer(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name=op.f('fk_corrections_book_id_books')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_corrections_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrections')),
    sa.UniqueConstraint('station_id', 'local_id', name=op.f('uq_corrections_station_id_local_id'))
    )
    op.create_index(op.f('ix_corrections_book_id'), 'corrections', ['book_id'], unique=False)
    op.create_table('entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reg_date', sa.Date(), nullable=True),
    sa.Column('page_no', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], name=op.f('fk_entries_book_id_books')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
    sa.UniqueConstraint('book_id', 'number', name=op.f('uq_entries_book_id_number'))
    )
    op.create_index(op.f('ix_entries_book_id'), 'entries', ['book_id'], unique=False)
    op.create_table('entry_states',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('accepted_reason', sa.String(length=300), nullable=True),
    sa.Column('local_version', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('done', 'missing', 'doubtful')", name=op.f('ck_entry_states_status_known')),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_states_entry_id_entries')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_entry_states_station_id_stations')),
    sa.PrimaryKeyConstraint('station_id', 'entry_id', name=op.f('pk_entry_states'))
    )
    op.create_table('scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('local_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('chosen', sa.Boolean(), nullable=True),
    sa.Column('damaged', sa.Boolean(), nullable=False),
    sa.Column('placed', sa.Boolean(), nullable=False),
    sa.Column('doubt', sa.String(length=300), nullable=True),
    sa.Column('picked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_scans_entry_id_entries')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_scans_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scans')),
    sa.UniqueConstraint('station_id', 'local_id', name=op.f('uq_scans_station_id_local_id'))
    )
    op.create_index(op.f('ix_scans_entry_id'), 'scans', ['entry_id'], unique=False)
    op.create_index('ux_scans_one_pick_per_entry', 'scans', ['entry_id'], unique=True, postgresql_where=sa.text('picked'))
    op.create_table('pdfs',
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_pdfs_entry_id_entries')),
    sa.ForeignKeyConstraint(['scan_id'], ['scans.id'], name=op.f('fk_pdfs_scan_id_scans')),
    sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], name=op.f('fk_pdfs_sha256_blobs')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_pdfs_station_id_stations')),
    sa.PrimaryKeyConstraint('station_id', 'entry_id', name=op.f('pk_pdfs'))
    )
    op.create_table('scan_pages',
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_scan_pages_page_id_pages')),
    sa.ForeignKeyConstraint(['scan_id'], ['scans.id'], name=op.f('fk_scan_pages_scan_id_scans')),
    sa.PrimaryKeyConstraint('scan_id', 'page_id', name=op.f('pk_scan_pages'))
    )


def downgrade() -> None:
    op.drop_table('scan_pages')
    op.drop_table('pdfs')
    op.drop_index('ux_scans_one_pick_per_entry', table_name='scans', postgresql_where=sa.text('picked'))
    op.drop_index(op.f('ix_scans_entry_id'), table_name='scans')
    op.drop_table('scans')
    op.drop_table('entry_states')
    op.drop_index(op.f('ix_entries_book_id'), table_name='entries')
    op.drop_table('entries')
    op.drop_index(op.f('ix_corrections_book_id'), table_name='corrections')
    op.drop_table('corrections')
    op.drop_table('station_blobs')
    op.drop_index(op.f('ix_pages_capture_sha256'), table_name='pages')
    op.drop_table('pages')
    op.drop_table('books')
    op.drop_table('stations')
    op.drop_table('blobs')
