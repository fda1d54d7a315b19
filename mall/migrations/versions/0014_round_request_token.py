"""bidding rounds: the one-time token of the form that published a round

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-14 09:00:00

A second submission of the same round form (a double click, a resent request) replays the
round the first one published instead of publishing another.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bidding_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_token', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint('uq_bidding_rounds_request_token',
                                          ['buyer_user_id', 'request_token'])


def downgrade():
    with op.batch_alter_table('bidding_rounds', schema=None) as batch_op:
        batch_op.drop_constraint('uq_bidding_rounds_request_token', type_='unique')
        batch_op.drop_column('request_token')
