from __future__ import annotations

from decimal import Decimal

import pytest

from klingsim.core.ledger import EntryKind, InsufficientFunds, Ledger

P, A = "p", "acct"


def funded(amount: int = 100) -> Ledger:
    ledger = Ledger()
    ledger.set_balance(P, A, Decimal(amount), 0)
    return ledger


def test_balance_is_the_sum_of_entries() -> None:
    ledger = funded()
    ledger.debit(P, A, "j1", Decimal(30), 1, hold=False)
    ledger.debit(P, A, "j2", Decimal(20), 2, hold=True)
    assert ledger.balance(P, A) == 50
    assert sum(e.delta for e in ledger.entries(P, A)) == 50
    assert ledger.inconsistencies() == []


def test_a_debit_that_cannot_be_paid_writes_nothing() -> None:
    ledger = funded(10)
    with pytest.raises(InsufficientFunds):
        ledger.debit(P, A, "j", Decimal("10.01"), 1, hold=False)
    assert ledger.balance(P, A) == 10 and len(ledger.entries(P, A)) == 1


def test_hold_is_captured_on_success_and_released_on_failure() -> None:
    ledger = funded()
    ledger.debit(P, A, "ok", Decimal(40), 1, hold=True)
    ledger.debit(P, A, "bad", Decimal(40), 1, hold=True)
    ledger.settle(P, "ok", succeeded=True, refund_on_failure=True, at=2)
    ledger.settle(P, "bad", succeeded=False, refund_on_failure=True, at=2)
    assert ledger.balance(P, A) == 60
    assert ledger.spent(P, A) == 40
    assert [e.kind for e in ledger.entries(P, A)][-2:] == [EntryKind.CAPTURE, EntryKind.RELEASE]


def test_charge_is_refunded_on_failure_only_when_the_provider_refunds() -> None:
    ledger = funded()
    ledger.debit(P, A, "a", Decimal(25), 1, hold=False)
    ledger.debit(P, A, "b", Decimal(25), 1, hold=False)
    assert ledger.settle(P, "a", succeeded=False, refund_on_failure=True, at=2) is not None
    assert ledger.settle(P, "b", succeeded=False, refund_on_failure=False, at=2) is None
    assert ledger.balance(P, A) == 75


def test_each_job_settles_at_most_once() -> None:
    ledger = funded()
    ledger.debit(P, A, "j", Decimal(25), 1, hold=False)
    assert ledger.settle(P, "j", succeeded=False, refund_on_failure=True, at=2) is not None
    assert ledger.settle(P, "j", succeeded=False, refund_on_failure=True, at=3) is None
    assert ledger.balance(P, A) == 100


def test_set_balance_adjusts_with_one_entry_and_refuses_negative() -> None:
    ledger = funded()
    ledger.set_balance(P, A, Decimal(7), 1)
    assert ledger.balance(P, A) == 7
    assert [e.kind for e in ledger.entries(P, A)] == [EntryKind.TOPUP, EntryKind.ADJUST]
    with pytest.raises(ValueError):
        ledger.set_balance(P, A, Decimal(-1), 2)


def test_inconsistencies_are_reported() -> None:
    ledger = funded()
    ledger._accounts[(P, A)].balance = Decimal(1)  # corrupt on purpose
    assert ledger.inconsistencies()


def test_restore_rebuilds_balances_and_open_debits() -> None:
    ledger = funded()
    ledger.debit(P, A, "j", Decimal(30), 1, hold=True)
    copy = Ledger()
    copy.restore(ledger.entries(P, A))
    assert copy.balance(P, A) == 70
    copy.settle(P, "j", succeeded=False, refund_on_failure=True, at=2)
    assert copy.balance(P, A) == 100
