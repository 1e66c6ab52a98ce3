"""The metric catalogue: which figure a question is about, matched like the documents are.

Each catalogue row (db/metrics.csv) carries Dutch and English labels and the synonyms people use.
A question is scored against every row with BM25 over stemmed words and with e5 embeddings; the
fused score is calibrated to [0, 1] so one set of thresholds decides between answering, asking
which one was meant, and abstaining. A new figure needs a row, not code.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .text import Decompounder, Speller, fold, units, words

# Calibration, fitted on the dev set (tests/eval/dev.yaml): e5-small cosines between a question
# and a phrase that means the same lie around 0.88-0.95, unrelated ones around 0.75-0.82.
COS_LOW, COS_HIGH = 0.80, 0.93
SKIP_WORDS = frozenset(
    "januari februari maart april mei juni juli augustus september oktober november december jan feb mrt "
    "apr jun jul aug sep okt nov dec january february march may june july august october per eind begin "
    "medio half helft end start ii".split()
)
DENSE_WEIGHT = 0.5
LEX_PHRASE = 0.75
MIN_PHRASE_MASS = 5.0  # IDF mass of a phrase that counts as fully informative
ANSWER_THRESHOLD = 0.45  # below: not a question about a catalogued figure
AMBIGUITY_MARGIN = 0.03  # top two closer than this: answer both and say so


@dataclass(frozen=True)
class Metric:
    metric: str
    label_nl: str
    label_en: str
    synonyms: str
    unit: str
    table: str
    level: str
    description: str
    excludes: str = ""  # words that show a question is about something else ("Oekraïners" for inwoners)
    part_of: str = ""  # the figure this one is part of: "niet in de GOO" is the whole minus this part
    relative_to: str = ""  # a span counted from a day: "+rtb_einddatum" (after that date fact), "-start" (before the period asked begins)

    def label(self, language: str) -> str:
        return self.label_nl if language == "nl" else self.label_en

    @property
    def document(self) -> str:
        return " ; ".join([self.label_nl, self.label_en, self.synonyms, self.description])

    @property
    def phrases(self) -> list[str]:
        """The ways people name this figure: each is matched on its own, the best one counts."""
        return [self.label_nl, self.label_en, *(s.strip() for s in self.synonyms.split(";") if s.strip())]


@dataclass(frozen=True)
class MetricMatch:
    metric: Metric
    score: float  # calibrated, 0..1
    lexical: float
    dense: float
    excluded: bool = False  # the question has one of the row's `excludes` words: never the main figure
    words: frozenset[str] = frozenset()  # the question's words (stems) this row's phrases contain


class Catalogue:
    """Scores a question against every phrase of every metric; a metric scores as its best phrase.

    Lexical: the IDF-weighted share of a phrase's words that the question contains (so a phrase
    whose distinctive word, say "amv", is missing scores low). Dense: e5 cosine between question
    and phrase. Both lie in [0, 1]; their mean is the calibrated score the planner thresholds.
    """

    def __init__(self, metrics: list[Metric], vectors: np.ndarray | None, embed_query=None):
        self.metrics = metrics
        self.by_key = {m.metric: m for m in metrics}
        self.position = {m.metric: i for i, m in enumerate(metrics)}
        self.owner = [i for i, m in enumerate(metrics) for _ in m.phrases]
        self.compounds = Decompounder({w for m in metrics for p in m.phrases for w in words(p)})
        # Periods are matched separately (understand.py), so dates in phrases carry no weight here.
        self.same = same_words()
        self.phrase_units = [units(p, self.compounds, SKIP_WORDS, self.same) for m in metrics for p in m.phrases]
        self.metric_words: list[set[str]] = [set() for _ in metrics]
        for j, us in enumerate(self.phrase_units):
            self.metric_words[self.owner[j]] |= {u[0] for u in us} | {p for u in us for p in u[1]}
        df = Counter(stem for us in self.phrase_units for stem in {u[0] for u in us})
        n = len(self.phrase_units)
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.vectors = vectors
        self.embed_query = embed_query
        self.periods: dict[str, list[tuple[str, str]]] = {}  # metric -> (period, quote) of its figures
        self.sources: dict[str, set[tuple[str, str]]] = {}  # metric -> (doc type, doc date) stating it
        self.qualifiers: dict[str, set[str]] = {}  # metric -> qualifiers its figures carry ("tot", "vóór")
        # Words (folded, unstemmed) the catalogue knows: never mistaken for a misspelt place name.
        self.vocabulary_words = {w for m in metrics for w in re.findall(r"[a-z]+", fold(m.document))}
        self.spelled = Speller(self.vocabulary_words)  # "capaciteitsramign" is "capaciteitsraming"
        self.metric_laws = [self.laws_in(f" {' '.join(words(m.document))} ") for m in metrics]
        # the words of a figure that is part of another (metrics.csv part_of): "amv" for the amv part of a task
        self.part_words = [{w for p in m.phrases for w in words(p)} if m.part_of else set() for m in metrics]

    @classmethod
    def load(cls, sql, cache_dir: Path | None, embedder=None) -> "Catalogue":
        rows = sql.query(
            "SELECT metric, label_nl, label_en, synonyms, unit, \"table\", level, description, excludes, part_of, relative_to "
            "FROM metrics"
        ).rows
        metrics = [Metric(*(v or "" for v in r)) for r in rows]
        vectors = None
        if embedder is not None:
            phrases = [strip_periods(p) for m in metrics for p in m.phrases]
            vectors = _cached_vectors(phrases, embedder, cache_dir)
        catalogue = cls(metrics, vectors, embedder.query if embedder is not None else None)
        rows = sql.query("SELECT k.metric, k.period, k.quote, d.type, d.date, k.qualifier FROM kerncijfers k "
                         "JOIN documents d ON d.id = k.doc_id").rows
        for metric, period, quote, doc_type, doc_date, qualifier in rows:
            catalogue.qualifiers.setdefault(metric, set()).add((qualifier or "").lower())
            catalogue.periods.setdefault(metric, []).append((period, quote))
            catalogue.sources.setdefault(metric, set()).add((doc_type, doc_date))
        return catalogue

    def match(self, question: str, query_vector: np.ndarray | None = None, use_dense: bool = True) -> list[MetricMatch]:
        question = self.spelled(question)
        q_units = units(question, self.compounds, SKIP_WORDS, self.same)
        q = {u[0] for u in q_units} | {p for u in q_units for p in u[1]}
        q_mass = sum(self.idf.get(u[0], 1.0) for u in q_units) or 1.0
        # how much of the question a metric's words explain, over all its phrases together
        explained, said = [], []
        for vocabulary in self.metric_words:
            said.append(frozenset(stem for stem, parts in q_units if stem in vocabulary or (parts and parts[-1] in vocabulary)))
            explained.append(min(1.0, sum(self.idf.get(stem, 1.0) for stem in said[-1]) / q_mass))
        lexical = np.zeros(len(self.phrase_units))
        for j, us in enumerate(self.phrase_units):
            # a compound counts when the question has it, all its parts, or its head ('GOO-plekken'
            # for 'GOO-opvangplekken'): Dutch drops the modifier when the context gives it
            shared = sum(self.idf[stem] for stem, parts in us if stem in q or (parts and parts[-1] in q))
            # a phrase of one common word ("gemeenten") cannot by itself make a full match
            total = max(sum(self.idf[stem] for stem, _ in us), MIN_PHRASE_MASS)
            # mostly: how much of the phrase the question says; also: how much of the question the
            # metric explains, so a one-word phrase ("gemeenten") cannot win a long question
            lexical[j] = LEX_PHRASE * shared / total + (1 - LEX_PHRASE) * explained[self.owner[j]]
        dense = np.zeros(len(self.phrase_units))
        use_dense = use_dense and self.vectors is not None
        if use_dense:
            if query_vector is None and self.embed_query is not None:
                query_vector = self.embed_query(question)
            if query_vector is not None:
                cos = self.vectors @ np.asarray(query_vector, dtype=np.float32)
                dense = np.clip((cos - COS_LOW) / (COS_HIGH - COS_LOW), 0, 1)
        weight = DENSE_WEIGHT if use_dense else 0.0
        combined = weight * dense + (1 - weight) * lexical
        folded = f" {' '.join(words(question))} "
        excluded = {i for i, m in enumerate(self.metrics)
                    if any(f" {fold(w).strip()} " in folded for w in m.excludes.split(";") if w.strip())}
        # a question about one law is not about a figure of another ("wanneer trad de Huisvestingswet in
        # werking" is not the Spreidingswet's date)
        asked = self.laws_in(folded)
        if asked:
            excluded |= {i for i, laws in enumerate(self.metric_laws) if laws and not laws & asked}
        # "de opgave, inclusief amv": what is included is part of the figure asked, not the figure itself
        included = self.included_words(folded)
        if included:
            excluded |= {i for i, m in enumerate(self.metrics) if m.part_of and included & self.part_words[i]}
        best: dict[int, MetricMatch] = {}
        for j, score in enumerate(combined):
            i = self.owner[j]
            if i not in best or score > best[i].score:
                best[i] = MetricMatch(self.metrics[i], float(score), float(lexical[j]), float(dense[j]), i in excluded,
                                      said[i])
        # excluded rows last: they may still be the other side of a sum ("asielzoekers en Oekraïners samen")
        return sorted(best.values(), key=lambda r: (r.excluded, -r.score))


    def words_of(self, metric: Metric) -> set[str]:
        """The stems of all of a metric's phrases (and the parts of its compounds)."""
        return self.metric_words[self.position[metric.metric]]

    @staticmethod
    def included_words(folded: str) -> set[str]:
        """The words a folded, padded question says are included ("inclusief amv", "including minors")."""
        return {m.group(1) for m in _included().finditer(folded)}

    @staticmethod
    def laws_in(folded: str) -> frozenset[int]:
        """Which laws (lexicon laws, by position) a folded, padded text names."""
        from .understand import lexicon

        return frozenset(i for i, names in enumerate(lexicon()["laws"])
                         if any(f" {' '.join(words(n))} " in folded for n in names))


@lru_cache(maxsize=1)
def _included() -> re.Pattern:
    from .understand import lexicon

    cues = "|".join(re.escape(" ".join(words(c))) for c in lexicon()["inclusive_cues"])
    return re.compile(rf" (?:{cues}) (?:(?:de|het|the|all) )?(\w+)")


def same_words() -> dict[str, str]:
    from .understand import lexicon

    return {fold(w): fold(line[0]) for line in lexicon()["same_words"] for w in line}


def strip_periods(text: str) -> str:
    """Phrases are embedded without dates: the period of a question is matched on its own."""
    from .understand import parse_periods

    return " ".join(parse_periods(fold(text))[1].split()) or text


def _cached_vectors(texts: list[str], embedder, cache_dir: Path | None) -> np.ndarray:
    """Embed once per content: the catalogue rarely changes and passages cost ~0.2 s each."""
    key = hashlib.sha256(("\n".join(texts) + embedder.name).encode()).hexdigest()[:16]
    path = cache_dir / f"catalogue-{key}.npy" if cache_dir else None
    if path is not None and path.exists():
        return np.load(path)
    vectors = np.asarray(embedder.passages(texts), dtype=np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
        for old in path.parent.glob("catalogue-*.npy"):  # vectors of catalogues that are gone
            if old != path and not old.name.endswith(".tmp.npy"):
                old.unlink(missing_ok=True)
    return vectors
