"""Every order step, declared: the services declare their steps with ``@step`` when they are
imported, and this module imports them all, so that the pages and the API that dispatch
through ``transition`` see the whole table (mall.purchasing.orders.steps)."""

from __future__ import annotations

from mall.purchasing.contracts import services as contracts
from mall.purchasing.orders import return_refunds, returns
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.steps import STEPS, Step, transition
from mall.purchasing.payments import services as payments

DECLARING = (contracts, orders, payments, return_refunds, returns)

__all__ = ["DECLARING", "STEPS", "Step", "transition"]
