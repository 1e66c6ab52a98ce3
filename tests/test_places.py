"""Place names as people write them: typos, forms of a name, and names we do not know."""

from __future__ import annotations

import pytest

from assistant.places import typo_edits


@pytest.mark.parametrize(
    "question,written,place",
    [
        ("taakstelling rotterdm 2024-II", "rotterdm", "Rotterdam"),  # one letter dropped
        ("taakstelling tilberg 2024-II", "tilberg", "Tilburg"),  # one letter wrong
        ("taakstelling leeuwaarden 2024-II", "leeuwaarden", "Leeuwarden"),
        ("What is Rotterdam's quota?", "Rotterdam", "Rotterdam"),  # forms of the name itself
        ("What is Delft's quota?", "Delft", "Delft"),  # a short name too: the possessive is no part of it
        ("taakstelling oss 2024 tweede halfjr", "oss", "Oss"),  # a name that is also a word, after a figure
        ("inwoners ede", "ede", "Ede"),
        ("Welke Zeeuwse gemeente heeft de hoogste taakstelling?", "Zeeuwse", "Zeeland"),  # the adjective
        ("Wat is de taakstelling van 's-Hertogenbosch?", "'s-Hertogenbosch", "'s-Hertogenbosch"),
        ("Welke Limburgse gemeente heeft de hoogste taakstelling?", "Limburgse", "Limburg"),
        ("Hoeveel Nederlanders zijn er?", "Nederlanders", "Nederland"),
        ("inwoners noord holand", "noord holand", "Noord-Holland"),  # a name of two words, misspelt
    ],
)
def test_a_misspelt_or_inflected_name_is_the_place(assistant, question, written, place):
    mentions = assistant.places.find(question)
    assert [(m.text, m.candidates[0].name) for m in mentions] == [(written, place)]


@pytest.mark.parametrize(
    "question,name",
    [
        ("Wat is de taakstelling van de gemeente Kleinhoven voor 2024-II?", "Kleinhoven"),  # not Eindhoven
        ("Hoeveel inwoners heeft Aken?", "Aken"),  # short, but no misspelling of "maken"
        ("hoeveel inwoners heeft antwerpen", "antwerpen"),  # a question without capitals writes names small too
    ],
)
def test_a_name_that_only_resembles_a_place_is_unknown(assistant, question, name):
    mentions = assistant.places.find(question)
    assert mentions == []
    assert assistant.places.unknown(question, mentions) == [name]


def test_an_ordinary_word_is_no_misspelt_place(assistant):
    assert assistant.places.find("Bij wie kunnen we daarvoor terecht?") == []  # not Utrecht


@pytest.mark.parametrize("question", ["hoeveel inwoners heeft nederland", "hoeveel plekken moet het coa regelen",
                                      "hoeveel statushouders moet een gemeente huisvesten",
                                      "Welke taakstelling gold voor het halfjaar waarin de Spreidingswet inging?"])
def test_a_small_word_after_the_verb_is_no_unknown_place(assistant, question):
    assert assistant.places.unknown(question, assistant.places.find(question)) == []


def test_the_decline_names_the_place_it_resembles(assistant):
    answer = assistant.conversation().ask("Wat is de taakstelling van de gemeente Kleinhoven voor 2024-II?")
    assert not answer.answered
    assert "Kleinhoven" in answer.answer and "Bedoelt u Eindhoven?" in answer.answer
    assert answer.figures == []  # a suggestion, not an answer for Eindhoven


@pytest.mark.parametrize("word,edits", [("almer", 1), ("terecht", 1), ("rotterdm", 2), ("kleinhoven", 2)])
def test_longer_names_may_carry_more_typing_errors(word, edits):
    assert typo_edits(word) == edits


@pytest.mark.parametrize(
    "question,unknown",
    [
        ("When did the cabinet inform the House of Representatives about the MPP?", []),  # one name, no place
        ("Wanneer moet de Raad van State advies geven?", []),
        ("What is the quota of the Province of Antwerp?", ["Antwerp"]),  # a kind of place, then its name
        ("Wat is de taakstelling gent in 2024-II?", ["gent"]),  # written small in a question of small words
    ],
)
def test_a_name_of_several_words_is_no_unknown_place(assistant, question, unknown):
    assert assistant.places.unknown(question, assistant.places.find(question)) == unknown


@pytest.mark.parametrize(
    "question",
    [
        "Ik wil mijn woning opdelen in drie woningen. Heb ik daarvoor een vergunning nodig?",  # a sentence's capital
        "Veel Oekraïners wonen hier bij gastgezinnen. Hoeven wij als gemeente dan niets te doen?",
        "Wij verbouwen met Rijksgeld een oud kantoor tot opvang.",  # capitalised, but not where a place would stand
    ],
)
def test_a_capitalised_word_is_not_for_that_an_unknown_place(assistant, question):
    assert assistant.places.unknown(question, assistant.places.find(question)) == []
