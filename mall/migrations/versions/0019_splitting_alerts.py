"""anti-splitting totals and alerts

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 19:00:00

"""
import sqlalchemy as sa
from alembic import op

import mall.core.db

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('splitting_totals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=False),
    sa.Column('category_code', sa.String(length=9), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('direct_fen', sa.BigInteger(), nullable=False),
    sa.Column('bidding_fen', sa.BigInteger(), nullable=False),
    sa.Column('order_count', sa.Integer(), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_fen >= 0 AND direct_fen >= 0 AND bidding_fen >= 0', name=op.f('ck_splitting_totals_amounts_not_negative')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_splitting_totals_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_splitting_totals')),
    sa.UniqueConstraint('organisation_id', 'fiscal_year', 'project_code', 'category_code', name='uq_splitting_totals_key')
    )
    op.create_index(op.f('ix_splitting_totals_organisation_id'), 'splitting_totals', ['organisation_id'], unique=False)
    op.create_table('splitting_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('project_code', sa.String(length=40), nullable=False),
    sa.Column('category_code', sa.String(length=9), nullable=False),
    sa.Column('level', sa.Enum('approaching', 'passed', name='splitting_alert_level', native_enum=False, length=12), nullable=False),
    sa.Column('status', sa.Enum('open', 'acknowledged', 'escalated', 'superseded', name='splitting_alert_status', native_enum=False, length=12), nullable=False),
    sa.Column('sum_fen', sa.BigInteger(), nullable=False),
    sa.Column('threshold_fen', sa.BigInteger(), nullable=False),
    sa.Column('warn_pct', sa.Integer(), nullable=False),
    sa.Column('raised_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_splitting_alerts_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_splitting_alerts')),
    sa.UniqueConstraint('organisation_id', 'fiscal_year', 'project_code', 'category_code', 'level', name='uq_splitting_alerts_key_level')
    )
    op.create_index(op.f('ix_splitting_alerts_organisation_id'), 'splitting_alerts', ['organisation_id'], unique=False)
    op.create_index(op.f('ix_splitting_alerts_raised_at'), 'splitting_alerts', ['raised_at'], unique=False)
    op.create_index(op.f('ix_splitting_alerts_status'), 'splitting_alerts', ['status'], unique=False)
    op.create_table('splitting_alert_notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['splitting_alerts.id'], name=op.f('fk_splitting_alert_notes_alert_id_splitting_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_splitting_alert_notes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_splitting_alert_notes'))
    )
    op.create_index(op.f('ix_splitting_alert_notes_alert_id'), 'splitting_alert_notes', ['alert_id'], unique=False)
    op.create_table('splitting_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warn_pct', sa.Integer(), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('warn_pct BETWEEN 1 AND 100', name=op.f('ck_splitting_settings_warn_pct_range')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_splitting_settings_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_splitting_settings'))
    )
    op.create_table('splitting_cursor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', mall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_splitting_cursor'))
    )


def downgrade():
    op.drop_table('splitting_cursor')
    op.drop_table('splitting_settings')
    op.drop_index(op.f('ix_splitting_alert_notes_alert_id'), table_name='splitting_alert_notes')
    op.drop_table('splitting_alert_notes')
    op.drop_index(op.f('ix_splitting_alerts_status'), table_name='splitting_alerts')
    op.drop_index(op.f('ix_splitting_alerts_raised_at'), table_name='splitting_alerts')
    op.drop_index(op.f('ix_splitting_alerts_organisation_id'), table_name='splitting_alerts')
    op.drop_table('splitting_alerts')
    op.drop_index(op.f('ix_splitting_totals_organisation_id'), table_name='splitting_totals')
    op.drop_table('splitting_totals')
