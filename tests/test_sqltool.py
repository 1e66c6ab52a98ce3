"""The SQL tool reads and nothing else, within its limits."""

from __future__ import annotations

import time

import pytest

from assistant.sqltool import SQLError, SQLTool

HOSTILE = [
    ("INSERT INTO gemeenten (code) VALUES ('GM0000')", "refused|read-only"),
    ("UPDATE gemeenten SET inwoners = 0", "refused|read-only"),
    ("DELETE FROM kerncijfers", "refused|read-only"),
    ("DROP TABLE gemeenten", "refused|read-only"),
    ("CREATE TABLE x (a)", "refused|read-only"),
    ("ATTACH DATABASE '/tmp/evil.db' AS evil", "refused"),
    ("DETACH DATABASE main", "refused"),
    ("PRAGMA writable_schema = 1", "refused"),
    ("PRAGMA table_info(gemeenten)", "refused"),
    ("SELECT load_extension('/tmp/evil.so')", "refused"),
    ("SELECT * FROM sqlite_master", "refused"),
    ("SELECT 1; DROP TABLE gemeenten", "one statement"),
    ("VACUUM INTO '/tmp/copy.db'", "refused"),
    ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c", "time limit"),
    ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c, gemeenten g1, gemeenten g2 ORDER BY 1", "time limit"),
    ("SELECT * FROM gemeenten g1, gemeenten g2, gemeenten g3 ORDER BY random()", "time limit|refused"),
    ("", "empty"),
]


@pytest.mark.parametrize("statement,message", HOSTILE)
def test_hostile_statements_refused(settings, statement, message):
    tool = SQLTool.open(settings, time_limit_s=0.5)
    start = time.monotonic()
    with pytest.raises(SQLError, match=message):
        tool.query(statement)
    assert time.monotonic() - start < 2.0
    # and the database is untouched
    assert tool.query("SELECT COUNT(*) FROM gemeenten").rows == [(342,)]


def test_parameters_are_bound_not_interpolated(sql):
    evil = "Rotterdam' OR '1'='1"
    assert sql.query("SELECT * FROM gemeenten WHERE naam = :n", {"n": evil}).rows == []
    assert len(sql.query("SELECT * FROM gemeenten WHERE naam = :n", {"n": "Rotterdam"}).rows) == 1


def test_row_limit(settings):
    tool = SQLTool.open(settings, max_rows=10)
    result = tool.query("SELECT naam FROM gemeenten")
    assert len(result.rows) == 10 and result.truncated


def test_bounded_recursion_allowed(sql):
    result = sql.query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5) SELECT SUM(x) FROM c")
    assert result.rows == [(15,)]


def test_views_readable(sql):
    rows = sql.query("SELECT gemeente, value FROM taakstelling_gemeente WHERE period = '2024-II' "
                     "ORDER BY value DESC LIMIT 1").rows
    assert rows[0][0] == "Amsterdam"


def test_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(SQLError, match="does not exist"):
        SQLTool(tmp_path / "nope.db").query("SELECT 1")
