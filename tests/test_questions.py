"""Questions people ask that a passage answers (knowledge/questions/): read, attached by their anchor,
searched and counted as coverage, so a new way of asking needs a row, not code."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from assistant import Assistant
from assistant.index import Index
from assistant.knowledge import load_questions
from assistant.text import fold
from assistant.understand import asked_words
from test_index import CACHE
from test_knowledge import WET

BUNDLED = Path(__file__).resolve().parent.parent / "knowledge" / "questions"
ANCHOR = "van zelfstandige in onzelfstandige woonruimte om te zetten"  # Artikel 21 of the law
ASKED = "Wat geldt er voor een kangoeroewoning?"  # a word no document has


def write(folder: Path, entries: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{WET}.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return folder


def index_with(settings, tmp_path: Path, questions: Path) -> tuple[Index, object]:
    s = dataclasses.replace(settings, index_dir=tmp_path / "index", questions_dir=questions)
    index = Index(s, cache_path=CACHE)
    return index, index.build(progress=False)


def test_every_bundled_question_is_attached_to_its_passage(settings, tmp_path):
    entries, errors = load_questions(BUNDLED)
    assert not errors and len(entries) >= 100
    index, report = index_with(settings, tmp_path, BUNDLED)
    assert report.errors == []
    attached = [q for c in index.chunks for _, q in c.get("asks", ())]
    assert len(attached) == sum(len(e.questions) for e in entries)
    assert {c["doc_id"] for c in index.chunks if c.get("asks")} == {e.doc_id for e in entries}


@pytest.mark.parametrize("content, fragment", [
    ("- doc: x\n  anchor: [unclosed\n", "not readable YAML"),
    ("- anchor: alleen een anker\n", "entry 1 needs an anchor and a list of questions"),
    ("- anchor: een anker\n  questions: []\n", "entry 1 needs an anchor"),
    ("- questions: [Wat staat er]\n", "entry 1 needs an anchor"),
    ("gewoon tekst\n", "entry 1 needs an anchor"),
])
def test_a_bad_question_file_is_one_line_naming_it(tmp_path, content, fragment):
    (tmp_path / "kapot.yaml").write_text(content, encoding="utf-8")
    write(tmp_path, [{"anchor": ANCHOR, "questions": [ASKED]}])
    entries, errors = load_questions(tmp_path)
    assert [e.questions for e in entries] == [(ASKED,)]  # the good file is still read
    assert len(errors) == 1 and errors[0].startswith("kapot.yaml: ") and fragment in errors[0]
    assert "\n" not in errors[0]


def test_an_anchor_the_document_lacks_is_reported_and_the_rest_is_indexed(settings, tmp_path):
    questions = write(tmp_path / "questions", [
        {"anchor": "een zin die nergens in de wet staat", "questions": ["Waar staat dit?"]},
        {"anchor": ANCHOR, "questions": [ASKED]},
    ])
    index, report = index_with(settings, tmp_path, questions)
    assert report.errors == [f"questions about {WET}: anchor 'een zin die nergens in de wet staat' is not in the document"]
    assert report.build is not None
    [hit] = index.search(ASKED, k=1)
    assert hit.section.endswith("Artikel 21")


def test_a_question_asked_in_words_no_document_has_is_answered_through_its_row(settings, tmp_path):
    """The same question is declined without the row and answered, quoting Artikel 21, with it."""
    without, _ = index_with(settings, tmp_path / "without", write(tmp_path / "none", []))
    declined = Assistant(dataclasses.replace(settings, index_dir=without.dir)).ask(ASKED)
    assert not declined.answered

    questions = write(tmp_path / "questions", [{"anchor": ANCHOR, "questions": [ASKED, "Is a permit needed?"]}])
    with_row, _ = index_with(settings, tmp_path / "with", questions)
    answer = Assistant(dataclasses.replace(settings, index_dir=with_row.dir, questions_dir=questions)).ask(
        "wat geldt voor kangoeroewoningen")
    assert answer.answered
    assert answer.citations[0].doc_id == WET and answer.citations[0].section.endswith("Artikel 21")


@pytest.mark.parametrize("question, about", [
    ("Hoeveel woningen mogen worden gesplitst?", "woningen gesplitst"),
    ("Mag ik een kangoeroewoning bouwen", "ik een kangoeroewoning bouwen"),
    ("When can a permit be refused?", "a permit be refused"),
])
def test_an_asked_question_is_matched_by_what_it_is_about_not_by_its_question_words(question, about):
    # "hoeveel" or "mag" would match every question put the same way
    assert asked_words(question) == fold(about)


def test_an_asked_question_counts_by_how_much_of_it_is_asked(settings, tmp_path):
    def tools(name, entries):
        questions = write(tmp_path / name / "questions", entries)
        index, _ = index_with(settings, tmp_path / name, questions)
        return Assistant(dataclasses.replace(settings, index_dir=index.dir, questions_dir=questions)).tools

    asked = "Mag een eigenaar zijn kangoeroewoning zonder vergunning opsplitsen in kamers voor de verhuur?"
    plain, with_row = tools("plain", []), tools("asked", [{"anchor": ANCHOR, "questions": [asked]}])
    [hit] = with_row.retrieve(asked, k=1)
    assert hit.section.endswith("Artikel 21")
    assert with_row.coverage(asked, hit) > 0.5 > plain.coverage(asked, hit)
    # one word of the asked question, in a question about something else: a little more, not covered
    other = "Hoeveel kangoeroewoningen zijn er in Zeeland gebouwd?"
    assert plain.coverage(other, hit) < with_row.coverage(other, hit) < 0.5


def test_the_quote_is_the_sentence_that_answers_the_question_people_ask(settings, tmp_path):
    question = "mag gemeente zelf kiezen welke asielzoekers in haar azc komen of beslist coa dat"
    plain, _ = index_with(settings, tmp_path / "plain", write(tmp_path / "none", []))
    asked, _ = index_with(settings, tmp_path / "asked", BUNDLED)
    before, after = plain.search(question, k=1)[0], asked.search(question, k=1)[0]
    assert before.section == after.section and "Spreidingswet en versterking" in after.section
    assert "COA bepaalt in alle gevallen" not in before.quote
    assert "Het COA bepaalt in alle gevallen welke asielzoeker waar wordt geplaatst." in after.quote
