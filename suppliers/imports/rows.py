"""The columns of an offer file, validation of one row, and reasons in the uploader's language.

Validation is plain Python, not a marshmallow schema as our house style prefers. Measured on
this machine, a marshmallow 4 schema of these 15 fields loads a row in ~30 µs (before
converting to fen and building the OfferInput); this code does all of it in ~9 µs. A
million-row import has 180 µs per row for everything (reading, validating, matching,
storing), so the schema alone would eat a sixth of it. The rules are the same: shape and
format here, business rules (category admitted, price checks) in the listing service.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from catalog.normalise import normalise_model
from mall.core.money import PRICE, STOCK, AmountTooLarge, parse_yuan
from suppliers.imports.parsers import EXTRA, ROW_ERROR
from suppliers.listings import (
    CONTROL_CHARACTERS_SUFFIX,
    FIGURES,
    LEAD_TIME,
    OUT_OF_RANGE,
    WARRANTY,
    OfferInput,
)

# Canonical column names and the Chinese headers accepted for them (the first is shown).
COLUMNS: dict[str, tuple[str, ...]] = {
    "supplier_sku": ("供应商SKU", "商品编码"),
    "category_code": ("品目编码",),
    "brand": ("品牌",),
    "model": ("型号",),
    "title": ("商品名称",),
    "price": ("价格", "单价"),
    "reference_price": ("参考价", "电商价"),
    "reference_url": ("参考价链接",),
    "reference_date": ("参考价日期",),
    "stock": ("库存",),
    "unit": ("单位",),
    "delivery_regions": ("配送区域",),
    "lead_time_days": ("供货周期",),
    "warranty_months": ("质保月数",),
    "barcode": ("条码",),
}
REQUIRED = ("supplier_sku", "category_code", "brand", "model", "title", "price", "stock")
ATTRIBUTE_PREFIXES = ("attr:", "属性:")  # NFKC turns the full-width colon into ":"
MAX_LENGTH = {"supplier_sku": 64, "brand": 80, "model": 120, "title": 300, "unit": 10,
              "reference_url": 500, "attribute": 200}
# The listing service's bounds (mall.core.money), checked here first to name the cell.
RANGES = {"stock": (STOCK.low, STOCK.high), "lead_time_days": (LEAD_TIME.low, LEAD_TIME.high),
          "warranty_months": (WARRANTY.low, WARRANTY.high), "price": (PRICE.low, PRICE.high)}
_CATEGORY = re.compile(r"[A-C]\d{8}")
_REGION_SPLIT = re.compile(r"[,，;；、\s]+")
_REGION = re.compile(r"\d{6}")
_BARCODE = re.compile(r"\d{8,14}")

# Reason codes -> (Simplified Chinese, English); {limit}, {low}, {high}, {row} are filled in.
REASONS: dict[str, tuple[str, str]] = {
    "required": ("必填，不能为空", "is required"),
    "too_long": ("超过 {limit} 个字符", "is longer than {limit} characters"),
    "not_an_amount": ("不是以元为单位的金额（如 1234.50）", "is not an amount in yuan (e.g. 1234.50)"),
    "too_many_decimals": ("金额最多两位小数", "has more than two decimal places"),
    "not_a_whole_number": ("应为不小于 0 的整数", "is not a whole number (0 or more)"),
    "out_of_range": ("超出允许范围（{low}–{high}）", "is out of range ({low}–{high})"),
    "bad_date": ("日期格式应为 YYYY-MM-DD", "is not a date in the form YYYY-MM-DD"),
    "bad_url": ("应为以 http:// 或 https:// 开头的链接", "is not a link starting with http:// or https://"),
    "bad_regions": ("应为 6 位行政区划代码，多个用逗号分隔",
                    "should be 6-digit region codes separated by commas"),
    "bad_category_code": ("品目编码应为 1 个字母加 8 位数字",
                          "is not a category code (a letter and 8 digits)"),
    "bad_barcode": ("条码应为 8–14 位数字", "is not a barcode of 8 to 14 digits"),
    "bad_model": ("型号应包含字母或数字", "should contain letters or digits"),
    "extra_values": ("本行的值比表头的列多", "this row has more values than the header has columns"),
    "bad_json": ("不是一个 JSON 对象", "this line is not a JSON object"),
    "duplicate_sku_in_file": ("该 SKU 已在第 {row} 行出现，本行未导入",
                              "this SKU already appears on row {row}; this row was not imported"),
    "duplicate_sku_in_batch": ("该 SKU 在文件中重复", "this SKU appears more than once in the file"),
    "unknown_category": ("没有这个末级品目", "there is no end-level category with this code"),
    "category_not_sold": ("该品目未在电子卖场开放销售", "this category is not sold in the mall"),
    "category_not_admitted": ("贵公司未获准销售该品目", "your company is not admitted to sell this category"),
}
# Where a refusal of the listing service points in the file.
REFUSAL_COLUMNS = {"unknown_category": "category_code", "category_not_sold": "category_code",
                   "category_not_admitted": "category_code",
                   "duplicate_sku_in_batch": "supplier_sku",
                   **{name + OUT_OF_RANGE: name.removesuffix("_fen") for name in FIGURES}}
REASONS.update((name + OUT_OF_RANGE, REASONS["out_of_range"]) for name in FIGURES)
# Texts with control characters (line breaks, tabs, invisible marks), refused by the service.
REASONS["control_characters"] = ("含有控制字符（换行、制表符或不可见字符），请删除",
                                 "contains control characters (line breaks, tabs or invisible "
                                 "marks); remove them")
for _text in ("supplier_sku", "brand", "model", "title", "unit", "reference_url", "barcode",
              "attributes"):
    REFUSAL_COLUMNS[_text + CONTROL_CHARACTERS_SUFFIX] = "" if _text == "attributes" else _text
    REASONS[_text + CONTROL_CHARACTERS_SUFFIX] = REASONS["control_characters"]
ERROR_FILE_HEADER = {"zh_Hans_CN": ("行号", "列", "原因", "供应商SKU"),
                     "en": ("row", "column", "reason", "supplier_sku")}


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower()


_ALIASES = {_key(alias): canonical for canonical, aliases in COLUMNS.items()
            for alias in (canonical, *aliases)}


@dataclass(frozen=True)
class Columns:
    """How a file's header maps onto our columns: canonical -> header, attributes, leftovers."""

    headers: dict[str, str]
    attributes: tuple[tuple[str, str], ...]  # (attribute name, header)
    ignored: tuple[str, ...]

    @property
    def missing(self) -> list[str]:
        """Required columns the header lacks (a CSV or XLSX without them is refused whole)."""
        return [name for name in REQUIRED if name not in self.headers]

    def label(self, column: str, locale: str) -> str:
        """What to call a column in an error report: the file's own header when it has one."""
        if column in self.headers:
            return self.headers[column]
        if column.startswith("attr:"):
            name = column[5:]
            found = next((h for a, h in self.attributes if a == name), None)
            return found or (f"属性:{name}" if locale != "en" else column)
        return column_label(column, locale) if column else ""


def column_label(column: str, locale: str) -> str:
    """The header of a canonical column in ``locale`` (templates and reports)."""
    if column.startswith("attr:"):
        return column if locale == "en" else f"属性:{column[5:]}"
    return column if locale == "en" else COLUMNS[column][0]


def resolve_columns(names: Iterable[str]) -> Columns:
    """Map header names (English or Chinese, any case and width) to our columns."""
    headers: dict[str, str] = {}
    attributes: list[tuple[str, str]] = []
    ignored: list[str] = []
    for name in names:
        if name in (ROW_ERROR, EXTRA):
            continue
        key = _key(name)
        canonical = _ALIASES.get(key.rstrip("*").strip())
        prefix = next((p for p in ATTRIBUTE_PREFIXES if key.startswith(p)), None)
        if canonical and canonical not in headers:
            headers[canonical] = name
        elif prefix and name.strip()[len(prefix):].strip():
            # Attribute names are kept as typed: they must equal the category's own names.
            attributes.append((name.strip()[len(prefix):].strip(), name))
        else:
            ignored.append(name)
    return Columns(headers, tuple(attributes), tuple(ignored))


def reason_text(code: str, locale: str, column: str = "", **params) -> str:
    """The message for a reason code in ``locale`` (zh_Hans_CN unless "en")."""
    zh, en = REASONS.get(code, (code, code))
    if column in MAX_LENGTH or column.startswith("attr:"):
        params.setdefault("limit", MAX_LENGTH.get(column, MAX_LENGTH["attribute"]))
    if column in ("price", "reference_price"):  # shown in yuan, as typed
        params.setdefault("low", "0.01")
        params.setdefault("high", f"{RANGES['price'][1] // 100:,}")
    elif column in RANGES:
        params.setdefault("low", f"{RANGES[column][0]:,}")
        params.setdefault("high", f"{RANGES[column][1]:,}")
    try:
        return (en if locale == "en" else zh).format(**params)
    except (KeyError, IndexError):
        return en if locale == "en" else zh


_MISSING = "\x00missing"  # a key no row has: the value of a column the file lacks
_ORDER = tuple(COLUMNS)


class RowValidator:
    """Validates rows of one file; remembers the column mapping per distinct set of keys."""

    def __init__(self) -> None:
        self._columns: dict[tuple, tuple[Columns, tuple[str, ...]]] = {}

    def columns_for(self, row: dict) -> Columns:
        return self._lookup(row)[0]

    def _lookup(self, row: dict) -> tuple[Columns, tuple[str, ...]]:
        keys = tuple(row)
        found = self._columns.get(keys)
        if found is None:
            columns = resolve_columns(keys)
            found = self._columns[keys] = (
                columns, tuple(columns.headers.get(name, _MISSING) for name in _ORDER))
        return found

    def validate(self, row: dict) -> OfferInput | list[tuple[str, str]]:
        """An OfferInput, or the (column, reason code) errors of the row.

        Written flat (no helper per field) because it runs a million times per import.
        """
        if ROW_ERROR in row:
            return [("", row[ROW_ERROR])]
        columns, (h_sku, h_code, h_brand, h_model, h_title, h_price, h_reference, h_url,
                  h_date, h_stock, h_unit, h_regions, h_lead, h_warranty,
                  h_barcode) = self._lookup(row)
        get = row.get
        errors: list[tuple[str, str]] = []
        if EXTRA in row:
            errors.append(("", "extra_values"))
        sku = get(h_sku, "").strip()
        brand = get(h_brand, "").strip()
        model = get(h_model, "").strip()
        title = get(h_title, "").strip()
        for name, value in (("supplier_sku", sku), ("brand", brand), ("model", model),
                            ("title", title)):
            if not value:
                errors.append((name, "required"))
            elif len(value) > MAX_LENGTH[name]:
                errors.append((name, "too_long"))
        if model and not normalise_model(model):
            errors.append(("model", "bad_model"))
        code = get(h_code, "").strip().upper()
        if not code:
            errors.append(("category_code", "required"))
        elif not _CATEGORY.fullmatch(code):
            errors.append(("category_code", "bad_category_code"))
        price = _amount(get(h_price, "").strip(), "price", errors, required=True)
        reference = _amount(get(h_reference, "").strip(), "reference_price", errors)
        stock = _whole(get(h_stock, "").strip(), "stock", errors, None)
        lead_time = _whole(get(h_lead, "").strip(), "lead_time_days", errors, 3)
        warranty = _whole(get(h_warranty, "").strip(), "warranty_months", errors, 12)
        url = get(h_url, "").strip() or None
        if url is not None:
            if not url.startswith(("http://", "https://")) or " " in url:
                errors.append(("reference_url", "bad_url"))
            elif len(url) > MAX_LENGTH["reference_url"]:
                errors.append(("reference_url", "too_long"))
        checked_on = _date(get(h_date, "").strip(), errors)
        unit = get(h_unit, "").strip() or "个"
        if len(unit) > MAX_LENGTH["unit"]:
            errors.append(("unit", "too_long"))
        regions = _regions(get(h_regions, "").strip(), errors)
        barcode = get(h_barcode, "").strip() or None
        if barcode is not None and not _BARCODE.fullmatch(barcode):
            errors.append(("barcode", "bad_barcode"))
        attributes = {}
        for name, header in columns.attributes:
            value = get(header, "").strip()
            if value:
                if len(value) > MAX_LENGTH["attribute"]:
                    errors.append((f"attr:{name}", "too_long"))
                attributes[name] = value
        # A number left None has its error already (required, or not read).
        if errors or price is None or stock is None or lead_time is None or warranty is None:
            return errors
        return OfferInput(
            supplier_sku=sku, category_code=code, brand=brand, model=model, title=title,
            price_fen=price, stock=stock, reference_price_fen=reference, reference_url=url,
            reference_checked_on=checked_on, unit=unit, attributes=attributes,
            barcode=barcode, delivery_regions=regions, lead_time_days=lead_time,
            warranty_months=warranty)


def _amount(value: str, column: str, errors: list, *, required: bool = False) -> int | None:
    """Yuan text to integer fen through mall.core.money (Decimal, never float)."""
    if not value:
        if required:
            errors.append((column, "required"))
        return None
    try:
        fen = parse_yuan(value)
    except AmountTooLarge:
        errors.append((column, "out_of_range"))
        return None
    except ValueError as exc:
        errors.append((column, "too_many_decimals" if "decimal" in str(exc) else "not_an_amount"))
        return None
    low, high = RANGES["price"]
    if not low <= fen <= high:
        errors.append((column, "out_of_range"))
        return None
    return fen


def _whole(value: str, column: str, errors: list, default: int | None) -> int | None:
    if not value:
        if default is None:
            errors.append((column, "required"))
        return default
    value = value.replace(",", "")  # "1,000" as spreadsheets format thousands
    if not (value.isascii() and value.isdigit()):
        errors.append((column, "not_a_whole_number"))
        return None
    low, high = RANGES[column]
    # Thousands of digits would be slow to read (or refused by int()); no range is that wide.
    number = int(value) if len(value) <= 20 else high + 1
    if not low <= number <= high:
        errors.append((column, "out_of_range"))
        return None
    return number


def _date(value: str, errors: list) -> date | None:
    if not value:
        return None
    if len(value) == 10 and value[4] in "-/" and value[7] == value[4]:
        try:
            return date.fromisoformat(value.replace("/", "-"))
        except ValueError:
            pass
    errors.append(("reference_date", "bad_date"))
    return None


def _regions(value: str, errors: list) -> tuple[str, ...]:
    if not value:
        return ()
    codes = tuple(dict.fromkeys(c for c in _REGION_SPLIT.split(value) if c))
    if not all(_REGION.fullmatch(c) for c in codes):
        errors.append(("delivery_regions", "bad_regions"))
        return ()
    return codes
