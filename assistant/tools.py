"""The three tools every answer is built from: `sql` (figures), `retrieve` (passages), `compute`.

Each returns typed values that keep their provenance: a Figure knows its SQL and row, a
Computation its formula and inputs, a Citation its document, section and quote.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property

from .config import Settings
from .models import Citation, Computation, Figure
from .sqltool import SQLTool
from .text import fold

KERNCIJFERS_SQL = """
SELECT k.*, d.title, COALESCE(k.source_date, d.date) AS doc_date, d.type AS doc_type, d.completeness, d.version_date
FROM kerncijfers k JOIN documents d ON d.id = k.doc_id
WHERE k.metric = :metric
ORDER BY doc_date DESC, k.period
"""
GEMEENTE_SQL = "SELECT * FROM gemeenten WHERE naam = :naam"
TAAKSTELLING_SQL = """
SELECT * FROM taakstelling_gemeente WHERE gemeente = :naam AND period = :period
"""
TAAKSTELLING_PERIODS_SQL = "SELECT period FROM taakstelling_landelijk ORDER BY period"
AGGREGATE_SQL = {
    "taakstelling_gemeente": """
        SELECT SUM(value) AS value, COUNT(*) AS n, SUM(official) AS n_official FROM taakstelling_gemeente
        WHERE period = :period AND ({where})""",
    "inwoners": "SELECT SUM(inwoners) AS value, COUNT(*) AS n FROM gemeenten WHERE {where}",
    "aantal_gemeenten": "SELECT COUNT(*) AS value, COUNT(*) AS n FROM gemeenten WHERE {where}",
    "aantal_provincies": "SELECT COUNT(DISTINCT provincie) AS value, COUNT(*) AS n FROM gemeenten WHERE {where}",
    "aantal_veiligheidsregios": "SELECT COUNT(DISTINCT veiligheidsregio) AS value, COUNT(*) AS n FROM gemeenten WHERE {where}",
}
PLACE_FIGURE_UNITS = {"taakstelling_gemeente": "vergunninghouders", "inwoners": "inwoners", "aantal_gemeenten": "gemeenten",
               "aantal_provincies": "provincies", "aantal_veiligheidsregios": "veiligheidsregio's"}
SCOPE_WHERE = {
    "provincie": "provincie = :scope",
    "veiligheidsregio": "veiligheidsregio = :scope",
    "land": "1 = 1",
}
RANK_SQL = {
    "taakstelling_gemeente": """
        SELECT gemeente AS name, value, official FROM taakstelling_gemeente
        WHERE period = :period AND ({where}) ORDER BY value {direction}, gemeente LIMIT :n""",
    "inwoners": """
        SELECT naam AS name, inwoners AS value FROM gemeenten WHERE {where}
        ORDER BY inwoners {direction}, naam LIMIT :n""",
}
WHERE_SQL = {
    "taakstelling_gemeente": """
        SELECT gemeente AS name, value, official FROM taakstelling_gemeente
        WHERE period = :period AND ({where}) AND value {op} :value ORDER BY value DESC, gemeente""",
    "inwoners": """
        SELECT naam AS name, inwoners AS value FROM gemeenten WHERE ({where}) AND inwoners {op} :value
        ORDER BY inwoners DESC, naam""",
}
GROUP_SQL = {
    "taakstelling_gemeente": """
        SELECT {group} AS name, SUM(value) AS value FROM taakstelling_gemeente WHERE period = :period
        GROUP BY {group} ORDER BY value {direction}, name""",
    "inwoners": "SELECT {group} AS name, SUM(inwoners) AS value FROM gemeenten GROUP BY {group} ORDER BY value {direction}, name",
    "aantal_gemeenten": "SELECT {group} AS name, COUNT(*) AS value FROM gemeenten GROUP BY {group} ORDER BY value {direction}, name",
}
COA_SQL = """
SELECT * FROM coa_provinciale_opgave WHERE provincie = :provincie ORDER BY versie
"""


def reported_value(text: str) -> tuple[str | None, float | None]:
    """'een krappe 15.000' → ('een krappe', 15000); '2717' → (None, 2717); '8,5 procent' → None."""
    m = re.fullmatch(r"\s*([^\d]*?)\s*(\d{1,3}(?:\.\d{3})+|\d+)\s*", text or "")
    if not m:
        return None, None
    return (m[1] or None), float(m[2].replace(".", ""))


# What a reported Spreidingswet figure measures, by the words of its `maatstaf`: the first that fits.
REPORTED_MEASURES = (("spreidingswet_gerealiseerd_gerapporteerd", ("gerealiseerd", "gevonden")),
                     ("spreidingswet_opgave_amv_gerapporteerd", ("amv",)))
REPORTED = {"spreidingswet_opgave_gerapporteerd", *(m for m, _ in REPORTED_MEASURES)}


def reported_measure(maatstaf: str) -> str:
    return next((m for m, words in REPORTED_MEASURES if any(w in maatstaf.lower() for w in words)),
                "spreidingswet_opgave_gerapporteerd")


def doc_note(doc_type: str | None, completeness: str | None, version_date: str | None) -> str | None:
    """What a reader must know about the document a quote comes from (see docs/CONVENTIONS.md)."""
    if completeness and completeness.lower().startswith("partial"):
        return "tekst onvolledig"
    if doc_type == "wet" and version_date:
        return f"wettekst, versie {version_date}"
    return None


LIGHT_WEIGHT = 0.25  # a light word ("willen", "mensen") in text coverage, against a topic word


@dataclass
class Tools:
    settings: Settings
    sql: SQLTool
    calls: list[str] = field(default_factory=list)  # the tool calls made, in order: shown and audited

    @classmethod
    def open(cls, settings: Settings | None = None) -> "Tools":
        settings = settings or Settings.from_env()
        return cls(settings, SQLTool.open(settings))

    # --- sql ---------------------------------------------------------------------------------

    def query(self, sql: str, params: dict | None = None) -> list[dict]:
        self.calls.append(f"sql: {' '.join(sql.split())} {params or ''}".strip())
        return self.sql.query(sql, params or {}).dicts()

    @cached_property
    def documents(self) -> dict[str, dict]:
        return {d["id"]: d for d in self.sql.query("SELECT * FROM documents").dicts()}

    def table_citation(self, table_id: str, section: str, quote: str) -> Citation:
        d = self.documents[table_id]
        return Citation(doc_id=table_id, title=d["title"], date=d["date"], section=section, quote=quote,
                        doc_type="tabel", note=d.get("caveat"))

    def kerncijfers(self, metric: str) -> list[Figure]:
        rows = self.query(KERNCIJFERS_SQL, {"metric": metric})
        figures = []
        for r in rows:
            citation = Citation(
                doc_id=r["doc_id"], title=r["title"], date=r["doc_date"], section=r["section"],
                quote=r["quote"], doc_type=r["doc_type"],
                note=doc_note(r["doc_type"], r["completeness"], r["version_date"]),
            )
            figures.append(Figure(
                label=r["label_nl"], label_en=r["label_en"], value=r["value"], value_date=r["value_date"], unit=r["unit"],
                period=r["period"], qualifier=r["qualifier"], scope=r["scope"], metric=metric,
                source=f"kerncijfers[{metric}, {r['period']}, {r['doc_id']}]",
                sql=" ".join(KERNCIJFERS_SQL.split()), quote=r["quote"], citation=citation,
                caveat=r.get("note"),
            ))
        return figures

    def metrics_with_value(self, value: float) -> list[str]:
        """Key figures equal to a number the asker typed ('de 96.000 van de capaciteitsraming')."""
        rows = self.query("SELECT DISTINCT metric FROM kerncijfers WHERE value = :v", {"v": value})
        return [r["metric"] for r in rows]

    def metrics_with_date(self, iso: str) -> list[str]:
        """Date facts a source gave as this date ('klopt het dat het op 4 maart 2025 afloopt?')."""
        rows = self.query("SELECT DISTINCT metric FROM kerncijfers WHERE value_date = :d", {"d": iso})
        return [r["metric"] for r in rows]

    def gemeente(self, naam: str) -> dict | None:
        rows = self.query(GEMEENTE_SQL, {"naam": naam})
        return rows[0] if rows else None

    def taakstelling_periods(self) -> list[str]:
        return [r["period"] for r in self.query(TAAKSTELLING_PERIODS_SQL)]

    def national_taakstelling(self, period: str) -> Figure | None:
        rows = self.query("SELECT * FROM taakstelling_landelijk WHERE period = :p", {"p": period})
        if not rows:
            return None
        r = rows[0]
        d = self.documents[r["doc_id"]]
        return Figure(
            label="taakstelling huisvesting vergunninghouders (landelijk)",
            label_en="national housing quota for status holders", value=r["value"],
            unit="vergunninghouders", period=period, qualifier=r.get("qualifier") or None,
            scope="Nederland", metric="taakstelling_landelijk",
            source=f"taakstelling_landelijk[{period}]", quote=r["quote"],
            citation=Citation(doc_id=r["doc_id"], title=d["title"], date=d["date"], section=r["section"],
                              quote=r["quote"], doc_type=d["type"]),
        )

    def population_figure(self, g: dict) -> Figure:
        return Figure(
            label=f"inwoners {g['naam']}", value=g["inwoners"], unit="inwoners",
            period=g["inwoners_peildatum"], scope=g["naam"], scope_kind="gemeente", metric="inwoners",
            source=f"gemeenten[{g['code']}]", sql=f"{GEMEENTE_SQL} -- naam = {g['naam']}",
            citation=self.table_citation(g["bron_inwoners"], f"gemeenten: {g['code']} {g['naam']}",
                                         f"{g['code']},{g['naam']},{g['veiligheidsregio_code']},{g['veiligheidsregio']},{g['inwoners']}"),
        )

    def national_population(self) -> Figure:
        total = self.query("SELECT SUM(inwoners) AS n, MIN(inwoners_peildatum) AS p FROM gemeenten")[0]
        return Figure(
            label="inwoners Nederland (som van 342 gemeenten)",
            label_en="inhabitants of the Netherlands (sum of 342 municipalities)", value=total["n"], unit="inwoners",
            period=total["p"], scope="Nederland", scope_kind="land", metric="inwoners",
            source="gemeenten: SUM(inwoners)", sql="SELECT SUM(inwoners) FROM gemeenten",
        )

    def taakstelling(self, naam: str, period: str) -> tuple[Figure, Computation | None]:
        """Official where imported; else computed by art. 29, with the computation shown."""
        r = self.query(TAAKSTELLING_SQL, {"naam": naam, "period": period})[0]
        vg = self.national_taakstelling(period)
        g = self.gemeente(naam)
        ig = self.population_figure(g)
        i_n = self.national_population()
        computation = Computation(
            operation="art29", formula=f"ceil(vg × iG / iN) = ceil({r['vg']} × {r['ig']} / {r['in']})",
            inputs=[vg, ig, i_n], result=r["computed_value"], unit="vergunninghouders", period=period,
        )
        law = self.law_citation("Artikel 29")
        figure = Figure(
            label=f"taakstelling {naam}", value=r["value"], unit="vergunninghouders", period=period,
            scope=naam, scope_kind="gemeente", metric="taakstelling_gemeente",
            source=f"taakstelling_gemeente[{r['gemeentecode']}, {period}]",
            sql=" ".join(TAAKSTELLING_SQL.split()) + f" -- naam = {naam}, period = {period}",
            computed=not r["official"], official=bool(r["official"]),
            formula=None if r["official"] else computation.formula,
            caveat=None if r["official"] else r["caveat"], citation=law,
        )
        return figure, computation

    def law_citation(self, article: str) -> Citation:
        rows = self.query(
            "SELECT d.* FROM documents d WHERE d.type = 'wet' ORDER BY d.date DESC LIMIT 1"
        )
        d = rows[0]
        section = "Hoofdstuk 5 Bovengemeentelijke voorschriften › § 1 Huisvesting van vergunninghouders › " + article
        quote = ("De taakstelling, bedoeld in artikel 28, is de uitkomst, naar boven afgerond op een geheel "
                 "getal, van de formule:")
        return Citation(doc_id=d["id"], title=d["title"], date=d["date"], section=section, quote=quote,
                        doc_type="wet", note=doc_note("wet", d["completeness"], d["version_date"]))

    def coa(self, provincie: str) -> list[Figure]:
        rows = self.query(COA_SQL, {"provincie": provincie})
        figures = []
        for r in rows:
            for metric, column, label, label_en in (
                ("coa_provinciale_opgave", "opgave_totaal_incl_amv", "COA provinciale opgave incl. amv",
                 "COA provincial reception task incl. unaccompanied minors"),
                ("coa_provinciale_opgave_amv", "opgave_amv", "COA provinciale opgave amv",
                 "COA provincial reception task, unaccompanied minors"),
            ):
                figures.append(Figure(
                    label=f"{label} {provincie} (versie {r['versie']})",
                    label_en=f"{label_en}, {'the Netherlands' if provincie == 'Totaal' else provincie} (version {r['versie']})",
                    value=r[column], unit="plaatsen",
                    period=r["peildatum"], scope=provincie, metric=metric,
                    scope_kind="land" if provincie == "Totaal" else "provincie",
                    source=f"coa_provinciale_opgave[versie {r['versie']}, {provincie}]",
                    sql=" ".join(COA_SQL.split()) + f" -- provincie = {provincie}",
                    caveat="twee gepubliceerde versies (A en B); welke nieuwer is, is onbekend",
                    citation=self.table_citation(r["bron"], f"versie {r['versie']}: {provincie}",
                                                 f"{r['versie']},{provincie},{r['opgave_totaal_incl_amv']},{r['opgave_amv']},{r['peildatum']}"),
                ))
        return figures

    def coa_ranking(self, metric: str, lowest: bool, n: int) -> list[Figure]:
        """Per published version, the provinces ranked; the page's 'Totaal' row is no province."""
        column = "opgave_amv" if metric.endswith("_amv") else "opgave_totaal_incl_amv"
        sql = (f"SELECT * FROM coa_provinciale_opgave WHERE provincie != 'Totaal' AND versie = :v "
               f"ORDER BY {column} {'ASC' if lowest else 'DESC'} LIMIT :n")
        figures = []
        for version in ("A", "B"):
            for r in self.query(sql, {"v": version, "n": n}):
                figures.append(Figure(
                    label=f"{r['provincie']} (versie {version})", value=r[column], unit="plaatsen",
                    period=r["peildatum"], scope=r["provincie"], scope_kind="provincie", metric=metric,
                    source=f"coa_provinciale_opgave[versie {version}, {r['provincie']}]", sql=sql,
                    citation=self.table_citation(r["bron"], f"versie {version}: {r['provincie']}",
                                                 f"{version},{r['provincie']},{r['opgave_totaal_incl_amv']},{r['opgave_amv']},{r['peildatum']}"),
                ))
        return figures

    def reported(self, place: str, kind: str, metric: str = "spreidingswet_opgave_gerapporteerd") -> list[Figure]:
        """Spreidingswet figures as news items reported them: partial, secondary, kept as worded; the
        task, its amv part or what was realised, as the row's `maatstaf` says (REPORTED_MEASURES)."""
        sql = ("SELECT * FROM nieuws_cijfers WHERE onderwerp = 'spreidingswet' AND niveau = :kind "
               "AND (gebied = :p OR gebied LIKE :like)")
        figures = []
        for r in self.query(sql, {"p": place, "like": f"{place} (%", "kind": kind}):
            qualifier, value = reported_value(r["waarde_zoals_gerapporteerd"])
            if value is None or reported_measure(r["maatstaf"]) != metric:
                continue
            period = re.sub(r"^(peildatum|stand)\s+", "", r["periode"])  # "peildatum 2025-07-01" → the date
            figures.append(Figure(
                label=f"{r['gebied']}: {r['maatstaf']}", value=value, unit="plaatsen", period=period,
                qualifier=qualifier, scope=place, scope_kind=kind, metric=metric,
                source=f"nieuws_cijfers[{r['gebied']}, {r['bron_datum']}]", sql=sql, quote=r["citaat"],
                caveat="gerapporteerd in het nieuws, niet de officiële Staatscourant-tabel; onvolledig",
                citation=Citation(doc_id=r["bron"], title=f"Nieuwsbericht ({r['bron_url']})", date=r["bron_datum"],
                                  section=f"{r['niveau']}: {r['gebied']}", quote=r["citaat"], doc_type="tabel",
                                  note="secundaire bron, onvolledig"),
            ))
        return figures

    def members(self, kind: str, scope: str, listing: str) -> list[dict]:
        """Gemeenten (veiligheidsregio's, provincies) within a provincie, veiligheidsregio or the land."""
        column = {"gemeente": "naam", "veiligheidsregio": "veiligheidsregio", "provincie": "provincie"}[listing]
        where = SCOPE_WHERE[kind]
        return self.query(f"SELECT DISTINCT {column} AS name FROM gemeenten WHERE {where} ORDER BY name", {"scope": scope})

    def aggregate(self, metric: str, kind: str, scope: str, period: str | None) -> Figure:
        sql = AGGREGATE_SQL[metric].format(where=SCOPE_WHERE[kind])
        params = {"scope": scope} | ({"period": period} if period else {})
        r = self.query(sql, params)[0]
        unit = PLACE_FIGURE_UNITS[metric]
        computed = metric == "taakstelling_gemeente" and (r.get("n_official") or 0) < r["n"]
        if metric == "taakstelling_gemeente":
            citation = self.law_citation("Artikel 29")
        elif metric == "aantal_provincies":  # which gemeente lies in which provincie: the regioviewer table
            citation = self.table_citation("regioviewer_gemeenten_provincie_2025", "gemeenten per provincie (342 rijen)",
                                           "gemeentecode,gemeentenaam,provincie,jaar")
        else:
            citation = self.table_citation(
                "minvws_dashboard_gemeenten_veiligheidsregio_bevolking", "gemeenten (342 rijen)",
                "population_count: CBS-bevolking per 1 januari 2022, indeling 2023; som 17590672")
        return Figure(
            label=f"{metric} {scope}", value=r["value"], unit=unit, citation=citation,
            period=period or ("2022-01-01" if metric == "inwoners" else "indeling 2023"),
            scope=scope, scope_kind=kind, metric=metric, source=f"SUM over {r['n']} gemeenten ({kind} {scope})",
            sql=" ".join(sql.split()) + f" -- {params}", computed=computed,
            formula=f"som over de {r['n']} gemeenten van ceil(vg × iG / iN)" if computed else None,
            caveat="som van per gemeente berekende taakstellingen (art. 29), niet officieel" if computed else None,
        )

    def ranking(self, metric: str, kind: str, scope: str, period: str | None, n: int, lowest: bool) -> list[Figure]:
        sql = RANK_SQL[metric].format(where=SCOPE_WHERE[kind], direction="ASC" if lowest else "DESC")
        params = {"scope": scope, "n": n} | ({"period": period} if period else {})
        rows = self.query(sql, params)
        return [self._ranked(metric, r, period, sql, params) for r in rows]

    def where(self, metric: str, kind: str, scope: str, period: str | None, op: str, value: float) -> tuple[str, list[Figure]]:
        """The gemeenten (within a scope) whose figure meets a condition, highest first, and the SQL that found them."""
        assert op in {">", ">=", "<", "<="}
        sql = WHERE_SQL[metric].format(where=SCOPE_WHERE[kind], op=op)
        params = {"scope": scope, "value": value} | ({"period": period} if period else {})
        return f"{' '.join(sql.split())} -- {params}", [self._ranked(metric, r, period, sql, params)
                                                       for r in self.query(sql, params)]

    def group(self, metric: str, group_kind: str, period: str | None, lowest: bool) -> list[Figure]:
        sql = GROUP_SQL[metric].format(group=group_kind, direction="ASC" if lowest else "DESC")
        params = {"period": period} if period else {}
        rows = self.query(sql, params)
        return [self._ranked(metric, r, period, sql, params) for r in rows]

    def _ranked(self, metric, r, period, sql, params) -> Figure:
        unit = PLACE_FIGURE_UNITS[metric]
        computed = metric == "taakstelling_gemeente" and not r.get("official")
        return Figure(
            label=r["name"], value=r["value"], unit=unit,
            period=period or ("2022-01-01" if metric == "inwoners" else "indeling 2023"),
            scope=r["name"], metric=metric, source=f"{metric}[{r['name']}]",
            sql=" ".join(sql.split()) + f" -- {params}", computed=computed,
            formula="ceil(vg × iG / iN) per gemeente (art. 29)" if computed else None,
        )

    # --- retrieve ----------------------------------------------------------------------------

    @cached_property
    def index(self):
        from .index import Index

        return Index.open(self.settings)

    @cached_property
    def _passages(self) -> tuple[dict[str, set[str]], dict[str, float], float]:
        """Per chunk its word stems, each stem's IDF over the chunks, and the IDF of a word none has: for
        `coverage`."""
        idx = self.index
        stems = {c["chunk_id"]: set(idx.tokenize(c["text"])) | idx.tokenize.separable(c["text"]) for c in idx.chunks}
        # a passage that addresses the assistant counts in no statistic (index.py keeps it out of BM25 too)
        counted = [stems[c["chunk_id"]] for i, c in enumerate(idx.chunks) if i not in idx._instructions]
        df: dict[str, int] = {}
        for words in counted:
            for w in words:
                df[w] = df.get(w, 0) + 1
        n = len(counted) or 1
        return stems, {w: math.log(1 + n / c) for w, c in df.items()}, math.log(1 + n)

    @cached_property
    def _same_words(self) -> dict[str, set[str]]:
        """Per word of a lexicon same_words line, the stems of the other words on that line."""
        from .understand import lexicon

        return {fold(w): {s for other in line if other != w for s in self.index.tokenize(other)}
                for line in lexicon()["same_words"] for w in line}

    @cached_property
    def _light_words(self) -> set[str]:
        from .understand import lexicon

        return {stem for w in lexicon()["light_words"] for stem in self.index.tokenize(w)}

    def coverage(self, question: str, hit: Citation, quote_only: bool = False) -> float:
        """The IDF-weighted share of the question's words that the passage contains.

        Retrieval always returns *something*; this says whether it is about the question. English
        words count through the index's Dutch glossary, so an English question can be covered.
        `quote_only`: of the quoted sentence alone, not its whole passage. A passage also says the words
        of each question people ask that it answers (knowledge.Asked), one such question at a time.
        """
        stems, idf, unseen = self._passages
        question = self.index.spelled(question)
        tokens = self.index.tokenize(question)
        words = set(tokens)
        # per word of the question, the stems of its glossary translations (each word only by its own)
        glossary = self.index.tokenize.glossary
        translated = {stem: {t for t in self.index.tokenize(" ".join(glossary.get(word, ())))}
                      for word in self.index.tokenize.words_of(question) for stem in self.index.tokenize(word)}
        passage = set(self.index.tokenize(hit.quote)) | self.index.tokenize.separable(hit.quote) if quote_only \
            else stems.get(hit.chunk_id, set())
        light = self._light_words
        # unseen words weigh most (what the sources never mention); words without a topic a quarter
        weight = lambda w: idf.get(w, unseen) * (LIGHT_WEIGHT if w in light else 1.0)  # noqa: E731
        ordered = sorted(words)  # summed in one order, so a share of exactly a threshold is the same every run
        total = sum(weight(w) for w in ordered) or 1.0

        # by the word as written: stems collide ("wonen" and "woning" are both "woon")
        same_words = [(self._same_words[word], set(self.index.tokenize(word)))
                      for word in fold(question).split() if word in self._same_words]
        forms = {w: self.index.tokenize.verb_forms(w) for w in words}

        def found_in(passage: set[str]) -> set[str]:
            """The question's words that `passage` says; of a union, the union of what each part says."""
            # Dutch writes one word where the question may write two ("bekend gemaakt" / "bekendgemaakte"),
            # and says the same thing in other words ("begin" / "aanvang", lexicon same_words)
            joined = {w for a, b in zip(tokens, tokens[1:]) if a + b in passage for w in (a, b)}
            same = {stem for others, stems in same_words if others & passage for stem in stems}
            verbs = {w for w in words if forms[w] & passage}  # "stelt" ~ "stellen"
            # the head of a compound: "halfjaar" is said by "kalenderhalfjaar"
            heads = {w for w in words - passage if len(w) >= 5 and any(p.endswith(w) for p in passage)}
            # and the other way: "huisvestingsverordening" is about the passage's "verordening"
            heads |= {w for w in words - passage if any(len(p) >= 6 and w.endswith(p) for p in passage)}
            # a word (English, or a Dutch synonym) is found when one of its own glossary terms is in the passage
            glossed = {w for w in words if translated.get(w, set()) & passage}
            return words & (passage | joined | same | verbs | heads | glossed)

        said = found_in(passage)
        found = own = sum(weight(w) for w in ordered if w in said)
        if not quote_only:
            # the words that a question people ask about the passage adds count by how much of that question
            # is asked (the square root of its IDF-weighted share): a question that shares a few words with
            # one of them, and asks for something else besides, is not made covered by it
            for _, asked in self.index.asked_questions(hit.chunk_id):
                if asked & words:
                    match = sum(idf.get(w, unseen) for w in asked & words) / (sum(idf.get(w, unseen) for w in asked) or 1.0)
                    added = found_in(asked) - said
                    found = max(found, own + math.sqrt(match) * sum(weight(w) for w in ordered if w in added))
        return round(min(1.0, found / total), 9)

    def retrieve(self, query: str, k: int = 5, doc_ids: list[str] | None = None,
                 quote_for: str | None = None, expects: str | None = None) -> list[Citation]:
        self.calls.append(f"retrieve: {query[:200]}" + (f" in {doc_ids}" if doc_ids else ""))
        return self.index.search(query, k=k, doc_ids=doc_ids, quote_for=quote_for, expects=expects)


# --- compute --------------------------------------------------------------------------------


def compute(operation: str, figures: list[Figure], language: str = "nl", per: int = 100,
            unit: str | None = None) -> list[Computation]:
    """Arithmetic over figures, each result with a formula that shows its inputs' values.

    difference: largest − smallest; sum: all added; share: smallest as % of largest (or of the
    last figure, the whole, when more are given); growth: last − first in period order, plus the
    change in %; product: a rate times its span; span: the time between two dates, in `unit`.
    """
    from .render import number

    n = lambda v: number(v, language)  # noqa: E731
    period = " → ".join(dict.fromkeys(f.period for f in figures))
    if operation == "span":  # the time between two dates: 1 februari 2024 → 1 juli 2025 = 17 maanden
        return [date_span(figures[0], figures[1], unit or "dagen", language)]
    unit = figures[0].unit
    if operation == "difference":
        big, small = sorted(figures[:2], key=lambda f: f.value, reverse=True)
        result = big.value - small.value
        return [Computation(operation="difference", formula=f"{n(big.value)} − {n(small.value)} = {n(result)}",
                            inputs=[big, small], result=result, unit=unit, period=period)]
    if operation == "sum":
        result = sum(f.value for f in figures)
        return [Computation(operation="sum", formula=" + ".join(n(f.value) for f in figures) + f" = {n(result)}",
                            inputs=list(figures), result=result, unit=unit, period=period)]
    if operation == "share":
        part, whole = (figures[0], figures[-1]) if len(figures) > 2 else sorted(figures[:2], key=lambda f: f.value)
        if per != 100 and whole.unit == "inwoners" != part.unit:  # per 1.000 inhabitants (else: a percentage)
            result = round(per * part.value / whole.value, 2)
            return [Computation(operation="share", inputs=[part, whole], result=result, unit=f"per {per} inwoners",
                                formula=f"{n(part.value)} / {n(whole.value)} × {n(per)} = {n(result)}", period=period)]
        result = round(100 * part.value / whole.value, 1)
        return [Computation(operation="share", formula=f"{n(part.value)} / {n(whole.value)} × 100 = {n(result)} %",
                            inputs=[part, whole], result=result, unit="procent", period=period)]
    if operation == "growth":
        first, last = sorted(figures[:2], key=lambda f: f.period)
        change = last.value - first.value
        pct = round(100 * change / first.value, 1) if first.value else 0.0
        sign = "+" if change >= 0 else "−"
        return [
            Computation(operation="growth", formula=f"{n(last.value)} − {n(first.value)} = {sign}{n(abs(change))}",
                        inputs=[first, last], result=change, unit=unit, period=period),
            Computation(operation="growth", formula=f"({n(last.value)} − {n(first.value)}) / {n(first.value)} × 100 = {sign}{n(abs(pct))} %",
                        inputs=[first, last], result=pct, unit="procent", period=period),
        ]
    if operation == "product":  # a rate times its span: 540 personen per week × 52 weken
        rate, span = sorted(figures[:2], key=lambda f: " per " not in f.unit)
        result = rate.value * span.value
        return [Computation(operation="product", formula=f"{n(rate.value)} × {n(span.value)} = {n(result)}",
                            inputs=[rate, span], result=result, unit=rate.unit.partition(" per ")[0], period=period)]
    if operation == "quotient":  # how many of a rate's denominator a number needs: 3.900 plaatsen / 12 per woongroep
        from .understand import lexicon

        rate, count = sorted(figures[:2], key=lambda f: " per " not in f.unit)
        result = math.ceil(count.value / rate.value)
        per = rate.unit.partition(" per ")[2]
        return [Computation(operation="quotient", formula=f"{n(count.value)} / {n(rate.value)} = {n(result)} "
                            f"({'naar boven afgerond' if language == 'nl' else 'rounded up'})",
                            inputs=[count, rate], result=result, unit=lexicon()["rate_spans"].get(per, per), period=period)]
    raise ValueError(f"unknown operation {operation!r}")


def date_shift(day: Figure, span: Figure, sign: int, language: str = "nl") -> Computation:
    """A day plus (or minus) a span fact: 4 maart 2025 + 2 jaar = 4 maart 2027. Years and months move on the
    calendar (the same day of the month, the month's last day if it has fewer); weeks and days count days."""
    from datetime import date, timedelta

    from .render import date as written, number, unit as unit_word

    d = date.fromisoformat(day.value_date)
    amount = sign * span.value
    if span.unit in ("jaar", "maanden"):
        months = d.year * 12 + d.month - 1 + int(amount * (12 if span.unit == "jaar" else 1))
        year, month = divmod(months, 12)
        last = (date(year + (month == 11), (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
        result = date(year, month + 1, min(d.day, last))
    else:
        result = d + timedelta(days=amount * (7 if span.unit == "weken" else 1))
    formula = (f"{written(d.isoformat(), language)} {'+' if sign > 0 else '−'} {number(span.value, language)} "
               f"{unit_word(span.unit, language)} = {written(result.isoformat(), language)}")
    return Computation(operation="shift", formula=formula, inputs=[day, span], result=amount, unit=span.unit,
                       period=result.isoformat(), result_date=result.isoformat())


def date_span(a: Figure, b: Figure, unit: str, language: str = "nl") -> Computation:
    """The time between two date facts in `unit` (dagen, weken, maanden, jaar): whole calendar months
    (and years) when the days of the month agree; otherwise in days, since a month or a year has no one
    length to divide by (docs/CONVENTIONS.md, Computed figures)."""
    from datetime import date

    from .render import date as written, number, unit as unit_word

    first, last = sorted([a, b], key=lambda f: f.value_date)
    d1, d2 = (date.fromisoformat(f.value_date) for f in (first, last))
    days = (d2 - d1).days
    months = (d2.year - d1.year) * 12 + d2.month - d1.month
    if unit in ("maanden", "jaar") and d1.day != d2.day:
        unit = "dagen"
    if unit == "dagen":
        result = float(days)
    elif unit == "weken":
        result = round(days / 7, 1)
    else:
        result = round(months if unit == "maanden" else months / 12, 1)
    formula = (f"{written(last.value_date, language)} − {written(first.value_date, language)} = "
               f"{number(result, language)} {unit_word(unit, language)}")
    return Computation(operation="span", formula=formula, inputs=[first, last], result=result, unit=unit,
                       period=f"{first.value_date} → {last.value_date}")
