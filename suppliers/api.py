"""Supplier API under /api/v1/supplier/ (token-authenticated offer management)."""

from flask_smorest import Blueprint

blueprint = Blueprint("supplier_api", __name__, url_prefix="/supplier",
                      description="Suppliers' offers: create, update, prices and stock, delist")
