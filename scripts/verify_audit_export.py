#!/usr/bin/env python3
"""Check an audit trail export of the government mall (JSON Lines, /admin/audit/export.jsonl)
without the mall: Python's standard library only.

    python3 verify_audit_export.py audit-export.jsonl

For every sealed entry it recomputes the hash from the entry's content and its previous hash
(sha256(prev_hash + content), the mall's formula) and compares it with the hash exported.
Where two exported entries have consecutive sequence numbers it checks that the later one
links to the earlier (its prev_hash is the earlier's hash). An entry whose sequence number is
an anchor's must carry that anchor's hash. A filtered export has gaps between sequence
numbers: what lies in a gap is not checked, and the report says how many links were.

It does not check the anchors' Ed25519 signatures (the standard library has no Ed25519);
write each anchor's "payload" and "signature_base64" (decoded) to files and run
``openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in DAY.json -sigfile DAY.json.sig``
with the exported public key, or compare them with the files the mall publishes at
/audit/anchors.

Exit status 0: every check passed; 1: something is broken (each finding printed); 2: the file
is not an export.
"""

from __future__ import annotations

import hashlib
import json
import sys

FORMAT = "gov-mall-audit-export/1"
FIELDS = ("seq", "occurred_at", "action", "object_type", "object_id", "actor_user_id",
          "actor_organisation_id", "ip_address", "data")


def content(entry: dict) -> str:
    """The canonical text an entry's hash covers."""
    return json.dumps([entry[name] for name in FIELDS], ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def entry_hash(entry: dict) -> str:
    return hashlib.sha256((entry["prev_hash"] + content(entry)).encode()).hexdigest()


def check(lines: list[str]) -> tuple[list[str], list[str]]:
    """(findings, summary lines) of an export's text lines."""
    records = [json.loads(line) for line in lines if line.strip()]
    if not records or records[0].get("type") != "export" or records[0].get("format") != FORMAT:
        raise ValueError("not an audit export of the mall (no export header)")
    anchors = {r["seq"]: r for r in records if r.get("type") == "anchor"}
    entries = [r for r in records if r.get("type") == "entry"]
    sealed = sorted((e for e in entries if e.get("seq") is not None), key=lambda e: e["seq"])
    findings: list[str] = []
    for entry in sealed:
        if not isinstance(entry.get("prev_hash"), str) or entry_hash(entry) != entry.get("hash"):
            findings.append(f"entry {entry['seq']} (id {entry.get('id')}): its content does not "
                            f"match its hash: altered after sealing")
    links = 0
    for earlier, later in zip(sealed, sealed[1:], strict=False):
        if later["seq"] == earlier["seq"] + 1:
            links += 1
            if later["prev_hash"] != earlier["hash"]:
                findings.append(f"entry {later['seq']} does not link to entry {earlier['seq']}")
        elif later["seq"] == earlier["seq"]:
            findings.append(f"entry {later['seq']} appears twice")
    matched = 0
    for entry in sealed:
        anchor = anchors.get(entry["seq"])
        if anchor is not None:
            matched += 1
            if anchor.get("hash") != entry["hash"]:
                findings.append(f"entry {entry['seq']} does not match the anchor of "
                                f"{anchor.get('day')}: the chain was rewritten")
    for anchor in anchors.values():
        payload = anchor.get("payload")
        if payload is not None:
            body = json.loads(payload)
            if body.get("seq") != anchor.get("seq") or body.get("hash") != anchor.get("hash"):
                findings.append(f"the anchor of {anchor.get('day')} differs from its signed file")
    unsealed = len(entries) - len(sealed)
    header = records[0]
    run = "a contiguous run" if header.get("contiguous") else "a filtered slice: gaps not checked"
    summary = [f"{len(sealed)} sealed entries: each hash recomputed from its content",
               f"{links} links between consecutive entries checked ({run})",
               f"{matched} entries checked against {len(anchors)} published anchors "
               f"(signatures: check with OpenSSL)"]
    if unsealed:
        summary.append(f"{unsealed} entries not sealed yet: nothing to check")
    if header.get("truncated"):
        summary.append("the export was cut at its limit: narrow the filter for the rest")
    return findings, summary


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: verify_audit_export.py EXPORT.jsonl", file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as handle:
            findings, summary = check(handle.readlines())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot check {argv[1]}: {exc}", file=sys.stderr)
        return 2
    for line in summary:
        print(line)
    for finding in findings:
        print(f"BROKEN: {finding}")
    print("OK" if not findings else f"BROKEN: {len(findings)} findings")
    return 0 if not findings else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
