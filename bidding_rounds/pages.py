"""The one page blueprint of bidding rounds: the buyer's, the supplier's, the operator's and
supervisor's pages register on it (bidding_rounds.views and the modules it imports)."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("bidding_rounds", __name__, url_prefix="/rounds")
