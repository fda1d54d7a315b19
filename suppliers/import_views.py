"""Supplier pages for bulk import: upload, progress, error reports, templates."""

from flask import Blueprint, redirect, url_for

blueprint = Blueprint("imports", __name__, url_prefix="/supplier/imports")


@blueprint.route("/")
def index():
    """Placeholder until the import pages land."""
    return redirect(url_for("suppliers.dashboard"))
