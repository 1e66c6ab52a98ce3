"""The typed values that travel from the tools to the rendered answer.

Numbers and citations are carried as values alongside the text so that nothing downstream ever has
to re-parse a number out of prose.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Citation(BaseModel):
    """A quoted passage (or table row) and exactly where it came from."""

    doc_id: str
    title: str
    date: str  # ISO date of the document, or the version date of a law text
    section: str  # section path, e.g. "1. MPP, … › Capaciteitsraming"; table/row for figures
    quote: str
    # the whole passage around a quote, when it is short enough to read (verbatim, like the quote): a text
    # answer shows it with the quote marked, so what the quote leaves out is still there to read
    context: str | None = None
    doc_type: str | None = None  # brief, wet, nieuws, tabel
    page: int | None = None
    chunk_id: str | None = None
    score: float | None = None
    note: str | None = None  # e.g. "tekst onvolledig", "wettekst versie 12 oktober 2015"


class Figure(BaseModel):
    """One number used in an answer, with its period and its provenance."""

    label: str
    value: float | None = None  # None only for a date fact, then value_date holds it
    value_date: str | None = None  # ISO date when the figure is a date or deadline
    unit: str
    period: str  # peildatum (ISO date) or period such as "2024-II"
    qualifier: str | None = None  # kept from the source text: "ca.", "ruim", "medio scenario"
    scope: str | None = None  # Nederland, COA, Nidos, GOO, a gemeente, a provincie …
    scope_kind: str | None = None  # gemeente, provincie, veiligheidsregio, land: Utrecht the gemeente ≠ the provincie
    metric: str | None = None
    source: str | None = None  # table and row, e.g. "kerncijfers[opvangbehoefte_totaal, 2025-01-01]"
    sql: str | None = None
    quote: str | None = None
    computed: bool = False
    formula: str | None = None
    official: bool | None = None  # for taakstelling per gemeente: official annex vs art. 29
    caveat: str | None = None
    citation: Citation | None = None
    # the label in English where the tool that made the figure composed one (the answer shows it)
    label_en: str | None = Field(default=None, exclude=True)


class Computation(BaseModel):
    """Explicit arithmetic over figures, shown to the reader."""

    operation: Literal["difference", "sum", "share", "growth", "ratio", "product", "quotient", "span", "shift", "art29"]
    formula: str  # human-readable, with the inputs' values
    inputs: list[Figure]
    result: float  # a shift: the span added (negative: taken off), in `unit`
    unit: str
    period: str
    result_date: str | None = None  # a shift: the day it gives (ISO)


class Answer(BaseModel):
    """The grounded answer: what the renderer, CLI, API and UI all consume."""

    question: str
    answer: str = ""  # Markdown in the asker's language
    answered: bool = False
    language: Literal["nl", "en"] = "nl"
    kind: str = "none"  # figure, derived, table, text, clarify, abstain, error
    figures: list[Figure] = Field(default_factory=list)
    computations: list[Computation] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    candidates: list[str] = Field(default_factory=list)  # when we ask "which one?"
    chart: list[tuple[str, float]] | None = None  # label/value pairs when places are compared
    notes: list[str] = Field(default_factory=list)
    latency_ms: float | None = None

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", exclude_none=True)
