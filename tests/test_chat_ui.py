"""Rendering an Answer into the chat message: escaping, the panels, the chart (no browser needed)."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import render
from assistant.chat_ui import (
    CHART_MAX_ROWS, render_answer, render_question, stream_answer, strip_sources, text_blocks,
)
from assistant.models import Answer, Citation, Computation, Figure

# The tags and attributes our renderer may emit; nothing else may reach the page.
TAGS = {"div", "p", "strong", "ul", "ol", "li", "blockquote", "details", "summary", "span", "cite", "time",
        "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "figure", "figcaption"}
ATTRS = {"class", "lang", "open", "value", "datetime", "scope", "style", "start"}
HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src="http://evil.example/x.png" onerror="window.__pwned = 2">',
    "![x](http://evil.example/y.png)",
    "[klik](javascript:alert(1))",
    '"><svg onload=alert(1)>',
    "$$x^2$$ <iframe src=//evil.example>",
    "**vet** & <b>niet vet</b>\n\n    ingesprongen",
]


class Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Collector:
    c = Collector()
    c.feed(html)
    return c


def assert_safe(html: str) -> Collector:
    assert "\n" not in html  # one line: Gradio's Markdown pass treats it as one raw HTML block
    c = parse(html)
    assert set(c.tags) <= TAGS, set(c.tags) - TAGS
    assert {name for name, _ in c.attrs} <= ATTRS
    for name, value in c.attrs:
        if name == "style":
            assert value.startswith("width:") and value.endswith("%")
    return c


def hostile_answer(text: str) -> Answer:
    c = Citation(doc_id="x", title=f"Titel {text}", date="2024-04-25", section=f"Sectie {text}", quote=text,
                 note=text, page=3)
    f = Figure(label=f"Cijfer {text}", value=5, unit="plaatsen", period="2024-II", source=text, sql=text,
               formula=text, caveat=text, citation=c)
    comp = Computation(operation="sum", formula=text, inputs=[f], result=5, unit="plaatsen", period="2024-II")
    body = f"- {text} [1]\n1. {text}\n> {text}\n{text}"
    return Answer(question=text, answer=body + render.sources_block([c], "nl"), answered=True, kind="table",
                  figures=[f, f.model_copy(update={"value": 7})], computations=[comp], citations=[c],
                  chart=[(text, 5.0), ("b", 7.0)])


def test_hostile_text_everywhere_is_inert():
    for text in HOSTILE:
        html = render_answer(hostile_answer(text))
        c = assert_safe(html)
        joined = "".join(c.text)
        assert " ".join(text.split()) in joined  # shown to the reader as text
        assert "<script" not in html and "<img" not in html and "<iframe" not in html and "<svg" not in html
        assert_safe(render_question(text))
        assert " ".join(text.split()) in "".join(parse(render_question(text)).text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_renders_safely(text):
    html = render_answer(hostile_answer(text))
    assert_safe(html)
    assert_safe(render_question(text))


def rotterdam() -> Answer:
    law = Citation(doc_id="huisvestingswet_2014_versie_2015-10-12", title="Huisvestingswet 2014", date="2015-10-12",
                   section="Hoofdstuk 5 › § 1 › Artikel 29",
                   quote="De taakstelling<sup>1</sup>, bedoeld in **artikel 28**",
                   doc_type="wet", note="wettekst, versie 2015-10-12")
    vg = Figure(label="taakstelling landelijk", value=17000, unit="vergunninghouders", period="2024-II",
                source="taakstelling_landelijk[2024-II]")
    result = Figure(label="taakstelling Rotterdam", value=634, unit="vergunninghouders", period="2024-II",
                    computed=True, official=False, source="taakstelling_gemeente[GM0599, 2024-II]",
                    sql="SELECT * FROM taakstelling_gemeente WHERE gemeente = :naam", citation=law,
                    caveat="Berekend, niet officieel.")
    comp = Computation(operation="art29", formula="ceil(vg × iG / iN) = ceil(17000 × 655468 / 17590672)",
                       inputs=[vg], result=634, unit="vergunninghouders", period="2024-II")
    text = "- Rotterdam: **634 vergunninghouders** in 2024-II [1]\nBerekend, niet officieel."
    return Answer(question="Wat is de taakstelling van Rotterdam in 2024-II?",
                  answer=text + render.sources_block([law], "nl"), answered=True, kind="table",
                  figures=[result], computations=[comp], citations=[law])


def test_answer_text_panels_and_order():
    html = render_answer(rotterdam())
    assert_safe(html)
    assert html.index("<strong>634 vergunninghouders</strong>") < html.index("Bronnen (1)") \
        < html.index("Gebruikte cijfers (2)") < html.index("Hoe berekend?")
    assert "**Bronnen**" not in html  # the engine's own block is replaced by the panel
    assert '<details class="oa-panel oa-sources" open>' in html  # sources open, the rest folded
    assert "<cite>Huisvestingswet 2014</cite>" in html and '<time datetime="2015-10-12">12 oktober 2015</time>' in html
    assert "De taakstelling, bedoeld in artikel 28" in html  # footnote marker and ** removed from the quote
    assert "(wettekst, versie 12 oktober 2015)" in html
    assert "berekend, niet officieel" in html and "uit de bron; invoer van de berekening" in html
    assert "ceil(vg × iG / iN) = ceil(17000 × 655468 / 17590672)" in html
    assert "SELECT * FROM taakstelling_gemeente WHERE gemeente = :naam" in html
    assert "oa-answered" in html and "oa-kind-table" in html and 'lang="nl"' in html


def test_english_answer_has_english_panels():
    a = rotterdam().model_copy(update={"language": "en"})
    a.answer = strip_sources(rotterdam()) + render.sources_block(a.citations, "en")
    html = render_answer(a)
    assert "Sources (1)" in html and "Figures used" in html and "How was this computed?" in html
    assert "**Sources**" not in html and 'lang="en"' in html


def test_no_answer_state():
    a = Answer(question="Hoeveel kost koffie?", answer="Dit staat niet in de bronnen die ik heb.\nWel beschikbaar: x.",
               kind="abstain")
    html = render_answer(a)
    assert '<div class="oa-noanswer">' in html and "Niet gevonden in de bronnen" in html
    assert "oa-unanswered" in html and "Bronnen" not in html
    en = render_answer(a.model_copy(update={"language": "en"}))
    assert "Not in the sources" in en
    error = render_answer(Answer(question="", answer="Stel een vraag.", kind="error"))
    assert "oa-notice" in error and "oa-noanswer" not in error


def test_chart_only_when_places_are_compared():
    a = rotterdam()
    assert "oa-chart" not in render_answer(a)
    a.chart = [("Amsterdam", 874.0), ("Rotterdam", 634.0), ("Utrecht", 350.0)]
    html = render_answer(a)
    assert 'style="width:100.0%"' in html and 'style="width:72.5%"' in html
    assert "<th scope=\"row\">Amsterdam</th>" in html and ">874<" in html
    assert "Grafiek: vergunninghouders, 2024-II (tweede helft 2024)" in html
    a.chart = [(f"gemeente {i}", float(400 - i)) for i in range(342)]
    html = render_answer(a)
    assert html.count('class="oa-bar"') == CHART_MAX_ROWS and f"De eerste {CHART_MAX_ROWS} van 342 getoond." in html


def test_text_blocks():
    blocks = text_blocks("**Kop**\n1. een\n2. twee\n- a\n- b\n> citaat [1]\n\ntekst & meer\n3. drie")
    assert blocks == [
        "<p><strong>Kop</strong></p>", "<ol><li>een</li><li>twee</li></ol>", "<ul><li>a</li><li>b</li></ul>",
        "<blockquote><p>citaat [1]</p></blockquote>", "<p>tekst &amp; meer</p>", '<ol start="3"><li>drie</li></ol>',
    ]


def test_strip_sources_falls_back_on_the_heading():
    a = rotterdam()
    assert strip_sources(a).endswith("Berekend, niet officieel.")
    a.answer = "tekst\n\n**Bronnen**\n[1] iets anders opgemaakt"
    assert strip_sources(a) == "tekst"


def test_streaming_grows_to_the_final_message():
    parts = list(stream_answer(rotterdam()))
    assert len(parts) == 2  # two text blocks: one partial, then the whole message
    assert "Rotterdam" in parts[0] and "Bronnen" not in parts[0]
    assert parts[-1] == render_answer(rotterdam())
