"""bidding rounds: rounds and items, sealed quotes and their submissions, awards,
challenges, collusion signals and the bidding settings

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-13 09:00:00

"""
import sqlalchemy as sa
from alembic import op

import mall.core.db

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('round_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('default_window_hours', sa.Integer(), nullable=False),
    sa.Column('min_window_hours', sa.Integer(), nullable=False),
    sa.Column('min_quotes', sa.Integer(), nullable=False),
    sa.Column('confirm_hours', sa.Integer(), nullable=False),
    sa.CheckConstraint('confirm_hours >= 1', name=op.f('ck_round_settings_confirm_hours_positive')),
    sa.CheckConstraint('min_quotes >= 1', name=op.f('ck_round_settings_min_quotes_positive')),
    sa.CheckConstraint('min_window_hours >= 1 AND default_window_hours >= min_window_hours', name=op.f('ck_round_settings_window_hours_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_settings'))
    )
    op.create_table('bidding_rounds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.Enum('quick', 'framework', name='round_mode', native_enum=False, length=12), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', 'failed', 'awarded', 'confirmed', 'cancelled', name='round_status', native_enum=False, length=12), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=False),
    sa.Column('buyer_user_id', sa.Integer(), nullable=False),
    sa.Column('budget_line_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('ceiling_fen', sa.BigInteger(), nullable=False),
    sa.Column('reserved_fen', sa.BigInteger(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('delivery_address', sa.String(length=300), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=False),
    sa.Column('delivery_days', sa.Integer(), nullable=False),
    sa.Column('sme_deduction_pct', sa.Integer(), nullable=False),
    sa.Column('sme_reserved', sa.Boolean(), nullable=False),
    sa.Column('framework_agreement_id', sa.Integer(), nullable=True),
    sa.Column('invited_supplier_ids', sa.JSON(), nullable=True),
    sa.Column('min_quotes', sa.Integer(), nullable=False),
    sa.Column('confirm_hours', sa.Integer(), nullable=False),
    sa.Column('published_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('quote_count', sa.Integer(), nullable=False),
    sa.Column('closed_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failure_reason', sa.String(length=40), nullable=True),
    sa.Column('cancel_reason', sa.String(length=300), nullable=True),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('rerun_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ceiling_fen > 0', name=op.f('ck_bidding_rounds_ceiling_positive')),
    sa.CheckConstraint('delivery_days > 0', name=op.f('ck_bidding_rounds_delivery_days_positive')),
    sa.CheckConstraint('sme_deduction_pct BETWEEN 10 AND 20', name=op.f('ck_bidding_rounds_sme_deduction_range')),
    sa.ForeignKeyConstraint(['budget_line_id'], ['budget_lines.id'], name=op.f('fk_bidding_rounds_budget_line_id_budget_lines')),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organisations.id'], name=op.f('fk_bidding_rounds_buyer_org_id_organisations')),
    sa.ForeignKeyConstraint(['buyer_user_id'], ['users.id'], name=op.f('fk_bidding_rounds_buyer_user_id_users')),
    sa.ForeignKeyConstraint(['framework_agreement_id'], ['framework_agreements.id'], name=op.f('fk_bidding_rounds_framework_agreement_id_framework_agreements')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_bidding_rounds_order_id_orders')),
    sa.ForeignKeyConstraint(['rerun_of_id'], ['bidding_rounds.id'], name=op.f('fk_bidding_rounds_rerun_of_id_bidding_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bidding_rounds')),
    sa.UniqueConstraint('number', name=op.f('uq_bidding_rounds_number'))
    )
    op.create_index(op.f('ix_bidding_rounds_budget_line_id'), 'bidding_rounds', ['budget_line_id'], unique=False)
    op.create_index(op.f('ix_bidding_rounds_buyer_org_id'), 'bidding_rounds', ['buyer_org_id'], unique=False)
    op.create_index('ix_bidding_rounds_open_deadline', 'bidding_rounds', ['status', 'deadline'], unique=False)
    op.create_index(op.f('ix_bidding_rounds_status'), 'bidding_rounds', ['status'], unique=False)
    op.create_table('collusion_signals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('buyer_org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('supplier_ids', sa.JSON(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('found_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organisations.id'], name=op.f('fk_collusion_signals_buyer_org_id_organisations')),
    sa.ForeignKeyConstraint(['round_id'], ['bidding_rounds.id'], name=op.f('fk_collusion_signals_round_id_bidding_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collusion_signals'))
    )
    op.create_index(op.f('ix_collusion_signals_buyer_org_id'), 'collusion_signals', ['buyer_org_id'], unique=False)
    op.create_index(op.f('ix_collusion_signals_round_id'), 'collusion_signals', ['round_id'], unique=False)
    op.create_table('quotes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('valid', 'struck', name='quote_status', native_enum=False, length=12), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('evaluated_fen', sa.BigInteger(), nullable=False),
    sa.Column('sme_deducted', sa.Boolean(), nullable=False),
    sa.Column('sme_goods', sa.Boolean(), nullable=False),
    sa.Column('first_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('final_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revisions', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.CheckConstraint('total_fen > 0 AND evaluated_fen > 0', name=op.f('ck_quotes_amounts_positive')),
    sa.ForeignKeyConstraint(['round_id'], ['bidding_rounds.id'], name=op.f('fk_quotes_round_id_bidding_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_quotes_supplier_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes')),
    sa.UniqueConstraint('round_id', 'supplier_id', name='uq_quotes_round_supplier')
    )
    op.create_index(op.f('ix_quotes_round_id'), 'quotes', ['round_id'], unique=False)
    op.create_index(op.f('ix_quotes_supplier_id'), 'quotes', ['supplier_id'], unique=False)
    op.create_table('round_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=9), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('spec', sa.String(length=1000), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=10), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_round_items_quantity_positive')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_round_items_product_id_products')),
    sa.ForeignKeyConstraint(['round_id'], ['bidding_rounds.id'], name=op.f('fk_round_items_round_id_bidding_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_items'))
    )
    op.create_index(op.f('ix_round_items_round_id'), 'round_items', ['round_id'], unique=False)
    op.create_table('quote_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quote_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('offer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('brand', sa.String(length=80), nullable=False),
    sa.Column('model', sa.String(length=120), nullable=False),
    sa.CheckConstraint('unit_price_fen > 0', name=op.f('ck_quote_lines_unit_price_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['round_items.id'], name=op.f('fk_quote_lines_item_id_round_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_quote_lines_offer_id_offers')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_quote_lines_quote_id_quotes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_lines')),
    sa.UniqueConstraint('quote_id', 'item_id', name='uq_quote_lines_quote_item')
    )
    op.create_index(op.f('ix_quote_lines_quote_id'), 'quote_lines', ['quote_id'], unique=False)
    op.create_table('quote_submissions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quote_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('device_fingerprint', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_quote_submissions_quote_id_quotes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quote_submissions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_submissions'))
    )
    op.create_index(op.f('ix_quote_submissions_quote_id'), 'quote_submissions', ['quote_id'], unique=False)
    op.create_table('round_awards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quote_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('offered_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirm_by', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Enum('pending', 'confirmed', 'declined', 'lapsed', 'unresponsive', 'struck', name='award_outcome', native_enum=False, length=14), nullable=False),
    sa.Column('decided_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_round_awards_decided_by_id_users')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_round_awards_quote_id_quotes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['bidding_rounds.id'], name=op.f('fk_round_awards_round_id_bidding_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_awards'))
    )
    op.create_index('ix_round_awards_pending', 'round_awards', ['outcome', 'confirm_by'], unique=False)
    op.create_index(op.f('ix_round_awards_round_id'), 'round_awards', ['round_id'], unique=False)
    op.create_table('round_challenges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('filed_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('target_quote_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('may_change_result', sa.Boolean(), nullable=False),
    sa.Column('answer_by', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reminded', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'upheld', 'dismissed', name='challenge_status', native_enum=False, length=12), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_round_challenges_answered_by_id_users')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_round_challenges_filed_by_id_users')),
    sa.ForeignKeyConstraint(['round_id'], ['bidding_rounds.id'], name=op.f('fk_round_challenges_round_id_bidding_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_round_challenges_supplier_id_organisations')),
    sa.ForeignKeyConstraint(['target_quote_id'], ['quotes.id'], name=op.f('fk_round_challenges_target_quote_id_quotes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_challenges'))
    )
    op.create_index(op.f('ix_round_challenges_round_id'), 'round_challenges', ['round_id'], unique=False)
    op.create_index(op.f('ix_round_challenges_status'), 'round_challenges', ['status'], unique=False)
    op.create_index(op.f('ix_round_challenges_supplier_id'), 'round_challenges', ['supplier_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_round_challenges_supplier_id'), table_name='round_challenges')
    op.drop_index(op.f('ix_round_challenges_status'), table_name='round_challenges')
    op.drop_index(op.f('ix_round_challenges_round_id'), table_name='round_challenges')
    op.drop_table('round_challenges')
    op.drop_index(op.f('ix_round_awards_round_id'), table_name='round_awards')
    op.drop_index('ix_round_awards_pending', table_name='round_awards')
    op.drop_table('round_awards')
    op.drop_index(op.f('ix_quote_submissions_quote_id'), table_name='quote_submissions')
    op.drop_table('quote_submissions')
    op.drop_index(op.f('ix_quote_lines_quote_id'), table_name='quote_lines')
    op.drop_table('quote_lines')
    op.drop_index(op.f('ix_round_items_round_id'), table_name='round_items')
    op.drop_table('round_items')
    op.drop_index(op.f('ix_quotes_supplier_id'), table_name='quotes')
    op.drop_index(op.f('ix_quotes_round_id'), table_name='quotes')
    op.drop_table('quotes')
    op.drop_index(op.f('ix_collusion_signals_round_id'), table_name='collusion_signals')
    op.drop_index(op.f('ix_collusion_signals_buyer_org_id'), table_name='collusion_signals')
    op.drop_table('collusion_signals')
    op.drop_index(op.f('ix_bidding_rounds_status'), table_name='bidding_rounds')
    op.drop_index('ix_bidding_rounds_open_deadline', table_name='bidding_rounds')
    op.drop_index(op.f('ix_bidding_rounds_buyer_org_id'), table_name='bidding_rounds')
    op.drop_index(op.f('ix_bidding_rounds_budget_line_id'), table_name='bidding_rounds')
    op.drop_table('bidding_rounds')
    op.drop_table('round_settings')
