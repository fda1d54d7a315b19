"""payee accounts: the history of an order's payee account, the account a payment went to,
the bidding round an award order came from

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-15 09:00:00

- ``payee_account_changes``: the account written into each contract or settlement order,
  then every change (a 政采贷 lender locking its repayment account, and releasing it);
  existing contracts get their first entry from the supplier's profile;
- ``payments.payee_account_number``: the account a payment went to;
- ``orders.reference``: the bidding round of an award order, filled in from the note of
  the order's first timeline entry, where it was kept until now.
"""
import sqlalchemy as sa
from alembic import op

import mall.core.db

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('payee_account_changes',
    sa.Column('id', _ID, nullable=False),
    sa.Column('order_id', _ID, nullable=False),
    sa.Column('at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('bank_name', sa.String(length=100), nullable=False),
    sa.Column('account_name', sa.String(length=200), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('lender_org_id', sa.Integer(), nullable=True),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_payee_account_changes_order_id_orders')),
    sa.ForeignKeyConstraint(['lender_org_id'], ['organisations.id'],
                            name=op.f('fk_payee_account_changes_lender_org_id_organisations')),
    sa.ForeignKeyConstraint(['by_user_id'], ['users.id'],
                            name=op.f('fk_payee_account_changes_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payee_account_changes'))
    )
    with op.batch_alter_table('payee_account_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payee_account_changes_order_id'), ['order_id'],
                              unique=False)
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payee_account_number', sa.String(length=40), nullable=True))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=40), nullable=True))
    # The account each existing contract was made with: its supplier's profile.
    op.execute(sa.text(
        "INSERT INTO payee_account_changes (order_id, at, bank_name, account_name, "
        "account_number, reason, locked) "
        "SELECT c.order_id, c.created_at, p.bank_name, g.name, p.bank_account, '', :no "
        "FROM contracts c JOIN orders o ON o.id = c.order_id "
        "JOIN organisations g ON g.id = o.supplier_id "
        "JOIN supplier_profiles p ON p.organisation_id = o.supplier_id "
        "ORDER BY c.id").bindparams(no=False))
    op.execute(sa.text(
        "UPDATE orders SET reference = (SELECT substr(s.note, 1, 40) FROM order_steps s "
        "WHERE s.order_id = orders.id AND s.status = 'submitted' ORDER BY s.id LIMIT 1) "
        "WHERE purchase_mode <> 'direct'"))


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('reference')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('payee_account_number')
    with op.batch_alter_table('payee_account_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payee_account_changes_order_id'))
    op.drop_table('payee_account_changes')
