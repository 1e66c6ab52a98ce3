"""Text normalisation shared by lexical search over documents and over the metric catalogue."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# Snowball's Dutch stop words plus the question words that carry no topic, and English function
# words (NLTK's list, as in bm25s, without those that say something about a figure: more, over,
# before, all …; written out so a figure question does not import bm25s).
DUTCH_STOPWORDS = frozenset(
    """de en van ik te dat die in een hij het niet zijn is was op aan met als voor had er maar om hem
    dan zou of wat mijn men dit zo door over ze zich bij ook tot je mij uit der daar haar naar heb hoe
    heeft hebben deze u want nog zal me zij nu ge geen omdat iets worden toch al waren veel meer doen
    toen moet ben zonder kan hun dus alles onder ja eens hier wie werd altijd doch wordt wezen kunnen
    ons zelf tegen na reeds wil kon niets uw iemand geweest andere hoeveel welke welk wanneer waar
    the of and a an to in is are was were what how many much which when who does do for on at by be
    with from that this as it there their would could might may shall
    about am any because been being both but can did doing each had has have having he her here hers
    herself him himself his if into its itself just me my myself or our ours ourselves she should so
    some such than them themselves then these they those through too we were where which while whom
    why will you your yours yourself yourselves""".split()
)
# maxCacheSize 0: PyStemmer's own word cache (10,000 words, trimmed only at 12,000, ~250 B each) would
# keep every new word of every question a second time; the bounded lru_cache of stem is the one cache.
_stemmer = Stemmer.Stemmer("dutch", 0)


def fold(text: str) -> str:
    """Lower case without accents: 'Oekraïners' and 'oekrainers' are the same word to a searcher."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=8192)  # the sources' and catalogue's words fit; words of questions churn, not pile up
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def normalize_name(text: str) -> str:
    """Lower-case, strip accents, apostrophes and punctuation: the key place names match on."""
    text = fold(text).replace("’", "'")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.strip()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold(text).replace(".", ""))


def units(text: str, compounds: "Decompounder", skip=frozenset(), same: dict[str, str] | None = None
          ) -> list[tuple[str, tuple[str, ...]]]:
    """Content words as (stem, stems of its compound parts): a compound is present in a text that
    has the compound itself or all its parts ('opvangplekken' ~ 'plekken voor opvang'). `same`
    maps words that mean the same ('plaatsen' → 'plekken') to one word first."""
    same = same or {}
    out = []
    for w in words(text):
        if (w in DUTCH_STOPWORDS and w not in same) or w in skip or w.isdigit() or len(w) < 2:
            continue  # a stop word that means a content word ("nu" = "huidige") counts as that word
        w = same.get(w, w)
        out.append((stem(w), tuple(stem(same.get(p, p)) for p in compounds(w))))
    return out


class Decompounder:
    """Splits a word into two known words ('capaciteitsbehoefte' → capaciteit, behoefte).

    Dutch glues nouns together; people write 'plekken' where a document says 'opvangplekken'.
    The known words come from the text it serves (the catalogue's phrases), so no dictionary is
    needed; linking letters (s, e, en) between the parts are allowed.
    """

    MIN_PART = 3

    def __init__(self, vocabulary: set[str]):
        self.vocabulary = {w for w in vocabulary if len(w) >= self.MIN_PART and not w.isdigit()}

    @lru_cache(maxsize=8192)
    def __call__(self, word: str) -> tuple[str, ...]:
        if len(word) < 2 * self.MIN_PART + 1:
            return ()
        for i in range(len(word) - self.MIN_PART, self.MIN_PART - 1, -1):
            head, tail = word[:i], word[i:]
            if tail not in self.vocabulary:
                continue
            for link in ("", "s", "e", "en"):
                if link and not head.endswith(link):
                    continue
                left = head[: len(head) - len(link)] if link else head
                if left in self.vocabulary:
                    return (left, tail)
        return ()


SPELL_MIN = 8  # shorter words are left as typed: they have too many neighbours ("terecht", "Utrecht")


class Speller:
    """Reads a long word a vocabulary lacks, but has one or two typing errors away ("huisvestingsverguning"),
    as the vocabulary's word; only where one word (up to its inflection) is that close."""

    def __init__(self, vocabulary, keep=frozenset()):
        self.words = sorted({fold(w) for w in vocabulary if len(w) >= SPELL_MIN - 2})
        self.known = frozenset(self.words) | {fold(w) for w in keep}
        self.stems = frozenset(stem(w) for w in self.words)  # another form of a known word is no typo
        self.cache: dict[str, str] = {}

    def part_of_compound(self, key: str) -> bool:
        """"urgentie" of "urgentiecategorieën", "verordening" of "huisvestingsverordening": a word the
        vocabulary writes inside a compound is no typo (not "urgente", one letter away)."""
        return any(len(w) >= len(key) + 4 and (w.startswith(key) or w.endswith(key)) for w in self.words)

    def __call__(self, text: str) -> str:
        if text in self.cache:
            return self.cache[text]
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein

        out = []
        for word in re.findall(r"\w+|\W+", text):
            key = fold(word)
            if len(key) >= SPELL_MIN and key.isalpha() and key not in self.known and stem(key) not in self.stems \
                    and not self.part_of_compound(key):
                edits = 1 if len(key) <= 10 else 2
                near = process.extract(key, self.words, scorer=DamerauLevenshtein.distance, score_cutoff=edits, limit=3)
                best = [w for w, d, _ in near if d == near[0][1]]
                # one word (up to its inflection), and not just another ending ("Oekraïens", "oekraiense")
                if best and len({stem(w) for w in best}) == 1 and not (best[0].startswith(key) or key.startswith(best[0])):
                    word = best[0]
            out.append(word)
        if len(self.cache) > 1000:
            self.cache.clear()
        self.cache[text] = "".join(out)
        return self.cache[text]
