"""Find the numbers written in an answer and check that each one is backed by a value the answer carries.

A number in the prose is *grounded* when it equals, to the precision displayed, one of:
a figure value, a figure's value_date or period (or the year of one), a computation input, result or
formula term, a number in a quote, citation section, title, date or note, or a number the asker typed.
A date must match a known date (a date written without a year: its day and month); a half year such
as "2025-I" must be a known period or be written out in a question or quote ("first half of 2025").

This module is used twice: by the evaluation (grounded-number rate) and by the engine's guard on LLM
prose. So it is pure (no I/O, no engine imports), regex-only and cheap enough to run on every answer.

Formats read: Dutch and English digit groups (97.500, 97,500, 17 590 672 with a no-break space),
decimals (6,2 / 2.4), scale words (6,2 miljoen, 2.4 million), percentages (51,3%, 8,5 procent),
dates (1 januari 2025, 4 March 2026, March 4, 2026, 2024-06-25, 25-04-2024, 1 februari without a year)
and half years (2024-II). Citation markers ([1], [^2]), ordered-list markers ("1. " at a line start),
URLs, identifiers glued to letters (GM0599, VR09, COVID-19) and reference numbers after words such as
"artikel", "lid", "bijlage" are not quantities and are skipped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Literal

from .models import Answer
from .understand import half_years

MentionKind = Literal["number", "percent", "date", "period"]


@dataclass(frozen=True)
class NumberMention:
    """One number as written in a text, with the value it stands for."""

    text: str  # as written: "97.500", "6,2 miljoen", "1 januari 2025", "2024-II"
    start: int
    end: int
    kind: MentionKind
    value: float  # 97500, 6_200_000, 51.3; for a date its year (its day when no year); for a period its year
    decimals: int = 0  # digits shown after the decimal mark: the precision to compare at
    scale: float = 1.0  # 1e6 for "miljoen"/"million"; value already includes it
    date: str | None = None  # ISO "2025-01-01", or "--MM-DD" when the year is not written
    period: str | None = None  # "2024-II"

    @property
    def mantissa(self) -> float:
        """The number as shown before its scale word: 6.2 for "6,2 miljoen"."""
        return self.value / self.scale


# --- patterns -------------------------------------------------------------------------------------

_MONTHS = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "february": 2, "feb": 2,
    "maart": 3, "march": 3, "mrt": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "augustus": 8, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
# English month-first dates ("March 4, 2026") only with a capitalised full name: "may 5" is too common.
_EN_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"

_SCALES = {
    "duizend": 1e3, "thousand": 1e3,
    "miljoen": 1e6, "million": 1e6, "mln": 1e6, "mio": 1e6,
    "miljard": 1e9, "billion": 1e9, "mld": 1e9, "mrd": 1e9,
}

# Spans that are not quantities: blanked out (offsets kept) before any number is read.
_SKIP = re.compile(
    r"https?://\S+|www\.\S+|\S+@\S+\.\w+"  # URLs and e-mail addresses
    r"|\[\^?\d+(?:\s*[,;–-]\s*\^?\d+)*\]"  # citation markers [1], [1, 2], [^3]
    r"|<sup>[^<]*</sup>"  # footnote markers
    r"|^[ \t]*(?:[-*+][ \t]+)?\d{1,3}[.)](?=[ \t])",  # ordered-list markers at a line start
    re.MULTILINE,
)
# Reference numbers: "artikel 29", "art. 29", "lid 2", "Bijlage 2", "§ 1", "Hoofdstuk 5", "voetnoot 7".
_REFERENCE = re.compile(
    r"(?:\b(?:artikel(?:en)?|art\.|article|lid|leden|bijlage|bijlagen|annex|appendix|hoofdstuk|chapter"
    r"|paragraaf|section|onderdeel|voetnoot|footnote|nr\.|no\.)|§)\s*$",
    re.IGNORECASE,
)

_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_NUM_DATE = re.compile(r"(?<![\d\w])(\d{1,2})[-/](\d{1,2})[-/](\d{4})(?!\d)")
_DAY_MONTH = re.compile(
    rf"(?<![\d\w])(\d{{1,2}})(?:st|nd|rd|th|e|ste|de)?\s+(?:of\s+)?({_MONTH_ALT})\b\.?(?:,?\s+(\d{{4}})(?!\d))?",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(rf"\b({_EN_MONTHS})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})(?!\d))?")
_PERIOD = re.compile(r"(?<![\d\w])(\d{4})\s?-\s?(II|I)(?![A-Za-z])")
_NUMBER = re.compile(
    r"(?<![\w.,])(?<![A-Za-z]-)"  # not inside a word or identifier such as GM0599 or COVID-19
    r"(\d{1,3}(?:([.,\u00a0\u202f\u2009])\d{3})(?:\2\d{3})*(?:[.,]\d+)?(?![\d])"  # grouped: 97.500, 17.590.672
    r"|\d+(?:[.,]\d+)?)"  # plain: 2024, 6,2, 2.4
    r"(?:\s*(%|procentpunt|procent|percent|pct\.?)"
    rf"|\s+({'|'.join(_SCALES)})\b\.?)?",
    re.IGNORECASE,
)


def _parse_number(raw: str) -> tuple[float, int]:
    """Read Dutch or English digits; return (value, decimals shown).

    One separator followed by exactly three digits is a thousands group in both languages
    (97.500 and 97,500 are both 97500); any other single separator is the decimal mark
    (6,2 and 2.4). With both present, the last one is the decimal mark (1.234,5 / 1,234.5).
    """
    s = raw.replace("\u00a0", "").replace("\u202f", "").replace("\u2009", "")
    seps = [c for c in s if c in ".,"]
    if not seps:
        return float(s), 0
    last = s.rfind(seps[-1])
    if len(set(seps)) == 2:
        int_part, frac = s[:last], s[last + 1 :]
    elif len(seps) > 1:  # 17.590.672
        int_part, frac = s, ""
    else:
        head, tail = s[:last], s[last + 1 :]
        if len(tail) == 3 and head not in ("0", ""):
            int_part, frac = s, ""
        else:
            int_part, frac = head, tail
    int_digits = re.sub(r"[.,]", "", int_part)
    value = float(f"{int_digits}.{frac}" if frac else int_digits)
    return value, len(frac)


def numbers_in_text(text: str) -> list[NumberMention]:
    """All numbers in `text`, in order, each read once (a date's digits are not also read as numbers)."""
    return _scan(text, prose=True)


def _scan(text: str, prose: bool) -> list[NumberMention]:
    """`prose`: skip list markers and reference numbers (they are not claims). Evidence texts
    (quotes, section paths such as "Artikel 29") are read without those skips."""
    if not text:
        return []
    clean = _SKIP.sub(lambda m: " " * len(m.group(0)), text) if prose else text
    taken: list[tuple[int, int]] = []
    found: list[NumberMention] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    def add(m: re.Match, mention: NumberMention) -> None:
        taken.append((m.start(), m.end()))
        found.append(mention)

    for m in _ISO_DATE.finditer(clean):
        y, mo, d = (int(g) for g in m.groups())
        if 1 <= mo <= 12 and 1 <= d <= 31:
            add(m, NumberMention(m.group(0), m.start(), m.end(), "date", float(y), date=f"{y:04d}-{mo:02d}-{d:02d}"))
    for m in _NUM_DATE.finditer(clean):
        d, mo, y = (int(g) for g in m.groups())
        if free(m.start(), m.end()) and 1 <= mo <= 12 and 1 <= d <= 31:
            add(m, NumberMention(m.group(0), m.start(), m.end(), "date", float(y), date=f"{y:04d}-{mo:02d}-{d:02d}"))
    for m in _DAY_MONTH.finditer(clean):
        d, mo, y = int(m.group(1)), _MONTHS[m.group(2).lower()], m.group(3)
        if m.group(2).lower() == "may" and not y:
            continue  # "the 5 may vary": English "may" is a date only with a year
        if free(m.start(), m.end()) and 1 <= d <= 31:
            iso = f"{int(y):04d}-{mo:02d}-{d:02d}" if y else f"--{mo:02d}-{d:02d}"
            add(m, NumberMention(m.group(0), m.start(), m.end(), "date", float(y or d), date=iso))
    for m in _MONTH_DAY.finditer(clean):
        mo, d, y = _MONTHS[m.group(1).lower()], int(m.group(2)), m.group(3)
        if free(m.start(), m.end()) and 1 <= d <= 31:
            iso = f"{int(y):04d}-{mo:02d}-{d:02d}" if y else f"--{mo:02d}-{d:02d}"
            add(m, NumberMention(m.group(0), m.start(), m.end(), "date", float(y or d), date=iso))
    for m in _PERIOD.finditer(clean):
        if free(m.start(), m.end()):
            period = f"{m.group(1)}-{m.group(2)}"
            add(m, NumberMention(m.group(0), m.start(), m.end(), "period", float(m.group(1)), period=period))
    for m in _NUMBER.finditer(clean):
        if not free(m.start(), m.end()):
            continue
        if prose and _REFERENCE.search(clean[max(0, m.start() - 12) : m.start()]):
            continue
        value, decimals = _parse_number(m.group(1))
        pct, scale_word = m.group(3), m.group(4)
        scale = _SCALES[scale_word.lower()] if scale_word else 1.0
        kind: MentionKind = "percent" if pct else "number"
        add(m, NumberMention(m.group(0).rstrip(), m.start(), m.start() + len(m.group(0).rstrip()),
                             kind, value * scale, decimals=decimals, scale=scale))
    found.sort(key=lambda x: x.start)
    return found


# --- grounding ------------------------------------------------------------------------------------


@dataclass
class _Evidence:
    """Everything an answer may legitimately show, in comparable form."""

    numbers: set[float]
    dates: set[str]  # ISO dates
    periods: set[str]  # upper-cased period labels, e.g. "2024-II"
    month_days: set[str]  # "-MM-DD" of every date, and of dates written without a year ("1 februari jl.")

    def add_date(self, iso: str) -> None:
        if not iso.startswith("--"):
            self.dates.add(iso)
        self.month_days.add(iso[-6:])


def _unit_scale(unit: str | None) -> float:
    u = (unit or "").lower()
    for word, scale in _SCALES.items():
        if re.search(rf"\b{word}\b", u):
            return scale
    return 1.0


def _years_of(label: str) -> list[float]:
    return [float(y) for y in re.findall(r"(?<!\d)(\d{4})(?!\d)", label or "")]


def _evidence(answer: Answer, question_texts: Iterable[str]) -> _Evidence:
    ev = _Evidence(set(), set(), set(), set())
    texts: list[str] = [answer.question, *question_texts]

    def add_value(v: float | None, unit: str | None = None) -> None:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return
        ev.numbers.add(float(v))
        scale = _unit_scale(unit)
        if scale != 1.0:
            ev.numbers.add(float(v) * scale)

    def add_period(p: str | None) -> None:
        if not p:
            return
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", p):
            ev.add_date(p)
        ev.periods.add(p.upper())
        ev.numbers.update(_years_of(p))

    def add_citation(c) -> None:
        if c is None:
            return
        texts.extend([c.quote, c.context or "", c.section, c.title, c.date, c.note or ""])
        add_period(c.date)

    figures = list(answer.figures)
    for comp in answer.computations:
        figures.extend(comp.inputs)
        add_value(comp.result, comp.unit)
        add_period(comp.period)
        texts.append(comp.formula)
    for f in figures:
        add_value(f.value, f.unit)
        add_period(f.value_date)
        add_period(f.period)
        texts.extend([f.quote or "", f.formula or ""])
        add_citation(f.citation)
    for c in answer.citations:
        add_citation(c)

    for t in texts:
        ev.periods.update(half_years(t or ""))  # in words or as "2024-1" (typed by askers, common in quotes)
        for m in _scan(t or "", prose=False):
            if m.kind == "date":
                if m.date:
                    ev.add_date(m.date)
                if m.date and not m.date.startswith("--"):
                    ev.numbers.add(m.value)
            elif m.kind == "period":
                ev.periods.add((m.period or "").upper())
                ev.numbers.add(m.value)
            else:
                ev.numbers.add(m.value)
                if m.scale != 1.0:
                    ev.numbers.add(m.mantissa)
    return ev


def _shown_equal(shown: float, decimals: int, candidate: float) -> bool:
    """True when `candidate`, rounded as the text rounds, is what the text shows (sign ignored:
    a difference may be written as "1.750 minder" while the computation holds -1750)."""
    c = abs(candidate)
    return math.isclose(round(c, decimals), abs(shown), rel_tol=1e-9, abs_tol=10 ** -(decimals + 6))


def _is_grounded(m: NumberMention, ev: _Evidence) -> bool:
    if m.kind == "date":
        if m.date and m.date.startswith("--"):
            return m.date[-6:] in ev.month_days
        return m.date in ev.dates
    if m.kind == "period":
        return (m.period or "").upper() in ev.periods
    shown = [(m.value, m.decimals)]
    if m.scale != 1.0:
        shown.append((m.mantissa, m.decimals))
    for value, decimals in shown:
        for c in ev.numbers:
            if _shown_equal(value, decimals, c):
                return True
            if m.kind == "percent" and abs(c) <= 1.0 and _shown_equal(value, decimals, c * 100):
                return True  # a share stored as a fraction, shown as a percentage
    return False


def ground(answer: Answer, question_texts: Iterable[str] = ()) -> list[tuple[NumberMention, bool]]:
    """Every number in the answer text with whether it is grounded."""
    mentions = numbers_in_text(answer.answer)
    if not mentions:
        return []
    ev = _evidence(answer, question_texts)
    return [(m, _is_grounded(m, ev)) for m in mentions]


def ungrounded_numbers(answer: Answer, question_texts: Iterable[str] = ()) -> list[str]:
    """The numbers (as written) in the answer text that nothing in the answer or the question backs."""
    return [m.text for m, ok in ground(answer, question_texts) if not ok]
