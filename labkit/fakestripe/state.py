"""The fake Stripe's state: objects by id, creation-ordered indexes, idempotency records.

Every read and write is O(1) or O(page size), so the per-call cost stays flat as the
state grows. State lives in memory; with a ``db_path`` it is also kept in SQLite and
reloaded at start. One API call is one SQLite transaction (:meth:`Store.transaction`):
its objects, events, idempotency record and pending webhook deliveries are written
together or not at all, so a killed fake restarts with whole calls only.
"""
from __future__ import annotations

import json
import os
import sqlite3
import string
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

_ALPHABET = string.ascii_letters + string.digits
_TABLE = bytes(ord(_ALPHABET[i % 62]) for i in range(256))
IDEMPOTENCY_TTL = 24 * 3600  # Stripe keeps idempotency keys for 24 hours (docs.stripe.com/api/idempotent_requests)


def new_id(prefix: str, length: int = 24) -> str:
    """``prefix_`` + ``length`` random base-62 characters (from os.urandom; the slight bias of
    ``byte % 62`` does not matter for ids that only need to be unique)."""
    return f"{prefix}_" + os.urandom(length).translate(_TABLE).decode("ascii")


class DatabaseError(Exception):
    """The ``--db`` file cannot be opened or written; ``str()`` is one line naming the file and the fix."""


def database_problem(path: Path, exc: Exception) -> str:
    """One line for a database SQLite refused: what is wrong with ``path`` and what to do."""
    detail = str(exc) or type(exc).__name__
    other = "or choose another file with --db (a new file starts empty)"
    if "readonly" in detail or "read-only" in detail or not os.access(path, os.W_OK) \
            or not os.access(path.parent, os.W_OK):
        return (f"cannot write the database {path} ({detail}): make the file and its folder {path.parent} "
                f"writable (SQLite writes {path.name}-wal and {path.name}-shm beside it), {other}")
    if "not a database" in detail or "malformed" in detail or isinstance(exc, (ValueError, TypeError)):
        return f"{path} is not a fake Stripe database (corrupt, or another kind of file): move it away, {other}"
    if "no such column" in detail or "no such table" in detail:
        return f"{path} is another program's SQLite database, not the fake Stripe's: {other}"
    return f"cannot open the database {path} ({detail}): check the file, {other}"


class OrderedIds:
    """Ids in creation order with O(1) position lookup (for cursor pagination)."""

    __slots__ = ("ids", "pos")

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}

    def add(self, obj_id: str) -> None:
        if obj_id not in self.pos:
            self.pos[obj_id] = len(self.ids)
            self.ids.append(obj_id)

    def remove(self, obj_id: str) -> None:
        # Deletion is rare (webhook endpoints): rebuild is fine.
        if obj_id in self.pos:
            self.ids.remove(obj_id)
            self.pos = {i: n for n, i in enumerate(self.ids)}

    def page(self, limit: int, starting_after: str | None, ending_before: str | None) -> tuple[list[str], bool]:
        """Newest first. ``starting_after`` = older than that id; ``ending_before`` = newer."""
        n = len(self.ids)
        if ending_before is not None:
            lo = self.pos[ending_before] + 1
            hi = min(n, lo + limit)
            chunk = self.ids[lo:hi]
            return list(reversed(chunk)), hi < n
        hi = self.pos[starting_after] if starting_after is not None else n
        lo = max(0, hi - limit)
        return list(reversed(self.ids[lo:hi])), lo > 0

    def __contains__(self, obj_id: str) -> bool:
        return obj_id in self.pos

    def __len__(self) -> int:
        return len(self.ids)


class Store:
    """Objects keyed by id, with one creation-ordered index per object type and
    secondary indexes (``index(name, key)``) for the list filters Stripe offers."""

    def __init__(self, db_path: str | Path | None = None) -> None:
        self.lock = threading.RLock()
        self.writes = 0  # objects written so far (a call that wrote nothing failed validation)
        self._path = Path(db_path) if db_path is not None else None
        self._db: sqlite3.Connection | None = None
        self._reset()
        if self._path is not None:
            self._open(self._path)

    def _reset(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self._by_type: dict[str, OrderedIds] = {}
        self._indexes: dict[tuple[str, str], OrderedIds] = {}
        self._seq = 0
        self.idempotency: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()

    # -- persistence -------------------------------------------------------
    def _open(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            blocker = next((p for p in reversed(path.parents) if p.exists() and not p.is_dir()), None)
            why = f"{blocker} is a file, not a folder" if blocker else (exc.strerror or str(exc))
            raise DatabaseError(f"cannot create the folder {path.parent} for the database {path} ({why}): "
                                "create it, or choose another file with --db") from None
        if path.is_dir():
            raise DatabaseError(f"{path} is a folder, not a database file: give a file name, "
                                f"for example --db {path / 'fake.db'}")
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._create_tables()
            self._load()
        except (sqlite3.Error, ValueError, TypeError) as exc:  # ValueError/TypeError: rows that are not ours
            self.close()
            raise DatabaseError(database_problem(path, exc)) from None

    def write_problem(self, exc: Exception) -> str:
        """One line for a call that could not be written to the file."""
        if self._path is None:
            return f"the fake Stripe could not keep the call ({exc})"
        if "full" in str(exc):
            return f"cannot write the database {self._path} (the disk is full): free some space; nothing was kept"
        return database_problem(self._path, exc) + "; nothing was kept"

    def _create_tables(self) -> None:
        assert self._db is not None
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS objects (id TEXT PRIMARY KEY, type TEXT NOT NULL, seq INTEGER NOT NULL,"
            " indexes TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS idempotency (key TEXT NOT NULL, idem TEXT NOT NULL,"
                         " created REAL NOT NULL, record TEXT NOT NULL, PRIMARY KEY (key, idem))")
        self._db.execute("CREATE TABLE IF NOT EXISTS webhook_jobs (id INTEGER PRIMARY KEY, endpoint TEXT NOT NULL,"
                         " event TEXT NOT NULL, attempt INTEGER NOT NULL, due REAL NOT NULL)")

    def _load(self) -> None:
        assert self._db is not None
        self._reset()
        rows = self._db.execute("SELECT id, type, seq, indexes, deleted, body FROM objects ORDER BY seq").fetchall()
        for obj_id, typ, seq, idx, deleted, body in rows:
            self._seq = max(self._seq, seq)
            if deleted:
                continue
            self.objects[obj_id] = json.loads(body)
            self._by_type.setdefault(typ, OrderedIds()).add(obj_id)
            for name, key in json.loads(idx):
                self._indexes.setdefault((name, key), OrderedIds()).add(obj_id)
        cutoff = time.time() - IDEMPOTENCY_TTL
        for key, idem, created, record in self._db.execute(
                "SELECT key, idem, created, record FROM idempotency WHERE created > ? ORDER BY created", (cutoff,)):
            self.idempotency[(key, idem)] = {**json.loads(record), "created": created}

    def _journal(self, obj: dict[str, Any], indexes: Iterable[tuple[str, str]], deleted: bool = False) -> None:
        self.writes += 1
        if self._db is None:
            return
        self._db.execute(
            "INSERT INTO objects (id, type, seq, indexes, deleted, body) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET body=excluded.body, deleted=excluded.deleted,"
            " indexes=CASE WHEN excluded.indexes='[]' THEN objects.indexes ELSE excluded.indexes END",
            (obj["id"], obj["object"], self._seq, json.dumps(list(indexes)), int(deleted), json.dumps(obj)),
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One API call: everything written inside is committed together. If the file cannot be
        written (a full disk), the call is rolled back and the memory reloaded from the file."""
        with self.lock:
            if self._db is None or self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                try:
                    self._db.execute("ROLLBACK")
                finally:
                    self._load()
                raise

    # -- idempotency records (kept 24 hours) -----------------------------------
    def idempotent_get(self, key: str, idem: str) -> dict[str, Any] | None:
        cutoff = time.time() - IDEMPOTENCY_TTL
        while self.idempotency:  # oldest first: drop the expired ones
            first = next(iter(self.idempotency.values()))
            if first["created"] > cutoff:
                break
            self.idempotency.popitem(last=False)
        return self.idempotency.get((key, idem))

    def idempotent_put(self, key: str, idem: str, record: dict[str, Any]) -> None:
        created = time.time()
        self.idempotency[(key, idem)] = {**record, "created": created}
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO idempotency (key, idem, created, record) VALUES (?, ?, ?, ?)",
                             (key, idem, created, json.dumps(record)))
            self._db.execute("DELETE FROM idempotency WHERE created < ?", (created - IDEMPOTENCY_TTL,))

    # -- pending webhook deliveries ----------------------------------------------
    def add_job(self, endpoint_id: str, event_id: str) -> int | None:
        if self._db is None:
            return None
        cur = self._db.execute("INSERT INTO webhook_jobs (endpoint, event, attempt, due) VALUES (?, ?, 1, ?)",
                               (endpoint_id, event_id, time.time()))
        return cur.lastrowid

    def job_done(self, job_id: int | None, next_attempt: int | None = None, delay: float = 0.0) -> None:
        if self._db is None or job_id is None:
            return
        with self.lock:
            if next_attempt is None:
                self._db.execute("DELETE FROM webhook_jobs WHERE id = ?", (job_id,))
            else:
                self._db.execute("UPDATE webhook_jobs SET attempt = ?, due = ? WHERE id = ?",
                                 (next_attempt, time.time() + delay, job_id))

    def pending_jobs(self) -> list[tuple[int, str, str, int, float]]:
        """(id, endpoint, event, attempt, seconds until due) of the deliveries a restart resumes."""
        if self._db is None:
            return []
        rows = self._db.execute("SELECT id, endpoint, event, attempt, due FROM webhook_jobs ORDER BY id").fetchall()
        return [(i, e, ev, a, max(0.0, due - time.time())) for i, e, ev, a, due in rows]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- objects -------------------------------------------------------------
    def add(self, obj: dict[str, Any], indexes: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
        indexes = [(n, k) for n, k in indexes if k]
        with self.lock:
            self._seq += 1
            self.objects[obj["id"]] = obj
            self._by_type.setdefault(obj["object"], OrderedIds()).add(obj["id"])
            for key in indexes:
                self._indexes.setdefault(key, OrderedIds()).add(obj["id"])
            self._journal(obj, indexes)
        return obj

    def save(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Persist a changed object (in memory it is already changed in place)."""
        with self.lock:
            self._journal(obj, ())
        return obj

    def delete(self, obj: dict[str, Any]) -> None:
        with self.lock:
            self.objects.pop(obj["id"], None)
            self._by_type.get(obj["object"], OrderedIds()).remove(obj["id"])
            for ids in self._indexes.values():
                ids.remove(obj["id"]) if obj["id"] in ids else None
            self._journal(obj, (), deleted=True)

    def get(self, obj_id: str, typ: str | None = None) -> dict[str, Any] | None:
        obj = self.objects.get(obj_id)
        if obj is None or (typ is not None and obj.get("object") != typ):
            return None
        return obj

    def ids(self, typ: str, index: tuple[str, str] | None = None) -> OrderedIds:
        if index is not None:
            return self._indexes.get(index, OrderedIds())
        return self._by_type.get(typ, OrderedIds())

    def all(self, typ: str) -> list[dict[str, Any]]:
        return [self.objects[i] for i in self.ids(typ).ids]

    @staticmethod
    def snapshot(obj: dict[str, Any]) -> dict[str, Any]:
        """A deep copy (objects are plain JSON data; a JSON round trip is the fastest copy)."""
        return json.loads(json.dumps(obj))
