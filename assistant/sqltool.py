"""The read-only SQL tool: the only way the engine, an LLM or a user reads the figures database.

Defence in depth: the file is opened read-only, an authorizer allows nothing but reads of the
allow-listed tables and views, parameters are bound, and every query has a row and a time limit.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings

ALLOWED_TABLES = frozenset(
    {
        "documents", "gemeenten", "aliases", "kerncijfers", "metrics", "taakstelling_landelijk",
        "taakstelling_officieel", "taakstelling_berekend", "taakstelling_gemeente",
        "coa_provinciale_opgave", "nieuws_cijfers",
    }
)
SAFE_FUNCTIONS = frozenset(
    {
        "abs", "avg", "count", "sum", "total", "min", "max", "round", "lower", "upper", "length",
        "coalesce", "ifnull", "nullif", "substr", "substring", "replace", "trim", "ltrim", "rtrim",
        "instr", "printf", "format", "cast", "group_concat", "date", "strftime", "like", "glob",
        "iif", "typeof", "row_number", "rank", "dense_rank", "ceil", "floor",
    }
)


SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema",
                           "sqlite_sequence", "sqlite_stat1", "sqlite_stat4"})


class SQLError(Exception):
    """A refused or failed query, with a one-line message fit for the user."""


@dataclass
class QueryResult:
    sql: str
    params: dict | tuple
    columns: list[str]
    rows: list[tuple]
    truncated: bool = False
    elapsed_ms: float = 0.0

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, r)) for r in self.rows]


@dataclass
class SQLTool:
    path: Path
    max_rows: int = 1000
    time_limit_s: float = 1.0
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @classmethod
    def open(cls, settings: Settings | None = None, **kwargs) -> "SQLTool":
        settings = settings or Settings.from_env()
        return cls(settings.db_path, **kwargs)

    @property
    def conn(self) -> sqlite3.Connection:
        """One read-only connection per thread, so each query's time limit is its own."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self.path.exists():
                raise SQLError(f"figures database {self.path} does not exist; run `assistant db build`")
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            schema = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")} | SCHEMA_TABLES
            conn.set_authorizer(lambda *args: _authorizer(schema, *args))
            self._local.conn = conn
        return conn

    def query(self, sql: str, params: dict | tuple = ()) -> QueryResult:
        if not isinstance(sql, str) or not sql.strip():
            raise SQLError("empty query")
        deadline = time.monotonic() + self.time_limit_s
        conn = self.conn

        def check_deadline() -> int:
            return 1 if time.monotonic() > deadline else 0

        conn.set_progress_handler(check_deadline, 10_000)
        start = time.perf_counter()
        try:
            cursor = conn.execute(sql, params)
            rows = cursor.fetchmany(self.max_rows + 1)
        except sqlite3.ProgrammingError as e:
            if "one statement" in str(e):
                raise SQLError("only one statement per query is allowed") from None
            raise SQLError(f"query refused: {e}") from None
        except sqlite3.DatabaseError as e:
            message = str(e)
            if "interrupted" in message:
                raise SQLError(f"query exceeded the time limit of {self.time_limit_s:g} s") from None
            if "not authorized" in message or "prohibited" in message or "authorization denied" in message:
                raise SQLError("query refused: only reads of the figures tables are allowed") from None
            if "readonly" in message or "read-only" in message:
                raise SQLError("query refused: the figures database is read-only") from None
            raise SQLError(f"query failed: {message}") from None
        finally:
            conn.set_progress_handler(None, 0)
        columns = [d[0] for d in cursor.description or ()]
        truncated = len(rows) > self.max_rows
        return QueryResult(
            sql=sql, params=params, columns=columns, rows=rows[: self.max_rows],
            truncated=truncated, elapsed_ms=(time.perf_counter() - start) * 1000,
        )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _authorizer(schema, action, arg1, arg2, db_name, trigger_or_view):
    if action == sqlite3.SQLITE_SELECT:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_READ:
        table = arg1
        if table in ALLOWED_TABLES or trigger_or_view in ALLOWED_TABLES:
            return sqlite3.SQLITE_OK
        # A name that is no table of the file is a CTE of the query itself.
        return sqlite3.SQLITE_DENY if table in schema or db_name not in (None, "", "main") else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_OK if (arg2 or "").lower() in SAFE_FUNCTIONS else sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_RECURSIVE:
        return sqlite3.SQLITE_OK  # bounded by the time limit
    return sqlite3.SQLITE_DENY
