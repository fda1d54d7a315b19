"""contract financing: banks' products, consents and the banks' reads, the sequenced contract
feed, loans and their events, webhook endpoints and deliveries

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-16 09:00:00

"""
import sqlalchemy as sa
from alembic import op

import mall.core.db

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('finance_feed_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_feed_head'))
    )
    op.create_table('finance_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('max_share_pct', sa.Integer(), nullable=False),
    sa.Column('rate_min_bp', sa.Integer(), nullable=False),
    sa.Column('rate_max_bp', sa.Integer(), nullable=False),
    sa.Column('term_days', sa.Integer(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_share_pct BETWEEN 1 AND 100', name=op.f('ck_finance_products_max_share_range')),
    sa.CheckConstraint('rate_min_bp > 0 AND rate_max_bp >= rate_min_bp', name=op.f('ck_finance_products_rate_range')),
    sa.CheckConstraint('term_days > 0', name=op.f('ck_finance_products_term_positive')),
    sa.ForeignKeyConstraint(['bank_org_id'], ['organisations.id'], name=op.f('fk_finance_products_bank_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_products'))
    )
    op.create_index(op.f('ix_finance_products_bank_org_id'), 'finance_products', ['bank_org_id'], unique=False)
    op.create_table('finance_webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_org_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_org_id'], ['organisations.id'], name=op.f('fk_finance_webhook_endpoints_bank_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_webhook_endpoints'))
    )
    op.create_index(op.f('ix_finance_webhook_endpoints_bank_org_id'), 'finance_webhook_endpoints', ['bank_org_id'], unique=False)
    op.create_table('finance_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('bank_org_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Enum('all', 'chosen', name='consent_scope', native_enum=False, length=10), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_org_id'], ['organisations.id'], name=op.f('fk_finance_consents_bank_org_id_organisations')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_finance_consents_granted_by_id_users')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_finance_consents_revoked_by_id_users')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_finance_consents_supplier_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_consents'))
    )
    op.create_index(op.f('ix_finance_consents_bank_org_id'), 'finance_consents', ['bank_org_id'], unique=False)
    op.create_index(op.f('ix_finance_consents_supplier_id'), 'finance_consents', ['supplier_id'], unique=False)
    op.create_table('finance_webhook_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='delivery_status', native_enum=False, length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('delivered_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['finance_webhook_endpoints.id'], name=op.f('fk_finance_webhook_deliveries_endpoint_id_finance_webhook_endpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_webhook_deliveries')),
    sa.UniqueConstraint('event_id', name=op.f('uq_finance_webhook_deliveries_event_id'))
    )
    op.create_index('ix_finance_webhook_deliveries_due', 'finance_webhook_deliveries', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_finance_webhook_deliveries_endpoint_id'), 'finance_webhook_deliveries', ['endpoint_id'], unique=False)
    op.create_table('finance_access_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bank_org_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=12), nullable=False),
    sa.Column('at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_org_id'], ['organisations.id'], name=op.f('fk_finance_access_log_bank_org_id_organisations')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_finance_access_log_order_id_orders')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_finance_access_log_supplier_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_finance_access_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_access_log'))
    )
    op.create_index(op.f('ix_finance_access_log_bank_org_id'), 'finance_access_log', ['bank_org_id'], unique=False)
    op.create_index('ix_finance_access_log_supplier_at', 'finance_access_log', ['supplier_id', 'at'], unique=False)
    op.create_table('finance_consent_orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['finance_consents.id'], name=op.f('fk_finance_consent_orders_consent_id_finance_consents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_finance_consent_orders_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_consent_orders')),
    sa.UniqueConstraint('consent_id', 'order_id', name='uq_finance_consent_orders_pair')
    )
    op.create_index(op.f('ix_finance_consent_orders_consent_id'), 'finance_consent_orders', ['consent_id'], unique=False)
    op.create_index(op.f('ix_finance_consent_orders_order_id'), 'finance_consent_orders', ['order_id'], unique=False)
    op.create_table('finance_feed',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=24), nullable=False),
    sa.Column('at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_finance_feed_order_id_orders')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_finance_feed_supplier_id_organisations')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_finance_feed'))
    )
    op.create_index(op.f('ix_finance_feed_order_id'), 'finance_feed', ['order_id'], unique=False)
    op.create_index(op.f('ix_finance_feed_supplier_id'), 'finance_feed', ['supplier_id'], unique=False)
    op.create_table('finance_loans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('bank_org_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('applied', 'approved', 'rejected', 'disbursed', 'repaid', 'closed', name='loan_status', native_enum=False, length=12), nullable=False),
    sa.Column('requested_fen', sa.BigInteger(), nullable=False),
    sa.Column('approved_fen', sa.BigInteger(), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=True),
    sa.Column('term_days', sa.Integer(), nullable=True),
    sa.Column('disbursed_fen', sa.BigInteger(), nullable=False),
    sa.Column('disbursed_on', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('repaid_fen', sa.BigInteger(), nullable=False),
    sa.Column('repayment_bank_name', sa.String(length=100), nullable=True),
    sa.Column('repayment_account_name', sa.String(length=200), nullable=True),
    sa.Column('repayment_account_number', sa.String(length=40), nullable=True),
    sa.Column('bank_reference', sa.String(length=60), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('requested_fen >= 0 AND approved_fen >= 0 AND disbursed_fen >= 0 AND repaid_fen >= 0', name=op.f('ck_finance_loans_amounts_not_negative')),
    sa.ForeignKeyConstraint(['bank_org_id'], ['organisations.id'], name=op.f('fk_finance_loans_bank_org_id_organisations')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_finance_loans_order_id_orders')),
    sa.ForeignKeyConstraint(['product_id'], ['finance_products.id'], name=op.f('fk_finance_loans_product_id_finance_products')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_finance_loans_supplier_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_loans')),
    sa.UniqueConstraint('number', name=op.f('uq_finance_loans_number'))
    )
    op.create_index(op.f('ix_finance_loans_bank_org_id'), 'finance_loans', ['bank_org_id'], unique=False)
    op.create_index(op.f('ix_finance_loans_order_id'), 'finance_loans', ['order_id'], unique=False)
    op.create_index(op.f('ix_finance_loans_status'), 'finance_loans', ['status'], unique=False)
    op.create_index(op.f('ix_finance_loans_supplier_id'), 'finance_loans', ['supplier_id'], unique=False)
    op.create_table('finance_loan_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('on_day', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['loan_id'], ['finance_loans.id'], name=op.f('fk_finance_loan_events_loan_id_finance_loans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_finance_loan_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_loan_events'))
    )
    op.create_index(op.f('ix_finance_loan_events_loan_id'), 'finance_loan_events', ['loan_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_finance_loan_events_loan_id'), table_name='finance_loan_events')
    op.drop_table('finance_loan_events')
    op.drop_index(op.f('ix_finance_loans_supplier_id'), table_name='finance_loans')
    op.drop_index(op.f('ix_finance_loans_status'), table_name='finance_loans')
    op.drop_index(op.f('ix_finance_loans_order_id'), table_name='finance_loans')
    op.drop_index(op.f('ix_finance_loans_bank_org_id'), table_name='finance_loans')
    op.drop_table('finance_loans')
    op.drop_index(op.f('ix_finance_feed_supplier_id'), table_name='finance_feed')
    op.drop_index(op.f('ix_finance_feed_order_id'), table_name='finance_feed')
    op.drop_table('finance_feed')
    op.drop_index(op.f('ix_finance_consent_orders_order_id'), table_name='finance_consent_orders')
    op.drop_index(op.f('ix_finance_consent_orders_consent_id'), table_name='finance_consent_orders')
    op.drop_table('finance_consent_orders')
    op.drop_index('ix_finance_access_log_supplier_at', table_name='finance_access_log')
    op.drop_index(op.f('ix_finance_access_log_bank_org_id'), table_name='finance_access_log')
    op.drop_table('finance_access_log')
    op.drop_index(op.f('ix_finance_webhook_deliveries_endpoint_id'), table_name='finance_webhook_deliveries')
    op.drop_index('ix_finance_webhook_deliveries_due', table_name='finance_webhook_deliveries')
    op.drop_table('finance_webhook_deliveries')
    op.drop_index(op.f('ix_finance_consents_supplier_id'), table_name='finance_consents')
    op.drop_index(op.f('ix_finance_consents_bank_org_id'), table_name='finance_consents')
    op.drop_table('finance_consents')
    op.drop_index(op.f('ix_finance_webhook_endpoints_bank_org_id'), table_name='finance_webhook_endpoints')
    op.drop_table('finance_webhook_endpoints')
    op.drop_index(op.f('ix_finance_products_bank_org_id'), table_name='finance_products')
    op.drop_table('finance_products')
    op.drop_table('finance_feed_head')
