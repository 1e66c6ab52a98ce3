"""Soak: 20 concurrent clients against `POST /api/ask` for 10 minutes; 0 errors, memory flat.

    .venv/bin/python bench/soak.py                          # starts a server; 20 clients, 600 s
    .venv/bin/python bench/soak.py --duration 120 --interval 20
    .venv/bin/python bench/soak.py --url http://127.0.0.1:7860 --pid 12345

Not run in CI (tests/test_soak.py is the 30-second version). Uses the machinery of bench_load.py:
the server is started on a free port with the rate limit off and a throw-away audit log, then warmed
with one pass over the question mix (every golden-set conversation once), so the caches a new
question fills are full before the baseline is taken. The load then runs in intervals of
--interval seconds (a line per interval: requests, throughput, p50/p95, errors, server RSS).
--vary (default 0.1) of the requests get a random extra word, so some questions are always new:
a cache or log that keeps every question in memory shows up as growth. "new" counts the answers the
engine computed (latency_ms > 0), with their p95 and that of the cached answers alongside.

Verdict: errors == 0, and memory flat: over the second half of the run (when the caches, the
worker threads and their SQLite connections have long been filled) the server's RSS grows at most
--max-growth-mb (default 3 MiB: about 200 bytes per request at 30 req/s for 5 minutes; a bounded
cache plateaus, a leak keeps growing). The median RSS of the interval holding the half-way point is
compared with that of the last interval. The growth from the first interval and the least-squares
slope (MiB per minute) are printed alongside.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import (  # noqa: E402
    LoadResult, conversations, percentile, rss_mb, run_load, start_or_attach, warm_up)


def slope_mb_per_min(points: list[tuple[float, float]]) -> float:
    if len(points) < 3:
        return 0.0
    xs, ys = [t / 60 for t, _ in points], [mb for _, mb in points]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def soak(url: str, pid: int | None, clients: int, duration: float, interval: float, mix, vary: float,
         out=print) -> tuple[list[LoadResult], list[tuple[float, float]]]:
    """Run the load in intervals; returns the per-interval results and the RSS timeline (s, MiB)."""
    results, timeline = [], []
    t0 = time.perf_counter()
    out(f"  {'t (s)':>6} {'requests':>8} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'errors':>6} {'RSS MiB':>8}"
        f" {'new':>6} {'new p95':>8} {'cached p95':>10}")
    while (elapsed := time.perf_counter() - t0) < duration - 1:
        r = run_load(url, clients, min(interval, duration - elapsed), mix, pid=pid, vary=vary)
        offset = elapsed
        timeline += [(offset + t, mb) for t, mb in r.rss]
        results.append(r)
        mb = rss_mb(pid)
        out(f"  {time.perf_counter() - t0:6.0f} {len(r.samples):8d} {r.throughput:6.1f} {r.latency(50):7.0f} "
            f"{r.latency(95):7.0f} {r.latency(100):7.0f} {sum(r.errors.values()):6d} "
            f"{mb if mb is not None else float('nan'):8.1f} {r.count_of(True):6d} {r.latency_of(True, 95):8.0f} "
            f"{r.latency_of(False, 95):10.0f}")
    return results, timeline


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running server (default: start one on a free port)")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid, for its RSS")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load after the warm-up")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per reported interval")
    parser.add_argument("--vary", type=float, default=0.1, help="share of requests made unique")
    parser.add_argument("--max-growth-mb", type=float, default=3.0, help="allowed RSS growth over the second half")
    args = parser.parse_args()

    mix = conversations()
    server, url, pid = start_or_attach(args)
    try:
        warm_up(url, pid, args.clients, mix)
        print(f"soak: {args.clients} clients, {args.duration:.0f} s, {args.vary:.0%} of the questions made unique")
        results, timeline = soak(url, pid, args.clients, args.duration, args.interval, mix, args.vary)

        samples = [s for r in results for s in r.samples]
        errors = [s for s in samples if not s.ok]
        seconds = sum(r.seconds for r in results)
        lat = sorted(s.ms for s in samples)
        print(f"\ntotal: {len(samples)} requests in {seconds:.0f} s = {len(samples) / seconds:.1f} req/s; "
              f"p50 {percentile(lat, 50):.0f} ms, p95 {percentile(lat, 95):.0f} ms, max {percentile(lat, 100):.0f} ms; "
              f"errors {len(errors)}")
        for kind, question in dict.fromkeys((s.error, s.question) for s in errors):
            print(f"  {kind}: {question!r}")
        verdict = not errors
        if pid and len(results) >= 2:
            first = statistics.median(mb for _, mb in results[0].rss)
            middle = statistics.median(mb for _, mb in results[len(results) // 2].rss)
            last = statistics.median(mb for _, mb in results[-1].rss)
            flat = last - middle <= args.max_growth_mb
            verdict &= flat
            per_request = (last - middle) * 1024 * 1024 / max(1, sum(len(r.samples) for r in results[len(results) // 2:]))
            print(f"memory: first interval {first:.1f} MiB, middle {middle:.1f} MiB, last {last:.1f} MiB; "
                  f"second half {last - middle:+.1f} MiB (limit +{args.max_growth_mb:g}; ~{per_request:.0f} B per request), "
                  f"whole run {last - first:+.1f} MiB, slope {slope_mb_per_min(timeline):+.2f} MiB/min, "
                  f"peak {max(mb for _, mb in timeline):.1f} MiB: {'flat' if flat else 'GROWING'}")
        print(f"verdict: {'ok' if verdict else 'FAILED'} (0 errors{', memory flat' if pid else ''})")
        sys.exit(0 if verdict else 1)
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
