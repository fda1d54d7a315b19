"""The OCDS building blocks every release shares: money, times, release ids, parties, items.

Choices, documented once here:

- Amounts are integer fen in the mall; OCDS wants a number of yuan, so ``value`` writes whole
  yuan as an integer and the rest as a two-decimal number (exact in JSON for any amount the
  mall stores). Currency is always CNY.
- Times are stored in UTC and published with the Asia/Shanghai offset (``+08:00``).
- Parties are identified by their unified social credit code (统一社会信用代码, GB 32100-2015)
  under the scheme ``CN-USCC``. org-id.guide lists ``CN-SAIC``, which covers only companies
  registered with market regulation; the credit code is also held by government units and
  institutions (registered by 机构编制), so a register-neutral ``CN-USCC`` is used, following
  org-id's ``{country}-{register}`` convention. A party's ``id`` is ``CN-USCC-<code>``.
- Items are classified by the 《政府采购品目分类目录》 (财库〔2022〕31号) under the scheme
  ``CN-ZFCGPM-2022`` (政府采购品目, 2022 edition: codes changed between editions), with the
  品目 code as ``id`` and its name as ``description``.
- SMEs: ``parties[].details.scale`` is ``sme`` or ``large`` (the partyScale extension).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from mall.core.clock import to_local

CURRENCY = "CNY"
PARTY_SCHEME = "CN-USCC"
ITEM_SCHEME = "CN-ZFCGPM-2022"
LANGUAGE = "zh"
DEFAULT_OCID_PREFIX = "ocds-mall01"
DEFAULT_PUBLISHER_NAME = "政府采购电子卖场"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
EXTENSIONS = [
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/"
    "v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_partyScale_extension/"
    "v1.1.5/extension.json",
]
SECTION_CATEGORIES = {"A": "goods", "B": "works", "C": "services"}

Release = dict[str, Any]


def yuan(fen: int) -> int | float:
    """An amount in fen as a JSON number of yuan (integer when whole)."""
    return fen // 100 if fen % 100 == 0 else fen / 100


def value(fen: int) -> dict[str, Any]:
    return {"amount": yuan(fen), "currency": CURRENCY}


def stamp(moment: datetime) -> str:
    """A stored UTC time as RFC 3339 text with the Asia/Shanghai offset."""
    return to_local(moment).isoformat(timespec="seconds")


def release_id(ocid: str, step: str, moment: datetime) -> str:
    """A stable release id: the ocid, the step that made it and the step's UTC time."""
    return f"{ocid}-{step}-{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def party_id(name: str, credit_code: str | None, fallback: str) -> str:
    return f"{PARTY_SCHEME}-{credit_code}" if credit_code else fallback


def party(name: str, credit_code: str | None, roles: Iterable[str], *, fallback: str,
          scale: str | None = None) -> dict[str, Any]:
    """A party with its credit code as identifier, its roles and (suppliers) its scale."""
    entry: dict[str, Any] = {"id": party_id(name, credit_code, fallback), "name": name,
                             "roles": list(roles)}
    if credit_code:
        entry["identifier"] = {"scheme": PARTY_SCHEME, "id": credit_code, "legalName": name}
    if scale:
        entry["details"] = {"scale": scale}
    return entry


def reference(entry: dict[str, Any]) -> dict[str, str]:
    """The organisation reference of a party."""
    return {"id": entry["id"], "name": entry["name"]}


def main_category(codes: Iterable[str]) -> str:
    """goods, works or services, from the 品目 codes' section letter (A, B, C)."""
    sections = {SECTION_CATEGORIES.get(code[:1], "goods") for code in codes}
    return sections.pop() if len(sections) == 1 else "goods"


def item(position: int, *, description: str, category_code: str, category_name: str,
         quantity: int, unit: str, unit_price_fen: int | None = None) -> dict[str, Any]:
    """An item classified by its 品目, with its quantity and unit (and unit price if known)."""
    entry: dict[str, Any] = {
        "id": str(position), "description": description,
        "classification": {"scheme": ITEM_SCHEME, "id": category_code,
                           "description": category_name or category_code},
        "quantity": quantity, "unit": {"name": unit}}
    if unit_price_fen is not None:
        entry["unit"]["value"] = value(unit_price_fen)
    return entry


def budget(project_code: str, project_name: str, amount_fen: int) -> dict[str, Any]:
    """The planning section: the unit's budget line (项目编号, 项目名称, amount)."""
    return {"budget": {"id": project_code, "description": project_name,
                       "amount": value(amount_fen), "project": project_name,
                       "projectID": project_code}}


def release(ocid: str, step: str, moment: datetime, tags: list[str], **sections: Any) -> Release:
    """A release: its id and date from the step, ``tender`` initiation, Chinese text."""
    body: Release = {"ocid": ocid, "id": release_id(ocid, step, moment), "date": stamp(moment),
                     "tag": tags, "initiationType": "tender", "language": LANGUAGE}
    body.update({key: section for key, section in sections.items() if section is not None})
    return body
