"""The statistics API: the figures of the statistics pages, for supervisors and operators."""

from __future__ import annotations

from flask import request

from mall.core.auth import OVERSIGHT_STAFF, Scope
from mall.core.inputs import MAX_ID
from mall.extensions import db
from mall.web import current_actor
from mall.web.access import access
from mall.web.parsing import Blueprint
from supervision.statistics import services
from supervision.statistics.schemas import FiguresSchema, StatisticsQuerySchema

blueprint = Blueprint("statistics_api", __name__, url_prefix="/statistics",
                      description="Statistics of the mall's purchases for supervisors and "
                                  "operators")


@blueprint.route("")
@access(Scope.STATISTICS_READ, *OVERSIGHT_STAFF)
@blueprint.doc(parameters=[{"in": "query", "name": name, "required": False,
                            "schema": ({"type": "integer", "minimum": 1, "maximum": MAX_ID}
                                       if name.endswith("_id") else {"type": "string"}),
                            "description": field.metadata.get("description", "")}
                           for name, field in StatisticsQuerySchema().fields.items()],
               responses={"422": {"description": "validation_failed: a filter is malformed or "
                                                 "names nothing (errors by filter)"}})
@blueprint.response(200, FiguresSchema)
def statistics():
    """The mall's statistics for a period (months or a quarter; by default the last twelve
    months) and optionally a region, unit, level-1 or level-2 category, supplier and purchase
    mode: deals, amount, budget, savings and savings rate (节支率; the budget of a direct
    purchase is its reference prices, of a bidding round its ceiling), SME and local shares,
    lead times, overdue payments, bidding rounds' failure rate, quotes, challenge and complaint
    rates, the trend by month, the split by mode, the top categories and suppliers.

    Read from monthly facts a job recounts every five minutes (``refreshed_at``)."""
    figures = services.figures(db.session(), current_actor(), request.args.to_dict())
    totals = {name: getattr(figures.totals, name) for name in (
        "deals", "amount_fen", "budget_fen", "savings_fen", "savings_rate_pct", "sme_deals",
        "sme_amount_fen", "sme_share_count_pct", "sme_share_amount_pct", "local_deals",
        "local_amount_fen", "local_share_count_pct", "local_share_amount_pct",
        "avg_delivery_days", "avg_payment_days", "overdue", "overdue_pct")}
    rounds = None if figures.rounds is None else {name: getattr(figures.rounds, name) for name in (
        "rounds", "failed", "failure_rate_pct", "quotes", "avg_quotes", "challenges",
        "challenge_rate_pct", "complaints", "complaint_rate_pct")}
    return {
        "filters": figures.filters.as_dict(), "totals": totals, "rounds": rounds,
        "trend": [{"month": p.month, "deals": p.deals, "amount_fen": p.amount_fen,
                   "budget_fen": p.budget_fen, "savings_rate_pct": p.savings_rate_pct}
                  for p in figures.trend],
        "by_mode": [{"mode": m.mode, "deals": m.deals, "amount_fen": m.amount_fen,
                     "budget_fen": m.budget_fen, "savings_rate_pct": m.savings_rate_pct,
                     "sme_share_amount_pct": m.sme_share_amount_pct} for m in figures.by_mode],
        "top_categories": [{"code": c.code, "name": c.name, "deals": c.deals,
                            "amount_fen": c.amount_fen, "savings_rate_pct": c.savings_rate_pct}
                           for c in figures.top_categories],
        "top_suppliers": [{"id": s.id, "name": s.name, "sme": s.sme, "deals": s.deals,
                           "amount_fen": s.amount_fen} for s in figures.top_suppliers],
        "refreshed_at": figures.refreshed_at,
    }
