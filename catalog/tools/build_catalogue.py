#!/usr/bin/env python3
"""Build catalogue_2022.csv from the official 2022 catalogue text, so the data is reproducible."""

# The input is the `pdftotext -layout` rendering of the Ministry of Finance PDF
# 《政府采购品目分类目录》(2022 年印发).  The table has three columns: code, name
# (品目名称) and description (说明).  The text rendering loses the cell borders,
# so this script has to re-derive them:
#
# * Column positions move from page to page, so every page is measured on its
#   own, starting from its header row " 编  码   品目名称   说  明".
# * A name and its description are separated by a run of at least two spaces;
#   a name itself never contains such a run (pdftotext renders the few gaps
#   inside names, e.g. "医用 X 线诊断设备", as single spaces).
# * Long names wrap inside their cell.  The code is vertically centred in the
#   row, so a wrapped name may start on the line above the code line, continue
#   on the code line, and/or end on the line below.  The first line of a name is
#   indented by level, continuation lines start at the left edge of the cell.
#
# The script fails loudly if the parse is not self-consistent (a code without a
# name, a fragment that cannot be attached, a duplicate code), rather than
# writing a silently wrong file.

import argparse
import csv
import re
import sys
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO_ROOT / "catalog" / "data" / "official-2022.layout.txt"  # origin: SOURCE.md there
DEFAULT_OUTPUT = REPO_ROOT / "catalog" / "data" / "catalogue_2022.csv"

# Every table page repeats this header; the preface and the table of contents
# (which also list codes, with dotted leaders) have none, so they are skipped.
HEADER_RE = re.compile(r"^\s*编\s+码\s+品目名称\s+说\s+明\s*$")
CODE_RE = re.compile(r"^([ABC]\d{8})(?=\s|$)")
# Section rows ("A 货物", "B 工程", "C 服务") carry no code: they are the roots.
SECTION_RE = re.compile(r"^\s+[ABC]\s{2,}(货物|工程|服务)\s*$")
PAGE_NUMBER_RE = re.compile(r"^\s*\d+\s*$")
# A text segment: words separated by single spaces.  Two or more spaces mark
# a column boundary (name -> description).
SEGMENT_RE = re.compile(r"\S+(?: \S+)*")

# Descriptions start at roughly the same column on every line of a page, but
# pdftotext's character grid wobbles by a column or so, hence the tolerance.
DESC_COLUMN_TOLERANCE = 3
# Name text starts far left of the 说明 header; anything starting within this
# many columns of it is description text (used to find the description column).
DESC_SEARCH_WINDOW = 12
# Typical distance between the 说明 header and the description text, used for
# pages whose description column cannot be measured (no description lines).
DEFAULT_DESC_OFFSET = 6

SECTIONS = {"A": "货物", "B": "工程", "C": "服务"}


class ParseError(RuntimeError):
    pass


def code_level(code: str) -> int:
    """Level 1-4 from the 8 digits: XX000000, XXXX0000, XXXXXX00, XXXXXXXX."""
    digits = code[1:]
    if digits[2:] == "000000":
        return 1
    if digits[4:] == "0000":
        return 2
    if digits[6:] == "00":
        return 3
    return 4


def natural_parent(code: str) -> str | None:
    """The code one level up: zero the last two-digit group of the level."""
    level = code_level(code)
    if level == 1:
        return None
    keep = 2 * (level - 1)
    return code[0] + code[1 : 1 + keep] + "0" * (8 - keep)


def clean_name(text: str) -> str:
    # The PDF contains no space glyphs inside names: the gaps pdftotext turns
    # into spaces ("A3 黑白打印机", "合成纤维及合纤聚合物生产装 置") are only
    # typographic spacing between Latin and CJK or a stray gap, so every space
    # is dropped.  No name needs a space between two Latin words.
    return re.sub(r"\s+", "", text)


class Line:
    """One table line that holds a code and/or a fragment of a name."""

    def __init__(self, page, row, code, name, name_col):
        self.page = page
        self.row = row
        self.code = code
        self.name = name  # name fragment text on this line, or None
        self.name_col = name_col  # column where the fragment starts


def description_boundary(header: str, body: list[str]) -> int:
    """Column from which a text segment on this page counts as description."""
    desc_header_col = header.index("说")
    starts: Counter[int] = Counter()
    for text in body:
        if not text.strip() or CODE_RE.match(text) or PAGE_NUMBER_RE.match(text):
            continue
        indent = len(text) - len(text.lstrip())
        # Only lines starting near the 说明 header can be description lines;
        # wrapped name fragments start much further left.
        if indent >= desc_header_col - DESC_SEARCH_WINDOW:
            starts[indent] += 1
    if starts:
        # Most frequent start; ties go to the smaller column so the result
        # does not depend on dictionary order.
        desc_col = min(starts, key=lambda col: (-starts[col], col))
    else:
        desc_col = desc_header_col - DEFAULT_DESC_OFFSET
    return desc_col - DESC_COLUMN_TOLERANCE


def read_lines(text: str) -> tuple[list[Line], dict[int, tuple[int, int]]]:
    """Table lines of all pages in document order, reduced to code + name.

    Also returns, per page, the first and last row holding table text, to
    measure vertical distances across page breaks.
    """
    lines: list[Line] = []
    extent: dict[int, tuple[int, int]] = {}
    for page_no, page in enumerate(text.split("\f"), start=1):
        raw = page.split("\n")
        header_idx = next((i for i, t in enumerate(raw) if HEADER_RE.match(t)), None)
        if header_idx is None:
            continue  # cover, preface or table of contents
        header, body = raw[header_idx], raw[header_idx + 1 :]
        boundary = description_boundary(header, body)
        for row, text in enumerate(body):
            if not text.strip() or PAGE_NUMBER_RE.match(text):
                continue
            first, _ = extent.get(page_no, (row, row))
            extent[page_no] = (first, row)
            if SECTION_RE.match(text):
                continue
            match = CODE_RE.match(text)
            code = match.group(1) if match else None
            rest_start = match.end() if match else 0
            segments = [
                (rest_start + m.start(), m.group()) for m in SEGMENT_RE.finditer(text[rest_start:])
            ]
            # Only the first segment can be name text, and only if it starts
            # left of the description column; the rest is description.
            name = name_col = None
            if segments and segments[0][0] < boundary:
                name_col, name = segments[0]
            if code is None and name is None:
                continue  # a pure description line
            lines.append(Line(page_no, row, code, name, name_col))
    return lines, extent


def distance(a: Line, b: Line, extent: dict[int, tuple[int, int]]) -> float:
    """Vertical distance in text rows from a to b (b later in the document)."""
    if a.page == b.page:
        return b.row - a.row
    if b.page == a.page + 1:
        # A name cut by a page break: its tail opens the next page.  Count the
        # table rows left on a's page plus those above b on the next one.
        return (extent[a.page][1] - a.row) + (b.row - extent[b.page][0]) + 1
    return float("inf")


def assemble(lines: list[Line], extent: dict[int, tuple[int, int]]) -> list[tuple[str, str]]:
    """Attach every name fragment to its code; return (code, name) in order."""
    code_idx = [i for i, ln in enumerate(lines) if ln.code]
    names: dict[str, list[str]] = {}
    order: list[str] = []
    for i in code_idx:
        code = lines[i].code
        if code in names:
            raise ParseError(f"duplicate code {code} on page {lines[i].page}")
        names[code] = []
        order.append(code)

    def prev_code_line(i):
        return next((j for j in range(i - 1, -1, -1) if lines[j].code), None)

    def next_code_line(i):
        return next((j for j in range(i + 1, len(lines)) if lines[j].code), None)

    for i, ln in enumerate(lines):
        if ln.name is None:
            continue
        if ln.code:
            names[ln.code].append(ln.name)
            continue
        # An orphan fragment: either the head of the next code's name (the
        # name starts above its centred code) or the tail of the previous
        # code's name (it wraps below).
        p, n = prev_code_line(i), next_code_line(i)
        if p is None and n is None:
            raise ParseError(f"name text {ln.name!r} on page {ln.page} has no code")
        dp = distance(lines[p], ln, extent) if p is not None else float("inf")
        dn = distance(ln, lines[n], extent) if n is not None else float("inf")
        if dp == dn and n is not None and p is not None:
            # Equally close.  The first line of a name is indented, its
            # continuation lines start at the cell's left edge.  So this is the
            # head of the next name if the next code line has no name text or
            # only text further left (a continuation); otherwise the next name
            # is complete on its own line and this fragment ends the previous.
            nxt = lines[n]
            to_next = nxt.name is None or nxt.name_col < ln.name_col
        else:
            to_next = dn < dp
        if to_next:
            target = lines[n].code
            # The head goes before whatever the code line itself holds.
            names[target].insert(0, ln.name)
        else:
            target = lines[p].code
            names[target].append(ln.name)

    result = []
    for code in order:
        name = clean_name("".join(names[code]))
        if not name:
            raise ParseError(f"no name found for {code}")
        result.append((code, name))
    return result


def build_rows(entries: list[tuple[str, str]]) -> tuple[list[dict], list[str]]:
    """CSV rows with level and parent; also notes on codes whose parent skips."""
    known = {code for code, _ in entries}
    rows, notes = [], []
    for code, name in entries:
        parent = natural_parent(code)
        if parent is not None and parent not in known:
            # Fall back to the nearest ancestor that exists.
            ancestor: str | None = parent
            while ancestor is not None and ancestor not in known:
                ancestor = natural_parent(ancestor)
            notes.append(f"{code}: parent {parent} missing, using {ancestor}")
            parent = ancestor
        rows.append(
            {
                "code": code,
                "name": name,
                "level": code_level(code),
                "parent_code": parent or "",
                "section": code[0],
            }
        )
    return rows, notes


def write_csv(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(
            fh,
            fieldnames=["code", "name", "level", "parent_code", "section"],
            lineterminator="\n",
        )
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE,
        help="pdftotext -layout text of the official PDF",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="CSV file to write")
    args = parser.parse_args(argv)

    text = args.source.read_text(encoding="utf-8")
    entries = assemble(*read_lines(text))
    rows, notes = build_rows(entries)
    write_csv(rows, args.output)

    for note in notes:
        print("note:", note, file=sys.stderr)
    counts = Counter((r["section"], r["level"]) for r in rows)
    print(f"wrote {len(rows)} codes to {args.output}")
    for section in sorted(SECTIONS):
        per_level = ", ".join(f"L{lv}={counts[(section, lv)]}" for lv in range(1, 5))
        total = sum(counts[(section, lv)] for lv in range(1, 5))
        print(f"  {section} {SECTIONS[section]}: {total} ({per_level})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
