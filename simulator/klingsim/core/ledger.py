"""An append-only credit ledger per provider and account: the balance is the sum of the entries.

Holds reserve money for a job (captured on success, released on failure); charges debit it at once (and
refunds return it). No entry may take the balance below zero, and each job settles at most once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from klingsim.core import compact


class EntryKind(StrEnum):
    TOPUP = "topup"
    ADJUST = "adjust"
    HOLD = "hold"
    CAPTURE = "capture"
    RELEASE = "release"
    CHARGE = "charge"
    REFUND = "refund"


# How each kind moves the spendable balance; CAPTURE only turns a hold into spending.
_SIGN = {
    EntryKind.TOPUP: 1,
    EntryKind.ADJUST: 1,
    EntryKind.HOLD: -1,
    EntryKind.CAPTURE: 0,
    EntryKind.RELEASE: 1,
    EntryKind.CHARGE: -1,
    EntryKind.REFUND: 1,
}


class InsufficientFunds(Exception):
    def __init__(self, balance: Decimal, needed: Decimal) -> None:
        super().__init__(f"balance {balance} is less than the price {needed}")
        self.balance = balance
        self.needed = needed


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    seq: int
    at: float
    provider: str
    account: str
    kind: EntryKind
    amount: Decimal
    job_id: str | None
    balance_after: Decimal

    @property
    def delta(self) -> Decimal:
        return self.amount * _SIGN[self.kind]

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["amount"] = float(self.amount)
        data["balance_after"] = float(self.balance_after)
        return data


# Kinds that spend for good (charges, captured holds) and the one that gives spending back.
_SPENDS = frozenset({EntryKind.CHARGE, EntryKind.CAPTURE})


_SETS = frozenset({EntryKind.TOPUP, EntryKind.ADJUST})

# Entries of forgotten (evicted) jobs are folded away in batches of at least this many jobs, and of at
# least a quarter of the account's entries: a fold scans them all, so a batch that grows with them keeps the
# work per evicted job constant (a fold of 400,000 entries every 1,024 evictions stalled answers by ~30 ms
# five times a second under load).
FOLD_BATCH = 1024
FOLD_SHARE = 4


@dataclass(slots=True)
class _Account:
    balance: Decimal
    entries: list[LedgerEntry]
    spent: Decimal = Decimal(0)  # kept as entries are appended: `Ledger.spent` is O(1)
    # Jobs whose entries are to be folded into the totals below (their jobs were evicted).
    forgotten: set[str] = field(default_factory=set)
    folded_delta: Decimal = Decimal(0)  # what the folded entries moved the balance by, together
    folded_count: int = 0
    # The top-ups and adjustments (never folded): what a balance answer reads, without the job entries.
    sets: list[LedgerEntry] = field(default_factory=list)

    def visible(self) -> list[LedgerEntry]:
        if not self.forgotten:
            return self.entries
        return [e for e in self.entries if e.job_id not in self.forgotten]

    def fold(self) -> None:
        """Drop the entries of forgotten jobs, keeping their sum: O(entries), once per batch (FOLD_BATCH)."""
        kept: list[LedgerEntry] = []
        for e in self.entries:
            if e.job_id in self.forgotten:
                self.folded_delta += e.delta
                self.folded_count += 1
            else:
                kept.append(e)
        self.entries = kept
        self.forgotten.clear()

    def add(self, entry: LedgerEntry) -> None:
        self.entries.append(entry)
        self.balance = entry.balance_after
        if entry.kind in _SETS:
            self.sets.append(entry)
        if entry.kind in _SPENDS:
            self.spent += entry.amount
        elif entry.kind is EntryKind.REFUND:
            self.spent -= entry.amount


class Ledger:
    def __init__(self, on_append: Callable[[LedgerEntry], None] | None = None) -> None:
        self._accounts: dict[tuple[str, str], _Account] = {}
        # provider -> job id -> its unsettled hold or charge (no key tuple per job)
        self._open: dict[str, dict[str, LedgerEntry]] = {}
        self._seq = 0
        self._lock = threading.RLock()
        self._on_append = on_append

    def exists(self, provider: str, account: str) -> bool:
        return (provider, account) in self._accounts

    def balance(self, provider: str, account: str) -> Decimal:
        acct = self._accounts.get((provider, account))
        return acct.balance if acct else Decimal(0)

    def entries(self, provider: str, account: str) -> tuple[LedgerEntry, ...]:
        """The account's entries, less those of jobs evicted from the job store (see `forget_job`)."""
        acct = self._accounts.get((provider, account))
        return tuple(acct.visible()) if acct else ()

    def balance_sets(self, provider: str, account: str) -> tuple[LedgerEntry, ...]:
        """The account's top-ups and adjustments only: O(those), however many jobs it paid for."""
        acct = self._accounts.get((provider, account))
        return tuple(acct.sets) if acct else ()

    def job_entries(self, provider: str, job_id: str) -> tuple[LedgerEntry, ...]:
        return tuple(
            e
            for a in self._accounts.values()
            if job_id not in a.forgotten
            for e in a.entries
            if e.job_id == job_id and e.provider == provider
        )

    def forget_job(self, provider: str, account: str, job_id: str) -> None:
        """An evicted job's entries leave the listings; the balance and `spent` keep them. They are folded
        into per-account totals in batches, so a ledger's memory follows the jobs held, not all ever made."""
        with self._lock:
            acct = self._accounts.get((provider, account))
            if acct is None:
                return
            acct.forgotten.add(job_id)
            if len(acct.forgotten) >= max(FOLD_BATCH, len(acct.entries) // FOLD_SHARE):
                acct.fold()

    def folded(self, provider: str, account: str) -> int:
        """How many entries of evicted jobs were folded into the account's totals."""
        acct = self._accounts.get((provider, account))
        return acct.folded_count if acct else 0

    def spent(self, provider: str, account: str) -> Decimal:
        """Money that left the balance for good: charges and captured holds, less refunds."""
        acct = self._accounts.get((provider, account))
        return acct.spent if acct else Decimal(0)

    def _append(
        self, provider: str, account: str, kind: EntryKind, amount: Decimal, at: float, job_id: str | None
    ) -> LedgerEntry:
        acct = self._accounts.get((provider, account))
        if acct is None:
            acct = self._accounts[(provider, account)] = _Account(Decimal(0), [])
        new_balance = acct.balance + amount * _SIGN[kind]
        if new_balance < 0:
            raise InsufficientFunds(acct.balance, amount)
        self._seq += 1
        entry = LedgerEntry(self._seq, at, provider, account, kind, amount, job_id, new_balance)
        acct.add(entry)
        if self._on_append is not None:
            self._on_append(entry)
        return entry

    def set_balance(self, provider: str, account: str, amount: Decimal, at: float) -> LedgerEntry:
        """Create the account or move its balance to `amount` with one top-up or adjustment entry."""
        if amount < 0:
            raise ValueError("a balance is never negative")
        with self._lock:
            current = self.balance(provider, account)
            kind = EntryKind.TOPUP if (provider, account) not in self._accounts else EntryKind.ADJUST
            return self._append(provider, account, kind, amount - current, at, None)

    def debit(
        self, provider: str, account: str, job_id: str, amount: Decimal, at: float, hold: bool
    ) -> LedgerEntry:
        """Reserve (hold) or charge a job's price; raises InsufficientFunds and writes nothing if it can't."""
        with self._lock:
            kind = EntryKind.HOLD if hold else EntryKind.CHARGE
            entry = self._append(provider, account, kind, compact.amount(amount), at, job_id)
            self._open.setdefault(provider, {})[job_id] = entry
            return entry

    def settle(
        self, provider: str, job_id: str, succeeded: bool, refund_on_failure: bool, at: float
    ) -> LedgerEntry | None:
        """Close a job's debit once: capture or release a hold; keep or refund a charge."""
        with self._lock:
            debit = self._open.get(provider, {}).pop(job_id, None)
            if debit is None:
                return None
            if debit.kind is EntryKind.HOLD:
                kind = EntryKind.CAPTURE if succeeded else EntryKind.RELEASE
            elif not succeeded and refund_on_failure:
                kind = EntryKind.REFUND
            else:
                return None
            return self._append(provider, debit.account, kind, debit.amount, at, job_id)

    def restore(self, entries: Iterable[LedgerEntry]) -> None:
        """Rebuild state from persisted entries (in sequence order)."""
        with self._lock:
            for e in entries:
                acct = self._accounts.setdefault((e.provider, e.account), _Account(Decimal(0), []))
                acct.add(e)
                self._seq = max(self._seq, e.seq)
                open_here = self._open.setdefault(e.provider, {})
                if e.kind in (EntryKind.HOLD, EntryKind.CHARGE):
                    open_here[e.job_id or ""] = e
                elif e.kind in (EntryKind.CAPTURE, EntryKind.RELEASE, EntryKind.REFUND):
                    open_here.pop(e.job_id or "", None)

    def reset(self) -> None:
        with self._lock:
            self._accounts.clear()
            self._open.clear()

    def inconsistencies(self) -> list[str]:
        """What breaks the ledger's invariants (empty when consistent)."""
        problems: list[str] = []
        for (provider, account), acct in self._accounts.items():
            running = acct.folded_delta
            settled: set[str] = set()
            chained = acct.folded_count == 0  # folding takes entries out of the chain of balances
            for e in acct.entries:
                running += e.delta
                if (chained and running != e.balance_after) or e.balance_after < 0:
                    problems.append(
                        f"{provider}/{account}: entry {e.seq} balance {e.balance_after} != {running}"
                    )
                if e.kind in (EntryKind.CAPTURE, EntryKind.RELEASE, EntryKind.REFUND) and e.job_id:
                    if e.job_id in settled:
                        problems.append(f"{provider}/{account}: job {e.job_id} settled twice")
                    settled.add(e.job_id)
            if running != acct.balance:
                problems.append(f"{provider}/{account}: balance {acct.balance} != sum of entries {running}")
        return problems
