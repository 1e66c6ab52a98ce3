"""Load: concurrent clients against `POST /api/ask` on 127.0.0.1 for a bounded time.

    .venv/bin/python bench/bench_load.py                         # starts a server, 50 clients, 30 s
    .venv/bin/python bench/bench_load.py --clients 50 --duration 60
    .venv/bin/python bench/bench_load.py --url http://127.0.0.1:7860 --pid 12345   # a running server

Without --url the benchmark starts `assistant serve --host 127.0.0.1` on a free port itself, with
ASSISTANT_RATE_LIMIT=off (50 clients share one address: the default 30/minute limit would turn the
benchmark into a 429 count) and a throw-away ASSISTANT_AUDIT_DB, waits for GET /api/health, warms it
with one pass over the question mix, and stops it afterwards (SIGTERM, then SIGKILL, by its pid).

Each client is a closed loop (send, wait for the answer, send the next; --think adds a pause) over
the golden-set conversations (all turns of a case as one `messages` list), each client starting at
a different case. Reported: requests, throughput, client-side latency p50/p95/p99/max, the engine's
own latency_ms from the answers (the difference is queueing: the engine answers one new question at
a time; a question answered before comes from the API's cache without waiting), cached and computed
answers apart when both occur, errors by kind (anything but a 200 with an answer is an error), and the server's RSS before
and after the run (and the peak, sampled every second).

Targets (the issue): p95 <= 300 ms and 0 errors with 50 clients.

This module is also the machinery of bench/soak.py and tests/test_soak.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSISTANT = ROOT / ".venv" / "bin" / "assistant"
TARGET_P95_MS = 300.0


# --- the question mix -----------------------------------------------------------------------------


def conversations(per_category: int | None = None, seed: int = 0) -> list[list[dict]]:
    """Golden-set conversations as API message lists; `per_category` keeps a spread-out subset."""
    sys.path.insert(0, str(ROOT))
    from assistant.evaluation import load_sets

    cases = [c for cs in load_sets().values() for c in cs]
    if per_category:
        rng = random.Random(seed)
        by_cat: dict[str, list] = {}
        for c in cases:
            by_cat.setdefault(c.category, []).append(c)
        cases = [c for cat in sorted(by_cat) for c in rng.sample(by_cat[cat], min(per_category, len(by_cat[cat])))]
    return [[{"role": "user", "content": t} for t in c.turns] for c in cases]


# --- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def threads(pid: int | None) -> int | None:
    """Number of threads of a process (Linux /proc), None if unknown or gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except (OSError, TypeError):
        return None
    return None


def rss_mb(pid: int | None) -> float | None:
    """Resident set size of a process in MiB (Linux /proc), None if unknown or gone."""
    if not pid:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Server:
    """`assistant serve` on 127.0.0.1:<free port> in its own process group; stop() ends only it."""

    def __init__(self, port: int | None = None, env: dict | None = None, log_path: Path | None = None,
                 startup_timeout: float = 180.0):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tempfile.TemporaryDirectory(prefix="assistant-load-")
        self.env = {**os.environ, "ASSISTANT_RATE_LIMIT": "off",
                    "ASSISTANT_AUDIT_DB": str(Path(self.tmp.name) / "audit.db"), **(env or {})}
        self.log_path = log_path or Path(self.tmp.name) / "server.log"
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.started_s: float | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> "Server":
        import httpx

        if not ASSISTANT.exists():
            raise RuntimeError(f"{ASSISTANT} missing: pip install -e . in the venv")
        self._log = open(self.log_path, "wb")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(ASSISTANT), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    self.started_s = time.perf_counter() - t0
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"server not healthy within {self.startup_timeout:.0f} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # only our own child, by its pid
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()
        self.tmp.cleanup()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- the clients ----------------------------------------------------------------------------------


@dataclass
class Sample:
    start: float  # seconds since the run began
    ms: float
    ok: bool
    error: str | None = None
    engine_ms: float | None = None
    question: str | None = None  # the last user message, kept for errors only


@dataclass
class LoadResult:
    clients: int
    seconds: float
    samples: list[Sample]
    rss: list[tuple[float, float]] = field(default_factory=list)  # (second, MiB) of the server

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    @property
    def errors(self) -> Counter:
        return Counter(s.error for s in self.samples if not s.ok)

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.seconds if self.seconds else 0.0

    def latency(self, q: float) -> float:
        values = sorted(s.ms for s in self.samples)
        return percentile(values, q)

    def engine_latency(self, q: float) -> float:
        return percentile(sorted(s.engine_ms for s in self.ok if s.engine_ms is not None), q)

    def latency_of(self, new: bool, q: float) -> float:
        """Client latency of the answers the engine computed (`new`, latency_ms > 0) or did not
        (latency_ms 0: a cached answer, served without waiting for the engine)."""
        return percentile(sorted(s.ms for s in self.ok if s.engine_ms is not None and (s.engine_ms > 0) == new), q)

    def count_of(self, new: bool) -> int:
        return sum(1 for s in self.ok if s.engine_ms is not None and (s.engine_ms > 0) == new)

    def failing_questions(self, n: int = 5) -> list[tuple[str, str]]:
        return list(dict.fromkeys((s.error, s.question) for s in self.samples if not s.ok))[:n]

    def rss_at(self, first: float, last: float) -> float | None:
        """Median server RSS over the samples taken between `first` and `last` seconds."""
        values = [mb for t, mb in self.rss if first <= t <= last]
        return statistics.median(values) if values else None

    def summary(self) -> str:
        errors = ", ".join(f"{n}× {kind}" for kind, n in self.errors.most_common(5)) or "none"
        return (f"{len(self.samples)} requests in {self.seconds:.1f} s = {self.throughput:.1f} req/s; "
                f"latency p50 {self.latency(50):.0f} ms, p95 {self.latency(95):.0f} ms, p99 {self.latency(99):.0f} ms, "
                f"max {self.latency(100):.0f} ms; engine latency_ms p50 {self.engine_latency(50):.0f}, "
                f"p95 {self.engine_latency(95):.0f}; errors {sum(self.errors.values())} ({errors})"
                + (f"\n  cached answers {self.count_of(False)}: p50 {self.latency_of(False, 50):.0f} ms, "
                   f"p95 {self.latency_of(False, 95):.0f} ms; answers the engine computed {self.count_of(True)}: "
                   f"p50 {self.latency_of(True, 50):.0f} ms, p95 {self.latency_of(True, 95):.0f} ms"
                   if self.count_of(True) and self.count_of(False) else ""))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if q >= 100 or len(values) == 1:
        return max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def _load(url: str, clients: int, duration: float, mix: list[list[dict]], think: float,
                pid: int | None, once: bool, timeout: float, vary: float, fresh: bool) -> LoadResult:
    import httpx

    samples: list[Sample] = []
    rss: list[tuple[float, float]] = []
    # Each client its own HTTP client and keep-alive connection, as separate users would have.
    # (One shared httpx pool of 50 connections cost the load generator ~2 ms of CPU per request
    # -- httpcore scans its connections once per connection on every request -- on the same two
    # cores as the server, and served the queued requests unfairly: the benchmark measured its own
    # client.) Made before the clock starts, with one TLS context (one per client costs ~20 ms each).
    tls = ssl.create_default_context()
    https = [httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=1), verify=tls)
             for _ in range(clients)]
    t0 = time.perf_counter()
    end = t0 + duration
    queue = list(range(len(mix)))  # for `once`: every conversation exactly once, shared by the clients
    rng = random.Random(clients)

    async def client_loop(i: int, http: httpx.AsyncClient):
        n = i * len(mix) // clients  # each client starts at a different case
        while True:
            if once:
                if not queue:
                    return
                messages = mix[queue.pop()]
            else:
                if time.perf_counter() >= end:
                    return
                messages = mix[n % len(mix)]
                n += 1
                if vary and rng.random() < vary:  # a question never asked before: no cache may keep it
                    token = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(8))
                    messages = [*messages[:-1], {"role": "user", "content": f"{messages[-1]['content']} {token}"}]
                if fresh:  # the same question in new words each time: the engine's query cache misses
                    messages = [{"role": m["role"], "content": reworded(m["content"], rng)} for m in messages]
            start = time.perf_counter()
            error = engine_ms = None
            try:
                # ASCII JSON (\uXXXX escapes), as any client may send: also carries lone surrogates
                r = await http.post(f"{url}/api/ask", content=json.dumps({"messages": messages}).encode(),
                                    headers={"content-type": "application/json"})
                if r.status_code != 200:
                    error = f"HTTP {r.status_code}"
                else:
                    body = r.json()
                    if not isinstance(body.get("answer"), str):
                        error = "200 without an answer"
                    engine_ms = body.get("latency_ms")
            except httpx.TimeoutException:
                error = "timeout"
            except (httpx.HTTPError, ValueError) as e:
                error = type(e).__name__
            samples.append(Sample(start - t0, (time.perf_counter() - start) * 1000, error is None, error, engine_ms,
                                  messages[-1]["content"] if error else None))
            if think:
                await asyncio.sleep(random.uniform(0.5, 1.5) * think)

    async def sampler():
        while True:
            mb = rss_mb(pid)
            if mb is not None:
                rss.append((time.perf_counter() - t0, mb))
            await asyncio.sleep(1.0)

    watcher = asyncio.create_task(sampler())
    try:
        await asyncio.gather(*(client_loop(i, http) for i, http in enumerate(https)))
    finally:
        watcher.cancel()
        await asyncio.gather(*(http.aclose() for http in https))
    seconds = time.perf_counter() - t0
    mb = rss_mb(pid)
    if mb is not None:
        rss.append((seconds, mb))
    return LoadResult(clients, seconds, samples, rss)


NL_OPENERS = ["Hallo,", "Goedemorgen,", "Beste assistent,", "Vraagje:", "Korte vraag:", "Graag even:", "Zeg,",
              "Ik vroeg me af:", "Weet u dit:", "Collega vraagt:", "Voor een notitie:", "Snelle vraag:"]
EN_OPENERS = ["Hello,", "Good morning,", "Dear assistant,", "Quick question:", "Short question:", "Please:",
              "I was wondering:", "Do you know:", "A colleague asks:", "For a memo:", "Hi,", "One question:"]


def reworded(question: str, rng: random.Random) -> str:
    """The question behind one or two openers (144 variants per question and language)."""
    english = any(w in f" {question.lower()} " for w in (" the ", " what ", " how ", " which ", " is ", " are "))
    openers = EN_OPENERS if english else NL_OPENERS
    return f"{rng.choice(openers)} {rng.choice(openers).lower()} {question}"


def run_load(url: str, clients: int, duration: float, mix: list[list[dict]], think: float = 0.0,
             pid: int | None = None, once: bool = False, timeout: float = 60.0, vary: float = 0.0,
             fresh: bool = False) -> LoadResult:
    """`clients` closed-loop clients for `duration` seconds (or, with `once`, until every
    conversation of `mix` was asked once); the server's RSS is sampled every second if `pid`.
    `vary`: the share of requests whose last question gets a random extra word (never seen before).
    `fresh`: every question behind random openers ("Hallo, vraagje: …"), so the engine's cache of
    query vectors (512 entries) rarely holds it: the cost of questions not asked before."""
    return asyncio.run(_load(url, clients, duration, mix, think, pid, once, timeout, vary, fresh))


def machine() -> str:
    import platform

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) / 1024 / 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.1f} GiB RAM, Python {platform.python_version()}, "
            f"load avg {os.getloadavg()[0]:.2f}")


def start_or_attach(args) -> tuple["Server | None", str, int | None]:
    """A running server (--url/--pid), or one started on a free port; prints where."""
    print(f"machine: {machine()}")
    if args.url:
        return None, args.url.rstrip("/"), args.pid
    server = Server().start()
    print(f"server: {server.url} (pid {server.pid}) healthy after {server.started_s:.1f} s; rate limit off")
    return server, server.url, server.pid


def warm_up(url: str, pid: int | None, clients: int, mix) -> None:
    """Every conversation once, with as many threads as the load, before anything is measured."""
    t0 = time.perf_counter()
    warm = run_load(url, clients, 0, mix, pid=pid, once=True)
    print(f"warm-up: every conversation once ({len(mix)}) in {time.perf_counter() - t0:.1f} s, "
          f"{sum(warm.errors.values())} errors; RSS {rss_mb(pid) or float('nan'):.1f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running server (default: start one on a free port)")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid, for its RSS")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a client's requests (s)")
    parser.add_argument("--per-category", type=int, default=0, help="use N cases per category (0: all)")
    parser.add_argument("--fresh", action="store_true",
                        help="reword every question with random openers (engine query cache misses)")
    args = parser.parse_args()

    mix = conversations(args.per_category or None)
    server, url, pid = start_or_attach(args)
    try:
        warm_up(url, pid, args.clients, mix)
        before, threads_before = rss_mb(pid), threads(pid)
        print(f"load: {args.clients} clients, {args.duration:.0f} s, think time {args.think:g} s, "
              f"{len(mix)} golden-set conversations"
              + (", every question reworded (new to the engine's query cache)" if args.fresh else
                 " asked again and again (the engine's query-vector cache may hold them)"))
        result = run_load(url, args.clients, args.duration, mix, think=args.think, pid=pid, fresh=args.fresh)
        after, threads_after = rss_mb(pid), threads(pid)
        print(f"  {result.summary()}")
        for error, question in result.failing_questions():
            print(f"    {error}: {question!r}")
        if before is not None:
            peak = max(mb for _, mb in result.rss) if result.rss else after
            print(f"  server RSS before {before:.0f} MiB, after {after:.0f} MiB (peak {peak:.0f} MiB, "
                  f"{after - before:+.1f} MiB); threads {threads_before} -> {threads_after}")
        p95, errors = result.latency(95), sum(result.errors.values())
        print(f"  target p95 <= {TARGET_P95_MS:.0f} ms: {'ok' if p95 <= TARGET_P95_MS else 'MISSED'} ({p95:.0f} ms); "
              f"0 errors: {'ok' if not errors else 'MISSED'} ({errors})")
        if result.ok:
            service = statistics.mean(s.engine_ms for s in result.ok if s.engine_ms is not None)
            per_request = 1000 / result.throughput
            print(f"  {per_request:.1f} ms of server time per request (1 / throughput), of which {service:.1f} ms engine "
                  f"(mean latency_ms, 0 for a cached answer), ~{per_request - service:.1f} ms HTTP/JSON/audit; new "
                  f"questions are answered one at a time, cached ones without waiting for them;"
                  f"\n  with {args.clients} closed-loop clients, latency ~ clients / throughput (Little's law) = "
                  f"{args.clients * per_request:.0f} ms")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
