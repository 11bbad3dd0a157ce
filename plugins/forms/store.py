"""The endpoint's SQLite database: every submission, the messages it owes, the newsletter's subscribers.

WAL mode (readers never wait for the writer), one transaction per submission: the submission and the messages
it owes are committed together, so a crash leaves both or neither. A message is claimed before it is handed to
the SMTP server and marked after, so no two workers send it and no message is sent twice (one left "sending"
by a crash is in doubt: reported, never sent again by itself).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,            -- order | withdrawal
    key TEXT NOT NULL UNIQUE,      -- what makes a repeated post the same submission
    status TEXT NOT NULL,          -- order: received; withdrawal: draft, then confirmed
    lang TEXT NOT NULL,
    created TEXT NOT NULL,         -- UTC, ISO 8601
    confirmed TEXT,
    data TEXT NOT NULL,            -- the form as JSON
    ip TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    submission TEXT NOT NULL,      -- "order:12", "withdrawal:3", "signup:<address>:<its link's token, hashed>"
    purpose TEXT NOT NULL,         -- shop | customer | confirm
    recipient TEXT NOT NULL,
    message BLOB NOT NULL,         -- the whole message, Message-ID included
    status TEXT NOT NULL DEFAULT 'pending',  -- pending | sending | sent | failed | in_doubt
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try TEXT NOT NULL,
    last_reply TEXT NOT NULL DEFAULT '',
    sent TEXT,
    UNIQUE (submission, purpose, recipient)
);
CREATE TABLE IF NOT EXISTS subscribers (
    key TEXT PRIMARY KEY,          -- the address as the lists compare it
    address TEXT NOT NULL,
    status TEXT NOT NULL,          -- pending | confirmed | unsubscribed
    lang TEXT NOT NULL,
    token TEXT,                    -- SHA-256 of the pending confirmation link's token
    requested TEXT NOT NULL,
    mailed TEXT,
    confirmed TEXT,
    unsubscribed TEXT,
    ip TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS hits (ip TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_by_ip ON hits (ip, at);
"""


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat()


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=15000")
        db.execute("PRAGMA synchronous=FULL")
        return db

    @contextmanager
    def transaction(self):
        """One write transaction (BEGIN IMMEDIATE: writers queue instead of failing halfway)."""
        db = self.connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def read(self, sql: str, *args) -> list[sqlite3.Row]:
        db = self.connect()
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    # --- rate limit ---------------------------------------------------------------------------------
    def count_hit(self, ip: str, window: int, limit: int) -> bool:
        """Record one post from ip; False (and nothing recorded) when it already made `limit` in the window."""
        moment = now().timestamp()
        with self.transaction() as db:
            db.execute("DELETE FROM hits WHERE at < ?", (moment - window,))
            recent = db.execute("SELECT COUNT(*) FROM hits WHERE ip = ?", (ip,)).fetchone()[0]
            if recent >= limit:
                return False
            db.execute("INSERT INTO hits (ip, at) VALUES (?, ?)", (ip, moment))
            return True

    # --- messages -----------------------------------------------------------------------------------
    @staticmethod
    def queue(db: sqlite3.Connection, submission: str, purpose: str, recipient: str, message: bytes) -> None:
        """Owe a message, inside the caller's transaction; owed already (same submission and purpose): kept once."""
        db.execute("INSERT OR IGNORE INTO outbox (submission, purpose, recipient, message, next_try) "
                   "VALUES (?, ?, ?, ?, ?)", (submission, purpose, recipient, message, stamp(now())))

    def due(self) -> list[sqlite3.Row]:
        return self.read("SELECT id, recipient, message, attempts FROM outbox WHERE status = 'pending' "
                         "AND next_try <= ? ORDER BY id", stamp(now()))

    def claim(self, message_id: int) -> bool:
        with self.transaction() as db:
            return db.execute("UPDATE outbox SET status = 'sending', attempts = attempts + 1 "
                              "WHERE id = ? AND status = 'pending'", (message_id,)).rowcount == 1

    def settle(self, message_id: int, status: str, reply: str, retry_at: dt.datetime | None = None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE outbox SET status = ?, last_reply = ?, sent = CASE WHEN ? = 'sent' THEN ? END, "
                       "next_try = COALESCE(?, next_try) WHERE id = ?",
                       (status, reply, status, stamp(now()), stamp(retry_at) if retry_at else None, message_id))

    def recover(self) -> int:
        """Messages a killed process left "sending": in doubt (maybe delivered), never sent again by themselves."""
        with self.transaction() as db:
            return db.execute("UPDATE outbox SET status = 'in_doubt', last_reply = 'the endpoint stopped while "
                              "sending it' WHERE status = 'sending'").rowcount


def as_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
