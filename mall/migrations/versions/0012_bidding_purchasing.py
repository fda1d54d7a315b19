"""purchasing for bidding rounds: award orders, the open-tender threshold, round notices

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12 09:00:00

- ``orders.purchase_mode``: direct (the cart), quick (商城竞价) or framework (入围竞价);
- ``order_lines.offer_id`` and ``product_id`` may be empty: an item a round named on a
  blank form has neither;
- ``category_spend.bidding_fen``: a unit's bidding-round purchases per category and year,
  kept apart from ``total_fen`` (the direct purchases the direct-purchase limit counts);
- ``purchase_settings.open_tender_fen``: the open-tender threshold (公开招标限额) of a
  region, empty where the next row up decides;
- ``notices.order_id`` may be empty and ``notices.reference`` names a round: a round's
  notices (published at once, or its result and changes) belong to no order.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purchase_mode', sa.String(length=12),
                                      server_default='direct', nullable=False))
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.alter_column('offer_id', existing_type=_ID, nullable=True)
        batch_op.alter_column('product_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('category_spend', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bidding_fen', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_category_spend_bidding_not_negative'),
                                         'bidding_fen >= 0')
    with op.batch_alter_table('purchase_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_tender_fen', sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_purchase_settings_open_tender_positive'),
                                         'open_tender_fen > 0')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('order_id', existing_type=_ID, nullable=True)
        batch_op.add_column(sa.Column('reference', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_notices_reference'), ['reference'], unique=False)


def downgrade():
    # A round's notices and its award orders' lines without an offer cannot go back to the
    # old columns: the notices are dropped; such order lines make the downgrade fail.
    op.execute(sa.text("DELETE FROM notices WHERE order_id IS NULL"))
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_reference'))
        batch_op.drop_column('reference')
        batch_op.alter_column('order_id', existing_type=_ID, nullable=False)
    with op.batch_alter_table('purchase_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_purchase_settings_open_tender_positive'), type_='check')
        batch_op.drop_column('open_tender_fen')
    with op.batch_alter_table('category_spend', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_category_spend_bidding_not_negative'), type_='check')
        batch_op.drop_column('bidding_fen')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.alter_column('product_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('offer_id', existing_type=_ID, nullable=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('purchase_mode')
