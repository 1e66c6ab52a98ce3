"""The assistant: question → understand → plan → tools → grounded answer → render.

`Assistant` holds what is expensive to open (database, catalogue, index) and is shared; a
`Conversation` holds what the previous turns said so follow-ups ("En een jaar later?") resolve.
Without an LLM every answer is assembled from tool results; with one (llm.py) the model's text
must pass the grounding guard or the deterministic answer is used.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import NamedTuple

from . import render
from .catalogue import ANSWER_THRESHOLD, Catalogue, MetricMatch
from .compose import SIDE_THRESHOLD, TEXT, Executor
from .config import Settings
from .grounding import numbers_in_text
from .models import Answer, Figure
from .places import Place, PlaceMention, PlaceResolver
from .planner import PERIOD_MARGIN, breakdown_missing, operation_of, plan, with_sides
from .text import fold, stem, words
from .tools import Tools
from .understand import (DAY, MAX_QUESTION_CHARS, PER_THOUSAND, Period, asks_amount, has_phrase, lexicon, normal, padded,
                         asked_sentence, content_words, event_clause, parse_periods, understand, with_years)

ANSWER_CACHE_SIZE = 2048
QUOTED_MARGIN = 0.2  # a figure whose value the question quotes scores at least this above the threshold…
QUOTED_LEXICAL = 0.4  # …when the question's words name it this well, too
MIN_NAMING_VALUE = 1000  # a typed number this large names the key figure with that value; a smaller one needs its unit
ARTICLES = frozenset({"de", "het", "een", "the", "a", "an"})
DOCUMENT_WORDS = frozenset({"brief", "letter", "nieuwsbericht", "bericht", "item", "document", "kamerbrief"})
SUBJECT_WORDS = frozenset({"over", "on", "about", "concerning", "regarding", "inzake", "betreffende"})
MIN_TITLE_WORDS = 5  # this many consecutive words of a document's title name that document
BARE_WORDS = 3  # a bare comparison ("Wat is het verschil?") names at most this many words of its own
MIN_SUBJECT_WORDS, SUBJECT_SHARE = 3, 0.6  # a subject clause names a document when this much of it is its title


class Event(NamedTuple):
    """A period named by an event: the date fact that names it, its newest day, the grain asked (half, year,
    or "asked": the figure's own) and the event's words in the question."""

    fact: str
    day: str
    grain: str
    words: str


@dataclass
class Turn:
    """What a follow-up may inherit from the previous question."""

    metric: str | None
    places: list[Place]
    periods: list
    regions: list[Place] = field(default_factory=list)  # regions the answer named: "die veiligheidsregio"
    passage: str = ""  # the question a passage answered: "Mag het college die beslissing …?" goes on from it


class Assistant:
    """Shared, thread-safe for reading: open once, ask many."""

    def __init__(self, settings: Settings | None = None, llm=None):
        self.settings = settings or Settings.from_env()
        self._llm = llm  # a LangChain chat model; else ASSISTANT_LLM names one; else none
        self._answers: OrderedDict = OrderedDict()  # (history, question, data version) -> Answer
        self.cache_hits = 0

    @cached_property
    def tools(self) -> Tools:
        return Tools.open(self.settings)

    @cached_property
    def embedder(self):
        from .embeddings import load_embedder

        return load_embedder(self.settings.embedder)

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue.load(self.tools.sql, self.settings.index_dir, self.embedder)

    @cached_property
    def places(self) -> PlaceResolver:
        # Words of the sources and the catalogue are never read as misspelt or unknown place names.
        texts = [p.read_text(encoding="utf-8", errors="ignore") for p in self.settings.documents_dir.glob("*.md")]
        texts += [r[0] for r in self.tools.sql.query("SELECT quote FROM kerncijfers").rows]
        texts.append((Path(__file__).parent / "lexicon.yaml").read_text(encoding="utf-8"))  # months, cue words
        return PlaceResolver.from_sql(self.tools.sql, self.catalogue.vocabulary_words | set(words(" ".join(texts))))

    @cached_property
    def titles(self) -> list[list[str]]:
        return [words(d["title"]) for d in self.tools.documents.values() if d.get("title")]

    def without_titles(self, text: str) -> str:
        """"de brief van 25 april 2024 over de opvang van asielzoekers en … statushouders": a source named by
        its subject. Those words say which document, not what is asked of it (its kenmerk, its addressees)."""
        found = words(text)
        for title in self.titles:
            start, length = longest_run(found, title)
            if length < MIN_TITLE_WORDS or not DOCUMENT_WORDS & set(found[max(0, start - 8):start]):
                continue  # a title only where a document is named: "de Tijdelijke wet opvang ontheemden" is a law
            end, named = start + length, set(title) | ARTICLES  # "… en de taakstelling …": the title, retold
            while end < len(found) and found[end] in named:
                end += 1
            found = found[:start] + found[end:]
        return self.without_subject(found)

    def without_subject(self, found: list[str]) -> str:
        """"the letter on asylum reception, displaced Ukrainians and the housing quota": a document named by its
        subject in other words (English, a paraphrase): the words after "letter on" that, translated by the
        glossary, are mostly its title's."""
        for i, word in enumerate(found[:-1]):
            if word not in DOCUMENT_WORDS or found[i + 1] not in SUBJECT_WORDS:
                continue
            clause = found[i + 2:]
            groups = [g for g in self.tools.index.tokenize.groups(" ".join(clause)) if g]
            said = [g for g in groups if any(g & title for title in self.title_tokens)]
            if len(said) >= MIN_SUBJECT_WORDS and len(said) >= SUBJECT_SHARE * len(groups):
                return " ".join(found[:i + 1])
        return " ".join(found)

    @cached_property
    def title_tokens(self) -> list[set[str]]:
        return [set(self.tools.index.tokenize(" ".join(title))) for title in self.titles]

    @cached_property
    def known_halves(self) -> list[str]:
        return self.tools.taakstelling_periods()

    @cached_property
    def llm(self):
        if self._llm is None and self.settings.llm:
            from .llm import load_model

            self._llm = load_model(self.settings.llm)
        return self._llm

    def conversation(self):
        """A new conversation: deterministic, or through the language model when one is configured."""
        if self.llm is not None:
            from .llm import LLMConversation

            return LLMConversation(Conversation(self), self.llm)
        return Conversation(self)

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        """Answer `question` in the context of earlier user questions (replayed, in order).

        Without a language model an answer depends only on the conversation and on the built
        database and index, so the same conversation is answered from a cache until either changes.
        """
        key = (tuple(history or ()), question, self.data_version())
        cached = self._answers.get(key) if self.llm is None else None
        if cached is not None:
            self._answers.move_to_end(key)
            self.cache_hits += 1
            return cached.model_copy(deep=True, update={"latency_ms": 0.0})
        conversation = self.conversation()
        for earlier in history or []:
            conversation.ask(earlier)
        answer = conversation.ask(question)
        if self.llm is None:
            self._answers[key] = answer.model_copy(deep=True)
            while len(self._answers) > ANSWER_CACHE_SIZE:
                self._answers.popitem(last=False)
        return answer

    def data_version(self) -> tuple:
        """What an answer was built from: the database file and the live index build."""
        db = self.settings.db_path.stat().st_mtime_ns if self.settings.db_path.exists() else 0
        pointer = self.settings.index_dir / "current.json"
        return db, pointer.stat().st_mtime_ns if pointer.exists() else 0

    def ask_messages(self, messages: list[dict]) -> Answer:
        users = [m.get("content", "") for m in messages if m.get("role") == "user"]
        if not users:
            return self.conversation().ask("")
        return self.ask(users[-1], users[:-1])


COMPARING = {"difference", "share", "growth"}  # a second part that compares with the first makes one question
OWN_SUBJECT = 0.75  # lexical match at which a second part names a figure of its own


def asks_amount_or_when(intent) -> bool:
    """A part asking a figure: how many, when, or what a figure is ("Wat is de taakstelling van Ede?")."""
    return asks_amount(intent.ask) or intent.asks_when or intent.ask.startswith(
        tuple(padded(w) for w in lexicon()["joined_questions"]["figure_openers"]))


@lru_cache(maxsize=1)
def second_ask() -> re.Pattern:
    """"…, en hoeveel zijn er begin 2025 nodig?", "… and when did …": a second question joined to the first
    by "en" / "and" and one of the lexicon's openers."""
    openers = "|".join(re.escape(w) for w in lexicon()["joined_questions"]["second_openers"])
    return re.compile(rf"^(?P<first>.+?)(?:,\s*|\s+)(?:en|and)\s+(?P<second>(?:{openers})\b.+)$", re.IGNORECASE)


@dataclass
class Conversation:
    assistant: Assistant
    previous: Turn | None = None
    # while the second part of a joined question is answered: the figure the first part answered (not the
    # second's), and the first part's sources (numbered on in the second)
    _without: str | None = field(default=None, init=False, repr=False)
    _citations: list = field(default_factory=list, init=False, repr=False)
    # the figure each of the last two figure answers gave first: "Wat is het verschil?" combines them
    _answered: list = field(default_factory=list, init=False, repr=False)

    def ask(self, question: str) -> Answer:
        start = time.perf_counter()
        question = question if isinstance(question, str) else str(question)
        answer = self._joined(question) or self._answer(question)
        answer.latency_ms = round((time.perf_counter() - start) * 1000, 2)
        return answer

    # --- the pipeline ------------------------------------------------------------------------

    def _joined(self, question: str) -> Answer | None:
        """Two figures asked at once ("Hoeveel plekken heeft het COA nu voor amv, en hoeveel zijn er begin
        2025 nodig?"): each part answered on its own, the second about the first's subject but another
        figure, in one answer whose sources are numbered through. It is `answered` as the first part is; a
        second part the sources do not hold says so in the text."""
        m = second_ask().match(clean_question(question))
        if not m or len(question) > MAX_QUESTION_CHARS:
            return None
        first_intent, second_intent = understand(m["first"], []), understand(m["second"], [])
        if operation_of(first_intent) or operation_of(second_intent) in COMPARING or not asks_amount_or_when(first_intent):
            return None  # "hoeveel meer … en …", "X en Y samen": one computation, not two questions
        before = self.previous
        first = self._answer(m["first"])
        if not first.answered or first.kind not in {"figure", "table", "derived"} or not first.figures:
            self.previous = before  # not two figures after all: the whole question is answered as one
            return None
        self._citations = list(first.citations)
        after_first = self.previous
        own_place = bool(self.assistant.places.find(m["second"]))
        try:
            second = None
            if second_intent.periods or own_place:
                # "…, en hoeveel heeft Amsterdam?", "…, en hoeveel per 1 januari 2026?": the same figure for
                # another place or moment, asked as a follow-up (if it has one there)
                second = self._answer(f"En {m['second']}")
                again = {(f.metric, f.period, f.scope) for f in second.figures} <= \
                    {(f.metric, f.period, f.scope) for f in first.figures}  # the first's figure once more
                if (not second.answered or again) and not own_place:
                    second, self.previous = None, after_first
            if second is None:
                # a second part that names its own figure is asked as it is; one that does not ("en hoeveel
                # zijn er begin 2025 nodig?") is about the first part's subject; neither is the first's figure
                self._without = after_first.metric if after_first else None
                own = [x for x in self.assistant.catalogue.match(second_intent.topic or m["second"], use_dense=False)
                       if x.metric.metric != self._without]
                named = bool(own) and own[0].lexical >= OWN_SUBJECT
                second = self._answer(m["second"] if named else
                                      f"{m['second'].rstrip('?')} ({first_intent.topic or m['first']})?")
        finally:
            self._without, self._citations = None, []
        if second.kind == "error":
            self.previous = before
            return None
        words = render.WORDS[first.language]["sources"]
        text = first.answer.rsplit(f"\n\n**{words}**", 1)[0] + "\n\n" + second.answer
        return first.model_copy(update={
            "question": question, "answer": text, "answered": first.answered or second.answered,
            "figures": first.figures + second.figures, "computations": first.computations + second.computations,
            "citations": second.citations or first.citations, "notes": list(dict.fromkeys(first.notes + second.notes)),
        })

    def _answer(self, raw: str) -> Answer:
        question = clean_question(raw)
        if not question:
            return Answer(question=question, answer=TEXT["nl"]["empty"], kind="error")
        if len(question) > MAX_QUESTION_CHARS:
            lang = "en" if " the " in question[:500].lower() else "nl"
            return Answer(question=question[:200], answer=TEXT[lang]["too_long"], kind="error", language=lang)
        a = self.assistant
        a.tools.calls.clear()  # the calls of this question only (audited, shown, tested)
        mentions = self.narrowed(question, a.places.find(question))
        asking_text = asked_sentence(question)
        asking = question.rfind(asking_text)
        if asking > 0 and any(m.start >= asking for m in mentions):
            # "Bij de regietafel in Zwolle … Hoeveel moet de provincie Overijssel regelen?": the place the
            # asking sentence names is the one asked about; the context's places set the scene
            mentions = [m for m in mentions if m.start >= asking]
        intent = understand(question, mentions)
        intent.unknown_places = a.places.unknown(question, mentions)
        intent.resembles = [p for name in intent.unknown_places for p in a.places.suggestions(name)]
        asked = asking_text if intent.context_apart else question
        typed = PER_THOUSAND.sub(" ", parse_periods(fold(asked))[1])  # "per 1.000 inwoners" types no figure
        typed_numbers = [m for m in numbers_in_text(typed) if m.kind == "number"]
        intent.typed = [m.value for m in typed_numbers]
        # "hoeveel van de 48.500 statushouders …": a part of the figure whose value is typed is asked
        parts_asked = [m.value for m in typed_numbers if part_of_typed_cue().search(typed[:m.start])]
        if self.previous is None and not mentions and not intent.periods and not typed_numbers \
                and not content_words(question):
            # "Hoeveel", "Wat is dat?": a question that names nothing, with nothing before it to go on from
            return Answer(question=question, answer=TEXT[intent.language]["empty"], kind="error",
                          language=intent.language)
        intent.periods = with_years(intent.periods, self.previous.periods if self.previous else [])
        intent.context = self.previous.passage if self.previous else ""
        topic = intent.topic or question
        untitled = a.without_titles(question)
        if untitled != " ".join(words(question)):  # a document named by its title: what is asked of it is the topic
            topic = intent.topic = understand(untitled, []).topic or topic  # (a passage must cover that, too)
        event = self.event_of(intent, asking_text)
        if event is not None:  # the event's words name the period, not the figure asked
            named = set(words(event.words))
            topic = " ".join(w for w in words(topic) if w not in named) or topic
        if intent.context_apart:  # what was, then what is now: the figure asked is the asking sentence's
            topic = understand(asked, mentions).topic or topic
        whole = a.catalogue.by_key.get(self.previous.metric) if intent.part_of and self.previous else None
        if whole is not None:  # "Hoeveel daarvan zijn voor amv?": amv within the previous figure
            topic = f"{topic} {re.sub(r'[(].*?[)]', ' ', whole.label_nl)}"
        if a.embedder is None:
            query_vector = None
        else:  # a passage will be searched too: the catalogue reads the passage query's vector, since e5
            # costs per text embedded (~15 ms each, batched or not) and text answers were over 50 ms p50
            query_vector = a.embedder.query(a.tools.index.dense_query(question) if intent.asks_text else topic)
        matches = a.catalogue.match(topic, query_vector)
        if self._without:  # the second part of a joined question asks another figure than the first
            matches = [m for m in matches if m.metric.metric != self._without]
        if whole is not None:  # among near-equal parts, one the catalogue says is part of that whole
            # the whole itself is never the answer, but stays known ("daarvan níet voor amv": whole − part)
            matches = parts_first([m for m in matches if m.metric is not whole], whole.metric) + [
                replace(m, excluded=True) for m in matches if m.metric is whole]
        elif matches and asks_a_part(question, intent.ask):
            # "Of the places needed on 1 January 2025, how many are emergency reception places?": the whole is
            # named to say what the part is of; a part that the question names by words of its own is asked
            whole_words = a.catalogue.words_of(matches[0].metric)
            part = next((m for m in matches[1:4] if m.metric.part_of == matches[0].metric.metric and not m.excluded
                         and m.words - whole_words and m.score >= matches[0].score - PERIOD_MARGIN), None)
            if part is not None:
                matches = [part, *[m for m in matches if m is not part]]
        # numbers the asker typed that are values of key figures ("the 96,000", "from 96,000 to 88,000")
        quoted = [metric for m in typed_numbers for metric in a.tools.metrics_with_value(m.value)
                  if m.value >= MIN_NAMING_VALUE or counts_unit(typed[m.end:], a.catalogue.by_key[metric].unit,
                                                                a.catalogue.same)]
        # and dates it types that a source gave for a fact: "Klopt het dat de RTB op 4 maart 2025 afloopt?"
        # (or "Sinds wanneer weten we dat de RTB tot 4 maart 2026 geldt?": that date names the fact)
        dated = {metric for p in intent.periods if (intent.yes_no or intent.announced) and p.kind == "date"
                 and DAY.search(p.text) for metric in a.tools.metrics_with_date(p.value)}
        quoted += sorted(dated)
        # "Hoeveel amv-plekken zitten in de raming van 88.000?": a part of the figure whose value is typed,
        # asked for the version that value belongs to
        part_of_typed = next((m for m in matches[:1] if m.metric.part_of in quoted and not m.excluded), None)
        typed_wholes = {metric for value in parts_asked for metric in a.tools.metrics_with_value(value)}
        if part_of_typed is None and typed_wholes:  # "hoeveel van de 97.500 plekken zijn voor amv": its part named
            part_of_typed = next((m for m in matches if m.metric.part_of in typed_wholes and not m.excluded
                                  and m.metric.table == "kerncijfers" and m.lexical >= QUOTED_LEXICAL), None)
            if part_of_typed is not None:
                matches = [part_of_typed] + [m for m in matches if m is not part_of_typed]
        # "Hoeveel minder plekken volgens de nieuwe raming van 88.000?": the typed figure against its own earlier
        # version, not against another figure the words also name
        revised = quoted[:1] if operation_of(intent) in {"difference", "growth"} and len(intent.typed) == 1 \
            and has_phrase(intent.text, lexicon()["revision_cues"]) else []
        if (not operation_of(intent) or revised) and part_of_typed is None:
            matches = quoted_first(matches, set(revised or quoted))
        if event is not None:
            intent.periods = [self.event_period(event, matches)]
        the_plan = plan(intent, matches, self.previous, a.known_halves, a.catalogue.periods, a.catalogue.sources,
                        a.catalogue.qualifiers)
        if event is not None:
            the_plan = replace(the_plan, event=event.fact)
        unplanned = the_plan.kind in {"text", "abstain"} and not the_plan.reason and not intent.asks_text
        if intent.segments and operation_of(intent) not in {None, "product"} and (
                the_plan.operation or unplanned or operation_of(intent) == "span"):
            # Each side of "X … dan Y" names one operand (a rate times its span has no sides). Dutch
            # sides match well on words alone; English ones need the embeddings (~20 ms per side).
            # the second side of a joined comparison, or of a time between ("… and its current end date"),
            # may name no figure: it is about the first side's subject
            joined = has_phrase(intent.text, lexicon()["joined_comparisons"]) or operation_of(intent) == "span"
            sides = [side_of(a.catalogue, segment, intent.language == "en", intent.segments[i - 1] if i and joined else "")
                     for i, segment in enumerate(intent.segments)]
            the_plan = with_sides(the_plan, sides, operation_of(intent), SIDE_THRESHOLD)
        if unplanned and operation_of(intent):
            # "went from 96,000 … to 88,000: what percentage decrease?": the typed values name the figure
            if len(intent.typed) >= 2 and len(quoted) >= len(intent.typed) and quoted[0] in the_plan.catalogue:
                the_plan = replace(the_plan, kind="kerncijfer", metric=quoted[0], operation=operation_of(intent))
        # "Hoeveel van de verwachte asielaanvragen zijn nareizigers?": the figure named after "hoeveel van de" is
        # the whole, whether its value is typed or not (a figure that is itself a part answers as it is)
        # (so is one named before "hoeveel daarvan …" in the same question, with no figure before it)
        named_whole = the_plan.metric if (part_of_opening(intent.ask) or (intent.part_of and whole is None)) \
            and the_plan.metric in a.catalogue.by_key and not a.catalogue.by_key[the_plan.metric].part_of else None
        if (part_of_typed is None and the_plan.kind == "kerncijfer" and the_plan.metric in typed_wholes | {named_whole}
                and not the_plan.operation and asks_amount(intent.ask)):
            # a part of a figure no source splits up: the whole is not the answer, it is what we have
            the_plan = replace(the_plan, kind="abstain", reason="no_part")
        split = breakdown_missing(intent.text, a.catalogue.by_key.get(the_plan.metric),
                                  the_plan.kind != "text" or asks_amount(intent.ask)) \
            if the_plan.kind in {"kerncijfer", "places", "ranking", "text"} else None
        if split is not None:  # "hoeveel zijn er per nationaliteit?": no source splits the figure so
            the_plan = replace(the_plan, kind="abstain", reason=lexicon()["breakdowns"][split].get("reason", "no_breakdown"),
                               breakdown=split)
        if part_of_typed is not None and the_plan.metric == part_of_typed.metric.metric:
            whole = part_of_typed.metric.part_of
            the_plan = replace(the_plan, of_value=(whole, next(v for v in intent.typed
                                                              if whole in a.tools.metrics_with_value(v))))
        tested = the_plan.metric if the_plan.metric in dated else \
            self.previous.metric if self.previous is not None and self.previous.metric in dated else None
        if the_plan.kind == "text" and tested:
            # a date a source gave for this fact, put to the test: the fact answers, newest source first (the
            # fact of the previous answer, when "die" refers to it: "Klopt het dat die eerder tot 4 maart 2025 liep?")
            the_plan = replace(the_plan, kind="kerncijfer", metric=tested)
        if revised and the_plan.metric == revised[0] and the_plan.kind == "kerncijfer":
            the_plan = replace(the_plan, operation="growth", second_metric=None)
        given = self.earlier_operands(question, intent, mentions, the_plan)
        if given:  # "Wat is het verschil?" after two figures: those two, computed
            the_plan = replace(the_plan, kind="kerncijfer", operation=operation_of(intent), given=given)
        answer = Executor(a.tools, intent, the_plan, citations=list(self._citations)).run()
        main = next((f for f in answer.figures if f.value is not None and f.source != "compute"), None)
        if answer.answered and answer.kind in {"figure", "table"} and main is not None:
            self._answered = [*self._answered[-1:], main]
        if answer.kind == "text" and answer.answered:  # the figure a follow-up may still mean stays known
            self.previous = replace(self.previous, passage=question) if self.previous else Turn(None, [], [], passage=question)
        elif the_plan.metric or the_plan.places:
            periods = the_plan.periods_asked or [
                p for p in (period_of(f) for f in answer.figures[:1]) if p is not None
            ]
            regions = []
            if the_plan.metric in {"provincie", "veiligheidsregio"}:  # "In welke veiligheidsregio ligt Ede?"
                rows = [a.tools.gemeente(pl.name) for pl in the_plan.places if pl.kind == "gemeente"]
                regions = [Place(the_plan.metric, r[the_plan.metric]) for r in rows if r]
            # a figure answered is context too: "Tot welke leeftijd vangt Nidos amv op?" → "En wie huisvest hen daarna?"
            self.previous = Turn(the_plan.metric, the_plan.places, periods, regions,
                                 passage=question if answer.answered else "")
        return answer

    def earlier_operands(self, question: str, intent, mentions, the_plan) -> list[Figure]:
        """The two figures a bare comparison ("Wat is het verschil?", "Hoeveel procent meer is dat?") is about:
        the last two figure answers', when the question names no figure, place, period or number of its own."""
        operation = operation_of(intent)
        if operation not in {"difference", "growth", "share", "sum"} or the_plan.second_metric or the_plan.sides \
                or mentions or intent.periods or intent.typed or len(content_words(question)) > BARE_WORDS \
                or len(self._answered) < 2:
            return []
        first, second = self._answered
        alike = first.unit == second.unit and (first.metric, first.period, first.scope) != (second.metric, second.period, second.scope)
        if not alike:
            return []
        return [second, first] if operation == "share" else [first, second]  # the share: of the whole asked first

    def event_of(self, intent, asking: str) -> Event | None:
        """A period named by an event ("het halfjaar waarin de Spreidingswet in werking trad", in the `asking`
        sentence), if a date fact names the event."""
        clause = event_clause(asking)
        if clause is None:
            return None
        a = self.assistant
        side = side_of(a.catalogue, clause[1], use_dense=True)  # an event is a date fact: the best one named
        fact = next((m.metric.metric for m in side.matches if m.metric.unit == "datum" and not m.excluded
                     and m.metric.table == "kerncijfers" and m.score >= SIDE_THRESHOLD), None)
        days = sorted((f.citation.date, f.value_date) for f in a.tools.kerncijfers(fact) if f.value_date) if fact else []
        return Event(fact, days[-1][1], clause[0], clause[1]) if days else None

    def event_period(self, event: Event, matches) -> Period:
        """The half year or year of the event's day; "toen …": as long as the asked figure's own periods."""
        day, grain = event.day, event.grain
        if grain == "asked":  # a quota is per half year (its table, or its key figures' periods)
            top = matches[0].metric if matches else None
            periods = self.assistant.catalogue.periods.get(top.metric, []) if top else []
            halves = top is not None and (top.table == "taakstelling_gemeente" or any(
                period.endswith(("-I", "-II")) for period, _ in periods))
            grain = "half" if halves else "year"
        if grain == "half":
            return Period("half", f"{day[:4]}-{'I' if int(day[5:7]) <= 6 else 'II'}", text=event.words)
        return Period("year", day[:4], text=event.words)

    def narrowed(self, question: str, mentions: list[PlaceMention]) -> list[PlaceMention]:
        """After "Bergen kan meerdere plaatsen zijn", "ik bedoel die in Limburg" picks the Bergen in
        Limburg: a province or safety region named alone narrows the previous turn's gemeenten."""
        previous = [p for p in (self.previous.places if self.previous else []) if p.kind == "gemeente"]
        regions = [m for m in mentions
                   if len(m.candidates) == 1 and m.candidates[0].kind in {"provincie", "veiligheidsregio"}]
        if len(previous) < 2 or len(regions) != 1 or len(mentions) != 1 or not has_phrase(
                normal(question), lexicon()["narrowing"]):
            return mentions
        region = regions[0].candidates[0]
        inside = [p for p in previous if (self.assistant.tools.gemeente(p.name) or {}).get(region.kind) == region.name]
        if not inside or len(inside) == len(previous):
            return mentions
        return [replace(regions[0], candidates=inside)]


def parts_first(matches: list[MetricMatch], whole: str) -> list[MetricMatch]:
    """'En hoeveel daarvan voor amv?' after the total need: the amv need (part_of that total), not the
    amv places the COA has now, when both fit the words about as well."""
    part = next((m for m in matches[:4] if m.metric.part_of == whole and not m.excluded
                 and m.score >= matches[0].score - PERIOD_MARGIN), None)
    return matches if part is None else [part, *[m for m in matches if m is not part]]


def counts_unit(after: str, unit: str, same: dict[str, str]) -> bool:
    """Does a small number typed before `after` count this unit? "2 doorstroomlocaties" counts locaties, "2
    buurgemeentes" does not: a small number names a figure only with its unit, so many things are two.
    `same`: the catalogue's words that mean the same ("plekken" = "plaatsen")."""
    following = re.match(r"\s*([a-z]+)", after)
    if not following or not unit:
        return False
    word, head = following[1], fold(unit).split()[0]
    return word.endswith(head) or same.get(word, word) == same.get(head, head) or stem(word) == stem(head)


def longest_run(text: list[str], title: list[str]) -> tuple[int, int]:
    """Where in `text` the longest run of consecutive words of `title` starts, and its length."""
    best, at = 0, 0
    for i in range(len(text)):
        for j in range(len(title)):
            n = 0
            while i + n < len(text) and j + n < len(title) and text[i + n] == title[j + n]:
                n += 1
            if n > best:
                best, at = n, i
    return at, best


def asks_a_part(question: str, ask: str) -> bool:
    """"Of the places needed …, how many are …?", "Van alle plekken …, hoeveel …", "hoeveel daarvan …": the
    question names a whole to ask a part of it."""
    openings = [fold(text).strip() for text in (question, ask, question.rpartition(": ")[2])]
    return part_of_opening(ask) or has_phrase(ask, lexicon()["part_of"]) or any(
        opens.startswith(f"{c} ") for opens in openings for c in lexicon()["part_of_typed"])


def part_of_opening(ask: str) -> bool:
    """Does the asking sentence open with "hoeveel van de …" / "how many of the …"?"""
    return any(fold(ask).strip().startswith(f"{q} {c} ") for q in ("hoeveel", "how many", "how much")
               for c in lexicon()["part_of_typed"])


@lru_cache(maxsize=1)
def part_of_typed_cue() -> re.Pattern:
    """Ends a text that asks a part of the number typed next: "van de", "van de verwachte", "of the"."""
    cues = "|".join(re.escape(fold(c)) for c in lexicon()["part_of_typed"])
    return re.compile(rf"\b(?:{cues})\s+(?:[a-z]+\s+)?$")


def quoted_first(matches: list[MetricMatch], quoted: set[str]) -> list[MetricMatch]:
    """A question that quotes a figure's value ("the figure of about 92,000 in the GOO") names that
    figure, if its words match it at all: it is answered, whatever else scores higher."""
    named = [replace(m, score=max(m.score, ANSWER_THRESHOLD + QUOTED_MARGIN)) for m in matches
             if m.metric.metric in quoted and m.lexical >= QUOTED_LEXICAL and not m.excluded]
    if not named:
        return matches
    names = {n.metric.metric for n in named}
    return sorted(named, key=lambda m: -m.score) + [m for m in matches if m.metric.metric not in names]


@dataclass
class Side:
    """One side of a comparing question: what it names, when, and any number typed in it."""

    matches: list
    periods: list[Period]
    typed: list[float]
    now: bool = False  # "its current capacity": the newest figure, not the question's period


def side_of(catalogue: Catalogue, segment: str, use_dense: bool, subject: str = "") -> Side:
    """The second side of a joined comparison ("…, en hoeveel meer zijn er nodig per 1 januari 2025?"), if
    it names no figure of its own, is about the `subject` of the side before it (its words, not its periods)."""
    periods, rest = parse_periods(segment)
    typed = [m.value for m in numbers_in_text(rest) if m.kind == "number"]  # not the year of "2024-II"
    matches = catalogue.match(rest, use_dense=use_dense)
    if subject and words(rest) and (not matches or max(m.lexical for m in matches) < OWN_SUBJECT):  # ("2026": a moment)
        matches = catalogue.match(f"{rest} {parse_periods(subject)[1]}", use_dense=use_dense)
    return Side(matches, periods, typed, has_phrase(normal(rest), lexicon()["now"]))

def period_of(f: Figure) -> Period | None:
    """The period a shown figure holds for, so 'een jaar later' can shift it."""
    if f.value_date or not f.period:
        return None
    if len(f.period) == 10:
        return Period("date", f.period)
    if f.period.endswith("-I") or f.period.endswith("-II"):
        return Period("half", f.period)
    if f.period.isdigit():
        return Period("year", f.period)
    return None

def clean_question(text: str) -> str:
    """Drop control and format characters; keep letters of every script."""
    kept = "".join(
        c if unicodedata.category(c)[0] != "C" else " " for c in text.replace("\x00", " ")
    )
    return " ".join(kept.split())
