#!/usr/bin/env python3
"""Check db/kerncijfers.csv, db/taakstelling_landelijk.csv and db/metrics.csv against the documents.

Standard library only. Run from anywhere:  python3 db/check_kerncijfers.py
Exit code 0 when there are no errors; INFO lines are things a reviewer should know but that are allowed
(a number written as a word, a year taken from "jl." or the document date, a quote that stops where the
source breaks a sentence with a footnote/page break, a qualifier that is not literally in the quote).

What is checked (see docs/CONVENTIONS.md):
- every quote occurs in its document per the quote rule: `<sup>…</sup>` markers and Markdown emphasis
  (`**`, `*`) removed and all whitespace collapsed, on both sides;
- the quote starts and ends on a sentence boundary (or where the source paragraph breaks off);
- the `section` equals the section path computed from the document's headings (footnotes take the section
  of the passage that references them);
- every value's digits are visible in its quote (97500 <-> "97.500", 6200000 <-> "6,2 miljoen"; a number
  word such as "vier" is allowed and reported); every value_date's day and month (and year, or the year is
  explained in the note) are in the quote;
- units in the allowed list; value xor value_date; period format; for a date fact period = document date;
- (metric, period, doc_id) unique; per metric one unit/scope/label;
- every kerncijfers metric has a metrics.csv row (table kerncijfers, same unit and labels, level = scope),
  the table-backed metrics exist with their tables, synonyms 6-15 per metric and not shared between metrics;
- taakstelling_landelijk.csv agrees with the taakstelling_landelijk rows in kerncijfers.csv.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

DB = Path(__file__).resolve().parent
DOCS = DB.parent / "knowledge" / "documents"

K_COLS = ["metric", "label_nl", "label_en", "value", "value_date", "unit", "scope", "period", "qualifier", "doc_id",
          "section", "quote", "note", "source_date"]
M_COLS = ["metric", "label_nl", "label_en", "synonyms", "unit", "table", "level", "description", "excludes",
          "part_of", "relative_to"]
T_COLS = ["period", "value", "qualifier", "doc_id", "section", "quote"]

UNITS = {"plaatsen", "personen", "asielaanvragen", "vergunninghouders", "euro", "euro per maand", "dagen", "maanden",
         "jongeren per woongroep", "jongeren per woonhuis",
         "jaar", "jaar oud", "weken", "personen per week", "gemeenten", "locaties", "jongeren", "datum", "procent", "feit"}
# table-backed metrics the engine has built-in answers for: key -> (table, unit). Other rows may name
# any table of the figures database, or "geen" for a figure people ask about that no source holds.
TABLES = {"taakstelling_gemeente", "gemeenten", "coa_provinciale_opgave", "nieuws_cijfers", "geen"}
TABLE_METRICS = {
    "taakstelling_gemeente": ("taakstelling_gemeente", "vergunninghouders"),
    "inwoners": ("gemeenten", "inwoners"),
    "provincie": ("gemeenten", ""),
    "veiligheidsregio": ("gemeenten", ""),
    "aantal_gemeenten": ("gemeenten", "gemeenten"),
    "coa_provinciale_opgave": ("coa_provinciale_opgave", "plaatsen"),
    "coa_provinciale_opgave_amv": ("coa_provinciale_opgave", "plaatsen"),
}
MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december"]
NUMBER_WORDS = {0.5: ["half"], 1: ["een", "één"], 2: ["twee"], 3: ["drie"], 4: ["vier"], 5: ["vijf"], 6: ["zes"],
                7: ["zeven"], 8: ["acht"], 9: ["negen"], 10: ["tien"], 11: ["elf"], 12: ["twaalf"],
                13: ["dertien"], 20: ["twintig"], 30: ["dertig"], 40: ["veertig"], 50: ["vijftig"]}
PERIOD_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{4}-(I|II)|\d{4}|\d{4}-\d{4})$")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SEP = " › "

errors: list[str] = []
infos: list[str] = []


def err(where: str, msg: str) -> None:
    errors.append(f"ERROR {where}: {msg}")


def info(where: str, msg: str) -> None:
    infos.append(f"INFO  {where}: {msg}")


def norm(s: str) -> str:
    """The quote rule: drop <sup>…</sup> markers and Markdown emphasis, collapse whitespace."""
    s = re.sub(r"<sup>.*?</sup>", "", s, flags=re.S)
    s = s.replace("*", "")
    return " ".join(s.split())


def clean_heading(s: str) -> str:
    return " ".join(s.replace("#", " ").replace("*", " ").split())


# ---------------------------------------------------------------------------------------------
# documents: front matter, blocks, section paths
# ---------------------------------------------------------------------------------------------
class Doc:
    def __init__(self, path: Path):
        self.id = path.stem
        raw = path.read_text(encoding="utf-8")
        self.meta: dict[str, str] = {}
        body = raw
        if raw.startswith("---\n"):
            end = raw.index("\n---", 4)
            for line in raw[4:end].splitlines():
                if ":" in line:
                    k, v = line.split(":", 1)
                    self.meta[k.strip()] = v.strip().strip('"')
            body = raw[end + 4:]
        self.type = self.meta.get("type", "")
        self.date = self.meta.get("date") or self.meta.get("version_date", "")
        self.blocks = self._blocks(body)
        self._sections()
        # normalized full text with block offsets
        parts, self.spans, pos = [], [], 0
        for b in self.blocks:
            nb = norm(b["text"])
            if not nb:
                continue
            if parts:
                pos += 1
            self.spans.append((pos, pos + len(nb), b))
            parts.append(nb)
            pos += len(nb)
        self.text = " ".join(parts)

    @staticmethod
    def _blocks(body: str) -> list[dict]:
        blocks, cur = [], []
        for line in body.splitlines():
            if line.strip() == "" or line.lstrip().startswith("#"):
                if cur:
                    blocks.append({"text": "\n".join(cur)})
                    cur = []
                if line.strip():
                    blocks.append({"text": line})  # a Markdown heading line is always its own block
            else:
                cur.append(line)
        if cur:
            blocks.append({"text": "\n".join(cur)})
        return blocks

    def _sections(self) -> None:
        path: list[str] = []
        law: dict[int, str] = {}  # law levels: 1 Hoofdstuk, 2 §, 3 Artikel
        started = self.type != "brief"  # the letter: headings only after the salutation (not the letterhead)
        pending = None  # law: "Hoofdstuk N" / "§ N" waiting for its "####Title" line
        for b in self.blocks:
            t = b["text"].strip()
            single = "\n" not in t
            b["heading"] = False
            if self.type == "brief":
                if t.startswith("Geachte"):
                    started = True
                elif started and single:
                    h = t.lstrip("#").strip()
                    if re.fullmatch(r"\*\*[^*].*?\*\*", h):
                        path = [clean_heading(h)]
                        b["heading"] = True
                    elif re.fullmatch(r"\*[^*].*?\*", h):
                        path = path[:1] + [clean_heading(h)]
                        b["heading"] = True
            elif self.type == "nieuws":
                if single and re.match(r"^##\s", t):
                    path = [clean_heading(t)]
                    b["heading"] = True
                elif single and re.match(r"^#\s", t):
                    b["heading"] = True  # document title, not part of the path
            elif self.type == "wet":
                if single and re.match(r"^###\s*Hoofdstuk\b", t):
                    pending = (1, clean_heading(t))
                    b["heading"] = True
                elif single and re.match(r"^###\s*§", t):
                    pending = (2, clean_heading(t))
                    b["heading"] = True
                elif single and re.match(r"^####", t) and pending:
                    lvl, name = pending
                    law = {k: v for k, v in law.items() if k < lvl}
                    law[lvl] = f"{name} {clean_heading(t)}"
                    path = [law[k] for k in sorted(law)]
                    pending = None
                    b["heading"] = True
                elif single and re.match(r"^###\s*Artikel\b", t):
                    law = {k: v for k, v in law.items() if k < 3}
                    law[3] = clean_heading(t)
                    path = [law[k] for k in sorted(law)]
                    b["heading"] = True
            b["section"] = SEP.join(path) if path else "Inleiding"
            m = re.match(r"^<sup>(\d+)</sup>", t)
            b["footnote"] = m.group(1) if m else None
        # a footnote belongs to the section of the passage that references it
        for b in self.blocks:
            if b["footnote"]:
                ref = f"<sup>{b['footnote']}</sup>"
                for other in self.blocks:
                    if other is not b and not other["footnote"] and ref in other["text"]:
                        b["section"] = other["section"]
                        break

    def find(self, quote: str) -> list[tuple[int, int]]:
        q = norm(quote)
        out, i = [], self.text.find(q)
        while i >= 0 and q:
            out.append((i, i + len(q)))
            i = self.text.find(q, i + 1)
        return out

    def span_at(self, pos: int):
        for s, e, b in self.spans:
            if s <= pos < e:
                return s, e, b
        return None


# ---------------------------------------------------------------------------------------------
def read_csv(path: Path, cols: list[str]) -> list[dict]:
    if not path.exists():
        err(path.name, "file missing")
        return []
    with path.open(encoding="utf-8", newline="") as f:
        rd = csv.reader(f)
        header = next(rd, [])
        if header != cols:
            err(path.name, f"header {header} != {cols}")
        rows = []
        for n, rec in enumerate(rd, start=2):
            if len(rec) != len(cols):
                err(f"{path.name}:{n}", f"{len(rec)} fields, expected {len(cols)}")
                continue
            rows.append(dict(zip(cols, rec), _line=n))
    return rows


def number_forms(v: float) -> list[str]:
    if v == int(v):
        n = int(v)
        forms = [str(n), f"{n:,}".replace(",", ".")]
        if n >= 1_000_000:
            m = f"{n / 1_000_000:.3f}".rstrip("0").rstrip(".").replace(".", ",")
            forms.append(f"{m} miljoen")
        return forms
    s = repr(v)
    return [s, s.replace(".", ",")]


def check_value(where: str, value: str, quote: str) -> None:
    try:
        v = float(value)
    except ValueError:
        err(where, f"value {value!r} is not a plain number")
        return
    q = norm(quote)
    for form in number_forms(v):
        if re.search(rf"(?<![\d.,]){re.escape(form)}(?!\d|[.,]\d)", q):
            return
    key = int(v) if v == int(v) else v
    for w in NUMBER_WORDS.get(key, []):
        if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", q, flags=re.I):
            info(where, f"value {value} appears as the number word '{w}'")
            return
    err(where, f"value {value} not visible in quote (tried {number_forms(v)})")


def check_date(where: str, iso: str, quote: str, note: str) -> None:
    y, m, d = int(iso[:4]), int(iso[5:7]), int(iso[8:10])
    q = norm(quote)
    hit = re.search(rf"(?<!\d){d} {MONTHS[m - 1]}(?:\s+(\d{{4}}))?", q)
    if not hit:
        err(where, f"value_date {iso}: '{d} {MONTHS[m - 1]}' not in quote")
        return
    if hit.group(1):
        if int(hit.group(1)) != y:
            err(where, f"value_date {iso}: quote has year {hit.group(1)}")
    elif str(y) in note:
        info(where, f"value_date {iso}: year not in quote, explained in note")
    else:
        err(where, f"value_date {iso}: year not in quote and not explained in note")


def check_quote(where: str, doc: Doc, section: str, quote: str) -> None:
    if not quote.strip():
        err(where, "empty quote")
        return
    hits = doc.find(quote)
    if not hits:
        err(where, f"quote not found in {doc.id}: {norm(quote)[:90]!r}")
        return
    found_sections = set()
    ok_section = None
    for s, e in hits:
        sp = doc.span_at(s)
        sec = sp[2]["section"] if sp else "?"
        found_sections.add(sec)
        if sec == section:
            ok_section = (s, e, sp)
    if not ok_section:
        err(where, f"section {section!r} but quote is in {sorted(found_sections)}")
        return
    s, e, (bs, be, _b) = ok_section
    before = doc.text[:s].rstrip()
    if s != bs and not re.search(r"[.!?:][)\"'’]?$", before):
        err(where, f"quote does not start at a sentence start: …{doc.text[max(0, s - 30):s]!r}")
    q = norm(quote)
    if re.search(r"[.!?][)\"'’]?$", q):
        pass
    elif e == be:
        info(where, "quote ends where the source paragraph breaks off (sentence continues after a footnote/page break)")
    else:
        err(where, f"quote does not end at a sentence end: {doc.text[e:e + 30]!r}…")


# ---------------------------------------------------------------------------------------------
def main() -> int:
    docs = {p.stem: Doc(p) for p in sorted(DOCS.glob("*.md"))}
    krows = read_csv(DB / "kerncijfers.csv", K_COLS)
    mrows = read_csv(DB / "metrics.csv", M_COLS)
    trows = read_csv(DB / "taakstelling_landelijk.csv", T_COLS)

    # --- kerncijfers ---------------------------------------------------------------------------
    seen = Counter()
    per_metric = defaultdict(list)
    for r in krows:
        where = f"kerncijfers.csv:{r['_line']} [{r['metric']} {r['period']}]"
        for col in ("metric", "label_nl", "label_en", "unit", "scope", "period", "doc_id", "section", "quote"):
            if not r[col].strip():
                err(where, f"empty {col}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", r["metric"]):
            err(where, "metric is not snake_case")
        if r["unit"] not in UNITS:
            err(where, f"unit {r['unit']!r} not allowed")
        if not PERIOD_RE.match(r["period"]):
            err(where, f"period {r['period']!r} not in CONVENTIONS format")
        doc = docs.get(r["doc_id"])
        table = DB / "raw" / f"{r['doc_id']}.csv"
        if doc is None and table.exists():  # a figure quoted from a source table (its `citaat`)
            if r["quote"] not in table.read_text(encoding="utf-8"):
                err(where, f"quote not found in {table.name}")
            seen[(r["metric"], r["period"], r["doc_id"])] += 1
            per_metric[r["metric"]].append(r)
            continue
        if doc is None:
            err(where, f"unknown doc_id {r['doc_id']!r}")
            continue
        seen[(r["metric"], r["period"], r["doc_id"])] += 1
        per_metric[r["metric"]].append(r)
        if r["unit"] == "feit":  # a statement: its label says it, its quote proves it
            if r["value"] or r["value_date"]:
                err(where, "a fact has neither value nor value_date")
            if r["period"] != doc.date:
                err(where, f"fact: period {r['period']} != document date {doc.date}")
        elif r["unit"] == "datum":
            if r["value"]:
                err(where, "date fact must have an empty value")
            if not ISO_RE.match(r["value_date"]):
                err(where, f"date fact needs ISO value_date, got {r['value_date']!r}")
            else:
                check_date(where, r["value_date"], r["quote"], r["note"])
            if r["period"] != doc.date:
                err(where, f"date fact: period {r['period']} != document date {doc.date}")
        else:
            if r["value_date"]:
                err(where, "value_date set on a non-date figure")
            check_value(where, r["value"], r["quote"])
        check_quote(where, doc, r["section"], r["quote"])
        if r["qualifier"] and r["qualifier"].lower() not in norm(r["quote"]).lower():
            info(where, f"qualifier {r['qualifier']!r} is not literally in the quote")
    for key, n in seen.items():
        if n > 1:
            err("kerncijfers.csv", f"duplicate (metric, period, doc_id) {key} x{n}")
    for key, rows in per_metric.items():
        # a statement's label is what its source says: two sources may say it differently (feit)
        for col in ("unit", "scope") + (("label_nl", "label_en") if rows[0]["unit"] != "feit" else ()):
            vals = {x[col] for x in rows}
            if len(vals) > 1:
                err(f"kerncijfers.csv [{key}]", f"inconsistent {col}: {sorted(vals)}")

    # --- metrics ------------------------------------------------------------------------------
    mcat = {}
    syn_owner = defaultdict(set)
    for r in mrows:
        where = f"metrics.csv:{r['_line']} [{r['metric']}]"
        if r["metric"] in mcat:
            err(where, "duplicate metric key")
        mcat[r["metric"]] = r
        for col in ("label_nl", "label_en", "synonyms", "table", "description") + (("level",) if r["table"] != "geen" else ()):
            if not r[col].strip():
                err(where, f"empty {col}")
        syns = [s.strip() for s in r["synonyms"].split(";")]
        if any(not s for s in syns):
            err(where, "empty synonym")
        low = [s.lower() for s in syns if s]
        if len(low) != len(set(low)):
            err(where, "duplicate synonym within the metric")
        if not 5 <= len(low) <= 20:
            err(where, f"{len(low)} synonyms, expected 5-20")
        for s in set(low):
            syn_owner[s].add(r["metric"])
        if r["table"] == "kerncijfers":
            rows = per_metric.get(r["metric"])
            if not rows:
                err(where, "table kerncijfers but no kerncijfers row")
                continue
            k = rows[0]
            if r["unit"] != k["unit"]:
                err(where, f"unit {r['unit']!r} != kerncijfers unit {k['unit']!r}")
            if k["unit"] == "feit":  # each source's statement starts with what it is about
                if any(not (x["label_nl"].startswith(r["label_nl"]) and x["label_en"].startswith(r["label_en"])) for x in rows):
                    err(where, "a statement's row labels do not start with the metric's labels")
            elif (r["label_nl"], r["label_en"]) != (k["label_nl"], k["label_en"]):
                err(where, "labels differ from kerncijfers.csv")
            if r["level"] != k["scope"].lower():
                err(where, f"level {r['level']!r} != scope {k['scope']!r}")
        elif r["table"] not in TABLES:
            err(where, f"unknown table {r['table']!r}")
    for s, owners in syn_owner.items():
        if len(owners) > 1:
            err("metrics.csv", f"synonym {s!r} shared by {sorted(owners)}")
    for key in per_metric:
        if key not in mcat:
            err("metrics.csv", f"kerncijfers metric {key!r} has no metrics.csv row")
    for key, (table, unit) in TABLE_METRICS.items():
        r = mcat.get(key)
        if r is None:
            err("metrics.csv", f"table-backed metric {key!r} missing")
        elif (r["table"], r["unit"]) != (table, unit):
            err("metrics.csv", f"{key}: table/unit {(r['table'], r['unit'])} != {(table, unit)}")

    # --- taakstelling_landelijk ------------------------------------------------------------------
    ks = {r["period"]: r for r in per_metric.get("taakstelling_landelijk", [])}
    tp = set()
    for r in trows:
        where = f"taakstelling_landelijk.csv:{r['_line']} [{r['period']}]"
        tp.add(r["period"])
        k = ks.get(r["period"])
        if k is None:
            err(where, "no matching taakstelling_landelijk row in kerncijfers.csv")
            continue
        for col in ("value", "qualifier", "doc_id", "section", "quote"):
            if r[col] != k[col]:
                err(where, f"{col} differs from kerncijfers.csv")
    if tp != set(ks):
        err("taakstelling_landelijk.csv", f"periods {sorted(tp)} != kerncijfers {sorted(ks)}")

    for r in mrows:  # part_of: the whole a figure is part of ("108.000 …, waarvan ca. 92.000 in de GOO")
        whole = mcat.get(r["part_of"]) if r["part_of"] else None
        if r["part_of"] and (whole is None or whole["table"] not in ("kerncijfers", r["table"])
                             or (r["unit"] and whole["unit"] != r["unit"])):  # a key figure, or a column of its table
            err(f"metrics.csv [{r['metric']}]", f"part_of {r['part_of']!r}: no key figure (or figure of its table) in the same unit")

    # --- report --------------------------------------------------------------------------------
    for line in infos:
        print(line)
    for line in errors:
        print(line)
    print(f"\nkerncijfers.csv: {len(krows)} rows, {len(per_metric)} metrics, "
          f"{sum(1 for r in krows if r['unit'] == 'datum')} date facts, {len({r['doc_id'] for r in krows})} documents")
    print(f"metrics.csv: {len(mrows)} metrics ({sum(1 for r in mrows if r['table'] == 'kerncijfers')} kerncijfers, "
          f"{sum(1 for r in mrows if r['table'] != 'kerncijfers')} table-backed)")
    print(f"taakstelling_landelijk.csv: {len(trows)} rows")
    print(f"{len(errors)} errors, {len(infos)} info")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
