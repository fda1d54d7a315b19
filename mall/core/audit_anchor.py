"""Anchors of the audit chain outside the database: each day's head, signed and published.

Someone who can write the database can edit an entry and recompute every later hash and
the head row, and the chain alone then verifies. So once a day the head (sequence number
and hash) is signed with an Ed25519 key the database does not hold and written as a file,
``<AUDIT_ANCHOR_DIR>/<day>.json`` with its detached signature ``<day>.json.sig``, which
the mall serves publicly at /audit/anchors beside the public key. Whoever downloaded an
anchor holds evidence of the chain up to that entry, and ``mall audit verify`` checks the
chain against every published anchor, so rewriting an anchored entry is caught. A file is
written once and never replaced; one whose signature fails is reported, never trusted.

Anyone can check a file with OpenSSL:
``openssl pkeyutl -verify -pubin -inkey audit-anchor-key.pem -rawin -in D.json -sigfile D.json.sig``
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from mall.core.audit import GENESIS_HASH, AuditChainHead, ChainReport, verify_chain
from mall.core.clock import now, to_local
from mall.core.errors import MallError

FORMAT = "gov-mall-audit-anchor/1"
_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")


class AnchorRefused(MallError):
    """The chain does not match its last anchor: publishing its head would bless a rewrite."""

    code = "audit_chain_broken"
    status = 409
    title = "Conflict"


@dataclass(frozen=True)
class Anchor:
    """A published head: on ``day`` the chain ended at entry ``seq`` with hash ``hash``."""

    day: date
    seq: int
    hash: str
    anchored_at: str
    file: str

    @property
    def label(self) -> str:
        return self.day.isoformat()


@dataclass(frozen=True)
class AnchorSet:
    """The published anchors whose signature holds, and the files that failed it."""

    anchors: list[Anchor]
    rejected: list[str]

    @property
    def latest(self) -> Anchor | None:
        return self.anchors[-1] if self.anchors else None


@dataclass(frozen=True)
class AnchorKeys:
    """Where anchors are signed and published (from AUDIT_* settings)."""

    signing_key_file: Path
    directory: Path
    public_key_file: Path | None = None

    @classmethod
    def from_config(cls, config) -> AnchorKeys:
        public = config.get("AUDIT_PUBLIC_KEY_FILE")
        return cls(Path(config["AUDIT_SIGNING_KEY_FILE"]), Path(config["AUDIT_ANCHOR_DIR"]),
                   Path(public) if public else None)

    def private_key(self) -> Ed25519PrivateKey:
        """The signing key, generated once into its file (mode 600) when there is none."""
        path = self.signing_key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption())
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return key

    def public_key(self) -> Ed25519PublicKey:
        """The key that checks anchors: AUDIT_PUBLIC_KEY_FILE, else the signing key's."""
        if self.public_key_file is None:
            return self.private_key().public_key()
        key = serialization.load_pem_public_key(self.public_key_file.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{self.public_key_file} does not hold an Ed25519 public key")
        return key


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, as people compare it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def anchor_file(directory: Path, name: str) -> Path | None:
    """A published file by its name (<day>.json or <day>.json.sig), None for anything else."""
    day = name.removesuffix(".sig")
    if not _DAY_FILE.match(day):
        return None
    path = directory / name
    return path if path.is_file() else None


def load_anchors(keys: AnchorKeys) -> AnchorSet:
    """Every anchor file in the folder whose signature the public key accepts, oldest first."""
    public = keys.public_key()
    anchors: list[Anchor] = []
    rejected: list[str] = []
    if not keys.directory.is_dir():
        return AnchorSet(anchors, rejected)
    for path in sorted(keys.directory.iterdir()):
        match = _DAY_FILE.match(path.name)
        if match is None:
            continue
        anchor = _read(path, match.group(1), public)
        if anchor is None:
            rejected.append(path.name)
        else:
            anchors.append(anchor)
    return AnchorSet(anchors, rejected)


def _read(path: Path, day: str, public: Ed25519PublicKey) -> Anchor | None:
    payload = path.read_bytes()
    signature = path.with_name(path.name + ".sig")
    try:
        public.verify(signature.read_bytes(), payload)
        body = json.loads(payload)
        if body.get("format") != FORMAT or body.get("day") != day:
            return None
        return Anchor(day=date.fromisoformat(day), seq=int(body["seq"]), hash=str(body["hash"]),
                      anchored_at=str(body["anchored_at"]), file=path.name)
    except (OSError, InvalidSignature, ValueError, KeyError, TypeError):
        return None


def publish_anchor(session: Session, keys: AnchorKeys, *,
                   at: datetime | None = None) -> Anchor | None:
    """Sign and write today's anchor (Asia/Shanghai day) unless it exists; None when it does.

    The chain since the last anchor is checked first: publishing the head of a chain that
    no longer matches its anchors would vouch for the rewrite (raises AnchorRefused).
    """
    moment = at or now()
    day = to_local(moment).date()
    target = keys.directory / f"{day.isoformat()}.json"
    if target.exists():
        return None
    published = load_anchors(keys)
    report = verify_chain(session, since=published.latest)
    if not report.ok:
        raise AnchorRefused(f"The audit chain is broken at entry {report.broken_seq}: "
                            f"{report.reason}")
    head = session.get(AuditChainHead, 1)
    seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    key = keys.private_key()
    anchored_at = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"format": FORMAT, "day": day.isoformat(), "seq": seq, "hash": head_hash,
            "anchored_at": anchored_at, "key_sha256": fingerprint(key.public_key())}
    payload = (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()
    keys.directory.mkdir(parents=True, exist_ok=True)
    # The signature lands first, so a reader never finds an anchor without it.
    _write_new(target.with_name(target.name + ".sig"), key.sign(payload))
    _write_new(target, payload)
    return Anchor(day=day, seq=seq, hash=head_hash, anchored_at=anchored_at, file=target.name)


def _write_new(path: Path, content: bytes) -> None:
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=".anchor-")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    os.chmod(name, 0o644)
    os.replace(name, path)


def verify_against_anchors(session: Session, keys: AnchorKeys) -> tuple[ChainReport, AnchorSet]:
    """The whole chain checked link by link and against every published anchor."""
    published = load_anchors(keys)
    return verify_chain(session, anchors=published.anchors), published


def anchor_age_days(published: AnchorSet) -> int | None:
    """Days since the newest anchor (Asia/Shanghai), None when none was published."""
    latest = published.latest
    return (to_local(now()).date() - latest.day).days if latest else None
