"""Intent + catalogue matches (+ the previous turn) → a Plan: which tool calls answer the question.

The plan is a decision, not an execution: it says which figure, for which places and periods,
with which operation, or that the question needs a passage, or that the sources cannot answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from .catalogue import AMBIGUITY_MARGIN, ANSWER_THRESHOLD, Metric, MetricMatch
from .places import Place
from .text import DUTCH_STOPWORDS, stem, words
from .understand import (DAY, Intent, Period, answer_type, asks_amount, asks_who, has_phrase, lexicon, padded,
                         typed_spans, unit_of_time_asked, wanted_units)

PLACE_TABLES = {"taakstelling_gemeente", "gemeenten", "coa_provinciale_opgave", "nieuws_cijfers"}
COA_METRICS = {"coa_provinciale_opgave", "coa_provinciale_opgave_amv"}  # the COA task, published in two versions
COUNTS = {"aantal_gemeenten", "aantal_provincies", "aantal_veiligheidsregios"}
COUNTED = {"aantal_provincies": {"provincie"}, "aantal_veiligheidsregios": {"veiligheidsregio"}}  # one per place of its kind
KIN_WORDS = 3  # words a count shares with a group size's row to be of its kind (the kso need and a kso woonhuis)
PLACE_THRESHOLD = 0.3  # with a place named, a weaker match on a place-level figure suffices
SHARE_WHOLES = {"inwoners"}  # a place's figure that another of its figures can be a share of
RANKABLE = {"taakstelling_gemeente", "inwoners", "aantal_gemeenten", *COA_METRICS}
MONEY = {"euro", "euro per maand"}
FILTERABLE = {"inwoners", "taakstelling_gemeente"}  # figures per gemeente a condition may select by
PERIOD_MARGIN = 0.15  # candidates this close to the best may win by having the asked period
TEXT_FALLBACK = 0.55  # a question for a passage falls back to a figure only when it names one this clearly
FOLLOWUP_OVERRIDE = 0.75  # a follow-up keeps the previous figure unless another matches this well…
FOLLOWUP_NAMED = 0.6  # …or unless its words name another figure outright ("en de taakstelling?")
FALLBACK_MARGIN = 0.1
NATIONAL_MARGIN = 0.12  # a national figure this much closer than any place figure: it was meant
UNAVAILABLE = "geen"  # catalogue rows for figures people ask about that no source of ours holds
UNAVAILABLE_TEXT = 0.75  # a question put as text that matches such a row this clearly is about it
FACT = "feit"  # unit of a catalogued statement without a number ("verdeeld naar inwoneraantal …")
WHEN_UNITS = {"datum", FACT, "jaar", "maanden", "weken", "dagen"}  # what can answer "wanneer": a date, or a span
OFFICIAL_CUES = ["officiele", "officieel", "official", "bijlage 2", "annex 2", "vastgestelde taakstelling per gemeente"]
COMPUTE_CUES = ["uitrekenen", "berekenen", "bereken", "reken", "calculate", "compute", "work out", "berekening"]
UNTIL_CUES = ["tot wanneer", "until when", "geldig tot", "loopt af", "hoe lang", "how long", "expire", "expires",
              "end date", "einddatum", "deadline", "uiterlijk"]
END_QUALIFIERS = {"tot", "tot en met", "uiterlijk", "vóór", "voor", "before", "until"}
BINARY = ("span", "product", "growth", "share", "difference", "sum")  # "hoeveel procent meer" is a growth, not a share
QUANTITY_WORDS = lexicon()["quantity_words"]
DURATION_UNITS = {"dagen", "weken", "maanden", "jaar"}
LEAD_FLOOR, LEAD_LEXICAL, CLEAR_LEAD = 0.38, 0.55, 0.1  # a clear lead below ANSWER_THRESHOLD (choose_metric)
GROUP_CUES = {
    "provincie": ["per provincie", "welke provincie", "welke provincies", "provincies", "which province",
                  "which provinces", "per province", "by province", "provinces"],
    "veiligheidsregio": ["per veiligheidsregio", "welke veiligheidsregio", "veiligheidsregios",
                         "veiligheidsregio s", "which safety region", "per safety region", "safety regions"],
}


@dataclass
class Plan:
    kind: str  # kerncijfer, places, ranking, text, abstain
    catalogue: dict[str, Metric] = field(default_factory=dict)
    metric: str | None = None
    second_metric: str | None = None
    of_value: tuple[str, float] | None = None  # (whole, typed value): the part of that version of the whole
    alternative: str | None = None
    operation: str | None = None
    places: list[Place] = field(default_factory=list)
    ambiguous: list[list[Place]] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)  # concrete half years for the tables
    periods_asked: list[Period] = field(default_factory=list)
    group: str | None = None
    top_n: int | None = None
    reason: str = ""
    have: list[str] = field(default_factory=list)
    sides: list = field(default_factory=list)  # engine.Side per side of a comparing question
    fallbacks: list[str] = field(default_factory=list)  # near-equal place figures to try if the first has none
    typed_span: tuple[float, str] | None = None  # a span the asker typed, to multiply a rate by
    part: str | None = None  # "niet in de GOO": the part to take from the whole (`metric`)
    also: list[str] = field(default_factory=list)  # "in welke veiligheidsregio en provincie": the other membership
    span: list[tuple[str | None, str | None]] = field(default_factory=list)  # per side: (date fact, or typed day)
    event: str | None = None  # the date fact whose half year or year is the period asked ("toen de wet inging")
    breakdown: str | None = None  # "per nationaliteit": a split of the figure no source gives (lexicon breakdowns)
    given: list = field(default_factory=list)  # the operands a bare comparison takes from the conversation


def plan(intent: Intent, all_matches: list[MetricMatch], previous, known_halves: list[str],
         periods: dict[str, list[tuple[str, str]]], sources: dict[str, set[tuple[str, str]]],
         qualifiers: dict[str, set[str]]) -> Plan:
    matches = [m for m in all_matches if not m.excluded]
    catalogue = {m.metric.metric: m.metric for m in all_matches}
    p = Plan(kind="abstain", catalogue=catalogue, top_n=intent.top_n)
    text = intent.text

    # Places: every mention, ambiguous ones kept whole; "Nederland" only as a scope.
    groups = [m.candidates for m in intent.places]
    # "Amsterdam, Rotterdam, Den Haag en Utrecht": a name listed among places of one kind is of that kind
    kinds = {g[0].kind for g in groups if len(g) == 1 and g[0].kind != "land"}
    if len(kinds) == 1:
        kind = next(iter(kinds))
        groups = [[pl for pl in g if pl.kind == kind] if len(g) > 1 and any(pl.kind == kind for pl in g) else g
                  for g in groups]
    groups = list({tuple(g): g for g in groups}.values())  # "Amsterdam … de inwoners van Amsterdam": one place
    p.ambiguous = [g for g in groups if len(g) > 1]
    p.places = [pl for g in groups for pl in g]
    followup = previous is not None and (intent.followup or intent.shift_years != 0)

    # Periods: asked, else inherited by a follow-up (shifted: "een jaar later").
    p.periods_asked = list(intent.periods)
    if not p.periods_asked and previous is not None and (followup or not matches_strong(matches)):
        p.periods_asked = [replace(pr.shifted(intent.shift_years), text=intent.shift_text or pr.text)
                           for pr in previous.periods]

    regional = [pl for pl in p.places if pl.kind != "land"]
    named_region = next((kind for kind, cues in REGION_BACK.items() if has_phrase(text, cues)), None)
    regions = [pl for pl in (previous.regions if previous is not None else [])
               if pl.kind == named_region or (named_region is None and has_phrase(text, ANY_REGION_BACK))]
    if not regional and regions:  # "Uit hoeveel gemeenten bestaat die veiligheidsregio?"
        p.places = regional = regions
        carried = True
    elif not regional and previous is not None and previous.places and (followup or refers_back(text) or intent.per != 100):
        # ("… per 1.000 inwoners?" after a question about a place: that place's inhabitants)
        p.places = list(previous.places)  # "En wat is de taakstelling?", "in welke regio ligt dat"
        regional = [pl for pl in p.places if pl.kind != "land"]
        carried = True
    else:
        carried = False
    if intent.unknown_places and not regional and not (
            intent.yes_no and not asks_amount(intent.ask)
            and not any(m.metric.table in PLACE_TABLES and m.score >= PLACE_THRESHOLD for m in matches[:3])):
        # ("Geldt de verlenging ook in Polen?": a rule is asked about a place abroad, not a figure of it, as
        # in "Heeft Antwerpen een taakstelling?")
        p.reason = "unknown_place"
        return p
    if has_phrase(intent.ask, lexicon()["advice_cues"]) or (has_phrase(intent.ask, lexicon()["modal_advice_cues"])
                                                            and not asks_amount(intent.ask)):
        # "Moet mijn gemeente meer doen?": not something figures answer (what is asked: "Een collega verwijst in
        # een advies naar de oude wet. Geldt die nog?" asks no advice)
        p.reason = "advice"
        return p
    asks = intent.ask.split()
    if intent.yes_no and asks and asks[0] in lexicon()["future_openers"] and has_phrase(intent.ask, lexicon()["again_words"]):
        p.reason = "prediction"  # "Will it be extended again?": what will be decided is in no source
        return p
    group = group_cue(text)
    # "Het COA verdeelde de plekken per provincie. Hoeveel voor Drenthe?": a split per provincie with one
    # provincie named asks for that one's figure, not the list
    per_group = "per_group" in intent.operations and not any(pl.kind == group for pl in regional)
    ranking = bool({"highest", "lowest"} & intent.operations) or per_group or intent.top_n is not None

    if intent.threshold is not None and (
            counted_unit(intent.ask) == "gemeenten" or has_phrase(intent.ask, lexicon()["listing_gemeenten"])
            or (asks_amount(intent.ask) and has_phrase(intent.ask, lexicon()["counted_units"]["gemeenten"]))):
        # "Hoeveel gemeenten hebben meer dan 100.000 inwoners?": the gemeenten whose figure meets the condition
        return where(p, intent, matches, regional, known_halves)
    metric = choose_metric(intent, matches, regional, ranking, periods, sources, qualifiers)
    if regional and metric is not None and metric.metric in SHARE_WHOLES and operation_of(intent) == "share":
        # "welk percentage van de inwoners van Groningen is de taakstelling": the whole is named most clearly,
        # the part is the other place figure the question names
        metric = next((m.metric for m in matches[:3] if m.metric.table in PLACE_TABLES and m.lexical >= 0.5
                       and m.metric.metric not in SHARE_WHOLES | {"provincie", "veiligheidsregio"}
                       and m.score >= PLACE_THRESHOLD), metric)
    if not regional and any(m.metric.table in PLACE_TABLES and m.score >= ANSWER_THRESHOLD for m in matches[:3]) \
            and has_phrase(text, lexicon()["own_place_cues"]):
        p.reason = "own_place"  # "de taakstelling van mijn gemeente": which one? (not the national figure)
        return p
    if intent.asks_when and not regional and not ranking and (metric is None or metric.unit not in WHEN_UNITS) \
            and not any(m.metric.unit == "datum" and m.score >= ANSWER_THRESHOLD for m in matches[:5]):
        p.kind = "text"  # "Vóór welke datum …?" with no date among the figures: a passage answers, or nothing
        return p
    kind = membership_kind(text, regional)
    # the gemeenten asked about: an ambiguous name that is also a region of that kind is the region
    asked = [pl for g in intent.places if not any(c.kind == kind for c in g.candidates) for pl in g.candidates
             if pl.kind == "gemeente"]
    if kind and asked and not ranking and (metric is None or metric.metric in {"provincie", "veiligheidsregio", *COUNTS}
                                           or score_of(matches, metric) < ANSWER_THRESHOLD):
        # "provincie van Assen", "In which province is Maastricht?", "Maakt Almere deel uit van Flevoland?"
        p.kind, p.metric, p.places = "places", kind, asked
        # "In welke veiligheidsregio en in welke provincie ligt Gouda?": both memberships, in one answer
        p.also = [k for k in KIND_WORDS if k != kind and has_phrase(text, KIND_WORDS[k])]
        return p
    if metric is not None and metric.table == UNAVAILABLE and intent.asks_when and metric.unit not in WHEN_UNITS \
            and not regional:
        # "Tot wanneer geldt de Tijdelijke wet …?" is not the count of responses to its consultation, whose
        # row names the law: a figure we lack of another kind than asked declines nothing; a passage may answer
        p.kind = "text"
        return p
    inherited = False
    pinned_elsewhere = intent.pin is not None and metric is not None and not any(
        t == intent.pin.doc_type for t, _ in sources.get(metric.metric, ()))
    if metric is not None and metric.unit == FACT and not pinned_elsewhere and not intent.article and not regional:
        p.kind, p.metric = "kerncijfer", metric.metric  # a catalogued statement, said in the asker's language
        return p
    if metric is not None and metric.table == UNAVAILABLE and score_of(matches, metric) >= UNAVAILABLE_TEXT \
            and not intent.article:  # (a pinned source holds no such row either: it has no sources)
        # "What fee may a municipality charge for a housing permit?": asked as text, but what the catalogue
        # knows no source holds, by a clear match; a passage that merely mentions the permit does not answer it
        p.metric, p.reason = metric.metric, "unavailable"
        return p
    if (intent.asks_text or pinned_elsewhere or intent.article) and not regional and not ranking and (
            not asks_amount(intent.ask) or pinned_elsewhere or intent.article
            or asks_who(intent.ask)):
        # "Wat is een vergunninghouder?", "Wie bepaalt …": a passage answers; a strong figure
        # match stays as the fallback when no passage does
        p.kind = "text"
        strong = metric is not None and score_of(matches, metric) >= TEXT_FALLBACK
        if has_phrase(intent.ask, lexicon()["duration_cues"]) and not pinned_elsewhere and not intent.article \
                and not has_phrase(intent.ask, lexicon()["why_cues"]):  # "waarom … hoe lang": a reason is asked
            # "hoe lang mag …?", "hoe lang geldt …?": a span, or the date it runs until, is the answer
            spans = [m for m in matches[:5] if m.score >= max(TEXT_FALLBACK, matches[0].score - PERIOD_MARGIN)
                     and (m.metric.unit in DURATION_UNITS
                          or (m.metric.unit == "datum" and qualifiers.get(m.metric.metric, set()) & END_QUALIFIERS))]
            # nearly tied, the end date wins: "tot en met 4 maart 2026" over "met een jaar verlengd"
            ends = [m for m in spans if m.metric.unit == "datum" and m.score >= spans[0].score - AMBIGUITY_MARGIN] if spans else []
            spans = ends[:1] + spans
            if spans:
                p.kind, p.metric = "kerncijfer", spans[0].metric.metric
                return p
        p.metric = metric.metric if strong and not pinned_elsewhere else None
        return p
    named = metric is not None and next((m.lexical for m in matches if m.metric is metric), 0.0) >= FOLLOWUP_NAMED
    if (followup and previous.metric and previous.metric in catalogue
            and (metric is None or (score_of(matches, metric) < FOLLOWUP_OVERRIDE and not named))):
        metric = catalogue[previous.metric]
        inherited = True
    elif metric is None and previous is not None and previous.metric and (regional or p.periods_asked):
        metric = catalogue.get(previous.metric)
        followup = inherited = True
    listing = members_cue(text)
    if listing and any(pl.kind in {"provincie", "veiligheidsregio"} for pl in regional) and not ranking and (
            metric is None or metric.metric in {"provincie", "veiligheidsregio", *COUNTS}):
        p.kind, p.group = "members", listing
        p.places = [pl for pl in regional if pl.kind in {"provincie", "veiligheidsregio"}]
        return p
    if metric is None:
        return text_or_abstain(p, intent)

    def place_part(whole: Metric) -> Metric | None:
        return next((m for m in catalogue.values() if m.part_of == whole.metric and m.table in PLACE_TABLES), None)

    named_whole = None
    if regional and not followup and metric.table == "kerncijfers":
        # a national figure asked for a place: its per-place part, where the catalogue has one
        # ("welk deel van de 96.000 plekken gaat naar Rotterdam": Rotterdam's reported Spreidingswet task)
        part = place_part(metric)
        named_whole, metric = (metric, part) if part is not None else (None, metric)
    p.metric = metric.metric
    if metric.table == UNAVAILABLE:  # the catalogue knows we do not hold this figure
        p.reason = "unavailable"
        return p
    # the question names this figure's national whole as well as a place: the place's part is meant
    named_whole = named_whole or next((m.metric for m in matches[:3] if m.metric.metric == metric.part_of
                                       and m.score >= matches[0].score - PERIOD_MARGIN), None)
    # the parts of national figures nearly as close, should the place have no figure of this one (the amv
    # part of the Spreidingswet estimate, for a province the news gave only the whole for)
    other_parts = [] if named_whole is None else [
        p2.metric for m in matches if m.metric is not named_whole and m.metric.table == "kerncijfers"
        and m.score >= score_of(matches, named_whole) - FALLBACK_MARGIN
        for p2 in [place_part(m.metric)] if p2 is not None and p2 is not metric]
    if regional and metric.table in PLACE_TABLES and not inherited and named_whole is None:
        counterpart = metric.part_of  # the same figure, nationally (metrics.csv part_of)
        national = next((m for m in matches if m.metric.table in {"kerncijfers", UNAVAILABLE}
                         and m.metric.metric != counterpart  # (a date or a statement is no "how many")
                         and not (asks_amount(intent.ask) and m.metric.unit in {"datum", FACT})), None)
        if national and national.score - score_of(matches, metric) > NATIONAL_MARGIN:
            # the question is about a figure we hold only nationally (or not at all), asked per place
            p.metric = national.metric.metric
            p.reason = "unavailable" if national.metric.table == UNAVAILABLE else "national_only"
            return p
    if metric.table in PLACE_TABLES and has_phrase(text, OFFICIAL_CUES) and p.metric == "taakstelling_gemeente" \
            and not has_phrase(text, COMPUTE_CUES):  # "Bijlage 2 ontbreekt. Kun je het toch uitrekenen?": computed is asked
        p.reason = "official_missing"
    if p.metric in {"provincie", "veiligheidsregio"}:
        p.metric = group or p.metric  # "in welke veiligheidsregio ligt …" names the membership asked
    if previous is not None and not intent.periods and previous.metric != p.metric and not intent.shift_years:
        p.periods_asked = []  # a period belongs to the figure it was asked for
    if carried and metric.table not in PLACE_TABLES:
        p.places, regional = [], []
    if metric.table in PLACE_TABLES:
        if p.metric in {"taakstelling_gemeente"}:
            p.periods = resolve_halves(p.periods_asked, known_halves)
            if p.periods_asked and not p.periods:
                p.reason, p.have = "no_period", known_halves
                return p
        if ranking and p.metric in RANKABLE and (p.metric != "aantal_gemeenten" or group) and (
                group or not regional or all(pl.kind != "gemeente" for pl in regional)):
            p.kind = "ranking"
            areas = [pl for pl in regional if pl.kind != "gemeente"]  # a ranking runs within an area
            p.group = group if not any(pl.kind == group for pl in areas) else None
            if p.group is None and areas:
                p.places = areas[:1]
            if p.top_n is None and ("highest" in intent.operations or "lowest" in intent.operations) and not p.group:
                p.top_n = 10 if has_phrase(text, ["top"]) else 1
            return p
        if p.metric in {"inwoners", *COUNTS} and not regional:
            p.places = [Place("land", "Nederland")]
            p.kind = "places"
            return p
        if p.metric in COA_METRICS and not regional:
            p.places = [Place("land", "Nederland")]
            p.kind = "places"
            p.operation = operation_of(intent)
            return p
        if not regional:
            # "Wat is de Spreidingswet?": a place-level figure without a place may still be a
            # question a passage answers; without one, the answer asks for the place
            p.reason = "own_place" if has_phrase(text, lexicon()["own_place_cues"]) else "need_place"  # "mijn gemeente"
            p.kind = "text" if not asks_amount(intent.ask) else "abstain"
            return p
        p.places = regional
        p.kind = "places"
        p.operation = operation_of(intent)
        if p.operation == "share":  # "… als percentage van het aantal inwoners van Amsterdam": of the place's own figure
            p.second_metric = next((m.metric.metric for m in matches[:3] if m.metric is not metric
                                    and m.metric.metric in SHARE_WHOLES and m.lexical >= FOLLOWUP_NAMED), None)
            if intent.per != 100 and metric.metric != "inwoners":  # "per 1.000 inwoners": of its inhabitants
                p.second_metric = "inwoners"
        best = score_of(matches, metric)
        p.fallbacks = [m.metric.metric for m in matches if m.metric is not metric and m.metric.table in PLACE_TABLES
                       and m.metric.metric not in {"provincie", "veiligheidsregio"} and m.score >= best - FALLBACK_MARGIN
                       ][:2] if named_whole is None else other_parts[:1]  # a place's part of a named figure
        return p

    # A national figure from the letter or a news item.
    if (regional and not followup) or (ranking and metric.table == "kerncijfers"):
        p.reason = "national_only"
        return p
    p.kind = "kerncijfer"
    if metric.part_of in catalogue and has_phrase(text, lexicon()["complement"]):
        p.metric, p.part, p.operation = metric.part_of, metric.metric, "difference"  # the whole minus the part
        return p
    p.operation = operation_of(intent)
    if metric.relative_to and not p.operation and answer_type(intent.ask) == "date" and (
            metric.relative_to != "-start" or any(pr.kind in {"half", "year"} for pr in intent.periods)):
        # a span counted from a day, asked as a day: "tot welke datum mogen transitiekosten worden verrekend?"
        # is the RTB's end plus two years (metrics.csv relative_to)
        p.operation = "shift"
        return p
    if span_unit(metric.unit) and span_unit(metric.unit) == counted_unit(intent.ask) and not p.operation \
            and has_phrase(intent.text, lexicon()["need_cues"]):
        # "Hoeveel woongroepen van 12 jongeren zijn nodig voor de 3.900 plekken?": the places the question
        # names, divided by the rate, rounded up
        every = [m for m in matches if m.metric.table == "kerncijfers" and m.metric is not metric
                 and " per " not in m.metric.unit and m.metric.unit not in {"datum", FACT, "jaar oud", "euro", *DURATION_UNITS}]
        counts = [m for m in every if m in matches[:5] and m.score >= ANSWER_THRESHOLD]
        # a group size divides places of its own kind: the kso need, not the total asylum need, is what 12
        # jongeren per woongroep divides (the rows that share the most words with the rate's first); named
        # in the question, or else the closest kin of all ("Hoeveel woonhuizen zijn nodig?")
        counts.sort(key=lambda m: -kinship(m.metric, metric))
        kin = max(every, key=lambda m: kinship(m.metric, metric), default=None)
        if kin is not None and kinship(kin.metric, metric) >= KIN_WORDS and (
                not counts or kinship(counts[0].metric, metric) < KIN_WORDS):
            counts = [kin]
        # of those, one with a figure at the asked moment ("de opgave voor 2024-II")
        dated = [m for m in counts if any(pr.matches(per) for pr in intent.periods
                                          for per, _ in (periods or {}).get(m.metric.metric, []))]
        count = (dated or counts or [None])[0]
        if count is not None:
            p.operation, p.second_metric = "quotient", count.metric.metric
            return p
    span = next((s for s in typed_spans(text) if s[1] == span_unit(metric.unit)), None)
    if span is not None:  # "105 euro per maand … in zes maanden": the rate times the asker's span
        p.operation, p.typed_span = "product", span[:2]
        return p
    if p.operation:
        second = second_operand(all_matches, metric, intent, periods)
        if second is not None:
            p.second_metric = second.metric
    else:
        alt = close_alternative(matches, metric)
        if alt is None and has_phrase(text, lexicon()["start_cues"]) and has_phrase(text, UNTIL_CUES):
            # "sinds wanneer geldt de RTB en tot wanneer loopt die?": the start date too
            alt = next((m.metric for m in matches[:5] if m.metric is not metric and m.metric.unit == "datum"
                        and m.score >= ANSWER_THRESHOLD and not qualifiers.get(m.metric.metric, set()) & END_QUALIFIERS), None)
        if alt is not None:
            p.alternative = alt.metric
    return p


KIND_WORDS = {"veiligheidsregio": ["veiligheidsregio", "safety region"], "provincie": ["provincie", "province"]}
REGION_BACK = {  # a region the previous answer named
    "veiligheidsregio": ["die veiligheidsregio", "deze veiligheidsregio", "dezelfde veiligheidsregio",
                         "that safety region", "this safety region", "the same safety region"],
    "provincie": ["die provincie", "deze provincie", "dezelfde provincie", "that province", "this province",
                  "the same province"],
}
ANY_REGION_BACK = ["die regio", "deze regio", "dezelfde regio", "that region", "this region", "the same region"]
MEMBER_CUES = {
    "gemeente": ["welke gemeenten", "which municipalities", "what municipalities", "noem de gemeenten",
                 "noem alle gemeenten", "alle gemeenten", "lijst van gemeenten", "lijst met gemeenten",
                 "list the municipalities", "list all municipalities", "all municipalities", "all the municipalities"],
    "veiligheidsregio": ["welke veiligheidsregio s", "welke veiligheidsregios", "which safety regions",
                         "what safety regions"],
}


def membership_kind(text: str, regional: list[Place]) -> str | None:
    """Which membership a question asks about a gemeente: the kind it names ("veiligheidsregio van
    Venlo"), or, with a membership verb, the kind of the region it names ("ligt Ede in Gelderland")."""
    for kind, words in KIND_WORDS.items():
        if has_phrase(text, words):
            return kind
    if has_phrase(text, lexicon()["membership_verbs"]):
        return next((pl.kind for pl in regional if pl.kind in KIND_WORDS), None)
    return None


def members_cue(text: str) -> str | None:
    return next((kind for kind, cues in MEMBER_CUES.items() if has_phrase(text, cues)), None)


def group_cue(text: str) -> str | None:
    return next((kind for kind, cues in GROUP_CUES.items() if has_phrase(text, cues)), None)


def score_of(matches: list[MetricMatch], metric: Metric) -> float:
    return next((m.score for m in matches if m.metric is metric), 0.0)


def operation_of(intent: Intent) -> str | None:
    """The arithmetic a question asks for; a loose cue ('meer', 'totaal') only counts with two periods
    or a number typed in the question, since one figure cannot be compared or added."""
    ops = intent.operations
    explicit = next((op for op in BINARY if op in ops), None)
    if explicit:
        return explicit
    if "compare" in ops:
        return "difference"
    if "total" in ops:
        return "sum"
    return None


def matches_strong(matches: list[MetricMatch]) -> bool:
    return bool(matches) and matches[0].score >= ANSWER_THRESHOLD


def refers_back(text: str) -> bool:
    return has_phrase(text, ["die gemeente", "deze gemeente", "die provincie", "daar", "that municipality",
                             "this municipality", "that province", "there", "dezelfde gemeente", "ligt dat",
                             "ligt die", "ligt het", "ligt deze", "is it in", "does it lie"])


def choose_metric(intent: Intent, matches: list[MetricMatch], regional: list[Place], ranking: bool,
                  periods: dict[str, list[tuple[str, str]]], sources: dict[str, set[tuple[str, str]]],
                  qualifiers: dict[str, set[str]]) -> Metric | None:
    """The catalogue row the question is about, or None when no row scores high enough."""
    if not matches:
        return None
    pool = matches
    # (a "wanneer" question wants a date: "vanaf wanneer … die zelf geld verdienen" asks for no money)
    wanted = wanted_units(intent.text) if not intent.asks_when else set()
    if wanted & MONEY and has_phrase(intent.ask, lexicon()["duration_cues"]):
        wanted -= MONEY  # "for how many days … before the living allowance is withdrawn?" asks days, not money
    if not wanted & MONEY:
        # money is always said ("kost", "geld", "bedrag"): a figure we lack in euro is not asked without it
        pool = [m for m in pool if not (m.metric.table == UNAVAILABLE and m.metric.unit in MONEY)]
        if not pool:
            return None
    if wanted:
        # "Hoeveel kost …" can only be answered by an amount of money, whatever else matches.
        # (a figure we lack counts in its own unit; one without a unit may be any)
        pool = [m for m in pool if m.metric.unit in wanted or (m.metric.table == UNAVAILABLE and not m.metric.unit)]
        if not pool:
            return None
    counted = counted_unit(intent.ask)
    if counted in lexicon()["rate_spans"].values():
        # "hoeveel woongroepen zijn nodig voor …": the size of one ("12 jongeren per woongroep") divides a
        # number of places; how many there are ("hoeveel woongroepen zijn er") no figure of ours counts
        if not has_phrase(intent.text, lexicon()["need_cues"]):
            return None
        pool = [m for m in pool if span_unit(m.metric.unit) == counted] or pool
    elif counted:  # "hoeveel statushouders …": not a number of homes (lexicon counted_units)
        pool = [m for m in pool if m.metric.unit == counted or m.metric.unit not in lexicon()["counted_units"]] or pool
    if has_phrase(intent.text, QUANTITY_WORDS) and not intent.asks_when:
        # "hoeveel …" asks for an amount: a date ("vastgesteld op", "uiterlijk") or a statement cannot answer it
        pool = [m for m in pool if m.metric.unit not in {"datum", FACT}] or pool
    asked_per = unit_of_time_asked(intent.ask)
    if asked_per and pool[0].metric.table != UNAVAILABLE:
        # "hoeveel per dag": a rate per day, or per week (a week has 7 days), before a year's total
        # (of the same thing: personen per week for a number of personen, not for asielaanvragen or euro)
        per_rate = next((m for m in pool[:6] if per_time_rate(m.metric.unit, asked_per)
                         and m.metric.unit.partition(" per ")[0] == pool[0].metric.unit.partition(" per ")[0]
                         and m.score >= pool[0].score - PERIOD_MARGIN), None)
        if per_rate is not None:  # it takes the lead, and the lead's score
            pool = [replace(per_rate, score=max(per_rate.score, pool[0].score)), *[m for m in pool if m is not per_rate]]
    spans = {unit for _, unit, _ in typed_spans(intent.text)}
    rate = next((m for m in pool[:6] if spans and span_unit(m.metric.unit) in spans
                 and m.score >= pool[0].score - PERIOD_MARGIN), None)
    if rate is not None:  # "in 26 weken": a rate per week is what the asker wants multiplied
        pool = [rate, *[m for m in pool if m is not rate]]
    if pool[0].metric.table == UNAVAILABLE:
        # Too close to call, a figure we lack yields to one we hold unless it has words of its own:
        # "quota" alone is the quota we have, not the "progress on the quota" we do not have.
        held = next((m for m in pool[1:6] if m.metric.table != UNAVAILABLE and not m.excluded
                     and m.score >= pool[0].score - AMBIGUITY_MARGIN and pool[0].words <= m.words), None)
        if held is not None:
            pool = [held, *[m for m in pool if m is not held]]
    if pool[0].metric.table == UNAVAILABLE and pool[0].score >= ANSWER_THRESHOLD:
        return pool[0].metric  # a figure people ask for that no source of ours holds: say so
    if not regional and not ranking:
        # A place-level figure asked without a place ("hoeveel statushouders moeten gemeenten samen
        # huisvesten"): the national figure answers it, if the catalogue has one close enough.
        top = pool[0].metric  # (of the figures in the unit asked: "how much money" is no count of places)
        national = [m for m in pool if m.metric.metric == top.part_of and m.metric.table == "kerncijfers"]
        if top.table in PLACE_TABLES and national:  # its national whole (metrics.csv part_of)
            if pool[0].score >= ANSWER_THRESHOLD:  # the same figure, asked nationally
                return national[0].metric
            pool = national + [m for m in pool if m.metric.table == "kerncijfers" and m not in national]
    if intent.periods and pool[0].metric.table == "kerncijfers":
        # Among near-equal candidates, the one that has a figure for the asked period wins.
        near = [m for m in pool[:8] if m.score >= pool[0].score - PERIOD_MARGIN and m.metric.table == "kerncijfers"]
        def fitted(m: MetricMatch) -> int:  # a figure at exactly the asked period counts double
            return sum(max((2 if pr.matches(per) else 1 if pr.fits(per, quote) else 0)
                           for per, quote in periods.get(m.metric.metric, [("", "")]))
                       for pr in intent.periods)

        best = max(near, key=fitted, default=None)
        if best is not None and fitted(best) > 0 and best is not pool[0]:
            pool = [best, *[m for m in pool if m is not best]]
    threshold = ANSWER_THRESHOLD
    if regional:
        kinds = {pl.kind for pl in regional}  # "de provincies Groningen en Drenthe" asks no count of provinces
        pool = [m for m in matches if m.metric.table in PLACE_TABLES and not kinds <= COUNTED.get(m.metric.metric, set())
                ] or matches
        # a place's part of a national figure the question names ("… of the 96,000 places … to Rotterdam")
        # is matched as well as that figure (metrics.csv part_of)
        wholes = {m.metric.metric: m.score for m in matches if m.score >= ANSWER_THRESHOLD and m.metric.table == "kerncijfers"}
        pool = sorted((replace(m, score=max(m.score, wholes.get(m.metric.part_of, 0.0))) for m in pool),
                      key=lambda m: (m.excluded, -m.score))
        threshold = PLACE_THRESHOLD
        if pool[0].metric.metric in {"provincie", "veiligheidsregio"} and not any(pl.kind == "gemeente" for pl in regional):
            pool = [m for m in pool if m.metric.metric not in {"provincie", "veiligheidsregio"}]
    elif ranking:
        # ranking gemeenten by a count of gemeenten means nothing: that one only ranks groups
        rankable = RANKABLE - ({"aantal_gemeenten"} if not group_cue(intent.text) else set())
        ranked = [m for m in matches if m.metric.metric in rankable]
        if ranked and ranked[0].score >= PLACE_THRESHOLD:
            # unless a much better match is another figure, asked per region (its national counterpart,
            # 'landelijke taakstelling', is the same figure)
            same = {ranked[0].metric.metric, ranked[0].metric.part_of}
            rival = next((m for m in matches if m.metric.metric not in same
                          and m.metric.table in {"kerncijfers", UNAVAILABLE}), None)
            if rival is None or ranked[0].score >= rival.score - NATIONAL_MARGIN:
                return ranked[0].metric
    if not pool:
        return None
    if intent.pin is not None:
        # "volgens de brief van april 2024": among near-equal figures, one that source states
        near = [m for m in pool[:6] if m.score >= pool[0].score - PERIOD_MARGIN]
        pinned = [m for m in near if any(t == intent.pin.doc_type and (intent.pin.year is None or d.startswith(str(intent.pin.year)))
                                         for t, d in sources.get(m.metric.metric, ()))]
        if pinned and pinned[0] is not pool[0]:
            pool = [pinned[0], *[m for m in pool if m is not pinned[0]]]
    if intent.asks_when:
        # a date answers "wanneer", unless a clearly better match answers it otherwise ("2 jaar na …"); so
        # does a span counted from a day (metrics.csv relative_to: "tot de RTB afloopt + 2 jaar")
        near = [m for m in pool[:5] if (m.metric.unit == "datum" or m.metric.relative_to)
                and m.score >= pool[0].score - PERIOD_MARGIN]
        dated = [m for m in near if m.score >= threshold]
        if dated and has_phrase(intent.text, UNTIL_CUES):  # "tot wanneer": an end date or deadline
            # (one near the date the question clearly names: "tot wanneer mag ze blijven onder de rtb" is
            # about the RTB's dates, and asks the one it runs until, however few words it shares with that)
            ends = lambda m: bool(qualifiers.get(m.metric.metric, set()) & END_QUALIFIERS or m.metric.relative_to)  # noqa: E731
            dated = sorted(dated + [m for m in near if m not in dated and ends(m)], key=lambda m: not ends(m))
        if dated:
            return dated[0].metric
        if intent.periods and pool[0].metric.unit not in WHEN_UNITS:
            # "Wanneer moet het Rijk uiterlijk bekendmaken hoeveel statushouders … in 2026-I?": the count
            # matches best but says no when; a span before the period asked begins (relative_to "-start")
            # does, if the question says its words as clearly as a clear lead must
            before = [m for m in pool[:8] if m.metric.relative_to == "-start" and m.score >= LEAD_FLOOR
                      and m.lexical >= LEAD_LEXICAL]
            if before:
                return before[0].metric
    best = pool[0]
    runner_up = pool[1].score if len(pool) > 1 else 0.0
    # below the threshold, a figure whose own words the question says, far ahead of any other, is
    # still the one asked ("mensen met een Oekraïens paspoort ingeschreven" for the BRP count)
    clear = threshold == ANSWER_THRESHOLD and best.score >= LEAD_FLOOR and best.lexical >= LEAD_LEXICAL \
        and best.score - runner_up >= CLEAR_LEAD
    if best.score < threshold and not clear:
        return None
    if has_phrase(intent.ask, lexicon()["duration_cues"]) and best.metric.unit not in DURATION_UNITS | {"datum"} \
            and best.metric.table != UNAVAILABLE:
        return None  # "hoe lang moet je wachten": a span or a date answers it, never a count
    if not regional and best.metric.metric in {"provincie", "veiligheidsregio"}:
        rest = [m for m in pool if m.metric.metric not in {"provincie", "veiligheidsregio"}]
        return rest[0].metric if rest and rest[0].score >= PLACE_THRESHOLD else None
    return best.metric


def counted_unit(ask: str) -> str | None:
    """The unit a question counts, named right after its quantity word ("hoeveel statushouders")."""
    for unit, words in lexicon()["counted_units"].items():
        if any(has_phrase(ask, [f"{q} {w}"]) for q in ("hoeveel", "how many", "aantal") for w in words):
            return unit
    return None


def per_time_rate(unit: str, asked: str) -> bool:
    """A rate per the unit of time asked ('personen per week' for "per week"), or per a longer unit that
    holds a whole number of it ('per week' for "per dag": 7)."""
    _, per, span = unit.partition(" per ")
    return bool(per) and (lexicon()["rate_spans"].get(span) == asked or asked in lexicon()["time_units"].get(span, {}))


def span_unit(unit: str) -> str | None:
    """'personen per week' → 'weken': the unit a rate is multiplied by."""
    rate = unit.rpartition(" per ")[2] if " per " in unit else ""
    return lexicon()["rate_spans"].get(rate)


def second_operand(matches: list[MetricMatch], first: Metric, intent: Intent,
                   periods: dict[str, list[tuple[str, str]]] | None = None) -> Metric | None:
    if operation_of(intent) == "share":  # a part's share: of the whole the catalogue says it is part of
        whole = next((m.metric for m in matches if m.metric.metric == first.part_of), None)
        part = next((m.metric for m in matches if m.metric.part_of == first.metric and m.score >= ANSWER_THRESHOLD), None)
        if whole is not None or part is not None:
            return whole or part
    if operation_of(intent) == "product":  # the span of a rate, or the rate of a span
        ranked = sorted(matches, key=lambda m: -m.score)
        span = span_unit(first.unit)
        return next((m.metric for m in ranked if m.metric.table == "kerncijfers" and m.metric is not first and (
            m.metric.unit == span if span else span_unit(m.metric.unit) == first.unit)), None)
    related = {first.part_of} | {m.metric.metric for m in matches if m.metric.part_of == first.metric}
    named = [m for m in sorted(matches, key=lambda m: -m.score)[:4] if m.metric is not first
             and not (operation_of(intent) == "sum" and m.metric.metric in related)  # a whole plus its part: no
             and m.metric.table == "kerncijfers" and m.metric.unit == first.unit
             and m.score >= ANSWER_THRESHOLD and m.lexical >= 0.5]  # the question names it, too
    # of those, one with a figure at the asked moment ("tekort per 1 januari 2025")
    dated = [m for m in named if any(pr.matches(per) for pr in intent.periods
                                     for per, _ in (periods or {}).get(m.metric.metric, []))]
    chosen = dated or named
    return chosen[0].metric if chosen else None


def close_alternative(matches: list[MetricMatch], first: Metric) -> Metric | None:
    top = next((m for m in matches if m.metric is first), None)
    for m in matches:
        if m.metric is first or m.metric.table != "kerncijfers" or (m.metric.unit == "datum") != (first.unit == "datum"):
            continue  # a date is no alternative to an amount, nor the other way round
        if top is not None and top.score - m.score < AMBIGUITY_MARGIN and m.score >= ANSWER_THRESHOLD \
                and m.lexical >= top.lexical - AMBIGUITY_MARGIN:  # and the question's words fit it as well
            return m.metric
        break
    return None


def where(p: Plan, intent: Intent, matches: list[MetricMatch], regional: list[Place], known_halves: list[str]) -> Plan:
    """Gemeenten counted or listed by a condition on a figure per gemeente: the figure the condition's word names
    ("100.000 inwoners"), else the best matching one; within the provincie or veiligheidsregio named."""
    held = [m for m in matches if m.metric.metric in FILTERABLE and m.score >= PLACE_THRESHOLD]
    word = stem(intent.threshold.word) if intent.threshold.word else ""
    named = [m for m in held if word and word in {stem(w) for w in words(m.metric.document)}]
    chosen = (named or held)[:1]
    if not chosen:
        return text_or_abstain(p, intent)
    p.kind, p.metric = "where", chosen[0].metric.metric
    p.places = [pl for pl in regional if pl.kind in {"provincie", "veiligheidsregio"}][:1]
    if p.metric == "taakstelling_gemeente":
        p.periods = resolve_halves(p.periods_asked, known_halves)
        if p.periods_asked and not p.periods:
            p.kind, p.reason, p.have = "abstain", "no_period", known_halves
    return p


def resolve_halves(asked: list[Period], known: list[str]) -> list[str]:
    if not asked:
        return list(known)
    halves = []
    for pr in asked:
        if pr.kind == "half":
            wanted = [pr.value]
        elif pr.kind == "year":
            wanted = [f"{pr.value}-I", f"{pr.value}-II"]
        else:
            wanted = [f"{pr.value[:4]}-{'I' if int(pr.value[5:7]) <= 6 else 'II'}"]
        halves += [h for h in wanted if h in known and h not in halves]
    return halves


def text_or_abstain(p: Plan, intent: Intent) -> Plan:
    """No catalogued figure fits: a passage may still answer (the executor checks that it really
    does, and declines otherwise)."""
    p.kind = "text"
    return p


def place_metrics(matches: list, threshold: float, catalogue: dict[str, Metric]) -> list[Metric]:
    """The figures a side names that a place has: place figures, or the per-place parts of national ones."""
    found = []
    for m in matches:
        if m.excluded or m.score < threshold:
            continue
        if m.metric.table in PLACE_TABLES and m.metric.metric not in {"provincie", "veiligheidsregio"}:
            found.append(m.metric)
        found += [c for c in catalogue.values() if c.part_of == m.metric.metric and c.table in PLACE_TABLES][:1]
    return list(dict.fromkeys(found))


def with_sides(p: Plan, sides: list, operation: str | None, threshold: float) -> Plan:
    """A comparing question whose whole matches no figure well may still name one on each side
    ("What percentage of the 2024-II quota is the Nidos target?"): then each side is its operand."""
    p.sides = sides
    if operation == "span":  # the time between two dates: on each side a date fact, or a day the asker typed
        typed = [next((pr.value for pr in side.periods if pr.kind == "date" and DAY.search(pr.text or "")), None)
                 for side in sides[:2]]
        options = [[None] if day else [m for m in side.matches[:5] if m.metric.table == "kerncijfers"
                                       and m.metric.unit == "datum" and not m.excluded and m.score >= threshold]
                   for side, day in zip(sides[:2], typed)]
        # the best two different dates together: "de inwerkingstelling van de RTB" and "de huidige
        # einddatum" may both match the end date best, but only one of them can be it
        pairs = [(a, b) for a in options[0] for b in options[-1] if a is None or b is None or a.metric is not b.metric] \
            if len(options) == 2 else []
        best = max(pairs, key=lambda ab: sum(m.score for m in ab if m is not None), default=None)
        if best:
            p.kind, p.operation = "kerncijfer", "span"
            p.span = [(m.metric.metric if m is not None else None, day) for m, day in zip(best, typed)]
            p.metric = next((m for m, _ in p.span if m), None)
            p.catalogue.update({m.metric.metric: m.metric for m in best if m is not None})
        elif p.operation == "span":
            p.operation = None
        return p
    if p.kind == "places" and len(p.places) == 1 and operation in {"difference", "sum"} and len(sides) >= 2 \
            and not p.second_metric:
        # "het verschil tussen de Spreidingswet-opgave van Zaanstad en zijn taakstelling": one place, a
        # figure of its own on each side (a national figure's per-place part counts: metrics.csv part_of)
        # the figure the whole question named is the side's that has it among its first three; the other
        # side names the second figure clearly
        named = [next((m for m in place_metrics(side.matches[:3], 0.0, p.catalogue) if m.metric == p.metric), None)
                 for side in sides[:2]]
        options = [place_metrics(side.matches[:3], threshold, p.catalogue) for side in sides[:2]]
        own = [n or (o[0] if o else None) for n, o in zip(named, options)]
        if all(own) and own[0] is not own[1] and p.metric in {m.metric for m in own}:
            p.metric, p.second_metric, p.operation = own[0].metric, own[1].metric, operation
            p.catalogue.update({m.metric: m for m in own})
        return p
    if p.operation or len(sides) < 2 or operation is None:
        return p
    named = [next((m for m in side.matches[:3] if m.metric.table == "kerncijfers" and not m.excluded
                   and m.score >= threshold), None) for side in sides[:2]]
    if all(named) and (named[0].metric is not named[1].metric or any(side.typed or side.periods for side in sides[:2])):
        # two figures, or one figure at two moments ("the new estimate of 88,000 than the first one")
        p.kind, p.metric, p.operation = "kerncijfer", named[0].metric.metric, operation
        p.catalogue.update({m.metric.metric: m.metric for m in named})
    return p


def kinship(a: Metric, b: Metric) -> int:
    """How many content words two catalogue rows share (their labels, synonyms and descriptions)."""
    return len(_content_words(a) & _content_words(b))


@lru_cache(maxsize=512)
def _content_words(m: Metric) -> frozenset[str]:
    return frozenset(w for w in words(m.document) if len(w) > 3 and w not in DUTCH_STOPWORDS)


@lru_cache(maxsize=1)
def _breakdown_cues() -> list[tuple[str, dict, list[str], list[re.Pattern]]]:
    """Per split of the lexicon: its padded cues and, for each, the pattern that also takes the number after it."""
    out = []
    for key, split in lexicon()["breakdowns"].items():
        cues = [padded(cue) for cue in split["cues"]]
        out.append((key, split, cues, [re.compile(rf"{re.escape(cue)}(\d+ )?") for cue in cues]))
    return out


def breakdown_missing(text: str, metric: Metric | None, figure_asked: bool = True) -> str | None:
    """The split a question asks of a figure ("per nationaliteit", "jonger dan 15", "gemiddeld") that the
    figure's catalogue row does not name (lexicon breakdowns): the key of that split, else None.
    `figure_asked`: a figure or an amount is asked; else only the splits marked `text` count. An average per
    unit of time ("gemiddeld per maand") is a rate we compute, no split."""
    document = f" {' '.join(words(metric.document))} " if metric is not None else ""
    for key, split, cues, patterns in _breakdown_cues():
        if (not figure_asked and not split.get("text")) or (split.get("reason") == "no_average" and unit_of_time_asked(text)):
            continue
        for pattern in patterns:
            found = pattern.search(text)
            if found is None or found.group(0) in document:
                continue
            # a row that names the split answers it: by the cue and its number ("jonger dan 18"), or by any cue
            if found.group(1) is None and any(c in document for c in cues):
                continue
            return key
    return None
