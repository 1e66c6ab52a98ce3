"""The chat and the intranet widget in a real browser: Debian's headless Chromium driven by Playwright,
against `assistant serve` started by the test. Every page must stay on our server (no CDN, no
analytics), keep a CSP without violations, and log no errors. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from assistant.models import Answer, Citation, Figure

from live_server import art29, serve_in_thread, serve_subprocess

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"
ROTTERDAM = "Wat is de taakstelling van Rotterdam in 2024-II?"
NO_ANSWER = "Hoeveel kost een kop koffie in Parijs?"
ANSWER_TIMEOUT_MS = 90_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    # Gradio's queue calls pandas APIs that pandas 3 deprecates: not ours to fix
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword is deprecated"),
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"Debian chromium is not installed at {CHROMIUM} (run .ci/install-browser.sh)"),
]

# Collects Content-Security-Policy violations: an attempt to load from outside or to eval shows here.
CSP_WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture(scope="module")
def server(indexed, tmp_path_factory):
    env = {"ASSISTANT_DB": str(indexed.db_path), "ASSISTANT_RATE_LIMIT": "off",
           "ASSISTANT_AUDIT_DB": str(tmp_path_factory.mktemp("audit") / "audit.db")}
    with serve_subprocess(env, tmp_path_factory.mktemp("log") / "serve.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh tab that records every request and error; checked when the test ends."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="nl-NL")
    context.add_init_script(CSP_WATCH)
    requests, errors = [], []
    context.on("request", lambda r: requests.append(r.url))
    tab = context.new_page()
    tab.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    tab.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
    yield tab
    violations = [v for frame in tab.frames for v in (frame.evaluate("window.__csp || []"))]
    context.close()
    assert requests, "the page made no requests at all"
    outside = sorted({u for u in requests if not u.startswith(("http://127.0.0.1:", "data:", "blob:"))})
    assert outside == [], f"requests that left the server: {outside}"
    assert violations == []
    assert errors == []


def open_chat(page, url: str, query: str = ""):
    page.goto(f"{url}/chat/{query}")
    page.locator(".oa-header.oa-ready").wait_for()  # the page-load event has run
    return page


def ask(frame, question: str, n: int, label: str = "Uw vraag", button: str = "Vraag stellen"):
    """Type a question, press the button, and return the n-th (0-based) finished answer."""
    frame.get_by_label(label, exact=True).fill(question)
    frame.get_by_role("button", name=button, exact=True).click()
    answer = frame.locator(".oa-final").nth(n)
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    return answer


def shot(page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_figure_question_shows_the_number_and_its_source(page, server, sql):
    open_chat(page, server)
    answer = ask(page, ROTTERDAM, 0)
    expected = art29(sql, "Rotterdam", "2024-II")
    text = answer.inner_text()
    assert f"{expected} vergunninghouders" in text and "[1]" in text
    sources = answer.locator("details.oa-sources")
    assert sources.is_visible() and sources.get_attribute("open") is not None
    assert "Huisvestingswet 2014" in sources.inner_text() and "Artikel 29" in sources.inner_text()
    assert "[1]" in sources.inner_text()
    assert answer.get_by_text(f"{expected} vergunninghouders").first.is_visible()  # in view, not scrolled past
    shot(page, "chat_figure")
    # The folded panels open from the keyboard.
    figures = answer.locator("details.oa-figures")
    figures.locator("summary").focus()
    page.keyboard.press("Enter")
    table = figures.locator("table")
    table.wait_for()
    assert f"{expected} vergunninghouders" in table.inner_text()
    assert "berekend, niet officieel" in table.inner_text()
    how = answer.locator("details.oa-how")
    how.locator("summary").focus()
    page.keyboard.press("Space")
    assert "ceil(vg × iG / iN)" in how.inner_text() and "SELECT" in how.inner_text()
    shot(page, "chat_figure_panels")


def test_no_answer_in_the_sources(page, server):
    open_chat(page, server)
    answer = ask(page, NO_ANSWER, 0)
    box = answer.locator(".oa-noanswer")
    assert box.is_visible()
    assert "Niet gevonden in de bronnen" in box.inner_text()
    assert "Dit staat niet in de bronnen" in box.inner_text()
    assert answer.locator("details.oa-sources").count() == 0
    shot(page, "chat_no_answer")


def test_example_question_shows_a_chart(page, server, sql):
    open_chat(page, server)
    page.get_by_role("button", name="Welke 10 gemeenten hebben de hoogste taakstelling in 2024-II?").click()
    answer = page.locator(".oa-final").first
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    rows = answer.locator(".oa-chart tr")
    assert rows.count() == 10
    top = sql.query("SELECT gemeente, value FROM taakstelling_gemeente WHERE period = '2024-II' "
                    "ORDER BY value DESC, gemeente LIMIT 1").rows[0]
    assert rows.first.locator("th").inner_text() == top[0]
    assert rows.first.locator(".oa-num").inner_text() == str(top[1])
    widths = [rows.nth(i).locator(".oa-bar").evaluate("e => e.getBoundingClientRect().width") for i in range(10)]
    assert widths == sorted(widths, reverse=True) and widths[-1] > 0
    shot(page, "chat_chart")


def test_follow_up_then_reset(page, server, sql):
    open_chat(page, server)
    ask(page, ROTTERDAM, 0)
    second = ask(page, "En die van Maastricht?", 1)
    assert "Maastricht" in second.inner_text()
    assert str(art29(sql, "Maastricht", "2024-II")) in second.inner_text()
    page.get_by_role("button", name="Nieuw gesprek").click()
    page.locator(".oa-final").first.wait_for(state="detached")
    assert page.get_by_text("Stel hieronder uw vraag, of kies een voorbeeldvraag.").is_visible()
    assert page.get_by_label("Uw vraag", exact=True).input_value() == ""
    # Gradio's own "clear conversation" icon resets the conversation too
    ask(page, ROTTERDAM, 0)
    page.locator("#oa-chat .top-panel button").first.click()
    page.locator(".oa-final").first.wait_for(state="detached")
    assert "Rotterdam" not in page.locator("#oa-chat").inner_text()


def test_keyboard_only(page, server):
    open_chat(page, server)
    box = page.get_by_label("Uw vraag", exact=True)
    box.focus()
    page.keyboard.type(ROTTERDAM)
    page.keyboard.press("Enter")
    page.locator(".oa-final").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    box.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Vraag stellen"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Nieuw gesprek"
    page.keyboard.press("Enter")  # the reset button works from the keyboard too
    page.locator(".oa-final").first.wait_for(state="detached")


def test_english_interface(page, server):
    open_chat(page, server)
    assert page.evaluate("document.documentElement.lang") == "nl"
    page.get_by_label("English").check()
    page.get_by_label("Your question", exact=True).wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"
    answer = ask(page, "What is the housing quota of Rotterdam in 2024-II?", 0, label="Your question", button="Ask")
    assert "634 status holders" in answer.inner_text()
    assert "Sources (" in answer.locator("details.oa-sources summary").inner_text()
    shot(page, "chat_english")
    # ?lang=en opens the page in English directly
    open_chat(page, server, "?lang=en")
    page.get_by_label("Your question", exact=True).wait_for()
    assert page.get_by_role("heading", name="Example questions").is_visible()
    assert page.evaluate("document.documentElement.lang") == "en"


def test_accessibility_no_serious_violations(page, server):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright",
                                     reason="axe-playwright-python is not installed")
    open_chat(page, server)
    ask(page, ROTTERDAM, 0)
    ask(page, NO_ANSWER, 1)
    page.get_by_role("button", name="Wat is de taakstelling per provincie in 2024-II?").click()
    page.locator(".oa-final").nth(2).wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    results = axe_module.Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
    assert serious == [], results.generate_report()
    assert page.get_by_role("heading", level=1, name="Opgave-assistent").is_visible()
    assert page.get_by_role("log").count() == 1  # the conversation is a live region


def test_embed_page_answers_through_the_widget(page, server, sql):
    page.goto(f"{server}/embed/")
    assert page.get_by_role("heading", level=1).inner_text() == "Asielopvang, statushouders en opvang Oekraïners"
    iframe = page.locator("iframe.assistant-frame")
    assert iframe.get_attribute("title").startswith("Opgave-assistent")
    frame = page.frame_locator("iframe.assistant-frame")
    frame.locator(".oa-header.oa-ready").wait_for(timeout=60_000)
    answer = ask(frame, ROTTERDAM, 0)
    assert f"{art29(sql, 'Rotterdam', '2024-II')} vergunninghouders" in answer.inner_text()
    assert "Huisvestingswet 2014" in answer.locator("details.oa-sources").inner_text()
    # the widget uses the compact layout
    assert page.frames[1].evaluate("document.documentElement.classList.contains('oa-embed')")
    assert page.get_by_role("link", name="Open de Opgave-assistent in een nieuw venster").get_attribute("href") == "/chat/"
    shot(page, "embed_widget")
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:  # the accessibility test says so when it skips
        return
    results = Axe().run(page)  # the intranet page and, through the frame, the chat
    assert [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}] == [], \
        results.generate_report()


class HostileAssistant:
    """A stand-in whose sources try to inject markup, to prove nothing from a document runs."""

    PAYLOAD = ('<img src="http://evil.example/pixel.png" onerror="window.__pwned=1">'
               '<script>window.__pwned=2</script>![x](http://evil.example/y.png)')

    def conversation(self):
        return self

    def ask(self, question):
        c = Citation(doc_id="evil", title=f"Brief {self.PAYLOAD}", date="2024-04-25", section=self.PAYLOAD,
                     quote=self.PAYLOAD)
        f = Figure(label=self.PAYLOAD, value=1, unit="plaatsen", period="2024-II", source=self.PAYLOAD,
                   sql=self.PAYLOAD, citation=c)
        return Answer(question=question, answer=f"- {self.PAYLOAD} **1** [1]\n> {question}", answered=True,
                      kind="figure", figures=[f, f], citations=[c], chart=[(self.PAYLOAD, 1.0), ("b", 2.0)])

    def ask_messages(self, messages):
        return self.ask(messages[-1]["content"])


def test_markup_in_documents_and_questions_does_not_run(page, settings, tmp_path):
    from assistant.audit import AuditLog
    from assistant.web import WebSettings, create_app

    app = create_app(settings, HostileAssistant(), web=WebSettings(rate=None), audit=AuditLog(tmp_path / "a.db"))
    with serve_in_thread(app) as url:
        open_chat(page, url)
        question = '<img src=x onerror="window.__pwned=3"> <b>vet?</b>'
        answer = ask(page, question, 0)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__pwned") is None
        chat = page.locator("#oa-chat")
        assert chat.locator(".message-content img, .message-content script, .message-content b").count() == 0
        assert HostileAssistant.PAYLOAD in answer.locator("details.oa-sources").inner_text()
        assert question in page.locator(".oa-question").inner_text()
        shot(page, "chat_hostile_markup")


class QuickAssistant(HostileAssistant):
    def ask(self, question):
        return Answer(question=question, answer="- **1** plaats", answered=True, kind="figure")


def test_chat_says_when_the_rate_limit_is_reached(page, settings, tmp_path):
    from assistant.audit import AuditLog
    from assistant.web import Rate, WebSettings, create_app

    app = create_app(settings, QuickAssistant(), web=WebSettings(rate=Rate(2, 60)), audit=AuditLog(tmp_path / "a.db"))
    with serve_in_thread(app) as url:
        open_chat(page, url)
        ask(page, "een", 0)
        ask(page, "twee", 1)
        notice = ask(page, "drie", 2)
        assert "U stelt veel vragen kort na elkaar" in notice.inner_text()
        # 2 per 60 s: the third question waits ~30 s (29 when the browser took over a second to ask it)
        assert re.search(r"\b(29|30) seconden\b", notice.inner_text())
        assert [e.question for e in AuditLog(tmp_path / "a.db").tail()] == ["een", "twee"]
