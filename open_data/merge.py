"""Compiling a record: the releases of one ocid merged, oldest first, into its current state.

The OCDS merge, simplified to what the mall's releases hold: a later release's field replaces
the earlier one; objects merge field by field; arrays of objects that all carry an ``id``
merge by id (a new id is appended in order); any other array is replaced whole; a ``null``
removes the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from typing import Any

from open_data.common import Release


def _identified(value: Any) -> bool:
    return (isinstance(value, list) and bool(value)
            and all(isinstance(entry, dict) and "id" in entry for entry in value))


def _merge(base: dict[str, Any], update: dict[str, Any]) -> None:
    for key, new in update.items():
        old = base.get(key)
        if new is None:
            base.pop(key, None)
        elif isinstance(new, dict) and isinstance(old, dict):
            _merge(old, new)
        elif isinstance(old, list) and _identified(new) and _identified(old):
            by_id = {entry["id"]: entry for entry in old}
            for entry in new:
                if entry["id"] in by_id:
                    _merge(by_id[entry["id"]], entry)
                else:
                    copied = deepcopy(entry)
                    old.append(copied)
                    by_id[entry["id"]] = copied
        else:
            base[key] = deepcopy(new)


def compile_release(releases: Sequence[Release]) -> Release:
    """The compiled release of one ocid's releases (given oldest first)."""
    compiled: Release = {}
    for entry in releases:
        _merge(compiled, {k: v for k, v in entry.items() if k not in {"id", "tag", "date"}})
    last = releases[-1]
    compiled.update({"id": f"{last['ocid']}-compiled", "date": last["date"], "tag": ["compiled"]})
    return compiled
