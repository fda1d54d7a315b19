"""orders split around the approval amount: the window setting and why an order waited

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('purchase_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('split_window_days', sa.Integer(), nullable=True))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval_basis', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('approval_basis')
    with op.batch_alter_table('purchase_settings', schema=None) as batch_op:
        batch_op.drop_column('split_window_days')
