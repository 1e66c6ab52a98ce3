"""The audit log: which questions were asked and what each answer rested on, in SQLite.

It lives in its own file (db/audit.db by default, ASSISTANT_AUDIT_DB to move it) because the figures
database is rebuilt and opened read-only. It stores the question, the answered flag, the figures and
citations used and the latency: no IP address, user agent, session or user id, by design.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .config import Settings
from .models import Answer

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000  # longer questions are refused by the engine anyway

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,           -- UTC, ISO 8601
    channel TEXT NOT NULL,        -- 'api' or 'chat'
    question TEXT NOT NULL,
    language TEXT,
    kind TEXT,
    answered INTEGER NOT NULL,
    figures TEXT NOT NULL,        -- JSON list: label, value, unit, period, source, computed, official
    citations TEXT NOT NULL,      -- JSON list: doc_id, title, date, section
    latency_ms REAL
);
CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
"""


def encodable(text: str) -> str:
    """SQLite stores UTF-8: a lone surrogate (possible in JSON input) becomes '?'."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def audit_path(settings: Settings | None = None) -> Path:
    """ASSISTANT_AUDIT_DB, else audit.db next to the figures database."""
    if os.environ.get("ASSISTANT_AUDIT_DB"):
        return Path(os.environ["ASSISTANT_AUDIT_DB"])
    settings = settings or Settings.from_env()
    return settings.db_path.parent / "audit.db"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: str
    channel: str
    question: str
    language: str | None
    kind: str | None
    answered: bool
    figures: list[dict]
    citations: list[dict]
    latency_ms: float | None

    def to_json_dict(self) -> dict:
        return dict(self.__dict__)


def figures_used(answer: Answer) -> list[dict]:
    """The shown figures and the inputs of every computation, each once."""
    seen, out = set(), []
    for f in [*answer.figures, *(i for c in answer.computations for i in c.inputs)]:
        key = (f.label, f.value, f.value_date, f.period, f.source)
        if key in seen:
            continue
        seen.add(key)
        item = {"label": f.label, "value": f.value if f.value_date is None else f.value_date,
                "unit": f.unit, "period": f.period, "source": f.source, "computed": f.computed,
                "official": f.official}
        out.append({k: v for k, v in item.items() if v is not None})
    return out


def citations_used(answer: Answer) -> list[dict]:
    return [{"doc_id": c.doc_id, "title": c.title, "date": c.date, "section": c.section}
            for c in answer.citations]


@dataclass(frozen=True)
class AuditRecord:
    """What the log keeps of one answer, apart from the time, the channel and the latency."""

    question: str
    language: str | None
    kind: str | None
    answered: int
    figures: str  # JSON
    citations: str  # JSON
    latency_ms: float | None

    @classmethod
    def of(cls, answer: Answer) -> "AuditRecord":
        return cls(
            question=encodable((answer.question or "")[:MAX_QUESTION_CHARS]),
            language=answer.language,
            kind=answer.kind,
            answered=int(bool(answer.answered)),
            figures=encodable(json.dumps(figures_used(answer), ensure_ascii=False)),
            citations=encodable(json.dumps(citations_used(answer), ensure_ascii=False)),
            latency_ms=answer.latency_ms,
        )


class AuditLog:
    """Append-only and safe to share between threads: one connection, kept open, used under a lock.

    Opening and closing a connection per entry cost ~3 ms: closing the last connection to a WAL
    database checkpoints it (an fsync), so the log, not the engine, capped the server at ~280
    questions a second. The open connection commits each entry to the WAL (no fsync under
    synchronous=NORMAL) and SQLite checkpoints every ~1,000 pages. If the file is moved or deleted
    (log rotation) the next entry opens a new one at `path`.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None  # (device, inode) of the file `_conn` writes to

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _connect(self) -> sqlite3.Connection:
        """The open connection (call with the lock held); a new one on first use or after rotation."""
        if self._conn is not None and self._identity() == self._file:
            return self._conn
        self._close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)  # only used under the lock
        try:
            # WAL with synchronous=NORMAL: one fsync per checkpoint, not per question; a crash of the
            # machine can lose the last few entries but never corrupts the log
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._conn, self._file = conn, self._identity()
        return conn

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:  # pragma: no cover - closing a broken connection
                pass
        self._conn, self._file = None, None

    def close(self) -> None:
        """Close the connection (at shutdown: it checkpoints the WAL into the file); reopened if used again."""
        with self._lock:
            self._close()

    def record(self, answer: "Answer | AuditRecord", channel: str, latency_ms: float | None = None) -> int | None:
        """Log one answer (or its AuditRecord, made once for an answer served many times); a failing
        log is reported but never costs the user the answer."""
        entry = answer if isinstance(answer, AuditRecord) else AuditRecord.of(answer)
        row = (
            datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            channel,
            entry.question,
            entry.language,
            entry.kind,
            entry.answered,
            entry.figures,
            entry.citations,
            latency_ms if latency_ms is not None else entry.latency_ms,
        )
        try:
            with self._lock:
                try:
                    conn = self._connect()
                    with conn:
                        cur = conn.execute(
                            "INSERT INTO audit (time, channel, question, language, kind, answered, figures,"
                            " citations, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                    return cur.lastrowid
                except sqlite3.Error:
                    self._close()  # start afresh next time (the file may have been replaced or repaired)
                    raise
        except (sqlite3.Error, ValueError) as e:  # ValueError: text SQLite cannot encode
            log.error("audit log %s not written: %s", self.path, e)
            return None

    def tail(self, n: int = 20) -> list[AuditEntry]:
        """The latest n entries, oldest first (as `tail` shows them)."""
        if not self.path.exists():
            return []
        with self._lock:
            rows = self._connect().execute(
                "SELECT id, time, channel, question, language, kind, answered, figures, citations,"
                " latency_ms FROM audit ORDER BY id DESC LIMIT ?", (max(0, n),)).fetchall()
        return [
            AuditEntry(id=r[0], time=r[1], channel=r[2], question=r[3], language=r[4], kind=r[5],
                       answered=bool(r[6]), figures=json.loads(r[7]), citations=json.loads(r[8]),
                       latency_ms=r[9])
            for r in reversed(rows)
        ]


def plain(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def format_entry(e: AuditEntry) -> str:
    """One entry as a few readable lines for `assistant audit tail`."""
    flag = "answered" if e.answered else "NOT answered"
    latency = f"{e.latency_ms:.0f} ms" if e.latency_ms is not None else "? ms"
    lines = [f"#{e.id} {e.time} [{e.channel}] {flag}, {e.kind}, {latency}", f"  Q: {e.question}"]
    for f in e.figures:
        extra = ", ".join(x for x in ("computed" if f.get("computed") else "",
                                      "official" if f.get("official") else "") if x)
        lines.append(f"  figure: {f.get('label')} = {plain(f.get('value'))} {f.get('unit', '')} ({f.get('period', '')})"
                     + (f" [{extra}]" if extra else "") + (f" ← {f['source']}" if f.get("source") else ""))
    for c in e.citations:
        lines.append(f"  cited: {c.get('title')} ({c.get('date')}), {c.get('section')}")
    return "\n".join(lines)
