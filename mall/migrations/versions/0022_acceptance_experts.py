"""expert pool and random expert acceptance

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 19:00:00

"""
import sqlalchemy as sa
from alembic import op

import mall.core.db

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('expert_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('threshold_fen', sa.BigInteger(), nullable=False),
    sa.Column('panel_size', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('threshold_fen > 0', name=op.f('ck_expert_settings_threshold_positive')),
    sa.CheckConstraint('panel_size BETWEEN 1 AND 9', name=op.f('ck_expert_settings_panel_size_range')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_expert_settings_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_settings'))
    )
    op.create_table('expert_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('employer_name', sa.String(length=200), nullable=False),
    sa.Column('employer_org_id', sa.Integer(), nullable=True),
    sa.Column('category_codes', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_expert_profiles_created_by_users')),
    sa.ForeignKeyConstraint(['employer_org_id'], ['organisations.id'], name=op.f('fk_expert_profiles_employer_org_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_expert_profiles_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_expert_profiles_user_id'))
    )
    op.create_index(op.f('ix_expert_profiles_employer_org_id'), 'expert_profiles', ['employer_org_id'], unique=False)
    op.create_table('expert_ties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('created_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'], name=op.f('fk_expert_ties_expert_id_expert_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_expert_ties_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_ties')),
    sa.UniqueConstraint('expert_id', 'organisation_id', name='uq_expert_ties_expert_organisation')
    )
    op.create_index(op.f('ix_expert_ties_expert_id'), 'expert_ties', ['expert_id'], unique=False)
    op.create_index(op.f('ix_expert_ties_organisation_id'), 'expert_ties', ['organisation_id'], unique=False)
    op.create_table('expert_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_expert_requests_order_id_orders')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_expert_requests_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_requests')),
    sa.UniqueConstraint('order_id', name=op.f('uq_expert_requests_order_id'))
    )
    op.create_table('expert_draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('basis', sa.String(length=12), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('panel_size', sa.Integer(), nullable=False),
    sa.Column('eligible_ids', sa.JSON(), nullable=False),
    sa.Column('chosen_ids', sa.JSON(), nullable=False),
    sa.Column('excluded', sa.JSON(), nullable=False),
    sa.Column('drawn_by', sa.Integer(), nullable=False),
    sa.Column('drawn_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('concluded_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.Enum('pass', 'partial', 'reject', name='expert_panel_result', native_enum=False, length=24), nullable=True),
    sa.ForeignKeyConstraint(['drawn_by'], ['users.id'], name=op.f('fk_expert_draws_drawn_by_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_expert_draws_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_draws')),
    sa.UniqueConstraint('order_id', name=op.f('uq_expert_draws_order_id'))
    )
    op.create_table('expert_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('result', sa.Enum('pass', 'partial', 'reject', name='expert_review_result', native_enum=False, length=24), nullable=True),
    sa.Column('quantities', sa.JSON(), nullable=True),
    sa.Column('opinion', sa.String(length=500), nullable=True),
    sa.Column('signed_at', mall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['draw_id'], ['expert_draws.id'], name=op.f('fk_expert_reviews_draw_id_expert_draws'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_id'], ['expert_profiles.id'], name=op.f('fk_expert_reviews_expert_id_expert_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_reviews')),
    sa.UniqueConstraint('draw_id', 'expert_id', name='uq_expert_reviews_draw_expert')
    )
    op.create_index(op.f('ix_expert_reviews_draw_id'), 'expert_reviews', ['draw_id'], unique=False)
    op.create_index(op.f('ix_expert_reviews_expert_id'), 'expert_reviews', ['expert_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_expert_reviews_expert_id'), table_name='expert_reviews')
    op.drop_index(op.f('ix_expert_reviews_draw_id'), table_name='expert_reviews')
    op.drop_table('expert_reviews')
    op.drop_table('expert_draws')
    op.drop_table('expert_requests')
    op.drop_index(op.f('ix_expert_ties_organisation_id'), table_name='expert_ties')
    op.drop_index(op.f('ix_expert_ties_expert_id'), table_name='expert_ties')
    op.drop_table('expert_ties')
    op.drop_index(op.f('ix_expert_profiles_employer_org_id'), table_name='expert_profiles')
    op.drop_table('expert_profiles')
    op.drop_table('expert_settings')
