"""Number reading and grounding on real phrasings from the letter, the law and the tables."""

from __future__ import annotations

import pytest

from assistant.grounding import numbers_in_text, ungrounded_numbers
from assistant.models import Answer, Citation, Computation, Figure

BRIEF = "2024-04-25_brief_opvang_ontheemden_taakstelling"


@pytest.mark.parametrize(
    "text, expected",  # expected: (kind, value, decimals) or (kind, iso date / period)
    [
        ("behoefte aan in totaal 97.500 opvangplekken", [("number", 97500, 0)]),
        ("97,500 reception places", [("number", 97500, 0)]),
        ("in totaal 6,2 miljoen euro beschikbaar", [("number", 6_200_000, 1)]),
        ("2.4 million euros", [("number", 2_400_000, 1)]),
        ("ruim 25.000 te huisvesten vergunninghouders", [("number", 25000, 0)]),
        ("17.590.672 inwoners", [("number", 17_590_672, 0)]),
        ("17,590,672 inhabitants", [("number", 17_590_672, 0)]),
        ("een aandeel van 51,3%", [("percent", 51.3, 1)]),
        ("ongeveer 8,5 procent van het totaal", [("percent", 8.5, 1)]),
        ("36.9 percent", [("percent", 36.9, 1)]),
        ("0,91 naar boven afgerond", [("number", 0.91, 2)]),
        ("1.234,5 en 1,234.5", [("number", 1234.5, 1), ("number", 1234.5, 1)]),
        ("gemiddeld 540 per week x 52 weken", [("number", 540, 0), ("number", 52, 0)]),
        ("op 1 januari 2025", [("date", "2025-01-01")]),
        ("tot en met 4 maart 2026", [("date", "2026-03-04")]),
        ("valid until 4 March 2026", [("date", "2026-03-04")]),
        ("until March 4, 2026", [("date", "2026-03-04")]),
        ("brief van 2024-04-25", [("date", "2024-04-25")]),
        ("d.d. 25-04-2024", [("date", "2024-04-25")]),
        ("Op 1 februari jl. is de Spreidingswet", [("date", "--02-01")]),
        ("de taakstelling 2024-II en 2024-I", [("period", "2024-II"), ("period", "2024-I")]),
        ("voor 2024-2025", [("number", 2024, 0), ("number", 2025, 0)]),
    ],
)
def test_numbers_in_text(text, expected):
    got = []
    for m in numbers_in_text(text):
        if m.kind == "date":
            got.append(("date", m.date))
        elif m.kind == "period":
            got.append(("period", m.period))
        else:
            got.append((m.kind, m.value, m.decimals))
    assert got == [tuple(e) for e in expected]


@pytest.mark.parametrize(
    "text",
    [
        "Zie de brief [1] en de wet [2, 3].",
        "1. Amsterdam\n2. Rotterdam\n3) 's-Gravenhage",
        "Gemeente GM0599 in VR17, na COVID-19.",
        "artikel 29, tweede lid; art. 30; Bijlage 2; § 1; Hoofdstuk 5; voetnoot 7",
        "Bron: https://www.officielebekendmakingen.nl/stcrt-2024-3320.html",
        "The figures may vary.",
    ],
)
def test_non_quantities_are_skipped(text):
    assert numbers_in_text(text) == []


def test_mention_offsets_point_at_the_text():
    text = "Rotterdam: 634 statushouders in 2024-II."
    for m in numbers_in_text(text):
        assert text[m.start : m.end] == m.text


# --- grounding ------------------------------------------------------------------------------------

LETTER_S1 = Citation(
    doc_id=BRIEF, title="Opvang van asielzoekers en Oekraïense ontheemden en taakstelling huisvesting statushouders",
    date="2024-04-25", section="1. MPP, benodigde opvangcapaciteit en Spreidingswet",
    quote="Op basis van de prognoses van de MPP is de verwachting dat op 1 januari 2025 een behoefte is aan "
          "in totaal 97.500 opvangplekken.",
)
LAW_29 = Citation(
    doc_id="huisvestingswet_2014_versie_2015-10-12", title="Huisvestingswet 2014", date="2015-10-12",
    section="Hoofdstuk 5 Bovengemeentelijke voorschriften › § 1 Huisvesting van vergunninghouders › Artikel 29",
    quote="De taakstelling, bedoeld in artikel 28, is de uitkomst, naar boven afgerond op een geheel getal, van de formule",
    note="wettekst versie 12 oktober 2015",
)


def fig(value, unit="opvangplekken", period="2025-01-01", **kw) -> Figure:
    return Figure(label=kw.pop("label", "x"), value=value, unit=unit, period=period, **kw)


def answer(text, figures=(), computations=(), citations=(), question="") -> Answer:
    return Answer(question=question, answer=text, answered=True, figures=list(figures),
                  computations=list(computations), citations=list(citations))


def rotterdam_art29(result=634.0) -> Computation:
    inputs = [fig(17000, "vergunninghouders", "2024-II"), fig(655468, "inwoners", "2022-01-01"),
              fig(17590672, "inwoners", "2022-01-01")]
    return Computation(operation="art29", formula="⌈17.000 × 655.468 / 17.590.672⌉", inputs=inputs,
                       result=result, unit="vergunninghouders", period="2024-II")


@pytest.mark.parametrize(
    "ans, questions, ungrounded",
    [
        # a key figure, its date and a citation marker
        (answer("Per 1 januari 2025 zijn 97.500 opvangplekken nodig [1].", [fig(97500)], citations=[LETTER_S1]), [], []),
        # a wrong number in the prose
        (answer("Per 1 januari 2025 zijn 97.000 opvangplekken nodig.", [fig(97500)]), [], ["97.000"]),
        # the number only in the quote still counts (the prose may quote)
        (answer("De brief noemt 97.500 plekken.", citations=[LETTER_S1]), [], []),
        # English formats
        (answer("97,500 reception places are needed by January 1, 2025.", [fig(97500)]), [], []),
        # a computation: inputs, formula and result may all be shown; the half year too
        (answer("Rotterdam: ⌈17.000 × 655.468 / 17.590.672⌉ = 634 in 2024-II (Huisvestingswet 2014, "
                "artikel 29, versie 12 oktober 2015).", computations=[rotterdam_art29()], citations=[LAW_29]), [], []),
        # a period that nothing carries
        (answer("Rotterdam moet in 2025-I 634 statushouders huisvesten.", computations=[rotterdam_art29()]), [], ["2025-I"]),
        # rounding: the share is shown to one decimal
        (answer("Dat is een stijging van 36,9%.", computations=[Computation(
            operation="growth", formula="(133.500 − 97.500) / 97.500", inputs=[fig(97500), fig(133500, period="2026-01-01")],
            result=36.923, unit="%", period="2025-01-01/2026-01-01")]), [], []),
        (answer("Dat is een stijging van 37,9%.", [fig(36.923, "%")]), [], ["37,9%"]),
        # a share stored as a fraction, shown as a percentage
        (answer("Het amv-aandeel is 8,5%.", computations=[Computation(
            operation="share", formula="8.140 / 96.000", inputs=[fig(8140), fig(96000)], result=0.0848, unit="aandeel",
            period="2024-2025")]), [], []),
        # a scale word against a figure in millions and against one in euros
        (answer("Sinds eind 2022 is 6,2 miljoen euro beschikbaar gesteld.", [fig(6.2, "miljoen euro", "2022-2024")]), [], []),
        (answer("Since end 2022, 6.2 million euros were made available.", [fig(6_200_000, "euro", "2022-2024")]), [], []),
        # a negative difference written without its sign
        (answer("De taakstelling daalt met 1.750.", computations=[Computation(
            operation="difference", formula="17.000 − 18.750", inputs=[fig(17000, period="2024-II"), fig(18750, period="2024-I")],
            result=-1750, unit="vergunninghouders", period="2024")]), [], []),
        # dates: the value_date grounds the newest end date; the older one comes from the quote
        (answer("De RTB geldt tot en met 4 maart 2026; de brief van april noemde nog 4 maart 2025.",
                [fig(None, "datum", "2024-06-25", value_date="2026-03-04")],
                citations=[Citation(doc_id=BRIEF, title="t", date="2024-04-25", section="c. Verblijf",
                                    quote="De tijdelijke bescherming voor ontheemden op grond van de RTB is nu geldig tot 4 maart 2025.")]),
         [], []),
        (answer("De RTB geldt tot en met 4 maart 2027.", [fig(None, "datum", "2024-06-25", value_date="2026-03-04")]),
         [], ["4 maart 2027"]),
        # a date without a year, backed by a quote without a year
        (answer("De Spreidingswet geldt sinds 1 februari.", citations=[Citation(
            doc_id=BRIEF, title="t", date="2024-04-25", section="Capaciteitsraming",
            quote="Op 1 februari jl. is de Spreidingswet in werking getreden.")]), [], []),
        # a number the asker typed
        (answer("Nee: 600 is minder dan de berekende 634.", computations=[rotterdam_art29()]),
         ["Is 600 genoeg voor Rotterdam?"], []),
        (answer("Nee: 600 is minder dan de berekende 634.", computations=[rotterdam_art29()]), [], ["600"]),
        # a ranked list: list markers are no claims, the values are
        (answer("1. Amsterdam — 874\n2. Rotterdam — 634\n3. 's-Gravenhage — 535",
                [fig(874, period="2024-II"), fig(634, period="2024-II"), fig(535, period="2024-II")]), [], []),
        # a half year the asker wrote in words, or as "2024-1"
        (answer("Voor 2025-I heb ik geen cijfer."), ["And for the first half of 2025?"], []),
        (answer("De landelijke taakstelling 2024-I is 18.750.", [fig(18750, period="2024-I")]), ["taakstelling 2024-1 landelijk"], []),
        (answer("Voor 2025-II heb ik geen cijfer."), ["En voor de eerste helft van 2025?"], ["2025-II"]),
        # the year of a half year grounds "2024"
        (answer("In de tweede helft van 2024 zijn dat er 17.000.", [fig(17000, "vergunninghouders", "2024-II")]), [], []),
    ],
)
def test_ungrounded_numbers(ans, questions, ungrounded):
    assert ungrounded_numbers(ans, questions) == ungrounded


def test_the_answer_question_counts_as_typed():
    a = answer("Ja, 5.000 is meer dan 4.600.", [fig(4600, period="2024-II")], question="Is 5.000 meer dan de Nidos-opgave?")
    assert ungrounded_numbers(a) == []


def test_a_figure_citation_grounds_too():
    f = fig(2717, "asielzoekers", "2024-2025", citation=Citation(
        doc_id="nieuws_gerapporteerde_cijfers_opvang_partieel", title="t", date="2024-01", section="Groningen",
        quote="Groningen moet de komende twee jaar 2717 asielzoekers opvangen."))
    assert ungrounded_numbers(answer("Groningen: 2717 plekken in twee jaar (2024-2025).", [f])) == []
