"""Where state lives: in memory (the default: nothing to write) or in SQLite (`klingsim serve --db PATH`).

SQLite keeps jobs, ledger entries, keys, callback deliveries and the virtual clock's time. Writes go through
before the answer is sent: every simulator entry point (a request, a clock advance, a control-plane change)
runs inside `transaction()`, which commits once at its end, so a job and its ledger entry are stored
together or not at all. The database runs in WAL mode with `synchronous=NORMAL`: a committed transaction
survives the process being killed (`kill -9`), which is the failure a simulator meets; FULL would also
survive power loss of the host, at a cost of one more fsync per request that a test double doesn't need.

The store's lock is the outermost lock: entry points take it before the engine's or the ledger's, so the
listeners that write from inside those never wait on a thread holding it in the other order.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from klingsim.core.callbacks import Attempt, Delivery
from klingsim.core.jobs import Job
from klingsim.core.ledger import EntryKind, LedgerEntry
from klingsim.spec import OutputPlan, Phase, Plan


@dataclass
class Snapshot:
    jobs: list[Job] = field(default_factory=list)
    entries: list[LedgerEntry] = field(default_factory=list)
    keys: list[tuple[str, str, str]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    clock_now: float | None = None


_NOTHING: contextlib.nullcontext[None] = contextlib.nullcontext()


class MemoryStore:
    """Keeps nothing beyond the simulator's own memory."""

    persistent = False

    def transaction(self) -> contextlib.nullcontext[None]:
        return _NOTHING  # every request opens one: no generator-based context manager to build

    def save_job(self, job: Job) -> None:
        pass

    def save_entry(self, entry: LedgerEntry) -> None:
        pass

    def save_key(self, provider: str, key: str, account: str) -> None:
        pass

    def save_delivery(self, delivery: Delivery) -> None:
        pass

    def save_clock(self, now: float) -> None:
        pass

    def load(self, max_finished: int) -> Snapshot:
        return Snapshot()

    def url_secret(self) -> bytes:
        return secrets.token_bytes(32)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    provider TEXT NOT NULL, id TEXT NOT NULL, finished_at REAL, data TEXT NOT NULL,
    PRIMARY KEY (provider, id));
CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    provider TEXT NOT NULL, key TEXT NOT NULL, account TEXT NOT NULL, PRIMARY KEY (provider, key));
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class StoreLocked(RuntimeError):
    """Another process holds the database."""


def _lock(path: str) -> int:
    """An exclusive lock on `<path>.lock` for this process's lifetime, holding our pid; StoreLocked naming the
    holder's pid when another process has it. The kernel drops the lock when its holder dies (even
    `kill -9`), so a stale lock file never blocks a restart."""
    lock_path = f"{path}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise StoreLocked(
            f"{path} is in use by another klingsim server (pid {holder}); stop it, or give this one "
            "another --db"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


class SqliteStore:
    persistent = True

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock_fd: int | None = _lock(self.path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One commit for everything written inside; nested uses join the outer transaction."""
        with self._lock:
            self._depth += 1
            if self._depth == 1:
                self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                # Commit even when the block raised: what changed in memory changed; keep the two in step.
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("COMMIT")

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        with self.transaction():
            self._db.execute(sql, args)

    def save_job(self, job: Job) -> None:
        self._write(
            "INSERT OR REPLACE INTO jobs (provider, id, finished_at, data) VALUES (?, ?, ?, ?)",
            (job.provider, job.id, job.finished_at, json.dumps(job_to_json(job), default=str)),
        )

    def save_entry(self, entry: LedgerEntry) -> None:
        self._write(
            "INSERT OR REPLACE INTO ledger (seq, data) VALUES (?, ?)", (entry.seq, _entry_json(entry))
        )

    def save_key(self, provider: str, key: str, account: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO keys (provider, key, account) VALUES (?, ?, ?)", (provider, key, account)
        )

    def save_delivery(self, delivery: Delivery) -> None:
        attempts = [a.__dict__ for a in delivery.attempts]
        data = {**delivery.as_json(), "account": delivery.account, "attempts": attempts}
        self._write(
            "INSERT OR REPLACE INTO deliveries (id, data) VALUES (?, ?)", (delivery.id, json.dumps(data))
        )

    def save_clock(self, now: float) -> None:
        self._write("INSERT OR REPLACE INTO meta (name, value) VALUES ('clock_now', ?)", (repr(now),))

    def load(self, max_finished: int) -> Snapshot:
        with self._lock:
            unfinished = self._db.execute("SELECT data FROM jobs WHERE finished_at IS NULL").fetchall()
            finished = self._db.execute(
                "SELECT data FROM jobs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
                (max_finished,),
            ).fetchall()
            entries = self._db.execute("SELECT data FROM ledger ORDER BY seq").fetchall()
            keys = self._db.execute("SELECT provider, key, account FROM keys").fetchall()
            deliveries = self._db.execute("SELECT data FROM deliveries").fetchall()
            clock = self._db.execute("SELECT value FROM meta WHERE name = 'clock_now'").fetchone()
        jobs = [job_from_json(json.loads(r[0])) for r in reversed(finished)] + [
            job_from_json(json.loads(r[0])) for r in unfinished
        ]
        return Snapshot(
            jobs=jobs,
            entries=[_entry_from_json(r[0]) for r in entries],
            keys=[(str(p), str(k), str(a)) for p, k, a in keys],
            deliveries=sorted(
                (_delivery_from_json(json.loads(r[0])) for r in deliveries), key=_delivery_order
            ),
            clock_now=float(clock[0]) if clock else None,
        )

    def reset(self) -> None:
        with self.transaction():
            for table in ("jobs", "ledger", "keys", "deliveries"):
                self._db.execute(f"DELETE FROM {table}")  # fixed table names, never input

    def url_secret(self) -> bytes:
        """The output URL signing key, created once and kept, so URLs handed out survive a restart."""
        with self.transaction():
            row = self._db.execute("SELECT value FROM meta WHERE name = 'url_secret'").fetchone()
            if row is not None:
                return bytes.fromhex(str(row[0]))
            secret = secrets.token_bytes(32)
            self._db.execute("INSERT INTO meta (name, value) VALUES ('url_secret', ?)", (secret.hex(),))
            return secret

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the lock
                self._lock_fd = None


Store = MemoryStore | SqliteStore


# ----------------------------------------------------------------- (de)serialisation
def job_to_json(job: Job) -> dict[str, Any]:
    plan = job.plan
    return {
        "id": job.id,
        "provider": job.provider,
        "account": job.account,
        "variant": job.variant,
        "request": job.request,
        "plan": {
            "price_key": dict(plan.price_key),
            "billed_seconds": plan.billed_seconds,
            "output": asdict(plan.output),
            "id_family": plan.id_family,
            "extra": dict(plan.extra),
        },
        "cost": str(job.cost),
        "created_at": job.created_at,
        "run_at": job.run_at,
        "finish_at": job.finish_at,
        "phase": str(job.phase),
        "history": [[at, str(phase)] for at, phase in job.history],
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "planned_failure": list(job.planned_failure) if job.planned_failure else None,
        "error": list(job.error) if job.error else None,
        "stuck": job.stuck,
        "meta": job.notes(),
    }


def _pair(value: Any) -> tuple[str, str] | None:
    return (str(value[0]), str(value[1])) if value else None


def job_from_json(data: dict[str, Any]) -> Job:
    plan = data["plan"]
    return Job(
        id=data["id"],
        provider=data["provider"],
        account=data["account"],
        variant=data["variant"],
        request=data["request"],
        plan=Plan(
            price_key=plan["price_key"],
            billed_seconds=plan["billed_seconds"],
            output=OutputPlan(**plan["output"]),
            id_family=plan["id_family"],
            extra=plan["extra"],
        ),
        cost=Decimal(data["cost"]),
        created_at=data["created_at"],
        run_at=data["run_at"],
        finish_at=data["finish_at"],
        phase=Phase(data["phase"]),
        started_at=data["started_at"],
        finished_at=data["finished_at"],
        planned_failure=_pair(data["planned_failure"]),
        error=_pair(data["error"]),
        stuck=bool(data["stuck"]),
        meta=dict(data["meta"]),
    )


def _entry_json(entry: LedgerEntry) -> str:
    return json.dumps(
        {
            "seq": entry.seq,
            "at": entry.at,
            "provider": entry.provider,
            "account": entry.account,
            "kind": str(entry.kind),
            "amount": str(entry.amount),
            "job_id": entry.job_id,
            "balance_after": str(entry.balance_after),
        }
    )


def _entry_from_json(text: str) -> LedgerEntry:
    d = json.loads(text)
    return LedgerEntry(
        d["seq"],
        d["at"],
        d["provider"],
        d["account"],
        EntryKind(d["kind"]),
        Decimal(d["amount"]),
        d["job_id"],
        Decimal(d["balance_after"]),
    )


def _delivery_from_json(d: dict[str, Any]) -> Delivery:
    return Delivery(
        id=d["id"],
        provider=d["provider"],
        job_id=d["job_id"],
        account=d.get("account", ""),
        url=d["url"],
        payload=d["payload"],
        created_at=d["created_at"],
        next_at=d["next_attempt_at"],
        timeout=d["timeout_seconds"],
        retry_delays=tuple(d["retry_delays"]),
        state=d["state"],
        attempts=[Attempt(**a) for a in d["attempts"]],
    )


def _delivery_order(d: Delivery) -> int:
    return int(d.id.rpartition("_")[2] or 0)
