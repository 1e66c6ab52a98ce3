"""The server: the HTTP API (/api), the Gradio chat (/chat) and the intranet example (/embed) in one
FastAPI process.

Meant for a government intranet: nothing on the pages comes from outside this server (no CDN, no
analytics, no Swagger UI from a CDN), every error is a JSON message without a stack trace, bodies are
size-limited, clients are rate-limited, CORS is limited to configured origins, and the audit log holds
no IP address or user agent. The engine is asked one question at a time: its SQLite connection and
caches are shared, and an answer takes milliseconds to seconds. A question the API has answered
before (same conversation, same database and index build) is answered from a cache of ready JSON
without waiting for the engine; every answer, cached or not, is in the audit log before it is sent.
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is first imported: no telemetry

import gc
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, field_validator
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message as ASGIMessage, Receive, Scope, Send

from .audit import AuditLog, AuditRecord, audit_path
from .config import PROJECT_ROOT, Settings
from .models import Answer

log = logging.getLogger(__name__)

UI_DIR = PROJECT_ROOT / "ui"
DEFAULT_RATE = "30/minute"
DEFAULT_MAX_BODY = 64 * 1024
MAX_MESSAGES = 40
WARM_UP_QUESTION = "Wat is de taakstelling van Rotterdam in 2024-II?"


def app_version() -> str:
    try:
        return version("opgave-assistent")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


# --- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float


PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
           "d": 86400, "day": 86400}


def parse_rate(text: str | None) -> Rate | None:
    """'30/minute' → Rate(30, 60); 'off' or '0' switches the limit off."""
    text = (text or "").strip().lower()
    if text in {"", "0", "off", "none", "unlimited"}:
        return None
    m = re.fullmatch(r"(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?", text)
    if not m or m.group(3) not in PERIODS or int(m.group(1)) < 1:
        raise ValueError(f"rate limit {text!r}: expected N/second, N/minute, N/hour or N/day, e.g. 30/minute")
    return Rate(int(m.group(1)), PERIODS[m.group(3)] * int(m.group(2) or 1))


@dataclass(frozen=True)
class WebSettings:
    """The server's own settings, from the environment like the engine's (config.py)."""

    cors_origins: tuple[str, ...] = ()
    rate: Rate | None = field(default_factory=lambda: parse_rate(DEFAULT_RATE))
    max_body_bytes: int = DEFAULT_MAX_BODY
    audit_db: Path | None = None  # None: audit.audit_path()

    @classmethod
    def from_env(cls) -> "WebSettings":
        origins = tuple(o.strip().rstrip("/") for o in os.environ.get("ASSISTANT_CORS_ORIGINS", "").split(",")
                        if o.strip())
        if "*" in origins:
            raise ValueError("ASSISTANT_CORS_ORIGINS: list the intranet origins; '*' is not allowed")
        body = os.environ.get("ASSISTANT_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY))
        if not body.isdigit() or int(body) < 1024:
            raise ValueError(f"ASSISTANT_MAX_BODY_BYTES {body!r}: expected a number of bytes, at least 1024")
        audit = os.environ.get("ASSISTANT_AUDIT_DB")
        return cls(
            cors_origins=origins,
            rate=parse_rate(os.environ.get("ASSISTANT_RATE_LIMIT", DEFAULT_RATE)),
            max_body_bytes=int(body),
            audit_db=Path(audit) if audit else None,
        )


# --- rate limiting ----------------------------------------------------------------------------


class RateLimiter:
    """A token bucket per client: `rate.count` questions at once, refilled evenly over `rate.seconds`.

    Kept in memory and keyed by the client address, which is never written anywhere."""

    def __init__(self, rate: Rate | None, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000):
        self.rate = rate
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, last update)
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Take one token: 0.0 when allowed, else the seconds until the next one."""
        if self.rate is None:
            return 0.0
        capacity, per_second = float(self.rate.count), self.rate.count / self.rate.seconds
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > self.max_clients:
                    self._forget_idle(now, capacity, per_second)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / per_second

    def _forget_idle(self, now: float, capacity: float, per_second: float) -> None:
        """Drop clients whose bucket has refilled: forgetting them changes nothing."""
        for key, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * per_second >= capacity:
                del self._buckets[key]


def client_key(request: Request) -> str:
    """The peer address (uvicorn puts a trusted proxy's X-Forwarded-For here, see FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


# --- the shared service -----------------------------------------------------------------------


API_THREADS = 2  # threads answering /api/ask with the engine; it answers one question at a time anyway
CACHE_THREADS = 2  # threads logging the answers served from the cache (the audit entry is written first)
ANSWER_CACHE_SIZE = 1024  # /api/ask answers kept as JSON (~5 KB each; the engine keeps 2,048 behind its lock)


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes  # the response, as JSON; latency_ms 0 like the engine's own cache hits
    audit: AuditRecord  # what the audit log keeps of it


class AnswerCache:
    """API answers by conversation (its user messages) and the data they were built from.

    The engine keeps answers too, but behind the engine's lock: a repeated question then waited for
    every new question ahead of it (20-40 ms of e5 each) and had its answer copied and serialised
    again. Here a repeated question is a dictionary look-up on the event loop, its JSON ready. Keyed,
    like the engine's cache, by `Assistant.data_version()`, so a rebuilt database or index is never
    answered from here. Bounded (least recently used go first) and safe to share between threads."""

    def __init__(self, size: int = ANSWER_CACHE_SIZE):
        self.size = size
        self.hits = 0
        self._items: OrderedDict[tuple, CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple) -> CachedAnswer | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
                self.hits += 1
            return item

    def put(self, key: tuple, item: CachedAnswer) -> None:
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def json_body(content) -> bytes:
    """The bytes JSONResponse sends for `content`."""
    return JSONResponse(content).body


@dataclass
class Service:
    """What the API and the chat share: the assistant (asked one at a time), the limiter, the audit log."""

    assistant: object  # assistant.engine.Assistant, or a stand-in with the same methods
    limiter: RateLimiter
    audit: AuditLog
    lock: threading.Lock = field(default_factory=threading.Lock)
    cache: AnswerCache = field(default_factory=AnswerCache)
    # Whether answers may be cached: only when the engine answers deterministically from its data,
    # i.e. it has a data_version() and no language model. Known after its first answer (None before).
    cacheable: bool | None = None

    def _answer(self, question: str, channel: str, run: Callable[[], Answer]) -> Answer:
        start = time.perf_counter()
        try:
            with self.lock:
                answer = run()
                if self.cacheable is None:
                    self.cacheable = (callable(getattr(self.assistant, "data_version", None))
                                      and getattr(self.assistant, "llm", None) is None)
        except Exception:
            latency = (time.perf_counter() - start) * 1000
            self.audit.record(Answer(question=question, kind="error"), channel, round(latency, 2))
            raise
        self.audit.record(answer, channel, round((time.perf_counter() - start) * 1000, 2))
        return answer

    def cache_key(self, messages: list[dict]) -> tuple | None:
        """The cache key of a conversation (None: not cacheable): the user messages, as the engine
        reads them (it ignores the others), and the version of the data."""
        if self.cacheable is False or not callable(getattr(self.assistant, "data_version", None)):
            return None
        users = tuple(m.get("content", "") for m in messages if m.get("role") == "user")
        return (users, self.assistant.data_version()) if users else None

    def cached(self, key: tuple | None) -> CachedAnswer | None:
        return self.cache.get(key) if key is not None else None

    def ask_api(self, messages: list[dict], key: tuple | None) -> bytes:
        """Ask the engine (in a worker thread), log, keep the answer for the next time; the JSON body."""
        answer = self.ask_messages(messages, channel="api")
        content = answer.to_json_dict()
        if key is not None and self.cacheable:  # served again without the engine: no latency of its own
            self.cache.put(key, CachedAnswer(json_body({**content, "latency_ms": 0.0}), AuditRecord.of(answer)))
        return json_body(content)

    def log_cached(self, hit: CachedAnswer, start: float, channel: str = "api") -> None:
        self.audit.record(hit.audit, channel, round((time.perf_counter() - start) * 1000, 2))

    def ask_messages(self, messages: list[dict], channel: str = "api") -> Answer:
        users = [m.get("content", "") for m in messages if m.get("role") == "user"]
        return self._answer(users[-1] if users else "", channel, lambda: self.assistant.ask_messages(messages))

    def ask_conversation(self, conversation, question: str, channel: str = "chat") -> Answer:
        return self._answer(question, channel, lambda: conversation.ask(question))

    def warm_up(self) -> None:
        """Load the models and caches before the first real question (not audited)."""
        try:
            with self.lock:
                self.assistant.ask_messages([{"role": "user", "content": WARM_UP_QUESTION}])
        except Exception:  # the server still starts; the first question will show the problem
            log.exception("warm-up question failed")


# --- middleware -------------------------------------------------------------------------------


def error_json(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, by Content-Length or while reading a stream."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        message = f"Request body too large: at most {self.max_bytes} bytes"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await error_json(413, message)(scope, receive, send)
        received = 0
        started = False

        async def limited_receive() -> ASGIMessage:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, message)
            return msg

        async def tracking_send(msg: ASGIMessage) -> None:
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as e:
            if e.status_code != 413 or started:
                raise
            await error_json(413, message)(scope, receive, send)


def content_security_policy(frame_origins: tuple[str, ...]) -> str:
    """Everything from this server only; framing by this server and the configured origins."""
    ancestors = " ".join(("'self'", *frame_origins))
    return ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
            f"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}")


class SecurityHeaders:
    """CSP (the browser itself refuses any outside request), no sniffing, no referrer leaks."""

    def __init__(self, app: ASGIApp, frame_origins: tuple[str, ...] = ()):
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy(frame_origins).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(msg: ASGIMessage) -> None:
            if msg["type"] == "http.response.start":
                names = {k.lower() for k, _ in msg.get("headers", [])}
                msg = {**msg, "headers": [*msg.get("headers", []), *(h for h in self.headers if h[0] not in names)]}
            await send(msg)

        await self.app(scope, receive, send_with_headers)


# --- the API ----------------------------------------------------------------------------------


def utf8(text: str) -> str:
    """Text that can be encoded: a lone surrogate (valid in JSON, not in UTF-8) becomes '?'."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


class ChatMessage(BaseModel):
    role: Literal["user", "assistant", "system"]
    content: str

    @field_validator("content")
    @classmethod
    def encodable(cls, content: str) -> str:
        return utf8(content)


class AskRequest(BaseModel):
    """A conversation; the last user message is answered in the context of the earlier ones."""

    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)

    model_config = {"json_schema_extra": {"examples": [
        {"messages": [{"role": "user", "content": "Wat is de taakstelling van Rotterdam in 2024-II?"}]},
    ]}}

    @field_validator("messages")
    @classmethod
    def has_user_message(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if not any(m.role == "user" for m in messages):
            raise ValueError("at least one message with role 'user' is needed")
        return messages


class ErrorBody(BaseModel):
    error: str


class Health(BaseModel):
    status: Literal["ok"]
    version: str


def validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:5]:
        if e.get("type") == "json_invalid":
            return "Invalid request: the body is not valid JSON"
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {str(e.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "Invalid request: " + "; ".join(parts)


ERRORS = {status: {"model": ErrorBody} for status in (413, 422, 429, 500)}


def create_app(settings: Settings | None = None, assistant=None, *, web: WebSettings | None = None,
               audit: AuditLog | None = None, limiter: RateLimiter | None = None, warm_up: bool = False) -> FastAPI:
    """The whole server as one ASGI app. `assistant` defaults to a new engine over `settings`."""
    import gradio as gr

    from .chat_ui import CSS_PATH, build_ui, head_html, theme

    settings = settings or Settings.from_env()
    web = web or WebSettings.from_env()
    if assistant is None:
        from .engine import Assistant

        assistant = Assistant(settings)
    service = Service(
        assistant=assistant,
        limiter=limiter or RateLimiter(web.rate),
        audit=audit or AuditLog(web.audit_db or audit_path(settings)),
    )
    if warm_up:
        service.warm_up()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        service.audit.close()  # checkpoints the audit log's WAL into its file

    app = FastAPI(
        lifespan=lifespan,
        title="Opgave-assistent API",
        version=app_version(),
        description="Grounded, cited answers on asylum reception, the housing quota for status holders "
                    "(taakstelling) and the reception of displaced Ukrainians. The chat is at /chat/.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load from a CDN: not on an intranet
        redoc_url=None,
    )
    app.state.service = service
    api_limiter = anyio.CapacityLimiter(API_THREADS)
    cache_limiter = anyio.CapacityLimiter(CACHE_THREADS)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"Not found: {request.url.path}"
        return error_json(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        return error_json(422, validation_message(exc))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_json(500, "Internal error: the request could not be completed. It has been logged.")

    @app.get("/api/health", response_model=Health, tags=["api"])
    def health() -> Health:
        """Liveness. `assistant serve` listens only once the assistant is loaded and warmed up."""
        return Health(status="ok", version=app_version())

    @app.post("/api/ask", tags=["api"], response_class=JSONResponse,
              responses={200: {"model": Answer, "description": "The answer, as `assistant ask --json` prints it"},
                         **ERRORS})
    async def ask(body: AskRequest, request: Request):
        """Answer the last user message in the context of the earlier ones.

        Returns the same object as `assistant ask --json`: the Markdown answer with [n] citation
        markers, `answered`, the figures (with period, source, SQL, formula), computations, citations
        and, when places are compared, `chart`. Not answered from the sources: `answered` is false."""
        wait = service.limiter.hit(client_key(request))
        if wait:
            seconds = math.ceil(wait)
            raise HTTPException(429, f"Too many questions: try again in {seconds} s",
                                headers={"Retry-After": str(seconds)})
        messages = [m.model_dump() for m in body.messages]
        try:
            start = time.perf_counter()
            key = service.cache_key(messages)
            hit = service.cached(key)
            if hit is not None:
                # Asked before: the answer is ready and does not queue behind new questions. It is
                # in the audit log before it is sent, like every answer (a worker thread writes it).
                await anyio.to_thread.run_sync(service.log_cached, hit, start, limiter=cache_limiter)
                return Response(hit.body, media_type="application/json")
            # New questions take turns in arrival order (a CapacityLimiter is FIFO) on a few threads,
            # instead of dozens of pool threads scrambling for the engine's lock: fair tail latency.
            body = await anyio.to_thread.run_sync(service.ask_api, messages, key, limiter=api_limiter)
        except Exception:  # answered here: a handler-level 500 would also drop the keep-alive connection
            log.exception("unhandled error on POST /api/ask")
            return error_json(500, "Internal error: the request could not be completed. It has been logged.")
        return Response(body, media_type="application/json")

    @app.get("/", include_in_schema=False)
    def home():
        return RedirectResponse("/chat/")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return RedirectResponse("/static/favicon.svg")

    @app.get("/manifest.json", include_in_schema=False)
    def manifest():  # Gradio's page links /manifest.json from the site root
        return RedirectResponse("/chat/manifest.json")

    app.mount("/static", StaticFiles(directory=UI_DIR / "static"), name="static")
    app.mount("/embed", StaticFiles(directory=UI_DIR / "embed", html=True), name="embed")

    # Middleware before mounting Gradio: with our CORSMiddleware present Gradio adds no CORS of its own.
    app.add_middleware(CORSMiddleware, allow_origins=list(web.cors_origins), allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type"], max_age=600)
    app.add_middleware(SecurityHeaders, frame_origins=web.cors_origins)
    app.add_middleware(BodyLimit, max_bytes=web.max_body_bytes)

    gr.mount_gradio_app(
        app, build_ui(service), path="/chat", footer_links=[], run_history=False, show_error=False,
        ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False,
        theme=theme(), css_paths=[CSS_PATH], head=head_html(),
    )
    return app


def serve(host: str = "127.0.0.1", port: int = 7860, assistant=None, settings: Settings | None = None) -> None:
    """Run the server (uvicorn) until interrupted; access logs are off since they hold client addresses."""
    import uvicorn

    app = create_app(settings, assistant, web=WebSettings.from_env(), warm_up=True)
    # What is loaded by now (models, catalogue, Gradio: ~200k objects) lives as long as the process:
    # keep it out of the garbage collector's full passes, which otherwise stop every request for
    # ~100 ms now and then
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, access_log=False, server_header=False, log_level="info")
