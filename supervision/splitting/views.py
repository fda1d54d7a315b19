"""Pages of anti-splitting (化整为零): the supervisor's worklist of alerts, one alert with the
orders behind it and its history, acknowledging or escalating it with a note, and the
warning share. Operators read; purchasing units and suppliers are refused."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from mall.core.auth import OVERSIGHT_STAFF, Role
from mall.core.errors import MallError, ValidationFailed, translate_field_message
from mall.core.inputs import whole_number
from mall.extensions import db
from mall.web import current_actor, page
from mall.web.unit_of_work import discard_changes
from supervision.pages import blueprint
from supervision.splitting import services
from supervision.splitting.models import AlertStatus

LABELS = {"level": services.LEVEL_LABELS, "status": services.STATUS_LABELS,
          "note": services.NOTE_LABELS}


def _translated(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: [translate_field_message(m, _) for m in messages]
            for key, messages in errors.items()}


@blueprint.route("/splitting-alerts", methods=["GET", "POST"])
@page(*OVERSIGHT_STAFF)
def splitting_alerts():
    """The worklist: open alerts first; the warning share below (operators and supervisors
    change it)."""
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    status_text = request.args.get("status", "")
    status = AlertStatus(status_text) if status_text in AlertStatus._value2member_map_ else None
    form = {"warn_pct": str(services.current_warn_pct(db.session()))}
    if request.method == "POST":
        typed = request.form.get("warn_pct", "")
        pct = whole_number(typed, low=1, high=100)
        try:
            services.save_warn_pct(db.session(), actor, pct=pct if pct is not None else -1)
            flash(_("Warning share saved; keys at it are alerted now."), "success")
            return redirect(url_for(".splitting_alerts"))
        except ValidationFailed as exc:
            discard_changes()
            errors, form = _translated(exc.errors), {"warn_pct": typed}
    number = whole_number(request.args.get("page"), low=1, high=100_000) or 1
    rows, total = services.list_alerts(db.session(), actor, status=status, page=number)
    return render_template(
        "supervision/splitting_alerts.html", rows=rows, total=total, page=number,
        pages=max(1, -(-total // services.PAGE_SIZE)), status=status, statuses=list(AlertStatus),
        behind=services.orders_behind_alerts(db.session(), [row.alert for row in rows]),
        labels=LABELS, form=form, errors=errors,
        can_act=actor.has_role(Role.SUPERVISOR)), (422 if errors else 200)


@blueprint.route("/splitting-alerts/<int:alert_id>")
@page(*OVERSIGHT_STAFF)
def splitting_alert(alert_id: int):
    """One alert: the key, its sum against the threshold, the orders behind it, its history."""
    return _render(alert_id)


def _render(alert_id: int, *, errors=None, form=None, status: int = 200):
    actor = current_actor()
    row = services.get_alert(db.session(), actor, alert_id)
    return render_template(
        "supervision/splitting_alert.html", row=row, alert=row.alert,
        orders=services.orders_behind(db.session(), row.alert),
        history=services.history(db.session(), row.alert), labels=LABELS,
        errors=errors or {}, form=form or {}, can_act=actor.has_role(Role.SUPERVISOR),
        actions=[a for a, allowed in services.ACTIONS.items() if row.alert.status in allowed],
    ), status


@blueprint.route("/splitting-alerts/<int:alert_id>", methods=["POST"])
@page(Role.SUPERVISOR)
def act_on_splitting_alert(alert_id: int):
    """Acknowledge or escalate, with the required note."""
    actor = current_actor()
    action, note = request.form.get("action", ""), request.form.get("note", "")
    try:
        services.act_on_alert(db.session(), actor, alert_id, action=action, note=note)
    except ValidationFailed as exc:
        discard_changes()
        return _render(alert_id, errors=_translated(exc.errors), form=request.form, status=422)
    except MallError as exc:
        if exc.status == 404:
            raise
        discard_changes()
        flash(exc.translated(_), "error")
        return redirect(url_for(".splitting_alert", alert_id=alert_id))
    flash(_("Alert acknowledged.") if action == "acknowledged" else _("Alert escalated."),
          "success")
    return redirect(url_for(".splitting_alert", alert_id=alert_id))
