"""Open data API (public, no login): OCDS 1.1.5 release packages per day, record packages per
ocid, and a month's releases as a downloadable file.

Settings (read here, defaults when unset): ``OCDS_OCID_PREFIX`` (``ocds-mall01``) and
``OCDS_PUBLISHER_NAME`` (政府采购电子卖场). Data are published under CC BY 4.0.
"""

from __future__ import annotations

import json
import re
from datetime import date

from flask import Response, current_app, request

from mall.core.clock import now
from mall.core.errors import NotFound, ValidationFailed
from mall.core.inputs import DAY_OUT_OF_RANGE, MAX_DAY, MIN_DAY
from mall.extensions import db
from mall.i18n_messages import N_
from mall.web.access import access
from mall.web.parsing import Blueprint
from open_data import ocds
from open_data.common import DEFAULT_OCID_PREFIX, DEFAULT_PUBLISHER_NAME

blueprint = Blueprint("open_data_api", __name__, url_prefix="/open-data/ocds",
                      description="Open data: OCDS 1.1.5 releases and records of direct "
                                  "purchases and bidding rounds (public, CC BY 4.0)")

JSON_MIME = "application/json"
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MONTH = re.compile(r"\d{4}-\d{2}")
OCID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
NOT_A_DAY = N_("Give a day as YYYY-MM-DD.")
NOT_A_MONTH = N_("Give a month as YYYY-MM.")


def _document(description: str, required: list[str], attachment: bool = False) -> dict:
    content = {JSON_MIME: {"schema": {"type": "object", "required": required}}}
    response: dict = {"description": description, "content": content}
    if attachment:
        response["headers"] = {"Content-Disposition": {
            "description": "attachment; filename=ocds-<prefix>-<YYYY-MM>.json",
            "schema": {"type": "string"}}}
    return {"responses": {"200": response}}


PACKAGE_DOC = _document("An OCDS 1.1 release package (release-package-schema.json); 404 "
                        "no_releases when no release is dated that day",
                        ["uri", "version", "publisher", "publishedDate", "releases"])
RECORD_DOC = _document("An OCDS 1.1 record package with the compiled release "
                       "(record-package-schema.json); 404 ocid_not_found for an unknown ocid",
                       ["uri", "version", "publisher", "publishedDate", "records"])
BULK_DOC = _document("A month's release package, as a file to download; 404 no_releases "
                     "when no release is dated that month",
                     ["uri", "version", "publisher", "publishedDate", "releases"],
                     attachment=True)


def _prefix() -> str:
    return current_app.config.get("OCDS_OCID_PREFIX") or DEFAULT_OCID_PREFIX


def _publisher() -> ocds.Publisher:
    return ocds.Publisher(
        name=current_app.config.get("OCDS_PUBLISHER_NAME") or DEFAULT_PUBLISHER_NAME,
        prefix=_prefix(), uri=request.base_url, published=now(),
        publisher_uri=request.url_root)


def _json(document: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(document, ensure_ascii=False, separators=(",", ":")),
                    mimetype=JSON_MIME, headers=headers)


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text) if DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationFailed(NOT_A_DAY, errors={"day": [NOT_A_DAY]})
    if not MIN_DAY <= day <= MAX_DAY:
        raise ValidationFailed(DAY_OUT_OF_RANGE, errors={"day": [DAY_OUT_OF_RANGE]})
    return day


def _month(text: str) -> tuple[int, int]:
    if not MONTH.fullmatch(text) or not 1 <= int(text[5:]) <= 12:
        raise ValidationFailed(NOT_A_MONTH, errors={"month": [NOT_A_MONTH]})
    year, month = int(text[:4]), int(text[5:])
    if not MIN_DAY.year <= year <= MAX_DAY.year:
        raise ValidationFailed(DAY_OUT_OF_RANGE, errors={"month": [DAY_OUT_OF_RANGE]})
    return year, month


@blueprint.route("/packages/<string:day>")
@access(None)
@blueprint.doc(**PACKAGE_DOC)
def day_package(day: str):
    """The release package of the releases dated on a day (YYYY-MM-DD, Asia/Shanghai)."""
    publisher = _publisher()
    releases = ocds.releases_of_day(db.session(), prefix=publisher.prefix, day=_day(day))
    return _json(ocds.release_package(releases, publisher))


@blueprint.route("/records/<string:ocid>")
@access(None)
@blueprint.doc(**RECORD_DOC)
def record(ocid: str):
    """The record package of one contracting process: its releases and compiled release."""
    publisher = _publisher()
    if not OCID.fullmatch(ocid):
        raise NotFound(N_("No published contracting process has this ocid."),
                       code="ocid_not_found")
    releases = ocds.releases_of(db.session(), prefix=publisher.prefix, ocid=ocid)
    return _json(ocds.record_package(ocid, releases, publisher))


@blueprint.route("/bulk/<string:month>")
@access(None)
@blueprint.doc(**BULK_DOC)
def bulk(month: str):
    """A month's releases (YYYY-MM, Asia/Shanghai) as one release package file to download."""
    publisher = _publisher()
    year, number = _month(month)
    releases = ocds.releases_of_month(db.session(), prefix=publisher.prefix, year=year,
                                      month=number)
    filename = f"ocds-{publisher.prefix}-{year:04d}-{number:02d}.json"
    return _json(ocds.release_package(releases, publisher),
                 headers={"Content-Disposition": f"attachment; filename={filename}"})
