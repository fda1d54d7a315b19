"""statistics: monthly facts of orders (and two smaller roll-ups) and of bidding rounds kept by a job, its watermark, and
the reference price (参考价) of an order line, the savings basis of a direct purchase

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 19:00:00

"""
import sqlalchemy as sa
from alembic import op

import mall.core.db

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.add_column('order_lines', sa.Column('reference_price_fen', sa.BigInteger(), nullable=True))
    op.create_table('statistics_order_facts',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=9), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('deals', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('sme_deals', sa.Integer(), nullable=False),
    sa.Column('sme_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('local_deals', sa.Integer(), nullable=False),
    sa.Column('local_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('delivery_seconds', sa.BigInteger(), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=False),
    sa.Column('payment_seconds', sa.BigInteger(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statistics_order_facts'))
    )
    op.create_index(op.f('ix_statistics_order_facts_month'), 'statistics_order_facts', ['month'], unique=False)
    op.create_index('ix_statistics_order_facts_month_region', 'statistics_order_facts', ['month', 'region_code'], unique=False)
    op.create_index(op.f('ix_statistics_order_facts_supplier_id'), 'statistics_order_facts', ['supplier_id'], unique=False)
    op.create_index(op.f('ix_statistics_order_facts_unit_id'), 'statistics_order_facts', ['unit_id'], unique=False)
    op.create_table('statistics_category_facts',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('category_code', sa.String(length=9), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('deals', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('sme_deals', sa.Integer(), nullable=False),
    sa.Column('sme_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('local_deals', sa.Integer(), nullable=False),
    sa.Column('local_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('delivery_seconds', sa.BigInteger(), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=False),
    sa.Column('payment_seconds', sa.BigInteger(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statistics_category_facts'))
    )
    op.create_index(op.f('ix_statistics_category_facts_month'), 'statistics_category_facts', ['month'], unique=False)
    op.create_table('statistics_supplier_facts',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('deals', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('sme_deals', sa.Integer(), nullable=False),
    sa.Column('sme_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('local_deals', sa.Integer(), nullable=False),
    sa.Column('local_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('delivery_seconds', sa.BigInteger(), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=False),
    sa.Column('payment_seconds', sa.BigInteger(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statistics_supplier_facts'))
    )
    op.create_index(op.f('ix_statistics_supplier_facts_month'), 'statistics_supplier_facts', ['month'], unique=False)
    op.create_table('statistics_round_facts',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=9), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('quotes', sa.Integer(), nullable=False),
    sa.Column('challenges', sa.Integer(), nullable=False),
    sa.Column('complaints', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statistics_round_facts'))
    )
    op.create_index(op.f('ix_statistics_round_facts_month'), 'statistics_round_facts', ['month'], unique=False)
    op.create_index(op.f('ix_statistics_round_facts_unit_id'), 'statistics_round_facts', ['unit_id'], unique=False)
    op.create_table('statistics_refresh',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('changed_since', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refreshed_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statistics_refresh'))
    )


def downgrade():
    op.drop_table('statistics_refresh')
    op.drop_index(op.f('ix_statistics_round_facts_unit_id'), table_name='statistics_round_facts')
    op.drop_index(op.f('ix_statistics_round_facts_month'), table_name='statistics_round_facts')
    op.drop_table('statistics_round_facts')
    op.drop_index(op.f('ix_statistics_supplier_facts_month'), table_name='statistics_supplier_facts')
    op.drop_table('statistics_supplier_facts')
    op.drop_index(op.f('ix_statistics_category_facts_month'), table_name='statistics_category_facts')
    op.drop_table('statistics_category_facts')
    op.drop_index(op.f('ix_statistics_order_facts_unit_id'), table_name='statistics_order_facts')
    op.drop_index(op.f('ix_statistics_order_facts_supplier_id'), table_name='statistics_order_facts')
    op.drop_index('ix_statistics_order_facts_month_region', table_name='statistics_order_facts')
    op.drop_index(op.f('ix_statistics_order_facts_month'), table_name='statistics_order_facts')
    op.drop_table('statistics_order_facts')
    with op.batch_alter_table('order_lines') as batch:
        batch.drop_column('reference_price_fen')
