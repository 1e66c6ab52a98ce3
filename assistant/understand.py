"""Question → Intent: language, places, periods, operation, pinned source, and follow-up cues.

The metric itself is matched against the catalogue (catalogue.py); this module reads everything
else. Word lists live in lexicon.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from .places import PlaceMention
from .text import fold, words

MAX_QUESTION_CHARS = 2000
ARITHMETIC = ("difference", "growth", "sum", "share", "total", "product")


@lru_cache(maxsize=1)
def lexicon() -> dict:
    return yaml.safe_load((Path(__file__).parent / "lexicon.yaml").read_text(encoding="utf-8"))


def normal(text: str) -> str:
    """Folded text with punctuation as single spaces, padded so phrases match as whole words."""
    return " " + re.sub(r"[^a-z0-9]+", " ", fold(text)).strip() + " "


@lru_cache(maxsize=8192)  # the lexicon's phrases: folded once, not on every question
def padded(phrase: str) -> str:
    return f" {fold(phrase)} "


def has_phrase(text: str, phrases) -> bool:
    return any(padded(p) in text for p in phrases)


def asks_who(text: str) -> bool:
    """'Wie beslist …?', 'Who decides …?': the question opens with it ('refugees who have …' does not ask who)."""
    return any(text.startswith(padded(p)) for p in lexicon()["actor_cues"])


def asks_amount(text: str) -> bool:
    """'Hoeveel …?', 'het aantal …': an amount is asked, unless the question opens by asking for
    something else ('Welke instrumenten zet het kabinet in om het aantal plekken …?')."""
    lex = lexicon()
    if not has_phrase(text, lex["quantity_words"]):
        return False
    heads = [c for c in lex["text_cues"] if c not in lex["open_frames"]]
    return not any(text.startswith(padded(c)) for c in heads)


def wanted_units(text: str) -> set[str]:
    """The units an answer must have ("Hoeveel kost …": euro), from the lexicon; the asker's own span
    ("in zes maanden") is what to multiply by, not the answer's unit."""
    for _, _, phrase in typed_spans(text):
        text = text.replace(f" {phrase} ", " ")
    return {unit for unit, cues in lexicon()["units"].items() if has_phrase(text, cues)}


def unit_of_time_asked(text: str) -> str | None:
    """The unit of time a figure is asked per ("per dag", "each week", "per maand"): lexicon per_time and
    per_unit_asked."""
    units = {**lexicon()["per_time"], **lexicon()["per_unit_asked"]}
    return next((unit for unit, cues in units.items() if has_phrase(text, cues)), None)


def answer_type(question: str) -> str | None:
    """What kind of answer the asking sentence wants (lexicon answer_types): reason, condition,
    duration, date or actor; the first whose cue the question opens with or contains."""
    text = normal(question)
    return next((kind for kind, spec in lexicon()["answer_types"].items() if has_phrase(text, spec["cues"])), None)


DAY = re.compile(r"(?<!\d)\d{1,2}(?!\d)")  # a date written to the day ("4 maart 2025"), not "medio 2025" or "eind 2022"


NEAR_DAYS = 31  # a moment asked in words ("eind 2024", "begin 2025") is a figure's date this close to it


@dataclass(frozen=True)
class Period:
    kind: str  # date, half, year
    value: str  # 2025-01-01, 2024-II, 2025
    text: str = field(default="", compare=False)  # as the asker wrote it: "eind 2023"

    def matches(self, period: str) -> bool:
        """Does a stored period (ISO date, half year, year, span) fall within this asked-for period?"""
        if self.kind == "year":
            return period.startswith(self.value) or self.value in span_years(period)
        if self.kind == "half":
            return period == self.value
        return period == self.value

    def fits(self, period: str, quote: str) -> bool:
        """Softer: the period matches, spans the asked date, or the figure's sentence names its year (unless a
        day was asked: "op 1 juli 2025" is not the need on 1 januari 2025, whose sentence names 2025)."""
        day = self.kind == "date" and bool(DAY.search(self.text))
        if self.kind == "date" and not day and re.fullmatch(r"\d{4}-\d{2}-\d{2}", period or ""):
            # "eind 2024" is about 1 januari 2025; "eind 2025" is not: a figure of an earlier moment cannot say
            # it, whatever year its sentence names; a later one may, by naming it ("sinds eind 2022 … 6,2 miljoen")
            days = (date.fromisoformat(period) - date.fromisoformat(self.value)).days
            return self.matches(period) or abs(days) <= NEAR_DAYS or (days > 0 and str(self.year) in (quote or ""))
        # (nor is a figure of a half year, or a year asked, another year: "2024-I" is not "in 2023", whatever it
        # quotes; "tot begin 2025" may be the year before it, which the sentence says it runs to)
        own = bool(re.fullmatch(r"\d{4}-I{1,2}", period or "")) or (
            self.kind == "year" and bool(re.fullmatch(r"\d{4}", period or "")))
        return (self.matches(period) or self.value[:4] in span_years(period)
                or (self.kind != "half" and not day and not own and str(self.year) in (quote or "")))

    @property
    def year(self) -> int:
        return int(self.value[:4])

    def shifted(self, years: int) -> "Period":
        if not years:
            return self
        return Period(self.kind, f"{self.year + years}{self.value[4:]}")


def span_years(period: str) -> list[str]:
    """'2024-2025' → ['2024', '2025']; anything else → []."""
    m = re.fullmatch(r"(\d{4})-(\d{4})", period)
    return [str(y) for y in range(int(m[1]), int(m[2]) + 1)] if m else []


@dataclass(frozen=True)
class Pin:
    """A question that names its source: 'volgens de brief van april 2024'."""

    doc_type: str  # brief, nieuws, wet
    year: int | None = None
    month: int | None = None


@dataclass(frozen=True)
class Threshold:
    """A condition on a figure per gemeente: 'meer dan 100.000 inwoners' is ('>', 100000, 'inwoners')."""

    op: str  # >, >=, <, <=
    value: float
    word: str  # the word after the number, if any: what is counted ("inwoners")
    text: str  # as asked


def threshold_of(text: str) -> Threshold | None:
    """The condition a normalised question puts on a number ('meer dan 100 000 inwoners'), if any."""
    cues = sorted(((fold(c), op) for op, cs in lexicon()["thresholds"].items() for c in cs), key=lambda c: -len(c[0]))
    for cue, op in cues:
        m = re.search(rf" {re.escape(cue)} (\d{{1,3}}(?: \d{{3}})+|\d+) ?([a-z]*)", text)
        if m:
            return Threshold(op, float(m[1].replace(" ", "")), m[2], m.group(0).strip())
    return None


@dataclass
class Intent:
    question: str
    language: str
    text: str  # normalised question
    places: list[PlaceMention] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)
    top_n: int | None = None
    followup: bool = False
    part_of: bool = False  # "daarvan": about a part of the previous figure
    now: bool = False
    announced: bool = False  # "sinds wanneer weten we dat …": when our sources first state it
    span_unit: str | None = None  # "hoeveel maanden tussen X en Y": the unit of the time between two dates
    context_apart: bool = False  # the asking sentence asks about now: the context's periods and numbers do not pin it
    pin: Pin | None = None
    shift_years: int = 0
    shift_text: str = ""  # "een jaar later", as written
    asks_when: bool = False
    per: int = 100  # a share per hundred (%), or per thousand inhabitants
    manner: bool = False  # "hoe heet …", "how will …": a way or a name, which no figure alone answers
    asks_text: bool = False  # a definition, rule or "who/why/how" question: a passage answers it
    yes_no: bool = False  # opens with its verb ("Tellen de azc's mee …?"): a figure alone does not answer it
    article: str | None = None  # "artikel 29": the question names a law article
    unknown_places: list[str] = field(default_factory=list)  # 'Antwerpen': named like a place, unknown
    resembles: list[str] = field(default_factory=list)  # known places an unknown name is close to ('Eindhoven')
    typed: list[float] = field(default_factory=list)  # numbers the asker typed, not those of dates or periods
    segments: list[str] = field(default_factory=list)  # the sides of a comparing question
    threshold: Threshold | None = None  # "meer dan 100.000 inwoners": a condition on a figure per gemeente
    topic: str = ""  # the question without its periods, places and pinned source: what is asked about
    ask: str = ""  # the sentence that asks (normalised): "Wij zijn een gemeente in Zeeland. Moeten wij …?"
    context: str = ""  # the previous question, when a passage answered it (a follow-up may go on from it)


def detect_language(text: str) -> str:
    """English or Dutch, by the words only one of them has: the lexicon's, and each one's function words
    ("on", "its" / "het", "zijn"), so a short question of names and numbers is still read right."""
    words = normal(text).split()
    en_words, nl_words = language_words()
    en = sum(w in en_words for w in words)
    nl = sum(w in nl_words for w in words)
    return "en" if en > nl else "nl"


@lru_cache(maxsize=1)
def language_words() -> tuple[frozenset[str], frozenset[str]]:
    from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN_PLUS

    lex = lexicon()["language"]
    en, nl = set(STOPWORDS_EN_PLUS) | set(lex["en"]), set(STOPWORDS_DUTCH) | set(lex["nl"])
    return frozenset((en - nl) | set(lex["en"])), frozenset((nl - en) | set(lex["nl"]))


@lru_cache(maxsize=1)
def _light_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN_PLUS

    lex = lexicon()
    return frozenset(STOPWORDS_DUTCH) | frozenset(STOPWORDS_EN_PLUS) | {fold(w) for w in lex["question_words"]} \
        | {w for cue in lex["refer_back"] for w in fold(cue).split()}


@lru_cache(maxsize=1)
def frame_words() -> frozenset[str]:
    """The words that make a sentence a question ("hoeveel", "wanneer", "mag", "kan"), not what it is about."""
    lex = lexicon()
    return frozenset(fold(w) for w in lex["question_words"] + lex["yes_no_openers"] if " " not in w)


def asked_words(question: str) -> str:
    """What a question people ask is about: without the words that make it a question ("hoeveel", "mag"),
    which would otherwise match every question put the same way (knowledge.Asked)."""
    frame = frame_words()
    return " ".join(w for w in words(question) if w not in frame)


def content_words(text: str) -> list[str]:
    """The words of a text that say what it is about: "En wie betaalt die?" has one ("betaalt")."""
    return [w for w in re.findall(r"[a-z0-9]+", fold(text)) if w not in _light_words() and len(w) > 1]


MONTH_WORDS = "|".join(lexicon()["months"])
DATE_WORDS = re.compile(rf"\b(\d{{1,2}})(?:e|st|nd|rd|th)?\s+({MONTH_WORDS})\s+(\d{{4}})\b")
DATE_WORDS_EN = re.compile(rf"\b({MONTH_WORDS})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")
DATE_NUMERIC = re.compile(r"\b(\d{1,2})[-/](\d{1,2})[-/](\d{4})\b")
DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
HALF = re.compile(r"\b(\d{4})\s*[-–]?\s*(ii|i|h1|h2)\b|(?<![\d\w])(\d{4})-([12])(?![\d\w-])")  # 2024-II, 2024 h1, 2024-1
HALF_PAIR = re.compile(  # "van de eerste naar de tweede helft van 2024", "from the first to the second half of 2024"
    r"\b(eerste|first)\s+(?:helft\s+|half\s+)?(?:tot|naar|en|to|and|versus|vs)\s+(?:de\s+|het\s+|the\s+)?"
    r"(tweede|second)\s+(?:helft|half|halfjaar)\s+(?:van\s+|of\s+)?(\d{4})\b"
)
FIRST_HALF = ("eerste", "1e", "first", "1st")
_HALF_NAME = r"(eerste|tweede|1e|2e|first|second|1st|2nd)\s+(?:helft|halfjaar|kalenderhalfjaar|halfjr|half[- ]jaar|half[- ]year|half)"
HALF_WORDS = re.compile(rf"\b{_HALF_NAME}\s+(?:van\s+|of\s+)?(\d{{4}})\b")
YEAR_HALF = re.compile(rf"\b(\d{{4}})\s+(?:de\s+|het\s+|the\s+)?{_HALF_NAME}\b")  # "2024 tweede halfjaar"
HALF_BARE = re.compile(rf"\b{_HALF_NAME}\b")  # year from context
HALF_MONTHS = re.compile(  # "de eerste zes maanden van 2024", "the last six months of 2024"
    r"\b(eerste|first|laatste|last|tweede|second)\s+(?:zes|6|six)\s+(?:maanden|months)\s+(?:van\s+|of\s+)?(\d{4})\b")
HALF_RANGE = re.compile(  # "juli tot en met december 2025", "January to June 2025", "jan-jun 2025"
    r"\b(?:(januari|january|jan)|juli|july|jul)\s*(?:tot en met|t/m|tm|tot|to|through|until|till|-|–)\s*"
    r"(?:(?(1)(?:juni|june|jun)|(?:december|dec)))\s+(?:van\s+|of\s+)?(\d{4})\b")
YEAR_END = re.compile(r"\b(?:eind|einde|end of|end|ultimo)\s+(\d{4})\b")
YEAR_START = re.compile(r"\b(?:begin|start of|beginning of|early|per)\s+(\d{4})\b")
YEAR_MID = re.compile(r"\b(?:medio|midden|half|mid|mid-|halverwege)\s+(\d{4})\b")
YEAR = re.compile(r"\b(20\d\d|19\d\d)\b")
# "de 10 grootste gemeenten", "top 5"; not "die twee gemeenten", which names places the question gave
TOP_N = re.compile(r"\b(?:top|eerste|first|grootste|hoogste|laagste|kleinste|largest|highest|lowest|smallest)[ -](\d{1,3})\b|(?<!die )(?<!deze )(?<!these )(?<!those )\b(\d{1,3})\s+(?:\w+\s+)?(?:grootste|hoogste|laagste|kleinste|meeste|minste|largest|highest|lowest|smallest|biggest|gemeenten|municipalities|provincies|provinces|veiligheidsregio|veiligheidsregios|safety)\b")
PIN = re.compile(
    r"\b(?:volgens|in|uit|according to|in|from|of)\s+(?:de|het|the)\s+(brief|letter|nieuwsbericht|nieuws|news item|news|bericht|huisvestingswet|housing act|wet|law)\b(?:\s+2014)?"
    rf"(?:\s+(?:van|of|from))?(?:\s+(\d{{1,2}}))?(?:\s+({MONTH_WORDS})\b)?(?:\s+(\d{{4}})\b)?"
)
# "the April 2024 letter", "de april 2024 brief": the month and year before the kind of document (PIN: after it)
PIN_BEFORE = re.compile(
    rf"\b(?:de|het|the)\s+(?:(\d{{1,2}})\s+)?({MONTH_WORDS})\s+(\d{{4}})\s+(brief|letter|nieuwsbericht|news item|bericht)\b"
)
PIN_TYPES = {"brief": "brief", "letter": "brief", "nieuwsbericht": "nieuws", "nieuws": "nieuws",
             "news item": "nieuws", "news": "nieuws", "bericht": "nieuws", "wet": "wet", "law": "wet",
             "huisvestingswet": "wet", "housing act": "wet"}
ARTICLE = re.compile(r"\b(?:artikel|article|art\.?)\s+(\d+[a-z]?)\b")
# "een jaar later", "twee jaar eerder", and tersely "en jaar later": the conversation's period moved
# ("hoeveel jaar later" asks a span)
SHIFT = re.compile(r"\b(?<!hoeveel )(?<!many )(?:(een|a|one|\d+|" + "|".join(lexicon()["number_words"]) + r")\s+)?(?:jaar|years?)\s+"
                   r"(later|eerder|daarna|ervoor|earlier|after|before)\b")
# "per 1.000 inwoners": a figure relative to the population, per thousand (a share, scaled)
PER_THOUSAND = re.compile(r"\bper\s+(?:1[.,]?000|duizend|thousand|a thousand)\s+(?:inwoners|inhabitants|residents|mensen|people)\b")
# "hoe" or "how" with a verb, not with a measure ("hoeveel", "hoe lang", "how many", "how long")
MANNER = re.compile(r"(hoe|how) (?!veel|groot|grote|hoog|hoge|lang|laat|vaak|snel|oud|duur|ver|many|much|long|big|"
                    r"large|high|old|often|far|soon|late|expensive)\w+")
WHEN = re.compile(r"\b(wanneer|tot wanneer|vanaf wanneer|per wanneer|op welke datum|op welke data|welke datum|datum|op welk moment|welk moment|at what point|what moment|when|until when|what dates?|which dates?|latest date|date by which|deadline|sinds wanneer|since when)\b")


def parse_periods(text: str) -> tuple[list[Period], str]:
    """Periods in the (folded) text, and the text with them removed so years are not read twice."""
    months = lexicon()["months"]
    found: list[tuple[int, Period]] = []

    def take(pattern, make):
        nonlocal text
        for m in pattern.finditer(text):
            period = make(m)
            if period:
                found.append((m.start(), replace(period, text=m.group(0).strip())))
        text = pattern.sub(" ", text)

    def iso(y, mth, d):
        try:
            y, mth, d = int(y), int(mth), int(d)
        except ValueError:
            return None
        if not (1 <= mth <= 12 and 1 <= d <= 31):
            return None
        return Period("date", f"{y:04d}-{mth:02d}-{d:02d}")

    take(DATE_WORDS, lambda m: iso(m[3], months[m[2]], m[1]))
    take(DATE_WORDS_EN, lambda m: iso(m[3], months[m[1]], m[2]))
    take(DATE_ISO, lambda m: iso(m[1], m[2], m[3]))
    take(DATE_NUMERIC, lambda m: iso(m[3], m[2], m[1]))
    for m in HALF_PAIR.finditer(text):  # two halves named at once
        found += [(m.start(), Period("half", f"{m[3]}-I", m.group(0))), (m.start() + 1, Period("half", f"{m[3]}-II", m.group(0)))]
    text = HALF_PAIR.sub(" ", text)
    take(HALF_MONTHS, lambda m: Period("half", f"{m[2]}-{'I' if m[1] in FIRST_HALF else 'II'}"))
    take(HALF_RANGE, lambda m: Period("half", f"{m[2]}-{'I' if m[1] else 'II'}"))
    take(HALF_WORDS, lambda m: Period("half", f"{m[2]}-{'I' if m[1] in FIRST_HALF else 'II'}"))
    take(YEAR_HALF, lambda m: Period("half", f"{m[1]}-{'I' if m[2] in FIRST_HALF else 'II'}"))
    take(HALF, lambda m: Period("half", f"{m[1]}-{'I' if m[2] in ('i', 'h1') else 'II'}" if m[1]
                                else f"{m[3]}-{'I' * int(m[4])}"))
    take(HALF_BARE, lambda m: Period("half", f"????-{'I' if m[1] in FIRST_HALF else 'II'}"))
    take(YEAR_END, lambda m: Period("date", f"{m[1]}-12-31"))
    take(YEAR_START, lambda m: Period("date", f"{m[1]}-01-01"))
    take(YEAR_MID, lambda m: Period("date", f"{m[1]}-07-01"))
    take(YEAR, lambda m: Period("year", m[1]))
    found.sort(key=lambda f: f[0])
    periods: list[Period] = []
    for _, p in found:
        if p not in periods:
            periods.append(p)
    return periods, text


def half_years(text: str) -> set[str]:
    """The half years a text names in any spelling ("tweede helft van 2024", "2024-II", "2024-2")."""
    return {p.value for p in parse_periods(fold(text))[0] if p.kind == "half" and not p.value.startswith("?")}


def typed_spans(text: str) -> list[tuple[float, str, str]]:
    """Spans the asker types: 'in zes maanden' → (6, 'maanden', 'zes maanden'); 'over 26 weeks' → (26, 'weken', …)."""
    lex = lexicon()
    numbers = lex["number_words"]
    found = []
    for m in re.finditer(r"\b(\d{1,3}|[a-z]+)\s+(?=([a-z]+)\b)", text):  # overlapping: "in eight weeks"
        value = int(m[1]) if m[1].isdigit() else numbers.get(m[1])
        unit = lex["span_words"].get(m[2])
        if value and unit:
            found.append((float(value), unit, f"{m[1]} {m[2]}"))
    return found


def event_clause(text: str) -> tuple[str, str] | None:
    """("half", "de spreidingswet in werking trad") for "… in het halfjaar waarin de Spreidingswet in werking
    trad?": the period a question names by an event, and the words naming the event (to its comma or end)."""
    folded = fold(text)
    for grain, cues in lexicon()["event_period"].items():
        for cue in cues:
            m = re.search(rf"\b{re.escape(fold(cue))}\s+([^,;?!.]+)", folded)
            if m and len(m[1].split()) >= 2:
                return grain, m[1].strip()
    return None


def with_years(periods: list[Period], context: list[Period]) -> list[Period]:
    """'En in het eerste halfjaar?' names a half without its year: take the year the question or the
    previous turn names; without one the half cannot be placed and is dropped."""
    years = [pr.value[:4] for pr in [*periods, *context] if not pr.value.startswith("????")]
    return [replace(pr, value=years[0] + pr.value[4:]) if pr.value.startswith("????") else pr
            for pr in periods if years or not pr.value.startswith("????")]


def asked_sentence(question: str) -> str:
    """Of several sentences, the one that asks (the last with a question mark, else the last): what
    comes before it is context ("Wij zijn een kleine gemeente en …"), not the shape of the question. A
    last sentence that opens with a question word asks, question mark or not ("… 4 maart 2025? tot
    wanneer geldt het nu")."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", question.strip()) if s.strip()]
    asking = [s for s in sentences if "?" in s]
    opener = fold(sentences[-1]).split()[:1] if sentences else []
    if asking and sentences[-1] not in asking and opener and opener[0] in lexicon()["question_words"]:
        return sentences[-1]
    asked = (asking or sentences or [question])[-1]
    # "Bij ons is discussie: wie bepaalt …?": after a colon, a question word opens what is asked
    lead, colon, rest = asked.rpartition(": ")
    opens = fold(rest).split()[:1]
    if colon and lead.strip() and opens and opens[0] in {*lexicon()["question_words"], *lexicon()["yes_no_openers"]}:
        return rest
    return asked


def understand(question: str, places: list[PlaceMention]) -> Intent:
    lex = lexicon()
    folded = fold(question)[:MAX_QUESTION_CHARS]
    intent = Intent(question=question, language=detect_language(question), text=normal(question),
                    ask=normal(asked_sentence(question)))
    pin, before = PIN.search(folded), PIN_BEFORE.search(folded)
    pinned_text = (pin or before)[0] if (pin or before) else ""
    if pin:
        months = lex["months"]
        intent.pin = Pin(PIN_TYPES[pin[1]], int(pin[4]) if pin[4] else None,
                         months.get(pin[3]) if pin[3] else None)
        folded = folded[: pin.start()] + " " + folded[pin.end():]
    elif before:
        intent.pin = Pin(PIN_TYPES[before[4]], int(before[3]), lex["months"].get(before[2]))
        folded = folded[: before.start()] + " " + folded[before.end():]
    if PER_THOUSAND.search(folded):  # the figure relative to the inhabitants: not a figure of its own, nor a year
        intent.per = 1000
        folded = PER_THOUSAND.sub(" ", folded)
    if intent.pin is not None and has_phrase(intent.ask, lex["still_cues"]):
        intent.pin = None  # "De brief van april 2024 gaf een einddatum; klopt die nog?": the newest answers, the letter's named
    article = ARTICLE.search(folded)
    if article:
        intent.article = article[1]
        intent.pin = intent.pin or Pin("wet")
        folded = folded[: article.start()] + " " + folded[article.end():]
    shift = SHIFT.search(folded)
    if shift:
        count = shift[1] or "een"
        years = int(count) if count.isdigit() else lex["number_words"].get(count, 1)
        intent.shift_years = years if shift[2] in ("later", "daarna", "after") else -years
        intent.shift_text = shift.group(0)
        folded = folded[: shift.start()] + " " + folded[shift.end():]  # "jaar" is no topic here
    for phrase in lex["same_year"]:  # "van dat jaar": the conversation's year, taken from the previous turn
        folded = re.sub(rf"\b{re.escape(fold(phrase))}\b", " ", folded)
    for mention in places:  # "Bergen op Zoom" must not be read as a period or number
        folded = re.sub(rf"(?<!\w){re.escape(fold(mention.text))}(?!\w)", " ", folded)  # "Ede", not in "tweede"
    intent.periods, rest = parse_periods(folded)
    kind_words = set(lex["place_kind_words"])
    rest = re.sub(r"(?<=\w)['’]s\b", "s", rest)  # veiligheidsregio's → veiligheidsregios, not "… s"
    # "de provincies Groningen en Drenthe": a plural of the kind of place named names those places
    named_kinds = {c.kind for m in places for c in m.candidates}
    kind_words |= {w for kind, plurals in lex["kind_plurals"].items() if kind in named_kinds for w in plurals}
    intent.topic = " ".join(w for w in normal(rest).split() if w not in kind_words)
    # "procentuele groei", "hoeveel meer", "in totaal" say what to compute, not which figure; nor
    # does a span the asker types ("in zes maanden")
    arithmetic = sorted((fold(w) for op in ARITHMETIC for w in lex["operations"][op]), key=len, reverse=True)
    bare = f" {intent.topic} "
    for _, _, phrase in typed_spans(intent.topic):
        bare = bare.replace(f" {phrase} ", " ")
    per_time = [fold(w) for cues in lex["per_time"].values() for w in cues]  # "per maand" divides a change
    for phrase in arithmetic + sorted(per_time, key=len, reverse=True):
        bare = bare.replace(f" {phrase} ", " ")
    if bare.strip():
        intent.topic = " ".join(bare.split())
    for word, n in lex["number_words"].items():
        rest = re.sub(rf"\b{word}\b", str(n), rest)
    top = TOP_N.search(rest)
    if top:
        intent.top_n = int(top[1] or top[2])
    intent.threshold = threshold_of(intent.text)
    text = intent.text
    # "most recent" / "meest recente" asks for the newest statement, not the highest value
    ops_text = text
    # ("alle gemeenten samen" is the national figure; "Amsterdam en Zaanstad …, die twee gemeenten samen" a sum)
    for phrase in [*lex["now"], *(lex["collective"] if len(places) < 2 else [])]:
        ops_text = ops_text.replace(padded(phrase), " ")
    intent.operations = {op for op, words in lex["operations"].items() if has_phrase(ops_text, words)}
    if intent.top_n:
        intent.operations.add("lowest" if has_phrase(text, lex["operations"]["lowest"]) else "highest")
    if sum(p.kind == "date" for p in intent.periods) >= 2 and any(has_phrase(text, c) for c in lex["per_time"].values()):
        intent.operations.add("growth")  # "per maand, tussen 1 januari 2025 en 1 januari 2026": a change per month
    if intent.per != 100:
        intent.operations.add("share")
    intent.now = has_phrase(text, lex["now"])
    intent.announced = has_phrase(intent.ask, lex["announced_cues"])
    if intent.ask != intent.text and has_phrase(intent.ask, lex["now"]):
        # "In 2022 werd gezegd dat het er 50.000 waren. Hoeveel zijn het er nu?": the context says what was,
        # its year and numbers do not pin what is asked about now
        intent.periods = [p for p in intent.periods if p.text and p.text in intent.ask]
        intent.context_apart = True
        if intent.pin is not None and fold(pinned_text) not in fold(intent.ask):
            intent.pin = None  # "… las in de brief van april 2024 dat … Tot wanneer loopt het nu?": the newest answers
    words = text.split()
    intent.followup = bool(words) and (words[0] in lex["followup"]["starts"] or has_phrase(text, lex["followup"]["phrases"]))
    intent.part_of = has_phrase(text, lex["part_of"])
    intent.places = places
    referring = folded  # "op die datum" refers to the previous turn's date; it does not ask one
    for phrase in lex["date_references"]:
        referring = referring.replace(phrase, " ")
    intent.asks_when = bool(WHEN.search(referring))
    # a question that opens with its verb asks yes or no ("Tellen de azc's mee …?"): a passage answers
    asks = intent.ask.split()
    intent.yes_no = bool(asks) and (asks[0] in lex["yes_no_openers"]
                                    or any(" ".join(asks).startswith(f"{p} ") for p in lex["yes_no_phrases"]))
    # "Hoe heet …?", "Hoe probeert …?", "How will …?": a manner or a name is asked, not an amount
    intent.manner = bool(MANNER.match(intent.ask.strip()))
    intent.asks_text = (has_phrase(intent.ask, lex["text_cues"]) or intent.yes_no or intent.manner) and not intent.asks_when
    splitters = sorted(lex["splitters"] + lex["joined_comparisons"], key=len, reverse=True)
    pattern = r"\b(?:" + "|".join(re.escape(w) for w in splitters) + r")\b"
    parts = [p.strip(" ,.?") for p in re.split(pattern, fold(question)) if p.strip(" ,.?")]
    intent.segments = parts if len(parts) >= 2 else []
    span = time_between(intent.ask, fold(question))
    if span:  # "Hoeveel maanden zitten er tussen X en Y?": the time between two dates, each side one date
        intent.span_unit, intent.segments = span[0], list(span[1:])
        intent.operations.add("span")
    return intent


def time_between(ask: str, folded: str) -> tuple[str, str, str] | None:
    """"Hoeveel dagen zitten er tussen X en Y?", "how many years between X and Y": the unit of time asked
    (lexicon span_words) and the two sides (lexicon between), or None."""
    lex = lexicon()
    asked = re.search(r"\b(?:hoeveel|how many)\s+(\w+)", ask)
    unit = lex["span_words"].get(asked[1]) if asked else None
    if unit is None:
        return None
    for opener, joiner in lex["between"]:
        found = re.search(rf"\b{opener}\b(.+?)\b{joiner}\b(.+)", folded)
        if found and found[1].strip(" ,.?") and found[2].strip(" ,.?"):
            return unit, found[1].strip(" ,.?"), found[2].strip(" ,.?")
    return None
