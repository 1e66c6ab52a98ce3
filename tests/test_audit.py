"""The audit log: what is stored (and what is not), `tail`, the CLI, and writes from many threads."""

from __future__ import annotations

import json
import sqlite3
import threading

from click.testing import CliRunner

from assistant.audit import AuditLog, audit_path, citations_used, figures_used, format_entry
from assistant.cli import cli
from assistant.config import Settings
from assistant.models import Answer, Citation, Computation, Figure

LAW = Citation(doc_id="huisvestingswet_2014_versie_2015-10-12", title="Huisvestingswet 2014", date="2015-10-12",
               section="Hoofdstuk 5 › § 1 › Artikel 29", quote="De taakstelling, bedoeld in artikel 28, …",
               doc_type="wet")
VG = Figure(label="taakstelling landelijk", value=17000, unit="vergunninghouders", period="2024-II",
            source="taakstelling_landelijk[2024-II]")
IG = Figure(label="inwoners Rotterdam", value=655468, unit="inwoners", period="2022-01-01", source="gemeenten[GM0599]")
IN = Figure(label="inwoners Nederland", value=17590672, unit="inwoners", period="2022-01-01", source="gemeenten: SUM")
RESULT = Figure(label="taakstelling Rotterdam", value=634, unit="vergunninghouders", period="2024-II", computed=True,
                official=False, source="taakstelling_gemeente[GM0599, 2024-II]", citation=LAW)


def answer(question="Wat is de taakstelling van Rotterdam in 2024-II?", answered=True) -> Answer:
    if not answered:
        return Answer(question=question, answer="Dit staat niet in de bronnen die ik heb.", kind="abstain")
    computation = Computation(operation="art29", formula="ceil(17000 × 655468 / 17590672)", inputs=[VG, IG, IN],
                              result=634, unit="vergunninghouders", period="2024-II")
    return Answer(question=question, answer="- **634** [1]", answered=True, kind="table", figures=[RESULT],
                  computations=[computation], citations=[LAW], latency_ms=12.5)


def test_record_and_tail(tmp_path):
    log = AuditLog(tmp_path / "sub" / "audit.db")  # the folder is made when needed
    assert log.tail() == []
    first = log.record(answer(), "api", latency_ms=20.0)
    log.record(answer("Hoeveel kost koffie?", answered=False), "chat")
    entries = log.tail()
    assert [e.id for e in entries] == [first, first + 1]  # oldest first, like tail
    e = entries[0]
    assert (e.channel, e.question, e.answered, e.kind, e.language, e.latency_ms) == (
        "api", "Wat is de taakstelling van Rotterdam in 2024-II?", True, "table", "nl", 20.0)
    assert e.time.endswith("+00:00")
    assert [f["value"] for f in e.figures] == [634, 17000, 655468, 17590672]
    assert e.figures[0] == {"label": "taakstelling Rotterdam", "value": 634, "unit": "vergunninghouders",
                            "period": "2024-II", "source": "taakstelling_gemeente[GM0599, 2024-II]",
                            "computed": True, "official": False}
    assert e.citations == [{"doc_id": LAW.doc_id, "title": "Huisvestingswet 2014", "date": "2015-10-12",
                            "section": LAW.section}]
    no = entries[1]
    assert not no.answered and no.figures == [] and no.citations == [] and no.latency_ms is None
    assert [e.question for e in log.tail(1)] == ["Hoeveel kost koffie?"]


def test_latency_defaults_to_the_answers_own():
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as d:
        log = AuditLog(f"{d}/audit.db")
        log.record(answer(), "chat")
        assert log.tail()[0].latency_ms == 12.5


def test_stores_no_personal_data_columns(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    log.record(answer(), "api")
    columns = {r[1] for r in sqlite3.connect(tmp_path / "audit.db").execute("PRAGMA table_info(audit)")}
    assert columns == {"id", "time", "channel", "question", "language", "kind", "answered", "figures",
                       "citations", "latency_ms"}


def test_figures_used_include_computation_inputs_once():
    a = answer()
    a.figures.append(VG)  # also shown: still listed once
    assert [f["label"] for f in figures_used(a)] == [
        "taakstelling Rotterdam", "taakstelling landelijk", "inwoners Rotterdam", "inwoners Nederland"]
    assert citations_used(a)[0]["section"] == LAW.section


def test_date_figures_are_logged_with_their_date(tmp_path):
    deadline = Figure(label="RTB tot", value_date="2026-03-04", unit="datum", period="2024-06-25")
    log = AuditLog(tmp_path / "audit.db")
    log.record(Answer(question="Tot wanneer?", answered=True, kind="figure", figures=[deadline]), "api")
    assert log.tail()[0].figures[0]["value"] == "2026-03-04"


def test_long_questions_are_cut(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    log.record(answer("x" * 10_000), "api")
    assert len(log.tail()[0].question) == 2000


def test_unencodable_text_is_still_logged(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    assert log.record(answer("taakstelling \ud800 Rotterdam"), "api") is not None
    assert log.tail()[0].question == "taakstelling ? Rotterdam"


def test_a_broken_log_never_costs_the_answer(tmp_path):
    (tmp_path / "audit.db").mkdir()  # a folder where the file should be
    log = AuditLog(tmp_path / "audit.db")
    assert log.record(answer(), "api") is None


def test_many_threads(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    ids: list[int] = []

    def work():
        for _ in range(25):
            ids.append(log.record(answer(), "api"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 200 and None not in ids
    assert len(log.tail(1000)) == 200


def test_audit_path(monkeypatch, tmp_path):
    monkeypatch.delenv("ASSISTANT_AUDIT_DB", raising=False)
    monkeypatch.setenv("ASSISTANT_DB", str(tmp_path / "figures.db"))
    assert audit_path(Settings.from_env()) == tmp_path / "audit.db"
    monkeypatch.setenv("ASSISTANT_AUDIT_DB", str(tmp_path / "elsewhere.db"))
    assert audit_path() == tmp_path / "elsewhere.db"


def test_format_entry():
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as d:
        log = AuditLog(f"{d}/audit.db")
        log.record(answer(), "api", latency_ms=20.0)
        text = format_entry(log.tail()[0])
    assert "[api] answered, table, 20 ms" in text
    assert "Q: Wat is de taakstelling van Rotterdam in 2024-II?" in text
    assert "figure: taakstelling Rotterdam = 634 vergunninghouders (2024-II) [computed]" in text
    assert "cited: Huisvestingswet 2014 (2015-10-12), Hoofdstuk 5 › § 1 › Artikel 29" in text


def test_cli_audit_tail(monkeypatch, tmp_path):
    path = tmp_path / "audit.db"
    monkeypatch.setenv("ASSISTANT_AUDIT_DB", str(path))
    runner = CliRunner()
    empty = runner.invoke(cli, ["audit", "tail"])
    assert empty.exit_code == 0 and "No audit entries" in empty.output
    log = AuditLog(path)
    for i in range(5):
        log.record(answer(f"vraag {i}", answered=i % 2 == 0), "chat")
    text = runner.invoke(cli, ["audit", "tail", "-n", "2"])
    assert text.exit_code == 0
    assert "vraag 3" in text.output and "vraag 4" in text.output and "vraag 2" not in text.output
    assert "NOT answered" in text.output
    lines = runner.invoke(cli, ["audit", "tail", "--json"]).output.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["question"] for r in rows] == [f"vraag {i}" for i in range(5)]
    assert set(rows[0]) == {"id", "time", "channel", "question", "language", "kind", "answered", "figures",
                            "citations", "latency_ms"}
    assert runner.invoke(cli, ["audit", "tail", "-n", "0"]).exit_code != 0


def test_one_connection_for_many_entries(tmp_path, monkeypatch):
    """Opening and closing a connection per entry (a WAL checkpoint each time) capped the server."""
    import assistant.audit as audit_module

    opened = []
    real_connect = sqlite3.connect
    monkeypatch.setattr(audit_module.sqlite3, "connect", lambda *a, **k: opened.append(a) or real_connect(*a, **k))
    log = AuditLog(tmp_path / "audit.db")
    for i in range(50):
        log.record(answer(f"vraag {i}"), "api")
    assert len(log.tail(100)) == 50
    assert len(opened) == 1
    # another process (here: another connection) sees every entry while the log stays open
    assert real_connect(tmp_path / "audit.db").execute("SELECT count(*) FROM audit").fetchone() == (50,)


def test_a_moved_or_deleted_log_is_started_afresh(tmp_path):
    path = tmp_path / "audit.db"
    log = AuditLog(path)
    log.record(answer("voor"), "api")
    log.close()  # checkpoints the WAL into the file, so the file alone holds the entry
    path.rename(tmp_path / "audit-1.db")  # rotation
    log.record(answer("na het verplaatsen"), "api")
    assert [e.question for e in log.tail()] == ["na het verplaatsen"]
    assert [e.question for e in AuditLog(tmp_path / "audit-1.db").tail()] == ["voor"]
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    log.record(answer("na het wissen"), "api")
    assert [e.question for e in log.tail()] == ["na het wissen"]


def test_a_log_that_breaks_later_recovers(tmp_path):
    path = tmp_path / "audit.db"
    log = AuditLog(path)
    assert log.record(answer(), "api") is not None
    log.close()
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.mkdir()  # a folder where the file should be: not written, not raised
    assert log.record(answer(), "api") is None
    path.rmdir()
    assert log.record(answer("weer goed"), "api") is not None
    assert [e.question for e in log.tail()] == ["weer goed"]
