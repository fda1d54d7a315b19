"""How requests are read: ids in paths within the database's range, and malformed JSON bodies
answered with a 400 ``malformed_json`` problem.

``IdConverter`` replaces Flask's ``int`` converter app-wide, so ``/orders/99999999999999999999``
matches no route (404) instead of reaching the database driver as an overflowing integer.
Every API blueprint is a ``mall.web.parsing.Blueprint`` (flask-smorest's, with our webargs
parser), so a body that is not JSON (``{``, a NUL byte, a byte-order mark, bytes that are
not UTF-8), nests too deeply for the decoder, or carries text no database can store (lone
UTF-16 surrogates) is refused before any schema or service sees it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.routing import IntegerConverter

from mall.core.errors import MallError, ValidationFailed
from mall.core.inputs import MAX_ID
from mall.i18n_messages import N_

# A JSON string escape of a UTF-16 surrogate; only then is the decoded body checked for a
# lone one (a pair decodes to one astral character and is fine).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class MalformedJson(MallError):
    """A request body that is not a JSON document we can read."""

    code = "malformed_json"
    status = 400
    title = N_("Malformed JSON")


def parse_json_body(data: bytes) -> Any:
    """Decode a JSON request body; MalformedJson for anything but a readable JSON document."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJson(N_("The request body is not UTF-8 text."),
                            errors={"_body": [N_("Not UTF-8.")]}) from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise MalformedJson(N_("The request body is not valid JSON (%(error)s)."),
                            params={"error": f"{exc.msg} at line {exc.lineno} column {exc.colno}"},
                            errors={"_body": [N_("Not valid JSON.")]}) from exc
    except ValueError as exc:  # NaN, 1e999, an integer of thousands of digits
        raise MalformedJson(N_("The request body is not valid JSON (%(error)s)."),
                            params={"error": str(exc)},
                            errors={"_body": [N_("Not valid JSON.")]}) from exc
    except RecursionError as exc:
        raise MalformedJson(N_("The request body nests too deeply."),
                            errors={"_body": [N_("Nested too deeply.")]}) from exc
    if _SURROGATE_ESCAPE.search(data):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MalformedJson(N_("The request body contains an unpaired UTF-16 surrogate."),
                                errors={"_body": [N_("Unpaired surrogate.")]}) from exc
    return value


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text[:20]} is too large a number")
    return number


NUL_CHARACTER = N_("Remove the NUL character: no text may contain it.")


def refuse_nul_characters(request) -> None:
    """Refuse a query, form or JSON body carrying a NUL character, on pages and API alike.

    No database column can store one (PostgreSQL refuses it in text), and nobody types one;
    answering 422 naming the field keeps a search filter or a free-text field from reaching
    the driver with it. Other control characters are the fields' own rule (PlainText).
    """
    errors: dict[str, list[str]] = {}
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            if "\x00" in key or "\x00" in value:
                errors.setdefault(key.replace("\x00", "\\0"), []).append(NUL_CHARACTER)
    if request.is_json and b"\\u0000" in request.get_data(cache=True):
        try:
            body = parse_json_body(request.get_data(cache=True))
        except MalformedJson:
            body = None  # the parser answers that one when the view reads the body
        for name in _fields_with_nul(body, ""):
            errors.setdefault(name or "_body", []).append(NUL_CHARACTER)
    if errors:
        raise ValidationFailed(NUL_CHARACTER, errors=errors)


def _fields_with_nul(value: Any, prefix: str) -> list[str]:
    """The dotted names of the JSON fields (keys or strings) that hold a NUL character."""
    found: list[str] = []
    if isinstance(value, str):
        return [prefix] if "\x00" in value else []
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        name = f"{prefix}.{key}" if prefix else str(key)
        found.extend([name] if "\x00" in str(key) else _fields_with_nul(item, name))
    return found


class MallParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies through ``parse_json_body``."""

    def _raw_load_json(self, req) -> Any:
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        if not data:
            return core.missing
        return parse_json_body(data)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs) -> NoReturn:
        # Reached only if a decoding error escaped parse_json_body.
        raise MalformedJson(N_("The request body is not valid JSON."),
                            errors={"_body": [N_("Not valid JSON.")]}) from error


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint reading arguments with MallParser."""

    ARGUMENTS_PARSER = MallParser()


def whole_numbers_up_to(limit: int) -> str:
    """A regex matching the decimal numbers 1 … ``limit`` exactly (no sign, no leading zero)."""
    digits = str(limit)
    width = len(digits)
    choices = [rf"[1-9]\d{{0,{width - 2}}}"] if width > 1 else []
    for index, digit in enumerate(digits):
        low = 1 if index == 0 else 0
        if int(digit) > low:
            rest = width - index - 1
            choices.append(digits[:index] + f"[{low}-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    choices.append(digits)
    return "(?:" + "|".join(choices) + ")"


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a whole number from 1 to MAX_ID, else no route matches (404).

    The range is in the regex rather than in ``to_python``: Werkzeug checks a rule's method
    before converting, so a refusal there would turn into 405 where a route has one rule
    per method (PUT and DELETE of /cart/items/<id>).
    """

    regex = whole_numbers_up_to(MAX_ID)

    def __init__(self, url_map, *args: Any, **kwargs: Any):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)
