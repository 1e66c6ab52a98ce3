"""Warm engine latency over the golden set, per category, next to its floor.

    .venv/bin/python bench/bench_engine.py                  # dev + test, 2 measured rounds
    .venv/bin/python bench/bench_engine.py --rounds 1 --sets tests/eval/dev.yaml
    .venv/bin/python bench/bench_engine.py --json bench/out/engine.json

Engine: `Conversation.ask` for every turn of every case (a fresh conversation per case, as the
evaluation runs it), after one warm-up pass, timed per turn; a turn counts in its case's category.
The engine caches query vectors (embeddings.Embedder.queries, an LRU of 512): the "engine" column
empties that cache before each case, so it is the latency of a question not asked before (what a
user mostly sends); "repeat" asks the same case again straight after (cache hits).

Floor: the same turn's tool work and nothing else. While the engine answers, the benchmark records
the exact calls it makes through `Tools` (every `Tools.query(sql, params)` and
`Tools.retrieve(query, k, doc_ids)`, by wrapping the two methods of this one Tools instance); the floor
replays those calls against a separate raw `SQLTool` and `Index` (no engine code in between), warm,
with the query-vector cache emptied as for the engine, and times them per turn.
ratio = engine / floor: what understanding, planning, catalogue matching, grounding and rendering
cost on top of the unavoidable database and retrieval work.

"own e5" is the time of the e5 query embeddings the engine makes itself, outside retrieval (every
question is embedded for the catalogue match, each side of a comparison again; retrieval embeds
the question once more for text questions, inside the floor): the largest cost outside the floor.
"rest" = engine - floor - own e5: understanding, planning, catalogue scoring, rendering, grounding.

Targets (the issue): engine p50 <= 50 ms and p95 <= 150 ms per category.
"""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.evaluation import CATEGORIES, DEFAULT_SETS, load_sets  # noqa: E402

TARGET_P50_MS, TARGET_P95_MS = 50.0, 150.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank-interpolated percentile (statistics 'inclusive'), q in 0..100."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if q < 100 else max(values)


class Recorder:
    """Captures, per turn, every sql/retrieve call of one Tools instance (with its arguments) and the
    time the engine spends in its own e5 query embeddings (retrieval's embedding is part of the floor)."""

    def __init__(self, tools, engine_embedder):
        self.calls: list[tuple] = []
        self.embedded: list[tuple[str, float]] = []  # (text, ms) of every e5 query embedding of the turn
        self.index = tools.index
        query, retrieve = tools.query, tools.retrieve
        query_sig, retrieve_sig = inspect.signature(query), inspect.signature(retrieve)

        def recorded_query(*args, **kwargs):
            bound = query_sig.bind(*args, **kwargs)
            self.calls.append(("sql", bound.arguments["sql"], dict(bound.arguments.get("params") or {})))
            return query(*args, **kwargs)

        def recorded_retrieve(*args, **kwargs):
            bound = retrieve_sig.bind(*args, **kwargs)
            bound.apply_defaults()
            options = {k: v for k, v in bound.arguments.items() if k != "query"}  # k, doc_ids, …
            self.calls.append(("retrieve", bound.arguments["query"], options))
            return retrieve(*args, **kwargs)

        # instance attributes: the classes and every other instance are untouched
        tools.query, tools.retrieve = recorded_query, recorded_retrieve
        if engine_embedder is not None:
            model = engine_embedder.model
            embed = model.embed_query

            def timed_embed(text):
                t0 = time.perf_counter()
                try:
                    return embed(text)
                finally:
                    self.embedded.append((text, (time.perf_counter() - t0) * 1000))

            object.__setattr__(model, "embed_query", timed_embed)

    def take(self) -> tuple[list[tuple], int, float]:
        """The turn's calls, and its own e5 embeddings: not those of a text a retrieval of the turn ranks by (the
        engine embeds a text question's passage query once, before retrieval, for its catalogue too; the
        floor's replayed retrieval embeds it again, so it is counted there)."""
        from assistant.embeddings import MAX_QUERY_CHARS

        ranked = {self.index.dense_query(query)[:MAX_QUERY_CHARS] for kind, query, _ in self.calls if kind == "retrieve"}
        own = [ms for text, ms in self.embedded if text not in ranked]
        out = (self.calls, len(own), sum(own))
        self.calls, self.embedded = [], []
        return out


def _query_cache():
    """A function that empties the engine's cache of query vectors (embeddings.Embedder, an LRU of 512)."""
    from assistant import embeddings

    return lambda: [e.clear_cache() for e in (embeddings.load_embedder(s) for s in ("e5",)) if e is not None]


CACHE = None


def clear_query_cache() -> None:
    if CACHE is not None:
        CACHE()


def machine() -> str:
    import os

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} cores ({cpu}), {mem / 1024:.1f} GiB RAM, Python {platform.python_version()}, "
            f"load avg {load:.2f} at start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="*", default=[str(p) for p in DEFAULT_SETS], help="golden-set YAML files")
    parser.add_argument("--rounds", type=int, default=2, help="measured passes over the set (after one warm-up pass)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()

    from assistant import Assistant
    from assistant.index import Index
    from assistant.sqltool import SQLTool

    global CACHE
    CACHE = _query_cache()
    settings = Settings.from_env()
    if not settings.db_path.exists() or not (settings.index_dir / "current.json").exists():
        sys.exit("build first: .venv/bin/assistant db build && .venv/bin/assistant index build")
    where = machine()
    print(f"machine: {where}")
    cases = [c for cs in load_sets(args.sets).values() for c in cs]
    turns = sum(len(c.turns) for c in cases)
    print(f"golden set: {len(cases)} cases, {turns} turns ({', '.join(Path(s).name for s in args.sets)})")

    started = time.perf_counter()
    assistant = Assistant(settings)
    assistant.conversation().ask("Wat is de taakstelling van Rotterdam in 2024-II?")
    print(f"engine start-up (open + first answer, imports done): {time.perf_counter() - started:.2f} s")
    recorder = Recorder(assistant.tools, assistant.embedder)

    errors: dict[str, str] = {}

    def run_case(case) -> list[tuple[float, list[tuple], int, float]]:
        conversation = assistant.conversation()
        out = []
        for q in case.turns:
            recorder.take()
            t0 = time.perf_counter()
            conversation.ask(q)
            out.append(((time.perf_counter() - t0) * 1000, *recorder.take()))
        return out

    # one warm-up pass: caches, lazily opened Chroma, OS file cache; also finds the failing cases
    for case in cases:
        try:
            run_case(case)
        except Exception as e:  # noqa: BLE001 - reported, the benchmark goes on
            errors[case.id] = f"{type(e).__name__}: {e}"
    good = [c for c in cases if c.id not in errors]
    keys = [(c.id, i) for c in good for i in range(len(c.turns))]
    category = {(c.id, i): c.category for c in good for i in range(len(c.turns))}

    engine: dict[tuple, list[float]] = defaultdict(list)  # new question: query-vector cache emptied
    repeat: dict[tuple, list[float]] = defaultdict(list)  # the same case again, right after
    own_e5: dict[tuple, list[float]] = defaultdict(list)
    e5_calls: dict[tuple, int] = {}
    calls_of: dict[tuple, list[tuple]] = {}
    started = time.perf_counter()
    for _ in range(args.rounds):
        for case in good:
            clear_query_cache()
            for i, (ms, calls, n_e5, e5_ms) in enumerate(run_case(case)):
                engine[(case.id, i)].append(ms)
                own_e5[(case.id, i)].append(e5_ms)
                e5_calls[(case.id, i)] = n_e5
                calls_of[(case.id, i)] = calls
            for i, (ms, *_) in enumerate(run_case(case)):
                repeat[(case.id, i)].append(ms)
    engine_wall = time.perf_counter() - started

    # the floor: the recorded calls, replayed against raw tools (cache emptied as for the engine)
    sql, index = SQLTool.open(settings), Index.open(settings)

    def replay(calls) -> float:
        t0 = time.perf_counter()
        for kind, a, b in calls:
            if kind == "sql":
                sql.query(a, b)
            else:
                index.search(a, **b)  # Tools.retrieve's options are Index.search's
        return (time.perf_counter() - t0) * 1000

    for key in keys:  # warm
        replay(calls_of[key])
    floor: dict[tuple, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        for key in keys:
            clear_query_cache()
            floor[key].append(replay(calls_of[key]))

    order = [c for c in CATEGORIES if c in category.values()]
    rows = []
    print(f"\nWarm latency per turn, {args.rounds} round(s), {len(keys) * args.rounds} timed turns per column "
          f"({engine_wall:.1f} s); target p50 <= {TARGET_P50_MS:.0f} ms, p95 <= {TARGET_P95_MS:.0f} ms")
    print(f"  engine = a question not asked before (query-vector cache {'emptied before each case' if CACHE else 'absent'});"
          " repeat = the same case asked again at once;\n"
          "  floor = the turn's recorded SQL queries and retrieval calls replayed on raw SQLTool/Index;"
          " ratio = engine/floor;\n  own e5 = the engine's e5 query embeddings outside retrieval;"
          " rest = engine - floor - own e5 (per turn)")
    head = (f"  {'category':11} {'turns':>5}  {'engine p50':>10} {'p95':>7} {'max':>6}  {'floor p50':>9} {'p95':>6}"
            f"  {'ratio p50':>9} {'p95':>6}  {'repeat p50':>10} {'p95':>6}  {'own e5 p50':>10} {'n':>4}  {'rest p50':>8}"
            f"  {'sql':>4} {'retr':>4}  target")
    rule = "  " + "-" * (len(head) - 2)
    print(head)
    print(rule)
    for cat in order + ["ALL"]:
        ks = keys if cat == "ALL" else [k for k in keys if category[k] == cat]
        e = [x for k in ks for x in engine[k]]
        r = [x for k in ks for x in repeat[k]]
        f = [x for k in ks for x in floor[k]]
        m = [x for k in ks for x in own_e5[k]]
        rest = [statistics.median(engine[k]) - statistics.median(floor[k]) - statistics.median(own_e5[k]) for k in ks]
        n_sql = [sum(c[0] == "sql" for c in calls_of[k]) for k in ks]
        n_ret = [sum(c[0] == "retrieve" for c in calls_of[k]) for k in ks]
        row = {
            "category": cat, "turns": len(ks),
            "engine_p50": percentile(e, 50), "engine_p95": percentile(e, 95), "engine_max": max(e),
            "repeat_p50": percentile(r, 50), "repeat_p95": percentile(r, 95),
            "floor_p50": percentile(f, 50), "floor_p95": percentile(f, 95),
            "own_e5_p50": percentile(m, 50), "own_e5_per_turn": sum(e5_calls[k] for k in ks) / len(ks),
            "rest_p50": percentile(rest, 50),
            "sql_per_turn": sum(n_sql) / len(ks), "retrieve_per_turn": sum(n_ret) / len(ks),
        }
        row["ratio_p50"] = row["engine_p50"] / row["floor_p50"] if row["floor_p50"] else float("inf")
        row["ratio_p95"] = row["engine_p95"] / row["floor_p95"] if row["floor_p95"] else float("inf")
        row["meets_target"] = row["engine_p50"] <= TARGET_P50_MS and row["engine_p95"] <= TARGET_P95_MS
        rows.append(row)
        if cat == "ALL":
            print(rule)
        print(f"  {cat:11} {row['turns']:5d}  {row['engine_p50']:8.1f}ms {row['engine_p95']:5.1f}ms {row['engine_max']:4.0f}ms"
              f"  {row['floor_p50']:7.2f}ms {row['floor_p95']:4.1f}ms  {row['ratio_p50']:8.0f}x {row['ratio_p95']:5.1f}x"
              f"  {row['repeat_p50']:8.1f}ms {row['repeat_p95']:4.1f}ms"
              f"  {row['own_e5_p50']:8.1f}ms {row['own_e5_per_turn']:4.1f}  {row['rest_p50']:6.1f}ms"
              f"  {row['sql_per_turn']:4.1f} {row['retrieve_per_turn']:4.2f}  {'ok' if row['meets_target'] else 'MISSED'}")
    if errors:
        print(f"\n{len(errors)} case(s) raised (left out of the timings):")
        for cid, err in errors.items():
            case = next(c for c in cases if c.id == cid)
            print(f"  {cid}: {err}\n    turns: {case.turns}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": where, "rounds": args.rounds, "rows": rows,
                                         "errors": errors}, indent=1))


if __name__ == "__main__":
    main()
