"""Baseline: the catalog as the releases before migrations made it (create_all of models.py then).

A home from before migrations has exactly these tables: it is stamped with this revision, not
upgraded through it.

Revision ID: 0001
Revises: 
Create Date: 2026-12-03 17:25:46.198134
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('profile', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('books',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('book_type', sa.String(length=4), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('volume', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('register_file', sa.String(length=300), nullable=True),
    sa.Column('register_sha256', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operator', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('book_id', sa.String(length=20), nullable=True),
    sa.Column('entry_number', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrections_book_id'), ['book_id'], unique=False)

    op.create_table('captures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('source_name', sa.String(length=500), nullable=False),
    sa.Column('stored_file', sa.String(length=300), nullable=False),
    sa.Column('frame', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('batch_id', 'seq')
    )
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_captures_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_captures_sha256'), ['sha256'], unique=False)

    op.create_table('entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.String(length=20), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reg_date', sa.Date(), nullable=True),
    sa.Column('page_no', sa.String(length=20), nullable=True),
    sa.Column('register_row', sa.Integer(), nullable=True),
    sa.Column('accepted_reason', sa.String(length=300), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('book_id', 'number')
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entries_book_id'), ['book_id'], unique=False)

    op.create_table('pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('capture_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.Enum('separator', 'blank', 'content', 'doubtful', 'quarantined', name='verdict', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('held_reason', sa.String(length=300), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('image_file', sa.String(length=300), nullable=True),
    sa.Column('image_format', sa.String(length=16), nullable=True),
    sa.Column('image_bytes', sa.Integer(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('dpi', sa.Float(), nullable=True),
    sa.Column('input_dpi', sa.Float(), nullable=True),
    sa.Column('dpi_estimated', sa.Boolean(), nullable=False),
    sa.Column('skew_deg', sa.Float(), nullable=True),
    sa.Column('rotation', sa.Integer(), nullable=True),
    sa.Column('over_budget', sa.Boolean(), nullable=False),
    sa.Column('separator_text', sa.String(length=200), nullable=True),
    sa.Column('read_number', sa.Integer(), nullable=True),
    sa.Column('read_confidence', sa.Float(), nullable=True),
    sa.Column('read_volume', sa.String(length=8), nullable=True),
    sa.Column('read_year', sa.Integer(), nullable=True),
    sa.Column('number_evidence_file', sa.String(length=300), nullable=True),
    sa.Column('text_layer_file', sa.String(length=300), nullable=True),
    sa.Column('measures', sa.JSON(), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['capture_id'], ['captures.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('capture_id', 'part')
    )
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pages_capture_id'), ['capture_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pages_read_number'), ['read_number'], unique=False)

    op.create_table('scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('separator_page_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('chosen', sa.Boolean(), nullable=True),
    sa.Column('damaged', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], ),
    sa.ForeignKeyConstraint(['separator_page_id'], ['pages.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scans_entry_id'), ['entry_id'], unique=False)

    op.create_table('pdfs',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('file', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], ),
    sa.ForeignKeyConstraint(['scan_id'], ['scans.id'], ),
    sa.PrimaryKeyConstraint('entry_id')
    )
    op.create_table('scan_pages',
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], ),
    sa.ForeignKeyConstraint(['scan_id'], ['scans.id'], ),
    sa.PrimaryKeyConstraint('scan_id', 'page_id')
    )


def downgrade() -> None:
    op.drop_table('scan_pages')
    op.drop_table('pdfs')
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scans_entry_id'))

    op.drop_table('scans')
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pages_read_number'))
        batch_op.drop_index(batch_op.f('ix_pages_capture_id'))

    op.drop_table('pages')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entries_book_id'))

    op.drop_table('entries')
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_captures_sha256'))
        batch_op.drop_index(batch_op.f('ix_captures_batch_id'))

    op.drop_table('captures')
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrections_book_id'))

    op.drop_table('corrections')
    op.drop_table('books')
    op.drop_table('batches')
