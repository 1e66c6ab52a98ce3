"""Golden-set evaluation: load the cases, run them through the assistant, score and report.

The golden set (tests/eval/*.yaml) is written from the documents and tables, never from the engine, so
this module only looks at what an `Answer` carries: typed figures, computations and citations, and the
text. Numbers are checked as values (never re-parsed from prose), except for the grounding check, whose
whole point is the prose.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Literal, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config import PROJECT_ROOT
from .grounding import ground
from .models import Answer, Citation, Figure

Category = Literal[
    "kerncijfer", "derived", "gemeente", "aggregate", "ranking", "membership", "count",
    "text", "followup", "ambiguous", "abstain", "time",
]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
DEFAULT_SETS = (PROJECT_ROOT / "tests" / "eval" / "dev.yaml", PROJECT_ROOT / "tests" / "eval" / "test.yaml")

AskConversation = Callable[[list[str]], list[Answer]]


# --- the case schema ------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExpectedNumber(_Strict):
    """A value that must be among the answer's figures or computations; `tol` for rounded shares."""

    value: float
    tol: float = 0.0

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, v):
        return {"value": v} if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class ExpectedCitation(_Strict):
    """doc_id exact; `section` and `note` are case- and accent-insensitive substrings."""

    doc: str
    section: str | None = None
    note: str | None = None


Term = str | list[str]  # a list means "any one of these"
CitationSpec = ExpectedCitation | list[ExpectedCitation]


class Expect(_Strict):
    answered: bool | None = None
    ambiguous: bool = False
    numbers: list[ExpectedNumber] = Field(default_factory=list)
    dates: list[str] = Field(default_factory=list)
    citations: list[CitationSpec] = Field(default_factory=list)
    terms: list[Term] = Field(default_factory=list)

    @field_validator("dates", mode="before")
    @classmethod
    def _iso(cls, v):
        out = []
        for d in v or []:
            d = d.isoformat() if isinstance(d, date) else str(d)
            date.fromisoformat(d)  # raises on a malformed date
            out.append(d)
        return out

    @model_validator(mode="after")
    def _consistent(self):
        if self.ambiguous:
            if self.answered is True:
                raise ValueError("an ambiguous case cannot also expect answered: true")
            if not self.terms:
                raise ValueError("an ambiguous case needs terms naming the candidates")
        elif self.answered is None:
            self.answered = True
        if self.answered is False and (self.numbers or self.dates or self.citations):
            raise ValueError("a must-decline case cannot expect numbers, dates or citations")
        return self


class Case(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-zA-Z0-9._-]*$")
    category: Category
    variant: Literal["letter", "people", "typo", "english"]
    group: str
    language: Literal["nl", "en"]
    turns: list[str] = Field(min_length=1)
    expect: Expect

    @property
    def must_decline(self) -> bool:
        return self.expect.answered is False


def load_cases(path: str | Path) -> list[Case]:
    """Read and validate one YAML file; a bad case is reported with its file, index and id."""
    path = Path(path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a YAML list of cases")
    cases = []
    for i, item in enumerate(raw):
        try:
            cases.append(Case.model_validate(item))
        except ValidationError as e:
            cid = item.get("id", "?") if isinstance(item, dict) else "?"
            raise ValueError(f"{path}: case #{i} ({cid}) is invalid:\n{e}") from None
    return cases


def load_sets(paths: Iterable[str | Path] = DEFAULT_SETS) -> dict[str, list[Case]]:
    """Load several sets keyed by file stem (dev, test); ids must be unique across all of them."""
    sets: dict[str, list[Case]] = {}
    seen: dict[str, str] = {}
    for p in paths:
        name = Path(p).stem
        cases = load_cases(p)
        for c in cases:
            if c.id in seen:
                raise ValueError(f"duplicate case id {c.id!r} in {p} (also in {seen[c.id]})")
            seen[c.id] = str(p)
        sets[name] = cases
    return sets


# --- matching helpers -----------------------------------------------------------------------------


def _norm(s: str | None) -> str:
    """Casefold, strip accents, unify quotes, arrows and whitespace: matching must not hinge on
    "Oekraïense" vs "Oekraiense", "PRT's" vs "PRT’s" or "›" vs ">"."""
    s = unicodedata.normalize("NFKD", s or "")
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace(">", "›").replace("»", "›")
    return re.sub(r"\s+", " ", s).strip().casefold()


_SCALE_WORDS = {"duizend": 1e3, "thousand": 1e3, "miljoen": 1e6, "million": 1e6, "mln": 1e6, "miljard": 1e9, "billion": 1e9}


def _scaled(value: float, unit: str | None) -> list[float]:
    """A figure of 6.2 with unit "miljoen euro" also counts as 6 200 000."""
    out = [value]
    u = (unit or "").lower()
    for word, scale in _SCALE_WORDS.items():
        if re.search(rf"\b{word}\b", u):
            out.append(value * scale)
    return out


def _all_figures(answer: Answer) -> list[Figure]:
    figs = list(answer.figures)
    for comp in answer.computations:
        figs.extend(comp.inputs)
    return figs


def answer_values(answer: Answer) -> list[float]:
    """Every value the answer carries: figure values, computation inputs and results. Shares and
    growth results stored as fractions are also offered as percentages (the set uses percentages);
    computation results are compared sign-free because the words carry the direction."""
    vals: list[float] = []
    for f in _all_figures(answer):
        if f.value is not None:
            vals.extend(_scaled(f.value, f.unit))
    for comp in answer.computations:
        vals.extend(_scaled(comp.result, comp.unit))
        vals.append(abs(comp.result))
        if comp.operation in ("share", "growth", "ratio") and "%" not in comp.unit and abs(comp.result) <= 1.5:
            vals.append(abs(comp.result) * 100)
    return vals


def answer_dates(answer: Answer) -> set[str]:
    return {f.value_date for f in _all_figures(answer) if f.value_date}


def answer_citations(answer: Answer) -> list[Citation]:
    cits = list(answer.citations)
    cits.extend(f.citation for f in _all_figures(answer) if f.citation is not None)
    return cits


def _number_found(exp: ExpectedNumber, values: Sequence[float]) -> bool:
    tol = max(exp.tol, 1e-6 * max(1.0, abs(exp.value)))
    return any(abs(v - exp.value) <= tol for v in values)


def _citation_found(spec: CitationSpec, cits: Sequence[Citation]) -> bool:
    options = spec if isinstance(spec, list) else [spec]
    for opt in options:
        for c in cits:
            if c.doc_id != opt.doc:
                continue
            if opt.section and _norm(opt.section) not in _norm(c.section):
                continue
            if opt.note and _norm(opt.note) not in _norm(c.note):
                continue
            return True
    return False


def _term_found(term: Term, haystack: str) -> bool:
    options = term if isinstance(term, list) else [term]
    return any(_norm(t) in haystack for t in options)


def _describe_spec(spec: CitationSpec) -> str:
    opts = spec if isinstance(spec, list) else [spec]
    return " | ".join(
        o.doc + (f" › {o.section}" if o.section else "") + (f" ({o.note})" if o.note else "") for o in opts
    )


# --- scoring one case -----------------------------------------------------------------------------


@dataclass
class CaseResult:
    """The verdict on one case; None for a check the case does not ask for."""

    case: Case
    answers: list[Answer]
    latencies_ms: list[float]
    error: str | None = None
    abstained: bool = False  # the last answer declined (not answered, not a clarifying question)
    answered_ok: bool = False
    numbers_ok: bool | None = None
    citations_ok: bool | None = None
    terms_ok: bool | None = None
    language_ok: bool = False
    mentions: int = 0
    ungrounded: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def last(self) -> Answer | None:
        return self.answers[-1] if self.answers else None

    @property
    def grounded_ok(self) -> bool:
        return not self.ungrounded

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and self.answered_ok
            and self.numbers_ok is not False
            and self.citations_ok is not False
            and self.terms_ok is not False
            and self.language_ok
            and self.grounded_ok
        )


def score_case(case: Case, answers: list[Answer], latencies_ms: list[float] | None = None,
               error: str | None = None) -> CaseResult:
    """Score the last answer of a conversation against the case; grounding covers every turn."""
    r = CaseResult(case=case, answers=answers, latencies_ms=latencies_ms or [], error=error)
    exp = case.expect
    if error or not answers:
        r.problems.append(f"no answer: {error or 'the conversation returned nothing'}")
        r.numbers_ok = False if (exp.numbers or exp.dates) else None
        r.citations_ok = False if exp.citations else None
        r.terms_ok = False if exp.terms else None
        return r
    last = answers[-1]
    r.abstained = not last.answered and last.kind != "clarify"

    if exp.ambiguous:
        r.answered_ok = not r.abstained
        if not r.answered_ok:
            r.problems.append("declined instead of naming the candidates")
    else:
        r.answered_ok = last.answered == exp.answered
        if not r.answered_ok:
            r.problems.append("unwarranted abstention" if exp.answered else "answered a question it must decline")

    if exp.numbers or exp.dates:
        values, dates = answer_values(last), answer_dates(last)
        missing = [n for n in exp.numbers if not _number_found(n, values)]
        missing_dates = [d for d in exp.dates if d not in dates]
        r.numbers_ok = not missing and not missing_dates
        for n in missing:
            r.problems.append(f"missing number {n.value:g}" + (f" (±{n.tol:g})" if n.tol else ""))
        for d in missing_dates:
            r.problems.append(f"missing date {d} (value_date)")

    if exp.citations:
        cits = answer_citations(last)
        missing_c = [s for s in exp.citations if not _citation_found(s, cits)]
        r.citations_ok = not missing_c
        for s in missing_c:
            r.problems.append(f"missing citation {_describe_spec(s)}")

    if exp.terms:
        haystack = _norm(" ".join([last.answer, *last.candidates]))
        missing_t = [t for t in exp.terms if not _term_found(t, haystack)]
        r.terms_ok = not missing_t
        for t in missing_t:
            r.problems.append(f"missing term {t!r}")

    r.language_ok = last.language == case.language
    if not r.language_ok:
        r.problems.append(f"answered in {last.language!r}, asked in {case.language!r}")

    for i, a in enumerate(answers):
        checked = ground(a, case.turns[: i + 1])
        r.mentions += len(checked)
        bad = [m.text for m, ok in checked if not ok]
        r.ungrounded.extend(bad)
        if bad:
            r.problems.append(f"turn {i + 1}: ungrounded number(s) {', '.join(bad)}")
    return r


# --- aggregation ----------------------------------------------------------------------------------


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


@dataclass
class Metrics:
    """Aggregates over a group of case results (a category, a variant or a whole set)."""

    n: int
    passed: int
    figure_accuracy: float | None  # cases whose expected numbers and dates were all present
    citation_accuracy: float | None
    abstention_precision: float | None  # of the declines, how many were must-decline cases
    abstention_recall: float | None  # of the must-decline cases, how many were declined
    grounded_rate: float | None  # grounded number mentions / all number mentions
    ungrounded_cases: int
    term_accuracy: float | None
    language_accuracy: float | None
    p50_ms: float | None
    p95_ms: float | None

    @classmethod
    def of(cls, results: Sequence[CaseResult]) -> "Metrics":
        fig = [r.numbers_ok for r in results if r.numbers_ok is not None]
        cit = [r.citations_ok for r in results if r.citations_ok is not None]
        trm = [r.terms_ok for r in results if r.terms_ok is not None]
        scored = [r for r in results if not r.case.expect.ambiguous]  # a clarification is no abstention
        declined = [r for r in scored if r.abstained]
        must = [r for r in scored if r.case.must_decline]
        mentions = sum(r.mentions for r in results)
        ungrounded = sum(len(r.ungrounded) for r in results)
        lat = sorted(x for r in results for x in r.latencies_ms)
        return cls(
            n=len(results),
            passed=sum(r.passed for r in results),
            figure_accuracy=_ratio(sum(fig), len(fig)),
            citation_accuracy=_ratio(sum(cit), len(cit)),
            abstention_precision=_ratio(sum(r.case.must_decline for r in declined), len(declined)),
            abstention_recall=_ratio(sum(r.abstained for r in must), len(must)),
            grounded_rate=_ratio(mentions - ungrounded, mentions) if mentions else (1.0 if results else None),
            ungrounded_cases=sum(not r.grounded_ok for r in results),
            term_accuracy=_ratio(sum(trm), len(trm)),
            language_accuracy=_ratio(sum(r.language_ok for r in results), len(results)),
            p50_ms=_percentile(lat, 50),
            p95_ms=_percentile(lat, 95),
        )

    def as_dict(self) -> dict:
        return dict(self.__dict__)


_COLUMNS = [
    ("n", "n"), ("pass", "passed"), ("figures", "figure_accuracy"), ("citations", "citation_accuracy"),
    ("abst.P", "abstention_precision"), ("abst.R", "abstention_recall"), ("grounded", "grounded_rate"),
    ("terms", "term_accuracy"), ("lang", "language_accuracy"), ("p50 ms", "p50_ms"), ("p95 ms", "p95_ms"),
]


def _cell(key: str, v) -> str:
    if v is None:
        return "–"
    if key.endswith("_ms"):
        return f"{v:.0f}"
    if isinstance(v, float):
        return f"{100 * v:.1f}%"
    return str(v)


@dataclass
class Report:
    name: str
    results: list[CaseResult]

    @property
    def overall(self) -> Metrics:
        return Metrics.of(self.results)

    def grouped(self, key: Callable[[Case], str], order: Iterable[str] = ()) -> dict[str, Metrics]:
        groups: dict[str, list[CaseResult]] = {}
        for r in self.results:
            groups.setdefault(key(r.case), []).append(r)
        names = [o for o in order if o in groups] + sorted(g for g in groups if g not in order)
        return {g: Metrics.of(groups[g]) for g in names}

    def by_category(self) -> dict[str, Metrics]:
        return self.grouped(lambda c: c.category, CATEGORIES)

    def by_variant(self) -> dict[str, Metrics]:
        return self.grouped(lambda c: c.variant, ("letter", "people", "typo", "english"))

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    def format_table(self) -> str:
        rows = [[""] + [h for h, _ in _COLUMNS]]
        for label, m in [*self.by_category().items(), ("— all —", self.overall)]:
            rows.append([label] + [_cell(k, getattr(m, k)) for _, k in _COLUMNS])
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [f"{self.name}: {self.overall.passed}/{self.overall.n} cases passed"]
        for j, row in enumerate(rows):
            lines.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
        variants = ", ".join(f"{v} {m.passed}/{m.n}" for v, m in self.by_variant().items())
        lines.append(f"by variant: {variants}")
        return "\n".join(lines)

    def format_failures(self) -> str:
        return "\n\n".join(format_failure(r) for r in self.failures)

    def to_json_dict(self) -> dict:
        return {
            "set": self.name,
            "overall": self.overall.as_dict(),
            "categories": {k: m.as_dict() for k, m in self.by_category().items()},
            "variants": {k: m.as_dict() for k, m in self.by_variant().items()},
            "cases": [
                {"id": r.case.id, "category": r.case.category, "variant": r.case.variant, "passed": r.passed,
                 "problems": r.problems, "latency_ms": r.latencies_ms}
                for r in self.results
            ],
        }


def _short(text: str, n: int = 600) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _fmt_figure(f: Figure) -> str:
    v = (f.value_date or "(statement)") if f.value is None else f"{f.value:g}"
    src = f" [{f.citation.doc_id} › {f.citation.section}]" if f.citation else (f" [{f.source}]" if f.source else "")
    return f"{f.label} = {v} {f.unit} ({f.period}){' date ' + f.value_date if f.value_date and f.value is not None else ''}{src}"


def format_failure(r: CaseResult) -> str:
    """The conversation, what was expected and what came back: enough to act on without a rerun."""
    c, e = r.case, r.case.expect
    out = [f"✗ {c.id}  [{c.category}/{c.variant}, {c.language}]"]
    for i, q in enumerate(c.turns):
        out.append(f"  Q{i + 1}: {q}")
        if i < len(r.answers) - 1:
            out.append(f"  A{i + 1}: {_short(r.answers[i].answer, 200)}")
    exp = {"ambiguous": True} if e.ambiguous else {"answered": e.answered}
    if e.numbers:
        exp["numbers"] = [n.value if not n.tol else f"{n.value:g}±{n.tol:g}" for n in e.numbers]
    if e.dates:
        exp["dates"] = e.dates
    if e.citations:
        exp["citations"] = [_describe_spec(s) for s in e.citations]
    if e.terms:
        exp["terms"] = e.terms
    out.append(f"  expected: {json.dumps(exp, ensure_ascii=False, default=str)}")
    a = r.last
    if a is None:
        out.append(f"  actual:   (none) {r.error or ''}")
    else:
        out.append(f"  actual:   answered={a.answered} kind={a.kind} language={a.language}"
                   + (f" candidates={a.candidates}" if a.candidates else ""))
        out.append(f"    text: {_short(a.answer)}")
        for f in a.figures:
            out.append(f"    figure: {_fmt_figure(f)}")
        for comp in a.computations:
            out.append(f"    computation: {comp.operation} {comp.formula} = {comp.result:g} {comp.unit}")
        for cit in a.citations:
            out.append(f"    citation: {cit.doc_id} › {cit.section}" + (f" ({cit.note})" if cit.note else ""))
    out.append("  problems: " + "; ".join(r.problems))
    return "\n".join(out)


# --- running --------------------------------------------------------------------------------------


def default_ask_conversation() -> AskConversation:
    """One Assistant for the whole run (its start-up is the expensive part), a fresh conversation per case."""
    from assistant import Assistant

    assistant = Assistant()

    def ask(turns: list[str]) -> list[Answer]:
        conv = assistant.conversation()
        return [conv.ask(q) for q in turns]

    return ask


def run(cases: Sequence[Case], ask_conversation: AskConversation | None = None, name: str = "eval") -> Report:
    """Ask every case's conversation and score it. An exception in one case fails that case only."""
    ask = ask_conversation or default_ask_conversation()
    results = []
    for case in cases:
        t0 = time.perf_counter()
        try:
            answers, error = list(ask(list(case.turns))), None
        except Exception as exc:  # noqa: BLE001 - reported per case, the run goes on
            answers, error = [], f"{type(exc).__name__}: {exc}"
        wall = (time.perf_counter() - t0) * 1000
        if answers and all(a.latency_ms is not None for a in answers):
            lat = [float(a.latency_ms) for a in answers]
        else:
            lat = [wall / max(1, len(case.turns))] * max(1, len(answers))
        results.append(score_case(case, answers, lat, error))
    return Report(name=name, results=results)
