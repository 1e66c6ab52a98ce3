"""Cold start: `assistant ask` as a whole process, for a figure question and a text question.

    .venv/bin/python bench/bench_cold_start.py              # 5 runs per question + an import profile
    .venv/bin/python bench/bench_cold_start.py --runs 3 --top 15

Wall time of the whole process (interpreter start, imports, opening the database, index and model,
answering, printing), median / min / max over --runs runs after one unmeasured run (so the OS file
cache is warm: "cold" means a new process, not a cold disk). Target: <= 2.5 s.

Then one run per question under `python -X importtime`: the import time per top-level package
(self time summed over all its modules), which assistant module pulled each heavy package in, and
the packages loaded that the question does not need (gradio/fastapi/uvicorn for any CLI question;
chromadb for a figure question, which never searches the documents; pandas, which nothing of ours uses).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSISTANT = ROOT / ".venv" / "bin" / "assistant"
PYTHON = ROOT / ".venv" / "bin" / "python"
TARGET_S = 2.5

QUESTIONS = {
    "figure": "Wat is de taakstelling van Rotterdam in 2024-II?",
    "text": "Wat zegt artikel 29 van de Huisvestingswet 2014?",
}
# Packages a question of that kind does not need at all (report, don't fix: engine code is not ours).
NOT_NEEDED = {
    "figure": {"gradio", "fastapi", "uvicorn", "starlette", "chromadb", "langchain", "pandas", "torch",
               "onnxruntime", "opentelemetry", "grpc", "pypdf", "openpyxl", "matplotlib"},
    "text": {"gradio", "fastapi", "uvicorn", "starlette", "langchain", "pandas", "torch", "pypdf", "openpyxl",
             "matplotlib"},
}


def run(argv: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    return time.perf_counter() - t0, done


def parse_importtime(stderr: str) -> list[tuple[int, int, int, str]]:
    """(self µs, cumulative µs, depth, module) per line of -X importtime, in output order."""
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((int(m[1]), int(m[2]), (len(m[3]) - 1) // 2, m[4]))
    return rows


def importers(rows) -> dict[str, str]:
    """For each top-level package, the assistant.* module whose import first pulled it in.

    -X importtime prints a module after its children, so a module's parent is the next line
    with a smaller depth. A package first imported inside a function (at run time) has no parent."""
    first: dict[str, str] = {}
    for i, (_, _, depth, name) in enumerate(rows):
        pkg = name.split(".")[0]
        if pkg in first or pkg == "assistant":
            continue
        parent, top, d = None, name, depth
        for _, _, d2, name2 in rows[i + 1:]:
            if d2 < d:
                d, top = d2, name2
                if name2.startswith("assistant"):
                    parent = name2
                    break
        first[pkg] = parent or f"run time (a function-level import of {top.split('.')[0]})"
    return first


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=12, help="packages to list in the import profile")
    args = parser.parse_args()
    if not ASSISTANT.exists():
        sys.exit(f"{ASSISTANT} missing: pip install -e . in the venv first")

    print(f"python -c pass (interpreter floor): ", end="", flush=True)
    floor = statistics.median(run([str(PYTHON), "-c", "pass"])[0] for _ in range(3))
    print(f"{floor:.3f} s")
    t, _ = run([str(ASSISTANT), "--help"])
    t = statistics.median([t] + [run([str(ASSISTANT), "--help"])[0] for _ in range(2)])
    print(f"assistant --help (CLI entry, no engine): {t:.3f} s\n")

    print(f"`assistant ask --json` as a whole process, {args.runs} runs after 1 warm-up run; target <= {TARGET_S} s")
    results = {}
    for kind, q in QUESTIONS.items():
        _, done = run([str(ASSISTANT), "ask", "--json", q])
        if done.returncode != 0:
            sys.exit(f"assistant ask failed ({done.returncode}):\n{done.stderr[-2000:]}")
        times = []
        for _ in range(args.runs):
            t, done = run([str(ASSISTANT), "ask", "--json", q])
            times.append(t)
        import json

        answer = json.loads(done.stdout.splitlines()[-1])
        results[kind] = times
        med = statistics.median(times)
        print(f"  {kind:6} median {med:5.2f} s  min {min(times):5.2f}  max {max(times):5.2f}  "
              f"(engine latency_ms {answer.get('latency_ms')}, kind {answer.get('kind')}, answered {answer.get('answered')})"
              f"  {'ok' if med <= TARGET_S else 'MISSED'}")
        print(f"         q: {q}")

    for kind, q in QUESTIONS.items():
        t, done = run([str(PYTHON), "-X", "importtime", str(ASSISTANT), "ask", "--json", q])
        rows = parse_importtime(done.stderr)
        total_import = sum(r[0] for r in rows) / 1e6
        per_pkg = Counter()
        for self_us, _, _, name in rows:
            per_pkg[name.split(".")[0]] += self_us
        own = Counter()
        for self_us, _, _, name in rows:
            if name.startswith("assistant"):
                own[name] += self_us
        by = importers(rows)
        print(f"\nImport profile, {kind} question: {total_import:.2f} s of imports in a {t:.2f} s run "
              f"({len(rows)} modules; importtime itself adds overhead)")
        print(f"  {'package':24} {'self ms':>8}   first imported by")
        for pkg, us in per_pkg.most_common(args.top):
            print(f"  {pkg:24} {us / 1000:8.1f}   {by.get(pkg, '') if pkg != 'assistant' else ''}")
        print("  assistant modules (self time, module body only): " + ", ".join(
            f"{name} {us / 1000:.0f} ms" for name, us in own.most_common(4)))
        loaded = {r[3].split(".")[0] for r in rows}
        extra = sorted(loaded & NOT_NEEDED[kind])
        if extra:
            # cumulative time of the package's first import: itself plus what it pulled in first
            cum = {p: max(r[1] for r in rows if r[3] == p or r[3].startswith(p + ".")) / 1000 for p in extra}
            print(f"  loaded but not needed for a {kind} question:")
            for p in extra:
                print(f"    {p:14} self {per_pkg[p] / 1000:6.0f} ms, cumulative at its first import {cum[p]:6.0f} ms"
                      f"   via {by.get(p)}")
        else:
            print(f"  nothing loaded that a {kind} question does not need (of: {', '.join(sorted(NOT_NEEDED[kind]))})")


if __name__ == "__main__":
    main()
