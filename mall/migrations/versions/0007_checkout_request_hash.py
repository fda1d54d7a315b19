"""checkout request fingerprint (an API checkout's Idempotency-Key is its token)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 03:25:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.drop_column('request_hash')
