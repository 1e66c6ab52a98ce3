"""The golden set itself: valid, balanced and covering what the brief asks for (no engine needed)."""

from __future__ import annotations

from collections import Counter

import pytest

from assistant.config import PROJECT_ROOT
from assistant.evaluation import ExpectedCitation, load_sets

MINIMUM = {"kerncijfer": 35, "derived": 25, "gemeente": 30, "membership": 10, "count": 5, "text": 25,
           "followup": 15, "ambiguous": 6, "abstain": 25, "time": 10}
LAW = "huisvestingswet_2014_versie_2015-10-12"


@pytest.fixture(scope="module")
def sets():
    return load_sets()


@pytest.fixture(scope="module")
def cases(sets):
    return [c for cs in sets.values() for c in cs]


def test_size_and_split_balance(sets, cases):
    assert len(cases) >= 200
    dev, test = len(sets["dev"]), len(sets["test"])
    assert abs(dev - test) <= 0.1 * len(cases)


def test_category_minimums(cases):
    n = Counter(c.category for c in cases)
    for cat, minimum in MINIMUM.items():
        assert n[cat] >= minimum, cat
    assert n["aggregate"] + n["ranking"] >= 20


def test_phrasings(cases):
    groups: dict[str, set[str]] = {}
    for c in cases:
        groups.setdefault(c.group, set()).add(c.variant)
    assert sum(len(v) >= 3 for v in groups.values()) >= 25  # a large share asked at least three ways
    assert {c.variant for c in cases} == {"letter", "people", "typo", "english"}


def test_language_follows_variant(cases):
    for c in cases:
        assert (c.language == "en") == (c.variant == "english"), c.id


def test_time_cases_in_both_languages(cases):
    assert {c.language for c in cases if c.category == "time"} == {"nl", "en"}


def test_followups_have_several_turns(cases):
    assert all(len(c.turns) >= 2 for c in cases if c.category == "followup")


def test_ambiguous_cases_expect_no_single_answer(cases):
    assert all(c.expect.ambiguous for c in cases if c.category == "ambiguous")


def test_a_law_citation_expects_the_version_named(cases):
    """A citation of the 2015 law text must name its version, so the answer text must contain "2015"."""
    for c in cases:
        specs = [s for spec in c.expect.citations for s in (spec if isinstance(spec, list) else [spec])]
        if any(isinstance(s, ExpectedCitation) and s.doc == LAW for s in specs):
            assert any("2015" in (t if isinstance(t, str) else " ".join(t)) for t in c.expect.terms), c.id


# --- every expected number and date traces to the sources ------------------------------------------

RAW = PROJECT_ROOT / "db" / "raw"
VG = {"2024-I": 18750, "2024-II": 17000}  # the letter, § 2

# Derived answers: value -> the computation over figures of the letter / tables it stands for.
DERIVED = {
    314: "24 maart 2023 (wetsvoorstel naar de Tweede Kamer) → 1 februari 2024 (inwerkingtreding Spreidingswet), in dagen",
    36000: "133.500 − 97.500", 1500: "97.500 − 96.000", 37500: "133.500 − 96.000", 5200: "9.500 − 4.300",
    87860: "96.000 − 8.140", 35750: "18.750 + 17.000", 1750: "18.750 − 17.000", 25150: "18.750 + 6.400",
    700: "4.600 − 3.900", 28080: "540 × 52", 8_600_000: "6,2 + 2,4 miljoen", 6_200_000: "6,2 miljoen",
    2_400_000: "2,4 miljoen", 217500: "97.500 + 120.000", 1260: "105 × 12", 1600: "77.100 − 75.500 (COA B − A)",
    240: "Amsterdam 874 − Rotterdam 634 (art. 29, 2024-II)", 65: "Rotterdam 699 − 634 (2024-I − 2024-II)",
    2393: "874 + 634 + 535 + 350 (G4, 2024-II)",
    85000: "133.500 − 48.500", 16000: "108.000 − 92.000; 136.000 − 120.000", 108000: "105.500 + 2.500", 630: "105 × 6 (maanden)",
    14040: "540 × 26 (weken)", 8000: "96.000 − 88.000", 1230: "11.704 − 10.474 (Gelderland, nieuws)",
    448: "Eindhoven 231 + Tilburg 217 (2024-II)", 17: "Nijmegen 191 − 174 (2024-I − 2024-II)",
    495: "Eindhoven 255 + Tilburg 240 (art. 29, 2024-I)", 7020: "540 × 13 (weken)",
    504: "Zuid-Holland 19.097 − 18.593 (COA B − A)", 106: "Groningen (gemeente) 228 − Leeuwarden 122 (2024-II)",
    1062: "provincie Groningen 575 + Drenthe 487 (2024-II)", 470: "Noord-Brabant 2.536 − Gelderland 2.066 (2024-II)",
    247931: "inwoners Amsterdam 903.399 − Rotterdam 655.468", 1360: "9.500 − 8.140 (amv COA 1-1-2025 − raming)",
    89: "Amsterdam 963 − 874 (2024-I − 2024-II)", 30: "dertig gemeenten met belangstelling (in words)",
    1812: "Spreidingswet Amsterdam 4479 − Rotterdam 2667", 11647: "4479 + 2667 + 2513 + 1988 (G4, Spreidingswet)",
    1428: "COA amv versie A 5088 − B 3660", 358: "Noord-Holland COA B 11430 − A 11072",
    2520: "105 euro × 2 volwassenen × 12 maanden", 4320: "540 × 8 weken", 736: "Utrecht 386 + 350 (2024-I + 2024-II)",
    820: "Zuid-Holland 3653 − Noord-Holland 2833 (2024-II)",
    88000: "97.500 − 9.500 (opvangbehoefte − amv-behoefte 1-1-2025)", 41800: "69.800 − 28.000",
    2160: "540 × 4 (weken)", 315: "105 euro × 3 volwassenen", 3_800_000: "6,2 − 2,4 miljoen",
    20500: "96.000 − 75.500 (COA versie A)", 18900: "96.000 − 77.100 (COA versie B)",
    4474: "Spreidingswet Amsterdam 4479 − Schiermonnikoog 5", 1355: "Spreidingswet Zwolle 717 + Enschede 638",
    102051: "inwoners Rotterdam 655.468 − 's-Gravenhage 553.417", 486: "Eindhoven 255 + 231 (2024-I + 2024-II)",
    517: "Noord-Brabant 2.792 − Gelderland 2.275 (2024-I)", 2638: "963 + 699 + 590 + 386 (G4, 2024-I)",
    3840: "8.140 − 4.300 (amv raming − amv COA nu)", 4: "4 maart 2022 tot en met 4 maart 2026 (jaren)",
    12400: "17.000 − 4.600 (taakstelling 2024-II − kso)", 3000: "36.000 / 12 maanden",
    1150: "4.600 / 4 (kso-opgave 2024-II / jongeren per woonhuis)", 210: "105 euro × 2 volwassenen",
    267: "Zwolle 140 + 127 (2024-I + 2024-II)", 1781: "Spreidingswet Haarlem 963 + Zaanstad 818",
    305: "COA amv Zuid-Holland versie A 1.086 − B 781", 3240: "540 × 6 (weken)",
    325: "3.900 / 12 (kso-behoefte 2024-I / jongeren per woongroep)", 3: "4 maart 2022 tot 4 maart 2025 (jaren)",
    420: "105 euro × 4 volwassenen", 479: "Groningen 251 + 228 (2024-I + 2024-II)", 10800: "540 × 20 (weken)",
    844117: "inwoners Zuid-Holland 3.753.944 − Noord-Holland 2.909.827",
    2473983: "inwoners Amsterdam 903.399 + Rotterdam 655.468 + 's-Gravenhage 553.417 + Utrecht 361.699",
    70000: "120.000 GOO-plekken 1-1-2025 − 50.000 (eerste fase 2022)",
    324: "Haarlemmermeer 170 + 154 (art. 29, 2024-I + 2024-II)", 22500: "120.000 GOO-plekken − 97.500 (1-1-2025)",
    666: "Spreidingswet Zaanstad 818 − taakstelling 152 (art. 29, 2024-II)",
    590: "Spreidingswet Zwolle 717 − taakstelling 127 (art. 29, 2024-II)", 35: "21 + 14 dagen afwezig (de vraag telt ze op)",
    5297: "Spreidingswet Amsterdam 4479 + Zaanstad 818",
}
DERIVED_DATES = {  # a date a case computes from dates and spans the sources give -> how
    "2027-03-04": "4 maart 2025 (einde RTB volgens de brief) + 2 jaar (transitiekosten te verrekenen tot RTB + 2 jaar)",
    "2024-10-02": "1 januari 2025 (aanvang 2025-I) − 13 weken (art. 29 lid 1: vg bekendgemaakt ten minste dertien weken vooraf)",
    "2024-04-01": "1 juli 2024 (aanvang 2024-II) − 13 weken (art. 29 lid 1)",
    "2025-10-02": "1 januari 2026 (aanvang 2026-I) − 13 weken (art. 29 lid 1)",
    "2025-04-01": "1 juli 2025 (aanvang 2025-II) − 13 weken (art. 29 lid 1)",
}
SHARES = {  # percentage -> (numerator, denominator)
    36.9: (36000, 97500), 8.5: (8140, 96000), 9.3: (1750, 18750), 27.1: (4600, 17000), 85.2: (92000, 108000),
    88.2: (120000, 136000), 36.3: (48500, 133500), 21.3: (3_753_944, 17_590_672),
    34.1: (6400, 18750), 25.9: (28000, 108000), 30.4: (28000, 92000), 120.9: (5200, 4300), 9.7: (9500, 97500),
    7.8: (1_369_873, 17_590_672), 5.1: (874, 17000), 16.5: (2_909_827, 17_590_672), 39.8: (234_950, 590_170),
    89.5: (10474, 11704), 17.9: (700, 3900), 4.7: (4479, 96000), 76.7: (92000, 120000), 8.3: (8000, 96000),
    27.9: (2_400_000, 8_600_000), 14.7: (2_592_874, 17_590_672), 25.4: (6400, 25150), 50.5: (48500, 96000),
    38.7: (2_400_000, 6_200_000), 35.7: (969, 2717), 12.0: (2_110_472, 17_590_672), 6.7: (5088, 75500),
    2.3: (2500, 108000), 24.6: (18593, 75500), 2.8: (2667, 96000),
    45.3: (4300, 9500), 2.2: (386_767, 17_590_672), 0.5: (4479, 903_399),
    26.4: (361_699, 1_369_873), 3.72: (654_019, 17_590_672), 2.83: (2717, 96000),
    4.82: (131, 2717),
}
RATES = {  # a rate with a tolerance -> (numerator, denominator, per): per 1.000 inhabitants, per day, per week
    5.91: (963, 162_898, 1000), 5.11: (611, 119_537, 1000), 5.59: (703, 125_767, 1000),
    0.966: (17000, 17_590_672, 1000), 77.14: (540, 7, 1), 1342.3: (69800, 52, 1),
    25.0: (50, 2, 1),  # half of "ten hoogste 50 procent" (Hw art. 14 lid 2), in procent
    3.97: (638, 160_640, 1000),  # Enschede's Spreidingswet places (news) per 1.000 of its inhabitants
    2979: (18750 + 17000, 12, 1),  # the 2024 taakstelling (both halves) per month
    5.46: (96000, 17_590_672, 1000),  # the Spreidingswet estimate per 1.000 inhabitants of the Netherlands
    4.93: (131, 26_571, 1000),  # Westerwolde's Spreidingswet places (news) per 1.000 of its inhabitants
    5816.7: (69800, 12, 1),  # the asylum applications forecast for 2024 per month
    5.99: (719, 119_986, 1000),  # Ede's Spreidingswet places (news) per 1.000 of its inhabitants
    5.5: (1988, 361_699, 1000),  # Utrecht's Spreidingswet places (news) per 1.000 of its inhabitants
    4.54: (2513, 553_417, 1000),  # Den Haag's Spreidingswet places (news) per 1.000 of its inhabitants
    2335: (28000, 12, 1),  # the net inflow of displaced Ukrainians expected in 2024 per month (2.333, tol 10)
    5.49: (717, 130_668, 1000),  # Zwolle's Spreidingswet places (news) per 1.000 of its inhabitants
}
RATIOS = {**{value: (num, den, 100) for value, (num, den) in SHARES.items()}, **RATES}  # value -> (num, den, per)


def _traceable() -> tuple[set[float], set[str]]:
    """Numbers and dates in the documents and tables, plus art. 29 values and their sums per region."""
    import csv
    import math

    from assistant.grounding import numbers_in_text

    numbers: set[float] = {342, 25}
    dates: set[str] = set()
    for f in (PROJECT_ROOT / "knowledge" / "documents").glob("*.md"):
        for m in numbers_in_text(f.read_text(encoding="utf-8")):
            if m.kind == "date" and m.date and not m.date.startswith("--"):
                dates.add(m.date)
            else:
                numbers.add(round(m.value, 6))
    # a date the document writes without its year ("15 april jl."), as the checked key-figure row reads it
    kerncijfers = PROJECT_ROOT / "db" / "kerncijfers.csv"
    dates.update(r["value_date"] for r in csv.DictReader(kerncijfers.open(encoding="utf-8")) if r["value_date"])
    for f in RAW.glob("*.csv"):
        for row in csv.reader(f.open(encoding="utf-8")):
            for cell in row:
                numbers.update(round(m.value, 6) for m in numbers_in_text(cell))
    rows = list(csv.DictReader((RAW / "minvws_dashboard_gemeenten_veiligheidsregio_bevolking.csv").open(encoding="utf-8")))
    prov = {r["gemeentecode"]: r["provincie"] for r in
            csv.DictReader((RAW / "regioviewer_gemeenten_provincie_2025.csv").open(encoding="utf-8"))}
    i_n = sum(int(r["population_count"]) for r in rows)
    assert i_n == 17_590_672
    numbers.add(i_n)
    regions: dict[str, list[dict]] = {}
    for r in rows:
        ts = {p: math.ceil(vg * int(r["population_count"]) / i_n) for p, vg in VG.items()}
        r["ts"] = ts
        numbers.update(ts.values())
        regions.setdefault("p:" + prov[r["gemeentecode"]], []).append(r)
        regions.setdefault("v:" + r["veiligheidsregio_naam"], []).append(r)
    for members in regions.values():
        numbers.add(len(members))
        numbers.add(sum(int(r["population_count"]) for r in members))
        for p in VG:
            numbers.add(sum(r["ts"][p] for r in members))
    numbers.update(DERIVED)
    return numbers, dates


def test_every_expected_number_and_date_traces_to_the_sources(cases):
    numbers, dates = _traceable()
    untraced = []
    for c in cases:
        for n in c.expect.numbers:
            if n.tol:
                num, den, per = RATIOS.get(n.value, (None, None, 100))
                stated = any(abs(v - n.value) <= n.tol for v in numbers)  # a percentage the source gives
                if not stated and (num is None or abs(per * num / den - n.value) > n.tol):
                    untraced.append((c.id, n.value))
            elif round(n.value, 6) not in numbers:
                untraced.append((c.id, n.value))
        untraced.extend((c.id, d) for d in c.expect.dates if d not in dates and d not in DERIVED_DATES)
    assert not untraced
