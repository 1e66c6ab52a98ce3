"""Retrieval quality and latency of the hybrid index.

    .venv/bin/python bench/bench_retrieval.py                 # bundled, 1k, 10k, 100k passages
    .venv/bin/python bench/bench_retrieval.py --sizes 1000    # bundled + 1k only
    .venv/bin/python bench/bench_retrieval.py --cold          # also time a build with an empty cache

Quality: recall@1, recall@3 and MRR (over the top 10) of lexical-only, dense-only and hybrid search
on tests/retrieval/questions.yaml, overall and for the held-out questions.

Latency: warm `Index.search` (k=5: query embedding, BM25, Chroma, fusion, quotes) over the same
questions, on the bundled corpus and on corpora padded with synthetic passages. Embedding 100k
passages with e5 would take hours on two cores, so a synthetic passage is 3-6 real sentences of the
documents and its vector a normalised random mix of those sentences' real e5 vectors. The sentence
vectors, the synthetic vectors and the built indexes are cached under bench/out/.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.index import EmbeddingCache, Index, passage_text  # noqa: E402
from assistant.knowledge import clean, sentences  # noqa: E402

OUT = ROOT / "bench" / "out"
QUESTIONS = yaml.safe_load((ROOT / "tests" / "retrieval" / "questions.yaml").read_text(encoding="utf-8"))
MODES = ("lexical", "dense", "hybrid")


def settings(index_dir: Path) -> Settings:
    return dataclasses.replace(Settings.from_env(), index_dir=index_dir, embedder="e5", chroma_url=None)


def quality(index: Index, questions: list[dict]) -> dict[str, tuple[float, float, float]]:
    scores = {}
    for mode in MODES:
        ranks = []
        for q in questions:
            hits = index.search(q["q"], k=10, mode=mode)
            found = (r for r, c in enumerate(hits, 1) if c.doc_id == q["doc_id"] and q["section"] in c.section)
            ranks.append(next(found, None))
        n = len(ranks)
        scores[mode] = (
            sum(r == 1 for r in ranks) / n,
            sum(r is not None and r <= 3 for r in ranks) / n,
            sum(1 / r for r in ranks if r) / n,
        )
    return scores


def latency(index: Index, mode: str = "hybrid", rounds: int = 2) -> tuple[float, float]:
    index.search("opvang", k=5, mode=mode)  # warm: model loaded, Chroma connected
    times = []
    for _ in range(rounds):
        for q in QUESTIONS:
            start = time.perf_counter()
            index.search(q["q"], k=5, mode=mode)
            times.append(time.perf_counter() - start)
    return float(np.percentile(times, 50) * 1000), float(np.percentile(times, 95) * 1000)


def sentence_vectors(index: Index) -> tuple[list[str], np.ndarray]:
    """Every real sentence of the bundled documents and its e5 passage vector (cached)."""
    texts = sorted({s for c in index.chunks for s in map(clean, sentences(c["text"])) if len(s) >= 30})
    key = hashlib.sha256(json.dumps([index.embedder.name, texts]).encode()).hexdigest()[:16]
    path = OUT / f"sentence_vectors_{key}.npy"
    if not path.exists():
        print(f"embedding {len(texts)} real sentences once (cached in {path.relative_to(ROOT)})", file=sys.stderr)
        vectors = np.concatenate([index.embedder.passages(texts[i : i + 32]) for i in range(0, len(texts), 32)])
        np.save(path, vectors)
    return texts, np.load(path)


def padded(base: Index, size: int, texts: list[str], vectors: np.ndarray) -> Index:
    """The bundled passages plus synthetic ones up to `size` passages (index cached on disk)."""
    rng = np.random.default_rng(size)
    extra = size - len(base.chunks)
    picks = [rng.choice(len(texts), size=rng.integers(3, 7), replace=False) for _ in range(extra)]
    corpus = hashlib.sha256(json.dumps([texts, extra]).encode()).hexdigest()[:12]  # what the mix is made of
    vector_file = OUT / f"synthetic_vectors_{size}_{corpus}.npy"
    if vector_file.exists():
        synthetic = np.load(vector_file).astype(np.float32)
    else:
        synthetic = np.stack([(rng.dirichlet(np.ones(len(p))) @ vectors[p]) for p in picks]).astype(np.float32)
        synthetic /= np.linalg.norm(synthetic, axis=1, keepdims=True)
        np.save(vector_file, synthetic.astype(np.float16))  # half the disk; plenty for a benchmark
        synthetic = np.load(vector_file).astype(np.float32)
    documents = dict(base.documents)
    chunks = [
        dict(c, embed_text=passage_text(documents[c["doc_id"]]["title"], c["section"], c["text"]))
        for c in base.chunks
    ]
    cache = EmbeddingCache(base.cache_path)  # the bundled passages keep their real vectors
    keys = [hashlib.sha256(f"{base.embedder.name}\n{c['embed_text']}".encode()).hexdigest() for c in chunks]
    found = cache.get(keys)
    base_vectors = np.stack([found[k] for k in keys])
    for i, p in enumerate(picks):
        doc_id = f"synthetisch-{i // 50:05d}"
        title = f"Synthetisch document {i // 50}"
        documents.setdefault(doc_id, {"title": title, "date": "2024-01-01", "doc_type": "nieuws", "note": None,
                                      "path": "", "normalized": ""})
        text = " ".join(texts[j] for j in p)
        chunks.append({"chunk_id": f"{doc_id}#{i}", "doc_id": doc_id, "section": "Inleiding", "text": text,
                       "page": None, "position": i % 50, "embed_text": f"{title}\nInleiding\n{text}"})
    index = Index(settings(OUT / f"scale_{size}"), cache_path=base.cache_path)
    fingerprint = hashlib.sha256(f"{base.manifest['fingerprint']}:{size}".encode()).hexdigest()
    if index.manifest is None or index.manifest["fingerprint"] != fingerprint:
        start = time.perf_counter()
        index.publish(chunks, documents, np.concatenate([base_vectors, synthetic]), fingerprint)
        took = time.perf_counter() - start
        print(f"built the {size:,}-passage index in {took:.0f} s (cached in bench/out/)", file=sys.stderr)
    return index


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="synthetic corpus sizes (passages)")
    parser.add_argument("--cold", action="store_true", help="also time a first build with an empty vector cache")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    print("Build of the bundled corpus (knowledge/documents)")
    if args.cold:
        cold = OUT / f"cold-{time.time_ns()}"
        report = Index(settings(cold)).build(progress=False)
        print(f"  first build, empty cache: {report.seconds:6.2f} s  ({report.embedded} passages embedded)")
    fresh = OUT / f"fresh-{time.time_ns()}"
    index = Index(settings(fresh), cache_path=OUT / "embeddings.sqlite")
    report = index.build(progress=True)
    print(
        f"  new index dir:            {report.seconds:6.2f} s  "
        f"({report.documents} documents, {report.chunks} passages, {report.embedded} embedded)"
    )
    report = index.build(progress=False)
    print(f"  unchanged rebuild:        {report.seconds:6.2f} s  (unchanged={report.unchanged})")

    holdout = [q for q in QUESTIONS if q.get("holdout")]
    print(f"\nQuality on {len(QUESTIONS)} questions ({len(holdout)} held out from tuning)")
    print(f"  {'mode':8} {'R@1':>6} {'R@3':>6} {'MRR':>6}   held-out: {'R@1':>6} {'R@3':>6} {'MRR':>6}")
    everything, held = quality(index, QUESTIONS), quality(index, holdout)
    for mode in MODES:
        a, h = everything[mode], held[mode]
        print(f"  {mode:8} {a[0]:6.3f} {a[1]:6.3f} {a[2]:6.3f}             {h[0]:6.3f} {h[1]:6.3f} {h[2]:6.3f}")

    print(f"\nWarm search latency, k=5, {2 * len(QUESTIONS)} queries (target: hybrid p95 <= 50 ms on the bundled corpus)")
    print("  synthetic passages: 3-6 real sentences; vector = normalised random mix of their real e5 vectors")
    print(f"  {'passages':>9}  {'hybrid p50':>10} {'p95':>6}   {'lexical p95':>11}   {'dense p95':>9}")
    rows = [(len(index.chunks), index)]
    if args.sizes:
        texts, vectors = sentence_vectors(index)
        rows += [(size, padded(index, size, texts, vectors)) for size in map(int, args.sizes.split(","))]
    for size, idx in rows:
        p50, p95 = latency(idx)
        lexical, dense = latency(idx, "lexical")[1], latency(idx, "dense")[1]
        label = f"{size:,}" + (" (bundled)" if idx is index else "")
        print(f"  {label:>9}  {p50:8.1f}ms {p95:4.1f}ms   {lexical:9.1f}ms   {dense:7.1f}ms")

    shutil.rmtree(fresh, ignore_errors=True)
    if args.cold:
        shutil.rmtree(cold, ignore_errors=True)


if __name__ == "__main__":
    main()
