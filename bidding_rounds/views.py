"""Pages of bidding rounds."""

from __future__ import annotations

from flask import render_template

from bidding_rounds.pages import blueprint
from mall.core.auth import BUYERS
from mall.web import page


@blueprint.route("/new", methods=["GET", "POST"])
@page(*BUYERS)
def new_round():
    """The round form (from the cart with ?from_cart=1, or blank)."""
    return render_template("bidding_rounds/new.html")
