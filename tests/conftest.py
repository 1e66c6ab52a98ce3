"""Shared fixtures: a figures database built fresh for the session, and the real index.

The index lives in the project's (git-ignored) knowledge/index so its embedding cache is reused
between runs; building it is incremental, so a warm run costs seconds.
"""

from __future__ import annotations

import dataclasses

import pytest

from assistant.config import Settings


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    from assistant.database import build

    base = Settings.from_env()
    s = dataclasses.replace(base, db_path=tmp_path_factory.mktemp("db") / "figures.db")
    build(s)
    return s


@pytest.fixture(scope="session")
def sql(settings):
    from assistant.sqltool import SQLTool

    return SQLTool.open(settings)


@pytest.fixture(scope="session")
def indexed(settings) -> Settings:
    """Settings whose index is built (incrementally) over the bundled documents."""
    from assistant.index import Index

    Index.open(settings).build(progress=False)
    return settings


@pytest.fixture(scope="session")
def assistant(indexed):
    from assistant import Assistant

    return Assistant(indexed)
