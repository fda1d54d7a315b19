"""Pages of direct purchase: cart, checkout, orders (buyers and suppliers), approvals,
payments, budget lines, and the public notices."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("purchasing", __name__)
