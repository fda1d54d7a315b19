"""Page forms read by the same marshmallow schemas as the API: ``FormInput`` turns a
submitted form into what the schema takes, and ``read_form`` answers field errors named as
the form names its fields."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from marshmallow import EXCLUDE, Schema, fields, pre_load
from marshmallow import ValidationError as SchemaValidationError

from mall.core.errors import ValidationFailed

_WHOLE = re.compile(r"-?[0-9]{1,18}")
_NOT_INPUT = {"csrf_token", "next", "return_id", "token"}


class FormInput(Schema):
    """Reads a page form for an API schema: text stripped, blank fields left out (so that
    defaults and 'required' apply), whole numbers typed as text read as integers, and the
    fields named ``<prefix><line id>`` gathered into the dict the API takes."""

    gather: ClassVar[dict[str, str]] = {}

    @pre_load
    def from_form(self, form: Any, **_kwargs: Any) -> dict:
        data: dict[str, Any] = {}
        for key in form:
            value = (form.get(key) or "").strip()
            if key in _NOT_INPUT or value == "":
                continue
            prefix = next((p for p in self.gather if key.startswith(p)), None)
            if prefix:
                data.setdefault(self.gather[prefix], {})[key[len(prefix):]] = value
            else:
                data[key] = value
        for name, field in self.fields.items():
            key = field.data_key or name
            if isinstance(field, fields.Integer):
                data[key] = _whole(data.get(key))
            elif isinstance(field, fields.Dict) and isinstance(field.value_field, fields.Integer) \
                    and isinstance(data.get(key), dict):
                data[key] = {k: _whole(v) for k, v in data[key].items()}
        return {k: v for k, v in data.items() if v is not None}


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, str) and _WHOLE.fullmatch(value) else value


def read_form(schema: Schema, form: Any) -> dict:
    """A submitted form loaded by ``schema`` (fields it does not know are ignored), or
    ValidationFailed with the field errors named as the form names its fields."""
    try:
        return schema.load(form, unknown=EXCLUDE)
    except SchemaValidationError as exc:
        raise ValidationFailed(errors=_by_form_field(exc.messages)) from exc


def _by_form_field(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as form field -> messages ("quantities.12", not
    "quantities.12.value")."""
    flat: dict[str, list[str]] = {}
    for key, value in (messages.items() if isinstance(messages, dict) else ()):
        name = prefix if (prefix and key in ("value", "key")) else ".".join(filter(None, (prefix, str(key))))
        if isinstance(value, dict):
            flat.update(_by_form_field(value, name))
        else:
            flat.setdefault(name, []).extend(str(v) for v in value)
    return flat


def form_field_errors(schema: Schema, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """A service's field errors (named as the API names its fields) under the form's names."""
    renamed = {name: field.data_key for name, field in schema.fields.items()
               if field.data_key and field.data_key != name}
    return {renamed.get(key, key): messages for key, messages in errors.items()}
