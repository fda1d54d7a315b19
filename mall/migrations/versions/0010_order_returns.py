"""returns of goods agreed by both parties, with the refund recorded when the money is back

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 09:00:00

"""
import sqlalchemy as sa
from alembic import op

import mall.core.db

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_STATUSES = ('requested', 'refused', 'disputed', 'agreed', 'shipped', 'received',
             'refund_pending', 'completed', 'rejected')


def _user(name):
    return sa.Column(name, sa.Integer(), nullable=True)


def upgrade():
    op.create_table(
        'order_returns',
        sa.Column('id', _ID, nullable=False),
        sa.Column('order_id', _ID, nullable=False),
        sa.Column('status', sa.Enum(*_STATUSES, name='return_status', native_enum=False,
                                    length=24), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('requested_by', sa.Integer(), nullable=False),
        sa.Column('requested_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('supplier_note', sa.String(length=500), nullable=True),
        _user('supplier_decided_by'),
        sa.Column('supplier_decided_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('dispute_reason', sa.String(length=500), nullable=True),
        sa.Column('disputed_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('operator_note', sa.String(length=500), nullable=True),
        _user('operator_decided_by'),
        sa.Column('operator_decided_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('carrier', sa.String(length=60), nullable=True),
        sa.Column('tracking_number', sa.String(length=60), nullable=True),
        sa.Column('shipped_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
        _user('received_by'),
        sa.Column('received_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('refund_due_fen', sa.BigInteger(), nullable=False),
        sa.Column('refund_method', sa.String(length=12), nullable=True),
        sa.Column('refund_reference', sa.String(length=200), nullable=True),
        sa.Column('refunded_on', sa.Date(), nullable=True),
        sa.Column('refunded_fen', sa.BigInteger(), nullable=False),
        _user('refunded_by'),
        sa.Column('completed_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount_fen > 0', name=op.f('ck_order_returns_amount_positive')),
        sa.CheckConstraint('refund_due_fen >= 0 AND refunded_fen >= 0 AND refunded_fen <= '
                           'refund_due_fen', name=op.f('ck_order_returns_refund_within_due')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                                name=op.f('fk_order_returns_order_id_orders')),
        sa.ForeignKeyConstraint(['requested_by'], ['users.id'],
                                name=op.f('fk_order_returns_requested_by_users')),
        sa.ForeignKeyConstraint(['supplier_decided_by'], ['users.id'],
                                name=op.f('fk_order_returns_supplier_decided_by_users')),
        sa.ForeignKeyConstraint(['operator_decided_by'], ['users.id'],
                                name=op.f('fk_order_returns_operator_decided_by_users')),
        sa.ForeignKeyConstraint(['received_by'], ['users.id'],
                                name=op.f('fk_order_returns_received_by_users')),
        sa.ForeignKeyConstraint(['refunded_by'], ['users.id'],
                                name=op.f('fk_order_returns_refunded_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_returns')),
    )
    with op.batch_alter_table('order_returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_returns_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_returns_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('order_returns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_returns_status'))
        batch_op.drop_index(batch_op.f('ix_order_returns_order_id'))
    op.drop_table('order_returns')
