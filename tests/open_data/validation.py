"""Validate OCDS packages against the copied 1.1.5 schemas (open_data/schema), with format
checks and every codelist the schema names (closed ones strictly, open ones too except the
item classification scheme we add)."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

import open_data
from open_data.common import ITEM_SCHEME

SCHEMA_DIR = Path(open_data.__file__).parent / "schema"
# Codes we use beyond an open codelist, each documented in open_data/common.py.
EXTENDED = {("itemClassificationScheme.csv", ITEM_SCHEME)}
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")


def _load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def date_time(text: object) -> bool:
        if not isinstance(text, str):
            return True
        if not RFC3339.fullmatch(text):
            raise ValueError(f"{text!r} is not RFC 3339")
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return True

    @checker.checks("uri")
    def uri(text: object) -> bool:
        return not isinstance(text, str) or bool(URI.fullmatch(text))

    return checker


@cache
def _validators() -> dict[str, Draft4Validator]:
    documents = [_load(name) for name in ("release-schema.json", "release-package-schema.json",
                                          "record-package-schema.json",
                                          "versioned-release-validation-schema.json")]
    registry: Registry = Registry().with_resources(
        (document["id"], Resource.from_contents(document, default_specification=DRAFT4))
        for document in documents)
    checker = _format_checker()
    return {kind: Draft4Validator(documents[index], registry=registry, format_checker=checker)
            for kind, index in (("release", 0), ("release-package", 1), ("record-package", 2))}


@cache
def codelist(name: str) -> frozenset[str]:
    with (SCHEMA_DIR / "codelists" / name).open(encoding="utf-8") as handle:
        return frozenset(row["Code"] for row in csv.DictReader(handle))


def codelist_errors(release: dict[str, Any]) -> list[str]:
    """Values of codelist fields not in their CSV, walking the release with its schema."""
    schema = _load("release-schema.json")
    definitions = schema["definitions"]
    errors: list[str] = []

    def visit(data: Any, node: dict[str, Any], path: str) -> None:
        if "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[-1]]
        if data is None:
            return
        if "codelist" in node:
            for code in data if isinstance(data, list) else [data]:
                if code not in codelist(node["codelist"]) and (node["codelist"], code) \
                        not in EXTENDED:
                    errors.append(f"{path}: {code!r} not in {node['codelist']}")
        if isinstance(data, dict):
            for key, item in data.items():
                if key in node.get("properties", {}):
                    visit(item, node["properties"][key], f"{path}/{key}")
        elif isinstance(data, list) and isinstance(node.get("items"), dict):
            for index, item in enumerate(data):
                visit(item, node["items"], f"{path}/{index}")

    visit(release, schema, "")
    return errors


def package_errors(document: dict[str, Any], kind: str) -> list[str]:
    """Every schema, format and codelist error of a release or record package."""
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in _validators()[kind].iter_errors(document)]
    releases = list(document.get("releases", []))
    for record in document.get("records", []):
        releases += [*record["releases"], record["compiledRelease"]]
    for release in releases:
        errors += [f"{release.get('id')}: {e}" for e in codelist_errors(release)]
    return errors


def assert_valid(document: dict[str, Any], kind: str) -> None:
    errors = package_errors(document, kind)
    assert errors == [], "\n".join(errors[:30])
