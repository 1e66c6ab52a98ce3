"""The figures database: contents, the art. 29 computation, atomic builds and their checks."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3

import pytest
import sqlite_utils

from assistant.database import BuildError, build, import_taakstelling


def test_gemeenten_complete(sql):
    rows = sql.query("SELECT COUNT(*) AS n, SUM(inwoners) AS total FROM gemeenten").dicts()[0]
    assert rows == {"n": 342, "total": 17_590_672}
    per_province = dict(sql.query("SELECT provincie, COUNT(*) FROM gemeenten GROUP BY provincie").rows)
    assert per_province["Noord-Brabant"] == 56 and per_province["Flevoland"] == 6
    assert len(per_province) == 12


@pytest.mark.parametrize(
    "gemeente,period,expected",
    [("Rotterdam", "2024-II", 634), ("Vlieland", "2024-II", 2), ("Almere", "2024-II", 211),
     ("Rotterdam", "2024-I", 699)],
)
def test_art29_worked_examples(sql, gemeente, period, expected):
    row = sql.query(
        "SELECT value, computed_value, official, formula, caveat, inwoners_peildatum FROM taakstelling_gemeente "
        "WHERE gemeente = :g AND period = :p", {"g": gemeente, "p": period}).dicts()[0]
    assert row["value"] == row["computed_value"] == expected
    assert row["official"] == 0
    assert "17590672" in row["formula"]
    assert "1 januari" in row["caveat"] and row["inwoners_peildatum"] == "2022-01-01"


def test_art29_rounds_up(sql):
    # ceil: every gemeente gets at least its pro-rata share, so the sum exceeds the national number
    totals = dict(sql.query("SELECT period, SUM(value) FROM taakstelling_gemeente GROUP BY period").rows)
    assert totals["2024-II"] >= 17_000 and totals["2024-I"] >= 18_750
    assert sql.query("SELECT MIN(value) FROM taakstelling_gemeente").rows[0][0] >= 1


def test_national_taakstelling_quotes(sql):
    rows = {r["period"]: r for r in sql.query("SELECT * FROM taakstelling_landelijk").dicts()}
    assert rows["2024-I"]["value"] == 18_750 and "18.750" in rows["2024-I"]["quote"]
    assert rows["2024-II"]["value"] == 17_000 and "17.000" in rows["2024-II"]["quote"]


def test_kerncijfers_cover_the_letter(sql):
    letter = "2024-04-25_brief_opvang_ontheemden_taakstelling"
    rows = sql.query("SELECT * FROM kerncijfers WHERE doc_id = :d", {"d": letter}).dicts()
    assert len(rows) >= 30
    values = {r["value"] for r in rows}
    for expected in (97_500, 133_500, 48_500, 96_000, 8_140, 105_500, 540, 6_200_000, 2_400_000, 120_000):
        assert expected in values
    dates = {r["value_date"] for r in rows}
    assert {"2025-03-04", "2024-11-01", "2025-07-01"} <= dates
    for r in rows:
        assert r["quote"] and r["section"] and r["period"] and r["unit"]


def test_conflicting_statements_kept(sql):
    rows = sql.query("SELECT value_date, doc_id FROM kerncijfers WHERE metric = 'rtb_einddatum'").rows
    assert {r[0] for r in rows} == {"2025-03-04", "2026-03-04"}


def test_coa_versions_both_kept(sql):
    totals = dict(sql.query(
        "SELECT versie, opgave_totaal_incl_amv FROM coa_provinciale_opgave WHERE provincie = 'Totaal'").rows)
    assert totals == {"A": 75_500, "B": 77_100}


@pytest.mark.parametrize(
    "alias,kind,targets",
    [
        ("den haag", "gemeente", {"'s-Gravenhage"}),
        ("den bosch", "gemeente", {"'s-Hertogenbosch"}),
        ("hengelo", "gemeente", {"Hengelo (O.)"}),
        ("nuenen", "gemeente", {"Nuenen, Gerwen en Nederwetten"}),
        ("sudwest fryslan", "gemeente", {"Súdwest-Fryslân"}),
        ("fryslan", "provincie", {"Friesland"}),
        ("friesland", "provincie", {"Friesland"}),
        ("bergen", "gemeente", {"Bergen (NH.)", "Bergen (L.)"}),
    ],
)
def test_aliases(sql, alias, kind, targets):
    rows = sql.query("SELECT target FROM aliases WHERE alias = :a AND kind = :k", {"a": alias, "k": kind}).rows
    assert {r[0] for r in rows} == targets


def test_plain_sqlite_utils_reads_it(settings):
    db = sqlite_utils.Database(settings.db_path)
    assert db["gemeenten"].count == 342
    assert "taakstelling_gemeente" in db.view_names()


# --- atomic builds ------------------------------------------------------------------------------


@pytest.fixture
def sources(tmp_path, settings):
    """A writable copy of db/ so a test can break one source file."""
    copy = tmp_path / "db"
    shutil.copytree(settings.sources_dir, copy, ignore=shutil.ignore_patterns("*.db", ".figures-*", "official"))  # not a build in progress
    s = dataclasses.replace(settings, sources_dir=copy, db_path=tmp_path / "out" / "figures.db")
    build(s)
    return s


def _break(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    "file,old,new,message",
    [
        ("raw/minvws_dashboard_gemeenten_veiligheidsregio_bevolking.csv", "655468", "655469", "population sum"),
        ("raw/minvws_dashboard_gemeenten_veiligheidsregio_bevolking.csv", "GM1992,Voorne aan Zee", "GM9999,Nergens", "has no provincie"),
        ("kerncijfers.csv", "97.500 opvangplekken", "97.600 opvangplekken", "does not occur verbatim"),
        ("kerncijfers.csv", ",plaatsen,", ",bedden,", "unknown unit"),
        # a statement ("feit") is its label and quote: a number on it is a mistake
        ("kerncijfers.csv", "socio-economic score\",,,feit,", "socio-economic score\",2,,feit,", "a fact"),
        ("aliases.csv", "Den Haag,gemeente,'s-Gravenhage", "Den Haag,gemeente,Atlantis", "does not exist"),
        ("metrics.csv", ",ontheemden_oekraine_in_nl,\n", ",ontheemden_in_atlantis,\n", "part_of"),
        ("metrics.csv", ",+rtb_einddatum\n", ",+rtb_einde_atlantis\n", "relative_to"),
    ],
)
def test_bad_source_rejected_and_old_db_kept(sources, file, old, new, message):
    before = sources.db_path.read_bytes()
    _break(sources.sources_dir / file, old, new)
    with pytest.raises(BuildError, match=message) as e:
        build(sources)
    assert str(sources.sources_dir / file.split("/")[-1]) in str(e.value) or file.split("/")[-1] in str(e.value)
    assert sources.db_path.read_bytes() == before
    assert not list(sources.db_path.parent.glob(".figures-*"))


def test_duplicate_metric_period_rejected(sources):
    path = sources.sources_dir / "kerncijfers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(BuildError, match=r"kerncijfers.csv:\d+: duplicate metric/period"):
        build(sources)


def test_not_utf8_rejected(sources):
    path = sources.sources_dir / "aliases.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    with pytest.raises(BuildError, match="aliases.csv: not UTF-8"):
        build(sources)


# --- official taakstelling import -----------------------------------------------------------------


def _official_rows(sql, period="2024-II"):
    return sql.query("SELECT gemeente, computed_value FROM taakstelling_gemeente WHERE period = :p ORDER BY gemeente",
                     {"p": period}).rows


def test_import_csv_takes_precedence(sources, tmp_path, sql):
    annex = tmp_path / "bijlage2.csv"
    rows = _official_rows(sql)
    lines = ["gemeente;taakstelling"] + [f"{name};{value - 1 if name == 'Rotterdam' else value}" for name, value in rows]
    annex.write_text("\n".join(lines), encoding="utf-8")
    report = import_taakstelling(annex, "2024-II", sources)
    assert report.rows == 342
    assert any("differs from the national" in w for w in report.warnings)
    conn = sqlite3.connect(sources.db_path)
    value, official, computed = conn.execute(
        "SELECT value, official, computed_value FROM taakstelling_gemeente WHERE gemeente='Rotterdam' AND period='2024-II'"
    ).fetchone()
    assert (value, official, computed) == (633, 1, 634)
    # still computed for the other half year
    assert conn.execute("SELECT official FROM taakstelling_gemeente WHERE gemeente='Rotterdam' AND period='2024-I'").fetchone() == (0,)
    # a rebuild keeps the imported annex
    build(sources)
    assert sqlite3.connect(sources.db_path).execute(
        "SELECT COUNT(*) FROM taakstelling_officieel").fetchone() == (342,)


def test_import_xlsx(sources, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Gemeentecode", "Taakstelling"])
    ws.append(["GM0599", 634])
    ws.append(["GM0096", 2])
    path = tmp_path / "bijlage.xlsx"
    wb.save(path)
    report = import_taakstelling(path, "2024-II", sources)
    assert report.rows == 2 and any("2 of 342" in w for w in report.warnings)


@pytest.mark.parametrize(
    "content,message",
    [
        ("gemeente;aantal\nRotterdm;634\nAmsterdm;1\n", "unknown gemeente.*Rotterdm.*Rotterdam"),
        ("gemeente;aantal\nRotterdam;634\nRotterdam;634\n", "appears twice"),
        ("gemeente;aantal\nRotterdam;-3\n", "negative"),
        ("gemeente;aantal\nRotterdam;6.5\n", "not an integer"),
        ("gemeente;aantal\nRotterdam;veel\n", "not an integer"),
        ("plaats;aantal\nRotterdam;634\n", "missing a gemeente column"),
        ("gemeente;bedrag\nRotterdam;634\n", "missing a value column"),
        ("", "empty"),
    ],
)
def test_import_rejects_whole_file(sources, tmp_path, content, message):
    before = sources.db_path.read_bytes()
    path = tmp_path / "annex.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BuildError, match=message):
        import_taakstelling(path, "2024-II", sources)
    assert sources.db_path.read_bytes() == before
    assert not (sources.sources_dir / "official").exists()


def test_import_rejects_wrong_encoding(sources, tmp_path):
    path = tmp_path / "annex.csv"
    path.write_bytes("gemeente;aantal\nSúdwest-Fryslân;50\n".encode("latin-1"))
    with pytest.raises(BuildError, match="not UTF-8"):
        import_taakstelling(path, "2024-II", sources)


def test_source_csvs_pass_the_deep_checks():
    """db/check_kerncijfers.py: quotes, sections against the documents' headings, value forms, catalogue."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "db" / "check_kerncijfers.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "0 errors" in result.stdout, result.stdout[-2000:]
