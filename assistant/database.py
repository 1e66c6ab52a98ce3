"""Build the figures database from the CSV sources in `db/`, atomically and validated.

The CSVs are the source of truth (with their provenance); the SQLite file is derived and can be
rebuilt at any time. A build writes a temporary file, validates it and only then replaces the
previous database, so a bad source never leaves the assistant without a usable database.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from .config import Settings
from .text import normalize_name

NATIONAL_POPULATION_2022 = 17_590_672
EXPECTED_GEMEENTEN = 342
POPULATION_PERIOD = "2022-01-01"
FACT = "feit"  # a statement without a number or date ("verdeeld naar inwoneraantal …"): its label says it
KNOWN_UNITS = {
    "plaatsen", "personen", "asielaanvragen", "vergunninghouders", "euro", "euro per maand",
    "dagen", "maanden", "jaar", "jaar oud", "weken", "personen per week", "gemeenten", "locaties", "jongeren",
    "jongeren per woongroep", "jongeren per woonhuis",
    "datum", "procent", "inwoners", "feit",
}
ART29_CAVEAT = (
    "Berekend, niet officieel: art. 29 Huisvestingswet 2014 schrijft de CBS-bevolkingscijfers per "
    "1 januari van het voorgaande kalenderjaar voor; wij hebben alleen die van 1 januari 2022 "
    "(indeling 2023)."
)
POPULATION_SOURCE = "minvws_dashboard_gemeenten_veiligheidsregio_bevolking"
PROVINCE_SOURCE = "regioviewer_gemeenten_provincie_2025"
COA_SOURCE = "coa_provinciale_opgave_per_1jan2024"
NEWS_FIGURES_SOURCE = "nieuws_gerapporteerde_cijfers_opvang_partieel"
LAW_DOC = "huisvestingswet_2014_versie_2015-10-12"


class BuildError(Exception):
    """A source file is wrong; the message names the file and line."""


@dataclass
class BuildReport:
    path: Path
    counts: dict[str, int]


def normalize_quote(text: str) -> str:
    """The quote rule of docs/CONVENTIONS.md: markers and emphasis out, whitespace collapsed."""
    text = re.sub(r"<sup>.*?</sup>", "", text)
    text = text.replace("**", "").replace("*", "")
    return re.sub(r"\s+", " ", text).strip()


def read_csv(path: Path) -> list[dict]:
    """Rows with their 1-based file line numbers (header is line 1)."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except UnicodeDecodeError as e:
        raise BuildError(f"{path}: not UTF-8 ({e.reason} at byte {e.start})") from None
    except FileNotFoundError:
        raise BuildError(f"{path}: file not found") from None
    for line, row in enumerate(rows, start=2):
        row["_line"] = line
    return rows


def _where(path: Path, row: dict) -> str:
    return f"{path}:{row['_line']}"


def _strip(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "_line"}


# --- loaders: one per source, each returning rows for one table --------------------------------


def load_documents(settings: Settings) -> list[dict]:
    from .knowledge import load_document

    rows = []
    for path in sorted(settings.documents_dir.glob("*")):
        if path.suffix.lower() not in {".md", ".txt", ".pdf"}:
            continue
        doc = load_document(path)
        rows.append(
            {
                "id": doc.doc_id,
                "title": doc.title,
                "type": doc.doc_type,
                "date": doc.date or doc.version_date,
                "version_date": doc.version_date,
                "source": doc.source,
                "caveat": doc.caveat,
                "completeness": doc.completeness,
                "path": f"knowledge/documents/{path.name}",
            }
        )
    tables = settings.sources_dir / "source_tables.csv"
    for row in read_csv(tables):
        rows.append(
            {
                "id": row["id"], "title": row["title"], "type": "tabel", "date": row["date"],
                "version_date": None, "source": row["source"], "caveat": row["caveat"],
                "completeness": None, "path": f"db/raw/{row['id']}.csv",
            }
        )
    return rows


def load_gemeenten(settings: Settings) -> list[dict]:
    raw = settings.sources_dir / "raw"
    pop_path = raw / f"{POPULATION_SOURCE}.csv"
    prov_path = raw / f"{PROVINCE_SOURCE}.csv"
    provinces = {r["gemeentecode"]: r for r in read_csv(prov_path)}
    rows = []
    for r in read_csv(pop_path):
        code = r["gemeentecode"]
        if code not in provinces:
            raise BuildError(f"{_where(pop_path, r)}: {code} {r['gemeentenaam']} has no provincie in {prov_path.name}")
        try:
            inwoners = int(r["population_count"])
        except ValueError:
            raise BuildError(f"{_where(pop_path, r)}: population_count {r['population_count']!r} is not an integer") from None
        rows.append(
            {
                "code": code,
                "naam": r["gemeentenaam"],
                "provincie": provinces[code]["provincie"],
                "veiligheidsregio_code": r["veiligheidsregio_code"],
                "veiligheidsregio": r["veiligheidsregio_naam"],
                "inwoners": inwoners,
                "inwoners_peildatum": POPULATION_PERIOD,
                "bron_inwoners": POPULATION_SOURCE,
                "bron_provincie": PROVINCE_SOURCE,
            }
        )
    return rows


def load_aliases(settings: Settings, gemeenten: list[dict]) -> list[dict]:
    """Every name people may use for a place, normalised; one alias may point at several places."""
    entries: set[tuple[str, str, str, str]] = set()

    def add(alias: str, kind: str, target: str, note: str) -> None:
        entries.add((normalize_name(alias), kind, target, note))

    for g in gemeenten:
        add(g["naam"], "gemeente", g["naam"], "officiële naam")
        short = re.sub(r"\s*\(.*?\)\s*$", "", g["naam"])
        if short != g["naam"]:
            add(short, "gemeente", g["naam"], "naam zonder toevoeging")
        add(g["provincie"], "provincie", g["provincie"], "officiële naam")
        add(g["veiligheidsregio"], "veiligheidsregio", g["veiligheidsregio"], "officiële naam")
    path = settings.sources_dir / "aliases.csv"
    known = {
        "gemeente": {g["naam"] for g in gemeenten},
        "provincie": {g["provincie"] for g in gemeenten},
        "veiligheidsregio": {g["veiligheidsregio"] for g in gemeenten},
        "land": {"Nederland"},
    }
    for row in read_csv(path):
        kind, target = row["kind"], row["target"]
        if kind not in known:
            raise BuildError(f"{_where(path, row)}: unknown kind {kind!r} (expected one of {', '.join(sorted(known))})")
        if target not in known[kind]:
            raise BuildError(f"{_where(path, row)}: {kind} {target!r} does not exist")
        add(row["alias"], kind, target, row.get("note") or "")
    return [
        {"alias": a, "kind": k, "target": t, "note": n or None}
        for a, k, t, n in sorted(entries)
    ]


def load_kerncijfers(settings: Settings, documents: dict[str, Path]) -> list[dict]:
    path = settings.sources_dir / "kerncijfers.csv"
    texts: dict[str, str] = {}
    seen: dict[tuple, int] = {}
    rows = []
    for r in read_csv(path):
        where = _where(path, r)
        doc_id = r["doc_id"]
        if doc_id not in documents:
            raise BuildError(f"{where}: unknown document {doc_id!r}")
        if doc_id not in texts:
            texts[doc_id] = normalize_quote(documents[doc_id].read_text(encoding="utf-8"))
        if normalize_quote(r["quote"]) not in texts[doc_id]:
            raise BuildError(f"{where}: quote for {r['metric']} does not occur verbatim in {doc_id}")
        if r["unit"] not in KNOWN_UNITS:
            raise BuildError(f"{where}: unknown unit {r['unit']!r}")
        key = (r["metric"], r["period"], doc_id)
        if key in seen:
            raise BuildError(f"{where}: duplicate metric/period {r['metric']} {r['period']} (first on line {seen[key]})")
        seen[key] = r["_line"]
        value, value_date = (r.get("value") or "").strip(), (r.get("value_date") or "").strip()
        if r["unit"] == FACT:
            if value or value_date:
                raise BuildError(f"{where}: a fact (unit {FACT!r}) is its label and quote; leave value and value_date empty")
        elif bool(value) == bool(value_date):
            raise BuildError(f"{where}: give exactly one of value and value_date")
        try:
            number = float(value) if value else None
        except ValueError:
            raise BuildError(f"{where}: value {value!r} is not a number") from None
        row = _strip(r)
        row.update(value=number, value_date=value_date or None)
        rows.append({k: (v if v != "" else None) for k, v in row.items()})
    return rows


def load_metrics(settings: Settings) -> list[dict]:
    path = settings.sources_dir / "metrics.csv"
    rows, seen = [], set()
    for r in read_csv(path):
        if r["metric"] in seen:
            raise BuildError(f"{_where(path, r)}: duplicate metric {r['metric']!r}")
        seen.add(r["metric"])
        rows.append(_strip(r))
    for r in rows:
        if r.get("part_of") and r["part_of"] not in seen:
            raise BuildError(f"{path}: {r['metric']}: part_of {r['part_of']!r} is no metric")
        relative = r.get("relative_to") or ""
        if relative and (relative[:1] not in "+-" or relative[1:] not in seen | {"start"}):
            raise BuildError(f"{path}: {r['metric']}: relative_to {relative!r} is not +/- a date metric or 'start'")
    return rows


def load_taakstelling_landelijk(settings: Settings, documents: dict[str, Path]) -> list[dict]:
    path = settings.sources_dir / "taakstelling_landelijk.csv"
    rows = []
    for r in read_csv(path):
        doc = documents.get(r["doc_id"])
        if doc is None:
            raise BuildError(f"{_where(path, r)}: unknown document {r['doc_id']!r}")
        if normalize_quote(r["quote"]) not in normalize_quote(doc.read_text(encoding="utf-8")):
            raise BuildError(f"{_where(path, r)}: quote does not occur verbatim in {r['doc_id']}")
        row = _strip(r)
        row["value"] = int(row["value"])
        rows.append(row)
    return rows


def load_coa(settings: Settings) -> list[dict]:
    path = settings.sources_dir / "raw" / f"{COA_SOURCE}.csv"
    return [
        {
            "versie": r["versie"], "provincie": r["provincie"],
            "opgave_totaal_incl_amv": int(r["opgave_totaal_incl_amv"]),
            "opgave_amv": int(r["opgave_amv"]), "peildatum": r["peildatum"],
            "bron_url": r["bron_url"], "bron": COA_SOURCE,
        }
        for r in read_csv(path)
    ]


def load_news_figures(settings: Settings) -> list[dict]:
    path = settings.sources_dir / "raw" / f"{NEWS_FIGURES_SOURCE}.csv"
    return [dict(_strip(r), bron=NEWS_FIGURES_SOURCE) for r in read_csv(path)]


def load_official(settings: Settings) -> list[dict]:
    """Official per-gemeente taakstelling imported earlier (kept as CSV so rebuilds keep them)."""
    rows = []
    for path in sorted((settings.sources_dir / "official").glob("taakstelling_*.csv")):
        rows.extend(_strip(r) | {"value": int(r["value"])} for r in read_csv(path))
    return rows


# --- views -----------------------------------------------------------------------------------

VIEWS = {
    # Art. 29: ceil(vg × iG / iN) in exact integer arithmetic.
    "taakstelling_berekend": f"""
        SELECT g.code AS gemeentecode, g.naam AS gemeente, g.provincie, g.veiligheidsregio,
               t.period, t.value AS vg, g.inwoners AS ig, n.totaal AS "in",
               (t.value * g.inwoners + n.totaal - 1) / n.totaal AS value,
               1 AS computed,
               'ceil(vg × iG / iN) = ceil(' || t.value || ' × ' || g.inwoners || ' / ' || n.totaal || ')' AS formula,
               g.inwoners_peildatum AS inwoners_peildatum,
               '{ART29_CAVEAT}' AS caveat
        FROM gemeenten g
        CROSS JOIN taakstelling_landelijk t
        CROSS JOIN (SELECT SUM(inwoners) AS totaal FROM gemeenten) n
    """,
    # Official where imported, else computed; both values kept and labelled.
    "taakstelling_gemeente": """
        SELECT b.gemeentecode, b.gemeente, b.provincie, b.veiligheidsregio, b.period,
               COALESCE(o.value, b.value) AS value,
               CASE WHEN o.value IS NULL THEN 0 ELSE 1 END AS official,
               o.value AS official_value, b.value AS computed_value, b.formula, b.vg, b.ig, b."in",
               b.inwoners_peildatum, b.caveat, o.source_file AS official_source
        FROM taakstelling_berekend b
        LEFT JOIN taakstelling_officieel o
          ON o.gemeentecode = b.gemeentecode AND o.period = b.period
    """,
}


# --- build and validate ----------------------------------------------------------------------


def document_paths(settings: Settings) -> dict[str, Path]:
    """Every source a key figure may quote: the documents, and the source tables (as CSV text)."""
    paths = {p.stem: p for p in sorted(settings.documents_dir.glob("*")) if p.is_file()}
    for p in sorted((settings.sources_dir / "raw").glob("*.csv")):
        paths.setdefault(p.stem, p)
    return paths


def populate(db: sqlite_utils.Database, settings: Settings) -> dict[str, int]:
    docs = document_paths(settings)
    gemeenten = load_gemeenten(settings)
    tables = {
        "documents": (load_documents(settings), "id"),
        "gemeenten": (gemeenten, "code"),
        "aliases": (load_aliases(settings, gemeenten), None),
        "kerncijfers": (load_kerncijfers(settings, docs), None),
        "metrics": (load_metrics(settings), "metric"),
        "taakstelling_landelijk": (load_taakstelling_landelijk(settings, docs), "period"),
        "coa_provinciale_opgave": (load_coa(settings), None),
        "nieuws_cijfers": (load_news_figures(settings), None),
    }
    for name, (rows, pk) in tables.items():
        db[name].insert_all(rows, pk=pk) if pk else db[name].insert_all(rows)
    db["taakstelling_officieel"].create(
        {"period": str, "gemeentecode": str, "gemeente": str, "value": int, "source_file": str,
         "imported_at": str},
        pk=("period", "gemeentecode"), if_not_exists=True,
    )
    official = load_official(settings)
    if official:
        db["taakstelling_officieel"].insert_all(official)
    db["aliases"].create_index(["alias"])
    db["kerncijfers"].create_index(["metric"])
    for name, sql in VIEWS.items():
        db.create_view(name, sql, replace=True)
    return {name: db[name].count for name in [*tables, "taakstelling_officieel"]}


def validate(db: sqlite_utils.Database, settings: Settings) -> None:
    pop_file = settings.sources_dir / "raw" / f"{POPULATION_SOURCE}.csv"
    n = db["gemeenten"].count
    if n != EXPECTED_GEMEENTEN:
        raise BuildError(f"{pop_file}: {n} gemeenten, expected {EXPECTED_GEMEENTEN}")
    total = db.execute("SELECT SUM(inwoners) FROM gemeenten").fetchone()[0]
    if total != NATIONAL_POPULATION_2022:
        raise BuildError(f"{pop_file}: population sum {total:,} differs from {NATIONAL_POPULATION_2022:,} (CBS 1-1-2022)")
    catalogue = {r["metric"] for r in db["metrics"].rows}
    missing = sorted({r["metric"] for r in db["kerncijfers"].rows} - catalogue)
    if missing:
        raise BuildError(f"{settings.sources_dir / 'metrics.csv'}: no catalogue row for {', '.join(missing)}")


def build(settings: Settings | None = None) -> BuildReport:
    """Build into a temporary file next to the target, validate, then atomically replace it."""
    settings = settings or Settings.from_env()
    target = settings.db_path
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".figures-", suffix=".db", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        db = sqlite_utils.Database(tmp)
        counts = populate(db, settings)
        validate(db, settings)
        db.conn.commit()
        db.close()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BuildReport(path=target, counts=counts)


# --- official per-gemeente taakstelling ----------------------------------------------------------

GEMEENTE_COLUMNS = ("gemeentecode", "gemeente", "gemeentenaam", "code", "naam")
VALUE_COLUMNS = ("taakstelling", "aantal", "value", "waarde")


@dataclass
class ImportReport:
    period: str
    rows: int
    total: int
    national: int | None
    warnings: list[str]
    csv_path: Path


def _read_table(path: Path) -> list[dict]:
    """Rows of a CSV (UTF-8, comma or semicolon) or XLSX file, as dicts with lower-case keys."""
    if not path.exists():
        raise BuildError(f"{path}: file not found")
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        import openpyxl

        try:
            sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).active
        except Exception as e:  # openpyxl raises many types for a broken file
            raise BuildError(f"{path}: not a readable XLSX file ({type(e).__name__})") from None
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        values = [r for r in values if any(v not in (None, "") for v in r)]
        if not values:
            raise BuildError(f"{path}: the file is empty")
        header = [str(h or "").strip().lower() for h in values[0]]
        return [dict(zip(header, r)) | {"_line": i} for i, r in enumerate(values[1:], start=2)]
    if path.suffix.lower() != ".csv":
        raise BuildError(f"{path}: unsupported file type {path.suffix!r} (expected .csv or .xlsx)")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BuildError(f"{path}: not UTF-8 (byte {e.start}); save the file as UTF-8 CSV") from None
    if not text.strip():
        raise BuildError(f"{path}: the file is empty")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    reader.fieldnames = [(h or "").strip().lower() for h in reader.fieldnames or []]
    return [r | {"_line": i} for i, r in enumerate(reader, start=2)]


def import_taakstelling(path: Path, period: str, settings: Settings | None = None) -> ImportReport:
    """Validate an official annex completely before changing anything; then store and load it."""
    from rapidfuzz import process

    settings = settings or Settings.from_env()
    if not re.fullmatch(r"\d{4}-(I|II)", period):
        raise BuildError(f"--period {period!r}: expected a half year such as 2024-II")
    rows = _read_table(path)
    if not rows:
        raise BuildError(f"{path}: no data rows")
    header = set(rows[0]) - {"_line"}
    name_col = next((c for c in GEMEENTE_COLUMNS if c in header), None)
    value_col = next((c for c in VALUE_COLUMNS if c in header), None)
    if name_col is None or value_col is None:
        need = "a gemeente column (" + "/".join(GEMEENTE_COLUMNS) + ")" if name_col is None else \
            "a value column (" + "/".join(VALUE_COLUMNS) + ")"
        raise BuildError(f"{path}: missing {need}; found columns {', '.join(sorted(header))}")

    gemeenten = load_gemeenten(settings)
    by_code = {g["code"]: g for g in gemeenten}
    by_name = {normalize_name(a["alias"]): a["target"] for a in load_aliases(settings, gemeenten)
               if a["kind"] == "gemeente"}
    by_official = {g["naam"]: g for g in gemeenten}
    errors, unmatched, seen, parsed = [], [], {}, []
    for r in rows:
        where = f"{path}:{r['_line']}"
        raw_name, raw_value = str(r.get(name_col) or "").strip(), r.get(value_col)
        g = by_code.get(raw_name.upper()) or by_official.get(by_name.get(normalize_name(raw_name), ""))
        if g is None:
            suggestion = process.extractOne(raw_name, list(by_official))
            unmatched.append(f"{raw_name!r} (line {r['_line']}; bedoelt u {suggestion[0]!r}?)")
            continue
        try:
            value = float(str(raw_value).replace(",", ".")) if raw_value not in (None, "") else None
        except ValueError:
            value = None
        if value is None or value != int(value):
            errors.append(f"{where}: value {raw_value!r} for {g['naam']} is not an integer")
            continue
        if value < 0:
            errors.append(f"{where}: negative value {int(value)} for {g['naam']}")
            continue
        if g["code"] in seen:
            errors.append(f"{where}: {g['naam']} appears twice (first on line {seen[g['code']]})")
            continue
        seen[g["code"]] = r["_line"]
        parsed.append({"period": period, "gemeentecode": g["code"], "gemeente": g["naam"],
                       "value": int(value), "source_file": path.name})
    if unmatched:
        errors.insert(0, f"{path}: unknown gemeente(n): " + "; ".join(unmatched))
    if errors:
        raise BuildError(errors[0] if len(errors) == 1 else f"{errors[0]} (and {len(errors) - 1} more problems)")

    national = next((r["value"] for r in load_taakstelling_landelijk(settings, document_paths(settings))
                     if r["period"] == period), None)
    total = sum(p["value"] for p in parsed)
    warnings = []
    if national is not None and total != national:
        warnings.append(f"total {total} differs from the national taakstelling {national} for {period}")
    if len(parsed) != EXPECTED_GEMEENTEN:
        warnings.append(f"{len(parsed)} of {EXPECTED_GEMEENTEN} gemeenten in the file")

    from datetime import datetime, timezone

    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for p in parsed:
        p["imported_at"] = stamp
    out = settings.sources_dir / "official" / f"taakstelling_{period}.csv"
    previous = out.read_bytes() if out.exists() else None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(parsed[0]))
        writer.writeheader()
        writer.writerows(parsed)
    os.replace(tmp, out)
    try:
        build(settings)  # the database is derived: rebuild atomically so it holds the new rows
    except BaseException:
        if previous is None:
            out.unlink()
        else:
            out.write_bytes(previous)
        raise
    return ImportReport(period, len(parsed), total, national, warnings, out)
