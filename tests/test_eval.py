"""The real assistant over the golden set.

Two kinds of thresholds: the release targets of the evaluation issue (figure and citation accuracy
100 % on dev and ≥ 97 % on test, abstention recall 100 %, every number grounded), and the floor the
engine has reached, which no change may fall below. Targets not yet reached are strict xfails:
they fail loudly as soon as they pass, so the floor gets raised and the xfail removed.
"""

from __future__ import annotations

import pytest

pytest.importorskip("assistant.engine", reason="the engine (assistant.engine) cannot be imported yet")

from assistant.evaluation import Report, default_ask_conversation, format_failure, load_sets, run  # noqa: E402

ACCURACY = {"dev": 1.0, "test": 0.97}  # release target: figure and citation accuracy per split
# Reached so far (measured with `assistant eval`, less a hair for near-ties in vector search); a change
# that drops below this is a regression.
# Rounds 4-6 of the golden set (286 cases written from the sources, harder: people's words, context
# sentences, more law articles) lowered what is measured (dev 94.6/95.1/100 %, test 81.1/84.0/77.8 %
# at the end of the third session); dev figure accuracy is a target again. Rounds 7-9 (250 cases, on the
# hard categories: declining neighbours of what we hold, text in people's words, time, derived) lowered
# it again: dev 94.6/92.2/100 %, test 77.4/82.3/67.4 % at the end of the fourth session. Rounds 10-12
# (234 cases) and the fifth session's work: dev 94.5/91.0/100 %, test 77.4/80.8/64.7 %; on the test
# cases that were there before round 10, abstention recall fell from 58 to 57 of 87 (see the session note).
# Rounds 13-15 (214 cases, measured fresh before any tuning) and the sixth session: dev 95.1/90.8/100 %,
# test 76.8/78.0/66.2 %; the test cases from before round 13 passed 430 of 657 at its start, 434 at its end.
# Rounds 16-17 (185 cases, measured fresh before any tuning) and the seventh session: dev 94.2/90.0/100 %,
# test 75.2/75.2/63.8 %; on the whole test set the session start passes 529 of 850 cases, its end 532.
# The eighth session (the questions the passages answer, knowledge/questions/; no new cases): dev
# 94.2/91.0/100 %, test 76.3/79.4/63.2 %; the whole test set 532 → 551 of 850. Round 18 (112 cases, fresh:
# 63 at the session's start code, 64 at its end) joined after that: dev 93.6/90.1/99.5 %, test 76.2/78.4/62.0 %.
FLOOR = {
    "dev": {"figure_accuracy": 0.935, "citation_accuracy": 0.90, "abstention_recall": 0.955},
    "test": {"figure_accuracy": 0.77, "citation_accuracy": 0.78, "abstention_recall": 0.68},
}
NOT_YET = {  # release targets the engine does not meet yet
    ("figure_accuracy", "dev"), ("figure_accuracy", "test"), ("citation_accuracy", "dev"),
    ("citation_accuracy", "test"), ("abstention_recall", "test"),
    # met (100 %) until round 18: "How many young people in Nidos small-scale reception opt for extended
    # reception up to age 21?" is answered with the age of 21, where no source counts them; round 20's
    # fresh declines next to held figures added more (96 % at the end of session 9)
    ("abstention_recall", "dev"),
}


def target(metric: str, split: str):
    marks = [pytest.mark.xfail(strict=True, reason=f"release target for {metric} on {split} not reached yet")] \
        if (metric, split) in NOT_YET else []
    return pytest.param(split, marks=marks, id=split)


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    ask = default_ask_conversation()  # one Assistant for both sets
    return {name: run(cases, ask, name=name) for name, cases in load_sets().items()}


def explain(report: Report, failed, limit: int = 25) -> str:
    """The table plus the offending cases, so a red test says what to fix."""
    bad = [r for r in report.results if failed(r)]
    more = f"\n… and {len(bad) - limit} more" if len(bad) > limit else ""
    return "\n" + report.format_table() + "\n\n" + "\n\n".join(map(format_failure, bad[:limit])) + more


@pytest.mark.parametrize("split", [target("figure_accuracy", s) for s in sorted(ACCURACY)])
def test_figure_accuracy(reports, split):
    m = reports[split].overall
    assert (m.figure_accuracy or 0) >= ACCURACY[split], explain(reports[split], lambda r: r.numbers_ok is False)


@pytest.mark.parametrize("split", [target("citation_accuracy", s) for s in sorted(ACCURACY)])
def test_citation_accuracy(reports, split):
    m = reports[split].overall
    assert (m.citation_accuracy or 0) >= ACCURACY[split], explain(reports[split], lambda r: r.citations_ok is False)


@pytest.mark.parametrize("split", [target("abstention_recall", s) for s in sorted(ACCURACY)])
def test_abstention_recall_is_complete(reports, split):
    assert reports[split].overall.abstention_recall == 1.0, explain(
        reports[split], lambda r: r.case.must_decline and not r.abstained)


@pytest.mark.parametrize("split", sorted(FLOOR))
@pytest.mark.parametrize("metric", ["figure_accuracy", "citation_accuracy", "abstention_recall"])
def test_no_regression_below_the_floor(reports, split, metric):
    value = getattr(reports[split].overall, metric) or 0
    assert value >= FLOOR[split][metric], explain(reports[split], lambda r: not r.passed)


@pytest.mark.parametrize("split", sorted(ACCURACY))
def test_every_number_in_every_answer_is_grounded(reports, split):
    assert reports[split].overall.ungrounded_cases == 0, explain(reports[split], lambda r: not r.grounded_ok)
