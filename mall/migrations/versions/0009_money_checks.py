"""money and quantities checked by the database: prices > 0, stock and amounts >= 0

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 08:00:00

Before 0009 a supplier's price update took any number, so a negative price could be
stored, put in carts and checked out (issue 10). The services now check every figure
(mall.core.money); these CHECK constraints make the database refuse the rest. What the
hole may have left is repaired first, so that the constraints can be added:

- an offer priced at zero or less gets back its last price above zero (from its price
  history), goes to review with the reason ``invalid_price`` and is off sale until an
  operator approves it; the repair is kept in its price history and decisions;
- an open order (waiting for approval or for the supplier) with a line priced below zero
  is cancelled, giving back its stock, budget reservation and running totals; such lines
  of cancelled orders are set to zero, their original figures kept in the order's
  timeline (orders past confirmation cannot have them: confirming such an order failed);
- cart lines of zero or fewer units are removed, a ceiling price of zero or less is no
  ceiling, negative stock is zero, a non-positive reference price or negative profile
  figure is no value, negative lead times and warranties are zero.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from mall.core.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The models' CheckConstraints (named by the metadata's convention ck_<table>_<name>).
CHECKS = {
    'offers': [
        ('ck_offers_price_positive', 'price_fen > 0'),
        ('ck_offers_reference_price_positive', 'reference_price_fen > 0'),
        ('ck_offers_stock_not_negative', 'stock >= 0'),
        ('ck_offers_terms_not_negative', 'lead_time_days >= 0 AND warranty_months >= 0'),
    ],
    'supplier_profiles': [
        ('ck_supplier_profiles_figures_not_negative',
         'employees >= 0 AND revenue_wan >= 0 AND assets_wan >= 0'),
    ],
    'framework_price_caps': [('ck_framework_price_caps_cap_positive', 'cap_fen > 0')],
    'purchase_settings': [
        ('ck_purchase_settings_direct_limit_positive', 'direct_limit_fen > 0'),
        ('ck_purchase_settings_warn_pct_range', 'warn_pct BETWEEN 1 AND 100'),
        ('ck_purchase_settings_settlement_max_not_negative', 'settlement_max_fen >= 0'),
    ],
    'unit_settings': [('ck_unit_settings_approval_not_negative', 'approval_above_fen >= 0')],
    'budget_lines': [
        ('ck_budget_lines_amount_positive', 'amount_fen > 0'),
        ('ck_budget_lines_states_not_negative',
         'reserved_fen >= 0 AND committed_fen >= 0 AND spent_fen >= 0'),
    ],
    'category_spend': [('ck_category_spend_total_not_negative', 'total_fen >= 0')],
    'cart_items': [('ck_cart_items_quantity_positive', 'quantity > 0')],
    'orders': [
        ('ck_orders_amounts_not_negative',
         'total_fen >= 0 AND paid_fen >= 0 AND refunded_fen >= 0 AND accepted_fen >= 0'),
        ('ck_orders_delivery_days_positive', 'delivery_days > 0'),
    ],
    'order_lines': [
        ('ck_order_lines_quantity_positive', 'quantity > 0'),
        ('ck_order_lines_unit_price_not_negative', 'unit_price_fen >= 0'),
        ('ck_order_lines_accepted_within_quantity',
         'accepted_quantity >= 0 AND accepted_quantity <= quantity'),
    ],
    'notices': [('ck_notices_amount_not_negative', 'amount_fen >= 0')],
    'payments': [
        ('ck_payments_amount_positive', 'amount_fen > 0'),
        ('ck_payments_refunded_within_amount',
         'refunded_fen >= 0 AND refunded_fen <= amount_fen'),
    ],
}

INVALID_PRICE = 'invalid_price'  # the review reason of a repaired offer
OPEN_STATUSES = ('pending_approval', 'sent')
CANCEL_REASON = 'cancelled by the mall: a line was priced below zero'

_offers = sa.table('offers', sa.column('id'), sa.column('supplier_id'), sa.column('price_fen'),
                   sa.column('reference_price_fen'), sa.column('stock'), sa.column('status'),
                   sa.column('lead_time_days'), sa.column('warranty_months'),
                   sa.column('review_reasons', sa.JSON()),
                   sa.column('updated_at', UTCDateTime()))
_price_changes = sa.table('price_changes', sa.column('id'), sa.column('offer_id'),
                          sa.column('changed_at', UTCDateTime()), sa.column('changed_by_id'),
                          sa.column('old_price_fen'), sa.column('new_price_fen'))
_decisions = sa.table('listing_decisions', sa.column('offer_id'), sa.column('supplier_id'),
                      sa.column('decided_at', UTCDateTime()), sa.column('decided_by_id'),
                      sa.column('action'), sa.column('reasons', sa.JSON()), sa.column('note'))
_outbox = sa.table('outbox_events', sa.column('topic'), sa.column('payload', sa.JSON()),
                   sa.column('created_at', UTCDateTime()))
_orders = sa.table('orders', sa.column('id'), sa.column('number'), sa.column('status'),
                   sa.column('total_fen'), sa.column('budget_state'),
                   sa.column('budget_line_id'), sa.column('buyer_org_id'),
                   sa.column('supplier_id'), sa.column('fiscal_year'),
                   sa.column('cancel_reason'), sa.column('confirm_by', UTCDateTime()),
                   sa.column('updated_at', UTCDateTime()))
_lines = sa.table('order_lines', sa.column('id'), sa.column('order_id'), sa.column('offer_id'),
                  sa.column('category_code'), sa.column('quantity'),
                  sa.column('unit_price_fen'))
_steps = sa.table('order_steps', sa.column('id'), sa.column('order_id'), sa.column('status'),
                  sa.column('at', UTCDateTime()), sa.column('user_id'), sa.column('note'))
_notifications = sa.table('notifications', sa.column('organisation_id'), sa.column('order_id'),
                          sa.column('kind'), sa.column('message'),
                          sa.column('params', sa.JSON()),
                          sa.column('created_at', UTCDateTime()))
_budget_lines = sa.table('budget_lines', sa.column('id'), sa.column('reserved_fen'))
_spend = sa.table('category_spend', sa.column('organisation_id'), sa.column('fiscal_year'),
                  sa.column('category_code'), sa.column('total_fen'))


def upgrade():
    connection = op.get_bind()
    moment = datetime.now(UTC)
    changed = _repair_offers(connection, moment)
    changed |= _repair_orders(connection, moment)
    _repair_the_rest(connection)
    if changed:  # the search index refreshes these offers (catalog.sync)
        connection.execute(sa.insert(_outbox).values(
            topic='offers.changed', payload={'offer_ids': sorted(changed)}, created_at=moment))
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, condition in checks:
                batch_op.create_check_constraint(op.f(name), condition)


def downgrade():
    for table, checks in reversed(CHECKS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _condition in checks:
                batch_op.drop_constraint(op.f(name), type_='check')


def _repair_offers(connection, moment) -> set[int]:
    """Offers priced at zero or less: their last good price back, off sale until reviewed."""
    repaired = set()
    rows = connection.execute(sa.select(
        _offers.c.id, _offers.c.supplier_id, _offers.c.price_fen, _offers.c.reference_price_fen,
        _offers.c.status).where(_offers.c.price_fen <= 0)).all()
    for offer_id, supplier_id, price, reference, status in rows:
        last_good = connection.scalar(
            sa.select(_price_changes.c.new_price_fen)
            .where(_price_changes.c.offer_id == offer_id, _price_changes.c.new_price_fen > 0)
            .order_by(_price_changes.c.id.desc()).limit(1))
        restored = last_good or (reference if reference and reference > 0 else 1)
        # Frozen or delisted offers stay so; a listed one waits for an operator.
        new_status = 'pending_review' if status in ('listed', 'pending_review') else status
        connection.execute(sa.update(_offers).where(_offers.c.id == offer_id).values(
            price_fen=restored, status=new_status, review_reasons=[INVALID_PRICE],
            updated_at=moment))
        connection.execute(sa.insert(_price_changes).values(
            offer_id=offer_id, changed_at=moment, changed_by_id=None, old_price_fen=price,
            new_price_fen=restored))
        connection.execute(sa.insert(_decisions).values(
            offer_id=offer_id, supplier_id=supplier_id, decided_at=moment, decided_by_id=None,
            action='queued', reasons=[INVALID_PRICE],
            note=f'A price of {price} fen was refused; the last price above zero '
                 f'({restored} fen) is back and the offer waits for review.'))
        repaired.add(offer_id)
    return repaired


def _repair_orders(connection, moment) -> set[int]:
    """Open orders with a line priced below zero are cancelled (stock, budget and running
    totals given back); such lines are then set to zero. Returns the offers restocked."""
    restocked = set()
    order_ids = connection.scalars(sa.select(_lines.c.order_id).distinct()
                                   .where(_lines.c.unit_price_fen < 0)).all()
    for order_id in sorted(order_ids):
        order = connection.execute(sa.select(_orders).where(_orders.c.id == order_id)).one()
        lines = connection.execute(sa.select(_lines).where(_lines.c.order_id == order_id)
                                   .order_by(_lines.c.id)).all()
        figures = ', '.join(f'line {ln.id}: {ln.quantity} x {ln.unit_price_fen} fen'
                            for ln in lines if ln.unit_price_fen < 0)
        note = (f'Prices below zero were set to zero ({figures}; the total was '
                f'{order.total_fen} fen).')
        if order.status in OPEN_STATUSES:
            _cancel(connection, order, lines, moment, f'{CANCEL_REASON}. {note}')
            restocked.update(ln.offer_id for ln in lines)
        elif order.status == 'cancelled':
            step = connection.execute(
                sa.select(_steps.c.id, _steps.c.note)
                .where(_steps.c.order_id == order_id, _steps.c.status == 'cancelled')
                .order_by(_steps.c.id.desc()).limit(1)).first()
            if step is not None:
                connection.execute(sa.update(_steps).where(_steps.c.id == step.id).values(
                    note=f'{step.note or ""} {note}'.strip()[:500]))
        else:
            raise RuntimeError(
                f'order {order.number} ({order.status}) has a line priced below zero '
                f'({figures}); settle it by hand before upgrading')
        connection.execute(sa.update(_lines).where(_lines.c.order_id == order_id,
                                                   _lines.c.unit_price_fen < 0)
                           .values(unit_price_fen=0))
        total = sum(ln.quantity * max(ln.unit_price_fen, 0) for ln in lines)
        connection.execute(sa.update(_orders).where(_orders.c.id == order_id)
                           .values(total_fen=total, updated_at=moment))
    return restocked


def _cancel(connection, order, lines, moment, note) -> None:
    """What orders._cancel does, in SQL: stock, reservation and running totals back."""
    for line in lines:
        connection.execute(sa.update(_offers).where(_offers.c.id == line.offer_id)
                           .values(stock=_offers.c.stock + line.quantity))
    if order.budget_state == 'reserved':
        connection.execute(sa.update(_budget_lines)
                           .where(_budget_lines.c.id == order.budget_line_id)
                           .values(reserved_fen=_budget_lines.c.reserved_fen - order.total_fen))
    by_category = {}
    for line in lines:
        by_category[line.category_code] = (by_category.get(line.category_code, 0)
                                           + line.quantity * line.unit_price_fen)
    for code, amount in by_category.items():
        connection.execute(sa.update(_spend).where(
            _spend.c.organisation_id == order.buyer_org_id,
            _spend.c.fiscal_year == order.fiscal_year, _spend.c.category_code == code)
            .values(total_fen=_spend.c.total_fen - amount))
    connection.execute(sa.update(_orders).where(_orders.c.id == order.id).values(
        status='cancelled', budget_state='released', cancel_reason=CANCEL_REASON,
        confirm_by=None))
    connection.execute(sa.insert(_steps).values(order_id=order.id, status='cancelled', at=moment,
                                                user_id=None, note=note[:500]))
    for organisation_id in (order.buyer_org_id, order.supplier_id):
        connection.execute(sa.insert(_notifications).values(
            organisation_id=organisation_id, order_id=order.id, kind='order_cancelled',
            message='Order %(number)s was cancelled: %(reason)s',
            params={'number': order.number, 'reason': CANCEL_REASON}, created_at=moment))


def _repair_the_rest(connection) -> None:
    """Values no service let through but the constraints would refuse: cleared or zeroed."""
    for statement in (
        'DELETE FROM cart_items WHERE quantity <= 0',
        'DELETE FROM framework_price_caps WHERE cap_fen <= 0',
        'UPDATE offers SET stock = 0 WHERE stock < 0',
        'UPDATE offers SET reference_price_fen = NULL WHERE reference_price_fen <= 0',
        'UPDATE offers SET lead_time_days = 0 WHERE lead_time_days < 0',
        'UPDATE offers SET warranty_months = 0 WHERE warranty_months < 0',
        'UPDATE supplier_profiles SET employees = NULL WHERE employees < 0',
        'UPDATE supplier_profiles SET revenue_wan = NULL WHERE revenue_wan < 0',
        'UPDATE supplier_profiles SET assets_wan = NULL WHERE assets_wan < 0',
    ):
        connection.execute(sa.text(statement))
