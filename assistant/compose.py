"""Answer composition: a plan's tool calls run and turned into a grounded, cited `Answer`.

The `Executor` is the last step of the pipeline (engine.py runs the first ones): it calls the tools
(tools.py) the plan names, computes what the question asks (with its formula), and writes the
answer in the asker's language, every number with its source or computation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import render
from .models import Answer, Citation, Computation, Figure
from .grounding import numbers_in_text
from .places import Place
from .planner import COA_METRICS, COUNTS, WHEN_UNITS, Plan, resolve_halves
from .text import fold, stem, words
from .tools import PLACE_FIGURE_UNITS, REPORTED, Tools, compute, date_shift
from .understand import (DAY, MAX_QUESTION_CHARS, Intent, content_words, asks_amount, asks_who, has_phrase, lexicon, normal, padded,
                         answer_type, unit_of_time_asked, wanted_units,
                         parse_periods)

HEADCOUNT = {u: "mensen" for u in ("plaatsen", "personen", "vergunninghouders", "asielaanvragen", "inwoners", "jongeren")}
PER_UNIT = {"maanden": "maand", "jaar": "jaar", "weken": "week", "dagen": "dag"}  # the span a change is divided by, and the rate's "per …"
# a count of a few regions names them: "Hoeveel veiligheidsregio's in Zuid-Holland, en hoe heten ze?"
COUNTED_KINDS = {"aantal_veiligheidsregios": "veiligheidsregio", "aantal_provincies": "provincie", "aantal_gemeenten": "gemeente"}
MAX_NAMED = 30
CONDITIONS = {">": ("meer dan", "more than"), ">=": ("minstens", "at least"), "<": ("minder dan", "fewer than"),
              "<=": ("hoogstens", "at most")}
POPULATION_PERIOD = "2022-01-01"  # the only peildatum of the inhabitants we hold (db/SOURCES.md)
SIDE_THRESHOLD = 0.35  # one side of a comparison names a figure only this clearly
TEXT_MIN_COVERAGE = 0.5  # share of the question's (IDF-weighted) words a passage must contain
AGREED_MIN_COVERAGE = 0.35  # …or this much, when BM25 and e5 each rank that passage first
SECOND_PASSAGE_MARGIN = 0.05  # a second passage of the same section, nearly as well covered, is quoted too

TEXT = {
    "nl": {
        "empty": "Stel een vraag over asielopvang, de taakstelling huisvesting statushouders of de opvang van Oekraïense ontheemden.",
        "too_long": f"Uw vraag is te lang (meer dan {MAX_QUESTION_CHARS} tekens). Stel een kortere vraag.",
        "no_answer": "Dit staat niet in de bronnen die ik heb.",
        "we_have": "Wel beschikbaar",
        "no_period": "Voor {asked} heb ik geen cijfer over {label}.",
        "no_version": "Voor de {whole} van {value} heb ik geen cijfer over {label}.",
        "no_per_inhabitants": "{label} is geen aantal dat ik per inwoner kan omrekenen.",
        "no_share": "Ik heb geen tweede cijfer om {label} als percentage van te berekenen, en geen bron noemt dat percentage.",
        "not_realised_text": "De bronnen zeggen hierover alleen wat moet of verwacht wordt, niet wat er werkelijk is gebeurd.",
        "not_realised": "Ik heb alleen een verwachting of opgave voor {label}, geen gerealiseerd cijfer.",
        "where": "Gemeenten met {condition}",
        "where_more": "… en meer",
        "no_place": "Ik herken geen gemeente, provincie of veiligheidsregio in uw vraag.",
        "unknown_place": "„{name}” is geen Nederlandse gemeente, provincie of veiligheidsregio die ik ken; ik heb alleen cijfers voor Nederland en zijn gemeenten, provincies en veiligheidsregio's.",
        "did_you_mean": "Bedoelt u {names}?",
        "official_missing": "De officiële taakstelling per gemeente (Bijlage 2 van de brief) heb ik niet; alleen de berekening met art. 29, die niet officieel is.",
        "national_only": "Dit cijfer heb ik alleen landelijk, niet per gemeente, provincie of veiligheidsregio.",
        "no_figure": "Ik heb geen cijfer dat bij deze vraag past.",
        "no_part": "Welk deel daarvan het gevraagde is, staat in geen van de bronnen: zij geven alleen het geheel.",
        "no_breakdown": "Een uitsplitsing naar {by} staat in geen van de bronnen: zij geven alleen het totaal.",
        "no_average": "Een gemiddelde staat in geen van de bronnen: zij geven alleen wat hieronder staat.",
        "start_of": "Aanvang {period}",
        "no_passage": "Ik vind geen passage in de documenten die deze vraag beantwoordt.",
        "catalogue": "cijfers over de opvangbehoefte, de capaciteitsraming, amv, de taakstelling per half jaar (landelijk en per gemeente berekend), inwoners, provincies en veiligheidsregio's, en Oekraïense ontheemden",
        "need_place": "Voor {label} heb ik een gemeente, provincie of veiligheidsregio nodig.",
        "no_place_figure": "Voor {places} heb ik geen cijfer over {label}.",
        "no_place_text": "De documenten noemen hierover geen cijfer voor {places}.",
        "ambiguous": "„{name}” kan meerdere plaatsen zijn: {options}. Ik geef het antwoord voor elk.",
        "also_meant": "Uw vraag kan ook gaan over: {label}.",
        "older": "Eerder, in {title} van {date}: {value}.",
        "same": "Zo ook {title} van {date}.",
        "sum_of_gemeenten": "som van de berekende taakstellingen van de gemeenten",
        "each_art29": "elk ceil(vg × iG / iN) met vg = {vg} en iN = {i_n}",
        "newest": "Dit is de nieuwste bron die ik hierover heb ({date}).",
        "first_stated": "Zo staat het voor het eerst in mijn bronnen in {title} van {date}.",
        "first_stated_label": "eerst vermeld",
        "computed": "Berekend, niet officieel: art. 29 Huisvestingswet 2014, ceil(vg × iG / iN).",
        "both_versions": "Het COA publiceerde twee versies van deze opgave; ik toon beide, zonder er een te kiezen.",
        "membership": "{gemeente} ligt in de {kind} {value}.",
        "text_intro": "Volgens {title} ({section}):",
        "how": "Hoe berekend",
        "typed": "Uit uw vraag",
        "advice": "Advies of een mening geef ik niet; ik geef cijfers en regels uit de bronnen, met hun bron.",
        "prediction": "Wat er later besloten wordt, staat in geen van de bronnen; ik zeg alleen wat de bronnen tot nu toe zeggen.",
        "own_place": "Welke gemeente bedoelt u? Noem de gemeente, dan geef ik haar cijfers.",
        "official": "officieel (bijlage geïmporteerd)",
    },
    "en": {
        "empty": "Ask a question about asylum reception, the housing quota for status holders or the reception of displaced Ukrainians.",
        "too_long": f"Your question is too long (over {MAX_QUESTION_CHARS} characters). Please ask a shorter one.",
        "no_answer": "This is not in the sources I have.",
        "we_have": "What I do have",
        "no_period": "I have no figure on {label} for {asked}.",
        "no_version": "I have no figure on {label} for the {whole} of {value}.",
        "no_per_inhabitants": "{label} is not a number I can put per inhabitant.",
        "no_share": "I have no second figure to compute {label} as a percentage of, and no source gives that percentage.",
        "not_realised_text": "The sources only say what must happen or is expected here, not what actually happened.",
        "not_realised": "I only have an expected or target figure for {label}, not what actually happened.",
        "where": "Municipalities with {condition}",
        "where_more": "… and more",
        "no_place": "I do not recognise a municipality, province or safety region in your question.",
        "unknown_place": "“{name}” is not a Dutch municipality, province or safety region I know; I only have figures for the Netherlands and its municipalities, provinces and safety regions.",
        "did_you_mean": "Did you mean {names}?",
        "official_missing": "I do not have the official quota per municipality (Annex 2 of the letter), only the computation by art. 29, which is not official.",
        "national_only": "I have this figure only for the Netherlands as a whole, not per municipality, province or safety region.",
        "no_figure": "I have no figure that fits this question.",
        "no_part": "None of the sources says which part of it is what you ask about: they give only the whole.",
        "no_breakdown": "None of the sources breaks this figure down by {by}: they give only the total.",
        "no_average": "None of the sources gives an average: they give only what is shown below.",
        "start_of": "Start of {period}",
        "no_passage": "I find no passage in the documents that answers this question.",
        "catalogue": "figures on reception capacity needed, the Spreidingswet capacity estimate, unaccompanied minors, the housing quota per half year (national and computed per municipality), inhabitants, provinces and safety regions, and displaced Ukrainians",
        "need_place": "For {label} I need a municipality, province or safety region.",
        "no_place_figure": "I have no figure on {label} for {places}.",
        "no_place_text": "The documents give no figure on this for {places}.",
        "ambiguous": "“{name}” can mean several places: {options}. I answer for each.",
        "also_meant": "Your question may also be about: {label}.",
        "older": "Earlier, in {title} of {date}: {value}.",
        "same": "{title} of {date} says the same.",
        "sum_of_gemeenten": "sum of the computed quotas of its municipalities",
        "each_art29": "each ceil(vg × iG / iN) with vg = {vg} and iN = {i_n}",
        "newest": "This is the newest source I have on this ({date}).",
        "first_stated": "My sources first state it so in {title} of {date}.",
        "first_stated_label": "first stated",
        "computed": "Computed, not official: art. 29 Huisvestingswet 2014, ceil(vg × iG / iN).",
        "both_versions": "COA published two versions of this task; both are shown, neither is picked.",
        "membership": "{gemeente} lies in the {kind} {value}.",
        "text_intro": "According to {title} ({section}):",
        "how": "How computed",
        "typed": "From your question",
        "advice": "I do not give advice or opinions; I give figures and rules from the sources, with their source.",
        "prediction": "What will be decided later is in none of the sources; I can only say what the sources say so far.",
        "own_place": "Which municipality do you mean? Name it and I will give its figures.",
        "official": "official (annex imported)",
    },
}
KIND_EN = {"provincie": "province", "veiligheidsregio": "safety region"}


def version_of(f: Figure) -> str | None:
    """'A' or 'B': the published version of a COA figure (its source names it)."""
    found = re.search(r"versie (\w+)", f.source or "")
    return found[1] if found else None


def without_cues(question: str) -> str:
    """The question without its frame ("wat wordt verstaan onder"): what a passage must cover."""
    bare = f" {question} "
    for cue in sorted(lexicon()["text_cues"], key=len, reverse=True):
        bare = bare.replace(padded(cue), " ")
    return " ".join(bare.split()) or question


def states_a_number(text: str) -> bool:
    numbers = lexicon()["number_words"]
    return any(m.kind == "number" for m in numbers_in_text(text)) or any(w in numbers for w in words(text))


RATE = re.compile(r"\bper (?!\d)\w+|\b\w+lijkse?\b|\b(?:each|every|a|an) (?:day|week|month|year)\b")  # per plek, jaarlijks


def states_unit(text: str, units: set[str], rate: bool = False) -> bool:
    """The text names one of the units (all its words but "personen"), or no unit is wanted; and,
    where a rate is asked ("per plek", "per day"), states a rate."""
    said = {stem(w) for w in words(text)} | ({"euro"} if "€" in text else set())
    if rate and not RATE.search(fold(text)):
        return False
    return not units or any({stem(w) for w in unit.split() if w != "personen"} <= said for unit in units)


UNIT_AFTER = re.compile(r"\s*(per \w+|[^\W\d_]{2,})")
LIST_MARKER = re.compile(r"[.)] +[A-Z]")
REFERENCE_WORDS = ("artikel", "lid", "hoofdstuk", "paragraaf", "onderdeel", "bijlage", "§")


def gives_answer_type(text: str, kind: str) -> bool:
    """The text has the marks of an answer of that kind (lexicon answer_types): a date, a span, …"""
    from .index import answer_marks

    marks = answer_marks().get(kind)
    return marks is None or bool(marks.search(fold(text)))


def quoted_figures(hits: list[Citation], units: set[str]) -> list[Figure]:
    """The numbers and dates in the quoted sentences, as figures of the quote.

    A passage that answers states its numbers in words; they travel as values with their source too
    (principle 1: a quoted passage), so the answer's figures hold them, never re-read from its text.
    With `units` asked ("hoeveel dagen"), only numbers said in one of them; never a year ("in 2024")
    or an article number.
    """
    from .index import _stopwords

    stop = _stopwords()
    figures: list[Figure] = []
    for hit in hits:
        hit = hit.model_copy(update={"score": None})  # the passage, not how well it ranked this time
        for m in numbers_in_text(hit.quote):
            before = fold(hit.quote[:m.start]).split()[-1:]
            if before and before[0].rstrip(".") in REFERENCE_WORDS:
                continue
            if m.kind == "date" and m.date and not m.date.startswith("--"):
                figures.append(Figure(label=quote_label(hit), value_date=m.date, unit="datum", period=hit.date,
                                      quote=hit.quote, citation=hit, source=f"{hit.doc_id} › {hit.section}"))
                continue
            if m.kind != "number" or LIST_MARKER.match(hit.quote, m.end) and m.value < 100 and not m.decimals:
                continue  # "Bijlagen: 1. Realisatie …; 2. Taakstelling …": a list's numbering is no figure
            after = UNIT_AFTER.match(hit.quote, m.end)
            unit = after[1] if after and (after[1].startswith("per ") or fold(after[1]) not in stop) else ""
            if not unit and m.decimals == 0 and (1900 <= m.value <= 2100 or m.value < 100):
                continue  # "ca. 28.000 in 2024": the year says when; "artikel 11, 12, eerste lid": a reference
            if units and not states_unit(f"{m.text} {unit}", units):
                continue
            if any(f.value == m.value and f.unit == unit and f.citation == hit for f in figures):
                continue  # "28 dagen aaneengesloten, maar wordt 28 dagen per kalenderjaar": one figure
            qualifier = "ca." if fold(hit.quote[max(0, m.start - 4):m.start]).strip().endswith("ca.") else None
            figures.append(Figure(label=quote_label(hit), value=m.value, unit=unit, period=hit.date, qualifier=qualifier,
                                  quote=hit.quote, citation=hit, source=f"{hit.doc_id} › {hit.section}"))
    return figures


def quote_label(hit: Citation) -> str:
    return f"{hit.title}, {hit.section.split(' › ')[-1]}"


def realised(f: Figure) -> bool:
    """A figure of what happened: not a forecast or target ("naar verwachting", "indicatief") and not
    about a moment after its source was written (a 2024 figure in a letter of April 2024 is expected)."""
    if (f.qualifier or "").lower() in lexicon()["forecast_qualifiers"]:
        return False
    if has_phrase(normal(f.label), lexicon()["task_words"]):  # a task or a need ("COA provinciale opgave")
        return False
    end = period_end(f.period)
    return end is None or f.citation is None or end <= f.citation.date


def period_end(period: str) -> str | None:
    """The last day of a period as ISO text: 2024 → 2024-12-31, 2024-I → 2024-06-30; None if unknown."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", period):
        return period
    if re.fullmatch(r"\d{4}", period):
        return f"{period}-12-31"
    half = re.fullmatch(r"(\d{4})-(I|II)", period)
    if half:
        return f"{half[1]}-06-30" if half[2] == "I" else f"{half[1]}-12-31"
    span = re.fullmatch(r"\d{4}-(\d{4})", period)
    return f"{span[1]}-12-31" if span else None


def is_date(period: str) -> bool:
    return len(period) == 10 and period[4] == "-"


def is_time_series(figures: list[Figure]) -> bool:
    """Two values of one figure at two moments: their difference is a change over time."""
    return len({f.metric for f in figures}) == 1 and len({f.period for f in figures}) == len(figures)


@dataclass
class Executor:
    """Runs a plan's tool calls and assembles the grounded answer."""

    tools: Tools
    intent: Intent
    plan: Plan
    citations: list[Citation] = field(default_factory=list)
    preamble: list[tuple[str, Figure]] = field(default_factory=list)  # lines (with their figure) before the answer

    @property
    def lang(self) -> str:
        return self.intent.language

    def t(self, key: str, **kw) -> str:
        return TEXT[self.lang][key].format(**kw)

    def cite(self, c: Citation | None) -> str:
        if c is None:
            return ""
        for i, existing in enumerate(self.citations, start=1):
            if existing.doc_id == c.doc_id and existing.section == c.section and existing.quote == c.quote:
                return f" [{i}]"
        self.citations.append(c)
        return f" [{len(self.citations)}]"

    def finish(self, lines: list[str], answered: bool, kind: str, figures=(), computations=(),
               notes=(), candidates=(), chart=None) -> Answer:
        lines = [line for line, _ in self.preamble] + list(lines)
        figures = [f for _, f in self.preamble] + list(figures)
        text = "\n".join(line for line in lines if line)
        text += render.sources_block(self.citations, self.lang)
        if self.lang != "nl":  # notes and labels are read by the asker: in the asker's language
            self.citations = [c.model_copy(update={"note": render.note(c.note, self.lang)}) if c.doc_type != "tabel" else c
                              for c in self.citations]
            figures = [self.english(f) for f in figures]
            computations = [c.model_copy(update={"inputs": [self.english(f) for f in c.inputs]}) for c in computations]
        return Answer(
            question=self.intent.question, answer=text, answered=answered, language=self.lang, kind=kind,
            figures=list(figures), computations=list(computations), citations=self.citations,
            notes=list(notes), candidates=list(candidates), chart=chart,
        )

    def periods_text(self, periods) -> str:
        """The periods asked, as the answer names them: a day written out in the asker's language ("1 January
        2023"), other periods as the question put them ("eind 2022" is not "31 december 2022")."""
        return ", ".join(render.period(pr.value, self.lang) if not pr.text or (pr.kind == "date" and DAY.search(pr.text))
                         or pr.text.upper() == pr.value else pr.text for pr in periods)  # "2025-i" is 2025-I

    def english(self, f: Figure) -> Figure:
        """The figure's label from the catalogue's English name, keeping the place it is about."""
        if f.label_en:  # composed in both languages where the figure was made
            return f.model_copy(update={"label": f.label_en})
        m = self.plan.catalogue.get(f.metric or "")
        if m is None or f.label not in (m.label_nl, f"{f.metric} {f.scope}", f"inwoners {f.scope}",
                                        f"taakstelling {f.scope}"):
            return f
        label = self.label(f.metric) + (f" — {f.scope}" if f.scope and f.scope not in ("Nederland",) and m.table != "kerncijfers" else "")
        return f.model_copy(update={"label": label})

    def abstain(self, reason: str, have: list[Figure] | str | Citation = ()) -> Answer:
        """Say plainly that the sources do not answer, and show (with their sources) what they do hold."""
        lines = [f"{self.t('no_answer')} {reason}".strip()]
        if isinstance(have, Citation):  # a passage that speaks of it, but does not answer it
            lines += [f"{self.t('we_have')}:", f"> {have.quote}" + self.cite(have)]
            have = []
        elif isinstance(have, str):
            lines.append(f"{self.t('we_have')}: {have}.")
            have = []
        elif have:
            lines.append(f"{self.t('we_have')}:")
            lines += [self.figure_line(f) for f in have]
        return self.finish(lines, answered=False, kind="abstain", figures=have)

    def run(self) -> Answer:
        if self.plan.given:  # the conversation's last two figures, combined ("Wat is het verschil?")
            for f in self.plan.given:  # a quota computed by art. 29 rests on vg and the population table, as before
                if f.official is False:
                    self.cite(f.citation)
                    self.cite(self.tools.national_taakstelling(f.period).citation)
                    self.cite_tables(f.scope_kind or "gemeente")
            return self.derived(self.plan.operation, self.plan.given)
        if self.plan.event and self.plan.kind in {"kerncijfer", "places"}:
            # "het halfjaar waarin de Spreidingswet in werking trad": the event's date first, as the reason
            # for the period the figure is given for
            event = self.dedupe_newest(self.tools.kerncijfers(self.plan.event))[:1]
            self.preamble = [(self.figure_line(f), f) for f in event]
        return getattr(self, f"_{self.plan.kind}")()

    # --- answer kinds ------------------------------------------------------------------------

    def _abstain(self) -> Answer:
        p = self.plan
        if p.reason == "unavailable":
            m = p.catalogue.get(p.metric)
            return self.abstain(f"{self.label(p.metric)}: {m.description if m else ''}".strip(), self.t("catalogue"))
        if p.reason in {"advice", "own_place", "prediction"}:
            return self.abstain(self.t(p.reason))
        if p.reason == "unknown_place":
            reason = self.t("unknown_place", name=", ".join(self.intent.unknown_places))
            if self.intent.resembles:  # a name close to one we know is never taken as that one: asked
                reason += " " + self.t("did_you_mean", names=render.either(self.intent.resembles, self.lang))
            return self.abstain(reason)
        if p.reason == "need_place":
            return self.abstain(self.t("need_place", label=self.label(p.metric)))
        if p.reason in {"national_only", "no_part", "no_breakdown", "no_average"}:
            by = lexicon()["breakdowns"][p.breakdown][self.lang] if p.breakdown else ""
            return self.abstain(self.t(p.reason, by=by), self.dedupe_newest(self.tools.kerncijfers(p.metric)))
        if p.reason == "no_period":  # a half year we have no taakstelling for
            asked = self.periods_text(p.periods_asked)
            national = [f for f in map(self.tools.national_taakstelling, p.have) if f is not None]
            return self.abstain(self.t("no_period", asked=asked, label=self.label(p.metric)), national)
        return self.abstain(self.t("no_figure"), self.t("catalogue"))

    def _kerncijfer(self) -> Answer:
        p = self.plan
        if p.operation == "shift":
            return self.shifted()
        if p.operation == "span":  # the time between two dates: each date fact's newest statement, or a typed day
            dates = [next((f for f in reversed(self.dedupe_newest(self.tools.kerncijfers(m))) if f.value_date), None)
                     if m else Figure(label=self.t("typed"), value_date=day, unit="datum", period=day, source="question")
                     for m, day in p.span]
            if len(dates) == 2 and all(dates):
                return self.derived("span", dates)
        if p.operation and len(p.sides) >= 2:  # each side carries its own period: filter per side
            found = self.side_operands()
            if found:
                return self.derived(p.operation, found)
        if p.operation and p.second_metric and p.periods_asked and not self.select_figures(p.metric, quiet=True):
            # the asked period belongs to the other figure ("tekort per 1 januari 2025": the need then,
            # the places now): each figure in the asked period where it has one, else its newest
            other = [f for f in self.dedupe_newest(self.select_figures(p.second_metric, quiet=True)) if f.value is not None]
            mine = [f for f in self.dedupe_newest(self.tools.kerncijfers(p.metric)) if f.value is not None]
            if other and mine and self.combinable([mine[-1], other[-1]]):
                return self.derived(p.operation, [mine[-1], other[-1]])
        figures = self.select_figures(p.metric)
        if isinstance(figures, Answer):
            return figures
        if p.of_value:  # the part of the version of its whole whose value the question types
            whole, value = p.of_value
            moments = {f.period for f in self.tools.kerncijfers(whole) if f.value == value}
            if not any(f.period in moments for f in figures):
                return self.abstain(self.t("no_version", label=self.label(p.metric), whole=self.label(whole),
                                           value=render.number(value, self.lang)), self.dedupe_newest(figures))
            figures = [f for f in figures if f.period in moments]
        if self.asks_realised() and not any(realised(f) for f in figures if f.value is not None):
            # "Hoeveel asielaanvragen zijn er in 2024 echt ingediend?": a forecast does not answer it
            return self.abstain(self.t("not_realised", label=self.label(p.metric)), self.dedupe_newest(figures))
        lines, used, computations = [], [], []
        if p.part:  # the rest of the whole: whole − part at the same moment, the newest such pair
            parts = [f for f in self.dedupe_newest(self.tools.kerncijfers(p.part)) if f.value is not None]
            wholes = {f.period: f for f in self.dedupe_newest(figures) if f.value is not None}
            pair = next(([wholes[f.period], f] for f in reversed(parts) if f.period in wholes), None)
            if pair:
                return self.derived("difference", pair)
        rates = [f for f in self.dedupe_newest(figures) if f.value is not None]
        if self.intent.per != 100:  # "de taakstelling per 1.000 inwoners": of the nation's inhabitants
            if not rates or HEADCOUNT.get(rates[-1].unit) != "mensen" or rates[-1].unit == "inwoners":
                return self.abstain(self.t("no_per_inhabitants", label=self.label(p.metric)), rates)
            self.cite_tables("land")  # the population table, as for any national count of inhabitants
            return self.derived("share", [rates[-1], self.tools.national_population()])
        if not p.operation and not p.typed_span and rates:
            per_time = self.per_shorter_time(rates[-1])
            if per_time is not None:  # "hoeveel per dag" of a figure per week, "per week" of a year's total
                return per_time
        if p.typed_span and rates:
            value, unit = p.typed_span
            asked = Figure(label=self.t("typed"), value=value, unit=unit, period=rates[-1].period, source="question")
            return self.derived("product", [rates[-1], asked])
        if p.operation:
            operands = self.operands(figures)
            if len(operands) >= 2:
                return self.derived(p.operation, operands)
            if p.operation == "share" and self.intent.per == 100 and not any(f.unit == "procent" for f in figures):
                # "What percentage of social rented homes must go to status holders?": one count is no share,
                # and no source gives the whole to take it of
                return self.abstain(self.t("no_share", label=self.label(p.metric)), self.dedupe_newest(figures))
        shown = self.dedupe_newest(figures)
        for f in shown:
            lines.append(self.figure_line(f))
            used.append(f)
        # older statements of what is shown (the newest source's statements of other moments are not "eerder")
        older = [f for f in figures if f not in shown and (any(g.period == f.period for g in shown)
                                                             or f.citation.date < min(g.citation.date for g in shown))]
        for f in older:
            agrees = any(self.statement(f) == self.statement(g) for g in shown)
            key = "same" if agrees else "older"
            value = render.figure_value(f, self.lang).replace("**", "") or self.said(f)
            lines.append(self.t(key, title=self.doc_title(f), date=render.date(f.citation.date, self.lang),
                                value=value) + self.cite(f.citation))
            used.append(f)
        if self.intent.now and shown:
            lines.append(self.t("newest", date=render.date(max(f.citation.date for f in shown), self.lang)))
        if self.intent.announced:  # "sinds wanneer weten we dat …": the first source that states it as it now stands
            for f in shown:
                first = self.first_stated(f, figures)
                lines.append(self.t("first_stated", title=self.doc_title(first),
                                    date=render.date(first.citation.date, self.lang)) + self.cite(first.citation))
                used.append(first.model_copy(update={
                    "label": f"{first.label}: {self.t('first_stated_label')}", "value": None, "unit": "datum",
                    "value_date": first.citation.date, "period": first.citation.date,
                    "source": f"documents[{first.citation.doc_id}].date"}))
        if p.alternative is not None:
            alt = self.select_figures(p.alternative, quiet=True)
            if alt and not isinstance(alt, Answer):
                lines.append(self.t("also_meant", label=self.label(p.alternative)))
                for f in self.dedupe_newest(alt):
                    lines.append(self.figure_line(f))
                    used.append(f)
        return self.finish(lines, True, "figure", figures=used, computations=computations)

    def _places(self) -> Answer:
        p = self.plan
        lines, figures, computations, chart = [], [], [], []
        owner: dict[int, str] = {}  # figure → the place it is about, for the computed lines
        for mention in p.ambiguous:
            options = ", ".join(pl.label(self.lang) for pl in mention)
            lines.append(self.t("ambiguous", name=mention[0].name.split(" (")[0], options=options))
        if p.metric in {"provincie", "veiligheidsregio"}:
            for place in p.places:
                if place.kind != "gemeente":
                    continue
                g = self.tools.gemeente(place.name)
                for membership in [p.metric, *p.also]:
                    value = g[membership]
                    source = g["bron_provincie"] if membership == "provincie" else g["bron_inwoners"]
                    quote = (f"{g['code']},{g['naam']},{g['provincie']}" if membership == "provincie"
                             else f"{g['code']},{g['naam']},{g['veiligheidsregio_code']},{g['veiligheidsregio']}")
                    kind = membership if self.lang == "nl" else KIND_EN[membership]
                    lines.append(self.t("membership", gemeente=g["naam"], kind=kind, value=value) + self.cite(
                        self.tools.table_citation(source, f"gemeenten: {g['code']} {g['naam']}", quote)))
            if not lines:
                return self.abstain(self.t("no_place"))
            return self.finish(lines, True, "table", candidates=self.candidates())
        metric = p.metric
        for candidate in [p.metric, *p.fallbacks]:
            if any(self.place_figure(candidate, place, period, probe=True) for place in p.places
                   for period in p.periods or [None]):
                metric = p.metric = candidate
                break
        for place in p.places:
            for period in p.periods or [None]:
                result = self.place_figure(metric, place, period)
                if result is None:
                    continue
                fs, comps = result
                for f in fs:
                    lines.append(self.figure_line(f, place_label=place.label(self.lang)))
                    if f.metric in COUNTED_KINDS and f.value <= MAX_NAMED:  # "hoeveel … en hoe heten ze?"
                        names = [r["name"] for r in self.tools.members(place.kind, place.name, COUNTED_KINDS[f.metric])]
                        lines.append(f"  ({', '.join(names)})")
                    figures.append(f)
                    owner[id(f)] = place.label(self.lang)
                    chart.append((f"{place.label(self.lang)} {period or ''}".strip(), f.value))
                computations.extend(comps)
        if figures and p.second_metric and p.operation in {"difference", "sum"} and len(p.places) == 1:
            # "de Spreidingswet-opgave van Zaanstad min zijn taakstelling 2024-II": the place's second figure
            place = p.places[0]
            halves = resolve_halves(p.periods_asked, self.tools.taakstelling_periods())
            period = halves[0] if len(halves) == 1 else None  # a quota is per half year: one must be asked
            result = self.place_figure(p.second_metric, place, period) if period or p.second_metric != "taakstelling_gemeente" else None
            for f in (result[0] if result else [])[:1]:
                lines.append(self.figure_line(f, place_label=place.label(self.lang)))
                figures.append(f)
                owner[id(f)] = place.label(self.lang)
                computations.extend(result[1])
        if not figures and p.metric == "inwoners" and p.periods_asked:
            asked = self.periods_text(p.periods_asked)
            have = [self.tools.population_figure(self.tools.gemeente(pl.name)) for pl in p.places if pl.kind == "gemeente"]
            for f in have:
                self.cite(f.citation)
            return self.abstain(self.t("no_period", asked=asked, label=self.label(p.metric)), have)
        if not figures:
            places = render.either([pl.label(self.lang) for pl in p.places], self.lang) if p.places else None
            return self.abstain(self.t("no_place_figure", places=places, label=self.label(p.metric)) if places
                                else self.t("need_place", label=self.label(p.metric)))
        if p.reason == "official_missing" and not any(f.official for f in figures):
            return self.abstain(self.t("official_missing"), figures)
        if self.asks_realised() and not any(realised(f) for f in figures if f.value is not None):
            # "Hoeveel statushouders hebben de Limburgse gemeenten echt in een woning gekregen?": a quota or a
            # task per place is what must happen, not what did
            return self.abstain(self.t("not_realised", label=self.label(p.metric)), figures)
        formula_inputs: list[Figure] = []
        if any(f.computed for f in figures) and "taakstelling_gemeente" in {p.metric, p.second_metric}:
            lines.append("")
            lines.append(self.t("computed"))
            how = [f"{c.inputs[1].scope} {c.period}: {self.formula_text(c)}" for c in computations if c.operation == "art29"]
            summed = [f for f in figures if f.computed and f.formula and f.scope
                      and not any(c.inputs[1].scope == f.scope for c in computations if c.operation == "art29")]
            inputs = {f.period: self.tools.national_taakstelling(f.period) for f in summed}
            nation = self.tools.national_population()
            how += [f"{f.scope} {f.period}: {self.t('sum_of_gemeenten')}, " + self.t(
                "each_art29", vg=render.number(inputs[f.period].value, self.lang), i_n=render.number(nation.value, self.lang))
                for f in summed]
            # the formula's inputs travel with the answer as the figures they are (each cited)
            formula_inputs = [*inputs.values(), nation] if summed else []
            lines.append(f"{self.t('how')}: " + "; ".join(how))
        if p.metric in COA_METRICS:
            lines.append(self.t("both_versions"))
        derived = self.place_computations(figures)
        figures += formula_inputs  # (after the computations over the places' own figures)
        for c in derived:
            name = render.WORDS[self.lang]["computed"]
            shown = render.number(c.result, self.lang) + (" %" if c.unit == "procent" else f" {render.unit(c.unit, self.lang)}")
            version = f" (versie {version_of(c.inputs[0])})" if version_of(c.inputs[0]) else ""
            scope = f"{owner.get(id(c.inputs[0]), c.inputs[0].scope)}{version}: " if len(derived) > 1 else ""
            lines.append(f"{scope}**{shown}** ({name}: {c.formula})")
            figures.append(Figure(label=c.operation, value=c.result, unit=c.unit, period=c.period, computed=True,
                                  formula=c.formula, source="compute"))
        computations.extend(derived)
        return self.finish(lines, True, "derived" if derived else "table", figures=figures, computations=computations,
                           candidates=self.candidates(), chart=chart if len(chart) > 1 else None)

    def _ranking(self) -> Answer:
        p = self.plan
        lines, figures = [], []
        lowest = "lowest" in self.intent.operations
        if p.metric in COA_METRICS:
            fs = self.tools.coa_ranking(p.metric, lowest, p.top_n or 1)
            lines.append(f"**{self.label(p.metric)}**")
            for f in fs:
                lines.append(f"- {f.label}: **{render.number(f.value, self.lang)}** {render.unit(f.unit, self.lang)}"
                             + self.cite(f.citation))
            lines.append(self.t("both_versions"))
            return self.finish(lines, True, "table", figures=fs)
        for period in p.periods or [None]:
            if p.group:
                fs = self.tools.group(p.metric, p.group, period, lowest)
                if p.top_n:
                    fs = fs[: p.top_n]
            else:
                scope = p.places[0] if p.places else Place("land", "Nederland")
                fs = self.tools.ranking(p.metric, scope.kind, scope.name, period, p.top_n or 1, lowest)
            per = {"provincie": ("per provincie", "per province"),
                   "veiligheidsregio": ("per veiligheidsregio", "per safety region")}.get(p.group)
            name = self.label(p.metric) if not per else (
                f"{self.label(p.metric).split(' per ')[0]} {per[self.lang == 'en']}")
            header = name + (f" — {render.period(period, self.lang)}" if period else "")
            lines.append(f"**{header}**")
            for i, f in enumerate(fs, start=1):
                lines.append(f"{i}. {f.label}: **{render.number(f.value, self.lang)}** {render.unit(f.unit, self.lang)}")
                figures.append(f)
        if p.metric == "taakstelling_gemeente" and any(f.computed for f in figures):
            lines.append(self.t("computed"))
            self.cite(self.tools.law_citation("Artikel 29"))
            for period in p.periods:
                self.cite(self.tools.national_taakstelling(period).citation)
        self.cite_tables(p.group or (p.places[0].kind if p.places else "land"))
        chart = [(f.label, f.value) for f in figures]
        return self.finish(lines, True, "table", figures=figures, chart=chart if len(chart) > 1 else None)

    def _where(self) -> Answer:
        """The gemeenten whose figure meets the question's condition: how many, and which (the first MAX_NAMED)."""
        p, cond = self.plan, self.intent.threshold
        scope = p.places[0] if p.places else Place("land", "Nederland")
        unit = PLACE_FIGURE_UNITS[p.metric]
        condition = f"{CONDITIONS[cond.op][self.lang == 'en']} {render.number(cond.value, self.lang)} {render.unit(unit, self.lang)}"
        if p.metric != "inwoners":
            condition += f" ({self.label(p.metric)})"
        lines, figures = [], []
        for period in p.periods or [None]:
            sql, found = self.tools.where(p.metric, scope.kind, scope.name, period, cond.op, cond.value)
            when = render.period(period or POPULATION_PERIOD, self.lang)
            count = Figure(label=self.t("where", condition=condition), value=len(found), unit="gemeenten",
                           period=period or POPULATION_PERIOD, scope=scope.name, scope_kind=scope.kind,
                           source=f"COUNT over gemeenten ({scope.kind} {scope.name}) WHERE {p.metric} {cond.op} {cond.value:g}",
                           sql=sql)
            lines.append(f"{count.label} — {scope.label(self.lang)}, {when}: **{render.number(count.value, self.lang)}** "
                         f"{render.unit('gemeenten', self.lang)}")
            shown = found[:MAX_NAMED]
            if shown:
                lines.append("  " + ", ".join(f"{f.label} ({render.number(f.value, self.lang)})" for f in shown)
                             + (f" {self.t('where_more')}" if len(found) > len(shown) else ""))
            figures += [count, *shown]
        if p.metric == "taakstelling_gemeente" and any(f.computed for f in figures):
            lines.append(self.t("computed"))
            self.cite(self.tools.law_citation("Artikel 29"))
            for period in p.periods:
                self.cite(self.tools.national_taakstelling(period).citation)
        self.cite_tables(scope.kind)
        return self.finish(lines, True, "table", figures=figures)

    def _members(self) -> Answer:
        p = self.plan
        lines = []
        for place in p.places:
            names = [r["name"] for r in self.tools.members(place.kind, place.name, p.group)]
            what = {"gemeente": ("gemeenten", "municipalities"),
                    "veiligheidsregio": ("veiligheidsregio's", "safety regions")}[p.group][self.lang == "en"]
            lines.append(f"{place.label(self.lang)} — {what}: " + ", ".join(names))
            self.cite_tables(place.kind)
        return self.finish(lines, True, "table", candidates=self.candidates())

    def _text(self) -> Answer:
        """An extractive answer: the passages that cover the question, quoted, with their source."""
        # the passage must cover what is asked about, not the frame of the question ("wat wordt verstaan onder")
        question = without_cues(self.intent.topic or self.intent.question)
        # a question after context ("Onze gemeente heeft een leeg pand. Met wie …?"): the context finds the
        # passages, the asking sentence alone may be what one of them covers
        asking = without_cues(self.intent.ask) if self.intent.ask != self.intent.text else None
        doc_ids = None
        if self.intent.pin is not None:
            doc_ids = [d for d, row in self.tools.documents.items() if row["type"] == self.intent.pin.doc_type] or None
        expects = answer_type(self.intent.ask)  # the quote prefers a sentence with such an answer
        refers = bool(self.intent.context) and has_phrase(self.intent.ask, lexicon()["refer_back"])

        def together() -> tuple[list, list[Citation]]:
            # "Mag het college die beslissing ook …?" after "Wie beslist …?": the question goes on from the
            # previous one; searched together, a passage must cover the two, or the first one they find covers
            # the follow-up on its own ("… tot 18 jaar in de kso?" → "En wie is daarna verantwoordelijk …?")
            both = f"{self.intent.context} {self.intent.question}"
            found = self.tools.retrieve(both, k=3, doc_ids=doc_ids, quote_for=self.intent.question, expects=expects)
            scored = [(h, max(self.tools.coverage(without_cues(normal(both)), h),
                              self.tools.coverage(question, h) if i == 0 else 0.0)) for i, h in enumerate(found)]
            return scored, self.covering(scored, both, doc_ids)

        covered, passages, named = [], [], []
        if refers:
            # "En wie betaalt die?", "Kan het college die bevoegdheid ook aan iemand anders geven?": a follow-up
            # that refers back says too little alone (or what a passage about something else is also asked)
            covered, passages = together()
        if not passages:
            hits = self.tools.retrieve(self.intent.question, k=12 if self.intent.article else 3, doc_ids=doc_ids,
                                       expects=expects)
            if self.intent.article:  # "artikel 29": that article first, whatever else matches
                named = [h for h in hits if h.section.rstrip().endswith(f"Artikel {self.intent.article}")]
                hits = named + [h for h in hits if h not in named]
            covered = [(h, max(self.tools.coverage(question, h), self.tools.coverage(asking, h) if asking else 0.0))
                       for h in hits[:max(3, len(named))]]
            passages = self.covering(covered, self.intent.question, doc_ids)
            if not passages and refers:
                (covered, passages), named = together(), []  # the named article was not found to answer
        if len(passages) > 1:  # a second passage only from the same section, and as well covered
            first = next(c for h, c in covered if h is passages[0])
            passages = [passages[0], *[h for h, c in covered[1:] if h in passages[1:] and c >= first - SECOND_PASSAGE_MARGIN
                                       and (h.doc_id, h.section) == (passages[0].doc_id, passages[0].section)]]
        if named:  # the named article answers, by its best-covered passage alone
            # by its quoted sentence first: an article's passages share one long chunk of words
            passages = [max((hc for hc in covered if hc[0] in named),
                            key=lambda hc: (self.tools.coverage(question, hc[0], quote_only=True), hc[1]))[0]]
        if passages and asks_amount(self.intent.ask) and not asks_who(self.intent.ask) \
                and not self.intent.asks_when and not any(states_a_number(h.quote) for h in passages[:2]):
            passages = []  # "hoeveel …?" is not answered by a passage without a number ("wie/wanneer …?" may be)
        if passages and self.asks_realised() and all(has_phrase(normal(h.quote), lexicon()["target_words"])
                                                     for h in passages[:2]):
            # "How many … had actually been realised by 1 July 2025?": "moeten uiterlijk … gerealiseerd zijn" is a
            # target, not what happened
            return self.abstain(self.t("not_realised_text"))
        if passages and has_phrase(self.intent.ask, lexicon()["date_asked"]) \
                and not any(gives_answer_type(h.quote, "date") for h in passages[:2]):
            passages = []  # "On what date does the pact apply?": a passage that names no date or span does not say it
        regional = [pl for pl in self.plan.places if pl.kind != "land"]
        if passages and regional and asks_amount(self.intent.ask) and not any(
                fold(pl.name) in fold(f"{h.section} {h.quote}") for h in passages[:2] for pl in regional):
            # "Hoeveel Oekraïners staan er in Fryslân ingeschreven?": a passage with the national number does not say it
            places = render.either([pl.label(self.lang) for pl in regional], self.lang)
            return self.abstain(self.t("no_place_text", places=places), passages[0])
        rate = bool(RATE.search(self.intent.ask))
        if passages and asks_amount(self.intent.ask) and not any(
                states_unit(h.quote, wanted_units(self.intent.ask), rate) for h in passages[:2]):
            passages = []  # "Hoeveel geld per plek …?": a passage with an amount in another unit does not answer it
        if not passages:
            m = self.plan.catalogue.get(self.plan.metric) if self.plan.metric else None
            # no passage says it, but a key figure does; "wie …?" and yes/no questions are never answered
            # by a figure alone, and "wanneer …?" only by a date or a span ("2 jaar na …")
            if m is not None and m.table == "kerncijfers" and not asks_who(self.intent.ask) and not self.intent.yes_no \
                    and not self.intent.manner \
                    and not has_phrase(self.intent.ask, lexicon()["why_cues"]) \
                    and (not self.intent.asks_when or m.unit in WHEN_UNITS):
                return self._kerncijfer()
            if self.plan.reason in {"need_place", "own_place"}:
                return self._abstain()
            return self.abstain(self.t("no_passage"))
        if len(passages) == 1:  # a sentence of the same passage that says what the quote leaves out
            further = self.tools.index.further_quote(passages[0], self.intent.question, expects)
            if further:
                passages.append(passages[0].model_copy(update={"quote": further}))
        lead = self.tools.index.lead_in(passages[0])
        if lead:  # a list's opening sentence comes before the item quoted
            passages.insert(0, passages[0].model_copy(update={"quote": lead}))
        best = passages[0]
        lines = [self.t("text_intro", title=best.title, section=best.section)]
        shown = set()
        for hit in passages[:2]:
            if hit.quote in shown:
                continue
            # the passage around the quote, with the quotes of it marked (CONVENTIONS.md, Quotes)
            same = [h for h in passages[:2] if h.context and h.context == hit.context and h.quote in h.context] \
                if hit.context and hit.quote in hit.context else []
            if same:
                context = hit.context
                for h in same:
                    context = context.replace(h.quote, f"**{h.quote}**", 1)
                shown.update(h.quote for h in same)
                lines.append(f"> {context}" + "".join(dict.fromkeys(self.cite(h) for h in same)))
                continue
            shown.add(hit.quote)
            lines.append(f"> {hit.quote}" + self.cite(hit))
        notes = list(dict.fromkeys(render.note(h.note, self.lang) for h in passages[:2] if h.note))
        if notes:
            lines.append("(" + "; ".join(notes) + ")")
        figures = quoted_figures(passages[:2], wanted_units(self.intent.ask) if asks_amount(self.intent.ask) else set())
        return self.finish(lines, True, "text", figures=figures, notes=notes)

    # --- helpers -----------------------------------------------------------------------------

    def covering(self, covered: list[tuple[Citation, float]], query: str, doc_ids) -> list[Citation]:
        """The passages that cover the question well enough; or, said in other words than the
        passage's, the first one if it covers a third and BM25 and e5, searched apart, agree on it."""
        passages = [h for h, c in covered if c >= TEXT_MIN_COVERAGE]
        if not passages and covered and covered[0][1] >= AGREED_MIN_COVERAGE \
                and self.tools.index.agreed(query, doc_ids) == covered[0][0].chunk_id:
            passages = [covered[0][0]]
        return passages

    def pinned(self, figures: list[Figure]) -> list[Figure]:
        """The statements of the source the question pins ("volgens de brief van april 2024"), if it has any."""
        pin = self.intent.pin
        if pin:
            pinned = [f for f in figures if f.citation.doc_type == pin.doc_type
                      and (pin.year is None or f.citation.date.startswith(str(pin.year)))
                      and (pin.month is None or f.citation.date[5:7] == f"{pin.month:02d}")]
            if pinned:
                return pinned
        return figures

    def select_figures(self, metric: str, quiet: bool = False) -> list[Figure] | Answer:
        figures = self.pinned(self.tools.kerncijfers(metric))
        asked = [pr for pr in self.plan.periods_asked if pr.kind != "year" or not any(f.value is None for f in figures)]
        if asked and not all(f.value is None for f in figures):  # a date or statement holds from its source on
            kept = [f for f in figures if any(pr.matches(f.period) for pr in asked)] or \
                [f for f in figures if any(pr.fits(f.period, f.quote) for pr in asked)]
            if not kept:
                if quiet:
                    return []
                asked_text = self.periods_text(asked)
                return self.abstain(self.t("no_period", asked=asked_text, label=self.label(metric)),
                                    self.dedupe_newest(figures))
            figures = kept
        return figures

    def statement(self, f: Figure) -> tuple:
        """What a figure says, whichever source says it: two sources agree when this is the same."""
        return f.value, f.value_date, self.said(f)

    def first_stated(self, shown: Figure, figures: list[Figure]) -> Figure:
        """Of the statements that say what `shown` says, the one of the oldest source."""
        same = [f for f in figures if self.statement(f) == self.statement(shown)]
        return min(same or [shown], key=lambda f: f.citation.date)

    def dedupe_newest(self, figures: list[Figure]) -> list[Figure]:
        """Per period (or per date fact) keep the statement of the newest document; asked about
        "nu" or "the most recent", only the newest statement of all."""
        if any(f.value is None for f in figures) or (self.intent.now and figures and not self.plan.periods_asked):
            # of the newest source's statements, the latest one of the situation at its date rather than a
            # forecast ("ca. 108.000 op 10 maart", not "136.000 op 1 januari 2025"; the quota of 2024-II)
            newest = max(figures, key=lambda f: (f.citation.date, not is_date(f.period) or f.period <= f.citation.date,
                                                 f.period))
            return [newest]
        shown: dict[str, Figure] = {}
        for f in sorted(figures, key=lambda f: f.citation.date, reverse=True):
            shown.setdefault(f.period, f)
        return sorted(shown.values(), key=lambda f: f.period)

    def side_figure(self, side) -> Figure | None:
        """The figure one side of a comparison names: a typed value, else its best-matching metric."""
        for value in side.typed:
            for metric in self.tools.metrics_with_value(value):
                found = [f for f in self.tools.kerncijfers(metric) if f.value == value]
                if found:
                    return found[0]
        candidates = [m for m in side.matches[:6] if m.score >= SIDE_THRESHOLD and m.metric.table == "kerncijfers"]
        # a figure at exactly the period this side names beats one whose period merely spans it; a
        # side that names none prefers the question's period ("What % of the 2024-II quota is …")
        wanted = side.periods or ([] if side.now else self.plan.periods_asked)
        tries = ((lambda pr, f: pr.matches(f.period)), (lambda pr, f: pr.fits(f.period, f.quote)))
        if not side.periods:
            tries += ((lambda pr, f: True),)
        for fits in tries:
            for match in candidates:
                figures = [f for f in self.dedupe_newest(self.tools.kerncijfers(match.metric.metric)) if f.value is not None]
                if wanted:
                    figures = [f for f in figures if any(fits(pr, f) for pr in wanted)]
                if figures:
                    return figures[0]
        return None

    def asks_realised(self) -> bool:
        """An amount asked as it turned out ("echt", "werkelijk", "actually"), not as expected; or as it is now
        ("Hoeveel statushouders wachten er nu in een azc?"), unless a need, task or forecast is what is asked."""
        ask, lex = self.intent.ask, lexicon()
        return asks_amount(ask) and (has_phrase(ask, lex["realised_cues"]) or (
            has_phrase(ask, lex["present"]) and not has_phrase(ask, lex["target_words"])
            and not has_phrase(ask, lex["task_words"])))

    def combinable(self, pair: list[Figure]) -> bool:
        """Two different figures, and like ones: people and places count alike (136.000 ontheemden −
        120.000 GOO-plekken), but 105 euro per maand and 2 doorstroomlocaties make no sum (a rate
        times its span is the one product of unlike units)."""
        a, b = pair
        alike = HEADCOUNT.get(a.unit, a.unit) == HEADCOUNT.get(b.unit, b.unit)
        return (a.metric, a.period) != (b.metric, b.period) and (alike or self.plan.operation in {"product", "quotient"})

    def side_operands(self) -> list[Figure]:
        """The figures the two sides of 'X … dan Y' name, if they can be combined."""
        found = [f for f in map(self.side_figure, self.plan.sides[:2]) if f is not None]
        return found if len(found) == 2 and self.combinable(found) else []

    def operands(self, figures: list[Figure]) -> list[Figure]:
        """The two figures a derived question combines: one per side of the question ('X … dan Y'),
        or one figure at two asked periods, or the figure plus a second named or typed one."""
        p = self.plan
        found = self.side_operands() if len(p.sides) >= 2 else []
        if found:
            return found
        own = [f for f in self.dedupe_newest(figures) if f.value is not None]
        by_period = list({f.period: f for f in own}.values())
        if p.operation == "sum" and len(p.periods_asked) >= 2 and len(by_period) >= 2 and all(is_date(f.period) for f in by_period):
            return []  # a stock on two dates does not add up ("in 2025 en 2026 samen"): both are shown instead
        if len(by_period) >= 2 and (len(p.periods_asked) >= 2 or p.operation in {"growth", "sum"}):
            if p.operation != "sum" or all(not is_date(f.period) for f in by_period):
                return sorted(by_period[:2] if len(p.periods_asked) >= 2 else [by_period[0], by_period[-1]],
                              key=lambda f: f.period)
        if not own:
            return []
        others: list[Figure] = []
        for value in self.intent.typed:
            if any(f.value == value for f in own):
                continue  # "woongroepen van 12 jongeren": the figure's own value names it, not another figure of 12
            for metric in self.tools.metrics_with_value(value):
                others += [f for f in self.tools.kerncijfers(metric) if f.value == value and f not in own]
        if p.second_metric:
            second = self.select_figures(p.second_metric, quiet=True)
            others += [f for f in self.dedupe_newest(second) if f.value is not None]
        others = [f for f in others if self.combinable([own[0], f])]
        if not others:
            return []
        others.sort(key=lambda f: f.period != own[0].period)  # a part and its whole at the same moment first
        return [own[0], others[0]]

    def shifted(self) -> Answer:
        """A day a span fact counts from, moved by it (metrics.csv relative_to): "+rtb_einddatum" is the RTB's end
        (the pinned source's, else the newest) plus the span; "-start" is the asked period's first day minus it."""
        p = self.plan
        span = max(self.pinned(self.tools.kerncijfers(p.metric)), key=lambda f: f.citation.date)  # a rule: no period of its own
        relative = p.catalogue[p.metric].relative_to
        sign, anchor = (1 if relative[0] == "+" else -1), relative[1:]
        if anchor == "start":  # (the planner plans this only for a question that names a half year or year)
            start = next(pr for pr in p.periods_asked if pr.kind in {"half", "year"})
            first = f"{start.value[:4]}-{'07' if start.value.endswith('-II') else '01'}-01"
            days = [Figure(label=self.t("start_of", period=render.period(start.value, self.lang)), value_date=first,
                           unit="datum", period=start.value, source="question")]
        else:
            days = self.select_figures(anchor)
            if isinstance(days, Answer):
                return days
            days = [f for f in self.dedupe_newest(days) if f.value_date][-1:]
        lines = [self.figure_line(span)] + [self.figure_line(d) for d in days]
        figures, computations = [span, *days], []
        for day in days:
            c = date_shift(day, span, sign, self.lang)
            computations.append(c)
            lines.append(f"**{render.date(c.result_date, self.lang)}** ({render.WORDS[self.lang]['computed']}: {c.formula})")
            figures.append(Figure(label=self.label(p.metric), value_date=c.result_date, unit="datum", period=c.result_date,
                                  computed=True, formula=c.formula, source="compute"))
        return self.finish(lines, True, "derived", figures=figures, computations=computations)

    def derived(self, operation: str, figures: list[Figure], lead: list[str] = ()) -> Answer:
        """Show the inputs with their sources, then each computed result with its formula."""
        if operation in {"difference", "share"} and is_time_series(figures):
            operation = "growth"  # one figure at two moments: its change (and the change in %)
        computations = compute(operation, figures, self.lang, self.intent.per, unit=self.intent.span_unit)
        if operation == "growth":
            computations += self.per_time(computations[0])
        total = computations[0]
        years, halves = {f.period[:4] for f in total.inputs}, sorted(f.period[4:] for f in total.inputs)
        # "heel 2024 over de maanden verdeeld": the sum of a year's two halves is the year's, per month by the calendar
        rate = self.calendar_rate(total.result, total.unit, years.pop(), total.inputs) \
            if operation == "sum" and len(years) == 1 and halves == ["-I", "-II"] else None
        lines = list(lead) + [self.figure_line(f) for f in computations[0].inputs]
        names = {"difference": ("Verschil", "Difference"), "sum": ("Samen", "Together"), "product": ("Uitkomst", "Result"),
                 "share": ("Aandeel", "Share"), "growth": ("Verandering", "Change"), "ratio": ("Gemiddeld", "On average"),
                 "quotient": ("Nodig", "Needed"), "span": ("Tijd ertussen", "Time between")}
        results = []
        for c in computations:
            name = names[c.operation][0 if self.lang == "nl" else 1]
            shown = render.number(c.result, self.lang) + (" %" if c.unit == "procent" else f" {render.unit(c.unit, self.lang)}")
            lines.append(f"**{name}: {shown}** ({render.WORDS[self.lang]['computed']}: {c.formula})")
            results.append(Figure(label=name, value=c.result, unit=c.unit, period=c.period, computed=True,
                                  formula=c.formula, source="compute"))
        if rate is not None:
            c, line = rate
            lines.append(line)
            computations.append(c)
            results.append(Figure(label=names["ratio"][self.lang == "en"], value=c.result, unit=c.unit, period=c.period,
                                  computed=True, formula=c.formula, source="compute"))
        return self.finish(lines, True, "derived", figures=[*computations[0].inputs, *results], computations=computations)

    def per_time(self, change: Computation) -> list[Computation]:
        """'Met hoeveel per maand groeit de behoefte?': the change over whole months or years between
        two dates, divided by that span (only when both dates fall on the same day of the month)."""
        unit = next((u for u, cues in lexicon()["per_time"].items() if has_phrase(self.intent.text, cues)), None)
        first, last = change.inputs
        if unit is None or not (is_date(first.period) and is_date(last.period)) or first.period[8:] != last.period[8:]:
            return []
        months = (int(last.period[:4]) - int(first.period[:4])) * 12 + int(last.period[5:7]) - int(first.period[5:7])
        span = months if unit == "maanden" else months / 12
        if span <= 0 or span != int(span):
            return []
        span, n = int(span), (lambda v: render.number(v, self.lang))
        result = round(change.result / span, 1)
        word = render.unit(unit, self.lang)
        return [Computation(operation="ratio", formula=f"({n(last.value)} − {n(first.value)}) / {span} {word} = {n(result)}",
                            inputs=[first, last], result=result, unit=f"{change.unit} per {PER_UNIT[unit]}",
                            period=change.period)]

    def per_shorter_time(self, f: Figure) -> Answer | None:
        """A figure asked per a shorter unit of time than it is given in: a rate per week asked per day,
        a year's or half year's total asked per month or week; divided by the calendar's count."""
        rate = self.calendar_rate(f.value, f.unit, f.period, [f])
        if rate is None:
            return None
        c, line = rate
        name = "Gemiddeld" if self.lang == "nl" else "On average"
        result_figure = Figure(label=name, value=c.result, unit=c.unit, period=c.period, computed=True,
                               formula=c.formula, source="compute")
        return self.finish([self.figure_line(f), line], True, "derived", figures=[f, result_figure], computations=[c])

    def calendar_rate(self, value: float, unit: str, period: str, inputs: list[Figure]) -> tuple[Computation, str] | None:
        """`value` (in `unit`, for `period`) per the shorter unit of time the question asks, by the calendar's
        count, with the line that shows it; None when no such count applies."""
        asked = unit_of_time_asked(self.intent.ask)
        base, per, span = unit.partition(" per ")
        given = span if per else ("jaar" if re.fullmatch(r"\d{4}", period)
                                   else "halfjaar" if re.fullmatch(r"\d{4}-I{1,2}", period) else None)
        count = lexicon()["time_units"].get(given or "", {}).get(asked or "")
        if count is None or base in {"datum", "procent"} or unit in WHEN_UNITS:
            return None
        n = lambda v: render.number(v, self.lang)  # noqa: E731
        shorter = render.unit(asked, self.lang)
        longer = {"week": ("een week", "a week"), "jaar": ("een jaar", "a year"),
                  "halfjaar": ("een half jaar", "half a year")}[given][self.lang == "en"]
        calendar = Figure(label=f"{shorter} in {longer}", value=count, unit=asked, period=period, source="kalender")
        result = round(value / count, 1)
        c = Computation(operation="ratio", formula=f"{n(value)} / {count} {shorter} = {n(result)}",
                        inputs=[*inputs, calendar], result=result, unit=f"{base} per {PER_UNIT[asked]}", period=period)
        name = "Gemiddeld" if self.lang == "nl" else "On average"
        line = (f"**{name}: {n(result)} {render.unit(c.unit, self.lang)}** ({render.WORDS[self.lang]['computed']}: "
                f"{c.formula}; {count} {shorter} in {longer})")
        return c, line

    def place_figure(self, metric: str, place: Place, period, probe: bool = False, whole: bool = False):
        """Figures of `metric` for one place and period (None if there are none); `probe` only checks;
        `whole`: the figure another one is a share of, whatever period the question asked that one for."""
        if probe:
            if metric in REPORTED:
                return bool(self.tools.reported(place.name, place.kind, metric))
            if metric == "taakstelling_gemeente":
                return period is not None
            if metric in COA_METRICS:
                return place.kind in {"provincie", "land"}
            return metric in {"inwoners", *COUNTS} and (metric == "inwoners" or place.kind != "gemeente")
        t = self.tools
        if metric == "taakstelling_gemeente":
            if place.kind == "gemeente":
                f, c = t.taakstelling(place.name, period)
                for cited in (f.citation, c.inputs[0].citation, c.inputs[1].citation):
                    self.cite(cited)
                return [f], [c]
            scope = place.name
            f = t.aggregate(metric, place.kind, scope, period)
            self.cite(t.law_citation("Artikel 29"))
            self.cite(t.national_taakstelling(period).citation)
            self.cite_tables(place.kind)
            return [f], []
        if metric == "inwoners":
            asked = [pr for pr in self.plan.periods_asked if not pr.matches(POPULATION_PERIOD)]
            if asked and not whole:
                return None  # we hold inhabitants on 1 January 2022 only
            if place.kind == "gemeente":
                f = t.population_figure(t.gemeente(place.name))
                self.cite(f.citation)
                return [f], []
            if place.kind == "land":
                f = t.national_population()
            else:
                f = t.aggregate(metric, place.kind, place.name, None)
            self.cite_tables(place.kind)
            return [f], []
        if metric in COUNTS:
            if place.kind == "gemeente":
                return None
            f = t.aggregate(metric, place.kind, place.name, None)
            self.cite_tables(place.kind)
            return [f], []
        if metric in REPORTED:
            fs = t.reported(place.name, place.kind, metric)
            for f in fs:
                self.cite(f.citation)
            return fs, []
        if metric in COA_METRICS:
            name = "Totaal" if place.kind == "land" else place.name
            if place.kind not in {"provincie", "land"}:
                return None
            fs = [f for f in t.coa(name) if f.metric == metric]
            for f in fs:
                self.cite(f.citation)
            return fs, []
        return None

    def place_computations(self, figures: list[Figure]) -> list[Computation]:
        """Differences, sums and shares across the places a question names (or versus Nederland)."""
        op = self.plan.operation
        values = [f for f in figures if f.value is not None]
        if not op or not values:
            return []
        if op == "share" and values[0].metric in COA_METRICS:
            return self.coa_shares(values)
        if op == "share" and self.plan.second_metric:  # of the place's own inhabitants, not of the nation
            out = []
            for place in self.plan.places:
                own = [f for f in values if (f.scope, f.scope_kind) == (place.name, place.kind)]
                result = self.place_figure(self.plan.second_metric, place, None, whole=True) if own else None
                if result and result[0] and result[0][0].value:
                    out += compute("share", [own[0], result[0][0]], self.lang, self.intent.per)
            return out
        if op in {"difference", "sum"} and self.plan.second_metric:  # two figures of one place
            other = [f for f in values if f.metric == self.plan.second_metric]
            return compute(op, [values[0], other[0]], self.lang) if other and values[0] is not other[0] else []
        same = [f for f in values if f.metric == values[0].metric and f.period == values[0].period]
        if op == "share" and len(same) == 2 and (same[0].scope, same[0].scope_kind) != (same[1].scope, same[1].scope_kind):
            return compute("share", same, self.lang, self.intent.per)  # "welk deel van de provincie woont in de stad": the smaller of the larger
        if op == "share":
            whole = self.national_of(values[0])
            if whole is None:
                return []
            self.cite(whole.citation) if whole.citation else None
            return compute("share", [values[0], whole], self.lang, self.intent.per)
        if values[0].metric in COA_METRICS and op == "difference" and len(values) >= 2:
            return compute("difference", values[:2], self.lang)
        scopes = list(dict.fromkeys((f.scope, f.scope_kind) for f in values))  # Utrecht the gemeente ≠ the provincie
        if len(scopes) > 1 and not self.plan.ambiguous:  # places compared within one period
            same = [f for f in values if f.period == values[0].period and f.metric == values[0].metric]
            if len(same) >= 2 and op in {"difference", "sum"}:
                return compute(op if len(same) == 2 or op == "sum" else "sum", same, self.lang)
            return []
        out = []  # one place (or each candidate of an ambiguous name) over two periods
        for scope in scopes:  # "hoeveel minder in 2024-II dan in 2024-I", "in heel 2024"
            series = [f for f in values if (f.scope, f.scope_kind) == scope and f.metric == values[0].metric]
            if len(series) == 2 and series[0].period != series[1].period and op in {"difference", "growth", "sum"}:
                out += compute(op, series, self.lang)
        return out

    def coa_shares(self, figures: list[Figure]) -> list[Computation]:
        """Per published version: the amv part of a province's task (metrics.csv part_of), or a
        province's task as a share of the national total ('Totaal' row) of the same version."""
        out = []
        for f in figures:
            m = self.plan.catalogue.get(f.metric or "")
            if m is not None and m.part_of in COA_METRICS:
                wholes = [w for w in self.tools.coa(f.scope) if w.metric == m.part_of]
            elif f.scope != "Totaal":
                wholes = [w for w in self.tools.coa("Totaal") if w.metric == f.metric]
            else:
                continue
            whole = next((w for w in wholes if version_of(w) == version_of(f)), None)
            if whole is not None and whole.value:
                self.cite(whole.citation)
                out += compute("share", [f, whole], self.lang)
        return out

    def national_of(self, f: Figure) -> Figure | None:
        """The national whole of a place's figure: the population, or the key figure the catalogue says
        it is part of (metrics.csv part_of), at the same period where there is one."""
        if f.metric == "inwoners":
            return self.tools.national_population()
        if f.metric == "taakstelling_gemeente":
            return self.tools.national_taakstelling(f.period)
        m = self.plan.catalogue.get(f.metric or "")
        wholes = [w for w in self.tools.kerncijfers(m.part_of) if w.value is not None] if m and m.part_of else []
        return next((w for w in wholes if w.period == f.period), wholes[0] if wholes else None)

    def cite_tables(self, kind: str) -> None:
        """A sum or count over gemeenten rests on the population table and, per provincie, on the
        table that says which gemeenten lie in it."""
        self.cite(self.population_citation())
        if kind == "provincie":
            self.cite(self.tools.table_citation(
                "regioviewer_gemeenten_provincie_2025", "gemeenten per provincie (342 rijen)",
                "gemeentecode,gemeentenaam,provincie,jaar"))

    def population_citation(self) -> Citation:
        return self.tools.table_citation(
            "minvws_dashboard_gemeenten_veiligheidsregio_bevolking", "gemeenten (342 rijen)",
            "population_count: CBS-bevolking per 1 januari 2022, indeling 2023; som 17590672",
        )

    def said(self, f: Figure) -> str:
        """What a statement ("feit") says, in the asker's language: its source's own row label, since two
        sources may say it differently (the bill's name in 2023, the law's in 2024)."""
        if f.value is not None or f.value_date is not None:
            return ""
        return f.label_en if self.lang == "en" and f.label_en else f.label

    def figure_line(self, f: Figure, place_label: str | None = None) -> str:
        if f.source == "question":  # a number the asker typed: no source to cite, no period
            return f"- {f.label}: {render.figure_value(f, self.lang)}"
        if place_label is None and f.scope and f.scope_kind and f.metric not in COA_METRICS:
            place_label = Place(f.scope_kind, f.scope).label(self.lang)  # "Nederland — Aantal inwoners (…)"
        label = place_label or self.label(f.metric) if f.metric else f.label
        if place_label and f.metric:
            name = self.label(f.metric)
            if f.metric in {"taakstelling_gemeente", "inwoners"} and not place_label.endswith(("(gemeente)", "(municipality)")):
                # a provincie or regio: the figure is the sum over its gemeenten
                for cut in (" per gemeente", " per municipality", " van een gemeente", " of a municipality"):
                    name = name.replace(cut, "")
                name += " (" + ("som over de gemeenten" if self.lang == "nl" else "sum over its municipalities") + ")"
            label = f"{place_label} — {name}"
        if f.metric in COA_METRICS:
            label += f" ({f.label.rsplit('(', 1)[-1]}"
        value = render.figure_value(f, self.lang)
        extra = []
        q = f.qualifier
        if q and q not in {"ca.", "circa", "ruim", "maximaal", "gemiddeld"}:
            extra.append(render.qualifier(q, self.lang))
        if f.computed:
            extra.append(render.WORDS[self.lang]["computed"])
        if f.official:
            extra.append(self.t("official"))
        tail = f" ({', '.join(extra)})" if extra else ""
        if not value:  # a statement: what its source says is the fact
            return f"- {self.said(f) or label} ({render.when(f, self.lang)}){tail}{self.cite(f.citation)}"
        return f"- {label}: {value} {render.when(f, self.lang)}{tail}{self.cite(f.citation)}"

    def formula_text(self, c: Computation) -> str:
        vg, ig, i_n = (x.value for x in c.inputs)
        n = lambda v: render.number(v, self.lang)  # noqa: E731
        return f"ceil({n(vg)} × {n(ig)} / {n(i_n)}) = {n(c.result)}"

    def label(self, metric: str | None) -> str:
        """The metric's name without the dates some labels carry (those belong to its figures)."""
        if metric is None:
            return ""
        m = self.plan.catalogue.get(metric)
        text = m.label(self.lang) if m else metric
        if not any(c.isdigit() for c in text):
            return text
        stripped = " ".join(parse_periods(text)[1].split())
        stripped = re.sub(r"\s*\(\s*\w*\s*\)", "", stripped)  # "(vóór 1 februari 2024)" leaves "(vóór )"
        # the preposition the date stood after: "… per (incl. amv)" → "… (incl. amv)"
        return re.sub(r"\s+(in|per|op|voor|van|sinds|tot|on|as of|for|since|until)(?=\s*\(|$)", "", stripped)

    def doc_title(self, f: Figure) -> str:
        doc_type = f.citation.doc_type
        if self.lang == "nl":
            return {"brief": "de brief", "nieuws": "het nieuwsbericht", "wet": "de wet"}.get(doc_type, f.citation.title)
        return {"brief": "the letter", "nieuws": "the news item", "wet": "the law"}.get(doc_type, f.citation.title)

    def candidates(self) -> list[str]:
        return [pl.label(self.lang) for group in self.plan.ambiguous for pl in group]
