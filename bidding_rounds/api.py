"""Bidding rounds API: the unit's rounds and the suppliers' opportunities and quotes."""

from __future__ import annotations

from mall.web.parsing import Blueprint

blueprint = Blueprint("rounds_api", __name__, url_prefix="/rounds",
                      description="Bidding rounds of purchasing units")
supplier_blueprint = Blueprint("supplier_rounds_api", __name__, url_prefix="/supplier/rounds",
                               description="Bidding opportunities, quotes and awards of suppliers")
