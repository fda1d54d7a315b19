"""Budget API: a purchasing unit's budget lines (purchase plan lines)."""

from __future__ import annotations

from mall.core.auth import UNIT_STAFF, Role, Scope
from mall.extensions import db
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.schemas import BudgetLineInSchema, BudgetLineSchema
from mall.web import current_actor
from mall.web.access import access
from mall.web.parsing import Blueprint

blueprint = Blueprint("budget_api", __name__, url_prefix="", description="Budget lines of purchasing units")


@blueprint.route("/budget-lines")
@access(Scope.ORDERS_READ, *UNIT_STAFF)
@blueprint.response(200, BudgetLineSchema(many=True))
def list_budget_lines():
    """Your unit's purchase plan lines with what is reserved, committed, spent and left."""
    return budget.budget_lines(db.session(), current_actor())


@blueprint.route("/budget-lines", methods=["POST"])
@access(Scope.ORDERS_WRITE, Role.FINANCE, Role.APPROVER)
@blueprint.arguments(BudgetLineInSchema)
@blueprint.response(201, BudgetLineSchema)
def create_budget_line(data):
    return budget.create_budget_line(db.session(), current_actor(), **data)


