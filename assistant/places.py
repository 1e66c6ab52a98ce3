"""Find the places a question names: gemeente, provincie, veiligheidsregio or Nederland.

Names resolve through the alias table of the figures database (people's names, names without
accents, Frisian and Dutch spellings), then through fuzzy matching for typos. A name that fits
several places (Bergen, Utrecht, Groningen) keeps all its candidates: the engine says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from .text import normalize_name

KINDS = ("gemeente", "provincie", "veiligheidsregio", "land")
# Place names that are also ordinary words: matched only when capitalised or named as a place.
COMMON_WORDS = frozenset(
    {"best", "buren", "houten", "duiven", "putten", "goes", "sluis", "beek", "stein", "laren", "epe",
     "oss", "ede", "echt", "land", "regio", "delft", "heerde", "ommen", "urk", "weert", "hulst", "veere",
     "landelijk", "waterland", "zeist", "soest", "elburg"}
)
PLACE_FIGURE_WORDS = ("taakstelling", "inwoners", "inwonertal", "bevolking", "opgave", "quota", "population")
KIND_CUES = {
    "gemeente": ("gemeente", "gemeenten", "municipality", "stad", "city", "town"),
    "provincie": ("provincie", "provincies", "province", "provinciale"),
    "veiligheidsregio": ("veiligheidsregio", "veiligheidsregios", "safety region", "vr"),
}


def name_tokens(question: str) -> list[tuple[str, int]]:
    """The words a place name may be made of, with their offsets. "Delft's quota": an English possessive
    is no part of the name ("'s-Hertogenbosch" starts with an apostrophe and keeps it)."""
    return [(re.sub(r"(?<=\w\w)['’]s$", "", m.group()), m.start()) for m in re.finditer(r"[\w'’-]+", question)]


@dataclass(frozen=True)
class Place:
    kind: str  # gemeente, provincie, veiligheidsregio, land
    name: str  # official name as in the figures database

    def label(self, language: str = "nl") -> str:
        if self.kind == "land":
            return "Nederland" if language == "nl" else "the Netherlands"
        kind = {"nl": self.kind, "en": {"gemeente": "municipality", "provincie": "province",
                                         "veiligheidsregio": "safety region"}[self.kind]}[language]
        return f"{self.name} ({kind})"


@dataclass
class PlaceMention:
    text: str  # as written in the question
    start: int
    candidates: list[Place]
    fuzzy: bool = False
    score: float = 100.0


# Forms of a name: "Rotterdam's", "Limburgse", "Nederlanders", "Groninger".
NAME_ENDINGS = (" s", "se", "ers", "er", "s")


def typo_edits(key: str) -> int:
    """How many typing errors a name of this length may carry and still be that name: one up to
    seven letters, two from eight ('terecht' is not 'Utrecht'; 'Kleinhoven' is not 'Eindhoven')."""
    return 1 if len(key) <= 7 else 2


PLACE_FIGURE_WORDS = frozenset({"taakstelling", "taakstellingen", "inwoners", "inwonertal"})  # terse Dutch
# questions put the place right after these ("taakstelling gent 2024-II")
# …and a capitalised name right after the verb of a figure question is one ("Hoeveel inwoners heeft Aken?")
PLACE_VERBS = frozenset({"heeft", "hebben", "heb", "krijgt", "krijgen", "moet", "moeten", "ligt", "is", "has", "have",
                         "does", "gets", "get", "must"})
PLACE_PREPOSITIONS = frozenset({"van", "in", "voor", "uit", "bij", "of", "for", "from", "at", "gemeente",
                                "provincie", "municipality", "province"})


@dataclass
class PlaceResolver:
    aliases: dict[str, list[Place]]
    vocabulary: frozenset[str] = field(default_factory=frozenset)
    max_words: int = 5

    @classmethod
    def from_sql(cls, sql, vocabulary: set[str] = frozenset()) -> "PlaceResolver":
        aliases: dict[str, list[Place]] = {}
        for alias, kind, target in sql.query("SELECT alias, kind, target FROM aliases").rows:
            places = aliases.setdefault(alias, [])
            place = Place(kind, target)
            if place not in places:
                places.append(place)
        return cls(aliases, frozenset(vocabulary))

    def find(self, question: str) -> list[PlaceMention]:
        """Longest exact alias match first, then fuzzy matches of leftover capitalised/long words."""
        tokens = name_tokens(question)
        lowered = question == question.lower()
        mentions: list[PlaceMention] = []
        used = [False] * len(tokens)
        i = 0
        while i < len(tokens):
            found = None
            for n in range(min(self.max_words, len(tokens) - i), 0, -1):
                words = [t for t, _ in tokens[i : i + n]]
                key = normalize_name(" ".join(words))
                if key in self.aliases:
                    if n == 1 and key in COMMON_WORDS and not (words[0][:1].isupper() or self._cued(tokens, i)):
                        continue
                    found = (n, key)
                    break
            if found:
                n, key = found
                mentions.append(PlaceMention(" ".join(t for t, _ in tokens[i : i + n]), tokens[i][1],
                                             list(self.aliases[key])))
                for j in range(i, i + n):
                    used[j] = True
                i += n
            else:
                i += 1
        for i in range(len(tokens) - 1):  # a name of two words, misspelt: "noord holand"
            pair = normalize_name(f"{tokens[i][0]} {tokens[i + 1][0]}")
            if used[i] or used[i + 1] or len(pair) < 9:
                continue
            match = self.closest(pair)
            if match and " " in match[0]:
                mentions.append(PlaceMention(f"{tokens[i][0]} {tokens[i + 1][0]}", tokens[i][1],
                                             list(self.aliases[match[0]]), fuzzy=True, score=match[1]))
                used[i] = used[i + 1] = True
        for i, (word, start) in enumerate(tokens):
            key = normalize_name(word)
            if used[i] or len(key) < 5 or key in self.vocabulary or key in COMMON_WORDS:
                continue
            if not (word[:1].isupper() or lowered or len(key) >= 7):
                continue
            match = self.closest(key)
            if match:
                mentions.append(PlaceMention(word, start, list(self.aliases[match[0]]), fuzzy=True,
                                             score=match[1]))
        mentions.sort(key=lambda m: m.start)
        return [self._apply_cues(question, m) for m in mentions]

    def closest(self, key: str) -> tuple[str, float] | None:
        """The alias a word is a form ("Limburgse") or a misspelling ("Rotterdm") of, with its score."""
        for ending in NAME_ENDINGS:
            stem = key[: -len(ending)]
            if key.endswith(ending) and len(stem) >= 4 and stem in self.aliases and stem not in COMMON_WORDS:
                return stem, 100.0
        for alias, score, _ in process.extract(key, list(self.aliases), scorer=fuzz.ratio, score_cutoff=80, limit=5):
            if DamerauLevenshtein.distance(key, alias) <= typo_edits(key):
                return alias, score
        return None

    def suggestions(self, name: str) -> list[str]:
        """Known places a name resembles, for "did you mean …?" (never taken as meant)."""
        found = process.extract(normalize_name(name), list(self.aliases), scorer=fuzz.ratio, score_cutoff=80, limit=3)
        return list(dict.fromkeys(p.name for alias, _, _ in found for p in self.aliases[alias]))

    def unknown(self, question: str, found: list[PlaceMention]) -> list[str]:
        """Names after 'van', 'in', 'for' … that are no place we know: 'Antwerpen'. Capitalised, or,
        in a question with no place at all, an unknown word right after a per-place figure
        ('taakstelling gent 2024-II') or a capitalised one right after its verb ('heeft Aken'), that is
        no misspelling of a word we know."""
        taken = {m.start for m in found}
        lowered = question == question.lower()  # no capitals at all: a name may be written small too
        # after a figure per place ("taakstelling gent 2024-II"), a small word is a name only in a question
        # that capitalises none ("Welke taakstelling gold voor …de Spreidingswet" has a verb there)
        small = not any(re.match(r"[A-Z][a-z]", w) for w, _ in name_tokens(question)[1:])
        tokens = name_tokens(question)
        names = []
        for i, (word, start) in enumerate(tokens[1:], start=1):
            before = normalize_name(tokens[i - 1][0])
            key = normalize_name(word)
            bare = re.sub(r"['’]s$", "", word)
            if (start in taken or normalize_name(bare) in self.vocabulary or key in self.aliases or len(key) < 3
                    or bare.isupper()  # COA, GOO, PRT's: acronyms, not places
                    or any(c.isdigit() for c in word)):
                continue
            if word[:1].isupper() and before in PLACE_PREPOSITIONS:
                head = normalize_name(tokens[i - 2][0]) if i >= 2 else ""
                if before in ("of", "van") and i - 2 > 0 and tokens[i - 2][0][:1].isupper() \
                        and not any(head in cues for cues in KIND_CUES.values()):
                    continue  # one name of several words: "House of Representatives", "Raad van State"
                names.append(word)
            elif not found and ((before in PLACE_FIGURE_WORDS and (word[:1].isupper() or small)) or (
                    (word[:1].isupper() or lowered) and before in PLACE_VERBS and not self._opens_sentence(question, start))) \
                    and not self._misspelt(key) and not any(
                    part.isupper() or normalize_name(part) in self.vocabulary for part in re.split(r"[-'’]", word) if part):
                # 'taakstelling gent 2024-II', 'Hoeveel inwoners heeft Brussel?': no place we know
                names.append(word)
        return names

    @staticmethod
    def _opens_sentence(question: str, start: int) -> bool:
        """A capital after '.', '?' or '!' is the sentence's, not a name's ('… nodig? Heb ik …')."""
        return bool(re.search(r"[.!?]\s*$", question[:start]))

    def _misspelt(self, key: str) -> bool:
        """A misspelling of a word we know; a short name ("Aken") is one letter from many words."""
        return len(key) >= 6 and process.extractOne(key, self.vocabulary, scorer=fuzz.ratio, score_cutoff=85) is not None

    def _cued(self, tokens, i) -> bool:
        """A name that is also a word ("ede", "oss", "best") is the place after "gemeente", "in", "van" or a
        figure per gemeente ("taakstelling oss"), or before a year ("oss 2024"), as people type it."""
        before = normalize_name(tokens[i - 1][0]) if i > 0 else ""
        after = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        return before in {"gemeente", "in", "van", "voor", "municipality", *PLACE_FIGURE_WORDS} \
            or bool(re.fullmatch(r"(19|20)\d\d(-[iI]+)?", after))

    def _apply_cues(self, question: str, mention: PlaceMention) -> PlaceMention:
        """'gemeente Utrecht' or 'provincie Groningen' settles an ambiguous name."""
        if len(mention.candidates) < 2:
            return mention
        before = normalize_name(question[: mention.start]).split()[-2:]
        after = normalize_name(question[mention.start + len(mention.text) :]).split()[:2]  # "Groningen (de provincie)"
        near = set(before + after)
        for kind, cues in KIND_CUES.items():
            if near & set(cues):
                narrowed = [p for p in mention.candidates if p.kind == kind]
                if narrowed:
                    return PlaceMention(mention.text, mention.start, narrowed, mention.fuzzy, mention.score)
        # A veiligheidsregio only when the question speaks of one; it shares names with provinces.
        text = normalize_name(question)
        if not any(c in text.split() for c in KIND_CUES["veiligheidsregio"]) and "veiligheidsregio" not in text:
            narrowed = [p for p in mention.candidates if p.kind != "veiligheidsregio"]
            if narrowed:
                mention = PlaceMention(mention.text, mention.start, narrowed, mention.fuzzy, mention.score)
        return mention
