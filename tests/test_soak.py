"""The 30-second soak (CI): 20 concurrent clients against `POST /api/ask`, 0 errors, memory flat.

Starts `assistant serve --host 127.0.0.1` on a free port itself (over the session's figures database
and index, rate limit off, a throw-away audit log), warms it with one pass over the question mix,
then 20 closed-loop clients ask golden-set conversations for 30 s, 1 % of them with a random extra
word so some questions are always new. The server is stopped (by its pid) whatever happens.

The 10-minute version is bench/soak.py; the machinery is bench/bench_load.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 20
SECONDS = 30.0
# Server RSS: the median over seconds 10-15 of the load (the first seconds fill the worker threads'
# SQLite connections and caches) against the median over the last 5 s. Only a gross leak (several
# KiB per request) shows in 30 s; slow leaks are bench/soak.py's job (bench/RESULTS.md).
BASELINE = (10.0, 15.0)
WINDOW = 5.0
MAX_GROWTH_MB = 10.0
# New questions (a random extra word). Each fills the bounded answer caches (the engine's, 2,048
# answers, and the API's, 1,024) by ~10-20 KB until they are full, which takes minutes. The test was
# made at ~30 req/s with 10 % new (~90 new questions in 30 s); the server now answers repeated
# questions at 300-700 req/s, and 10 % new gave ~860 new questions in 30 s: +10.6 MiB of caches
# filling (they level off after ~2,000: bench/RESULTS.md), which no 30-second window tells from a
# leak. 1 % keeps it near the ~100-200 new questions the limit was set for, while a leak per request
# now shows over ~10,000 requests instead of ~900.
NEW_SHARE = 0.01

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def load():
    if not (ROOT / "assistant" / "web.py").exists():
        pytest.skip("assistant/web.py (the HTTP server) is not there yet")
    for module in ("fastapi", "uvicorn", "httpx"):
        pytest.importorskip(module)
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_load

    return bench_load


def test_soak_30_seconds(load, indexed, tmp_path):
    env = {
        "ASSISTANT_HOME": str(indexed.home),
        "ASSISTANT_DB": str(indexed.db_path),
        "ASSISTANT_SOURCES": str(indexed.sources_dir),
        "ASSISTANT_DOCUMENTS": str(indexed.documents_dir),
        "ASSISTANT_INDEX": str(indexed.index_dir),
        "ASSISTANT_EMBEDDER": indexed.embedder,
    }
    if indexed.chroma_url:
        env["ASSISTANT_CHROMA_URL"] = indexed.chroma_url
    mix = load.conversations(per_category=3)
    server = load.Server(env=env, log_path=tmp_path / "server.log")
    server.start()
    try:
        warm = load.run_load(server.url, CLIENTS, 0, mix, pid=server.pid, once=True)
        result = load.run_load(server.url, CLIENTS, SECONDS, mix, pid=server.pid, vary=NEW_SHARE)
        alive = server.proc.poll() is None
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text(errors="replace")
    print(f"\nwarm-up: {warm.summary()}\nsoak: {result.summary()}")

    assert alive, f"the server died during the soak:\n{log[-3000:]}"
    errors = [s for s in [*warm.samples, *result.samples] if not s.ok]
    failing = "\n".join(f"  {e}: {q!r}" for e, q in dict.fromkeys((s.error, s.question) for s in errors))
    assert not errors, f"{len(errors)} failed request(s):\n{failing}\n\nserver log (end):\n{log[-3000:]}"

    assert result.seconds >= SECONDS and len(result.samples) >= CLIENTS, result.summary()
    start = result.rss_at(*BASELINE)
    end = result.rss_at(result.seconds - WINDOW, result.seconds)
    assert start and end, f"no RSS samples of pid {server.pid}: {result.rss}"
    print(f"server RSS: {start:.1f} MiB at {BASELINE[0]:.0f}-{BASELINE[1]:.0f} s, {end:.1f} MiB in the last "
          f"{WINDOW:.0f} s ({end - start:+.1f} MiB; {result.rss[0][1]:.1f} MiB at the start)")
    assert end - start <= MAX_GROWTH_MB, (
        f"server memory grew {end - start:+.1f} MiB in {result.seconds:.0f} s ({len(result.samples)} requests): "
        f"{[round(mb) for _, mb in result.rss]}")
