"""complaints to the supervisor

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 19:00:00

"""
import sqlalchemy as sa
from alembic import op

import mall.core.db

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('round_complaints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('challenge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('request', sa.Text(), nullable=False),
    sa.Column('filed_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decide_by', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.Column('suspended_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('pending', 'dismissed', 'upheld', name='complaint_status', native_enum=False, length=12), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('remedy', sa.Enum('strike', 'void', 'finding', name='complaint_remedy', native_enum=False, length=12), nullable=True),
    sa.Column('struck_quote_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reminded', sa.Boolean(), nullable=False),
    sa.Column('overdue_notified', sa.Boolean(), nullable=False),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['round_challenges.id'], name=op.f('fk_round_complaints_challenge_id_round_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_round_complaints_decided_by_id_users')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_round_complaints_filed_by_id_users')),
    sa.ForeignKeyConstraint(['round_id'], ['bidding_rounds.id'], name=op.f('fk_round_complaints_round_id_bidding_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['struck_quote_id'], ['quotes.id'], name=op.f('fk_round_complaints_struck_quote_id_quotes')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_round_complaints_supplier_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_complaints')),
    sa.UniqueConstraint('challenge_id', name=op.f('uq_round_complaints_challenge_id'))
    )
    op.create_index('ix_round_complaints_pending', 'round_complaints', ['status', 'decide_by'], unique=False)
    op.create_index(op.f('ix_round_complaints_round_id'), 'round_complaints', ['round_id'], unique=False)
    op.create_index(op.f('ix_round_complaints_supplier_id'), 'round_complaints', ['supplier_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_round_complaints_supplier_id'), table_name='round_complaints')
    op.drop_index(op.f('ix_round_complaints_round_id'), table_name='round_complaints')
    op.drop_index('ix_round_complaints_pending', table_name='round_complaints')
    op.drop_table('round_complaints')
