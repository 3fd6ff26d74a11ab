"""The webhook handler's database: orders, processed events and deliveries, in SQLite.

This module is the only one that touches the file. Three promises hold here:

* **exactly once**: an event's id is stored in the same transaction as its effect on
  the order. A redelivered event finds its id and does nothing, even when copies race on
  several threads or processes (``BEGIN IMMEDIATE`` takes the write lock before the
  check, so two copies cannot both pass it);
* **all or nothing**: if a handler fails, the transaction rolls back and nothing of the
  event remains, so Stripe's retry finds a clean slate;
* **durable acknowledgement**: ``process`` returns only after ``COMMIT`` (WAL mode,
  ``synchronous=FULL``), so an event answered with a 2xx survives a crash of the process
  or of the machine.

Every delivery, rejected or not, gets a row in ``deliveries`` for the instructor to see;
the webhook secret is never given to this module.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from labkit.webhooks.handlers import effect_of, fulfillment_of, major_units, merge, status_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id           TEXT PRIMARY KEY,      -- evt_…: the dedup key
    type         TEXT NOT NULL,
    created      INTEGER,
    payment_intent TEXT,
    outcome      TEXT NOT NULL,         -- processed | unhandled
    note         TEXT,
    processed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    payment_intent TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    data         TEXT NOT NULL,         -- the order as JSON (see handlers.new_order)
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS order_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_intent TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    type         TEXT NOT NULL,
    created      INTEGER,
    effect       TEXT NOT NULL,
    UNIQUE (payment_intent, event_id)
);
CREATE TABLE IF NOT EXISTS deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at  REAL NOT NULL,
    http_status  INTEGER NOT NULL,
    outcome      TEXT NOT NULL,         -- processed | duplicate | unhandled | rejected | error | not_ready
    reason       TEXT,
    event_id     TEXT,                  -- for a rejected delivery: what the body claimed (unverified)
    type         TEXT,
    verified     INTEGER NOT NULL,
    signature    TEXT,                  -- a summary of the header (timestamp, count of v1 entries)
    remote_addr  TEXT,
    body_bytes   INTEGER,
    duration_ms  REAL
);
CREATE INDEX IF NOT EXISTS order_events_by_pi ON order_events (payment_intent, seq);
"""

KEEP_DELIVERIES = 5000  # the deliveries log is trimmed to the newest rows


@dataclass(frozen=True)
class Delivery:
    """Facts about one HTTP delivery, for the deliveries log."""

    received_at: float
    remote_addr: str | None = None
    signature: str | None = None
    body_bytes: int = 0
    verified: bool = False


@dataclass(frozen=True)
class Outcome:
    outcome: str           # processed | duplicate | unhandled
    event_id: str
    type: str
    payment_intent: str | None = None
    note: str = ""


class OrderStore:
    """Orders and the events that made them, in one SQLite file (WAL mode)."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        # One writer at a time inside this process: threads queue here instead of spinning on
        # SQLite's busy handler. BEGIN IMMEDIATE still serialises writers in other processes.
        self._write_lock = threading.Lock()
        self._closed = False
        with self._write_lock:
            conn = self._conn()
            conn.executescript(SCHEMA)

    # ------------------------------------------------------------------ connections
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("the order store is closed")
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        self._closed = True
        with self._all_lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:  # closed from another thread already
                    pass
            self._all.clear()

    def __enter__(self) -> "OrderStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def process(self, event: dict[str, Any], delivery: Delivery, *,
                before_commit: Callable[[], None] | None = None,
                after_commit: Callable[[], None] | None = None) -> Outcome:
        """Apply a verified event once. Raises (after rolling back) if a handler fails.

        ``before_commit``/``after_commit`` are fault-injection hooks for the crash tests.
        """
        event_id, type_ = str(event["id"]), str(event["type"])
        created = int(event.get("created") or 0)
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                seen = conn.execute("SELECT outcome, payment_intent FROM events WHERE id = ?", (event_id,)).fetchone()
                if seen is not None:
                    result = Outcome("duplicate", event_id, type_, seen["payment_intent"],
                                     f"already {seen['outcome']}: nothing done twice")
                else:
                    result = self._apply(conn, event, event_id, type_, created)
                    conn.execute("INSERT INTO events (id, type, created, payment_intent, outcome, note, processed_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 (event_id, type_, created, result.payment_intent, result.outcome, result.note,
                                  time.time()))
                self._log(conn, delivery, 200, result.outcome, result.note, event_id, type_)
                if before_commit is not None:
                    before_commit()
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if after_commit is not None:
            after_commit()
        return result

    def _apply(self, conn: sqlite3.Connection, event: dict[str, Any], event_id: str, type_: str,
               created: int) -> Outcome:
        effect = effect_of(event)
        if effect is None:
            return Outcome("unhandled", event_id, type_, None, "acknowledged; this handler does not act on it")
        row = conn.execute("SELECT data FROM orders WHERE payment_intent = ?", (effect.payment_intent,)).fetchone()
        order, note = merge(json.loads(row["data"]) if row else None, effect)
        now = time.time()
        conn.execute(
            "INSERT INTO orders (payment_intent, status, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (payment_intent) DO UPDATE SET status = excluded.status, data = excluded.data, "
            "updated_at = excluded.updated_at",
            (effect.payment_intent, status_of(order), json.dumps(order), now, now))
        conn.execute("INSERT INTO order_events (payment_intent, event_id, type, created, effect) VALUES (?, ?, ?, ?, ?)",
                     (effect.payment_intent, event_id, type_, created, note))
        return Outcome("processed", event_id, type_, effect.payment_intent, note)

    def record_delivery(self, delivery: Delivery, http_status: int, outcome: str, reason: str | None = None,
                        event_id: str | None = None, type_: str | None = None) -> None:
        """Log a delivery that changed nothing (rejected, failed, not ready)."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._log(conn, delivery, http_status, outcome, reason, event_id, type_)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _log(conn: sqlite3.Connection, d: Delivery, http_status: int, outcome: str, reason: str | None,
             event_id: str | None, type_: str | None) -> None:
        cur = conn.execute(
            "INSERT INTO deliveries (received_at, http_status, outcome, reason, event_id, type, verified, signature, "
            "remote_addr, body_bytes, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (d.received_at, http_status, outcome, reason, _clip(event_id), _clip(type_), int(d.verified),
             _clip(d.signature), d.remote_addr, d.body_bytes, round((time.time() - d.received_at) * 1000, 3)))
        if cur.lastrowid % 500 == 0:
            conn.execute("DELETE FROM deliveries WHERE id <= ?", (cur.lastrowid - KEEP_DELIVERIES,))

    # ------------------------------------------------------------------ reading
    def orders(self) -> dict[str, dict[str, Any]]:
        """Every order keyed by PaymentIntent id (oldest first), each with its history."""
        conn = self._conn()
        conn.execute("BEGIN")  # one snapshot for both queries
        try:
            rows = conn.execute("SELECT payment_intent, data, created_at, updated_at FROM orders "
                                "ORDER BY created_at, payment_intent").fetchall()
            history: dict[str, list[dict[str, Any]]] = {}
            for h in conn.execute("SELECT payment_intent, event_id, type, created, effect FROM order_events "
                                  "ORDER BY seq"):
                history.setdefault(h["payment_intent"], []).append(
                    {"id": h["event_id"], "type": h["type"], "created": h["created"], "effect": h["effect"]})
        finally:
            conn.execute("COMMIT")
        return {r["payment_intent"]: self._present(json.loads(r["data"]), history.get(r["payment_intent"], []),
                                                   r["created_at"], r["updated_at"]) for r in rows}

    def order(self, payment_intent: str) -> dict[str, Any] | None:
        return self.orders().get(payment_intent)

    @staticmethod
    def _present(o: dict[str, Any], history: list[dict[str, Any]], created_at: float,
                 updated_at: float) -> dict[str, Any]:
        """The handout's fields first (status, amount in dollars, product, fulfillment), then the rest."""
        return {
            "status": status_of(o),
            "amount": major_units(o["amount_minor"], o["currency"]),
            "currency": (o["currency"] or "").upper() or None,
            "product": o["product"] or ("Unknown" if o["paid"] else None),
            "fulfillment": fulfillment_of(o),
            "amount_minor": o["amount_minor"],
            "charge": o["charge"],
            "failures": o["failures"],
            "failure_code": o["failure_code"],
            "decline_code": o.get("decline_code"),
            "failure_message": o["failure_message"],
            "refunded": major_units(o["refunded_minor"], o["currency"]) if o["refunded_minor"] else 0,
            "dispute": o["dispute"],
            "dispute_reason": o["dispute_reason"],
            "created_at": created_at,
            "updated_at": updated_at,
            "history": history,
        }

    def deliveries(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest deliveries first, with their outcome."""
        rows = self._conn().execute(
            "SELECT id, received_at, http_status, outcome, reason, event_id, type, verified, signature, remote_addr, "
            "body_bytes, duration_ms FROM deliveries ORDER BY id DESC LIMIT ?", (max(1, min(int(limit), 1000)),))
        return [dict(r) | {"verified": bool(r["verified"])} for r in rows]

    def processed_event_ids(self) -> set[str]:
        return {r[0] for r in self._conn().execute("SELECT id FROM events")}

    def counts(self) -> dict[str, int]:
        conn = self._conn()
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("orders", "events", "order_events", "deliveries")}


def _clip(value: str | None, n: int = 200) -> str | None:
    return None if value is None else str(value)[:n]
