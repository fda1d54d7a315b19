"""price monitoring: the inspection's settings, its runs and the price cases it opens

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 19:00:00

"""
import sqlalchemy as sa
from alembic import op

import mall.core.db

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('price_inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('offers_inspected', sa.Integer(), nullable=False),
    sa.Column('cases_opened', sa.Integer(), nullable=False),
    sa.Column('frozen', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('min_peers', sa.Integer(), nullable=False),
    sa.Column('quartile_margin_pct', sa.Integer(), nullable=False),
    sa.Column('hard_ratio_pct', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_inspections'))
    )
    op.create_index(op.f('ix_price_inspections_started_at'), 'price_inspections', ['started_at'], unique=False)
    op.create_table('price_inspection_suppliers',
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('offers', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['price_inspections.id'], name=op.f('fk_price_inspection_suppliers_inspection_id_price_inspections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_price_inspection_suppliers_supplier_id_organisations')),
    sa.PrimaryKeyConstraint('inspection_id', 'supplier_id', name=op.f('pk_price_inspection_suppliers'))
    )
    op.create_index(op.f('ix_price_inspection_suppliers_supplier_id'), 'price_inspection_suppliers', ['supplier_id'], unique=False)
    op.create_table('price_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('min_peers', sa.Integer(), nullable=False),
    sa.Column('quartile_margin_pct', sa.Integer(), nullable=False),
    sa.Column('hard_ratio_pct', sa.Integer(), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('hard_ratio_pct > 100', name=op.f('ck_price_settings_hard_ratio_above_100')),
    sa.CheckConstraint('min_peers >= 1', name=op.f('ck_price_settings_min_peers_positive')),
    sa.CheckConstraint('quartile_margin_pct >= 0', name=op.f('ck_price_settings_margin_not_negative')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_price_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_settings'))
    )
    op.create_table('price_cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('offer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'frozen', 'dismissed', 'resolved', name='price_case_status', native_enum=False, length=12), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('reference_price_fen', sa.BigInteger(), nullable=True),
    sa.Column('peers', sa.Integer(), nullable=False),
    sa.Column('peer_q1_fen', sa.BigInteger(), nullable=True),
    sa.Column('peer_median_fen', sa.BigInteger(), nullable=True),
    sa.Column('peer_q3_fen', sa.BigInteger(), nullable=True),
    sa.Column('ratio_permille', sa.Integer(), nullable=True),
    sa.Column('closed_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('closing_price_fen', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_price_cases_category_id_categories')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_price_cases_closed_by_id_users')),
    sa.ForeignKeyConstraint(['inspection_id'], ['price_inspections.id'], name=op.f('fk_price_cases_inspection_id_price_inspections')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_price_cases_offer_id_offers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_price_cases_product_id_products')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_price_cases_supplier_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_cases'))
    )
    op.create_index(op.f('ix_price_cases_category_id'), 'price_cases', ['category_id'], unique=False)
    op.create_index(op.f('ix_price_cases_inspection_id'), 'price_cases', ['inspection_id'], unique=False)
    op.create_index(op.f('ix_price_cases_offer_id'), 'price_cases', ['offer_id'], unique=False)
    op.create_index(op.f('ix_price_cases_product_id'), 'price_cases', ['product_id'], unique=False)
    op.create_index('ix_price_cases_status_opened', 'price_cases', ['status', 'opened_at'], unique=False)
    op.create_index('ix_price_cases_supplier_opened', 'price_cases', ['supplier_id', 'opened_at'], unique=False)
    op.create_index('uq_price_cases_open_offer', 'price_cases', ['offer_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))


def downgrade():
    op.drop_index('uq_price_cases_open_offer', table_name='price_cases', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    op.drop_index('ix_price_cases_supplier_opened', table_name='price_cases')
    op.drop_index('ix_price_cases_status_opened', table_name='price_cases')
    op.drop_index(op.f('ix_price_cases_product_id'), table_name='price_cases')
    op.drop_index(op.f('ix_price_cases_offer_id'), table_name='price_cases')
    op.drop_index(op.f('ix_price_cases_inspection_id'), table_name='price_cases')
    op.drop_index(op.f('ix_price_cases_category_id'), table_name='price_cases')
    op.drop_table('price_cases')
    op.drop_table('price_settings')
    op.drop_index(op.f('ix_price_inspection_suppliers_supplier_id'), table_name='price_inspection_suppliers')
    op.drop_table('price_inspection_suppliers')
    op.drop_index(op.f('ix_price_inspections_started_at'), table_name='price_inspections')
    op.drop_table('price_inspections')
