"""supplier performance: monthly counts and scores per supplier; sanctions

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 19:00:00

"""
import sqlalchemy as sa
from alembic import op

import mall.core.db

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supplier_months',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('computed_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('not_confirmed', sa.Integer(), nullable=False),
    sa.Column('confirm_seconds', sa.Integer(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('delivered_on_time', sa.Integer(), nullable=False),
    sa.Column('acceptances', sa.Integer(), nullable=False),
    sa.Column('acceptances_passed', sa.Integer(), nullable=False),
    sa.Column('returns', sa.Integer(), nullable=False),
    sa.Column('ratings', sa.Integer(), nullable=False),
    sa.Column('rating_points', sa.Integer(), nullable=False),
    sa.Column('price_violations', sa.Integer(), nullable=False),
    sa.Column('challenges_upheld', sa.Integer(), nullable=False),
    sa.Column('complaints_upheld', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_supplier_months_supplier_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_months')),
    sa.UniqueConstraint('supplier_id', 'month', name='uq_supplier_months_month')
    )
    op.create_index(op.f('ix_supplier_months_supplier_id'), 'supplier_months', ['supplier_id'], unique=False)
    op.create_index('ix_supplier_months_month_score', 'supplier_months', ['month', 'score'], unique=False)
    op.create_table('supplier_sanctions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('warning', 'points', 'suspension', 'expulsion', 'bad_conduct', name='sanction_kind', native_enum=False, length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.String(length=200), nullable=False),
    sa.Column('points', sa.Integer(), nullable=True),
    sa.Column('admission_ids', sa.JSON(), nullable=False),
    sa.Column('category_names', sa.JSON(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('decided_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_org_id', sa.Integer(), nullable=False),
    sa.Column('revoked_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_supplier_sanctions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_org_id'], ['organisations.id'], name=op.f('fk_supplier_sanctions_decided_by_org_id_organisations')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_supplier_sanctions_revoked_by_id_users')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_supplier_sanctions_supplier_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_sanctions'))
    )
    op.create_index(op.f('ix_supplier_sanctions_supplier_id'), 'supplier_sanctions', ['supplier_id'], unique=False)
    op.create_index(op.f('ix_supplier_sanctions_ends_on'), 'supplier_sanctions', ['ends_on'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_supplier_sanctions_ends_on'), table_name='supplier_sanctions')
    op.drop_index(op.f('ix_supplier_sanctions_supplier_id'), table_name='supplier_sanctions')
    op.drop_table('supplier_sanctions')
    op.drop_index('ix_supplier_months_month_score', table_name='supplier_months')
    op.drop_index(op.f('ix_supplier_months_supplier_id'), table_name='supplier_months')
    op.drop_table('supplier_months')
