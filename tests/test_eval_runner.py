"""The scorer and the runner on hand-built answers: no engine needed."""

from __future__ import annotations

import textwrap

import pytest

from assistant.evaluation import Case, Metrics, load_cases, load_sets, run, score_case
from assistant.models import Answer, Citation, Computation, Figure

LAW = "huisvestingswet_2014_versie_2015-10-12"
POP = "minvws_dashboard_gemeenten_veiligheidsregio_bevolking"
BRIEF = "2024-04-25_brief_opvang_ontheemden_taakstelling"

ROTTERDAM = Case.model_validate({
    "id": "gm-rotterdam", "category": "gemeente", "variant": "letter", "group": "rotterdam", "language": "nl",
    "turns": ["Wat is de taakstelling van Rotterdam voor 2024-II?"],
    "expect": {"numbers": [634], "citations": [{"doc": LAW, "section": "Artikel 29"}, {"doc": POP}], "terms": ["2015"]},
})
DECLINE = Case.model_validate({
    "id": "ab-2025", "category": "abstain", "variant": "letter", "group": "2025", "language": "nl",
    "turns": ["Wat is de taakstelling van Rotterdam voor 2025-I?"], "expect": {"answered": False},
})
BERGEN = Case.model_validate({
    "id": "am-bergen", "category": "ambiguous", "variant": "letter", "group": "bergen", "language": "nl",
    "turns": ["Hoeveel inwoners heeft Bergen?"], "expect": {"ambiguous": True, "terms": ["Bergen (NH.)", "Bergen (L.)"]},
})
RTB = Case.model_validate({
    "id": "tm-rtb", "category": "time", "variant": "english", "group": "rtb", "language": "en",
    "turns": ["Until when is temporary protection valid?"],
    "expect": {"dates": ["2026-03-04"], "citations": [[{"doc": "2024-06-25_verlenging_rtb_tot_4_maart_2026"},
                                                       {"doc": BRIEF, "section": "c. Verblijf"}]]},
})
SHARE = Case.model_validate({
    "id": "dv-share", "category": "derived", "variant": "letter", "group": "share", "language": "nl",
    "turns": ["Welk percentage van de raming is voor amv?"],
    "expect": {"numbers": [{"value": 8.5, "tol": 0.1}]},
})

LAW_CIT = Citation(doc_id=LAW, title="Huisvestingswet 2014", date="2015-10-12",
                   section="Hoofdstuk 5 Bovengemeentelijke voorschriften › § 1 Huisvesting van vergunninghouders › Artikel 29",
                   quote="naar boven afgerond op een geheel getal", note="wettekst versie 12 oktober 2015")
POP_CIT = Citation(doc_id=POP, title="Bevolking per gemeente", date="2022-01-01", section="Rotterdam (GM0599)",
                   quote="Rotterdam: 655468")


def rotterdam_answer(result=634.0, text=None, citations=(LAW_CIT, POP_CIT), answered=True) -> Answer:
    comp = Computation(operation="art29", formula="⌈17.000 × 655.468 / 17.590.672⌉", result=result,
                       unit="vergunninghouders", period="2024-II", inputs=[
                           Figure(label="vg 2024-II", value=17000, unit="vergunninghouders", period="2024-II"),
                           Figure(label="inwoners Rotterdam", value=655468, unit="inwoners", period="2022-01-01"),
                           Figure(label="inwoners Nederland", value=17590672, unit="inwoners", period="2022-01-01")])
    text = text or (f"Rotterdam: ⌈17.000 × 655.468 / 17.590.672⌉ = {result:.0f} vergunninghouders in 2024-II "
                    "(berekend met artikel 29 Huisvestingswet 2014, versie 12 oktober 2015).")
    return Answer(question=ROTTERDAM.turns[0], answer=text, answered=answered, kind="derived",
                  computations=[comp], citations=list(citations))


def test_a_right_answer_passes():
    r = score_case(ROTTERDAM, [rotterdam_answer()])
    assert r.passed, r.problems
    assert (r.numbers_ok, r.citations_ok, r.terms_ok, r.language_ok) == (True, True, True, True)
    assert r.mentions > 0 and r.ungrounded == []


def test_a_wrong_number_fails_figures_only():
    r = score_case(ROTTERDAM, [rotterdam_answer(result=635.0)])
    assert not r.passed
    assert r.numbers_ok is False and r.citations_ok is True and r.grounded_ok
    assert "missing number 634" in r.problems


def test_a_missing_citation_fails_citations():
    r = score_case(ROTTERDAM, [rotterdam_answer(citations=[POP_CIT])])
    assert not r.passed and r.numbers_ok is True and r.citations_ok is False
    assert any("Artikel 29" in p for p in r.problems)


def test_a_citation_on_a_figure_counts():
    a = rotterdam_answer(citations=[])
    a.computations[0].inputs[1].citation = POP_CIT
    a.computations[0].inputs[0].citation = LAW_CIT
    assert score_case(ROTTERDAM, [a]).citations_ok is True


def test_an_unwarranted_abstention_fails_and_costs_precision():
    declined = Answer(question=ROTTERDAM.turns[0], answer="Dat staat niet in de bronnen.", answered=False, kind="abstain")
    r = score_case(ROTTERDAM, [declined])
    assert not r.passed and r.abstained and not r.answered_ok
    assert "unwarranted abstention" in r.problems
    ok_decline = score_case(DECLINE, [Answer(question=DECLINE.turns[0], answer="Niet bekend.", answered=False, kind="abstain")])
    m = Metrics.of([r, ok_decline])
    assert m.abstention_precision == 0.5 and m.abstention_recall == 1.0


def test_an_ungrounded_number_fails_the_case():
    text = "Rotterdam moet 634 vergunninghouders huisvesten, ongeveer 700 minder dan in 2023 (versie 2015)."
    r = score_case(ROTTERDAM, [rotterdam_answer(text=text)])
    assert not r.passed and r.numbers_ok is True
    assert r.ungrounded == ["700", "2023"]
    m = Metrics.of([r])
    assert m.ungrounded_cases == 1 and m.grounded_rate < 1


def test_answering_a_must_decline_case_fails():
    r = score_case(DECLINE, [rotterdam_answer()])
    assert not r.passed and not r.abstained
    assert Metrics.of([r]).abstention_recall == 0.0


def test_an_ambiguous_case_passes_on_a_clarifying_question_not_on_a_decline():
    clarify = Answer(question=BERGEN.turns[0], answer="Bedoelt u Bergen (NH.) of Bergen (L.)?", answered=False,
                     kind="clarify", candidates=["Bergen (NH.)", "Bergen (L.)"])
    assert score_case(BERGEN, [clarify]).passed
    one = Answer(question=BERGEN.turns[0], answer="Bergen (NH.) heeft 29.723 inwoners.", answered=True, kind="figure",
                 figures=[Figure(label="inwoners", value=29723, unit="inwoners", period="2022-01-01")])
    assert not score_case(BERGEN, [one]).passed  # silently picked one
    decline = Answer(question=BERGEN.turns[0], answer="Onbekend.", answered=False, kind="abstain")
    r = score_case(BERGEN, [decline])
    assert not r.passed and Metrics.of([r]).abstention_precision is None  # not counted as abstention


def test_dates_any_of_citations_and_language():
    a = Answer(question=RTB.turns[0], answer="Temporary protection runs until 4 March 2026.", answered=True,
               language="en", figures=[Figure(label="RTB end", value_date="2026-03-04", unit="date", period="2024-06-25")],
               citations=[Citation(doc_id=BRIEF, title="t", date="2024-04-25",
                                   section="3. Opvang Oekraiense ontheemden › c. Verblijf en vertrek op langere termijn",
                                   quote="nu geldig tot 4 maart 2025")])
    assert score_case(RTB, [a]).passed
    assert not score_case(RTB, [a.model_copy(update={"language": "nl"})]).passed
    wrong_date = a.model_copy(update={"figures": [Figure(label="x", value_date="2025-03-04", unit="date", period="2024-04-25")]})
    assert "missing date 2026-03-04 (value_date)" in score_case(RTB, [wrong_date]).problems


@pytest.mark.parametrize("result, unit, ok", [(8.479, "%", True), (0.08479, "aandeel", True), (8.7, "%", False)])
def test_shares_within_tolerance_as_percent_or_fraction(result, unit, ok):
    a = Answer(question="q", answer="Zie de berekening.", answered=True, computations=[Computation(
        operation="share", formula="8.140 / 96.000", inputs=[], result=result, unit=unit, period="2024-2025")])
    assert score_case(SHARE, [a]).numbers_ok is ok


def test_run_reports_failures_with_conversation_and_survives_exceptions():
    def ask(turns):
        if "2025-I" in turns[-1]:
            raise RuntimeError("boom")
        return [rotterdam_answer(result=635.0)]

    report = run([ROTTERDAM, DECLINE], ask, name="mini")
    assert [r.passed for r in report.results] == [False, False]
    assert "boom" in report.results[1].error
    text = report.format_failures()
    assert "Q1: Wat is de taakstelling van Rotterdam voor 2024-II?" in text
    assert "missing number 634" in text and "art29" in text and LAW in text
    table = report.format_table()
    assert "gemeente" in table and "abstain" in table and "mini: 0/2" in table
    assert report.to_json_dict()["categories"]["gemeente"]["figure_accuracy"] == 0.0


def test_followups_ground_every_turn():
    case = Case.model_validate({**ROTTERDAM.model_dump(), "id": "fu", "category": "followup",
                                "turns": ["Hoeveel inwoners heeft Rotterdam?", "En de taakstelling 2024-II?"]})
    first = Answer(question="Hoeveel inwoners heeft Rotterdam?", answer="Rotterdam had 655.468 inwoners.", answered=True)
    r = score_case(case, [first, rotterdam_answer()])
    assert r.ungrounded == ["655.468"] and not r.passed


@pytest.mark.parametrize(
    "expect, message",
    [
        ({"ambiguous": True, "answered": True, "terms": ["a"]}, "ambiguous"),
        ({"ambiguous": True}, "terms"),
        ({"answered": False, "numbers": [1]}, "must-decline"),
        ({"dates": ["2025-13-01"]}, "month"),
        ({"numbers": [1], "tolerance": 1}, "tolerance"),
    ],
)
def test_invalid_cases_are_rejected(tmp_path, expect, message):
    import yaml

    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump([{"id": "x", "category": "text", "variant": "letter", "group": "g",
                                  "language": "nl", "turns": ["q"], "expect": expect}]))
    with pytest.raises(ValueError, match=message):
        load_cases(p)


def test_duplicate_ids_across_sets_are_rejected(tmp_path):
    case = textwrap.dedent("""\
        - id: same
          category: text
          variant: letter
          group: g
          language: nl
          turns: ["q"]
          expect: {terms: ["x"]}
        """)
    (tmp_path / "dev.yaml").write_text(case)
    (tmp_path / "test.yaml").write_text(case)
    with pytest.raises(ValueError, match="duplicate"):
        load_sets([tmp_path / "dev.yaml", tmp_path / "test.yaml"])
