"""The real assistant over the golden set, with the release thresholds.

Expected to fail until the engine answers well; skips only when `assistant.engine` cannot be imported.
"""

from __future__ import annotations

import pytest

pytest.importorskip("assistant.engine", reason="the engine (assistant.engine) cannot be imported yet")

from assistant.evaluation import Report, default_ask_conversation, format_failure, load_sets, run  # noqa: E402

ACCURACY = {"dev": 1.0, "test": 0.97}  # figure and citation accuracy per split


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    ask = default_ask_conversation()  # one Assistant for both sets
    return {name: run(cases, ask, name=name) for name, cases in load_sets().items()}


def explain(report: Report, failed, limit: int = 25) -> str:
    """The table plus the offending cases, so a red test says what to fix."""
    bad = [r for r in report.results if failed(r)]
    more = f"\n… and {len(bad) - limit} more" if len(bad) > limit else ""
    return "\n" + report.format_table() + "\n\n" + "\n\n".join(map(format_failure, bad[:limit])) + more


@pytest.mark.parametrize("split", sorted(ACCURACY))
def test_figure_accuracy(reports, split):
    m = reports[split].overall
    assert (m.figure_accuracy or 0) >= ACCURACY[split], explain(reports[split], lambda r: r.numbers_ok is False)


@pytest.mark.parametrize("split", sorted(ACCURACY))
def test_citation_accuracy(reports, split):
    m = reports[split].overall
    assert (m.citation_accuracy or 0) >= ACCURACY[split], explain(reports[split], lambda r: r.citations_ok is False)


@pytest.mark.parametrize("split", sorted(ACCURACY))
def test_abstention_recall_is_complete(reports, split):
    assert reports[split].overall.abstention_recall == 1.0, explain(
        reports[split], lambda r: r.case.must_decline and not r.abstained)


@pytest.mark.parametrize("split", sorted(ACCURACY))
def test_every_number_in_every_answer_is_grounded(reports, split):
    assert reports[split].overall.ungrounded_cases == 0, explain(reports[split], lambda r: not r.grounded_ok)
