"""The HTTP API against a real server: `assistant serve` started by the test on a free 127.0.0.1 port,
asked with a real HTTP client (httpx); plus the rate limiter and settings parsing on their own."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
import time

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.audit import AuditLog, AuditRecord
from assistant.models import Answer, Citation, Figure
from assistant.web import (PERIODS, AnswerCache, CachedAnswer, Rate, RateLimiter, WebSettings, create_app,
                           parse_rate)

from live_server import art29, assistant_command, serve_in_thread, serve_subprocess

ROTTERDAM = "Wat is de taakstelling van Rotterdam in 2024-II?"
NO_ANSWER = "Hoeveel kost een kop koffie in Parijs?"
pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def audit_db(tmp_path_factory):
    return tmp_path_factory.mktemp("audit") / "audit.db"


@pytest.fixture(scope="module")
def server_env(indexed, audit_db) -> dict[str, str]:
    return {"ASSISTANT_DB": str(indexed.db_path), "ASSISTANT_AUDIT_DB": str(audit_db),
            "ASSISTANT_RATE_LIMIT": "off", "ASSISTANT_CORS_ORIGINS": ""}


@pytest.fixture(scope="module")
def server(server_env, tmp_path_factory):
    with serve_subprocess(server_env, tmp_path_factory.mktemp("log") / "serve.log") as url:
        yield url


@pytest.fixture(scope="module")
def strict_server(server_env, tmp_path_factory):
    """Rate limit 3/minute and one allowed cross-origin caller."""
    env = {**server_env, "ASSISTANT_RATE_LIMIT": "3/minute", "ASSISTANT_CORS_ORIGINS": "http://intranet.example",
           "ASSISTANT_AUDIT_DB": str(tmp_path_factory.mktemp("audit2") / "audit.db")}
    with serve_subprocess(env, tmp_path_factory.mktemp("log2") / "serve.log") as url:
        yield url


def ask(url: str, *questions: str, **kw) -> httpx.Response:
    messages = []
    for q in questions:
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": "…"}]
    return httpx.post(f"{url}/api/ask", json={"messages": messages[:-1]}, timeout=120, **kw)


def cli_json(env: dict, *questions: str) -> list[dict]:
    out = subprocess.run([*assistant_command(), "ask", "--json", *questions], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=300, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def without_latency(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "latency_ms"}


# --- the real server ---------------------------------------------------------------------------


def test_health(server):
    r = httpx.get(f"{server}/api/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["version"]


def test_figure_question_is_computed_by_art29_and_cited(server, sql):
    r = ask(server, ROTTERDAM)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    expected = art29(sql, "Rotterdam", "2024-II")
    assert expected == 634
    assert body["answered"] is True
    figure = next(f for f in body["figures"] if f.get("scope") == "Rotterdam")
    assert figure["value"] == expected and figure["computed"] is True and figure["period"] == "2024-II"
    assert "634" in body["answer"] and "[1]" in body["answer"]
    assert any(c["title"].startswith("Huisvestingswet") and "Artikel 29" in c["section"] for c in body["citations"])


def test_same_json_as_cli(server, server_env):
    api = ask(server, ROTTERDAM).json()
    (cli,) = cli_json(server_env, ROTTERDAM)
    assert without_latency(api) == without_latency(cli)


def test_follow_up_uses_earlier_messages(server, server_env):
    r = ask(server, ROTTERDAM, "En die van Maastricht?")
    assert r.status_code == 200
    api = r.json()
    _, cli = cli_json(server_env, ROTTERDAM, "En die van Maastricht?")
    assert without_latency(api) == without_latency(cli)
    assert api["question"] == "En die van Maastricht?"
    assert "Maastricht" in api["answer"]


def test_unencodable_text_is_answered_not_a_500(server):
    # "\ud800" is valid JSON but no valid UTF-8: the API must still answer (as text, not crash)
    r = httpx.post(f"{server}/api/ask", content=b'{"messages": [{"role": "user", "content": "\\ud800"}]}',
                   headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["question"] == "?"


def test_no_answer(server):
    body = ask(server, NO_ANSWER).json()
    assert body["answered"] is False and body["kind"] == "abstain"
    assert body["figures"] == [] and body["citations"] == []


@pytest.mark.parametrize("payload, needle", [
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "assistant", "content": "hallo"}]}, "role 'user'"),
    ({"messages": [{"role": "admin", "content": "hallo"}]}, "role"),
    ({"messages": [{"role": "user"}]}, "content"),
    ({"question": "Wat?"}, "messages"),
    ({"messages": [{"role": "user", "content": "x"}] * 41}, "messages"),
])
def test_invalid_requests_get_a_clear_json_error(server, payload, needle):
    r = httpx.post(f"{server}/api/ask", json=payload)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/json")
    assert needle in r.json()["error"] and r.json()["error"].startswith("Invalid request")


def test_error_responses_are_json_without_internals(server):
    cases = [
        httpx.post(f"{server}/api/ask", content=b"{not json", headers={"content-type": "application/json"}),
        httpx.get(f"{server}/api/ask"),
        httpx.get(f"{server}/api/nothing-here"),
        httpx.post(f"{server}/api/ask", content=b"x" * 70_000, headers={"content-type": "application/json"}),
        # no Content-Length: the limit is enforced while the stream is read
        httpx.post(f"{server}/api/ask", content=iter([b"{" + b" " * 40_000, b" " * 40_000 + b"}"]),
                   headers={"content-type": "application/json"}),
    ]
    assert [r.status_code for r in cases] == [422, 405, 404, 413, 413]
    for r in cases:
        assert r.headers["content-type"].startswith("application/json"), r.text
        assert set(r.json()) == {"error"} and r.json()["error"]
        assert "Traceback" not in r.text and "File \"" not in r.text
    assert "not valid JSON" in cases[0].json()["error"]
    assert "at most 65536 bytes" in cases[3].json()["error"]


def test_openapi_schema(server):
    r = httpx.get(f"{server}/api/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    ask_op = schema["paths"]["/api/ask"]["post"]
    assert "AskRequest" in json.dumps(ask_op["requestBody"])
    assert "Answer" in json.dumps(ask_op["responses"]["200"])
    assert {"413", "422", "429", "500"} <= set(ask_op["responses"])
    assert "get" in schema["paths"]["/api/health"]
    assert "Answer" in schema["components"]["schemas"]
    # Swagger UI and ReDoc would load from a CDN: not served
    assert httpx.get(f"{server}/docs").status_code == 404


def test_security_headers_and_no_cors_by_default(server):
    r = httpx.get(f"{server}/api/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    chat = httpx.get(f"{server}/chat/config", headers={"Origin": "http://evil.example"})
    assert chat.status_code == 200 and "access-control-allow-origin" not in chat.headers


def test_pages_and_static_files(server):
    assert httpx.get(f"{server}/").headers["location"] == "/chat/"
    chat = httpx.get(f"{server}/chat/")
    assert chat.status_code == 200 and "gradio" in chat.text.lower()
    embed = httpx.get(f"{server}/embed/")
    assert embed.status_code == 200 and 'src="/chat/?embed=1"' in embed.text
    assert httpx.get(f"{server}/static/chat.css").status_code == 200


def test_audit_log_holds_questions_not_people(server, audit_db, server_env):
    ask(server, ROTTERDAM, headers={"User-Agent": "Mozilla/5.0 UniqueAgent/9.9"})
    ask(server, NO_ANSWER)
    entries = AuditLog(audit_db).tail(50)
    api = [e for e in entries if e.channel == "api"]
    rotterdam = [e for e in api if e.question == ROTTERDAM][-1]
    assert rotterdam.answered and rotterdam.kind == "table" and rotterdam.latency_ms > 0
    assert any(f["value"] == 634 and f["computed"] for f in rotterdam.figures)
    assert any("Artikel 29" in c["section"] for c in rotterdam.citations)
    coffee = [e for e in api if e.question == NO_ANSWER][-1]
    assert not coffee.answered and coffee.figures == [] and coffee.citations == []
    columns = {r[1] for r in sqlite3.connect(audit_db).execute("PRAGMA table_info(audit)")}
    assert columns == {"id", "time", "channel", "question", "language", "kind", "answered", "figures",
                       "citations", "latency_ms"}
    raw = audit_db.read_bytes() + (audit_db.with_name(audit_db.name + "-wal").read_bytes()
                                   if audit_db.with_name(audit_db.name + "-wal").exists() else b"")
    assert b"127.0.0.1" not in raw and b"UniqueAgent" not in raw
    # and the CLI shows it
    out = subprocess.run([*assistant_command(), "audit", "tail", "-n", "3"], capture_output=True, text=True,
                         env={**os.environ, **server_env}, check=True).stdout
    assert NO_ANSWER in out and "NOT answered" in out


def test_rate_limit_per_client(strict_server):
    codes = [ask(strict_server, NO_ANSWER).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    r = ask(strict_server, NO_ANSWER)
    assert r.status_code == 429
    assert r.json()["error"].startswith("Too many questions")
    assert 1 <= int(r.headers["retry-after"]) <= 20
    assert httpx.get(f"{strict_server}/api/health").status_code == 200  # health is not limited


def test_cors_only_for_configured_origins(strict_server):
    def preflight(origin):
        return httpx.options(f"{strict_server}/api/ask", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})

    ok = preflight("http://intranet.example")
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "http://intranet.example"
    bad = preflight("http://evil.example")
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
    r = httpx.get(f"{strict_server}/api/health", headers={"Origin": "http://intranet.example"})
    assert r.headers["access-control-allow-origin"] == "http://intranet.example"
    assert "frame-ancestors 'self' http://intranet.example" in r.headers["content-security-policy"]


# --- a failing engine, behind a real uvicorn ----------------------------------------------------


class BrokenAssistant:
    def ask_messages(self, messages):
        raise RuntimeError("secret internal detail /work/main/assistant/engine.py")

    def conversation(self):  # pragma: no cover - the chat is not used here
        raise RuntimeError("no conversation")


def test_engine_failure_is_a_json_500_without_stack_trace(settings, tmp_path, caplog):
    audit = AuditLog(tmp_path / "audit.db")
    app = create_app(settings, BrokenAssistant(), web=WebSettings(rate=None), audit=audit)
    with serve_in_thread(app) as url:
        r = httpx.post(f"{url}/api/ask", json={"messages": [{"role": "user", "content": "Wat?"}]})
    assert r.status_code == 500
    assert r.json() == {"error": "Internal error: the request could not be completed. It has been logged."}
    assert "secret" not in r.text and "Traceback" not in r.text
    assert "secret internal detail" in caplog.text  # logged on the server, for the operator
    (entry,) = audit.tail()
    assert entry.kind == "error" and not entry.answered and entry.question == "Wat?"


class CannedAssistant:
    """A stand-in that answers every question the same, to test the server around the engine."""

    def ask_messages(self, messages):
        return Answer(question=messages[-1]["content"], answer="- **42** [1]", answered=True, kind="figure",
                      figures=[Figure(label="x", value=42, unit="plaatsen", period="2024")],
                      citations=[Citation(doc_id="d", title="T", date="2024-01-01", section="S", quote="q")])


def test_in_process_app_answers_with_a_stand_in(settings, tmp_path):
    app = create_app(settings, CannedAssistant(), web=WebSettings(rate=None),
                     audit=AuditLog(tmp_path / "audit.db"))
    with serve_in_thread(app) as url:
        body = httpx.post(f"{url}/api/ask", json={"messages": [{"role": "user", "content": "Hoeveel?"}]}).json()
    assert body["answer"] == "- **42** [1]" and body["figures"][0]["value"] == 42


class CountingAssistant:
    """A deterministic stand-in like the engine without a language model: it has a data version, and
    'traag' takes a second (a new question), while `asked` counts what reached it."""

    llm = None

    def __init__(self):
        self.asked: list[str] = []
        self.version = (1, 1)
        self.slow_started = threading.Event()

    def data_version(self):
        return self.version

    def ask_messages(self, messages):
        question = [m["content"] for m in messages if m["role"] == "user"][-1]
        self.asked.append(question)
        if question == "traag":
            self.slow_started.set()
            time.sleep(1.0)
        if question == "kapot":
            raise RuntimeError("engine failure")
        return Answer(question=question, answer=f"- **{len(question)}** [1]", answered=True, kind="figure",
                      figures=[Figure(label="x", value=len(question), unit="plaatsen", period="2024")],
                      citations=[Citation(doc_id="d", title="T", date="2024-01-01", section="S", quote="q")],
                      latency_ms=12.5)


def post(url: str, *questions: str) -> httpx.Response:
    messages = [{"role": "user", "content": q} for q in questions]
    return httpx.post(f"{url}/api/ask", json={"messages": messages}, timeout=30)


def test_a_repeated_question_is_answered_from_the_cache_and_still_audited(settings, tmp_path):
    engine, audit = CountingAssistant(), AuditLog(tmp_path / "audit.db")
    app = create_app(settings, engine, web=WebSettings(rate=None), audit=audit)
    with serve_in_thread(app) as url:
        first, again = post(url, "Hoeveel?").json(), post(url, "Hoeveel?").json()
        follow_up = post(url, "Eerst dit", "Hoeveel?").json()  # another conversation: asked anew
        assert engine.asked == ["Hoeveel?", "Hoeveel?"]
        assert first["latency_ms"] == 12.5 and again["latency_ms"] == 0.0  # as the engine's own cache says
        assert without_latency(again) == without_latency(first) == without_latency(follow_up)
        assert app.state.service.cache.hits == 1

        engine.version = (2, 1)  # a rebuilt database: nothing from before may be served
        post(url, "Hoeveel?")
        assert engine.asked == ["Hoeveel?", "Hoeveel?", "Hoeveel?"]
    entries = audit.tail()
    assert [e.question for e in entries] == ["Hoeveel?"] * 4
    assert all(e.channel == "api" and e.answered and e.figures == entries[0].figures for e in entries)
    assert entries[1].latency_ms < 100  # the cached answer's own time


def test_a_cached_answer_does_not_wait_for_a_new_question(settings, tmp_path):
    engine, audit = CountingAssistant(), AuditLog(tmp_path / "audit.db")
    app = create_app(settings, engine, web=WebSettings(rate=None), audit=audit)
    with serve_in_thread(app) as url:
        post(url, "snel")
        slow = threading.Thread(target=post, args=(url, "traag"))
        slow.start()
        assert engine.slow_started.wait(10)
        start = time.perf_counter()
        r = post(url, "snel")
        waited = time.perf_counter() - start
        still_busy = slow.is_alive()
        slow.join()
    assert r.status_code == 200 and r.json()["answer"] == "- **4** [1]"
    assert still_busy and waited < 0.5, f"the cached answer took {waited:.2f} s"
    assert [e.question for e in audit.tail()] == ["snel", "snel", "traag"]  # logged when it was sent


def test_failures_and_stand_ins_without_a_data_version_are_not_cached(settings, tmp_path):
    engine = CountingAssistant()
    app = create_app(settings, engine, web=WebSettings(rate=None), audit=AuditLog(tmp_path / "audit.db"))
    with serve_in_thread(app) as url:
        assert [post(url, "kapot").status_code for _ in range(2)] == [500, 500]
    assert engine.asked == ["kapot", "kapot"]

    class WithModel(CountingAssistant):
        llm = object()  # a language model answers: not deterministic, never cached

    for stand_in in (WithModel(), CannedAssistant()):
        calls = []
        original = stand_in.ask_messages
        stand_in.ask_messages = lambda messages, original=original: calls.append(1) or original(messages)
        app = create_app(settings, stand_in, web=WebSettings(rate=None), audit=AuditLog(tmp_path / "a2.db"))
        with serve_in_thread(app) as url:
            assert [post(url, "Hoeveel?").status_code for _ in range(2)] == [200, 200]
        assert len(calls) == 2 and len(app.state.service.cache) == 0


def test_the_audit_log_is_closed_at_shutdown(settings, tmp_path):
    from fastapi.testclient import TestClient

    audit = AuditLog(tmp_path / "audit.db")
    app = create_app(settings, CountingAssistant(), web=WebSettings(rate=None), audit=audit)
    with TestClient(app) as client:  # runs the app's startup and shutdown
        assert client.post("/api/ask", json={"messages": [{"role": "user", "content": "Hoeveel?"}]}).status_code == 200
        assert audit._conn is not None  # kept open while serving
    assert audit._conn is None
    assert not (tmp_path / "audit.db-wal").exists()  # checkpointed into the file by the last close
    assert [e.question for e in audit.tail()] == ["Hoeveel?"]


def test_answer_cache_is_bounded_least_recently_used_first():
    cache = AnswerCache(size=3)
    record = AuditRecord.of(Answer(question="q"))
    for k in "abc":
        cache.put((k,), CachedAnswer(k.encode(), record))
    assert cache.get(("a",)).body == b"a"  # now the most recently used
    cache.put(("d",), CachedAnswer(b"d", record))
    assert len(cache) == 3 and cache.get(("b",)) is None
    assert [cache.get((k,)).body for k in "acd"] == [b"a", b"c", b"d"]
    assert cache.hits == 4


# --- settings and the rate limiter ---------------------------------------------------------------


@pytest.mark.parametrize("text, rate", [
    ("30/minute", Rate(30, 60)), ("5/second", Rate(5, 1)), ("100/hour", Rate(100, 3600)),
    ("1000/day", Rate(1000, 86400)), ("10/5minutes", Rate(10, 300)), (" 7 / m ", Rate(7, 60)),
    ("off", None), ("0", None), ("", None),
])
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["30", "abc", "30/fortnight", "0/minute", "-1/minute", "30/"])
def test_parse_rate_refuses_nonsense(text):
    with pytest.raises(ValueError, match="rate limit"):
        parse_rate(text)


@given(st.integers(1, 10_000), st.sampled_from(sorted(PERIODS)))
def test_parse_rate_roundtrip(n, unit):
    assert parse_rate(f"{n}/{unit}") == Rate(n, PERIODS[unit])


def test_web_settings_from_env(monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORS_ORIGINS", "https://intranet.example.nl/, https://wiki.example.nl")
    monkeypatch.setenv("ASSISTANT_RATE_LIMIT", "10/minute")
    monkeypatch.setenv("ASSISTANT_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("ASSISTANT_AUDIT_DB", "/tmp/x/audit.db")
    s = WebSettings.from_env()
    assert s.cors_origins == ("https://intranet.example.nl", "https://wiki.example.nl")
    assert s.rate == Rate(10, 60) and s.max_body_bytes == 4096 and str(s.audit_db) == "/tmp/x/audit.db"
    monkeypatch.setenv("ASSISTANT_CORS_ORIGINS", "*")
    with pytest.raises(ValueError, match="not allowed"):
        WebSettings.from_env()
    monkeypatch.setenv("ASSISTANT_CORS_ORIGINS", "")
    monkeypatch.setenv("ASSISTANT_MAX_BODY_BYTES", "lots")
    with pytest.raises(ValueError, match="MAX_BODY"):
        WebSettings.from_env()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_rate_limiter_burst_refill_and_clients_apart():
    clock = Clock()
    limiter = RateLimiter(Rate(3, 60), clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.hit("a") == pytest.approx(20.0)  # one token per 20 s
    assert limiter.hit("b") == 0.0  # another client has its own bucket
    clock.now += 10
    assert limiter.hit("a") == pytest.approx(10.0)
    clock.now += 10
    assert limiter.hit("a") == 0.0
    clock.now += 3600
    assert [limiter.hit("a") for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # never more than the burst


def test_rate_limiter_off_and_bounded_memory():
    assert RateLimiter(None).hit("x") == 0.0
    clock = Clock()
    limiter = RateLimiter(Rate(2, 1), clock=clock, max_clients=100)
    for i in range(1000):
        limiter.hit(f"client-{i}")
        clock.now += 1  # each earlier client's bucket has refilled: it may be forgotten
    assert len(limiter._buckets) <= 101


@given(st.lists(st.floats(0, 30), min_size=1, max_size=60))
def test_rate_limiter_never_allows_more_than_the_rate(gaps):
    clock = Clock()
    limiter = RateLimiter(Rate(5, 10), clock=clock)
    allowed_at = []
    for gap in gaps:
        clock.now += gap
        if limiter.hit("k") == 0.0:
            allowed_at.append(clock.now)
    # in any window of 10 s at most 5 (burst) + 5 (refill) questions pass
    for t in allowed_at:
        assert sum(1 for u in allowed_at if t <= u < t + 10) <= 10
