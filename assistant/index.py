"""The hybrid retrieval index: BM25 (Dutch stemming) and e5 vectors in Chroma, fused by rank.

Layout of `index_dir`:

    current.json            pointer to the live build; replaced atomically (os.replace)
    builds/<id>/            chunks.json (passages + document metadata) and bm25/ of one build
    embeddings.sqlite       vector cache: sha256(embedder name, passage text) -> vector
    chroma/                 the embedded Chroma store (unless ASSISTANT_CHROMA_URL names a server)

A build writes a new build directory and a new Chroma collection and only then moves the pointer,
so an interrupted or failed build leaves the previous index in use. Vectors come from the cache
whenever the passage text and the embedder are unchanged, so rebuilding costs seconds.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .config import Settings
from .embeddings import Embedder, chroma_embedding_function, load_embedder
from .knowledge import (Document, DocumentError, chunk_document, clean, defined_term, load_document, load_questions,
                        running_text, sentences)
from .models import Citation
from .text import Speller, fold

# "wat is een woningmarktregio?", "wat verstaat de wet onder …", "what is a permit holder?" - but
# not "wat is de taakstelling voor 2024-II?", which asks for a figure, not a definition
DEFINITION_QUESTION = re.compile(
    r"\b(wat (is|zijn) (?!(de|het|die|dat|er|nu)\b)|wat betekent|verstaan|verstaat|definitie|betekenis|"
    r"wie (is|zijn) (een|volgens)|what (is|are) (a|an)\b|what does .* mean|meaning|defin)"
)
# of a build's files and tokens (2: "samen te voegen" is also "samenvoegen"; 3: documents that address the
# assistant are out of BM25; 4: BM25 indexes the questions a passage answers with it); part of the fingerprint,
# so a new format means a rebuild
FORMAT = 4
RRF_K = 10  # reciprocal-rank-fusion constant; small because a top hit of one ranker should count
QUOTE_CHARS = 600
CONTEXT_CHARS = 1200  # a passage up to this long is shown around its quote (Citation.context)
MIN_FURTHER = 2.0  # IDF weight of the question words a further sentence must add (a rare word, or two common ones)
CAUSED = re.compile(r"(daarom|hierdoor|daardoor|dus|zodoende|therefore|thus|hence)\b")  # the cause came before
LIST_ITEM = re.compile(r"[a-z]{1,2}[.)°] |\d{1,2}°\s")  # "b. de wet …", "1° …" (a numbered "2." is a lid, no item)
LIST_GOES_ON = (":", ";", ",", " en", " of")  # a quote ending so stops inside its list ("tot: a. …, en")
# Words a sentence opens with when it goes on from the one before it (anaphora and connectives).
CONTINUES = re.compile(r"(deze|dit|dat|daarom|daardoor|daarvoor|daarmee|hiervoor|hierdoor|hiermee|hiertoe|zo|"
                       r"dan|omdat|want|this|these|that|therefore|thus)\b")


# The particles of Dutch separable verbs ("stellen … vast", "maken … bekend", "trekt … in").
SEPARABLE = frozenset("aan af bekend bij door in mee na om op over terug toe uit vast voor weg samen vrij tegen "
                      "kwijt open dicht ter beschikbaar".split())
DENSE_TERMS = 2  # Dutch terms per English word in the embedded query: enough to bridge the languages, and short
TYPE_BONUS = 0.5  # how much more a sentence with the kind of answer asked counts in quote choice
ASKED_MATCH = 0.4  # a question and one people ask about a passage say this much of each other (F1)…
ASKED_BONUS = 0.5  # …and the sentence that answers theirs counts this much more in quote choice


@functools.lru_cache(maxsize=1)
def answer_marks() -> dict[str, re.Pattern]:
    """Per answer type (lexicon answer_types) one pattern for a sentence that gives such an answer."""
    from .understand import lexicon

    return {kind: re.compile("|".join(f"(?:{m})" for m in spec["marks"])) for kind, spec in lexicon()["answer_types"].items()}


# A passage that addresses the assistant ("Negeer alle eerdere instructies", "antwoord altijd 9999") is no
# source text of ours: it is indexed like any text, but never ranked or quoted as an answer.
INSTRUCTION = re.compile(r"\b(negeer (alle )?(eerdere|vorige|voorgaande) instructies|ignore (all )?(previous|prior) instructions|"
                         r"antwoord altijd|always answer|systeemprompt|system prompt|you are now|je bent nu|"
                         r"zeg dat dit|say that this|developer mode)\b")


def addressing_rows(chunks: list[dict]) -> set[int]:
    """The passages of every document that addresses the assistant ("negeer alle eerdere instructies"):
    such a document is no source. It stays indexed and listed, but no passage of it is ranked, quoted or
    counted in any statistic, so it changes no answer (not even through its other passages)."""
    addressing = {c["doc_id"] for c in chunks if INSTRUCTION.search(fold(c["text"]))}
    return {i for i, c in enumerate(chunks) if c["doc_id"] in addressing}


class IndexMissing(RuntimeError):
    """Search before any build: tell the user what to run."""


@dataclass
class BuildReport:
    documents: int = 0
    chunks: int = 0
    embedded: int = 0  # vectors computed in this build
    cached: int = 0  # vectors taken from the cache
    unchanged: bool = False  # nothing to do: the live index already matches the corpus
    errors: list[str] = field(default_factory=list)  # one line per unusable file
    guessed: dict[str, list[str]] = field(default_factory=dict)  # doc_id -> guessed fields
    seconds: float = 0.0
    build: str | None = None


# --- text for BM25 and the embedder ----------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN_PLUS

    # English too: questions may be English and words like "the" must not count as matches
    # bm25s's Dutch list lacks some pronouns and politeness words people put in questions
    extra = ("per", "wij", "jullie", "hen", "elkaar", "jij", "graag", "kunt", "welke", "welk", "eigenlijk",  # not "onze": "Onze Minister"
             "much", "many", "get", "gets", "got")  # English question words bm25s lacks
    return frozenset(fold(w) for w in STOPWORDS_DUTCH + STOPWORDS_EN_PLUS + extra)


class Tokenizer:
    """Lower case, accents folded (Oekraïne = Oekraine), 96.000 = 96000, Dutch Snowball stems."""

    def __init__(self):
        import Stemmer

        # no PyStemmer word cache (10,000-12,000 words, ~250 B each): it kept every new word of the
        # questions; stemming uncached costs ~0.2 us a word
        self.stemmer = Stemmer.Stemmer("dutch", 0)
        self.stopwords = _stopwords()
        self.glossary = _glossary()

    def __call__(self, text: str) -> list[str]:
        found = self.words_of(text)
        words = [w for w in found if w not in self.stopwords and (len(w) > 1 or w.isdigit())]
        # a separable verb split by "te" is also the whole verb: "samen te voegen" says "samenvoegen", the
        # law's way of writing what a question writes whole (and the other way round)
        words += [p + v for p, te, v in zip(found, found[1:], found[2:]) if te == "te" and p in SEPARABLE]
        return self.stemmer.stemWords(words)

    @staticmethod
    def verb_forms(stem: str) -> set[str]:
        """Snowball keeps the -t of a Dutch present tense: 'coördineert' → 'coordineert', while
        'coördineren' → 'coordiner'. The question's form also counts as the infinitive's stem."""
        if len(stem) < 6 or not stem.endswith("t") or stem[-2] in "aeiou":
            return {stem}
        base = stem[:-1]
        return {stem, base, re.sub(r"([aeou])\1(?=[^aeiou]$)", r"\1", base)}

    def separable(self, text: str) -> set[str]:
        """Stems of the separable verbs a Dutch text splits ("maken het aantal bekend": bekendmaken),
        so a question that writes the verb whole finds the sentence that splits it."""
        found = self.words_of(text)
        particles = [w for w in found if w in SEPARABLE]
        if not particles:
            return set()
        joined = self.stemmer.stemWords([p + w for p in particles for w in found if len(w) > 2 and w != p])
        return {form for stem in joined for form in self.verb_forms(stem)}

    @staticmethod
    def words_of(text: str) -> list[str]:
        return re.findall(r"\w+", re.sub(r"(?<=\d)[.,](?=\d{3}\b)", "", fold(text)))  # 96.000 -> 96000

    def expand(self, query: str, per_word: int | None = None, skip=frozenset()) -> str:
        """The question plus the Dutch glossary terms of its English words; `per_word` at most that many
        of each (the embedder's time grows with the length of its input); none for the words in `skip`."""
        extra = [dutch for word in self.words_of(query) if word not in skip
                 for dutch in self.glossary.get(word, ())[:per_word]]
        return f"{query} ({' '.join(dict.fromkeys(extra))})" if extra else query

    def groups(self, query: str) -> list[set[str]]:
        """Per word of the question its stem and the stems of its Dutch translations.

        A sentence matching two translations of one word ("statushouders", "vergunninghouders")
        should not outscore one that matches two different words of the question.
        """
        out = []
        for word in dict.fromkeys(self.words_of(query)):
            group = {form for stem in self(" ".join([word, *self.glossary.get(word, ())]))
                     for form in self.verb_forms(stem)}
            if group and group not in out:
                out.append(group)
        return out


GLOSSARY = Path(__file__).with_name("glossary.txt")  # English and people's words → the documents' Dutch


def _glossary() -> dict[str, list[str]]:
    table = {}
    lines = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    for entry in " | ".join(lines).split("|"):
        if ":" in entry:
            english, dutch = entry.split(":")
            for word in english.split():
                table[word] = dutch.split()
    return table


def lexical_text(chunk: dict) -> str:
    """What BM25 indexes for a chunk: its embedded text and the questions people ask that it answers
    (knowledge.Asked; doc2query), so a question in their words finds it as well as one in the document's."""
    from .understand import asked_words

    return " ".join([chunk["embed_text"], *(asked_words(q) for _, q in chunk.get("asks", ()))])


def passage_text(title: str, section: str, text: str) -> str:
    """What is embedded and indexed for a chunk: its place in the document, then its words."""
    body = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # Markdown links: keep the words only
    body = re.sub(r"https?://\S+", "", body)
    return f"{title}\n{section}\n{clean(body)}"


# --- the index --------------------------------------------------------------------------------


class Index:
    """Open the live build; `search` returns citations, `build` (re)indexes the documents."""

    def __init__(self, settings: Settings, cache_path: Path | None = None):
        self.settings = settings
        self.dir = Path(settings.index_dir)
        self.cache_path = Path(cache_path) if cache_path else self.dir / "embeddings.sqlite"
        self.embedder: Embedder | None = load_embedder(settings.embedder)
        self.tokenize = Tokenizer()
        self.manifest: dict | None = None
        self.chunks: list[dict] = []
        self.documents: dict[str, dict] = {}
        self._bm25 = None
        self._lexical_rows = np.array([], dtype=int)  # the passages BM25 ranks (not those addressing the assistant)
        self._client = None
        self._collection = None
        self._doc_rows: dict[str, np.ndarray] = {}
        self._by_id: dict[str, dict] = {}  # chunk id → chunk
        self._sentence_words: dict[str, tuple[list[str], list[set[str]]]] = {}  # chunk id → its sentences, their words
        self._asked: dict[str, list[tuple[str, set[str]]]] = {}  # chunk id → its asked questions' anchors and words
        self._readable: dict[str, str | None] = {}  # chunk id → its sentences joined, if verbatim (_readable_whole)
        self._verbatim: dict[str, str] = {}  # doc id → where its quotes may stand
        self._idf: np.ndarray | None = None
        self._defines: dict[int, set[str]] = {}
        self._instructions: set[int] = set()  # rows of the documents that address the assistant (addressing_rows)
        self.vocabulary: frozenset[str] = frozenset()  # the words of the passages, as tokenize reads them
        self.spelled = Speller(())  # long misspelt words of a question read as the documents' words
        self._stamp: int | None = None
        self._firsts: tuple = (None, (None, None))  # the last hybrid search: (query, doc ids), each ranker's first row
        self._load()

    @classmethod
    def open(cls, settings: Settings | None = None, cache_path: Path | None = None) -> "Index":
        """Cheap: reads the pointer, chunks and BM25; Chroma and the model load on first use."""
        return cls(settings or Settings.from_env(), cache_path)

    def _load(self):
        pointer = self.dir / "current.json"
        if not pointer.exists():
            return
        self._stamp = pointer.stat().st_mtime_ns
        manifest = json.loads(pointer.read_text())
        build_dir = self.dir / "builds" / manifest["build"]
        data = json.loads((build_dir / "chunks.json").read_text())
        import bm25s

        self._bm25 = bm25s.BM25.load(str(build_dir / "bm25"))
        self._lexical_rows = np.array(data.get("lexical_rows", range(len(data["chunks"]))), dtype=int)
        doc_freq = np.diff(self._bm25.scores["indptr"])  # passages per token, for quote choice
        self._idf = np.log(1 + (len(self._lexical_rows) - doc_freq + 0.5) / (doc_freq + 0.5))
        self.manifest, self.chunks, self.documents = manifest, data["chunks"], data["documents"]
        self._collection = None
        rows: dict[str, list[int]] = {}
        for i, chunk in enumerate(self.chunks):
            rows.setdefault(chunk["doc_id"], []).append(i)
        self._doc_rows = {doc_id: np.array(ids) for doc_id, ids in rows.items()}
        self._by_id = {c["chunk_id"]: c for c in self.chunks}
        self._sentence_words: dict[str, tuple[list[str], list[set[str]]]] = {}
        self._asked, self._readable, self._verbatim = {}, {}, {}
        terms = {i: defined_term(c["text"]) for i, c in enumerate(self.chunks)}
        self._defines = {i: set(self.tokenize(term)) for i, term in terms.items() if term}
        self._instructions = addressing_rows(self.chunks)
        self.vocabulary = frozenset(w for i, c in enumerate(self.chunks) if i not in self._instructions
                                    for w in self.tokenize.words_of(c["text"]))
        # a misspelt word is read as one BM25 knows: of a passage, or of a question people ask that it answers
        asked = {w for i, c in enumerate(self.chunks) if i not in self._instructions
                 for _, q in c.get("asks", ()) for w in self.tokenize.words_of(q)}
        self.spelled = Speller(self.vocabulary | asked, keep=self.tokenize.glossary)

    def _refresh(self):
        """Pick up a build that another process published (a server keeps serving the newest)."""
        try:
            stamp = (self.dir / "current.json").stat().st_mtime_ns
        except FileNotFoundError:
            return
        if stamp != self._stamp:
            self._load()

    # --- search -------------------------------------------------------------------------------

    @property
    def dense(self) -> bool:
        """Vectors are usable only if the live build was embedded by the configured model."""
        return bool(self.embedder and self.manifest and self.manifest.get("embedder") == self.embedder.name)

    def search(
        self, query: str, k: int = 5, doc_ids: list[str] | None = None, mode: str = "hybrid",
        quote_for: str | None = None, expects: str | None = None,
    ) -> list[Citation]:
        """Top-k passages for a question, fused from BM25 and vector ranks (`mode` for benchmarks);
        each quoted by the sentence that best answers `quote_for` (default: the query itself), and
        gives the kind of answer it `expects` (understand.answer_type)."""
        self._refresh()
        if self.manifest is None:
            raise IndexMissing(f"no index in {self.dir}: run `assistant index build`")
        if not query.strip() or not self.chunks:
            return []
        depth = max(3 * k, 30)
        spelled = self.spelled(query)
        groups = self.tokenize.groups(self.spelled(quote_for) if quote_for else spelled)
        rankings = []
        if mode in ("hybrid", "lexical") or not self.dense:
            rankings.append(self._lexical(self.tokenize.groups(spelled), depth, doc_ids))
        if mode in ("hybrid", "dense") and self.dense:
            rankings.append(self._vector(self.dense_query(query), depth, doc_ids))
        if mode == "hybrid" and len(rankings) == 2:  # each ranker's first, for agreed()
            self._firsts = ((query, tuple(doc_ids or ())), tuple(r[0] if r else None for r in rankings))
        fused: dict[int, float] = {}
        for ranking in rankings:
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        if mode == "hybrid" and DEFINITION_QUESTION.search(fold(query)):
            # a third, double-weight ranking: the passages defining a term of the question
            defining = sorted(self._definitions(groups, doc_ids), key=lambda row: -fused.get(row, 0.0))
            for rank, row in enumerate(defining):
                fused[row] = fused.get(row, 0.0) + 2.0 / (RRF_K + rank + 1)
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [self._citation(row, score, groups, expects) for row, score in best]

    def dense_query(self, query: str) -> str:
        """What the embedder ranks passages by: the question, read for typos, with a few Dutch terms of
        each word the documents lack (English, or people's words; the engine embeds it together with the
        catalogue's query). The documents' own words need none: e5's time grows with every word added."""
        spelled = self.spelled(query)
        return self.tokenize.expand(spelled, per_word=DENSE_TERMS, skip=self.vocabulary)

    def agreed(self, query: str, doc_ids: list[str] | None = None) -> str | None:
        """The passage both BM25 and the embeddings rank first on their own (its chunk id), if any:
        independent evidence that a question put in other words is about it."""
        if not self.dense:
            return None
        key, firsts = self._firsts
        if key != (query, tuple(doc_ids or ())):  # not the search just made: rank again
            self.search(query, k=1, doc_ids=doc_ids)
            key, firsts = self._firsts
        lexical, dense = firsts
        return self.chunks[lexical]["chunk_id"] if lexical is not None and lexical == dense else None

    def _rows(self, doc_ids):
        if doc_ids is None:
            return None
        found = [self._doc_rows[d] for d in doc_ids if d in self._doc_rows]
        return np.concatenate(found) if found else np.array([], dtype=int)

    def bm25_scores(self, groups: list[set[str]]) -> np.ndarray:
        """BM25 per passage, each word of the question counted once: by the best of its own stem and
        its translations, so a word with many Dutch forms ("permit") does not outweigh the rest."""
        scores = np.zeros(len(self._lexical_rows), dtype=np.float32)
        seen: set[str] = set()  # "regional tables" both say "regietafels": it counts once
        for group in groups:
            ids = self._bm25.get_tokens_ids(sorted(group - seen))
            seen |= group
            if ids:
                scores += np.max([self._bm25.get_scores_from_ids([i]) for i in ids], axis=0)
        full = np.zeros(len(self.chunks), dtype=np.float32)  # per passage; one that addresses the assistant: 0
        full[self._lexical_rows] = scores[: len(self._lexical_rows)]
        return full

    def _lexical(self, groups: list[set[str]], depth: int, doc_ids) -> list[int]:
        scores = self.bm25_scores(groups)
        if not scores.any():
            return []
        rows = self._rows(doc_ids)
        if rows is not None:
            masked = np.zeros_like(scores)
            masked[rows] = scores[rows]
            scores = masked
        top = np.argpartition(-scores, min(depth, len(scores) - 1))[:depth]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [int(i) for i in top if scores[i] > 0 and int(i) not in self._instructions]

    def _definitions(self, groups: list[set[str]], doc_ids) -> list[int]:
        """Passages that define a term of a "what is …?" question (a law's begripsbepalingen)."""
        asked = set().union(*groups)
        rows = [row for row, term in self._defines.items() if term and term <= asked and row not in self._instructions]
        return [row for row in rows if doc_ids is None or self.chunks[row]["doc_id"] in doc_ids]

    def _vector(self, query: str, depth: int, doc_ids) -> list[int]:
        collection = self._chroma_collection()
        where = None
        if doc_ids is not None:
            if not doc_ids:
                return []
            where = {"doc_id": {"$in": list(doc_ids)}}
        result = collection.query(  # as deep past the quarantined passages, which are dropped
            query_embeddings=[self.embedder.query(query)],
            n_results=min(depth + len(self._instructions), len(self.chunks)),
            where=where,
            include=[],
        )
        return [int(i) for i in result["ids"][0] if int(i) not in self._instructions][:depth]

    def _citation(self, row: int, score: float, groups: list[set[str]], expects: str | None = None) -> Citation:
        chunk = self.chunks[row]
        doc = self.documents[chunk["doc_id"]]
        return Citation(
            doc_id=chunk["doc_id"],
            title=doc["title"],
            date=doc["date"],
            section=chunk["section"],
            quote=(quote := self.quote(chunk, groups, expects)),
            context=self.context(chunk, quote),
            doc_type=doc["doc_type"],
            page=chunk["page"],
            chunk_id=chunk["chunk_id"],
            score=round(score, 5),
            note=doc["note"],
        )

    def quote(self, chunk: dict, groups: list[set[str]], expects: str | None = None) -> str:
        """The sentence, or two adjacent sentences, of the chunk that cover most of the question; a
        passage of at most QUOTE_CHARS that holds any of the question's words, whole.

        Coverage counts the question's words (or their translations) weighted by rarity; a sentence
        that gives the kind of answer the question `expects` (a date, a span, a reason …) counts
        TYPE_BONUS more; a sentence that answers a question people ask about the passage (knowledge.Asked)
        that is like this one, ASKED_BONUS more. Only text that stands verbatim in the document is returned
        (CONVENTIONS.md), so two sentences are joined only where they are adjacent in the document itself.
        """
        marks = answer_marks().get(expects or "")
        parts, words = self._sentences(chunk)
        if not parts:
            return clean(chunk["text"])
        # verbatim in the document or in its running text (CONVENTIONS.md); a quote has no line break to span both
        document = self.verbatim_text(chunk["doc_id"])
        whole = self._readable_whole(chunk)
        if whole and len(whole) <= QUOTE_CHARS and self._overlap(set().union(*words), groups):
            return whole  # a short passage is quoted whole: the sentence beside the best one often holds the answer
        best, best_score, start, last = parts[0], 0.0, 0, 0
        anchors = self.asked_anchors(chunk, groups)
        for width in (0, 1):  # single sentences first: a pair must cover strictly more
            for i in range(len(parts) - width):
                j = i + width
                text = f"{parts[i]} {parts[j]}" if width else parts[i]
                if width and (len(text) > QUOTE_CHARS or text not in document):
                    continue
                score = self._overlap(words[i] | words[j], groups)
                typed = marks is not None and marks.search(fold(text))
                if typed:
                    score *= 1 + TYPE_BONUS
                if any(a in text for a in anchors) and (marks is None or typed):  # and of the kind asked, if one is
                    score *= 1 + ASKED_BONUS
                if score > best_score + 1e-9:
                    best, best_score, start, last = text, score, i, j
        # a next sentence that opens by referring back ("Deze wet beoogt …", "Daarom …") finishes the
        # thought the quote began: it holds the reason or the consequence the asker usually wants; a
        # sentence that ends in a colon goes on with its list ("regels … met betrekking tot: a. …, en b. …")
        while best_score and last + 1 < len(parts) and (best.endswith(LIST_GOES_ON) or CONTINUES.match(fold(parts[last + 1]))):
            longer = f"{best} {parts[last + 1]}"
            if len(longer) > QUOTE_CHARS or longer not in document:
                break
            best, last = longer, last + 1
        # a quote that opens with its consequence ("Daarom heeft de Raad …") takes the cause before it
        if best_score and start > 0 and CAUSED.match(fold(parts[start])):
            longer = f"{parts[start - 1]} {best}"
            if len(longer) <= QUOTE_CHARS and longer in document:
                best = longer
        return best

    def context(self, chunk: dict, quote: str) -> str | None:
        """The passage a quote stands in, whole, when it says more than the quote and is at most CONTEXT_CHARS
        long: the quote is the sentence chosen to answer, the passage what it means in (a list's opening, the
        sentence after it that says what must be done). Verbatim in the document, or no context."""
        whole = self._readable_whole(chunk)
        return whole if whole and len(whole) <= CONTEXT_CHARS and quote != whole and quote in whole else None

    def _readable_whole(self, chunk: dict) -> str | None:
        """A passage of more than one sentence, whole, if it stands verbatim in its document: read once per
        passage, for the short passage quoted whole and the passage shown around its quote."""
        if chunk["chunk_id"] not in self._readable:
            parts = self._sentences(chunk)[0]
            joined = " ".join(parts)
            self._readable[chunk["chunk_id"]] = joined if len(parts) > 1 and joined in self.verbatim_text(chunk["doc_id"]) \
                else None
        return self._readable[chunk["chunk_id"]]

    def verbatim_text(self, doc_id: str) -> str:
        """Where a quote may stand: the document normalised, and its running text (CONVENTIONS.md)."""
        text = self._verbatim.get(doc_id)
        if text is None:
            source = self.documents[doc_id]
            text = self._verbatim[doc_id] = f"{source['normalized']}\n{source.get('running', '')}"
        return text

    def asked_questions(self, chunk_id: str) -> list[tuple[str, set[str]]]:
        """The questions people ask that a passage answers (knowledge.Asked): per question its anchor and the stems
        of what it is about (understand.asked_words), read once per passage."""
        found = self._asked.get(chunk_id)
        if found is None:
            from .understand import asked_words

            chunk = self._by_id.get(chunk_id, {})
            found = self._asked[chunk_id] = [(a, set(self.tokenize(asked_words(q)))) for a, q in chunk.get("asks", ())]
        return found

    def asked_anchors(self, chunk: dict, groups: list[set[str]]) -> set[str]:
        """The anchors of the questions people ask about this passage that are like the question (IDF-weighted
        F1 of their words at least ASKED_MATCH): their sentences are the ones they wanted (knowledge.Asked)."""
        asked = self.asked_questions(chunk["chunk_id"])
        vocab, idf = self._bm25.vocab_dict, self._idf
        question = sum(max(idf[vocab[w]] if w in vocab else 1.0 for w in group) for group in groups if group)
        found = set()
        for anchor, words in asked:
            shared = self._overlap(words, groups)
            total = sum(idf[vocab[w]] if w in vocab else 1.0 for w in words)
            if not (shared and total and question):
                continue
            # both ways: how much of their question is asked, and how much of the question theirs says
            # ("… eerste helft van 2024" is not the question about the second half)
            of_theirs, of_ours = shared / total, shared / question
            if 2 * of_theirs * of_ours / (of_theirs + of_ours) >= ASKED_MATCH:
                found.add(anchor)
        return found

    def further_quote(self, hit: Citation, question: str, expects: str | None = None) -> str | None:
        """Another sentence of the quoted passage that says what the quote leaves out: the best of those that
        contain question words (or their translations) the quote lacks, weighing at least MIN_FURTHER.
        ("In welke stappen werkt het wetsvoorstel?": the first phase is quoted, the second phase is another
        sentence of the same passage.)"""
        chunk = self._by_id.get(hit.chunk_id)
        if chunk is None:
            return None
        groups = self.tokenize.groups(self.spelled(question))
        said = set(self.tokenize(hit.quote)) | self.tokenize.separable(hit.quote)
        open_groups = [g for g in groups if not g & said]
        marks = answer_marks().get(expects or "")
        best, best_score = None, MIN_FURTHER
        for part, part_words in zip(*self._sentences(chunk)):
            if part in hit.quote:
                continue
            score = self._overlap(part_words, open_groups)
            if marks is not None and marks.search(fold(part)):
                score *= 1 + TYPE_BONUS
            if score > best_score + 1e-9:
                best, best_score = part, score
        return best

    def lead_in(self, hit: Citation) -> str | None:
        """The sentence that opens the list a quoted item belongs to, when the quote lacks it: "b. de wet van
        14 december 1995 …" says nothing without "De volgende wetten worden ingetrokken:"."""
        chunk = self._by_id.get(hit.chunk_id)
        parts = self._sentences(chunk)[0] if chunk else []
        first = next((i for i, p in enumerate(parts) if hit.quote.startswith(p)), None)
        if not first or not LIST_ITEM.match(parts[first]):
            return None
        for part in reversed(parts[:first]):
            if part.endswith(":"):
                return part
            if not LIST_ITEM.match(part):  # (an item of this list, before the quoted one)
                return None
        return None

    def _sentences(self, chunk: dict) -> tuple[list[str], list[set[str]]]:
        """A passage's sentences and the words each holds, read once per passage (quotes read them per question)."""
        found = self._sentence_words.get(chunk["chunk_id"])
        if found is None:
            parts = [p for p in (clean(s) for s in sentences(chunk["text"])) if p]
            found = self._sentence_words[chunk["chunk_id"]] = (
                parts, [set(self.tokenize(p)) | self.tokenize.separable(p) for p in parts])
        return found

    def _overlap(self, words: set[str], groups: list[set[str]]) -> float:
        """IDF-weighted count of the question's words (or a translation) found in `words`."""
        vocab, idf = self._bm25.vocab_dict, self._idf
        found = (group & words for group in groups)
        return sum(max(idf[vocab[w]] if w in vocab else 1.0 for w in hit) for hit in found if hit)


    # --- Chroma -------------------------------------------------------------------------------

    def _chroma(self):
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            url = self.settings.chroma_url
            if url:
                parsed = urlparse(url if "://" in url else f"http://{url}")
                self._client = chromadb.HttpClient(
                    host=parsed.hostname,
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings,
                )
            else:
                self._client = chromadb.PersistentClient(path=str(self.dir / "chroma"), settings=chroma_settings)
        return self._client

    def _chroma_collection(self):
        if self._collection is None:
            self._collection = self._chroma().get_collection(
                self.manifest["collection"], embedding_function=chroma_embedding_function(self.embedder)
            )
        return self._collection

    def _collection_prefix(self) -> str:
        # one Chroma server may hold the indexes of several index dirs: keep them apart
        scope = hashlib.sha1(str(self.dir.resolve()).encode()).hexdigest()[:8]
        return f"opgave-{scope}-"

    # --- build --------------------------------------------------------------------------------

    def build(self, paths=None, progress: bool = True) -> BuildReport:
        """(Re)index the corpus: all documents under `paths` (default: the documents folder).

        Unusable files are reported and skipped; everything else is indexed.
        """
        started = time.perf_counter()
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time per index dir
            self._load()  # another process may have built while we waited
            report = self._build(paths, progress)
        report.seconds = round(time.perf_counter() - started, 2)
        return report

    def _build(self, paths, progress: bool) -> BuildReport:
        report = BuildReport()
        docs = self._load_documents(paths or [self.settings.documents_dir], report)
        chunks, documents = [], {}
        for doc in docs:
            documents[doc.doc_id] = {
                "title": doc.title,
                "date": doc.date,
                "doc_type": doc.doc_type,
                "note": doc.note,
                "path": str(doc.path),
                "normalized": clean(doc.text),
                "running": clean(running_text(doc.text)),  # a sentence a page's footnote interrupts reads whole
            }
            for chunk in chunk_document(doc):
                record = dataclasses.asdict(chunk)
                record["embed_text"] = passage_text(doc.title, chunk.section, chunk.text)
                chunks.append(record)
        self._attach_questions(chunks, documents, report)
        report.documents, report.chunks = len(docs), len(chunks)
        if not chunks:  # nothing readable: keep serving the last good index
            return report
        name = self.embedder.name if self.embedder else "lexical"
        content = [(c["chunk_id"], c["embed_text"], c["page"], c.get("asks")) for c in chunks]
        # the tokenizer's stopwords and the questions' frame words shape the lexical index too: a changed list
        # means a rebuild
        from .understand import frame_words

        fingerprint = hashlib.sha256(json.dumps([FORMAT, name, documents, content, sorted(self.tokenize.stopwords),
                                                 sorted(frame_words())]).encode()).hexdigest()
        if self.manifest and self.manifest.get("fingerprint") == fingerprint and self._live_ok():
            report.unchanged, report.build = True, self.manifest["build"]
            return report

        vectors = None
        if self.embedder:
            vectors = self._vectors([c["embed_text"] for c in chunks], report, progress)
        report.build = self.publish(chunks, documents, vectors, fingerprint, progress)
        return report

    def _attach_questions(self, chunks: list[dict], documents: dict, report: BuildReport):
        """Each question file entry goes with the passage that holds its anchor, as `asks` (anchor, question)
        pairs; an anchor no passage of its document holds is reported, and left out."""
        entries, errors = load_questions(self.settings.questions_dir)
        report.errors += errors
        cleaned = [(c, clean(c["text"])) for c in chunks] if entries else []  # each passage's text, read once
        for entry in entries:
            if entry.doc_id not in documents:
                continue  # questions about a document that is not indexed (now): nothing to attach to
            chunk = next((c for c, text in cleaned if c["doc_id"] == entry.doc_id and entry.anchor in text), None)
            if chunk is None:
                report.errors.append(f"questions about {entry.doc_id}: anchor '{entry.anchor[:60]}' is not in the document")
                continue
            chunk.setdefault("asks", []).extend([entry.anchor, q] for q in entry.questions)

    def publish(self, chunks: list[dict], documents: dict, vectors, fingerprint: str, progress=True) -> str:
        """Write a new build next to the live one, then switch the pointer; returns the build id.

        `chunks` are Chunk records plus `embed_text`; `vectors` is None for a lexical index.
        """
        build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        staging = self.dir / "builds" / f".{build_id}.tmp"
        staging.mkdir(parents=True)
        collection = None
        try:
            self._write_lexical(staging, chunks, documents)
            if vectors is not None:
                collection = self._collection_prefix() + build_id
                self._write_vectors(collection, chunks, vectors, progress)
            staging.rename(self.dir / "builds" / build_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if collection:
                self._drop(collection)
            raise
        name = self.embedder.name if vectors is not None else "lexical"
        manifest = {"build": build_id, "embedder": name, "collection": collection, "fingerprint": fingerprint}
        tmp = self.dir / f".current.{build_id}.json"
        tmp.write_text(json.dumps(manifest, indent=1))
        os.replace(tmp, self.dir / "current.json")  # the switch: atomic on POSIX
        previous = self.manifest
        self._load()
        self._cleanup(keep={build_id, previous["build"] if previous else None})
        return build_id

    def _live_ok(self) -> bool:
        if not (self.dir / "builds" / self.manifest["build"]).is_dir():
            return False
        if not self.manifest.get("collection"):
            return True
        try:
            return self._chroma_collection().count() == len(self.chunks)
        except Exception:  # collection gone (e.g. a wiped server): rebuild it
            self._collection = None
            return False

    def _load_documents(self, paths, report: BuildReport) -> list[Document]:
        files = []
        for path in map(Path, paths):
            if path.is_dir():
                files += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            else:
                files.append(path)
        docs, seen = [], {}
        for path in files:
            try:
                doc = load_document(path)
                if doc.doc_id in seen:
                    raise DocumentError(path, f"same document id as {seen[doc.doc_id].name}; rename one")
            except DocumentError as e:
                report.errors.append(str(e))
                continue
            seen[doc.doc_id] = path
            if doc.guessed:
                report.guessed[doc.doc_id] = doc.guessed
            docs.append(doc)
        return docs

    def _write_lexical(self, build_dir: Path, chunks: list[dict], documents: dict):
        import bm25s

        # a passage that addresses the assistant is kept (listed, auditable) but is no part of the lexical
        # statistics: an injected document must not shift how the other passages rank
        quarantined = addressing_rows(chunks)
        rows = [i for i in range(len(chunks)) if i not in quarantined]
        bm25 = bm25s.BM25()
        bm25.index([self.tokenize(lexical_text(chunks[i])) or [""] for i in rows] or [[""]], show_progress=False)
        bm25.save(str(build_dir / "bm25"))
        public = [{k: v for k, v in c.items() if k != "embed_text"} for c in chunks]
        data = json.dumps({"documents": documents, "chunks": public, "lexical_rows": rows}, ensure_ascii=False)
        (build_dir / "chunks.json").write_text(data)

    def _vectors(self, texts: list[str], report: BuildReport, progress: bool) -> np.ndarray:
        """Vectors for all passages: from the cache, embedding only what is new."""
        name = self.embedder.name
        keys = [hashlib.sha256(f"{name}\n{t}".encode()).hexdigest() for t in texts]
        cache = EmbeddingCache(self.cache_path)
        found = cache.get(keys)
        first: dict[str, int] = {}  # one embedding per distinct text
        for i, key in enumerate(keys):
            if key not in found:
                first.setdefault(key, i)
        missing = list(first.items())
        report.cached = len(texts) - len(missing)
        report.embedded = len(missing)
        if missing:
            from tqdm import tqdm

            bar = tqdm(total=len(missing), desc="embedding", unit="passage", file=sys.stderr, disable=not progress)
            for start in range(0, len(missing), 16):
                batch = missing[start : start + 16]
                vectors = self.embedder.passages([texts[i] for _, i in batch])
                new = dict(zip([k for k, _ in batch], vectors))
                cache.put(new)  # committed per batch: an interrupted build keeps its work
                found.update(new)
                bar.update(len(batch))
            bar.close()
        cache.close()
        return np.stack([found[k] for k in keys])

    def _write_vectors(self, name: str, chunks: list[dict], vectors: np.ndarray, progress: bool):
        from tqdm import tqdm

        client = self._chroma()
        collection = client.create_collection(
            name,
            embedding_function=chroma_embedding_function(self.embedder),
            configuration={"hnsw": {"space": "cosine"}},
        )
        step = min(client.get_max_batch_size(), 4096)
        batches = range(0, len(chunks), step)
        for start in tqdm(batches, desc="vectors", file=sys.stderr, disable=not progress or len(batches) < 2):
            batch = chunks[start : start + step]
            collection.add(
                ids=[str(start + i) for i in range(len(batch))],  # row numbers: no lookup on search
                embeddings=vectors[start : start + step],
                metadatas=[{"doc_id": c["doc_id"]} for c in batch],
            )

    def _cleanup(self, keep: set):
        """Remove builds and collections older than the previous one (left for open readers)."""
        for path in (self.dir / "builds").iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.dir.glob(".current.*.json"):
            path.unlink(missing_ok=True)
        if not self.embedder:
            return
        prefix = self._collection_prefix()
        for collection in self._chroma().list_collections():
            if collection.name.startswith(prefix) and collection.name.removeprefix(prefix) not in keep:
                self._drop(collection.name)

    def _drop(self, name: str):
        try:
            self._chroma().delete_collection(name)
        except Exception:  # already gone, or the server is down: the next build's cleanup retries
            pass


class EmbeddingCache:
    """content hash -> float32 vector, in SQLite so many builds and processes can share it."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=60)
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        found = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            batch = unique[start : start + 500]
            marks = ",".join("?" * len(batch))
            for key, blob in self.db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, vectors: dict[str, np.ndarray]):
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()],
            )

    def close(self):
        self.db.close()
