"""The Gradio chat: an `Answer` rendered as one chat message, and the Blocks around it.

Everything that comes from a document, the database or the asker is HTML-escaped here and emitted
as one line of HTML, which Gradio's Markdown pass leaves alone: no document or question can add a
script, a link or an image (an image would also make the browser reach outside the intranet).
Gradio's own sanitizer runs after this, as a second line of defence.
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import gradio as gr

from . import render
from .config import PROJECT_ROOT
from .models import Answer, Computation, Figure

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Conversation
    from .web import Service

log = logging.getLogger(__name__)

LANGUAGES = ("nl", "en")
CHART_MAX_ROWS = 25
CSS_PATH = PROJECT_ROOT / "ui" / "static" / "chat.css"
BLUE = "#154273"  # Rijkshuisstijl donkerblauw: 10:1 against white

UI = {
    "nl": {
        "title": "Opgave-assistent",
        "intro": "Vragen over asielopvang, de taakstelling huisvesting statushouders en de opvang van "
                 "Oekraïense ontheemden. Elk antwoord komt uit de bronnen, met bronvermelding.",
        "language": "Taal / Language",
        "chat": "Gesprek",
        "empty_chat": "Stel hieronder uw vraag, of kies een voorbeeldvraag.",
        "question": "Uw vraag",
        "question_hint": "Bijvoorbeeld: Wat is de taakstelling van Rotterdam in 2024-II?",
        "ask": "Vraag stellen",
        "reset": "Nieuw gesprek",
        "examples": "Voorbeeldvragen",
        "pending": "Ik zoek het antwoord in de bronnen…",
        "rate_limited": "U stelt veel vragen kort na elkaar. Probeer het over {seconds} seconden opnieuw.",
        "error": "Er ging iets mis bij het beantwoorden van deze vraag. Probeer het opnieuw of stel de vraag anders.",
        "footer": "Antwoorden komen alleen uit de opgenomen bronnen; berekende cijfers (art. 29 Huisvestingswet) "
                  "zijn niet officieel. Vragen worden zonder persoonsgegevens vastgelegd: zet geen namen of "
                  "andere persoonsgegevens in uw vraag.",
    },
    "en": {
        "title": "Opgave-assistent",
        "intro": "Questions about asylum reception, the housing quota for status holders and the reception of "
                 "displaced Ukrainians. Every answer comes from the sources, with citations.",
        "language": "Taal / Language",
        "chat": "Conversation",
        "empty_chat": "Ask your question below, or pick an example question.",
        "question": "Your question",
        "question_hint": "For example: What is the housing quota of Rotterdam in 2024-II?",
        "ask": "Ask",
        "reset": "New conversation",
        "examples": "Example questions",
        "pending": "Looking for the answer in the sources…",
        "rate_limited": "You are asking many questions in a short time. Please try again in {seconds} seconds.",
        "error": "Something went wrong while answering this question. Please try again or rephrase it.",
        "footer": "Answers come only from the included sources; computed figures (art. 29 Huisvestingswet) are "
                  "not official. Questions are logged without personal data: do not put names or other "
                  "personal data in your question.",
    },
}

EXAMPLES = {
    "nl": [
        "Wat is de taakstelling van Rotterdam in 2024-II?",
        "Wat is de taakstelling per provincie in 2024-II?",
        "Welke 10 gemeenten hebben de hoogste taakstelling in 2024-II?",
        "Hoeveel opvangplaatsen zijn er nodig volgens de capaciteitsraming?",
        "Hoeveel Oekraïense ontheemden worden er opgevangen?",
    ],
    "en": [
        "What is the housing quota of Rotterdam in 2024-II?",
        "What is the housing quota per province in 2024-II?",
        "Which 10 municipalities have the highest housing quota in 2024-II?",
        "How many reception places are needed according to the capacity estimate?",
        "How many displaced Ukrainians are received?",
    ],
}

PANEL = {
    "nl": {
        "no_answer": "Niet gevonden in de bronnen",
        "notice": "Geen antwoord",
        "sources": "Bronnen",
        "figures": "Gebruikte cijfers",
        "how": "Hoe berekend?",
        "chart": "Grafiek",
        "figure": "Cijfer", "value": "Waarde", "period": "Periode", "source": "Bron", "status": "Status",
        "computed": "berekend", "not_official": "niet officieel", "official": "officieel",
        "published": "uit de bron", "input": "invoer van de berekening",
        "formula": "Formule", "inputs": "Invoer", "result": "Uitkomst", "query": "SQL-query op de cijferdatabase",
        "top": "De eerste {shown} van {total} getoond.", "page": "p.",
    },
    "en": {
        "no_answer": "Not in the sources",
        "notice": "No answer",
        "sources": "Sources",
        "figures": "Figures used",
        "how": "How was this computed?",
        "chart": "Chart",
        "figure": "Figure", "value": "Value", "period": "Period", "source": "Source", "status": "Status",
        "computed": "computed", "not_official": "not official", "official": "official",
        "published": "from the source", "input": "input of the computation",
        "formula": "Formula", "inputs": "Inputs", "result": "Result", "query": "SQL query on the figures database",
        "top": "The first {shown} of {total} shown.", "page": "p.",
    },
}


def lang_of(value: str | None) -> str:
    return value if value in LANGUAGES else "nl"


# --- escaping and the answer text ------------------------------------------------------------


def esc(text: object) -> str:
    """HTML-escape, and turn newlines into spaces so the HTML stays on one line (see module doc)."""
    return html.escape(" ".join(str(text).split()), quote=True)


def inline(text: str) -> str:
    """Escaped text with the engine's **bold** kept."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc(text))


def strip_sources(answer: Answer) -> str:
    """The answer text without the engine's sources block: the Bronnen panel shows it in full."""
    text = answer.answer or ""
    block = render.sources_block(answer.citations, answer.language) if answer.citations else ""
    if block and text.endswith(block):
        return text[: -len(block)]
    return re.split(r"\n\n\*\*(?:Bronnen|Sources)\*\*\n", text, maxsplit=1)[0]


def text_blocks(markdown: str) -> list[str]:
    """The engine's small Markdown (lines, - and 1. lists, > quotes, **bold**) as HTML blocks."""
    blocks: list[str] = []
    items: list[str] = []
    kind = ""
    start = 1

    def close():
        nonlocal items, kind
        if items:
            attrs = f' start="{start}"' if kind == "ol" and start != 1 else ""
            blocks.append(f"<{kind}{attrs}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{kind}>")
        items, kind = [], ""

    for line in markdown.split("\n"):
        s = line.strip()
        bullet = re.match(r"[-*] (.*)", s)
        number = re.match(r"(\d+)\. (.*)", s)
        if bullet or number:
            new_kind = "ul" if bullet else "ol"
            if kind != new_kind:
                close()
                kind = new_kind
                start = int(number.group(1)) if number else 1
            items.append(inline((bullet or number).group(1 if bullet else 2)))
            continue
        close()
        if not s:
            continue
        if s.startswith(">"):
            blocks.append(f"<blockquote><p>{inline(s.lstrip('> '))}</p></blockquote>")
        else:
            blocks.append(f"<p>{inline(s)}</p>")
    close()
    return blocks


def clean_quote(quote: str) -> str:
    """A quote as the reader should see it: no footnote markers, no Markdown emphasis."""
    return re.sub(r"<sup>.*?</sup>", "", quote or "").replace("**", "")


# --- the panels -------------------------------------------------------------------------------


def sources_panel(answer: Answer, t: dict) -> str:
    if not answer.citations:
        return ""
    items = []
    for i, c in enumerate(answer.citations, start=1):
        where = esc(c.section) + (f", {t['page']} {c.page}" if c.page else "")
        note = render.note(c.note, answer.language) if c.doc_type != "tabel" else None
        items.append(
            f'<li value="{i}"><span class="oa-src-ref">[{i}]</span> <cite>{esc(c.title)}</cite>, '
            f'<time datetime="{esc(c.date)}">{esc(render.date(c.date, answer.language))}</time>, '
            f'<span class="oa-src-section">{where}</span>'
            + (f' <span class="oa-src-note">({esc(note)})</span>' if note else "")
            + f"<blockquote>{esc(clean_quote(c.quote))}</blockquote></li>"
        )
    return (f'<details class="oa-panel oa-sources" open><summary>{t["sources"]} ({len(items)})</summary>'
            f'<ol class="oa-source-list">{"".join(items)}</ol></details>')


def figures_used(answer: Answer) -> list[tuple[Figure, bool]]:
    """Shown figures first, then computation inputs not shown; the flag marks an input."""
    seen, out = set(), []
    for f, is_input in [*((f, False) for f in answer.figures),
                        *((i, True) for c in answer.computations for i in c.inputs)]:
        key = (f.label, f.value, f.value_date, f.period, f.source)
        if key not in seen:
            seen.add(key)
            out.append((f, is_input))
    return out


def value_text(f: Figure, lang: str) -> str:
    return render.figure_value(f, lang).replace("**", "")


def status_text(f: Figure, is_input: bool, t: dict) -> str:
    if f.official:
        status = t["official"]
    elif f.computed:
        status = f"{t['computed']}, {t['not_official']}"
    else:
        status = t["published"]
    return f"{status}; {t['input']}" if is_input else status


def figures_panel(answer: Answer, t: dict) -> str:
    rows = figures_used(answer)
    if not rows:
        return ""
    lang = answer.language
    body = "".join(
        f"<tr><th scope=\"row\">{esc(f.label)}</th><td>{esc(value_text(f, lang))}</td>"
        f"<td>{esc(render.period(f.period, lang) if f.period else '')}</td>"
        f"<td><code>{esc(f.source or '')}</code></td><td>{esc(status_text(f, is_input, t))}</td></tr>"
        for f, is_input in rows
    )
    caveats = sorted({f.caveat for f, _ in rows if f.caveat})
    notes = "".join(f'<p class="oa-caveat">{esc(c)}</p>' for c in caveats)
    head = "".join(f'<th scope="col">{t[k]}</th>' for k in ("figure", "value", "period", "source", "status"))
    return (f'<details class="oa-panel oa-figures"><summary>{t["figures"]} ({len(rows)})</summary>'
            f'<div class="oa-table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
            f"{notes}</details>")


def computation_html(c: Computation, lang: str, t: dict) -> str:
    inputs = "".join(
        f"<li>{esc(i.label)}: {esc(value_text(i, lang))}" + (f" (<code>{esc(i.source)}</code>)" if i.source else "")
        + "</li>" for i in c.inputs
    )
    result = (esc(render.date(c.result_date, lang)) if c.result_date else  # a day moved by a span
              f"{esc(render.number(c.result, lang))} {esc(render.unit(c.unit, lang))} ({esc(render.period(c.period, lang))})")
    return (f'<div class="oa-computation"><p><strong>{t["formula"]}:</strong> <code>{esc(c.formula)}</code></p>'
            f"<p><strong>{t['inputs']}:</strong></p><ul>{inputs}</ul>"
            f"<p><strong>{t['result']}:</strong> {result}</p></div>")


def how_panel(answer: Answer, t: dict) -> str:
    parts = [computation_html(c, answer.language, t) for c in answer.computations]
    formulas = {c.formula for c in answer.computations}
    for f in answer.figures:
        if f.formula and f.formula not in formulas:
            formulas.add(f.formula)
            parts.append(f'<p><strong>{t["formula"]}:</strong> <code>{esc(f.formula)}</code></p>')
    queries = list(dict.fromkeys(f.sql for f, _ in figures_used(answer) if f.sql))
    parts += [f'<p><strong>{t["query"]}:</strong></p><pre><code>{esc(q)}</code></pre>' for q in queries]
    if not parts:
        return ""
    return f'<details class="oa-panel oa-how"><summary>{t["how"]}</summary>{"".join(parts)}</details>'


def chart_html(answer: Answer, t: dict) -> str:
    """A bar chart as a table, so a screen reader reads labels and numbers, not a picture."""
    data = [(label, value) for label, value in (answer.chart or []) if value is not None]
    if len(data) < 2:
        return ""
    lang = answer.language
    shown = data[:CHART_MAX_ROWS]
    top = max(abs(v) for _, v in shown) or 1
    first = answer.figures[0] if answer.figures else None
    caption = t["chart"]
    if first is not None:
        caption += f": {render.unit(first.unit, lang)}"
        caption += f", {render.period(first.period, lang)}" if first.period else ""
    rows = "".join(
        f'<tr><th scope="row">{esc(label)}</th><td class="oa-bar-cell"><span class="oa-bar" '
        f'style="width:{max(1.0, abs(value) / top * 100):.1f}%"></span></td>'
        f'<td class="oa-num">{esc(render.number(value, lang))}</td></tr>'
        for label, value in shown
    )
    more = ""
    if len(data) > len(shown):
        more = f'<p class="oa-caveat">{t["top"].format(shown=len(shown), total=len(data))}</p>'
    return f'<figure class="oa-chart"><figcaption>{esc(caption)}</figcaption><table>{rows}</table>{more}</figure>'


def render_answer(answer: Answer, body_blocks: int | None = None) -> str:
    """The whole chat message for an answer; `body_blocks` cuts the text short while streaming."""
    lang = lang_of(answer.language)
    t = PANEL[lang]
    blocks = text_blocks(strip_sources(answer))
    if body_blocks is not None:
        return f'<div class="oa-answer" lang="{lang}">{"".join(blocks[:body_blocks])}</div>'
    body = "".join(blocks)
    if not answer.answered and answer.kind == "abstain":
        body = (f'<div class="oa-noanswer"><p class="oa-state-title"><strong>{t["no_answer"]}</strong></p>'
                f"{body}</div>")
    elif not answer.answered and answer.kind == "error":
        body = f'<div class="oa-notice"><p class="oa-state-title"><strong>{t["notice"]}</strong></p>{body}</div>'
    panels = chart_html(answer, t) + sources_panel(answer, t) + figures_panel(answer, t) + how_panel(answer, t)
    kind = re.sub(r"[^a-z]", "", answer.kind or "none")
    state = "oa-answered" if answer.answered else "oa-unanswered"
    return f'<div class="oa-answer oa-final oa-kind-{kind} {state}" lang="{lang}">{body}{panels}</div>'


def render_question(question: str) -> str:
    return f'<div class="oa-question">{esc(question)}</div>'


def render_notice(text: str, lang: str) -> str:
    return (f'<div class="oa-answer oa-final oa-kind-notice" lang="{lang}">'
            f'<div class="oa-notice"><p>{esc(text)}</p></div></div>')


def stream_answer(answer: Answer) -> Iterator[str]:
    """The message as it grows: the text block by block, then with its panels."""
    n = len(text_blocks(strip_sources(answer)))
    for i in range(1, n):
        yield render_answer(answer, body_blocks=i)
    yield render_answer(answer)


# --- the Blocks -----------------------------------------------------------------------------


@dataclass
class ChatSession:
    """One browser tab's conversation: the engine's context and the rendered messages."""

    conversation: "Conversation"
    messages: list[dict] = field(default_factory=list)


def header_html(lang: str, embedded: bool = False, ready: bool = False) -> str:
    """The page header; `ready` marks the one sent after page load (the page is then fully wired)."""
    t = UI[lang]
    cls = "oa-header" + (" oa-embedded" if embedded else "") + (" oa-ready" if ready else "")
    return f'<header class="{cls}"><h1>{t["title"]}</h1><p>{t["intro"]}</p></header>'


def footer_html(lang: str) -> str:
    return f'<p class="oa-footer">{UI[lang]["footer"]}</p>'


def theme() -> gr.themes.Base:
    """Gradio's default theme with its bundled (local) fonts and AA contrast for buttons and links."""
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate").set(
        button_primary_background_fill=BLUE, button_primary_background_fill_hover="#0f3257",
        button_primary_text_color="#ffffff", button_primary_border_color=BLUE,
        button_primary_background_fill_dark="#8fb8e8", button_primary_text_color_dark="#0b1a2b",
        button_secondary_text_color="#1f2937", body_text_color_subdued="#4b5563",
        link_text_color=BLUE, link_text_color_visited="#3b2a6b", color_accent=BLUE,
        input_placeholder_color="#5b6472",
    )


# The page's lang attribute follows the chosen language, for screen readers' pronunciation;
# ?embed=1 marks the page for the smaller widget layout (chat.css); a new answer is shown from its
# question down rather than scrolled to its end (Gradio's autoscroll is off). A plain
# script in <head>, not Gradio's `js=` hooks: those are eval'ed, which our CSP forbids (as is gr.HTML,
# whose template is eval'ed too; gr.Markdown is used for our static HTML instead).
LANG_SCRIPT = """<script>
(() => {
  const params = new URLSearchParams(location.search);
  document.documentElement.lang = params.get("lang") === "en" ? "en" : "nl";
  if (["1", "true", "yes"].includes(params.get("embed"))) document.documentElement.classList.add("oa-embed");
  // When an answer is complete, show it from its question down (not the end of its sources).
  let questions = 0, finals = 0;
  new MutationObserver(() => {
    const log = document.querySelector("#oa-chat [role=log]");
    const q = log ? log.querySelectorAll(".oa-question").length : 0;
    const f = log ? log.querySelectorAll(".oa-final").length : 0;
    if (q === questions && f === finals) return;
    questions = q; finals = f;
    if (!q) return;
    const last = log.querySelectorAll(".oa-question")[q - 1];
    const row = last.closest(".message-row") || last;
    let box = row.parentElement;
    while (box && !(box.scrollHeight > box.clientHeight && /auto|scroll/.test(getComputedStyle(box).overflowY))) {
      box = box.parentElement;
    }
    if (box && box !== document.documentElement && box !== document.body) {
      box.scrollTop += row.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    }
  }).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input && input.type === "radio" && input.closest("#oa-lang")) {
      const label = input.closest("label");
      document.documentElement.lang = label && /English/.test(label.textContent) ? "en" : "nl";
    }
  }, true);
})();
</script>"""


def head_html() -> str:
    return ('<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">'
            '<meta name="description" content="Opgave-assistent: vragen over asielopvang, taakstelling '
            'statushouders en opvang Oekraïners, beantwoord uit de bronnen.">' + LANG_SCRIPT)


def build_ui(service: "Service") -> gr.Blocks:
    """The chat page; `service` answers (one at a time), rate-limits and writes the audit log."""

    def client_key(request: gr.Request | None) -> str:
        client = getattr(request, "client", None)
        return getattr(client, "host", None) or "unknown"

    def respond(question: str | None, session: ChatSession | None, lang: str, request: gr.Request):
        from .web import utf8

        lang = lang_of(lang)
        question = " ".join(utf8(question or "").split())
        if session is None:
            session = ChatSession(service.assistant.conversation())
        if not question:
            yield "", session.messages, session
            return
        messages = [*session.messages, {"role": "user", "content": render_question(question)}]
        wait = service.limiter.hit(client_key(request))
        if wait:
            notice = render_notice(UI[lang]["rate_limited"].format(seconds=math.ceil(wait)), lang)
            session.messages = [*messages, {"role": "assistant", "content": notice}]
            yield "", session.messages, session
            return
        pending = f'<div class="oa-answer"><p class="oa-pending">{UI[lang]["pending"]}</p></div>'
        yield "", [*messages, {"role": "assistant", "content": pending}], session
        try:
            answer = service.ask_conversation(session.conversation, question, channel="chat")
        except Exception:  # the engine failed: say so, keep the conversation usable
            log.exception("chat answer failed")
            session.messages = [*messages, {"role": "assistant", "content": render_notice(UI[lang]["error"], lang)}]
            yield "", session.messages, session
            return
        for partial in stream_answer(answer):
            session.messages = [*messages, {"role": "assistant", "content": partial}]
            yield "", session.messages, session

    def reset():
        return "", [], None

    def relabel(lang: str, embedded: bool = False):
        lang = lang_of(lang)
        t = UI[lang]
        return [
            header_html(lang, bool(embedded), ready=True),
            gr.update(label=t["chat"], placeholder=t["empty_chat"]),
            gr.update(label=t["question"], placeholder=t["question_hint"]),
            gr.update(value=t["ask"]),
            gr.update(value=t["reset"]),
            f'<h2 class="oa-examples-title">{t["examples"]}</h2>',
            *[gr.update(value=q) for q in EXAMPLES[lang]],
            footer_html(lang),
        ]

    def on_load(request: gr.Request):
        """?lang=en picks English; ?embed=1 is the intranet widget (a smaller header)."""
        params = getattr(request, "query_params", {}) or {}
        lang = lang_of(params.get("lang"))
        embedded = params.get("embed") in {"1", "true", "yes"}
        return [lang, embedded, *relabel(lang, embedded)]

    t = UI["nl"]
    with gr.Blocks(title="Opgave-assistent", analytics_enabled=False, fill_width=False) as demo:
        session = gr.State(None)
        embedded = gr.State(False)
        with gr.Row(elem_classes="oa-top"):
            header = gr.Markdown(header_html("nl"), elem_id="oa-header")
            lang = gr.Radio([("Nederlands", "nl"), ("English", "en")], value="nl", label=t["language"],
                            elem_id="oa-lang", scale=0, min_width=220)
        chatbot = gr.Chatbot(
            label=t["chat"], elem_id="oa-chat", height="68vh", min_height=420, placeholder=t["empty_chat"],
            buttons=[],  # Gradio's copy button would copy our HTML, not the text
            feedback_options=None, layout="panel", group_consecutive_messages=False,
            autoscroll=False,  # the head script scrolls to the start of a new answer
            sanitize_html=True, allow_tags=False, latex_delimiters=[],  # our HTML only, no KaTeX on quotes
        )
        with gr.Row(equal_height=True, elem_id="oa-input-row"):
            question = gr.Textbox(label=t["question"], placeholder=t["question_hint"], elem_id="oa-question",
                                  lines=1, max_lines=4, max_length=2000, scale=5, autofocus=False, submit_btn=False)
            ask = gr.Button(t["ask"], variant="primary", elem_id="oa-ask", scale=1, min_width=140)
            reset_btn = gr.Button(t["reset"], variant="secondary", elem_id="oa-reset", scale=1, min_width=140)
        examples_title = gr.Markdown(f'<h2 class="oa-examples-title">{t["examples"]}</h2>')
        with gr.Row(elem_id="oa-examples"):
            example_buttons = [gr.Button(q, size="sm", variant="secondary", elem_classes="oa-example")
                               for q in EXAMPLES["nl"]]
        footer = gr.Markdown(footer_html("nl"))

        outputs = [question, chatbot, session]
        chat_args = dict(outputs=outputs, show_progress="hidden", api_visibility="private")
        question.submit(respond, inputs=[question, session, lang], **chat_args)
        ask.click(respond, inputs=[question, session, lang], **chat_args)
        for button in example_buttons:
            button.click(respond, inputs=[button, session, lang], **chat_args)
        reset_btn.click(reset, outputs=outputs, api_visibility="private")
        chatbot.clear(reset, outputs=outputs, api_visibility="private")
        labelled = [header, chatbot, question, ask, reset_btn, examples_title, *example_buttons, footer]
        lang.change(relabel, inputs=[lang, embedded], outputs=labelled, api_visibility="private")
        demo.load(on_load, outputs=[lang, embedded, *labelled], api_visibility="private")
    demo.queue(default_concurrency_limit=4, max_size=64)
    return demo
