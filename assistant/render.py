"""Grounded values → text in the asker's language. Numbers are formatted here and nowhere else."""

from __future__ import annotations

import re

from .models import Citation, Figure

MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"],
}
UNITS_EN = {
    "plaatsen": "places", "personen": "people", "asielaanvragen": "asylum applications",
    "vergunninghouders": "status holders", "euro": "euro", "euro per maand": "euro per month",
    "dagen": "days", "maanden": "months", "jaar": "years", "jaar oud": "years old", "weken": "weeks",
    "personen per week": "people per week", "gemeenten": "municipalities", "locaties": "locations",
    "jongeren": "young people", "procent": "%", "inwoners": "inhabitants", "provincies": "provinces",
    "veiligheidsregio's": "safety regions", "woongroepen": "group homes", "woonhuizen": "houses",
    "per 1000 inwoners": "per 1,000 inhabitants",
}
QUALIFIERS_EN = {
    "ca.": "approx.", "circa": "approx.", "ruim": "over", "elk": "each", "medio scenario": "medium scenario",
    "bij ongewijzigd beleid": "if policy is unchanged", "naar verwachting": "expected",
    "maximaal": "at most", "gemiddeld": "on average", "vóór": "before", "voor": "before",
    "uiterlijk": "at the latest", "incidenteel in totaal": "one-off, in total", "eenmalig": "one-off",
    "gepubliceerd": "published", "volgens de prognose": "forecast", "geschat": "estimated", "binnen": "within",
    "gedurende": "for", "in ieder geval tot": "at least until", "indicatief": "indicative",
    "langer dan": "longer than", "meer dan": "more than", "minimaal": "at least", "na": "after", "tot": "until",
    "tot en met": "up to and including", "vanaf": "from", "per": "as of", "ten minste": "at least",
}
NOTES_EN = {"tekst onvolledig": "incomplete text"}
WORDS = {
    "nl": {"computed": "berekend", "per": "per", "period": "periode", "sources": "Bronnen",
           "how": "Hoe berekend?", "not_official": "niet officieel", "earlier": "eerder",
           "in": "in", "of": "van"},
    "en": {"computed": "computed", "per": "as of", "period": "period", "sources": "Sources",
           "how": "How was this computed?", "not_official": "not official", "earlier": "earlier",
           "in": "in", "of": "of"},
}


def number(value: float | int | None, language: str = "nl") -> str:
    """97.500 in Dutch, 97,500 in English; one decimal where the value has one."""
    if value is None:
        return "?"
    if value < 0:
        return "−" + number(-value, language)  # the minus sign, as in the formulas
    if float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,.1f}" if abs(value) < 1000 or not float(value * 10).is_integer() else f"{value:,.1f}"
    if language == "nl":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text


def money(value: float, language: str) -> str:
    if value >= 1_000_000 and value % 100_000 == 0:
        millions = number(value / 1_000_000, language)
        return f"{millions} miljoen euro" if language == "nl" else f"{millions} million euro"
    return f"{number(value, language)} euro"


def date(iso: str, language: str = "nl") -> str:
    """'2025-01-01' → '1 januari 2025' / '1 January 2025'; other period strings pass through."""
    parts = iso.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        y, m, d = (int(p) for p in parts)
        return f"{d} {MONTHS[language][m - 1]} {y}"
    return iso


def period(text: str, language: str = "nl") -> str:
    if text.endswith("-II") or text.endswith("-I"):
        year, half = text.split("-")
        if language == "nl":
            return f"{text} ({'eerste' if half == 'I' else 'tweede'} helft {year})"
        return f"{text} ({'first' if half == 'I' else 'second'} half of {year})"
    return date(text, language)


PER_EN = {"maand": "month", "jaar": "year", "week": "week", "dag": "day", "woongroep": "group home", "woonhuis": "house"}


def unit(name: str, language: str) -> str:
    if language == "nl":
        return name
    if name in UNITS_EN:
        return UNITS_EN[name]
    what, per, span = name.partition(" per ")  # "plaatsen per maand": a rate of a unit we know
    return f"{UNITS_EN.get(what, what)} per {PER_EN.get(span, span)}" if per else name


def qualifier(text: str | None, language: str) -> str:
    if not text:
        return ""
    return text if language == "nl" else QUALIFIERS_EN.get(text, text)


def figure_value(f: Figure, language: str) -> str:
    """'ca. 108.000 ontheemden' — the value as the source qualified it, with its unit."""
    if f.value_date:
        return date(f.value_date, language)
    if f.value is None:  # a statement ("feit"): its label says it all
        return ""
    q = qualifier(f.qualifier, language)
    prefix = f"{q} " if q and q in {"ca.", "circa", "ruim", "approx.", "over", "maximaal", "at most",
                                    "gemiddeld", "on average"} else ""
    if f.unit == "euro" and f.value:
        body = money(f.value, language)
    elif f.unit == "procent":
        body = f"{number(f.value, language)} %"
    else:
        body = f"{number(f.value, language)} {unit(f.unit, language)}"
    return f"{prefix}**{body}**" if not prefix else f"{prefix}**{body}**"


def when(f: Figure, language: str) -> str:
    """The peildatum or period a figure holds for, phrased for the reader."""
    p = f.period
    if f.value is None:  # date facts and statements: the period is the date of the source
        return ("volgens de bron van " if language == "nl" else "according to the source of ") + date(p, language)
    if len(p.split("-")) == 3:
        return f"{WORDS[language]['per']} {date(p, language)}"
    if p.endswith("-I") or p.endswith("-II"):
        return f"{WORDS[language]['in']} {period(p, language)}"
    if p.startswith("indeling "):  # a count of gemeenten holds for a municipal division
        return f"({'gemeentelijke indeling' if language == 'nl' else 'municipal division'} {p.split()[-1]})"
    return f"{WORDS[language]['period']} {p}"


def note(text: str | None, language: str) -> str | None:
    """A document note ('tekst onvolledig', 'wettekst, versie 2015-10-12') in the asker's language."""
    if not text:
        return None
    if text.startswith("wettekst, versie "):
        when = text.removeprefix("wettekst, versie ")
        if language == "en":
            for i, month in enumerate(MONTHS["nl"]):
                when = when.replace(month, MONTHS["en"][i])
            return "law text, version of " + date(when, "en")
        return "wettekst, versie " + date(when, "nl")
    return NOTES_EN.get(text, text) if language == "en" else text


def citation_line(i: int, c: Citation, language: str) -> str:
    extra = note(c.note, language) if c.doc_type != "tabel" else None
    tail = f" ({extra})" if extra else ""
    page = f", p. {c.page}" if c.page else ""
    quote = re.sub(r"<sup>.*?</sup>", "", c.quote).replace("\n", " ").strip()
    if len(quote) > 400:
        quote = quote[:397] + "…"
    return f"[{i}] {c.title}, {date(c.date, language)}, {c.section}{page}{tail}: “{quote}”"


def sources_block(citations: list[Citation], language: str) -> str:
    if not citations:
        return ""
    lines = [f"\n\n**{WORDS[language]['sources']}**"]
    lines += [citation_line(i, c, language) for i, c in enumerate(citations, start=1)]
    return "\n".join(lines)


def either(names: list[str], language: str) -> str:
    """'Eindhoven', 'Eindhoven of Zwolle', 'A, B or C'."""
    word = " of " if language == "nl" else " or "
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + word + names[-1]
