"""The audit viewer's search: filters typed by a person (who acted, their organisation, the
object by its id or number, the event, local dates), pages of 50 newest first (keyset on the
entry id), the names of people, organisations and objects instead of ids, and the export of a
filtered slice with its hashes and the published anchors (JSON Lines) for an outside check
with scripts/verify_audit_export.py."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bidding_rounds.models import BiddingRound
from catalog.models import Offer, Product
from financing.models import Loan
from mall.accounts.models import Organisation, User
from mall.core.audit import AuditChainHead, AuditEvent, exported_entry
from mall.core.audit_anchor import AnchorSet
from mall.core.audit_labels import ACTION_LABELS, OBJECT_LABELS
from mall.core.clock import SHANGHAI, now
from mall.core.inputs import MAX_ID
from mall.i18n_messages import N_
from mall.purchasing.orders.models import Order

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000
EXPORT_FORMAT = "gov-mall-audit-export/1"
MAX_TEXT = 100
# Objects a person may name by their number (or login, name, credit code) instead of an id.
BY_NUMBER: dict[str, tuple[Any, Any]] = {
    "order": (Order, Order.number), "bidding_round": (BiddingRound, BiddingRound.number),
    "finance_loan": (Loan, Loan.number)}


@dataclass
class AuditFilters:
    """The filters as understood: ids resolved, dates as UTC bounds."""

    actor: str = ""
    organisation: str = ""
    object_type: str = ""
    object_ref: str = ""
    action: str = ""
    date_from: str = ""
    date_to: str = ""
    user_ids: list[int] | None = None
    organisation_ids: list[int] | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as typed, for links and the export (empty ones left out)."""
        return {k: v for k, v in (("actor", self.actor), ("organisation", self.organisation),
                                  ("object_type", self.object_type),
                                  ("object_ref", self.object_ref), ("action", self.action),
                                  ("date_from", self.date_from), ("date_to", self.date_to))
                if v}


def parse_filters(session: Session, args: Mapping[str, str]
                  ) -> tuple[AuditFilters, dict[str, list[str]]]:
    """Read the filters typed into the form; a value that cannot be used is a field error."""
    errors: dict[str, list[str]] = {}
    def typed(name: str) -> str:
        return (args.get(name) or "").strip()[:200]

    f = AuditFilters(actor=typed("actor"), organisation=typed("organisation"),
                     object_type=typed("object_type"), object_ref=typed("object_ref"),
                     action=typed("action"), date_from=typed("date_from"),
                     date_to=typed("date_to"))
    for name in ("actor", "organisation", "object_ref"):
        if len(getattr(f, name)) > MAX_TEXT:
            errors[name] = [N_("Type at most 100 characters.")]
    if f.actor and "actor" not in errors:
        f.user_ids = list(session.scalars(select(User.id).where(or_(
            User.login == f.actor, User.display_name.contains(f.actor, autoescape=True)))
            .limit(500)))
        if not f.user_ids:
            errors["actor"] = [N_("No person has this name or login.")]
    if f.organisation and "organisation" not in errors:
        f.organisation_ids = list(session.scalars(select(Organisation.id).where(or_(
            Organisation.credit_code == f.organisation,
            Organisation.name.contains(f.organisation, autoescape=True))).limit(500)))
        if not f.organisation_ids:
            errors["organisation"] = [N_("No organisation has this name or credit code.")]
    if f.object_type and f.object_type not in OBJECT_LABELS:
        errors["object_type"] = [N_("Choose a kind of object from the list.")]
    elif f.object_ref and "object_ref" not in errors:
        if not f.object_type:
            errors["object_type"] = [N_("Choose the kind of object the number belongs to.")]
        else:
            f.object_id = _object_id(session, f.object_type, f.object_ref)
            if f.object_id is None:
                errors["object_ref"] = [N_("Nothing of this kind has this id or number.")]
    if f.action and f.action not in ACTION_LABELS:
        errors["action"] = [N_("Choose an event from the list.")]
    since = _day(f.date_from, "date_from", errors)
    until = _day(f.date_to, "date_to", errors)
    if since and until and until < since:
        errors["date_to"] = [N_("The end date comes before the start date.")]
    f.since = _utc_start(since) if since else None
    f.until = _utc_start(until + timedelta(days=1)) if until else None
    before = (args.get("before") or "").strip()
    # ASCII digits only: str.isdigit() also accepts "²" and "①", which int() refuses.
    f.before = (int(before) if before.isascii() and before.isdigit() and 0 < int(before) <= MAX_ID
                else None)
    return f, errors


def _day(text: str, name: str, errors: dict[str, list[str]]) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100 or len(text) != 10:
        errors[name] = [N_("Enter a date as 2026-03-14.")]
        return None
    return day


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)


def _object_id(session: Session, object_type: str, ref: str) -> str | None:
    """The id an object is recorded under, from its id or its number (login, name …)."""
    if object_type in BY_NUMBER:
        model, number = BY_NUMBER[object_type]
        found = session.scalar(select(model.id).where(number == ref))
        if found is not None:
            return str(found)
    elif object_type == "user":
        found = session.scalar(select(User.id).where(User.login == ref))
        if found is not None:
            return str(found)
    elif object_type == "organisation":
        found = session.scalar(select(Organisation.id).where(
            or_(Organisation.credit_code == ref, Organisation.name == ref)))
        if found is not None:
            return str(found)
    if ref.isdigit() and len(ref) <= 18:
        return ref  # an id: whether entries exist is what the search says
    exists = session.scalar(select(AuditEvent.id).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == ref).limit(1))
    return ref if exists is not None else None


def _conditions(f: AuditFilters) -> list[Any]:
    where: list[Any] = []
    if f.user_ids is not None:
        where.append(AuditEvent.actor_user_id.in_(f.user_ids))
    if f.organisation_ids is not None:
        where.append(AuditEvent.actor_organisation_id.in_(f.organisation_ids))
    if f.object_type:
        where.append(AuditEvent.object_type == f.object_type)
    if f.object_id is not None:
        where.append(AuditEvent.object_id == f.object_id)
    if f.action:
        where.append(AuditEvent.action == f.action)
    if f.since is not None:
        where.append(AuditEvent.occurred_at >= f.since)
    if f.until is not None:
        where.append(AuditEvent.occurred_at < f.until)
    return where


@dataclass
class AuditPage:
    """A page of entries, newest first, the names to show and the id to page on from."""

    rows: list[AuditEvent]
    names: dict[str, dict[Any, str]] = field(default_factory=dict)
    next_before: int | None = None


def search(session: Session, f: AuditFilters, *, limit: int = PAGE_SIZE) -> AuditPage:
    """One page of the entries the filters find, newest first."""
    where = _conditions(f)
    if f.before is not None:
        where.append(AuditEvent.id < f.before)
    rows = list(session.scalars(select(AuditEvent).where(*where)
                                .order_by(AuditEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, describe(session, rows), rows[-1].id if more and rows else None)


def describe(session: Session, rows: list[AuditEvent]) -> dict[str, dict[Any, str]]:
    """People's and organisations' names, and objects' numbers or names, for a page."""
    users = {u for e in rows for u in ([e.actor_user_id] if e.actor_user_id else [])}
    orgs = {e.actor_organisation_id for e in rows if e.actor_organisation_id}
    wanted: dict[str, set[int]] = {}
    for e in rows:
        if e.object_id.isdigit() and len(e.object_id) <= 18:
            wanted.setdefault(e.object_type, set()).add(int(e.object_id))
    users |= wanted.get("user", set())
    orgs |= wanted.get("organisation", set())
    people = {i: f"{name} ({login})" for i, name, login in session.execute(
        select(User.id, User.display_name, User.login).where(User.id.in_(users))).all()}
    organisations = dict(session.execute(select(Organisation.id, Organisation.name)
                                         .where(Organisation.id.in_(orgs))).all())
    objects: dict[Any, str] = {}
    for kind, (model, number) in BY_NUMBER.items():
        if wanted.get(kind):
            objects.update({(kind, str(i)): n for i, n in session.execute(
                select(model.id, number).where(model.id.in_(wanted[kind]))).all()})
    if wanted.get("offer"):
        objects.update({("offer", str(i)): f"{title} · {sku}" for i, title, sku in session.execute(
            select(Offer.id, Product.title, Offer.supplier_sku)
            .join(Product, Product.id == Offer.product_id)
            .where(Offer.id.in_(wanted["offer"]))).all()})
    objects.update({("user", str(i)): text for i, text in people.items()
                    if i in wanted.get("user", set())})
    objects.update({("organisation", str(i)): text for i, text in organisations.items()
                    if i in wanted.get("organisation", set())})
    return {"people": people, "organisations": organisations, "objects": objects}


def export_lines(session: Session, f: AuditFilters, published: AnchorSet, anchor_dir: Path,
                 public_key_pem: bytes, filters_text: Mapping[str, str]) -> Iterator[str]:
    """The filtered slice as JSON Lines, oldest first: a header saying what can be checked,
    the published anchors (their signed files and signatures) and the public key, then each
    entry with its content, previous hash and hash."""
    where = _conditions(f)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    head = session.get(AuditChainHead, 1)
    seqs = [int(seq) for seq in session.scalars(
        select(AuditEvent.seq).where(*where, AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq).limit(EXPORT_LIMIT)) if seq is not None]
    yield _line({
        "type": "export", "format": EXPORT_FORMAT,
        "exported_at": now().strftime("%Y-%m-%dT%H:%M:%SZ"), "filters": dict(filters_text),
        "entries": min(total, EXPORT_LIMIT), "truncated": total > EXPORT_LIMIT,
        "contiguous": bool(seqs) and seqs[-1] - seqs[0] + 1 == len(seqs),
        "chain_head": {"seq": head.seq, "hash": head.hash} if head else None,
        "hash": HASH_FORMULA, "checkable": CHECKABLE})
    for anchor in published.anchors:
        yield _line({"type": "anchor", "day": anchor.label, "seq": anchor.seq,
                     "hash": anchor.hash, "anchored_at": anchor.anchored_at, "file": anchor.file,
                     "payload": _read_text(anchor_dir / anchor.file),
                     "signature_base64": _read_base64(anchor_dir / (anchor.file + ".sig"))})
    yield _line({"type": "public_key", "pem": public_key_pem.decode()})
    last, sent = 0, 0
    while sent < EXPORT_LIMIT:
        batch = list(session.scalars(select(AuditEvent).where(*where, AuditEvent.id > last)
                                     .order_by(AuditEvent.id)
                                     .limit(min(1000, EXPORT_LIMIT - sent))))
        for event in batch:
            yield _line({"type": "entry", **exported_entry(event)})
        if not batch:
            break
        sent += len(batch)
        last = batch[-1].id


HASH_FORMULA = ("sha256(prev_hash + content), content = JSON of [seq, occurred_at, action, "
                "object_type, object_id, actor_user_id, actor_organisation_id, ip_address, "
                "data], keys sorted, separators ',' and ':', non-ASCII kept, UTF-8")
CHECKABLE = ("Each sealed entry's hash is recomputed from its content and previous hash. Links "
             "between entries are checked where their sequence numbers follow each other; a "
             "filtered slice has gaps, and what lies in a gap is not checked. An entry whose "
             "sequence number is an anchor's must have the anchor's hash; the anchors' "
             "signatures are checked with OpenSSL and the public key. Unsealed entries have "
             "no hash yet.")


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _read_base64(path: Path) -> str | None:
    try:
        return base64.b64encode(path.read_bytes()).decode()
    except OSError:
        return None


def _line(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) + "\n"
