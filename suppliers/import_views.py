"""Supplier pages for bulk import: upload, progress, error reports, templates."""

from flask import Blueprint

blueprint = Blueprint("imports", __name__, url_prefix="/supplier/imports")
