"""The operator's bidding settings page (the supervisor reads it): the quote window, the
minimum of valid quotes and the winner's confirmation window. Operators and supervisors read
the rounds through bidding_rounds.views (every unit's; sealed while open)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from bidding_rounds import settings as round_settings
from bidding_rounds.forms import SettingsForm, load_lenient
from bidding_rounds.page_helpers import translated_errors
from bidding_rounds.pages import blueprint
from mall.core.auth import OVERSIGHT_STAFF, Role
from mall.core.errors import ValidationFailed
from mall.extensions import db
from mall.web import current_actor, page
from mall.web.unit_of_work import discard_changes

FIELDS = ("default_window_hours", "min_window_hours", "min_quotes", "confirm_hours")


@blueprint.route("/settings", methods=["GET", "POST"])
@page(*OVERSIGHT_STAFF)
def settings_page():
    """The mall's bidding settings; rounds already published keep the values they began with."""
    actor = current_actor()
    if request.method == "POST":
        actor.require_role(Role.OPERATOR)
        values, errors = load_lenient(SettingsForm(), request.form)
        try:
            round_settings.save(db.session(), actor,
                                **{name: values.get(name) or 0 for name in FIELDS})
        except ValidationFailed as exc:
            errors = {**exc.errors, **errors}
        if errors:
            discard_changes()
            return render_template("bidding_rounds/settings.html", form=request.form,
                                   errors=translated_errors(errors), can_edit=True), 422
        flash(_("Bidding settings saved; they apply to rounds published from now on."),
              "success")
        return redirect(url_for(".settings_page"))
    current = round_settings.current(db.session())
    form = {name: str(getattr(current, name)) for name in FIELDS}
    return render_template("bidding_rounds/settings.html", form=form, errors={},
                           can_edit=actor.has_role(Role.OPERATOR))
