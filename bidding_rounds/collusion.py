"""Collusion signals (串通投标迹象) of closed rounds, for the supervisor to look at; they block
nothing by themselves (docs/domain.md: Supervision).

Within a round: suppliers that quoted from one client IP or one device, or that share a
contact phone or e-mail, a legal representative or a controlling shareholder; identical
totals; three or more totals at a fixed step from each other. Across a unit's recent rounds:
the same three suppliers quoting together in three or more rounds with the win going round
among them. Everything is computed per batch of rounds the closing sweep just closed, with a
fixed number of queries per batch (10,000 rounds close at once in the benchmark)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bidding_rounds.models import (
    BiddingRound,
    CollusionSignal,
    Quote,
    QuoteSubmission,
    RoundStatus,
)
from mall.accounts.models import Organisation
from mall.core.auth import OVERSIGHT_STAFF, Actor
from mall.core.clock import now
from mall.core.errors import NotFound
from mall.i18n_messages import N_
from suppliers.models import SupplierProfile

# Kind -> its name on the supervisor's page.
KINDS = {
    "shared_ip": N_("Same client IP address"),
    "shared_device": N_("Same device fingerprint"),
    "shared_phone": N_("Same contact phone"),
    "shared_email": N_("Same contact e-mail"),
    "shared_legal_representative": N_("Same legal representative"),
    "shared_shareholder": N_("Same controlling shareholder"),
    "same_totals": N_("Identical quoted totals"),
    "fixed_step": N_("Totals at a fixed step from each other"),
    "rotating_winners": N_("Winners rotating within a group"),
}
MIN_STEP_QUOTES = 3
ROTATION_GROUP = 3  # suppliers quoting together (up to MAX_GROUP) ...
MAX_GROUP = 5
ROTATION_ROUNDS = 3  # ... in at least this many of the unit's rounds
RECENT_ROUNDS = 12  # the unit's rounds the rotation check looks at
RECENT_DAYS = 365
MAX_FREQUENT = 10  # suppliers considered for groups per unit (582 groups at most)
WON = (RoundStatus.AWARDED, RoundStatus.CONFIRMED)


def _key(text: str | None) -> str:
    return "".join((text or "").split()).casefold()


def _shared(kind: str, values: Iterable[tuple[int, str | None]]) -> list[tuple[str, list[int],
                                                                              dict[str, Any]]]:
    """Groups of two or more suppliers sharing one (normalised) value."""
    groups: dict[str, set[int]] = defaultdict(set)
    shown: dict[str, str] = {}
    for supplier_id, value in values:
        key = _key(value)
        if key:
            groups[key].add(supplier_id)
            shown.setdefault(key, (value or "").strip())
    return [(kind, sorted(ids), {"value": shown[key]})
            for key, ids in sorted(groups.items()) if len(ids) > 1]


def fixed_step(totals: Sequence[tuple[int, int]]) -> tuple[int, list[tuple[int, int]]] | None:
    """The longest run of three or more distinct totals at one step from each other
    ((supplier, total) pairs): (step, members in ascending total), or None."""
    by_total: dict[int, int] = {}
    for supplier_id, total in sorted(totals, key=lambda p: (p[1], p[0])):
        by_total.setdefault(total, supplier_id)
    values = sorted(by_total)
    best: list[int] = []
    for i, j in itertools.combinations(range(len(values)), 2):
        step = values[j] - values[i]
        run = [values[i], values[j]]
        while run[-1] + step in by_total:
            run.append(run[-1] + step)
        if len(run) > len(best) or (len(run) == len(best) and run < best):
            best = run
    if len(best) < MIN_STEP_QUOTES:
        return None
    return best[1] - best[0], [(by_total[v], v) for v in best]


def round_signals(quotes: Sequence[Quote], submissions: Sequence[tuple[int, str | None,
                                                                       str | None]],
                  profiles: Mapping[int, SupplierProfile]) -> list[tuple[str, list[int],
                                                                         dict[str, Any]]]:
    """The signals of one round: (kind, supplier ids, evidence) for each pattern found.
    ``submissions`` are (supplier id, client IP, device fingerprint) of every submission."""
    if len({q.supplier_id for q in quotes}) < 2:
        return []
    suppliers = sorted({q.supplier_id for q in quotes})
    found = _shared("shared_ip", ((s, ip) for s, ip, _fp in submissions))
    found += _shared("shared_device", ((s, fp) for s, _ip, fp in submissions))
    own = [(s, profiles[s]) for s in suppliers if s in profiles]
    found += _shared("shared_phone", ((s, p.contact_phone) for s, p in own))
    found += _shared("shared_email", ((s, p.contact_email) for s, p in own))
    found += _shared("shared_legal_representative", ((s, p.legal_representative) for s, p in own))
    found += _shared("shared_shareholder", ((s, p.controlling_shareholder) for s, p in own))
    by_total: dict[int, list[int]] = defaultdict(list)
    for q in quotes:
        by_total[q.total_fen].append(q.supplier_id)
    found += [("same_totals", sorted(ids), {"total_fen": total})
              for total, ids in sorted(by_total.items()) if len(ids) > 1]
    step = fixed_step([(q.supplier_id, q.total_fen) for q in quotes])
    if step is not None:
        found.append(("fixed_step", [s for s, _t in step[1]],
                      {"step_fen": step[0], "totals_fen": [t for _s, t in step[1]]}))
    return found


@dataclass(frozen=True)
class PastRound:
    id: int
    number: str
    closed_at: datetime
    quoters: frozenset[int]
    winner: int


def rotations(history: Sequence[PastRound], fresh: set[int]) -> list[tuple[list[int],
                                                                          dict[str, Any]]]:
    """Groups of three to five suppliers that quoted together in three or more of the unit's rounds
    (``history``, oldest first) whose wins went round among them: every win in the group,
    each member winning, never the same winner twice in a row. Reported when a round just
    closed (``fresh``) extends the pattern, so each closing says it once."""
    counts: dict[int, int] = defaultdict(int)
    for past in history:
        for supplier_id in past.quoters:
            counts[supplier_id] += 1
    frequent = sorted((s for s, n in counts.items() if n >= ROTATION_ROUNDS),
                      key=lambda s: (-counts[s], s))[:MAX_FREQUENT]
    found = []
    groups = itertools.chain.from_iterable(
        itertools.combinations(sorted(frequent), size)
        for size in range(ROTATION_GROUP, MAX_GROUP + 1))
    for group in groups:
        members = set(group)
        together = [p for p in history if members <= p.quoters]
        if len(together) < ROTATION_ROUNDS or together[-1].id not in fresh:
            continue
        winners = [p.winner for p in together]
        if set(winners) != members:
            continue
        if any(a == b for a, b in itertools.pairwise(winners)):
            continue
        found.append((list(group), {"rounds": [p.number for p in together],
                                    "winners": winners}))
    return found


def record_signals(session: Session, rounds: Sequence[BiddingRound],
                   quotes: Mapping[int, Sequence[Quote]],
                   profiles: Mapping[int, SupplierProfile]) -> None:
    """Record the signals found among the quotes of rounds just closed (the closing sweep
    calls this once per batch), and the rotation of winners across each unit's rounds."""
    moment = now()
    quote_supplier = {q.id: q.supplier_id for qs in quotes.values() for q in qs}
    quote_round = {q.id: q.round_id for qs in quotes.values() for q in qs}
    submissions: dict[int, list[tuple[int, str | None, str | None]]] = defaultdict(list)
    if quote_supplier:
        for quote_id, ip, fingerprint in session.execute(
                select(QuoteSubmission.quote_id, QuoteSubmission.client_ip,
                       QuoteSubmission.device_fingerprint)
                .where(QuoteSubmission.quote_id.in_(list(quote_supplier)))):
            submissions[quote_round[quote_id]].append((quote_supplier[quote_id], ip,
                                                       fingerprint))
    rows: list[dict[str, Any]] = []
    for bidding_round in rounds:
        for kind, supplier_ids, evidence in round_signals(
                quotes.get(bidding_round.id, ()), submissions[bidding_round.id], profiles):
            rows.append({"round_id": bidding_round.id, "buyer_org_id": bidding_round.buyer_org_id,
                         "kind": kind, "supplier_ids": supplier_ids, "evidence": evidence,
                         "found_at": moment})
    rows += _rotation_rows(session, rounds, moment)
    if rows:
        session.execute(insert(CollusionSignal), rows)


def _rotation_rows(session: Session, rounds: Sequence[BiddingRound],
                   moment: datetime) -> list[dict[str, Any]]:
    """The cross-round check for the units whose rounds were just awarded."""
    fresh = {r.id for r in rounds if r.status in WON}
    units = {r.buyer_org_id for r in rounds if r.id in fresh}
    if not units:
        return []
    session.flush()  # the batch's ranks and statuses, for the query below
    numbered = (select(BiddingRound.id, BiddingRound.number, BiddingRound.buyer_org_id,
                       BiddingRound.closed_at,
                       func.row_number().over(partition_by=BiddingRound.buyer_org_id,
                                              order_by=(BiddingRound.closed_at.desc(),
                                                        BiddingRound.id.desc())).label("n"))
                .where(BiddingRound.buyer_org_id.in_(units),
                       BiddingRound.status.in_(WON),
                       BiddingRound.closed_at >= moment - timedelta(days=RECENT_DAYS))
                .subquery())
    recent = session.execute(select(numbered.c.id, numbered.c.number, numbered.c.buyer_org_id,
                                    numbered.c.closed_at)
                             .where(numbered.c.n <= RECENT_ROUNDS)).all()
    quoters: dict[int, set[int]] = defaultdict(set)
    winners: dict[int, int] = {}
    for round_id, supplier_id, rank in session.execute(
            select(Quote.round_id, Quote.supplier_id, Quote.rank)
            .where(Quote.round_id.in_([r[0] for r in recent]))):
        quoters[round_id].add(supplier_id)
        if rank == 1:
            winners[round_id] = supplier_id
    history: dict[int, list[PastRound]] = defaultdict(list)
    for round_id, number, unit, closed_at in sorted(recent, key=lambda r: (r[3], r[0])):
        if round_id in winners:
            history[unit].append(PastRound(round_id, number, closed_at,
                                           frozenset(quoters[round_id]), winners[round_id]))
    return [{"round_id": None, "buyer_org_id": unit, "kind": "rotating_winners",
             "supplier_ids": group, "evidence": evidence, "found_at": moment}
            for unit in sorted(history) for group, evidence in rotations(history[unit], fresh)]


# -- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignalRow:
    signal: CollusionSignal
    round_number: str | None
    buyer: str
    names: dict[int, str]  # the signal's suppliers' names by id (the evidence names ids)

    @property
    def suppliers(self) -> list[str]:
        return [self.names[i] for i in self.signal.supplier_ids]


def list_signals(session: Session, actor: Actor, *, kind: str | None = None, page: int = 1,
                 page_size: int = 50) -> tuple[list[SignalRow], int]:
    """Signals for the operator and the supervisor, newest first, with the names they name."""
    if not actor.is_oversight:
        raise NotFound()
    actor.require_role(*OVERSIGHT_STAFF)
    query = select(CollusionSignal)
    if kind in KINDS:
        query = query.where(CollusionSignal.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    signals = list(session.scalars(query.order_by(CollusionSignal.id.desc())
                                   .limit(page_size).offset((max(page, 1) - 1) * page_size)))
    numbers = dict(session.execute(select(BiddingRound.id, BiddingRound.number).where(
        BiddingRound.id.in_({s.round_id for s in signals if s.round_id}))).all())
    org_ids = {i for s in signals for i in s.supplier_ids} | {s.buyer_org_id for s in signals}
    names = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_(org_ids))).all()) if org_ids else {}
    return [SignalRow(s, numbers.get(s.round_id) if s.round_id else None,
                      names.get(s.buyer_org_id, ""),
                      {i: names.get(i, str(i)) for i in s.supplier_ids}) for s in signals], total
