"""The bidding pages' forms: what a submitted form holds, read into the services' inputs
(money typed in yuan, the deadline in Beijing time), with every field's error named as the form
names the field, so that the page shows each error next to its field and keeps what was typed.

Field names follow the services' error keys: ``items.<n>.name`` for the round's item rows,
``price-<item id>`` for a quote's unit prices (the service's ``lines.<n>.unit_price_fen``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate
from marshmallow import ValidationError as SchemaValidationError

from bidding_rounds.page_helpers import parse_local
from bidding_rounds.rounds import MAX_ITEMS, ItemInput, RoundInput
from mall.core.inputs import MAX_ID, Yuan, whole_number
from mall.core.money import POSITIVE_AMOUNT, PRICE, QUANTITY, AmountTooLarge, parse_yuan, within
from mall.i18n_messages import N_
from mall.web import flatten_messages
from mall.web.forms import FormInput

ITEM_FIELDS = ("category_code", "name", "spec", "quantity", "unit")
BLANK_ROWS = 3  # empty item rows a blank form offers (one more per "add an item")
FINGERPRINT = re.compile(r"[0-9a-f]{16,64}")
BAD_DEADLINE = N_("Enter the quote deadline as a date and time, such as 2026-05-01 17:00.")


def _id_field(message: str) -> fields.Int:
    return fields.Int(validate=validate.Range(min=1, max=MAX_ID, error=message),
                      error_messages={"invalid": message}, load_default=None)


def _count_field(message: str) -> fields.Int:
    return fields.Int(validate=validate.Range(min=-MAX_ID, max=MAX_ID, error=message),
                      error_messages={"invalid": message}, load_default=None)


class RoundForm(FormInput):
    """The round form's single fields (the item rows are read by ``read_items``)."""

    mode = fields.Str(load_default="quick")
    title = fields.Str(load_default="")
    budget_line_id = _id_field(N_("Choose one of your unit's budget lines."))
    ceiling_fen = Yuan(POSITIVE_AMOUNT, data_key="ceiling", load_default=0)
    region_code = fields.Str(load_default=None)
    delivery_address = fields.Str(load_default="")
    contact = fields.Str(load_default="")
    delivery_days = _count_field(N_("Enter a delivery term of 1 to 180 days."))
    sme_deduction_pct = _count_field(N_("Choose an SME price deduction of 10 to 20 percent."))
    sme_reserved = fields.Str(load_default="")
    rerun_of_id = _id_field(N_("Not a valid id."))


class SettingsForm(FormInput):
    """The operator's bidding settings."""

    default_window_hours = _count_field(N_("Enter hours from the minimum window up to 720."))
    min_window_hours = _count_field(N_("Enter 1 to 720 hours."))
    min_quotes = _count_field(N_("Enter 1 to 20 quotes."))
    confirm_hours = _count_field(N_("Enter 1 to 720 hours."))


def load_lenient(schema: Schema, form: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """What of a form ``schema`` could read, and the errors of the rest (so that the service
    still checks the fields that were read, and the page shows every error at once)."""
    try:
        return schema.load(form, unknown=EXCLUDE), {}
    except SchemaValidationError as exc:
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        return valid, flatten_messages(exc.messages)


@dataclass
class RoundFormData:
    """A submitted round form: the service's input, the errors found reading it, and the item
    rows as typed (to show them again)."""

    data: RoundInput
    errors: dict[str, list[str]] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)


def item_rows(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The item rows typed in the form, blank rows left out, in their order."""
    numbers = sorted({int(m.group(1)) for key in form
                      if (m := re.fullmatch(r"items\.(\d{1,3})\.[a-z_]+", key))})
    rows = []
    for number in numbers:
        row = {name: (form.get(f"items.{number}.{name}") or "").strip()
               for name in (*ITEM_FIELDS, "product_id")}
        if any(row[name] for name in ITEM_FIELDS):
            rows.append(row)
    return rows[:MAX_ITEMS + 1]  # one more than allowed, so that the service names the limit


def read_items(rows: list[dict[str, str]], errors: dict[str, list[str]]) -> list[ItemInput]:
    items = []
    for index, row in enumerate(rows):
        quantity = whole_number(row["quantity"], low=-MAX_ID, high=MAX_ID)
        if row["quantity"] and (quantity is None or not within(quantity, QUANTITY)):
            errors[f"items.{index}.quantity"] = [QUANTITY.message]
        product_id = whole_number(row["product_id"], low=1, high=MAX_ID)
        items.append(ItemInput(category_code=row["category_code"].upper(), name=row["name"],
                               spec=row["spec"], quantity=quantity or 0, unit=row["unit"],
                               product_id=product_id))
    return items


def read_round_form(form: Any) -> RoundFormData:
    """The round form as a RoundInput, with the errors of what could not be read."""
    values, errors = load_lenient(RoundForm(), form)
    rows = item_rows(form)
    items = read_items(rows, errors)
    deadline = None
    typed_deadline = (form.get("deadline") or "").strip()
    if typed_deadline:
        deadline = parse_local(typed_deadline)
        if deadline is None:
            errors["deadline"] = [BAD_DEADLINE]
    invited = sorted({n for n in (whole_number(v, low=1, high=MAX_ID)
                                  for v in form.getlist("invited_supplier_ids")) if n})
    if "ceiling" in errors:
        errors["ceiling_fen"] = errors.pop("ceiling")
    data = RoundInput(
        mode=values.get("mode", "quick"), items=items,
        budget_line_id=values.get("budget_line_id") or 0,
        ceiling_fen=values.get("ceiling_fen") or 0,
        delivery_address=values.get("delivery_address", ""), contact=values.get("contact", ""),
        title=values.get("title", ""), region_code=values.get("region_code") or None,
        delivery_days=values["delivery_days"] if values.get("delivery_days") is not None else 0,
        sme_deduction_pct=(values["sme_deduction_pct"]
                           if values.get("sme_deduction_pct") is not None else 0),
        deadline=deadline, invited_supplier_ids=invited,
        sme_reserved=values.get("sme_reserved") in ("1", "on", "true"),
        rerun_of_id=values.get("rerun_of_id"))
    return RoundFormData(data, errors, rows)


@dataclass
class QuoteFormData:
    lines: list[tuple[int, int]]
    errors: dict[str, list[str]]
    sme_goods: bool
    fingerprint: str | None


def read_quote_form(form: Any, item_ids: list[int]) -> QuoteFormData:
    """One unit price (in yuan) per item of the round, the SME declaration and the device
    fingerprint the page's script computed."""
    lines: list[tuple[int, int]] = []
    errors: dict[str, list[str]] = {}
    for item_id in item_ids:
        key = f"price-{item_id}"
        typed = (form.get(key) or "").strip()
        if not typed:
            errors[key] = [N_("Enter a unit price for this item.")]
            continue
        try:
            fen = parse_yuan(typed)
        except AmountTooLarge:
            errors[key] = [PRICE.message]
            continue
        except ValueError:
            errors[key] = [PRICE.typed]
            continue
        if not within(fen, PRICE):
            errors[key] = [PRICE.message]
            continue
        lines.append((item_id, fen))
    typed_print = (form.get("device_fingerprint") or "").strip().lower()
    return QuoteFormData(lines, errors, form.get("sme_goods") in ("1", "on", "true"),
                         typed_print if FINGERPRINT.fullmatch(typed_print) else None)


def quote_errors(errors: Mapping[str, list[str]], lines: list[tuple[int, int]]
                 ) -> dict[str, list[str]]:
    """The quote service's errors (``lines.<n>.unit_price_fen``) under the form's field names."""
    named: dict[str, list[str]] = {}
    for key, messages in errors.items():
        match = re.fullmatch(r"lines\.(\d+)\.[a-z_]+", key)
        if match and int(match.group(1)) < len(lines):
            key = f"price-{lines[int(match.group(1))][0]}"
        named.setdefault(key, []).extend(messages)
    return named
