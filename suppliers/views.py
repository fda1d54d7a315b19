"""Supplier portal pages: application, dashboard, offers, review decisions."""

from flask import Blueprint

blueprint = Blueprint("suppliers", __name__, url_prefix="/supplier")
