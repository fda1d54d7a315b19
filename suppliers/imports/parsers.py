"""Streaming readers of uploaded offer files (CSV, XLSX, JSON Lines): one row at a time.

Files run to a million rows, so nothing here reads a file whole: CSV and JSON Lines are
read line by line, XLSX through openpyxl's read-only mode. Every reader yields
``(row_number, {header: text})`` where the row number is what the supplier sees in
their spreadsheet (the header is row 1) or their editor (JSON Lines line numbers), and
every value is text, so validation has one input type whatever the file format.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from mall.core.errors import MallError

FORMATS = {"csv": "csv", "xlsx": "xlsx", "jsonl": "jsonl", "ndjson": "jsonl"}
ROW_ERROR = "\x00error"  # key of a row the reader could not decode; its value is a reason code
EXTRA = "\x00extra"  # key holding the non-empty values found beyond the last header column
_SNIFF_BYTES = 1 << 16
_COUNT_CHUNK = 1 << 22
_ATTRIBUTE_OBJECTS = ("attributes", "属性")


class UnreadableFile(MallError):
    """The file cannot be read as the format its name claims (encoding, broken archive …)."""

    code = "unreadable_file"
    status = 422
    title = "Unreadable file"


@dataclass
class RowSource:
    """An opened file: its header (None for JSON Lines), a row estimate and the rows."""

    header: list[str] | None
    estimated_rows: int
    rows: Iterator[tuple[int, dict]]


def file_format(filename: str) -> str | None:
    """The format an uploaded file's extension names, or None if we do not read it."""
    return FORMATS.get(filename.rsplit(".", 1)[-1].lower()) if "." in filename else None


@contextlib.contextmanager
def open_rows(path: Path, fmt: str) -> Iterator[RowSource]:
    """Open ``path`` as ``fmt`` and yield its header and a lazy iterator of rows."""
    if fmt == "xlsx":
        with _open_xlsx(path) as source:
            yield source
        return
    if fmt == "csv":
        encoding = csv_encoding(path)
    elif fmt == "jsonl":
        encoding = "utf-8-sig"
    else:
        raise UnreadableFile(f"Unsupported format {fmt!r}.", code="unsupported_format")
    estimate = _count_lines(path)
    with path.open(encoding=encoding, newline="" if fmt == "csv" else None) as handle:
        if fmt == "csv":
            reader = csv.reader(handle)
            header, consumed = _csv_header(reader)
            yield RowSource(header, max(estimate - consumed, 0),
                            _csv_rows(reader, header, consumed))
        else:
            yield RowSource(None, estimate, _jsonl_rows(handle))


def csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030, which Chinese Excel writes; judged on the head."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnreadableFile("The file is neither UTF-8 nor GB18030 text.", code="bad_encoding")


def _count_lines(path: Path) -> int:
    """Newlines in the file: a cheap row estimate for the progress bar (quoted breaks aside)."""
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(_COUNT_CHUNK):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _unique_header(values: list) -> list[str]:
    """Header names as given, made unique so no column's value overwrites another's."""
    names: list[str] = []
    seen: set[str] = set()
    for index, value in enumerate(values, 1):
        name = _text(value).strip().lstrip("\ufeff") or f"#{index}"
        if name in seen:
            name = f"{name} #{index}"
        seen.add(name)
        names.append(name)
    return names


def _csv_header(reader) -> tuple[list[str], int]:
    consumed = 0
    for values in _guard(reader):
        consumed += 1
        if any(v.strip() for v in values):
            return _unique_header(values), consumed
    return [], consumed


def _csv_rows(reader, header: list[str], number: int) -> Iterator[tuple[int, dict]]:
    """Data rows numbered as records (a quoted line break stays in its row, as in Excel)."""
    width = len(header)
    for values in _guard(reader):
        number += 1
        if not any(values):
            continue
        row = dict(zip(header, values, strict=False))
        if len(values) > width:
            extra = [v for v in values[width:] if v.strip()]
            if extra:
                row[EXTRA] = extra
        yield number, row


def _guard(iterable):
    """Turn decoding and CSV syntax errors half way through into UnreadableFile."""
    try:
        yield from iterable
    except UnicodeDecodeError as exc:
        raise UnreadableFile("The file is neither UTF-8 nor GB18030 text.",
                             code="bad_encoding") from exc
    except csv.Error as exc:
        raise UnreadableFile(f"Broken CSV: {exc}", code="bad_csv") from exc


def _text(value) -> str:
    """A cell or JSON value as the text a person typed (never through float arithmetic)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        # Excel stores numbers as doubles; the shortest repr is the decimal the user typed.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


@contextlib.contextmanager
def _open_xlsx(path: Path) -> Iterator[RowSource]:
    import openpyxl

    with _xlsx_guard():
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        with _xlsx_guard():
            sheet = workbook.worksheets[0]
            estimate = sheet.max_row or 0
            # Some writers record wrong dimensions; read to the real end instead.
            sheet.reset_dimensions()
            rows = enumerate(_guarded_rows(sheet.iter_rows(values_only=True)), 1)
            header: list[str] = []
            header_row = 0
            for number, values in rows:
                if any(_text(v).strip() for v in values):
                    header, header_row = _unique_header(list(values)), number
                    break
        yield RowSource(header, max(estimate - header_row, 0), _xlsx_rows(rows, header))
    finally:
        workbook.close()


@contextlib.contextmanager
def _xlsx_guard() -> Iterator[None]:
    """Any failure inside openpyxl is a file that is not the workbook its name claims.

    A zip of garbage named .xlsx fails in openpyxl's XML parsing (ParseError), its part
    lookup (IndexError, KeyError) or its cell reading, in ways that change between versions;
    none of them is our fault, so all of them are reported as ``bad_xlsx``.
    """
    try:
        yield
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001
        raise UnreadableFile("Not an Excel workbook (.xlsx).", code="bad_xlsx") from exc


def _guarded_rows(rows: Iterator) -> Iterator:
    with _xlsx_guard():
        yield from rows


def _xlsx_rows(rows, header: list[str]) -> Iterator[tuple[int, dict]]:
    width = len(header)
    for number, values in rows:
        texts = [_text(v) for v in values]
        if not any(t.strip() for t in texts):
            continue
        row: dict[str, str | list[str]] = dict(zip(header, texts, strict=False))
        if len(texts) > width:
            extra = [t for t in texts[width:] if t.strip()]
            if extra:
                row[EXTRA] = extra
        yield number, row


def _jsonl_rows(handle) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(_guard(handle), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line, parse_float=Decimal)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            yield number, {ROW_ERROR: "bad_json"}
            continue
        if not isinstance(data, dict):
            yield number, {ROW_ERROR: "bad_json"}
            continue
        row: dict = {}
        for key, value in data.items():
            if key in _ATTRIBUTE_OBJECTS and isinstance(value, dict):
                row.update({f"attr:{name}": _text(v) for name, v in value.items()})
            else:
                row[key] = _text(value)
        yield number, row
